#!/usr/bin/env bash
# Installs what building and testing record-meet needs, and only what is missing.
#
# Everything comes from the package registries (crates.io, npm, Debian apt): cargo-leptos's own
# tool downloads are switched off, so each tool it runs must already be on PATH. Safe to run again:
# on a ready machine it checks versions and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The wasm target, for the hydrate build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos. --ignore-rust-version: one pinned dependency asks for a newer rustc than it needs.
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --ignore-rust-version \
    --features no_downloads
fi

# wasm-bindgen CLI: exactly the library version in Cargo.lock, or the generated JS will not match.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$wasm_bindgen_version" ]; then
  echo "setup: cannot find wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  log "installing wasm-bindgen-cli $wasm_bindgen_version (about 3 minutes, once)"
  # No --locked: the CLI's own lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

# wasm-opt from npm's binaryen, in the git-ignored tools/ folder. Never Debian's binaryen 108:
# its output throws in the browser and hydration silently dies.
if ! tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into tools/"
  mkdir -p tools
  [ -f tools/package.json ] || echo '{"private": true}' > tools/package.json
  npm install --prefix tools --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi

# Debian's Chromium for Playwright (Playwright's own browser download cannot work here).
if ! [ -x /usr/bin/chromium ]; then
  log "installing chromium from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# coturn (`turnserver`, `turnutils_uclient`): the TURN tests start their own relay on loopback.
if ! command -v turnserver >/dev/null || ! command -v turnutils_uclient >/dev/null; then
  log "installing coturn from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn
fi
# `ip` and `unshare` run the browser tests in a loopback-only network namespace.
if ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  log "installing iproute2 and util-linux"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 util-linux
fi

# redis-server and haproxy: the shared-rooms tests start their own (never the system services)
# to run the signaling suite on one node with Redis and on three nodes behind a balancer.
if ! command -v redis-server >/dev/null || ! [ -x /usr/sbin/haproxy ]; then
  log "installing redis-server and haproxy from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server haproxy
fi

# Caddy (the TLS reverse proxy of the deploy test), nginx (its site is checked with nginx -t)
# and podman (the container image build). Only the binaries: the tests start and stop them.
missing=()
command -v caddy >/dev/null || missing+=(caddy)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v podman >/dev/null || missing+=(podman)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # apt starts the packaged services; the tests run their own instances on loopback.
  for service in caddy nginx; do
    as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
fi

# Playwright and its test runner; no browser download.
stamp=end2end/node_modules/.setup-stamp
lock_sum=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  echo "$lock_sum" > "$stamp"
fi

log "ready (cargo-leptos $CARGO_LEPTOS_VERSION, wasm-bindgen $wasm_bindgen_version, $(tools/node_modules/.bin/wasm-opt --version), $(/usr/bin/chromium --version 2>/dev/null))"
