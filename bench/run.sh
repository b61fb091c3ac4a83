#!/usr/bin/env bash
# Side-by-side benchmark: Werktafel, @y/websocket-server and @hocuspocus/server
# under the same werktafel-load scenarios, each server pinned to CPU 0 and the
# generator to CPU 1, a fresh server (and data directory) per scenario.
#
#   bench/run.sh                          # every scenario, every server
#   bench/run.sh saturation join-storm    # some scenarios
#   BENCH_SERVERS="werktafel hocuspocus" BENCH_RUNS=3 BENCH_WAIT_QUIET=1 bench/run.sh idle
#   SOAK_SECONDS=600 bench/run.sh soak    # not in the default list: 10 minutes per server
#
# Environment:
#   BENCH_SERVERS     servers to run, in order (default: all three)
#   BENCH_RUNS        runs of each scenario per server (default 1; the table shows medians)
#   BENCH_WAIT_QUIET  1: before each scenario wait (up to BENCH_QUIET_MAX s, 1200) for the 1-minute
#                     load average to fall below BENCH_QUIET_LOAD (0.5)
#   SAT_RATES         saturation: edits/s per writer, stepped (10 writers in one room)
#   NOTE_RATES        note-insert: notes/s per writer, stepped (10 writers in one room)
#   SOAK_SECONDS      soak: length of the measured window (default 600)
#   BENCH_LOAD_ARGS   extra werktafel-load arguments for every run (e.g. --duration 5)
#
# Writes bench/work/RUN/{results.jsonl,table.md,*.log} and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

servers=(${BENCH_SERVERS:-werktafel y-websocket-server hocuspocus})
runs=${BENCH_RUNS:-1}
sat_rates=(${SAT_RATES:-100 200 400 800 1600 3200 4800 6400 8000 9600})
note_rates=(${NOTE_RATES:-100 200 400 800 1200 1600 2400 3200 4800 6400})
# note-insert: a step at 6,400 notes/s per writer adds ~270 MB to the table in
# 13 s; Werktafel's 64 MiB default would end the step, the reference servers have no such limit.
note_max_document_bytes=$((4 * 1024 * 1024 * 1024))
extra=(${BENCH_LOAD_ARGS:-})
if (($# > 0)); then
  scenarios=("$@")
else
  scenarios=(saturation note-insert fresh-sync join-storm idle presence workshop-presence many-rooms big-rooms)
fi

work="bench/work/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
results="$root/$work/results.jsonl"

# The reference servers, at the versions pinned in bench/package-lock.json.
if [[ ! -d bench/node_modules/@hocuspocus/server || bench/package-lock.json -nt bench/node_modules ]]; then
  (cd bench && npm ci --no-audit --no-fund)
fi
if [[ ! -x target/release/werktafel || ! -x target/release/werktafel-load ]]; then
  WERKTAFEL_SKIP_WEB_BUILD=1 cargo build --release -p werktafel-server -p werktafel-tests
fi
# 10,000 connections: every one is a file descriptor in the server and the generator.
ulimit -n "$(ulimit -Hn)"

wait_quiet() {
  [[ ${BENCH_WAIT_QUIET:-0} == 1 ]] || return 0
  local limit=${BENCH_QUIET_LOAD:-0.5} waited=0
  while :; do
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$limit" 'BEGIN { exit !(l < m) }'; then
      echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) (quiet)"
      return 0
    fi
    if ((waited >= ${BENCH_QUIET_MAX:-1200})); then
      echo "# load average still $load after ${waited} s; running anyway"
      return 0
    fi
    echo "# load average $load, waiting for < $limit ..."
    sleep 30
    waited=$((waited + 30))
  done
}

# start_server NAME LOG SCENARIO: starts NAME pinned to CPU 0; sets pid, addr, key, protocol.
start_server() {
  local name=$1 log=$2 scenario=$3
  local out="$log.stdout"
  : >"$out"
  case $name in
    werktafel)
      local event=()
      data=$(mktemp -d)
      # Werktafel opens only the tables of its event; the reference servers open any room.
      [[ $scenario == many-rooms ]] && event=(--event bench/events/twenty-tables.toml)
      [[ $scenario == note-insert ]] && event+=(--max-document-bytes "$note_max_document_bytes")
      taskset -c 0 target/release/werktafel serve --addr 127.0.0.1:0 --data-dir "$data" "${event[@]}" \
        --messages-per-second 1000000 --bytes-per-second 1000000000 \
        --max-connections 100000 --max-connections-per-address 100000 \
        --connects-per-minute 1000000 >"$out" 2>"$log" &
      protocol=yws
      ;;
    y-websocket-server)
      taskset -c 0 node bench/servers/y-websocket-server.mjs >"$out" 2>"$log" &
      protocol=yws
      ;;
    hocuspocus)
      taskset -c 0 node bench/servers/hocuspocus.mjs >"$out" 2>"$log" &
      protocol=hocuspocus
      ;;
    *) echo "unknown server $name" >&2; exit 2 ;;
  esac
  pid=$!
  for _ in $(seq 300); do
    grep -q 'listening on http://' "$out" && break
    sleep 0.1
  done
  addr=$(sed -n 's|^listening on http://||p' "$out" | head -1)
  [[ -n $addr ]] || { echo "$name did not start; see $log" >&2; exit 1; }
  key=bench
  if [[ $name == werktafel ]]; then
    for _ in $(seq 50); do
      grep -q 'participant link:.*key=' "$out" && break
      sleep 0.1
    done
    key=$(sed -n 's|^participant link:.*key=||p' "$out" | head -1)
  fi
}

