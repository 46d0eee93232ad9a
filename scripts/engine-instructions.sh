#!/usr/bin/env bash
# CPU instructions per command through the engine's whole path (`Engine::execute`), counted by
# valgrind's callgrind on benches/commands.rs: for each case, two runs with BENCH_ONLY set to
# it and N, then 2N commands; the difference divided by N is one command's count (set-up and
# the cases run before it cancel out). A figure the machine's load does not move.
#
#   scripts/engine-instructions.sh                  # SET GET INCR LPUSH HSET PING and /acl
#   scripts/engine-instructions.sh GET PING/acl     # only these cases
#   CG_N=20000 scripts/engine-instructions.sh GET   # commands per run (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in valgrind callgrind_annotate; do
  command -v "$tool" >/dev/null || { echo "engine-instructions: $tool is missing" >&2; exit 1; }
done
n=${CG_N:-10000}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(SET GET INCR LPUSH HSET PING SET/acl GET/acl PING/acl)
bin=$(cargo bench --bench commands --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "commands" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "engine-instructions: the commands bench did not build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total() {
  BENCH_ONLY=$1 BENCH_OPS=$2 valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" >/dev/null 2>&1
  callgrind_annotate "$out/cg" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
printf '%-9s %12s\n' command instructions
for c in "${cases[@]}"; do
  a=$(total "$c" "$n")
  b=$(total "$c" $((2 * n)))
  printf '%-9s %12d\n' "$c" $(((b - a) / n))
done
