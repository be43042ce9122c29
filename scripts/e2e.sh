#!/usr/bin/env bash
# Runs the Playwright tests against the release build inside a new network namespace that has
# only loopback, so WebRTC can send no packet anywhere but 127.0.0.1. Extra arguments go to
# `playwright test` (e.g. a file name or `--grep chat`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH"
if [ ! -x target/release/server ] || [ ! -f target/site/pkg/record-meet.wasm ]; then
  echo "e2e: no release build; run 'make build' first" >&2
  exit 1
fi
# -r maps us to root inside the namespace when we are not root outside it.
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && cd end2end && exec npx playwright test "$@"' e2e "$@"
