#!/usr/bin/env bash
# Runs one werktafel-load scenario against a fresh release server, the server
# pinned to CPU 0 and the generator to CPU 1, RUNS times; prints each run's
# summary line. Used for docs/benchmarks.md.
#
#   WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-server -p werktafel-tests
#   tests/rust/bench/pinned.sh workshop 3
set -euo pipefail
cd "$(dirname "$0")/../../.."
scenario=${1:?usage: pinned.sh SCENARIO [RUNS] [extra werktafel-load args]}
runs=${2:-3}
shift $(( $# < 2 ? $# : 2 ))

for run in $(seq "$runs"); do
  data=$(mktemp -d)
  taskset -c 0 target/release/werktafel serve --addr 127.0.0.1:0 --data-dir "$data" \
    >"$data/stdout" 2>"$data/server.log" &
  server=$!
  until grep -q 'listening on http://' "$data/stdout"; do sleep 0.1; done
  addr=$(sed -n 's|^listening on http://||p' "$data/stdout")
  echo "# run $run: taskset -c 1 target/release/werktafel-load --addr $addr --server-pid $server --scenario $scenario $*"
  taskset -c 1 target/release/werktafel-load --addr "$addr" --server-pid "$server" \
    --scenario "$scenario" "$@" | tee "$data/report.txt" | grep -v '^summary' || true
  grep '^summary' "$data/report.txt"
  kill -TERM "$server"
  wait "$server" || true
  rm -rf "$data"
done
