#!/usr/bin/env python3
"""nodelink's server cost model (BENCHMARKS.md, "A cost model"), fitted to measured
load runs and checked against the others.

    CPU (cores) = N * m * r                      inbound: each event read and handled
                + f * sends * (s + b * B)        outbound: each frame queued and written
    B (bytes)   = h + k * p                      a sync frame: header, then k entries
    k           = V * min(1, m / f)              changed players a recipient sees per tick

N players, each sending m events a second; tick rate f; a recipient sees V players
(N with sync to everyone, the room size with rooms); p bytes per changed entry (one
changed f32: 8 to 10 bytes, with its net id); h the frame header (about 8 bytes).
r, s and b are fitted by least squares to the `sync` and `broadcast` runs the
generator kept up with (the broadcast runs send many small frames and read next to
nothing, the sync runs read one move per player per tick and send large frames),
then checked against every run, `rooms` included.

Usage: nodelink-bench/cost-model.py RESULTS.jsonl [MORE.jsonl ...]
"""

import json
import statistics
import sys

HEADER = 8


def entry_bytes(players):
    """Bytes of one changed player's entry with one changed f32, `[net, mask, x]`,
    averaged over net ids 0 to players - 1 (1 byte up to 127, 2 up to 255, then 3)."""
    one, two = min(players, 128), max(0, min(players, 256) - 128)
    three = max(0, players - 256)
    return 7 + (one + 2 * two + 3 * three) / players


def load(paths):
    runs = []
    for path in paths:
        with open(path) as lines:
            for line in lines:
                line = line.strip()
                if line.startswith("{"):
                    runs.append(json.loads(line))
    return [
        r
        for r in runs
        if r.get("target") == "nodelink"
        and not r.get("tls")
        and not r.get("relay")
        and r.get("scenario") in ("sync", "broadcast", "rooms")
        and r.get("server_cpu_percent")
    ]


def workload(run):
    """A run's inbound events, frames sent and bytes sent per second."""
    n, fps, bps = run["players"], run["frames_per_s_per_client"], run["bytes_per_s_per_client"]
    if run["scenario"] == "broadcast":
        events = run.get("rate", 20)  # one sender
    else:
        # The moves the bots managed (fewer than asked once the generator
        # saturates), from the changed entries in the frames they were sent.
        view = n if run["scenario"] == "sync" else 50
        changed = max(0.0, (bps / max(fps, 1e-9) - HEADER) / entry_bytes(n))
        events = n * min(run.get("rate", 20), changed * fps / view)
    return events, fps * n, bps * n


def solve(rows, columns):
    """Least squares over `rows` ((features, cpu) pairs) for the given columns."""
    k = len(columns)
    a = [[sum(f[i] * f[j] for f, _ in rows) for j in columns] for i in columns]
    y = [sum(f[i] * c for f, c in rows) for i in columns]
    # Gaussian elimination on the normal equations.
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(a[r][col]))
        a[col], a[pivot], y[col], y[pivot] = a[pivot], a[col], y[pivot], y[col]
        for r in range(k):
            if r != col and a[col][col]:
                ratio = a[r][col] / a[col][col]
                a[r] = [x - ratio * z for x, z in zip(a[r], a[col])]
                y[r] -= ratio * y[col]
    return [y[i] / a[i][i] for i in range(k)]


def main():
    runs = load(sys.argv[1:])
    # Fitted on the runs the generator kept up with (its core under 90%).
    fitting = [r for r in runs if r["scenario"] in ("sync", "broadcast")
               and r.get("loadgen_cpu_percent", 0) < 90]
    if len(fitting) < 3:
        sys.exit("need nodelink sync and broadcast runs the generator kept up with")
    rows = [(workload(r), r["server_cpu_percent"] / 100) for r in fitting]
    r_event, s_frame, b_byte = solve(rows, [0, 1, 2])
    if b_byte < 0:
        # Bytes too few to tell apart from frames in these runs: frames alone.
        b_byte = 0.0
        r_event, s_frame = solve(rows, [0, 1])
    print(f"fitted on {len(fitting)} runs: r = {r_event * 1e6:.2f} us per inbound event, "
          f"s = {s_frame * 1e6:.2f} us per frame sent, b = {b_byte * 1e9:.3f} ns per byte sent")

    def cost(events, frames, sent):
        return events * r_event + frames * s_frame + sent * b_byte

    print("\ncheck against every run (nodelink; medians by scenario and N; * fitted on):")
    print("| runs | inbound events/s | frames sent/s | MB sent/s | measured CPU (%) | model (%) | model / measured, each run |")
    print("|---|---|---|---|---|---|---|")
    groups = {}
    for run in runs:
        groups.setdefault((run["scenario"], run["players"]), []).append(run)
    for (scenario, players), group in sorted(groups.items()):
        loads = [workload(run) for run in group]
        models = [cost(*load) for load in loads]
        measured = [run["server_cpu_percent"] / 100 for run in group]
        ratios = sorted(m / c for m, c in zip(models, measured))
        mark = "*" if all(run in fitting for run in group) else ""
        print(f"| {scenario} {players:,}{mark} ({len(group)}) "
              f"| {statistics.median(l[0] for l in loads):,.0f} "
              f"| {statistics.median(l[1] for l in loads):,.0f} "
              f"| {statistics.median(l[2] for l in loads) / 1e6:.1f} "
              f"| {100 * statistics.median(measured):.1f} | {100 * statistics.median(models):.1f} "
              f"| {', '.join(f'{r:.2f}' for r in ratios)} |")

    def predict(n, m, f, view):
        k = view * min(1.0, m / f)
        size = HEADER + k * entry_bytes(n)
        return cost(n * m, f * n, f * n * size), size

    def fits(f, view):
        lo, hi = 1, 1_000_000
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if predict(mid, f, f, min(mid, view or mid))[0] <= 1.0:
                lo = mid
            else:
                hi = mid - 1
        return lo

    print("\npredicted players per core, every player changing one field every tick (m = f):")
    print("| tick rate | all-to-all | rooms of 50 |")
    print("|---|---|---|")
    for f in (20, 30, 60):
        print(f"| {f} Hz | {fits(f, None):,} | {fits(f, 50):,} |")
    print("\nrooms of 50 at 20 Hz, each player moving twice a second (the `rooms` scenario):")
    for n in (2000, 5000, 10000):
        total, size = predict(n, 2, 20, 50)
        print(f"  {n:,} players: {total:.2f} cores (frames of {size:.0f} bytes; inbound "
              f"{n * 2 * r_event:.2f}, outbound {total - n * 2 * r_event:.2f})")


if __name__ == "__main__":
    main()