stop_server() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Werktafel's data directory: a saturation step leaves up to ~100 MB.
  [[ -n ${data:-} ]] && rm -rf "$data"
  data=
}

# load NAME ARGS...: one generator run pinned to CPU 1; appends its result line.
load() {
  local name=$1
  shift
  local cmd=(taskset -c 1 target/release/werktafel-load --addr "$addr" --key="$key"
    --server-pid "$pid" --protocol "$protocol" --label "$name" "$@" "${extra[@]}")
  echo "# ${cmd[*]}"
  local out
  out=$("${cmd[@]}" 2>>"$work/load.log") || echo "# (the generator exited non-zero)"
  echo "$out" | grep -v '^result ' | sed 's/^/  /'
  echo "$out" | sed -n 's/^result //p' |
    python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "run": int(sys.argv[1]), "load_average": sys.argv[2]})) for l in sys.stdin]' \
      "$run" "$pre_load" >>"$results"
  last=$(echo "$out" | sed -n 's/^result //p' | tail -1)
}

# Saturation (and note-insert, the same with a whole note per edit): step the
# offered rate until delivery falls under 99 % or p99 over 100 ms.
# Every step gets a fresh server (and Werktafel a fresh data directory): a step
# measures its rate, not the documents the earlier steps left behind (at
# 3,200 edits/s per writer those come to ~40 MB, and Werktafel's 64 MiB
# table limit would end a later step).
saturation() {
  local name=$1 scenario=$2 first=1
  local rates=("${sat_rates[@]}")
  [[ $scenario == note-insert ]] && rates=("${note_rates[@]}")
  for rate in "${rates[@]}"; do
    if ((first == 0)); then
      stop_server
      start_server "$name" "${log%.log}-$rate.log" "$scenario"
      echo "## $scenario, $name (run $run), step $rate, pid $pid on $addr"
    fi
    first=0
    load "$name" --scenario "$scenario" --rate "$rate"
    [[ -n $last ]] || break
    if echo "$last" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r["delivered_share"] >= 0.99 and (r["p99_ms"] or 1e9) <= 100 and r["errors"] == 0 else 1)'; then
      :
    else
      echo "# $name saturated at $rate edits/s per writer"
      break
    fi
  done
}

# The quiet wait is once per scenario: our own previous run keeps the 1-minute
# average up for a minute or two. Every result records the load average at its
# start and the CPU other processes used during its window (cpu_others).
for scenario in "${scenarios[@]}"; do
  wait_quiet
  for run in $(seq "$runs"); do
    for name in "${servers[@]}"; do
      pre_load=$(cut -d" " -f1-3 /proc/loadavg)
      log="$root/$work/$scenario-$name-$run.log"
      start_server "$name" "$log" "$scenario"
      echo "## $scenario, $name (run $run), pid $pid on $addr"
      case $scenario in
        saturation | note-insert) saturation "$name" "$scenario" ;;
        soak) load "$name" --scenario soak --duration "${SOAK_SECONDS:-600}" ;;
        *) load "$name" --scenario "$scenario" ;;
      esac
      echo "# $name peak RSS $(grep VmHWM /proc/$pid/status | tr -s ' ' | cut -d' ' -f2-)"
      stop_server
    done
  done
done

python3 bench/table.py "$results" | tee "$work/table.md"
echo "# results: $work"
