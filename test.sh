#!/usr/bin/env bash
# Runs every Werktafel test: formatting and lints, Rust unit and integration
# tests against the real server binary, the Yjs interop tests (stock
# y-websocket in Node) and the browser tests (Playwright driving Chromium).
#
# Builds once: the debug binary that `cargo build` makes is the one every
# test suite starts (WERKTAFEL_BIN).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "build (server binary, web client, tests)"
cargo build --workspace --all-targets --locked

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

export WERKTAFEL_BIN="$PWD/target/debug/werktafel"

step "Rust tests (unit + integration)"
cargo test --workspace --locked

step "web client type check"
if [ -f web/package.json ]; then (cd web && npm run --silent check); fi

if [ -f tests/package.json ]; then
  step "JS tests (interop + browser)"
  if [ ! -d tests/node_modules ]; then
    (cd tests && npm ci --no-audit --no-fund)
  fi
  (cd tests && npm test)
fi
