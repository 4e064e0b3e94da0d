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
r, s and b are fitted: r from the sync runs (N * m events a second), s from the
broadcast runs (one 29-byte frame per line per recipient, next to no inbound), b
from how the sync runs' cost grows with their frame size.

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


def median_by(runs, scenario, players):
    cpu = [r["server_cpu_percent"] / 100 for r in runs if r["scenario"] == scenario and r["players"] == players]
    fps = [r["frames_per_s_per_client"] for r in runs if r["scenario"] == scenario and r["players"] == players]
    bps = [r["bytes_per_s_per_client"] for r in runs if r["scenario"] == scenario and r["players"] == players]
    if not cpu:
        return None
    return statistics.median(cpu), statistics.median(fps), statistics.median(bps)


def main():
    runs = load(sys.argv[1:])
    broadcast = median_by(runs, "broadcast", 1000)
    sync = {n: median_by(runs, "sync", n) for n in (500, 1000, 2000)}
    if not broadcast or not sync[500] or not sync[1000]:
        sys.exit("need nodelink broadcast at 1000 and sync at 500 and 1000")

    # s: the broadcast run sends frames/s per client * N frames of bytes/frames bytes.
    cpu, fps, bps = broadcast
    frame = bps / fps
    sends = fps * 1000
    # b is small against s for 30-byte frames: solve s first with b = 0, refine below.
    s = cpu / sends
    # Sync runs: cpu = N*m*r + f*N*(s + b*B), m = f = 20, B measured.
    rows = []
    for n in (500, 1000):
        c, f, bytes_per_s = sync[n]
        rows.append((n, c, f, bytes_per_s / f))
    # Both sync runs are below saturation: every bot moves 20 times a second.
    for _ in range(5):
        # Two equations, two unknowns (r, b): c - f*N*s = N*m*r + f*N*B*b.
        (n1, c1, f1, b1), (n2, c2, f2, b2) = rows
        m = 20.0
        a11, a12, y1 = n1 * m, f1 * n1 * b1, c1 - f1 * n1 * s
        a21, a22, y2 = n2 * m, f2 * n2 * b2, c2 - f2 * n2 * s
        det = a11 * a22 - a12 * a21
        r = (y1 * a22 - a12 * y2) / det
        b = (a11 * y2 - y1 * a21) / det
        s = (cpu - sends * frame * b) / sends
    print(f"fitted: r = {r * 1e6:.2f} us per inbound event, s = {s * 1e6:.2f} us per frame sent, "
          f"b = {b * 1e9:.3f} ns per byte sent")

    def predict(n, m, f, view):
        k = view * min(1.0, m / f)
        size = HEADER + k * entry_bytes(n)
        return n * m * r + f * n * (s + b * size), size

    print("\ncheck against the runs (nodelink, medians):")
    print("| run | measured CPU (%) | model (%) | model / measured |")
    print("|---|---|---|---|")
    for n in (500, 1000, 2000):
        if not sync.get(n):
            continue
        c, f, bytes_per_s = sync[n]
        # The moves the bots managed (fewer than 20 a second once the generator
        # saturates), from the entries in the frames they were sent.
        changed = (bytes_per_s / f - HEADER) / entry_bytes(n)
        m = min(20.0, changed * f / n)
        model, _ = predict(n, m, f, n)
        print(f"| sync {n:,} ({m:.1f} moves/s each) | {100 * c:.1f} | {100 * model:.1f} | {model / c:.2f} |")
    for n in (100, 1000):
        got = median_by(runs, "broadcast", n)
        if got:
            c, f, bytes_per_s = got
            model = f * n * (s + b * bytes_per_s / f) + 20 * r
            print(f"| broadcast {n:,} | {100 * c:.1f} | {100 * model:.1f} | {model / c:.2f} |")
    for run in runs:
        if run["scenario"] == "rooms":
            n, c = run["players"], run["server_cpu_percent"] / 100
            f = run["frames_per_s_per_client"]
            rate = run.get("rate", 2)
            model, _ = predict(n, rate, 20, 50)
            print(f"| rooms {n:,} (rate {rate}, {f:.1f} frames/s) | {100 * c:.1f} | {100 * model:.1f} | {model / c:.2f} |")

    print("\npredicted players per core (everyone changes one field every tick, m = f):")
    print("| tick rate | all-to-all | rooms of 50 |")
    print("|---|---|---|")
    for f in (20, 30, 60):
        def fits(view):
            lo, hi = 1, 1_000_000
            while lo < hi:
                mid = (lo + hi + 1) // 2
                cost, _ = predict(mid, f, f, min(mid, view) if view else mid)
                if cost <= 1.0:
                    lo = mid
                else:
                    hi = mid - 1
            return lo
        print(f"| {f} Hz | {fits(None):,} | {fits(50):,} |")
    print("\nrooms of 50 at 20 Hz, each player moving twice a second (the `rooms` scenario):")
    for n in (2000, 5000, 10000):
        cost, size = predict(n, 2, 20, 50)
        print(f"  {n:,} players: {cost:.2f} cores (frames of {size:.0f} bytes, "
              f"{n * 2 * r:.2f} inbound, {20 * n * (s + b * size):.2f} outbound)")


if __name__ == "__main__":
    main()
