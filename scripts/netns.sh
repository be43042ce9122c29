#!/usr/bin/env bash
# Runs a command inside a new network namespace that has only loopback, so tests that start
# several processes (servers, redis-server, haproxy, browsers) can reach nothing but 127.0.0.1.
# Usage: scripts/netns.sh COMMAND [ARGS…]
set -euo pipefail
# -r maps us to root inside the namespace when we are not root outside it.
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && exec "$@"' netns "$@"
