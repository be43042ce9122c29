#!/usr/bin/env bash
# Fuzzes the protocol parser (fuzz/fuzz_targets/parse_client.rs) with cargo-fuzz on the nightly
# toolchain, for FUZZ_RUNS inputs (default 10 million), growing fuzz/corpus/parse_client, then
# minimises the corpus so the copy kept in the repository stays small. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
RUNS=${FUZZ_RUNS:-10000000}
TARGET=parse_client
CORPUS=fuzz/corpus/$TARGET

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked
fi

mkdir -p "$CORPUS"
cd fuzz
# New interesting inputs land in the corpus; `cmin` then keeps only those that add coverage.
cargo +nightly fuzz run "$TARGET" "../$CORPUS" -- \
  -runs="$RUNS" -max_len=4096 -print_final_stats=1
cargo +nightly fuzz cmin "$TARGET" "../$CORPUS" -- -max_len=4096
echo "fuzz: $RUNS inputs without a crash; corpus $(ls "../$CORPUS" | wc -l) files, $(du -sh "../$CORPUS" | cut -f1)"
