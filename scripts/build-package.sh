#!/usr/bin/env bash
# Builds the npm package: target/package/redis-playground-<version>.tgz (`npm pack` of a staged
# directory). It holds the engine (the wasm and its glue, as scripts/build-wasm.sh leaves them in
# www/pkg), the module for programs (npm/index.js), in-process connections for Node
# (npm/node.js), the <redis-playground> element with the page code it runs (www/embed.js and
# the modules it loads), and their type declarations.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f www/pkg/redis_playground_bg.wasm ] || scripts/build-wasm.sh
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out=target/package
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/pkg"
cp www/pkg/redis_playground.js www/pkg/redis_playground_bg.wasm "$stage/pkg/"
# Modules the glue imports (wasm-bindgen's snippets: the program API's JS half).
[ -d www/pkg/snippets ] && cp -r www/pkg/snippets "$stage/pkg/"
cp npm/index.js npm/node.js npm/index.d.ts npm/node.d.ts npm/element.d.ts npm/README.md "$stage/"
cp LICENSE "$stage/"
# The element and what it loads: the terminal, the connection to its worker, the worker.
cp www/embed.js www/terminal.js www/connection.js www/server.js www/host.js www/engine.js www/storage.js \
  www/replstream.js www/style.css "$stage/"
sed "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" npm/package.json >"$stage/package.json"
rm -f "$out"/redis-playground-*.tgz
(cd "$stage" && npm pack --silent --pack-destination .. >/dev/null)
echo "[build-package] $out/redis-playground-$version.tgz: $(stat -c %s "$out/redis-playground-$version.tgz") bytes"
