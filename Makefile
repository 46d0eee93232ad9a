# redis-playground — two commands matter: `make play` and `make test`.
SHELL := /bin/bash
PORT ?= 8080
WASM := target/wasm32-unknown-unknown/release/redis_playground.wasm

.PHONY: play test setup build wasm serve server bench bench-js bench-page fuzz fuzz-diff test-fmt test-clippy test-rust test-wasm-build test-wasm test-e2e test-package package test-redis test-redis-update test-redis-normal test-redis-normal-update redis-suite-server clean

## Set up everything missing, build the wasm, serve the page on 127.0.0.1 and print its address.
play: wasm
	@scripts/serve.sh $(PORT)

## Set up everything missing, then run every test.
test: setup test-fmt test-clippy test-rust test-redis test-redis-normal test-wasm-build test-wasm test-e2e test-package

setup:
	@scripts/setup.sh

# One formatting for every file, so diffs show changes, not style.
test-fmt:
	cargo fmt --check

# Lints are part of the build: a warning fails the test.
test-clippy:
	cargo clippy --all-targets -- -D warnings

# REQUIRE_REDIS: the tests that compare with redis-server fail when it is missing, instead of
# comparing nothing (setup installs it).
test-rust:
	REQUIRE_REDIS=1 cargo test --all-targets

# The engine must keep building for the browser.
test-wasm-build:
	cargo build --target wasm32-unknown-unknown --lib

# The JS boundary (tests/wasm.rs) under Node, through wasm-bindgen-test-runner (.cargo/config.toml).
test-wasm:
	cargo test --target wasm32-unknown-unknown --test wasm

# The page in headless Chromium (tests/e2e/*.test.mjs), against a fresh build of the engine.
test-e2e:
	scripts/build-wasm.sh
	npm test

## The npm package (`npm pack`) in target/package/.
package:
	scripts/build-wasm.sh
	scripts/build-package.sh

# The packed package imported by name: ioredis and node-redis in process, its types under tsc.
# It packs the wasm www/pkg holds (test-e2e built it just before; `make package` rebuilds).
test-package:
	scripts/build-package.sh
	node --test tests/package/

## The parsers' fuzzers at scale (release build): FUZZ_SCALE=N multiplies every input count
## (N=350 feeds about 10 million inputs to each), FUZZ_SEED=... picks another sequence.
fuzz:
	FUZZ_SCALE=$(or $(FUZZ_SCALE),350) cargo test --release --test fuzz -- --nocapture --test-threads 2

## Random differential testing for longer than CI does: SEED=1-100 (a range or a list), N commands each.
fuzz-diff: setup
	RANDOM_DIFF_SEEDS=$(or $(SEED),1-100) RANDOM_DIFF_N=$(or $(N),20000) REQUIRE_REDIS=1 cargo test --release --test random_diff -- --nocapture

# Redis 7.0.15's own test suite (fetched by scripts/redis-suite.sh) against the native server,
# unit by unit in external mode; fails when a test listed in tests/redis-suite/passing.txt does
# not pass. REDIS_UNITS=unit/type/list,unit/expire runs only those; REDIS_JOBS units at a time.
REDIS_SUITE := .cache/redis-7.0.15
REDIS_JOBS ?= 2
REDIS_SERVER := target/suite/redis-playground-server
REDIS_SUITE_ARGS = --server $(REDIS_SERVER) --suite $(REDIS_SUITE) --jobs $(REDIS_JOBS) \
	--units "$(REDIS_UNITS)" --results target/redis-suite/results.tsv \
	--ratchet tests/redis-suite/passing.txt --hangs tests/redis-suite/hangs.txt

test-redis: redis-suite-server
	scripts/redis-suite.py $(REDIS_SUITE_ARGS)

## Rewrites tests/redis-suite/passing.txt with the tests that pass in each of 3 runs.
test-redis-update: redis-suite-server
	scripts/redis-suite.py $(REDIS_SUITE_ARGS) --update --runs 3

# The same suite in normal mode: it starts the native server itself (as src/redis-server, with
# tests/assets/default.conf and each test's overrides) for every server a test needs, so the
# units that restart, reconfigure or kill their server run too. Without REDIS_UNITS it runs
# NORMAL_UNITS of scripts/redis-suite.py (chosen to keep `make test` short); REDIS_UNITS=unit/x
# runs others (replication is left out: its tests are denied by tag). Its ratchet is
# tests/redis-suite/passing-normal.txt.
REDIS_NORMAL_ARGS = --normal --server $(REDIS_SERVER) --suite $(REDIS_SUITE) --jobs $(REDIS_JOBS) \
	--units "$(REDIS_UNITS)" --results target/redis-suite/results-normal.tsv \
	--ratchet tests/redis-suite/passing-normal.txt --hangs tests/redis-suite/hangs-normal.txt

test-redis-normal: redis-suite-server
	scripts/redis-suite.py $(REDIS_NORMAL_ARGS)

## Rewrites tests/redis-suite/passing-normal.txt with the tests that pass in each of 3 runs.
test-redis-normal-update: redis-suite-server
	scripts/redis-suite.py $(REDIS_NORMAL_ARGS) --update --runs 3

# An optimized build that is quick to make (profile.suite in Cargo.toml).
redis-suite-server:
	@scripts/redis-suite.sh
	cargo build --profile suite --bin redis-playground-server

## The native RESP server on port 6379 (PORT=... to change), built for speed (profile.server).
server:
	cargo run --profile server --bin redis-playground-server -- --port $(or $(SERVER_PORT),6379)

## redis-benchmark against redis-server and the native server, then the JS API against
## ioredis-mock and the wasm engine against the native one: tables in bench/latest.md; then
## the page's first reply after navigation (bench/page.md).
bench:
	scripts/bench.sh
	scripts/bench-page.sh

## Only the JS half of `make bench` (its tables replace the JS ones in bench/latest.md).
bench-js:
	scripts/bench-js.sh

## Only the page's first reply after navigation, cold and warm (bench/page.md).
bench-page:
	scripts/bench-page.sh

wasm: setup
	@scripts/build-wasm.sh

clean:
	cargo clean
	rm -rf www/pkg
