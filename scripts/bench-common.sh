# Shared by the scripts that start servers to measure them (bench.sh, bench-memory.sh,
# callgrind.sh): a scratch directory and the servers' pids, both cleaned up on exit, a free
# port, and a wait for a server's PONG. Sourced; BENCH_NAME names the script in errors and
# BENCH_WAIT_TRIES is how many tenths of a second a server gets to answer.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ping() {
  for _ in $(seq "${BENCH_WAIT_TRIES:-100}"); do
    redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "${BENCH_NAME:-bench}: server on port $1 did not answer" >&2
  exit 1
}
