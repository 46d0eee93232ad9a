#!/usr/bin/env bash
# `make bench`: redis-benchmark against redis-server 7.0.15 and the native server, with the
# same settings. The machine is shared and noisy: each test runs BENCH_ROUNDS times (5) per
# server, alternating redis, ours, ours, redis, redis, ours ..., and each server's best run
# counts; compare ratios, not absolute figures. With two cores or more, each server runs
# pinned to one core and redis-benchmark to another (taskset), the same cores for both
# servers: otherwise the client and the server take turns on the same core as the scheduler
# pleases, and the ratios swing with that rather than with the servers. Beside requests per
# second, each server's own CPU time per request (from /proc/PID/schedstat, its least over
# the runs), which another process's load moves far less. The load average before and after
# is written with the figures. Then 10,000 idle connections to each: resident memory per
# connection.
# Prints the tables and writes them to bench/latest.md. Loopback only; every run is bounded
# by its request count. Never part of the tests.
#
#   BENCH_SCALE=2 make bench     # twice the requests per run (less noise, twice the time)
#   BENCH_ROUNDS=3 make bench    # three runs per server and test instead of five
#   BENCH_PIN=0 make bench       # no pinning to cores
#   BENCH_JS=0 scripts/bench.sh  # the servers only; the JS tables of bench/latest.md are kept
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
rounds=${BENCH_ROUNDS:-5}

