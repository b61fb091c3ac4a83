#!/usr/bin/env bash
# Two builds of the Werktafel server side by side: for each step and run, each
# binary in turn gets a fresh server and data directory, pinned to CPU 0, with
# werktafel-load on CPU 1. Prints one line per binary and step (medians of the
# runs) and keeps every result line.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY ["STEPS"] [RUNS]
#   bench/ab.sh /tmp/base/target/release/werktafel target/release/werktafel "4800 9600" 3
#   AB_SCENARIO=note-insert bench/ab.sh OLD NEW "1600 3200" 3
#   AB_SCENARIO=join-storm bench/ab.sh OLD NEW - 3       # a scenario without steps: "-"
#
# AB_SCENARIO is any werktafel-load preset (default saturation); a step is its
# --rate (edits/s per writer), "-" runs the preset's own rate with its own
# duration. Saturation and note-insert run 3 s of warm-up and 10 s measured.
#
# Each server's /metrics is kept after its run (metrics-SIDE-STEP-RUN.prom), and the
# table counts its commits over 51 ms: every delivery waits for its commit, so a p99
# spike with slow commits is the disk's sync, one without them is the server.
#
# Build the old one from a worktree, e.g.
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-server)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 steps=${3:-"4800 9600"} runs=${4:-3}
scenario=${AB_SCENARIO:-saturation}
load_bin=${AB_LOAD:-target/release/werktafel-load}
[[ -x $load_bin ]] || WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-tests
ulimit -n "$(ulimit -Hn)"
work="bench/work/ab-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
results="$work/results.jsonl"
server_extra=()
load_extra=()
case $scenario in
  saturation) load_extra=(--duration 10 --warmup 3) ;;
  # A note per edit grows the table by ~330 B: see bench/run.sh.
  note-insert) load_extra=(--duration 10 --warmup 3)
    server_extra=(--max-document-bytes $((4 * 1024 * 1024 * 1024))) ;;
esac
for step in $steps; do
  rate=()
  [[ $step != - ]] && rate=(--rate "$step")
  for run in $(seq "$runs"); do
    for side in old new; do
      bin=$old
      [[ $side == new ]] && bin=$new
      data=$(mktemp -d)
      taskset -c 0 "$bin" serve --addr 127.0.0.1:0 --data-dir "$data" \
        --messages-per-second 1000000 --bytes-per-second 1000000000 --max-connections 100000 \
        --max-connections-per-address 100000 --connects-per-minute 1000000 "${server_extra[@]}" \
        >"$work/server.out" 2>"$work/server-$side-$step-$run.log" &
      pid=$!
      for _ in $(seq 100); do
        grep -q 'participant link:.*key=' "$work/server.out" && break
        sleep 0.1
      done
      addr=$(sed -n 's|^listening on http://||p' "$work/server.out" | head -1)
      key=$(sed -n 's|^participant link:.*key=||p' "$work/server.out" | head -1)
      echo "# $scenario $step run $run $side: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
      out=$(taskset -c 1 "$load_bin" --addr "$addr" --key="$key" --server-pid "$pid" \
        --scenario "$scenario" "${rate[@]}" "${load_extra[@]}" --label "$side" 2>>"$work/load.log" |
        sed -n 's/^result //p')
      # The server's own view of the run: a delivery waits for its commit, so
      # a p99 spike with slow commits is the disk, without them the server.
      prom="$work/metrics-$side-$step-$run.prom"
      curl -s "http://$addr/metrics" >"$prom" || true
      echo "$out" | python3 -c '
import json, sys
step, run, load, prom = sys.argv[1:5]
buckets = {}
for line in open(prom):
    if line.startswith("werktafel_commit_seconds_bucket{le="):
        le = line.split("\"")[1]
        buckets[le] = float(line.split()[-1])
total = buckets.get("+Inf")
slow = total - buckets["0.0512"] if total is not None and "0.0512" in buckets else None
for l in sys.stdin:
    if l.strip():
        print(json.dumps({**json.loads(l), "step": step, "run": int(run), "load_average": load,
                          "commits": total, "commits_over_51ms": slow}))
' "$step" "$run" "$(cut -d' ' -f1-3 /proc/loadavg)" "$prom" >>"$results"
      kill -TERM "$pid"
      wait "$pid" 2>/dev/null || true
      rm -rf "$data"
    done
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(rs, k):
    vs = [r[k] for r in rs if r.get(k) is not None]
    return statistics.median(vs) if vs else float("nan")
steps = list(dict.fromkeys(r["step"] for r in rows))
if "deliveries_per_s" in rows[0]:
    print("| step | build | delivered (min) | deliveries/s | µs CPU/delivery (each run) | p50 ms | p99 ms (each run) | commits over 51 ms (each run) | others' CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for step in steps:
        for side in ("old", "new"):
            rs = [r for r in rows if r["step"] == step and r["server"] == side]
            if not rs:
                continue
            us = " / ".join("%.2f" % (r["server_us_per_delivery"] or float("nan")) for r in rs)
            p99s = " / ".join("%.1f" % (r["p99_ms"] or float("nan")) for r in rs)
            delivered = min(r["delivered_share"] for r in rs)
            slow = " / ".join("-" if r.get("commits_over_51ms") is None else "%d" % r["commits_over_51ms"] for r in rs)
            print(f"| {step} | {side} | {delivered:.1%} | {med(rs, 'deliveries_per_s'):,.0f} | "
                  f"median {med(rs, 'server_us_per_delivery'):.2f} ({us}) | {med(rs, 'p50_ms'):.1f} | {p99s} | {slow} | "
                  f"{100 * med(rs, 'cpu_others'):.0f} % |")
else:
    print("| build | p50 ms | p99 ms | max ms | server CPU ms per round (each run) | failed |")
    print("|---|---|---|---|---|---|")
    for side in ("old", "new"):
        rs = [r for r in rows if r["server"] == side]
        per = " / ".join("%.1f" % r["server_ms_per_round"] for r in rs)
        print(f"| {side} | {med(rs, 'p50_ms'):.2f} | {med(rs, 'p99_ms'):.2f} | {med(rs, 'max_ms'):.2f} | "
              f"median {med(rs, 'server_ms_per_round'):.1f} ({per}) | {sum(r['errors'] for r in rs)} |")
PY
echo "results: $results"
