#!/usr/bin/env python3
"""Turns bench/run.sh's results.jsonl into Markdown tables: one per scenario,
one row per server, each number the median over the runs (each column's
median on its own), with the load averages the runs started at. Scenarios
without a table of their own (workshop-presence, many-rooms, big-rooms, idle,
presence) share the general one; soak lists the server's memory and open
files over its window."""

import json
import statistics
import sys
from collections import defaultdict

SAT_P99_MS = 100.0
SAT_SHARE = 0.99


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and abs(v) >= 1000:
        return f"{v:,.0f}{unit}"
    return f"{v:,.{digits}f}{unit}"


def mib(kib):
    return None if kib is None else kib / 1024


def sustained(steps):
    """The last step (in offered-rate order) that kept ≥ 99 % delivery and p99 ≤ 100 ms."""
    best = None
    for r in sorted(steps, key=lambda r: r["rate"]):
        ok = r["delivered_share"] >= SAT_SHARE and (r["p99_ms"] or 1e9) <= SAT_P99_MS and r["errors"] == 0
        if not ok:
            break
        best = r
    return best


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = defaultdict(lambda: defaultdict(list))
    order = []
    for r in rows:
        if r["scenario"] not in order:
            order.append(r["scenario"])
        by[r["scenario"]][r["server"]].append(r)
    out = []
    for scenario in order:
        servers = by[scenario]
        loads = sorted({r["load_average"] for rs in servers.values() for r in rs})
        out.append(f"### {scenario}\n")
        out.append(f"Load average (1/5/15 min) at the start of each run: {'; '.join(loads)}\n")
        if scenario in ("saturation", "note-insert"):
            out.append("| server | sustained deliveries/s | edits/s | p50 | p99 | max | server CPU µs/delivery | generator CPU | other processes' CPU | peak RSS |")
            out.append("|---|---|---|---|---|---|---|---|---|---|")
            for server, rs in servers.items():
                per_run = defaultdict(list)
                for r in rs:
                    per_run[r["run"]].append(r)
                best = [b for b in (sustained(s) for s in per_run.values()) if b]
                if not best:
                    out.append(f"| {server} | none sustained | | | | | | | | |")
                    continue
                out.append(
                    f"| {server} | {fmt(med([b['deliveries_per_s'] for b in best]), 0)} "
                    f"| {fmt(med([b['edits_per_s'] for b in best]), 0)} "
                    f"| {fmt(med([b['p50_ms'] for b in best]), 1, ' ms')} "
                    f"| {fmt(med([b['p99_ms'] for b in best]), 1, ' ms')} "
                    f"| {fmt(med([b['max_ms'] for b in best]), 1, ' ms')} "
                    f"| {fmt(med([b['server_us_per_delivery'] for b in best]), 2)} "
                    f"| {fmt(med([100 * (b['cpu_generator'] or 0) for b in best]), 0, ' %')} "
                    f"| {fmt(med([100 * (b.get('cpu_others') or 0) for b in best]), 0, ' %')} "
                    f"| {fmt(mib(med([b['rss_peak_kib'] for b in rs])), 0, ' MiB')} |"
                )
            out.append("\nEvery step (offered edits/s per writer → delivered share, deliveries/s, p99, server CPU):\n")
            out.append("| server | " + " | ".join(str(int(r)) for r in sorted({r["rate"] for rs in servers.values() for r in rs})) + " |")
            rates = sorted({r["rate"] for rs in servers.values() for r in rs})
            out.append("|---|" + "---|" * len(rates))
            for server, rs in servers.items():
                cells = []
                for rate in rates:
                    at = [r for r in rs if r["rate"] == rate]
                    if not at:
                        cells.append("")
                        continue
                    cells.append(
                        f"{fmt(100 * med([r['delivered_share'] for r in at]), 1)} % · "
                        f"{fmt(med([r['deliveries_per_s'] for r in at]), 0)}/s · "
                        f"p99 {fmt(med([r['p99_ms'] for r in at]), 1)} ms · "
                        f"{fmt(100 * (med([r['cpu_server'] for r in at]) or 0), 0)} %"
                    )
                out.append(f"| {server} | " + " | ".join(cells) + " |")
        elif scenario == "soak":
            out.append("| server | held | window | edits/s | deliveries/s | p50 | p99 | max | server CPU | RSS first | RSS last | RSS max | RSS drift | open files first → last | errors |")
            out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for server, rs in servers.items():
                window = med([r["samples"][-1]["at_s"] for r in rs if r.get("samples")])
                fds = "; ".join(f"{r.get('fds_first', '-')} → {r.get('fds_last', '-')}" for r in rs)
                out.append(
                    f"| {server} | {int(med([r['held'] for r in rs]))}/{rs[0]['connections']} "
                    f"| {fmt(window, 0, ' s')} "
                    f"| {fmt(med([r['edits_per_s'] for r in rs]), 1)} "
                    f"| {fmt(med([r['deliveries_per_s'] for r in rs]), 0)} "
                    f"| {fmt(med([r['p50_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(med([r['p99_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(med([r['max_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(100 * (med([r['cpu_server'] for r in rs]) or 0), 0, ' %')} "
                    f"| {fmt(mib(med([r.get('rss_first_kib') for r in rs])), 0, ' MiB')} "
                    f"| {fmt(mib(med([r.get('rss_last_kib') for r in rs])), 0, ' MiB')} "
                    f"| {fmt(mib(med([r.get('rss_max_kib') for r in rs])), 0, ' MiB')} "
                    f"| {fmt(med([r.get('rss_drift_pct') for r in rs]), 1, ' %')} "
                    f"| {fds} "
                    f"| {sum(r['errors'] for r in rs)} |"
                )
        elif scenario in ("join-storm", "fresh-sync"):
            out.append("| server | clients × rounds | full state | p50 | p99 | max | server CPU per round | failed | peak RSS |")
            out.append("|---|---|---|---|---|---|---|---|---|")
            for server, rs in servers.items():
                r0 = rs[0]
                out.append(
                    f"| {server} | {r0['clients']} × {r0['rounds']} | {r0['notes']:,} notes, {r0['state_bytes'] / 1e6:.2f} MB "
                    f"| {fmt(med([r['p50_ms'] for r in rs]), 2, ' ms')} "
                    f"| {fmt(med([r['p99_ms'] for r in rs]), 2, ' ms')} "
                    f"| {fmt(med([r['max_ms'] for r in rs]), 2, ' ms')} "
                    f"| {fmt(med([r['server_ms_per_round'] for r in rs]), 1, ' ms')} "
                    f"| {sum(r['errors'] for r in rs)} "
                    f"| {fmt(mib(med([r['rss_peak_kib'] for r in rs])), 0, ' MiB')} |"
                )
        else:
            out.append("| server | held | connect | edits/s | deliveries/s | frames/s | p50 | p99 | max | server CPU | µs/delivery | generator CPU | others' CPU | RSS connected | per connection | peak RSS | errors |")
            out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for server, rs in servers.items():
                per_conn = med([
                    (r["rss_connected_kib"] - r["rss_before_kib"]) / r["connections"]
                    for r in rs if r.get("rss_connected_kib") is not None and r["connections"]
                ])
                out.append(
                    f"| {server} | {int(med([r['held'] for r in rs]))}/{rs[0]['connections']} "
                    f"| {fmt(med([r['connect_s'] for r in rs]), 2, ' s')} "
                    f"| {fmt(med([r['edits_per_s'] for r in rs]), 1)} "
                    f"| {fmt(med([r['deliveries_per_s'] for r in rs]), 0)} "
                    f"| {fmt(med([r['frames_per_s'] for r in rs]), 0)} "
                    f"| {fmt(med([r['p50_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(med([r['p99_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(med([r['max_ms'] for r in rs]), 1, ' ms')} "
                    f"| {fmt(100 * (med([r['cpu_server'] for r in rs]) or 0), 0, ' %')} "
                    f"| {fmt(med([r['server_us_per_delivery'] for r in rs]), 2)} "
                    f"| {fmt(100 * (med([r['cpu_generator'] for r in rs]) or 0), 0, ' %')} "
                    f"| {fmt(100 * (med([r.get('cpu_others') for r in rs]) or 0), 0, ' %')} "
                    f"| {fmt(mib(med([r['rss_connected_kib'] for r in rs])), 0, ' MiB')} "
                    f"| {fmt(per_conn, 1, ' KiB')} "
                    f"| {fmt(mib(med([r['rss_peak_kib'] for r in rs])), 0, ' MiB')} "
                    f"| {int(med([r['errors'] for r in rs]))} |"
                )
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
