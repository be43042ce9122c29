# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: setup build run dist test lint test-rust test-e2e test-container screenshots fuzz

## Install what is missing (idempotent; seconds on a ready machine).
setup:
	scripts/setup.sh

# The release server is built once, statically linked (glibc static-pie) for the host triple,
# and serves both the tests (linked to target/release/server) and the bundle (`make dist`).
# --target keeps crt-static off build scripts and proc macros; the flag is set on these recipes
# only, since without --target (lint, test-rust) it would break proc macros.
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_SERVER := CARGO_TARGET_$(shell echo '$(HOST_TRIPLE)' | tr 'a-z-' 'A-Z_')_RUSTFLAGS='-C target-feature=+crt-static'

## Build the release site (server binary + wasm/JS/CSS in target/site). --split puts the call's
## code (`wasm_split(call, …)` in app/src/call) into a wasm chunk of its own, fetched by the lobby.
## shrink-site.mjs then shortens the wasm's import names and precompresses the site (.br, .gz).
build: setup
	$(STATIC_SERVER) LEPTOS_BIN_TARGET_TRIPLE=$(HOST_TRIPLE) cargo leptos build --release --split
	node scripts/shrink-site.mjs target/site record-meet
	mkdir -p target/release
	ln -f target/$(HOST_TRIPLE)/release/server target/release/server

## Serve the release build at http://127.0.0.1:3000 (set LEPTOS_SITE_ADDR to change it).
run: build
	LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=record-meet \
	  target/release/server

## The release bundle: dist/record-meet-<version>-<target>.tar.gz (one static executable with
## the site inside, the deploy/ files and the README).
dist: build
	scripts/dist.sh

## Everything CI runs: formatting, lints, Rust tests, browser tests (the bundle's among them),
## and the container image build where podman exists.
test: setup lint test-rust test-e2e test-container
	scripts/test-summary.py

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

# The signaling suite runs three times: in memory, on one node with Redis, and on three nodes
# behind haproxy. The connection limit is per node, so its test is single-node only; so is the
# slow-consumer test, whose queue overflow depends on how much the balancer buffers in between.
SIGNALING_SUITE := --test signaling_join --test signaling_frames --test signaling_ops --test signaling_refusal_get \
  --test signaling_order

# The tests start real processes (servers, redis-server, haproxy, coturn): they run in a network
# namespace with only loopback, built first outside it so cargo never needs the network inside.
test-rust:
	mkdir -p target
	cargo test --workspace --no-run
	scripts/netns.sh cargo test --offline --workspace 2>&1 | tee target/test-rust.log
	RECORD_MEET_TEST_BACKEND=redis scripts/netns.sh cargo test --offline -p server $(SIGNALING_SUITE) \
	  2>&1 | tee -a target/test-rust.log
	RECORD_MEET_TEST_BACKEND=cluster scripts/netns.sh cargo test --offline -p server $(SIGNALING_SUITE) -- \
	  --skip connections_beyond_the_limit_get_503 --skip a_client_that_stops_reading_is_closed_with_4008 \
	  2>&1 | tee -a target/test-rust.log

## Playwright against the release build and the bundle, inside a loopback-only network namespace.
test-e2e: build dist
	scripts/e2e.sh

## `podman build` of the Dockerfile from the bundle (skipped, saying so, without podman).
test-container: dist
	scripts/test-container.sh

## Fuzz the protocol parser for 10 million inputs (FUZZ_RUNS to change); not part of `make test`.
## 2026-12-01: 10 million inputs in 429 s (23 k/s on one core), no crash; installs cargo-fuzz once.
fuzz:
	scripts/fuzz.sh
