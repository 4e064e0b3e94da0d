#!/usr/bin/env python3
"""BENCHMARKS.md's "Many matches on many cores", capacity part, from
run-capacity.sh's capacity.jsonl.

For the server on one core and on two: the median match ticks run a second (the
server's own count, each report's median within a run, then the median over
rounds), the work they did (ticks times the rounds of computation a tick does,
which the server times once at its start, so it differs a little between runs),
the server's CPU and the generator's; then, per round, two cores' work over one
core's, and their median and range.

Usage: nodelink-bench/capacity-table.py [nodelink-bench/results/capacity.jsonl]
"""
import json
import statistics
import sys
from collections import defaultdict

path = sys.argv[1] if len(sys.argv) > 1 else "nodelink-bench/results/capacity.jsonl"
runs = defaultdict(dict)  # round -> server cpus -> entry
for line in open(path):
    line = line.strip()
    if line:
        entry = json.loads(line)
        runs[entry["round"]][entry["server_cpus"]] = entry
rounds = [r for r in runs.values() if {"0", "0,1"} <= r.keys()]
if not rounds:
    sys.exit(f"{path}: no round with both settings")


def ticks(entry):
    return statistics.median(entry["ticks_per_s"])


def work(entry):
    """Millions of rounds of computation a second."""
    return ticks(entry) * entry["rounds_a_tick"] / 1e6


micros = rounds[0]["0"]["tick_work_us"]
print(f"{rounds[0]['0']['matches']} matches of 2, about {micros} µs of CPU a tick each "
      f"(at most about {1e6 / micros:.0f} ticks a second a core)")
print()
print("| server cores | match ticks a second | work (millions of rounds a second) | server CPU (% of one core) | generator CPU (% of core 1) |")
print("|---|---|---|---|---|")
for cpus, label in (("0", "1 (core 0)"), ("0,1", "2 (cores 0 and 1)")):
    chosen = [r[cpus] for r in rounds]
    print(f"| {label} | {statistics.median(ticks(e) for e in chosen):,.0f} "
          f"| {statistics.median(work(e) for e in chosen):,.0f} "
          f"| {statistics.median(e['run']['server_cpu_percent'] for e in chosen):.0f}% "
          f"| {statistics.median(e['run']['loadgen_cpu_percent'] for e in chosen):.1f}% |")
ratios = [work(r["0,1"]) / work(r["0"]) for r in rounds]
print()
print(f"two cores carry {statistics.median(ratios):.2f}× what one core carries "
      f"({min(ratios):.2f}–{max(ratios):.2f}) over {len(rounds)} rounds")
