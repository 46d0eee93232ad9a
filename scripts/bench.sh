#!/usr/bin/env bash
# `make bench`: redis-benchmark against redis-server 7.0.15 and the native server, with the
# same settings. The machine is shared and noisy: each test runs four times back to back in
# the order redis, ours, ours, redis, and each server's best run counts; compare ratios, not
# absolute figures. Prints one table and writes it to bench/latest.md. Loopback only; every
# run is bounded by its request count. Never part of the tests.
#
#   BENCH_SCALE=2 make bench     # twice the requests per run (less noise, twice the time)
#
# Then the JS API against ioredis-mock (bench/js, installed here only) and the wasm engine
# against the native one (bench/js/api.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
redis-server --version | grep -q 'v=7\.0\.' || echo "bench: note: redis-server is not 7.0: $(redis-server --version)" >&2

cargo build --profile server --bin redis-playground-server
OURS=target/server/redis-playground-server

scale=${BENCH_SCALE:-1}
n_piped=$((400000 * scale))   # -P 16, 50 clients
n_plain=$((80000 * scale))    # unpipelined, 50 clients
n_one=$((25000 * scale))      # one client, GET
tests=(set get incr lpush rpop sadd hset zadd lrange_100)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_ping() {
  for _ in $(seq 100); do
    redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "bench: server on port $1 did not answer" >&2
  exit 1
}

p_redis=$(free_port)
redis-server --port "$p_redis" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
pids+=($!)
p_ours=$(free_port)
while [ "$p_ours" = "$p_redis" ]; do p_ours=$(free_port); done
"$OURS" --port "$p_ours" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  2>"$work/ours.log" &
pids+=($!)
wait_ping "$p_redis"
wait_ping "$p_ours"

# One redis-benchmark run: prints `name<TAB>req/s` per test it reports (CSV output).
run() { # port test clients pipeline requests
  redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c "$3" -P "$4" -n "$5" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); print $1 "\t" $2 }'
}

# The figure for the test itself (LRANGE_100's run also reports the LPUSH that fills it).
rps_of() { # output test
  local want
  want=$(echo "$2" | tr '[:lower:]' '[:upper:]')
  [ "$want" = LRANGE_100 ] && want='LRANGE_100 (first 100 elements)'
  echo "$1" | awk -F'\t' -v w="$want" '$1 == w { print $2 }'
}

best() { awk -v x="${1:-0}" -v y="${2:-0}" 'BEGIN { m = (x + 0 > y + 0) ? x : y; if (m + 0 > 0) print m }'; }

rows=()
bench_one() { # label test clients pipeline requests
  redis-cli -p "$p_redis" flushall >/dev/null
  redis-cli -p "$p_ours" flushall >/dev/null
  local a1 b1 b2 a2 a b
  a1=$(rps_of "$(run "$p_redis" "$2" "$3" "$4" "$5")" "$2")
  b1=$(rps_of "$(run "$p_ours" "$2" "$3" "$4" "$5")" "$2")
  b2=$(rps_of "$(run "$p_ours" "$2" "$3" "$4" "$5")" "$2")
  a2=$(rps_of "$(run "$p_redis" "$2" "$3" "$4" "$5")" "$2")
  a=$(best "$a1" "$a2")
  b=$(best "$b1" "$b2")
  local ratio
  ratio=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
  local row
  row=$(printf '| %-11s | %-22s | %12s | %12s | %5s |' "$2" "$1" "${a:--}" "${b:--}" "$ratio")
  rows+=("$row")
  echo "$row"
}

header="| test        | settings               | redis-server | playground   | ratio |
|-------------|------------------------|-------------:|-------------:|------:|"
echo "$header"
start=$(date +%s)
for t in "${tests[@]}"; do bench_one "50 clients, -P 16" "$t" 50 16 "$n_piped"; done
for t in "${tests[@]}"; do bench_one "50 clients" "$t" 50 1 "$n_plain"; done
bench_one "1 client" get 1 1 "$n_one"
secs=$(( $(date +%s) - start ))

mkdir -p bench
{
  echo "# redis-benchmark: redis-server vs redis-playground-server"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(redis-server --version | sed 's/ sha=.*//'), requests/s"
  echo "(-n $n_piped pipelined, $n_plain unpipelined, $n_one one client; ${secs}s in all)."
  echo "ratio = playground / redis-server; best of two runs each, in the order redis, ours,"
  echo "ours, redis. The machine is shared: ratios move by ±0.2 from one run to the next."
  echo
  echo "$header"
  printf '%s\n' "${rows[@]}"
} > bench/latest.md

echo "bench: written to bench/latest.md (${secs}s)"

# Memory per key (DEBUG POPULATE 1M) and SET under eviction, against redis-server: its own
# section of bench/latest.md.
scripts/bench-memory.sh

# The JS API against ioredis-mock, and the wasm engine against the native one on the same
# loop: appended to bench/latest.md.
scripts/bench-js.sh
