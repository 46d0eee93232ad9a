#!/usr/bin/env bash
# Serves www/ on 127.0.0.1 and prints its address. Usage: scripts/serve.sh [PORT]
# scripts/serve.mjs: kept-alive connections, and caching headers that keep each file (and the
# engine's compiled code) in the browser until it changes.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8080}"
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
fi
exec node scripts/serve.mjs --dir www --port "$port"
