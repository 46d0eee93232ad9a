#!/usr/bin/env bash
# CPU instructions per request, the native server against redis-server 7.0.15, counted by
# valgrind's callgrind under the same redis-benchmark load. Unlike requests per second on a
# shared machine, an instruction count barely moves from run to run, so a change to the
# per-command path shows even when it is a few percent.
#
# Each server runs under `valgrind --tool=callgrind`; the data a test needs is loaded first
# (SET before GET, LPUSH before RPOP and LRANGE), the counters are zeroed, redis-benchmark sends
# N requests of the one command, and the counters are dumped: instructions / N. The count is
# the servers' user-space instructions only (system calls are the kernel's).
#
#   scripts/callgrind.sh                       # the 9 tests, -P 16 and unpipelined, 50 clients
#   scripts/callgrind.sh get lrange_100        # only these tests
#   CG_N=20000 CG_PIPELINE=16 scripts/callgrind.sh set   # requests per test; one pipeline depth
#   CG_TOP=25 scripts/callgrind.sh incr        # the 25 costliest functions of ours (default 12)
#   CG_SERVER=target/server/redis-playground-server scripts/callgrind.sh
#   CG_REDIS=0 scripts/callgrind.sh            # ours only
#
# Prints a table (instructions per request: redis-server, ours, ratio) and, per test, the
# functions of ours with the most instructions of their own. Loopback only; never a test.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in valgrind vgdb callgrind_annotate redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "callgrind: $tool is missing" >&2; exit 1; }
done

OURS=${CG_SERVER:-target/release/redis-playground-server}
[ -x "$OURS" ] || { echo "callgrind: $OURS is missing (cargo build --release --bin redis-playground-server)" >&2; exit 1; }
n=${CG_N:-20000}
clients=${CG_CLIENTS:-50}
pipelines=(${CG_PIPELINE:-16 1})
top=${CG_TOP:-12}
with_redis=${CG_REDIS:-1}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(set get incr lpush rpop sadd hset zadd lrange_100)

BENCH_NAME=callgrind
BENCH_WAIT_TRIES=300
. scripts/bench-common.sh

# Starts a server under callgrind: sets started_pid and started_port.
start() { # ours|redis
  local port pid
  port=$(free_port)
  local cmd
  if [ "$1" = ours ]; then
    cmd=("$OURS" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work")
  else
    cmd=(redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work"
      --logfile "$work/redis.log")
  fi
  valgrind --tool=callgrind --compress-strings=no --compress-pos=no --callgrind-out-file="$work/$1.%p" "${cmd[@]}" \
    >"$work/$1.stdout" 2>"$work/$1.valgrind" &
  pid=$!
  pids+=("$pid")
  wait_ping "$port"
  started_pid=$pid
  started_port=$port
}

bench() { # port pipeline requests command...
  local port=$1 p=$2 k=$3
  shift 3
  redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -P "$p" -n "$k" -q "$@" >/dev/null 2>&1
}

# Loads what a test reads, so the measured requests find it.
prepare() { # port test
  redis-cli -p "$1" flushall >/dev/null
  case $2 in
    get) bench "$1" 16 1000 -t set ;;
    rpop) bench "$1" 16 $((n + 1000)) -t lpush ;;
    lrange_100) bench "$1" 16 1000 -t lpush ;;
  esac
}

# The measured load: the command redis-benchmark's test of that name sends.
measure_load() { # port pipeline test
  case $3 in
    lrange_100) bench "$1" "$2" "$n" lrange mylist 0 99 ;;
    *) bench "$1" "$2" "$n" -t "$3" ;;
  esac
}

# Instructions per request of one test on a running server; leaves its dump for annotating.
measure() { # who pid port pipeline test
  local who=$1 pid=$2 port=$3 p=$4 t=$5 dump
  prepare "$port" "$t"
  vgdb --pid="$pid" zero >/dev/null 2>&1
  measure_load "$port" "$p" "$t"
  rm -f "$work/$who.$pid".*
  vgdb --pid="$pid" dump >/dev/null 2>&1
  dump=$(ls -t "$work/$who.$pid".* 2>/dev/null | head -1)
  [ -n "$dump" ] || { echo "callgrind: no dump from $who" >&2; exit 1; }
  mv "$dump" "$work/$who-$t-P$p.out"
  awk -v n="$n" '/^summary:/ { printf "%.0f\n", $2 / n }' "$work/$who-$t-P$p.out"
}

start ours
pid_ours=$started_pid port_ours=$started_port
if [ "$with_redis" = 1 ]; then
  start redis
  pid_redis=$started_pid port_redis=$started_port
fi

rows=()
for p in "${pipelines[@]}"; do
  for t in "${tests[@]}"; do
    ours=$(measure ours "$pid_ours" "$port_ours" "$p" "$t")
    redis=-
    ratio=-
    if [ "$with_redis" = 1 ]; then
      redis=$(measure redis "$pid_redis" "$port_redis" "$p" "$t")
      ratio=$(awk -v a="$redis" -v b="$ours" 'BEGIN { printf "%.2f", b / a }')
    fi
    row=$(printf '| %-11s | %4s | %10s | %10s | %5s |' "$t" "$p" "$redis" "$ours" "$ratio")
    rows+=("$row")
    {
      echo "== $t, -P $p: ours, instructions of their own per function (of $n requests)"
      # The frames open when the counters were dumped show as 100%: left out.
      callgrind_annotate --inclusive=no --threshold=100 "$work/ours-$t-P$p.out" 2>/dev/null |
        grep -E '^ *[0-9,]+ +\( *[0-9.]+%\) ' | grep -v -e 'PROGRAM TOTALS' -e '(100\.0%)' |
        sed 's/ \[[^]]*\]$//; s/???://' | awk -v t="$top" 'NR <= t'
      echo
    } >&2
  done
done

echo "instructions per request, $n requests per test, $clients clients (callgrind)"
echo "| test        | -P   | redis      | ours       | ratio |"
echo "|-------------|-----:|-----------:|-----------:|------:|"
printf '%s\n' "${rows[@]}"
