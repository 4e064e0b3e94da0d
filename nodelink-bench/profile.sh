#!/usr/bin/env bash
# Where nodelink's server spends instructions that the hand-written limit server does
# not: runs each server under callgrind with the same load (N bots, default 40:
# valgrind slows the server about fifty-fold), counts the measured window apart
# (the counters are dumped, which zeroes them, when it begins, and again as it
# ends), and prints the window's totals, the instructions per frame delivered to a
# client, and the functions whose counts differ most before the window. Instruction
# counts do not move with the machine's load, unlike CPU time.
#
# Usage: nodelink-bench/profile.sh [PLAYERS] [SCENARIO] [LOADGEN OPTIONS...]
#   nodelink-bench/profile.sh                         # sync, 40 bots
#   nodelink-bench/profile.sh 200 rooms --rate 2      # rooms of 50, two moves a second
# (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
players="${1:-40}"
scenario="${2:-sync}"
shift $(( $# < 2 ? $# : 2 ))
cargo build --release -p nodelink-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ -n "${KEEP:-}" ]] && trap - EXIT && echo "keeping $work"

# loadgen starts the server binary next to itself: put a callgrind wrapper there.
cp target/release/loadgen "$work/"
for server in nodelink limit; do
  cat > "$work/bench-server-$server" <<WRAPPER
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file=$work/$server.out $PWD/target/release/bench-server-$server "\$@" 2>$work/$server.log
WRAPPER
  chmod +x "$work/bench-server-$server"
done

for server in nodelink limit; do
  "$work/loadgen" --target "$server" --scenario "$scenario" --players "$players" \
    --warmup 4 --duration 12 "$@" 2>"$work/$server.progress" > "$work/$server.result" &
  generator=$!
  # The window's first progress line comes a second into it: count from there.
  until grep -q "frames/s per client" "$work/$server.progress" 2>/dev/null; do sleep 0.2; done
  pid=$(pgrep -f "callgrind-out-file=$work/$server.out" | head -1)
  callgrind_control -d "$pid" >/dev/null  # dumps and zeroes: the window is the next dump
  start=$(date +%s.%N)
  sleep 8
  callgrind_control -d "$pid" >/dev/null
  echo "$start $(date +%s.%N)" > "$work/$server.window"
  wait "$generator" || true
done

python3 - "$work" <<'PY'
import re, subprocess, sys
work = sys.argv[1]
def load(server, part):
    out = subprocess.run(["callgrind_annotate", f"{work}/{server}.out.{part}"],
                         capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if m:
            name = re.sub(r"\[.*\]", "", m.group(2)).strip()
            counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts
import json
def delivered(server):
    start, end = map(float, open(f"{work}/{server}.window").read().split())
    result = json.loads(open(f"{work}/{server}.result").read().strip().splitlines()[-1])
    return result["frames_per_s_per_client"] * result["players"] * (end - start)
# The window (dump 2) for the totals; callgrind puts all of a dump that follows
# another under `clone`, so the functions come from dump 1 (the start, the ramp
# and the warm-up).
ours, limit = load("nodelink", 2), load("limit", 2)
total = "PROGRAM TOTALS"
print(f"instructions in the window: nodelink {ours[total]:,}, limit {limit[total]:,}, "
      f"ratio {ours[total] / limit[total]:.2f}")
for server, counts in (("nodelink", ours), ("limit", limit)):
    frames = delivered(server)
    print(f"{server}: about {frames:,.0f} frames delivered in the window, "
          f"{counts[total] / max(frames, 1):,.0f} instructions per delivered frame")
ours, limit = load("nodelink", 1), load("limit", 1)
print(f"\nfrom the start to the window: nodelink {ours[total]:,}, limit {limit[total]:,}, "
      f"ratio {ours[total] / limit[total]:.2f}")
rows = sorted(((ours.get(k, 0) - limit.get(k, 0), k) for k in set(ours) | set(limit) if k != total),
              reverse=True)
print("most above the limit server there (difference, nodelink, limit, function):")
for diff, name in rows[:25]:
    print(f"{diff:>12,} {ours.get(name, 0):>12,} {limit.get(name, 0):>12,}  {name[:110]}")
PY
