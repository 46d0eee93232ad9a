#!/usr/bin/env bash
# `make bench-memory` (and part of `make bench`): memory per key and SET under eviction, the
# native server against redis-server 7.0.15.
#
# Memory: DEBUG POPULATE 1000000 (keys `key:N` holding `value:N`, as redis-benchmark and
# Redis's tests make them) on each server; INFO used_memory before and after, bytes per key,
# the ratio, and each process's RSS growth (VmRSS from /proc) as the check that used_memory
# tells the truth. Eviction: with those 1M keys in place, maxmemory is set to the memory in use
# and maxmemory-policy to allkeys-lru, then redis-benchmark SETs new random keys (each SET
# evicts) and reports requests/s. Replaces its own section of bench/latest.md. Never part of
# the tests.
#
#   OURS=target/suite/redis-playground-server scripts/bench-memory.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench-memory: $tool is missing" >&2; exit 1; }
done
[ -r /proc/self/status ] || { echo "bench-memory: needs /proc for RSS" >&2; exit 1; }

if [ -z "${OURS:-}" ]; then
  cargo build --profile server --bin redis-playground-server
  OURS=target/server/redis-playground-server
fi
keys=${BENCH_KEYS:-1000000}
n_evict=${BENCH_EVICT_REQUESTS:-5000}

BENCH_NAME=bench-memory
. scripts/bench-common.sh

used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
rss_bytes() { awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status"; }

# Starts a server (redis or ours), populates it, measures; prints
# `used_before used_after rss_before rss_after set_per_sec keys_left`.
measure() { # binary
  local port pid u0 u1 r0 r1 rps left
  port=$(free_port)
  "$1" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --enable-debug-command yes >"$work/log.$port" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_ping "$port"
  u0=$(used_memory "$port")
  r0=$(rss_bytes "$pid")
  redis-cli -p "$port" debug populate "$keys" >/dev/null
  # Both allocators hand pages freed while the table grew back to the system a moment
  # later (jemalloc's background decay, mimalloc's purge the server asks for each second):
  # RSS is read once they have, as a server that keeps running would show it.
  sleep 2
  u1=$(used_memory "$port")
  r1=$(rss_bytes "$pid")
  redis-cli -p "$port" config set maxmemory-policy allkeys-lru >/dev/null
  redis-cli -p "$port" config set maxmemory "$u1" >/dev/null
  rps=$(redis-benchmark -h 127.0.0.1 -p "$port" -t set -r $((keys * 4)) -c 50 -n "$n_evict" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2 }')
  left=$(redis-cli -p "$port" dbsize)
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$u0 $u1 $r0 $r1 ${rps:-0} ${left:-0}"
}

read -r ru0 ru1 rr0 rr1 rset rleft <<<"$(measure redis-server)"
read -r ou0 ou1 or0 or1 oset oleft <<<"$(measure "$OURS")"

table=$(awk -v k="$keys" -v ru0="$ru0" -v ru1="$ru1" -v rr0="$rr0" -v rr1="$rr1" -v rset="$rset" \
  -v ou0="$ou0" -v ou1="$ou1" -v or0="$or0" -v or1="$or1" -v oset="$oset" \
  -v rleft="$rleft" -v oleft="$oleft" 'BEGIN {
  rk = (ru1 - ru0) / k; ok = (ou1 - ou0) / k
  rrk = (rr1 - rr0) / k; ork = (or1 - or0) / k
  print "| figure | redis-server | playground | ratio |"
  print "|---|---:|---:|---:|"
  printf "| used_memory before | %d | %d | |\n", ru0, ou0
  printf "| used_memory after %d keys | %d | %d | |\n", k, ru1, ou1
  printf "| used_memory per key (bytes) | %.1f | %.1f | %.2f |\n", rk, ok, ok / rk
  printf "| RSS growth per key (bytes) | %.1f | %.1f | %.2f |\n", rrk, ork, ork / rrk
  printf "| used_memory growth / RSS growth | %.2f | %.2f | |\n", (ru1 - ru0) / (rr1 - rr0), (ou1 - ou0) / (or1 - or0)
  printf "| SET/s at maxmemory, allkeys-lru, 50 clients | %s | %s | %.3f |\n", rset, oset, (rset > 0 ? oset / rset : 0)
  printf "| keys left after those SETs | %d | %d | |\n", rleft, oleft
}')

section="# Memory per key and SET under eviction"
body="$section

$(date -u +%Y-%m-%d), $(nproc) cores, $(redis-server --version | sed 's/ sha=.*//'), playground: $OURS.
DEBUG POPULATE $keys (\`key:N\` → \`value:N\`) into an empty server; RSS is the process's VmRSS.
Then maxmemory = used_memory, allkeys-lru, and \`redis-benchmark -t set -r $((keys * 4)) -c 50
-n $n_evict\` (new keys, so each SET evicts).

$table"
echo "$body"

mkdir -p bench
touch bench/latest.md
# This section is replaced; every other one stays where it is.
others=$(awk -v h="$section" '$0 == h { skip = 1; next } skip && /^# / { skip = 0 } !skip { print }' bench/latest.md)
{
  printf '%s\n' "$others" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
  echo
  echo "$body"
} > bench/latest.md
