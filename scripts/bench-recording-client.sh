#!/usr/bin/env bash
# Measures the in-call recorder (composite frame rate with its tab visible and hidden, upload
# overhead) against the release build in a loopback-only network namespace. Needs ffprobe
# (Debian's ffmpeg). Results go into BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_BUILD:-}" ] || make build
mkdir -p target/bench
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && cd end2end && node bench/recording.mjs'
