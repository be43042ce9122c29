#!/usr/bin/env bash
# Benchmarks the signaling hub over 127.0.0.1 (see BENCHMARKS.md, "Signaling hub").
#
# Builds the server and the load tool in release mode, then runs every scenario: relay latency
# at 5k/20k/50k msg/s and a ramp to find the highest sustained rate (500 rooms x 2 peers, 1 KB
# frames), reported end to end and from the server's own relay histogram; then connect rate
# and RSS per idle connection at 10k and 19.9k connections (the client sockets spread over
# worker processes, so only the server's open-file limit binds). With two or more CPUs the
# server is pinned to CPU 0 and the tool to CPU 1, so neither steals the other's core; both run
# in their own scheduler autogroup at nice -10 (--priority) so other work on a shared machine
# disturbs them less (the report shows how much CPU that other work still used). Each
# measurement is bounded (<= 60 s); the whole run takes about two minutes. Nothing leaves the
# loopback interface. Extra arguments go to the tool (e.g. --conns 19900 --procs 2).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p server -p loadtest
# Raising the hard limit needs root (or CAP_SYS_RESOURCE); otherwise the soft limit goes as
# high as the hard one allows (the tool does the same for itself and its children).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
echo "rustc: $(rustc --version)"
pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin=(taskset -c 1)
    set -- --server-cpu 0 "$@"
fi
"${pin[@]}" "$CARGO_TARGET_DIR/release/loadtest" all \
    --server-bin "$CARGO_TARGET_DIR/release/server" --priority -10 "$@"
