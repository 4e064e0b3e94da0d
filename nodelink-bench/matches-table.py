#!/usr/bin/env python3
"""The tables of BENCHMARKS.md's "Matches" section, from run-matches.sh's results.

Medians over the rounds with their range (min-max), and the ratio of matches to
rooms taken round by round (each round ran both shapes one after the other).

Usage: python3 nodelink-bench/matches-table.py [RESULTS_DIR]  (default nodelink-bench/results)
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


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
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def ratio(pairs):
    ratios = [m / r for r, m in pairs if r and m is not None]
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def shapes(results):
    """Rooms against matches at each size, paired by round."""
    runs = defaultdict(lambda: {"rooms": [], "matches": []})
    for run in results:
        runs[(run["players"], run["rate"])][run["scenario"]].append(run)
    print("| players | moves/s each | shape | server CPU (%) | matches / rooms | "
          "frames/s per client | p50 (ms) | p99 (ms) | p99 matches / rooms | "
          "RSS after ramp (MiB) | RSS per room or match (KiB) | generator CPU (%) | "
          "others' CPU (%) |")
    print("|" + "---|" * 13)
    for (players, rate), by in sorted(runs.items(), key=lambda item: (item[0][0], -item[0][1])):
        rooms, matches = by["rooms"], by["matches"]
        pairs = list(zip(rooms, matches))
        for name, group in (("rooms", rooms), ("matches", matches)):
            get = lambda key: [run[key] for run in group]
            latency = lambda key: [run["latency_ms"][key] for run in group]
            first = name == "rooms"
            print(
                f"| {players:,} | {rate:g} | {name} of 10 | {spread(get('server_cpu_percent'))} | "
                + (ratio([(r["server_cpu_percent"], m["server_cpu_percent"]) for r, m in pairs]) if first else "")
                + f" | {spread(get('frames_per_s_per_client'), 2)} | {spread(latency('p50'))} | "
                + f"{spread(latency('p99'))} | "
                + (ratio([(r["latency_ms"]["p99"], m["latency_ms"]["p99"]) for r, m in pairs]) if first else "")
                + f" | {spread([kib / 1024 for kib in get('server_rss_after_ramp_kib')])} | "
                + f"{spread(get('server_rss_per_group_kib'))} | {spread(get('loadgen_cpu_percent'))} | "
                + f"{spread(get('others_cpu_percent'))} |"
            )
    print()


def saturated(results):
    if not results:
        return
    print("| shape | server CPU (%) | generator CPU (%) | others' CPU (%) | frames/s per client "
          "(of 20) | p50 / p99 (ms) |")
    print("|---|---|---|---|---|---|")
    for run in results:
        latency = run["latency_ms"]
        print(f"| {run['scenario']} of 10 | {run['server_cpu_percent']:.1f} | "
              f"{run['loadgen_cpu_percent']:.1f} | {run['others_cpu_percent']:.1f} | "
              f"{run['frames_per_s_per_client']:.2f} | {latency['p50']} / {latency['p99']} |")
    print()


def storms(results):
    if not results:
        return
    print("| round | found | failed | p50 / p99 / max (ms) | matches (welcomes) | matches "
          "listed | players per match | listen queue overflows | SYNs sent again | "
          "server CPU per find (µs) | others' CPU (%) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for index, run in enumerate(results, 1):
        latency = run["latency_ms"]
        print(f"| {index} | {run['connected']} | {run['failed']} | {latency['p50']} / "
              f"{latency['p99']} / {latency['max']} | {run['matches_by_welcome']} | "
              f"{run['matches_listed']} | {run['smallest_match']}-{run['largest_match']} | "
              f"{run.get('listen_overflows')} | {run.get('syn_retransmits')} | "
              f"{run['server_cpu_us_per_find']:.0f} | {run['others_cpu_percent']:.0f} |")
    get = lambda key: [run["latency_ms"][key] for run in results]
    print(f"\nmedian of {len(results)}: p50 {spread(get('p50'))} ms, p99 {spread(get('p99'))} ms, "
          f"server CPU per find {spread([r['server_cpu_us_per_find'] for r in results], 0)} µs\n")


def lifecycle(results):
    for run in results:
        print(f"{run['loops']} loops x {run['rounds']} rounds; others' CPU {run['others_cpu_percent']}%")
        print(f"  visit of the default match: {run['visit_us']} µs of server CPU "
              f"(each round {run['visit_us_each_round']})")
        print(f"  match created and ended:   {run['create_end_us']} µs "
              f"(each round {run['create_end_us_each_round']})")
        print(f"  difference, per round:     {run['match_cost_us']} µs median "
              f"(each round {run['match_cost_us_each_round']})")
        print(f"  latency: visit {run['visit_latency_ms']}, create-then-end "
              f"{run['create_end_latency_ms']}")
        print(f"  RSS (KiB) empty {run['server_rss_empty_kib']}; before {run['rss_before_kib']}")
        print(f"            holding {run['rss_holding_kib']}")
        print(f"            after   {run['rss_after_kib']}")
        print(f"  per match held (KiB) {run['held_kib_per_match']}, came back {run['back_kib_per_match']}")


def slow_moves(path):
    """When the late moves of the traced runs arrived, by second of the window."""
    if not path.exists():
        return
    runs = []
    for line in path.read_text().splitlines():
        if line.startswith("# loadgen"):
            runs.append({"command": line[2:], "opens": None, "arrivals": [], "result": None})
        elif line.startswith("{") and runs:
            runs[-1]["result"] = json.loads(line)
        elif "window opens at" in line and runs:
            runs[-1]["opens"] = float(line.split("window opens at ")[1].split()[0])
        elif "slow move" in line and runs:
            runs[-1]["arrivals"].append(float(line.split("arrived at ")[1].split()[0]))
    for run in runs:
        result = run["result"] or {}
        window = result.get("seconds", 15)
        inside = [t - run["opens"] for t in run["arrivals"] if run["opens"] is not None
                  and 0 <= t - run["opens"] <= window]
        counts = defaultdict(int)
        for t in inside:
            counts[int(t)] += 1
        latency = result.get("latency_ms", {})
        print(f"{run['command']}  (others' CPU {result.get('others_cpu_percent')}%, server "
              f"{result.get('server_cpu_percent')}%)")
        print(f"  p50 / p99 {latency.get('p50')} / {latency.get('p99')} ms of {latency.get('samples')} "
              f"moves; {len(inside)} over 150 ms in the window, by second since it opened: "
              + ", ".join(f"{second} s: {count}" for second, count in sorted(counts.items())))
    print()


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "nodelink-bench/results")
    shapes(lines(directory / "matches.jsonl"))
    saturated(lines(directory / "matches-saturated.jsonl"))
    slow_moves(directory / "matches-slow-moves.txt")
    storms(lines(directory / "matches-find.jsonl"))
    lifecycle(lines(directory / "matches-lifecycle.jsonl"))


if __name__ == "__main__":
    main()
