#!/usr/bin/env bash
# Runs every Werktafel test: formatting and lints, Rust unit and integration
# tests against the real server binary (among them the Yjs interop tests,
# which drive stock y-websocket clients in Node) and the browser tests
# (Playwright driving Chromium).
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

# The Rust interop tests spawn stock Yjs clients from tests/node_modules, so
# the Node dependencies are installed before `cargo test`, not after.
if [ -f tests/package.json ]; then
  step "npm ci (tests/: yjs, y-websocket, ws, playwright-core, marked, markdown-it, axe-core)"
  (cd tests && npm ci --no-audit --no-fund)
fi

# The PostgreSQL store's tests need a server: WERKTAFEL_TEST_PG, or a
# private cluster started here (and stopped on exit) when PostgreSQL is
# installed. Without either they fail, saying so; the rest run regardless.
step "PostgreSQL for the store tests"
source tests/postgres.sh
start_test_postgres

step "Rust tests (unit + integration, including Yjs interop)"
cargo test --workspace --locked

step "web client type check"
if [ -f web/package.json ]; then (cd web && npm run --silent check); fi

if [ -f tests/package.json ]; then
  step "browser tests"
  (cd tests && npm run --if-present e2e)
fi
