#!/usr/bin/env bash
# The hostile scenario (issue 10) side by side: for each server build, the
# workshop load (4 tables × 50 clients, 5 writers per table at 2 edits/s)
# once without and once with the attackers of `werktafel-load --scenario
# hostile`, the server pinned to CPU 0 with its default limits, the generator
# to CPU 1, a fresh data directory per run.
#
#   bench/hostile.sh                              # target/release
#   bench/hostile.sh /path/to/old-bin /path/to/new-bin   # two builds, each dir with werktafel + werktafel-load
#   HOSTILE_RUNS=3 HOSTILE_SECONDS=30 bench/hostile.sh
#
# Prints one line per run (normal clients' p50/p99, delivered share, /healthz
# p50/p99/max, server CPU) and keeps the generator's output in bench/work/.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${HOSTILE_RUNS:-1}
seconds=${HOSTILE_SECONDS:-20}
dirs=("$@")
if ((${#dirs[@]} == 0)); then
  if [[ ! -x target/release/werktafel || ! -x target/release/werktafel-load ]]; then
    WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-server -p werktafel-tests
  fi
  dirs=(target/release)
fi
work="bench/work/hostile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
ulimit -n "$(ulimit -Hn)"

printf '%-28s %-8s %4s  %-24s %-9s %-30s %s\n' build attack run "normal p50 / p99 ms" delivered "/healthz p50 / p99 / max ms" "server cpu"
for dir in "${dirs[@]}"; do
  for run in $(seq "$runs"); do
    for mode in quiet attack; do
      data=$(mktemp -d)
      out="$work/$(basename "$dir")-$mode-$run"
      taskset -c 0 "$dir/werktafel" serve --addr 127.0.0.1:0 --data-dir "$data" >"$out.server.out" 2>"$out.server.log" &
      pid=$!
      for _ in $(seq 300); do
        grep -q 'plenary link:.*key=' "$out.server.out" 2>/dev/null && break
        sleep 0.1
      done
      addr=$(sed -n 's|^listening on http://||p' "$out.server.out" | head -1)
      join=$(sed -n 's|^participant link:.*key=||p' "$out.server.out" | head -1)
      view=$(sed -n 's|^plenary link:.*key=||p' "$out.server.out" | head -1)
      flags=()
      [[ $mode == quiet ]] && flags=(--no-attack)
      taskset -c 1 "$dir/werktafel-load" --scenario hostile --addr "$addr" --key "$join" \
        --view-key "$view" --server-pid "$pid" --duration "$seconds" "${flags[@]}" \
        >"$out.load" 2>"$out.load.err" || echo "# generator exited non-zero: $out.load.err"
      # A server still busy with an attack gets 10 s to stop, then SIGKILL.
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      rm -rf "$data"
      python3 - "$dir" "$mode" "$run" "$out.load" <<'EOF'
import json, sys
build, mode, run, path = sys.argv[1:]
result = hostile = {}
for line in open(path):
    if line.startswith("result "):
        result = json.loads(line[7:])
    elif line.startswith("hostile {"):
        hostile = json.loads(line[8:])
f = lambda v: "-" if v is None else f"{v:.1f}"
print(f"{build[-28:]:<28} {mode:<8} {run:>4}  "
      f"{f(result.get('p50_ms')) + ' / ' + f(result.get('p99_ms')):<24} "
      f"{100 * (result.get('delivered_share') or 0):>7.1f} % "
      f"{f(hostile.get('healthz_p50_ms')) + ' / ' + f(hostile.get('healthz_p99_ms')) + ' / ' + f(hostile.get('healthz_max_ms')):<30} "
      f"{100 * (result.get('cpu_server') or 0):.0f} %")
EOF
    done
  done
done
echo "# output in $work"
