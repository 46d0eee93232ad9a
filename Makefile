# redis-playground — two commands matter: `make play` and `make test`.
SHELL := /bin/bash
PORT ?= 8080
WASM := target/wasm32-unknown-unknown/release/redis_playground.wasm

.PHONY: play test setup build wasm serve server bench test-fmt test-clippy test-rust test-wasm-build test-wasm test-e2e clean

## Set up everything missing, build the wasm, serve the page on 127.0.0.1 and print its address.
play: wasm
	@scripts/serve.sh $(PORT)

## Set up everything missing, then run every test.
test: setup test-fmt test-clippy test-rust test-wasm-build test-wasm test-e2e

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

## The native RESP server on port 6379 (PORT=... to change), built for speed (profile.server).
server:
	cargo run --profile server --bin redis-playground-server -- --port $(or $(SERVER_PORT),6379)

## redis-benchmark against redis-server and the native server: a table in bench/latest.md.
bench:
	scripts/bench.sh

wasm: setup
	@scripts/build-wasm.sh

clean:
	cargo clean
	rm -rf www/pkg
