#!/usr/bin/env bash
# Benchmarks the signaling hub over 127.0.0.1 (see BENCHMARKS.md, "Signaling hub").
#
# Builds the server and the load tool in release mode, raises the open-file limit (20k+
# sockets on each side; the tool raises its own limit too, and the server child inherits it),
# then runs every scenario: relay latency at 5k/20k/50k msg/s and a ramp to find the highest
# sustained rate (500 rooms x 2 peers, 1 KB frames), then connect rate and RSS per idle
# connection at 10k and 20k connections. Each measurement is bounded (<= 60 s); the whole run
# takes about two minutes. Nothing leaves the loopback interface.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p server -p loadtest
# Raising the hard limit needs root (or CAP_SYS_RESOURCE); otherwise the soft limit goes as
# high as the hard one allows.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
echo "rustc: $(rustc --version)"
"$CARGO_TARGET_DIR/release/loadtest" all --server-bin "$CARGO_TARGET_DIR/release/server" "$@"
