#!/usr/bin/env python3
"""bench/cluster.sh's helper.

  cluster_table.py merge WORK TAG NODES SETUP SCENARIO LOADAVG < result-json
      adds the run's commit latencies (werktafel_commit_seconds, every node's
      histogram summed, the difference of the scrapes before and after the
      run) and the setup to one werktafel-load result line
  cluster_table.py table RESULTS.jsonl
      prints the side-by-side markdown table
"""
import json
import math
import os
import re
import sys

BUCKET = re.compile(r'^werktafel_commit_seconds_bucket\{le="([^"]+)"\} (\S+)$')
SUM = re.compile(r"^werktafel_commit_seconds_sum (\S+)$")
COUNT = re.compile(r"^werktafel_commit_seconds_count (\S+)$")


def read_histogram(path):
    """(buckets {upper bound: cumulative count}, sum, count) of one scrape."""
    buckets, total, count = {}, 0.0, 0.0
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    for line in lines:
        if m := BUCKET.match(line):
            buckets[float(m.group(1))] = float(m.group(2))
        elif m := SUM.match(line):
            total = float(m.group(1))
        elif m := COUNT.match(line):
            count = float(m.group(1))
    return buckets, total, count


def quantile(buckets, q):
    """Prometheus' histogram_quantile: linear inside the bucket it falls in."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if math.isinf(bound):
                return lower
            inside = buckets[bound] - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, buckets[bound]
    return lower


def commit_stats(work, tag, nodes):
    buckets, total, count = {}, 0.0, 0.0
    for i in range(1, nodes + 1):
        before = read_histogram(f"{work}/{tag}-n{i}-before.prom")
        after = read_histogram(f"{work}/{tag}-n{i}-after.prom")
        if not after:
            continue
        b0, s0, c0 = before or ({}, 0.0, 0.0)
        b1, s1, c1 = after
        for le, v in b1.items():
            buckets[le] = buckets.get(le, 0.0) + v - b0.get(le, 0.0)
        total += s1 - s0
        count += c1 - c0
    ms = lambda v: None if v is None else v * 1000.0
    return {
        "commits": count,
        "commit_mean_ms": ms(total / count) if count else None,
        "commit_p50_ms": ms(quantile(buckets, 0.5)),
        "commit_p99_ms": ms(quantile(buckets, 0.99)),
    }


def merge(argv):
    work, tag, nodes, setup, scenario, loadavg = argv
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        r.update(commit_stats(work, tag, int(nodes)))
        r.update({"setup": setup, "bench": scenario, "load_average": loadavg})
        r.pop("samples", None)
        print(json.dumps(r))


STEPPED = ("capacity-20", "saturation")
# A step is sustained with ≥ 99 % delivered, no errors and p99 at most this
# (bench/cluster.sh's STEP_P99_MS).
P99_MS = float(os.environ.get("STEP_P99_MS", "100"))
SETUPS = {"sqlite": "1 node, SQLite", "pg1": "1 node, PostgreSQL", "pg3": "3 nodes, PostgreSQL"}


def fmt(v, spec, unit=""):
    return "–" if v is None else format(v, spec) + unit


def row(r, label):
    node = r.get("server_us_per_delivery")
    store = r.get("store_us_per_delivery")
    total = None if node is None else node + (store or 0.0)
    return (
        f"| {label} | {SETUPS.get(r['setup'], r['setup'])} | {r['held']:,}/{r['connections']:,} | "
        f"{fmt(r['deliveries_per_s'], ',.0f')} | {r['delivered_share']:.1%} | "
        f"{fmt(r['p50_ms'], '.1f', ' ms')} | {fmt(r['p99_ms'], '.1f', ' ms')} | "
        f"{fmt(r['commit_p50_ms'], '.2f')} / {fmt(r['commit_p99_ms'], '.2f')} / {fmt(r['commit_mean_ms'], '.2f')} ms | "
        f"{fmt(r.get('commits'), ',.0f')} | {fmt(node, '.2f')} | {fmt(store, '.2f')} | {fmt(total, '.2f')} | "
        f"{fmt(r.get('cpu_others'), '.0%')} | {r['errors']} |"
    )


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print(
        "| scenario | setup | clients held | deliveries/s | delivered | p50 | p99 | "
        "commit p50 / p99 / mean | commits | node CPU µs/delivery | PostgreSQL CPU µs/delivery | "
        "total µs/delivery | others' CPU | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for bench in dict.fromkeys(r["bench"] for r in rows):
        for setup in dict.fromkeys(r["setup"] for r in rows):
            rs = [r for r in rows if r["bench"] == bench and r["setup"] == setup]
            if not rs:
                continue
            if bench not in STEPPED:
                for r in rs:
                    print(row(r, f"{bench} ({r['tables']}×{r['clients']})"))
                continue
            ok = [
                r for r in rs
                if r["delivered_share"] >= 0.99 and (r["p99_ms"] or 1e9) <= P99_MS and r["errors"] == 0
            ]
            if ok:
                best = max(ok, key=lambda r: r["rate"])
                print(row(best, f"{bench}, sustained: {best['rate']:,.0f} edits/s per writer"))
            failed = [r for r in rs if r not in ok]
            for r in failed:
                print(row(r, f"{bench}, failed: {r['rate']:,.0f} edits/s per writer"))
    for bench in STEPPED:
        for setup in dict.fromkeys(r["setup"] for r in rows):
            steps = [r for r in rows if r["bench"] == bench and r["setup"] == setup]
            if not steps:
                continue
            print()
            print(
                f"- {bench}, {SETUPS.get(setup, setup)} (edits/s per writer → delivered, "
                "deliveries/s, p99, commit p99): "
                + "; ".join(
                    f"{r['rate']:,.0f} → {r['delivered_share']:.1%}, {r['deliveries_per_s']:,.0f}/s, "
                    f"{fmt(r['p99_ms'], '.1f', ' ms')}, {fmt(r['commit_p99_ms'], '.2f', ' ms')}"
                    for r in steps
                )
            )
    loads = sorted({r["load_average"] for r in rows})
    print()
    print(f"Load average at the starts: {loads[0]} … {loads[-1]}." if loads else "")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "merge" and len(sys.argv) == 8:
        merge(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
