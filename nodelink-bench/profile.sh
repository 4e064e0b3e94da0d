#!/usr/bin/env bash
# Where nodelink's server spends instructions that the hand-written limit server does
# not: runs each server under callgrind with the same `sync` load (N bots, default
# 40: valgrind slows the server about fifty-fold), dumps the counts after the
# measured window, and prints the totals and the functions whose counts differ most.
# Instruction counts do not move with the machine's load, unlike CPU time.
#
# Usage: nodelink-bench/profile.sh [PLAYERS]   (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
players="${1:-40}"
cargo build --release -p nodelink-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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
  "$work/loadgen" --target "$server" --players "$players" --warmup 2 --duration 10 \
    2>/dev/null > "$work/$server.result" &
  generator=$!
  sleep 12 # the warm-up and the window: dump before loadgen stops the server
  callgrind_control -d "$(pgrep -f "callgrind-out-file=$work/$server.out" | head -1)" >/dev/null
  wait "$generator" || true
done

python3 - "$work" <<'PY'
import re, subprocess, sys
work = sys.argv[1]
def load(server):
    out = subprocess.run(["callgrind_annotate", f"{work}/{server}.out.1"],
                         capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if m:
            name = re.sub(r"\[.*\]", "", m.group(2)).strip()
            counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts
ours, limit = load("nodelink"), load("limit")
total = "PROGRAM TOTALS"
print(f"instructions: nodelink {ours[total]:,}, limit {limit[total]:,}, "
      f"ratio {ours[total] / limit[total]:.2f}")
rows = sorted(((ours.get(k, 0) - limit.get(k, 0), k) for k in set(ours) | set(limit) if k != total),
              reverse=True)
print("\nmost above the limit server (difference, nodelink, limit, function):")
for diff, name in rows[:25]:
    print(f"{diff:>12,} {ours.get(name, 0):>12,} {limit.get(name, 0):>12,}  {name[:110]}")
PY
