#!/usr/bin/env python3
"""BENCHMARKS.md's "Many matches on many cores", from run-cores.sh's cores.jsonl.

For the server on one core and on two: the median server CPU (in % of one core),
frames delivered a second, and CPU microseconds per delivered frame; the ratio of
the two costs per round (one core's over two's: 1.00 means a second worker costs
nothing extra per frame); then the model: what N cores would carry, from the
one-core cost per match, each core past the first at the two-worker cost (the
median round's and the worst round's).

Usage: nodelink-bench/cores-table.py [nodelink-bench/results/cores.jsonl]
"""
import json
import statistics
import sys
from collections import defaultdict

path = sys.argv[1] if len(sys.argv) > 1 else "nodelink-bench/results/cores.jsonl"
runs = defaultdict(dict)  # round -> server cpus -> run
for line in open(path):
    line = line.strip()
    if line:
        entry = json.loads(line)
        runs[entry["round"]][entry["server_cpus"]] = entry["run"]
rounds = [r for r in runs.values() if {"0", "0,1"} <= r.keys()]


def frames_per_s(run):
    return run["frames_per_s_per_client"] * run["connected"]


def us_per_frame(run):
    return run["server_cpu_percent"] / 100 / frames_per_s(run) * 1e6


print("| server cores | server CPU (% of one core) | frames delivered a second | CPU µs per delivered frame | p50 / p99 (ms) |")
print("|---|---|---|---|---|")
for cpus, label in (("0", "1 (core 0)"), ("0,1", "2 (cores 0 and 1)")):
    chosen = [r[cpus] for r in rounds]
    cpu = statistics.median(r["server_cpu_percent"] for r in chosen)
    frames = statistics.median(frames_per_s(r) for r in chosen)
    cost = statistics.median(us_per_frame(r) for r in chosen)
    p50 = statistics.median(r["latency_ms"]["p50"] for r in chosen)
    p99 = statistics.median(r["latency_ms"]["p99"] for r in chosen)
    print(f"| {label} | {cpu:.1f}% | {frames:,.0f} | {cost:.2f} | {p50:.0f} / {p99:.0f} |")
efficiency = [us_per_frame(r["0"]) / us_per_frame(r["0,1"]) for r in rounds]
e = statistics.median(efficiency)
print()
print(f"cost per frame, one worker over two: {e:.2f} ({min(efficiency):.2f}–{max(efficiency):.2f}) over {len(rounds)} rounds")
one = [r["0"] for r in rounds]
matches = one[0]["connected"] / 10
cpu_per_match = statistics.median(r["server_cpu_percent"] for r in one) / 100 / matches
print(f"one core: {cpu_per_match * 1e6:.0f} µs of CPU a second per match of 10 at this load, "
      f"{1 / cpu_per_match:,.0f} such matches per core")
print()
# The model: every core past the first pays the cost per frame measured with
# two workers (the stealing and cross-thread wake-ups), at the median round
# (capped at 1: a second worker cannot make frames cheaper) and at the worst
# one. No contention that grows with the cores is modelled.
worst = min(efficiency)
print("| cores | matches of 10 carried at this load, median round | worst round |")
print("|---|---|---|")
for cores in (1, 2, 8, 16, 64):
    carried = [(1 if cores == 1 else cores * min(x, 1.0)) / cpu_per_match for x in (e, worst)]
    print(f"| {cores} | {carried[0]:,.0f} ({carried[0] * cpu_per_match:.1f}×) "
          f"| {carried[1]:,.0f} ({carried[1] * cpu_per_match:.1f}×) |")
