#!/usr/bin/env bash
# Measures "Share screen" -> first decoded screen frame on the other side (10 runs) and the
# steady-state screen bitrate/resolution, against the release build in a loopback-only network
# namespace. Results go into BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
make build
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && node end2end/bench/share.mjs'
