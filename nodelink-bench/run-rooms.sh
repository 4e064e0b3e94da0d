#!/usr/bin/env bash
# Round two's `rooms` figures in BENCHMARKS.md: 2,000, 5,000 and 10,000 players in
# rooms of 50, each moving twice a second, sync at 20 Hz, for the limit server and
# nodelink, the server pinned to core 0 and the generator to core 1; then both
# servers under callgrind with 200 bots in rooms (instructions per delivered frame).
# One JSON line per run in OUT_DIR/rooms.jsonl, the profile in OUT_DIR/rooms-profile.txt.
#
# Usage: nodelink-bench/run-rooms.sh [OUT_DIR]   (default nodelink-bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
results="$out/rooms.jsonl"
: > "$results"

for players in 2000 5000 10000; do
  for target in limit nodelink; do
    taskset -c 1 target/release/loadgen --server-cpus 0 --target "$target" --scenario rooms \
      --players "$players" --room-size 50 --rate 2 --warmup 3 --duration 10 2>/dev/null \
      | tee -a "$results"
  done
done
nodelink-bench/profile.sh 200 rooms --room-size 50 --rate 2 2>/dev/null | tee "$out/rooms-profile.txt"
