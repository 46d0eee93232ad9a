#!/usr/bin/env bash
# Serves www/ on 127.0.0.1 and prints its address. Usage: scripts/serve.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8080}"
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
fi
echo "redis-playground: http://127.0.0.1:${port}/"
exec python3 -m http.server --bind 127.0.0.1 --directory www "$port"
