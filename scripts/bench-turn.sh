#!/usr/bin/env bash
# Join -> first remote frame through a TURN relay (coturn, relay-only, minted credentials)
# against a direct connection, alternating rounds in one run, against the release build in a
# loopback-only network namespace. BENCH_RUNS rounds each (default 5). Results go into
# BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-}" = 1 ] || make build
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && cd end2end && node bench/turn.mjs'