# The servers on the first core, redis-benchmark on the second (when there are two).
server_cpu=() client_cpu=()
if [ "${BENCH_PIN:-1}" != 0 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
fi
pinning=$([ ${#server_cpu[@]} -gt 0 ] && echo "servers pinned to CPU 0, redis-benchmark to CPU 1" || echo "no pinning")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

BENCH_NAME=bench
. scripts/bench-common.sh

p_redis=$(free_port)
"${server_cpu[@]}" redis-server --port "$p_redis" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
pid_redis=$!
pids+=($pid_redis)
p_ours=$(free_port)
while [ "$p_ours" = "$p_redis" ]; do p_ours=$(free_port); done
"${server_cpu[@]}" "$OURS" --port "$p_ours" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  2>"$work/ours.log" &
pid_ours=$!
pids+=($pid_ours)
wait_ping "$p_redis"
wait_ping "$p_ours"

# One redis-benchmark run: prints `name<TAB>req/s` per test it reports (CSV output).
run() { # port test clients pipeline requests
  "${client_cpu[@]}" redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c "$3" -P "$4" -n "$5" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); print $1 "\t" $2 }'
}

# Nanoseconds a process's main thread has run so far (the servers do their work there).
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }

# One run, as `req/s<TAB>CPU µs per request of the server` for the test itself. The CPU time
# covers the whole run: for LRANGE_100 also the LPUSH that fills the list (same for both).
measure() { # pid port test clients pipeline requests
  local before after out rps
  before=$(cpu_ns "$1")
  out=$(run "$2" "$3" "$4" "$5" "$6")
  after=$(cpu_ns "$1")
  rps=$(rps_of "$out" "$3")
  awk -v r="${rps:-0}" -v a="$before" -v b="$after" -v n="$6" -v t="$3" \
    'BEGIN { k = (t == "lrange_100") ? 2 : 1; printf "%s\t%.2f\n", r, (b - a) / 1000 / (n * k) }'
}

# The figure for the test itself (LRANGE_100's run also reports the LPUSH that fills it).
rps_of() { # output test
  local want
  want=$(echo "$2" | tr '[:lower:]' '[:upper:]')
  [ "$want" = LRANGE_100 ] && want='LRANGE_100 (first 100 elements)'
  echo "$1" | awk -F'\t' -v w="$want" '$1 == w { print $2 }'
}

best() { printf '%s\n' "$@" | awk '$1 + 0 > m + 0 { m = $1 } END { if (m + 0 > 0) print m }'; }
least() { printf '%s\n' "$@" | awk '$1 + 0 > 0 && (m == "" || $1 + 0 < m + 0) { m = $1 } END { print (m == "" ? "-" : m) }'; }

rows=()
bench_one() { # label test clients pipeline requests
  redis-cli -p "$p_redis" flushall >/dev/null
  redis-cli -p "$p_ours" flushall >/dev/null
  local ra=() rb=() ca=() cb=() m who order=() i
  # redis, ours, ours, redis, redis, ours ...: neither server always goes first.
  for ((i = 0; i < rounds; i++)); do
    if ((i % 2 == 0)); then order+=(redis ours); else order+=(ours redis); fi
  done
  for who in "${order[@]}"; do
    if [ "$who" = redis ]; then
      m=$(measure "$pid_redis" "$p_redis" "$2" "$3" "$4" "$5")
      ra+=("${m%%$'\t'*}"); ca+=("${m##*$'\t'}")
    else
      m=$(measure "$pid_ours" "$p_ours" "$2" "$3" "$4" "$5")
      rb+=("${m%%$'\t'*}"); cb+=("${m##*$'\t'}")
    fi
  done
  local a b
  a=$(best "${ra[@]}")
  b=$(best "${rb[@]}")
  local ratio
  ratio=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
  local row
  row=$(printf '| %-11s | %-22s | %12s | %12s | %5s | %8s | %8s |' "$2" "$1" "${a:--}" "${b:--}" \
    "$ratio" "$(least "${ca[@]}")" "$(least "${cb[@]}")")
  rows+=("$row")
  echo "$row"
}

header="| test        | settings               | redis-server | playground   | ratio | CPU µs/req redis | ours |
|-------------|------------------------|-------------:|-------------:|------:|---------:|---------:|"
echo "$header"
start=$(date +%s)
for t in "${tests[@]}"; do bench_one "50 clients, -P 16" "$t" 50 16 "$n_piped"; done
for t in "${tests[@]}"; do bench_one "50 clients" "$t" 50 1 "$n_plain"; done
bench_one "1 client" get 1 1 "$n_one"
secs=$(( $(date +%s) - start ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 10,000 idle connections to each server: does it hold them, and what do they cost?
redis-cli -p "$p_redis" config set maxclients 10100 >/dev/null
redis-cli -p "$p_ours" config set maxclients 10100 >/dev/null
idle_redis=$(python3 scripts/idle-conns.py "$p_redis" "$pid_redis" 10000)
idle_ours=$(python3 scripts/idle-conns.py "$p_ours" "$pid_ours" 10000)
idle_row=$(printf '| 10,000 idle connections: resident memory per connection, bytes | %s | %s |' \
  "$idle_redis" "$idle_ours")
echo "$idle_row"

mkdir -p bench
js_section="# The JS API (pg.call, pg.batch) vs ioredis-mock, and wasm vs native"
# That section only, up to the next one (bench-memory.sh writes its own again below).
js_kept=$(awk -v h="$js_section" '$0 == h { f = 1; print; next } f && /^# / { f = 0 } f' \
  bench/latest.md 2>/dev/null || true)
{
  echo "# redis-benchmark: redis-server vs redis-playground-server"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(redis-server --version | sed 's/ sha=.*//'), requests/s"
  echo "(-n $n_piped pipelined, $n_plain unpipelined, $n_one one client; ${secs}s in all);"
  echo "$pinning; load average $load_before before, $load_after after (1, 5, 15 minutes)."
  echo "ratio = playground / redis-server; best of $rounds runs each, alternating redis, ours,"
  echo "ours, redis ... The machine is shared: other processes' load still moves the ratios."
  echo "CPU µs/req: the server's own CPU time per request, the least of its $rounds runs"
  echo "(for lrange_100 averaged with the LPUSH run that fills the list)."
  echo
  echo "$header"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| measure | redis-server | playground |"
  echo "|---|---:|---:|"
  echo "$idle_row"
} > bench/latest.md

echo "bench: written to bench/latest.md (${secs}s)"

# Memory per key (DEBUG POPULATE 1M) and SET under eviction, against redis-server: its own
# section of bench/latest.md.
scripts/bench-memory.sh

if [ "${BENCH_JS:-1}" = 0 ]; then
  # The JS tables of the last full run stay, with their own date.
  [ -z "$js_kept" ] || printf '\n%s\n' "$js_kept" >> bench/latest.md
  exit 0
fi
# The JS API against ioredis-mock, and the wasm engine against the native one on the same
# loop: appended to bench/latest.md.
scripts/bench-js.sh
