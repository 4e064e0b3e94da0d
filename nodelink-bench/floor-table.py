#!/usr/bin/env python3
"""BENCHMARKS.md's tables of the floor, from run-floor.sh's floor.jsonl.

For each scenario and number of players: each server's median CPU over the rounds
and its CPU per delivered byte (server CPU seconds per GiB the clients received
on their sockets); then, for each round, nodelink's and the limit server's CPU as
ratios of the floor's and nodelink's of the limit's, with their medians and spread.
When the runs include the floor with writer tasks (TARGETS="... floor-tasks ..."),
a second table puts it between the floor and the other two: what a task and a
queue per connection cost on the floor, and what is left of nodelink's and the
limit server's cost above that.

Usage: nodelink-bench/floor-table.py [nodelink-bench/results/floor.jsonl]
"""
import json
import statistics
import sys
from collections import defaultdict

path = sys.argv[1] if len(sys.argv) > 1 else "nodelink-bench/results/floor.jsonl"
runs = defaultdict(dict)  # (scenario, players) -> round -> target -> run
for line in open(path):
    line = line.strip()
    if not line:
        continue
    entry = json.loads(line)
    run = entry["run"]
    runs[(run["scenario"], run["players"])].setdefault(entry["round"], {})[run["target"]] = run


def cpu_per_gib(run):
    """Server CPU seconds per GiB delivered to the clients' sockets."""
    delivered = run["socket_bytes_per_s_per_client"] * run["connected"]
    return run["server_cpu_percent"] / 100 / (delivered / 2**30)


def spread(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


print("| scenario | players | floor CPU | limit CPU | nodelink CPU | CPU s per GiB: floor / limit / nodelink | nodelink ÷ limit | nodelink ÷ floor | limit ÷ floor |")
print("|---|---|---|---|---|---|---|---|---|")
for (scenario, players), rounds in sorted(runs.items()):
    # A run of the limit server and nodelink alone (TARGETS="limit nodelink")
    # has no floor: its columns say so.
    complete = [r for r in rounds.values() if {"limit", "nodelink"} <= r.keys()]
    if not complete:
        continue
    targets = [t for t in ("floor", "limit", "nodelink") if all(t in r for r in complete)]
    cpu = {t: statistics.median(r[t]["server_cpu_percent"] for r in complete) for t in targets}
    per_gib = {t: statistics.median(cpu_per_gib(r[t]) for r in complete) for t in targets}
    ratio = lambda a, b: [r[a]["server_cpu_percent"] / r[b]["server_cpu_percent"] for r in complete]
    show = lambda table, t, form: form.format(table[t]) if t in table else "–"
    has_floor = "floor" in targets
    print(
        f"| {scenario} | {players:,} | {show(cpu, 'floor', '{:.1f}%')} | {cpu['limit']:.1f}% | {cpu['nodelink']:.1f}% "
        f"| {show(per_gib, 'floor', '{:.2f}')} / {per_gib['limit']:.2f} / {per_gib['nodelink']:.2f} "
        f"| {spread(ratio('nodelink', 'limit'))} "
        f"| {spread(ratio('nodelink', 'floor')) if has_floor else '–'} "
        f"| {spread(ratio('limit', 'floor')) if has_floor else '–'} |"
    )
print()
print(f"{len(set(k for r in runs.values() for k in r))} rounds; every figure a median over them, ratios per round with their spread.")

with_tasks = {
    key: [r for r in rounds.values() if {"floor", "floor-tasks", "limit", "nodelink"} <= r.keys()]
    for key, rounds in sorted(runs.items())
}
if any(with_tasks.values()):
    print()
    print("| scenario | players | floor-tasks CPU | floor-tasks ÷ floor | limit ÷ floor-tasks | nodelink ÷ floor-tasks |")
    print("|---|---|---|---|---|---|")
    for (scenario, players), complete in with_tasks.items():
        if not complete:
            continue
        ratio = lambda a, b: [r[a]["server_cpu_percent"] / r[b]["server_cpu_percent"] for r in complete]
        cpu = statistics.median(r["floor-tasks"]["server_cpu_percent"] for r in complete)
        print(
            f"| {scenario} | {players:,} | {cpu:.1f}% | {spread(ratio('floor-tasks', 'floor'))} "
            f"| {spread(ratio('limit', 'floor-tasks'))} | {spread(ratio('nodelink', 'floor-tasks'))} |"
        )

# Rooms grow by whole rooms of 50, so a server's CPU grows with the players at a
# given rate: 10,000 players cost twice 5,000 (each round's 5,000 run scaled to
# the full 20 frames a second each client should get, where the generator fell
# short).
rooms = runs.get(("rooms", 5000), {})
complete = [r for r in rooms.values() if {"floor", "limit", "nodelink"} <= r.keys()]
if complete:
    def at_10000(run):
        return run["server_cpu_percent"] * 2 * 20 / run["frames_per_s_per_client"]
    cores = {t: statistics.median(at_10000(r[t]) for r in complete) / 100 for t in ("floor", "limit", "nodelink")}
    ratios = [at_10000(r["nodelink"]) / at_10000(r["floor"]) for r in complete]
    print()
    print(
        f"rooms of 50 at 10,000 players, extrapolated from 5,000 at 20 frames/s each: "
        f"floor {cores['floor']:.2f}, limit {cores['limit']:.2f}, nodelink {cores['nodelink']:.2f} cores; "
        f"nodelink ÷ floor {spread(ratios)}"
    )
