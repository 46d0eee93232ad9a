#!/usr/bin/env bash
# Builds the engine for the browser into www/pkg: release wasm, wasm-bindgen glue, wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --target wasm32-unknown-unknown --lib
wasm-bindgen --target web --no-typescript --out-dir www/pkg \
  target/wasm32-unknown-unknown/release/redis_playground.wasm
# Debian's binaryen emits modules Chromium rejects; the npm package's wasm-opt is used. -O3
# rather than -Oz: on an opt-level 2 build both gave the same size within 0.1% gzipped,
# and -O3 runs the engine loop about 5% faster (see bench/latest.md). -O4, or -O3 with more
# inlining (--flexible-inline-max-function-size 50 or 100, -ifwl), were no faster above the
# noise in Node (2026-12-02), for up to 4.7% more wasm gzipped.
# WASM_NAMES=1 keeps the function names (the wasm's name section) through wasm-opt, for
# profiling: `node --cpu-prof` and the browser's profiler then show the Rust functions by name
# instead of wasm-function[N]. About 200 KB more wasm; the code is the same.
names=()
[ "${WASM_NAMES:-}" = 1 ] && names=(-g)
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -O3 "${names[@]}" --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types \
    www/pkg/redis_playground_bg.wasm -o www/pkg/redis_playground_bg.wasm.opt
  mv www/pkg/redis_playground_bg.wasm.opt www/pkg/redis_playground_bg.wasm
fi
raw=$(stat -c %s www/pkg/redis_playground_bg.wasm)
gz=$(gzip -9 -c www/pkg/redis_playground_bg.wasm | wc -c)
echo "[build-wasm] www/pkg/redis_playground_bg.wasm: ${raw} bytes, ${gz} gzipped"
