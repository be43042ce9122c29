#!/usr/bin/env bash
# Builds the release bundle: dist/record-meet-<version>-<target>.tar.gz with
#   record-meet   one statically linked executable with the site (wasm, JS, CSS) inside it
#   deploy/       systemd unit, Caddyfile, nginx site, coturn configuration
#   README.md     including the Deploy and Operations sections
#   var/          empty folders (the container image's state directory and recordings)
# Needs `make build`: the release site in target/site and the server it built statically
# (glibc static-pie, so it runs on any x86_64 Linux and in a `FROM scratch` image) in
# target/<host>/release/server. The bundle reuses that build rather than compiling again.
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' server/Cargo.toml | head -n1)
name="record-meet-$version-$target"
server="target/$target/release/server"
if [ ! -f target/site/pkg/record-meet.wasm ] || [ ! -x "$server" ]; then
  echo "dist: no release build in target/site and $server; run 'make build' first" >&2
  exit 1
fi
# A static executable needs no shared library (readelf comes with strip, in binutils).
if readelf -d "$server" | grep -q "(NEEDED)"; then
  echo "dist: $server is not statically linked; build it with 'make build'" >&2
  exit 1
fi

stage="dist/$name"
rm -rf "$stage" "dist/$name.tar.gz"
mkdir -p "$stage/deploy" "$stage/var/recordings"
stripped="target/$target/release/record-meet.stripped"
cp "$server" "$stripped"
strip "$stripped"
"$stripped" --embed-site target/site --embed-into "$stage/record-meet"
cp deploy/record-meet.service deploy/Caddyfile deploy/nginx.conf "$stage/deploy/"
mkdir -p "$stage/deploy/coturn"
cp deploy/coturn/turnserver.conf "$stage/deploy/coturn/"
cp README.md "$stage/"
tar -C dist --owner=0 --group=0 -czf "dist/$name.tar.gz" "$name"
rm -rf "$stage"
size=$(stat -c %s "dist/$name.tar.gz")
echo "dist: dist/$name.tar.gz ($((size / 1024)) KiB)"
