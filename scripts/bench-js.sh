#!/usr/bin/env bash
# `make bench-js` (and the second half of `make bench`): the JS API against ioredis-mock in one
# Node process, and the engine inside wasm against the native engine on the same command loop
# (bench/js/api.mjs). Builds what it measures first (the wasm as the page gets it, the native
# engine as `cargo bench` builds it), installs ioredis-mock into bench/js only, prints the
# tables and puts them into bench/latest.md in place of the previous ones. Never part of the
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "bench-js: node is missing" >&2; exit 1; }
# wasm-opt (npm's binaryen) shrinks the wasm as the page gets it: measure that build.
[ -x node_modules/.bin/wasm-opt ] || npm ci --no-audit --no-fund --loglevel=error
[ -d bench/js/node_modules/ioredis-mock ] || npm ci --prefix bench/js --no-audit --no-fund --loglevel=error
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
size=$(scripts/build-wasm.sh | sed -n 's/.*: \([0-9]*\) bytes, \([0-9]*\) gzipped/\1 \2/p')

# The same SET/GET loop natively (`cargo bench --bench commands` prints it as SET+GET).
native_ns=$(cargo bench --bench commands 2>/dev/null | awk '$1 == "SET+GET" { print $2 }')
# The same loop in wasm, in Node and in headless Chromium (where the page runs the engine;
# empty without a browser), each in a process of its own.
wasm_ns=$(node bench/js/loop.mjs)
browser_ns=$(node bench/js/browser-loop.mjs 2>/dev/null || true)
js=$(node bench/js/api.mjs "${native_ns:-0}" "${wasm_ns:-0}" "${browser_ns:-0}")
read -r raw gz <<<"${size:-0 0}"
stages=$(node bench/js/stages.mjs)
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
js="$js

Wasm as the page loads it (www/pkg, after wasm-opt): $raw bytes, $gz gzipped.

Where one call's time goes (bench/js/stages.mjs; each stage timed in a loop of its own):

$stages"
echo "$js"

section="# The JS API (pg.call, pg.batch) vs ioredis-mock, and wasm vs native"
mkdir -p bench
touch bench/latest.md
# Every other section stays (the redis-benchmark and memory tables); this one goes last.
kept=$(awk -v h="$section" '$0 == h { skip = 1; next } skip && /^# / { skip = 0 } !skip { print }' bench/latest.md)
{
  if [ -n "$kept" ]; then printf '%s\n' "$kept"; else echo; fi
  echo "$section"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, Node $(node --version), one process, best of five runs"
  echo "in CPU time (the machine is shared: wall time stretches with the neighbours' load);"
  echo "ratio = playground / ioredis-mock (above 1: the playground is faster);"
  echo "load average $load_before before, $load_after after (1, 5, 15 minutes)."
  echo
  echo "$js"
} > bench/latest.md.new
mv bench/latest.md.new bench/latest.md
echo "bench-js: written to bench/latest.md"
