#!/usr/bin/env bash
# Installs what building and testing redis-playground needs, skipping whatever is present.
# Usage: scripts/setup.sh [rust] [redis] [redis-suite] [python] [wasm] [browser] [node]
#        (no argument: all)
# Needs a Debian machine with Rust (rustup) and Node; uses apt-get for system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

want() { [ $# -eq 0 ] && return 0; for w in "${ALL[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
ALL=("$@")
[ ${#ALL[@]} -eq 0 ] && ALL=(rust redis redis-suite python wasm browser node)

log() { printf '[setup] %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

apt_updated=0
apt_install() {
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if want rust; then
  # A C compiler: the linker of native builds, and the native server's allocator (mimalloc)
  # is C compiled by its crate.
  if ! command -v cc >/dev/null 2>&1; then
    apt_install gcc libc6-dev
  fi
  if ! cargo fmt --version >/dev/null 2>&1; then
    log "rustup component add rustfmt"
    rustup component add rustfmt
  fi
  if ! cargo clippy --version >/dev/null 2>&1; then
    log "rustup component add clippy"
    rustup component add clippy
  fi
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
fi

if want redis; then
  # The reference implementation for the differential tests, and redis-cli for server tests.
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server redis-tools
    # Debian starts a system service on 6379; the tests start their own instances instead.
    $SUDO systemctl stop redis-server >/dev/null 2>&1 || $SUDO service redis-server stop >/dev/null 2>&1 || true
  fi
fi

if want redis-suite; then
  # Redis's own test suite for `make test-redis`: Tcl runs it; the suite comes from Debian's
  # redis source package into .cache/ (skipped when already there).
  if ! command -v tclsh >/dev/null; then
    apt_install tcl
  fi
  scripts/redis-suite.sh
fi

if want python; then
  # redis-py, a real client the server tests talk to.
  if ! python3 -c 'import redis' >/dev/null 2>&1; then
    log "pip install redis"
    python3 -m pip install -q redis || python3 -m pip install -q --break-system-packages redis
  fi
fi

if want wasm; then
  # The wasm-bindgen CLI must match the crate version in Cargo.lock exactly.
  need=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock 2>/dev/null || true)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ -n "$need" ] && [ "$need" != "$have" ]; then
    log "cargo install wasm-bindgen-cli $need (a few minutes)"
    # --locked fails against the registry reachable here (a pinned dependency is missing).
    cargo install -q wasm-bindgen-cli --version "$need"
  fi
fi

if want browser; then
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
fi

if want node; then
  if [ -f package.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; }; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
