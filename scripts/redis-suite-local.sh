#!/usr/bin/env bash
# Redis's own units that are tagged external:skip (unit/acl, unit/acl-v2, unit/auth by default;
# REDIS_UNITS=unit/x,unit/y for others), run with the suite starting the native server itself:
# a scratch copy of the suite whose src/redis-server is this server. Tests of what the engine
# does not have (DEBUG, replication's MASTERAUTH) are skipped; the counts are printed per unit.
# Not part of the ratchet (`make test-redis` runs the suite in external mode).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${REDIS_SUITE:-.cache/redis-7.0.15}
units=${REDIS_UNITS:-unit/acl,unit/acl-v2,unit/auth}
[ -d "$suite/tests" ] || scripts/redis-suite.sh >/dev/null
cargo build --profile suite --bin redis-playground-server
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$suite" "$work/suite"
mkdir -p "$work/suite/src"
ln -sf "$PWD/target/suite/redis-playground-server" "$work/suite/src/redis-server"
ln -sf "$(command -v redis-cli)" "$work/suite/src/redis-cli"
ln -sf "$(command -v redis-benchmark)" "$work/suite/src/redis-benchmark"
cd "$work/suite"
printf '%-14s %6s %6s\n' unit passed failed
for unit in ${units//,/ }; do
  log="$work/$(basename "$unit").log"
  tclsh tests/test_helper.tcl --single "$unit" --clients 1 --timeout 120 --durable \
    --tags -needs:debug --tags -needs:repl \
    --skiptest "ACLs can block all DEBUG subcommands except one" \
    --skiptest "MASTERAUTH test with binary password" >"$log" 2>&1 || true
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  printf '%-14s %6s %6s\n' "$unit" "$(grep -c '^\[ok\]' <<<"$plain" || true)" \
    "$(grep -cE '^\[(err|exception)\]|TIMEOUT' <<<"$plain" || true)"
  grep -E '^\[(err|exception)\]' <<<"$plain" | sed 's/^/    /' || true
done
