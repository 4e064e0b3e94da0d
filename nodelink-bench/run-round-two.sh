#!/usr/bin/env bash
# The second round's load figures in BENCHMARKS.md: `sync` against the limit
# server (which sends nodelink's bytes) at 500, 1,000 and 2,000 players, `broadcast`
# at 100 and 1,000, and `sync` at 500 players direct and through a relay; three
# rounds, the servers interleaved within each, the server (and the relay) pinned to
# core 0 and the generator to core 1. One JSON line per run in OUT_DIR/round-two.jsonl.
#
# Usage: nodelink-bench/run-round-two.sh [OUT_DIR]   (default nodelink-bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -p nodelink-bench -p nodelink-relay
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
results="$out/round-two.jsonl"
: > "$results"

run() { taskset -c 1 target/release/loadgen --server-cpus 0 "$@" 2>/dev/null | tee -a "$results"; }

for round in 1 2 3; do
  for players in 500 1000 2000; do
    for target in limit nodelink; do
      run --target "$target" --scenario sync --players "$players" --warmup 3 --duration 10
    done
  done
  for players in 100 1000; do
    for target in limit nodelink; do
      run --target "$target" --scenario broadcast --players "$players" --rate 20 --warmup 3 --duration 10
    done
  done
  run --target nodelink --scenario sync --players 500 --warmup 3 --duration 10
  run --target nodelink --scenario sync --players 500 --warmup 3 --duration 10 --relay
done
