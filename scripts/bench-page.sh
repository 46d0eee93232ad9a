#!/usr/bin/env bash
# `make bench-page` (and the last part of `make bench`): the page's first reply after
# navigation in headless Chromium, cold and warm (bench/page.mjs), against a fresh build of the
# wasm, served as `make play` serves it. Writes bench/page.md. Never part of the tests.
# BENCH_PAGE_BASE=<a copy of www/> also measures that copy in turn with this one (bench/page.mjs);
# BENCH_PAGE_BASE_NAME says in bench/page.md what it is.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "bench-page: node is missing" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "bench-page: chromium is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
scripts/build-wasm.sh
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(node bench/page.mjs "${BENCH_PAGE_RUNS:-5}")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$table"
{
  echo "# The page: first reply after navigation"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null | head -1), headless,"
  echo "served by scripts/serve.mjs on 127.0.0.1 (as \`make play\` serves it). Milliseconds"
  echo "from the start of navigation until the terminal is ready, and until it shows the reply to"
  echo "a first PING entered the moment it is ready. See bench/page.mjs for what each row is."
  echo "Load average (1, 5, 15 min) before the runs: ${load_before}; after: ${load_after}$( [ "$(nice)" != 0 ] && echo "; run at niceness $(nice)")."
  [ -n "${BENCH_PAGE_BASE:-}" ] && echo "Also measured, run for run in turn: ${BENCH_PAGE_BASE_NAME:-$BENCH_PAGE_BASE}."
  echo
  echo "$table"
} > bench/page.md
echo "bench-page: written to bench/page.md"
