#!/usr/bin/env bash
# Builds the container image from the Dockerfile with podman and checks what can be checked
# without running it (containers cannot run on the CI sandbox: crun cannot set rlimits there):
# the image's user, health check, entrypoint, and that its executable is the bundle's and runs.
# Skips, saying so, where podman is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v podman >/dev/null; then
  echo "test-container: SKIPPED: podman is not installed (apt-get install podman to run it)"
  exit 0
fi
bundle=$(ls dist/record-meet-*.tar.gz 2>/dev/null | head -n1)
if [ -z "$bundle" ]; then
  echo "test-container: no bundle in dist/; run 'make dist' first" >&2
  exit 1
fi

# Storage of its own, outside the repository, removed afterwards (vfs layers are full copies).
work=$(mktemp -d -t record-meet-podman.XXXXXX)
cleanup() {
  podman --root "$work/root" --runroot "$work/run" --storage-driver=vfs rmi -a -f >/dev/null 2>&1 || true
  podman unshare rm -rf "$work" 2>/dev/null || rm -rf "$work"
}
trap cleanup EXIT
pm() { podman --root "$work/root" --runroot "$work/run" --storage-driver=vfs "$@"; }

fail() { echo "test-container: FAILED: $*" >&2; exit 1; }

# --format docker: the OCI format has no HEALTHCHECK.
pm build --format docker -t record-meet-test:latest . >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "podman build"; }
inspect() { pm image inspect --format "$1" record-meet-test:latest; }
[ "$(inspect '{{.Config.User}}')" = "10001:10001" ] || fail "the image must run as 10001:10001"
inspect '{{json .Config.Healthcheck}}' | grep -q -- '--check-health' || fail "no HEALTHCHECK"
inspect '{{json .Config.Entrypoint}}' | grep -q '/record-meet' || fail "entrypoint"
[ "$(pm image inspect --format '{{len .RootFS.Layers}}' record-meet-test:latest)" -le 3 ] \
  || fail "the runtime stage should be scratch plus the executable and its folder"

# The executable in the image is the bundle's, and runs (outside a container).
pm save --format docker-archive -o "$work/image.tar" record-meet-test:latest >/dev/null
mkdir -p "$work/image" "$work/rootfs"
tar -xf "$work/image.tar" -C "$work/image"
for layer in $(find "$work/image" -name '*.tar' -o -name 'layer.tar'); do
  tar -xf "$layer" -C "$work/rootfs" 2>/dev/null || true
done
[ -x "$work/rootfs/record-meet" ] || fail "no /record-meet in the image"
mkdir -p "$work/bundle"
tar -xzf "$bundle" -C "$work/bundle"
cmp -s "$work/rootfs/record-meet" "$work/bundle"/record-meet-*/record-meet || fail "not the bundle's executable"
version=$("$work/rootfs/record-meet" --version)
[ -d "$work/rootfs/var/lib/record-meet" ] || fail "no state directory"
size=$(stat -c %s "$work/image.tar")
echo "test-container: ok: podman build, user 10001:10001, HEALTHCHECK, $version, image $((size / 1024)) KiB"
