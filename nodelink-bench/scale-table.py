#!/usr/bin/env python3
"""The tables of BENCHMARKS.md's "Scale-out" section, from run-scale.sh's results.

Medians over the rounds with their range (min-max); ratios against the baseline
of the same round (one process reached directly, or a broadcast in one process).

Usage: python3 nodelink-bench/scale-table.py [RESULTS_DIR]  (default nodelink-bench/results)
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

# A process renews its lease, codes and matches every lease/3: 2 s by default.
BEAT_SECONDS = 2.0


def lines(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def spread(values, digits=1):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def ratio(pairs):
    ratios = [value / base for base, value in pairs if base and value is not None]
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def finds(results):
    print("### find: a storm through the gateway against straight to the process\n")
    print("| run | clients | path | found | asked again (503) | listen overflows | p50 / p99 / max (ms) "
          "| gateway µs per find | process µs per find | Redis commands per find | others % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for index, run in enumerate(results, 1):
        for path in ("gateway", "direct"):
            storm = run["storm"][path]
            latency = storm["latency_ms"]
            gateway_us = storm["gateway_cpu_us_per_find"] if path == "gateway" else None
            print(f"| {index} | {run['players']} | {path} | {storm['found']} | {storm['retried']} "
                  f"| {storm['listen_overflows']} "
                  f"| {latency['p50']:.1f} / {latency['p99']:.1f} / {latency['max']:.1f} "
                  f"| {'-' if gateway_us is None else f'{gateway_us:.0f}'} "
                  f"| {storm['process_cpu_us_per_find']:.0f} "
                  f"| {storm['redis_commands_per_find']:.2f} | {run['others_cpu_percent']:.0f} |")
    print()
    print("| trickle (finds at 50/s, alternating) | gateway p50 / p99 (ms) | direct p50 / p99 (ms) | p50 gateway / direct |")
    print("|---|---|---|---|")
    for index, run in enumerate(results, 1):
        trickle = run["trickle"]
        through, direct = trickle["gateway"], trickle["direct"]
        print(f"| run {index} | {through['p50']:.2f} / {through['p99']:.2f} "
              f"| {direct['p50']:.2f} / {direct['p99']:.2f} | {through['p50'] / direct['p50']:.2f}x |")
    print()


def shape_name(run):
    processes = run["gateway"]
    path = "direct" if run["direct"] else "through the gateway"
    return f"{processes} process{'es' if processes > 1 else ''}, {path}"


def matches(results):
    print("### matches: one process and three, directly and through the gateway\n")
    order = []
    by_shape = defaultdict(list)
    for run in results:
        name = shape_name(run)
        if name not in order:
            order.append(name)
        by_shape[name].append(run)
    # Rounds: each shape's i-th run belongs to round i.
    base = by_shape.get("1 process, direct", [])
    print("| shape | processes' CPU (% of a core) | vs 1 process direct | gateway CPU | Redis CPU "
          "| frames/s per client | p50 / p99 (ms) | gateway µs per relayed frame "
          "| processes µs per frame delivered | others % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in order:
        runs = by_shape[name]
        relayed = [r["received_frames_per_s"] + r["sent_moves_per_s"] for r in runs]
        gateway_us = [
            r["gateway_cpu_percent"] * 1e4 / frames if not r["direct"] else None
            for r, frames in zip(runs, relayed)
        ]
        process_us = [r["processes_cpu_percent"] * 1e4 / r["received_frames_per_s"] for r in runs]
        pairs = list(zip([b["processes_cpu_percent"] for b in base],
                         [r["processes_cpu_percent"] for r in runs]))
        print(f"| {name} | {spread([r['processes_cpu_percent'] for r in runs])} "
              f"| {ratio(pairs)} "
              f"| {spread([r['gateway_cpu_percent'] for r in runs])} "
              f"| {spread([r['redis_cpu_percent'] for r in runs])} "
              f"| {spread([r['frames_per_s_per_client'] for r in runs], 2)} "
              f"| {spread([r['latency_ms']['p50'] for r in runs])} / "
              f"{spread([r['latency_ms']['p99'] for r in runs])} "
              f"| {spread(gateway_us, 2)} | {spread(process_us, 2)} "
              f"| {spread([r['others_cpu_percent'] for r in runs], 0)} |")
    print()
    for name in order:
        runs = by_shape[name]
        players = runs[0]["players"]
        print(f"- {name}: {players} players, "
              f"{spread([r['received_frames_per_s'] for r in runs], 0)} frames delivered/s, "
              f"{spread([r['sent_moves_per_s'] for r in runs], 0)} moves sent/s, "
              f"gateway {spread([r['gateway_cpu_percent'] * 1000 / players for r in runs], 2)}% "
              f"of a core per 1,000 players, processes "
              f"{spread([r['processes_cpu_percent'] * 1000 / players for r in runs], 2)}%, "
              f"each process {[r['process_cpu_percent'] for r in runs]}")
    print()


def directory(results):
    print("### the directory: Redis commands\n")
    print("| live matches | players | Redis commands/s | per heartbeat (every 2 s) | Redis CPU % | commands in the window |")
    print("|---|---|---|---|---|---|")
    for run in results:
        if run["scenario"] != "matches":
            continue
        per_beat = run["redis_commands_per_s"] * BEAT_SECONDS
        print(f"| {run['groups']} | {run['players']} | {run['redis_commands_per_s']:.1f} "
              f"| {per_beat:.0f} | {run['redis_cpu_percent']:.2f} | {run['redis_commands']} |")
    print()
    for run in results:
        if run["scenario"] != "lifecycle":
            continue
        print(f"- lifecycle through the gateway ({run['loops']} loops x {run['rounds']} rounds): "
              f"per visit {run['redis_commands_per_visit']} "
              f"(total {sum(run['redis_commands_per_visit'].values()):.2f}), "
              f"per create-then-end {run['redis_commands_per_create_end']} "
              f"(total {sum(run['redis_commands_per_create_end'].values()):.2f}); "
              f"process CPU {run['visit_us']:.0f} µs per visit, {run['create_end_us']:.0f} "
              f"per create-then-end (match {run['match_cost_us']:.0f}); gateway "
              f"{run['gateway_visit_us']:.0f} and {run['gateway_create_end_us']:.0f} µs; "
              f"latency visit {run['visit_latency_ms']}, create-end "
              f"{run['create_end_latency_ms']}; others {run['others_cpu_percent']:.0f}%")
    print()


def fanout(results):
    print("### fanout: a broadcast to every match\n")
    order = []
    by_shape = defaultdict(list)
    for run in results:
        name = (f"{run['fanout']} broadcast, {run['gateway']} "
                f"process{'es' if run['gateway'] > 1 else ''}"
                f"{', direct' if run['direct'] else ''}")
        if name not in order:
            order.append(name)
        by_shape[name].append(run)
    print("| broadcast | lines/s heard per client | p50 / p99 (ms) | p50 vs one process, same path "
          "| processes' CPU | gateway CPU | Redis CPU | others % |")
    print("|---|---|---|---|---|---|---|---|")
    for name in order:
        runs = by_shape[name]
        base = by_shape.get(
            "process broadcast, 1 process" + (", direct" if runs[0]["direct"] else ""), [])
        pairs = list(zip([b["latency_ms"]["p50"] for b in base],
                         [r["latency_ms"]["p50"] for r in runs]))
        print(f"| {name} | {spread([r['chats_per_s_per_client'] for r in runs], 2)} "
              f"| {spread([r['latency_ms']['p50'] for r in runs], 2)} / "
              f"{spread([r['latency_ms']['p99'] for r in runs], 2)} | {ratio(pairs)} "
              f"| {spread([r['processes_cpu_percent'] for r in runs])} "
              f"| {spread([r['gateway_cpu_percent'] for r in runs])} "
              f"| {spread([r['redis_cpu_percent'] for r in runs], 2)} "
              f"| {spread([r['others_cpu_percent'] for r in runs], 0)} |")
    print()


def main():
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "nodelink-bench/results")
    finds(lines(results / "scale-find.jsonl"))
    matches(lines(results / "scale-matches.jsonl"))
    directory(lines(results / "scale-directory.jsonl"))
    fanout(lines(results / "scale-fanout.jsonl"))


if __name__ == "__main__":
    main()
