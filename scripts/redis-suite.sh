#!/usr/bin/env bash
# Fetches Redis 7.0.15's own test suite (tests/, runtest) from Debian 12's `redis` source package
# into .cache/redis-7.0.15/, for `make test-redis`. The suite is fetched, never committed.
#
# apt keeps its state for this download in a private temporary directory: the machine's own apt
# sources, lists and caches are left as they are. The tarball must match the known sha256.
# Skips everything when the cache already holds the suite.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=7.0.15
SHA256=4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982
DEST=.cache/redis-$VERSION
log() { printf '[redis-suite] %s\n' "$*"; }

if [ -f "$DEST/.complete" ]; then
  exit 0
fi
for tool in apt-get tar sha256sum tclsh; do
  command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
done

A=$(mktemp -d)
trap 'rm -rf "$A"' EXIT
mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/out"

# The machine's deb sources, turned into deb-src entries in the private directory only.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$A/parts/src.sources"
elif [ -f /etc/apt/sources.list ]; then
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$A/parts/src.list"
else
  log "no apt sources found"
  exit 1
fi
O=(-o "Dir::State=$A/state" -o "Dir::State::status=/var/lib/dpkg/status" -o "Dir::Cache=$A/cache"
  -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$A/parts")
# apt's unprivileged download user cannot enter the private directory; root downloads itself.
[ "$(id -u)" -eq 0 ] && O+=(-o "APT::Sandbox::User=root")

log "fetching Debian's redis source package (Redis $VERSION)"
apt-get "${O[@]}" update -qq
(cd "$A/out" && apt-get "${O[@]}" source --download-only -qq redis >/dev/null)

TARBALL="$A/out/redis_$VERSION.orig.tar.gz"
if [ ! -f "$TARBALL" ]; then
  log "the source package did not contain redis_$VERSION.orig.tar.gz:"
  ls "$A/out" >&2
  exit 1
fi
echo "$SHA256  $TARBALL" | sha256sum --check --quiet - || { log "sha256 mismatch"; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
# tests/ holds the helpers, units and their assets; runtest is the usual entry point.
tar -xzf "$TARBALL" -C "$DEST" --strip-components=1 "redis-$VERSION/tests" "redis-$VERSION/runtest"
touch "$DEST/.complete"
log "Redis $VERSION test suite in $DEST"
