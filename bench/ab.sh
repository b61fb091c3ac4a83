#!/usr/bin/env bash
# Two builds of the Werktafel server side by side on saturation steps: for
# each step and run, each binary in turn gets a fresh server and data
# directory, pinned to CPU 0, with werktafel-load on CPU 1. Prints one line
# per binary and step (medians of the runs) and keeps every result line.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY ["STEPS"] [RUNS]
#   bench/ab.sh /tmp/base/target/release/werktafel target/release/werktafel "4800 9600" 3
#
# Build the old one from a worktree, e.g.
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-server)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 steps=${3:-"4800 9600"} runs=${4:-3}
[[ -x target/release/werktafel-load ]] || WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-tests
ulimit -n "$(ulimit -Hn)"
work="bench/work/ab-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
results="$work/results.jsonl"
for step in $steps; do
  for run in $(seq "$runs"); do
    for side in old new; do
      bin=$old
      [[ $side == new ]] && bin=$new
      data=$(mktemp -d)
      taskset -c 0 "$bin" serve --addr 127.0.0.1:0 --data-dir "$data" \
        --messages-per-second 1000000 --bytes-per-second 1000000000 --max-connections 100000 \
        --max-connections-per-address 100000 --connects-per-minute 1000000 \
        >"$work/server.out" 2>"$work/server-$side-$step-$run.log" &
      pid=$!
      for _ in $(seq 100); do
        grep -q 'participant link:.*key=' "$work/server.out" && break
        sleep 0.1
      done
      addr=$(sed -n 's|^listening on http://||p' "$work/server.out" | head -1)
      key=$(sed -n 's|^participant link:.*key=||p' "$work/server.out" | head -1)
      taskset -c 1 target/release/werktafel-load --addr "$addr" --key="$key" --server-pid "$pid" \
        --scenario saturation --rate "$step" --duration 10 --warmup 3 --label "$side" 2>>"$work/load.log" |
        sed -n 's/^result //p' |
        python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "step": int(sys.argv[1]), "run": int(sys.argv[2])})) for l in sys.stdin]' \
          "$step" "$run" >>"$results"
      kill -TERM "$pid"
      wait "$pid" 2>/dev/null || true
      rm -rf "$data"
    done
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| step | build | delivered (min) | deliveries/s | µs CPU/delivery | p99 ms (each run) |")
print("|---|---|---|---|---|---|")
for step in sorted({r["step"] for r in rows}):
    for side in ("old", "new"):
        rs = [r for r in rows if r["step"] == step and r["server"] == side]
        med = lambda k: statistics.median(r[k] for r in rs)
        p99s = " / ".join("%.1f" % r["p99_ms"] for r in rs)
        delivered = min(r["delivered_share"] for r in rs)
        print(f"| {step} | {side} | {delivered:.1%} | {med('deliveries_per_s'):,.0f} | "
              f"{med('server_us_per_delivery'):.2f} | {p99s} |")
PY
echo "results: $results"
