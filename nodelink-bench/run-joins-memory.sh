#!/usr/bin/env bash
# Round two's join, memory and client figures in BENCHMARKS.md: `connect` (10,000
# joins at 500 a second) for the limit server and nodelink, two rounds; idle memory
# after the ramp at 1,000, 2,000, 5,000 and 10,000 players for nodelink's native
# and JSON wires and the limit server; the Rust client's cost mirroring 1,000 and
# 2,000 players (`client-cost`). The server is pinned to core 0 and the generator
# to core 1. One JSON line per run in OUT_DIR/joins-memory.jsonl.
#
# Usage: nodelink-bench/run-joins-memory.sh [OUT_DIR]   (default nodelink-bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
results="$out/joins-memory.jsonl"
: > "$results"

run() { taskset -c 1 target/release/loadgen --server-cpus 0 "$@" 2>/dev/null | tee -a "$results"; }

for round in 1 2; do
  for target in limit nodelink; do
    run --target "$target" --scenario connect --players 10000 --rate 500
  done
done
for players in 1000 2000 5000 10000; do
  for target in limit nodelink nodelink-json; do
    run --target "$target" --scenario idle --players "$players" --warmup 2 --duration 3
  done
done
for players in 1000 2000; do
  target/release/client-cost --players "$players" --duration 20 --server-cpus 0 \
    --loadgen-cpus 1 2>/dev/null | tee -a "$results"
done
