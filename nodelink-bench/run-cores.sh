#!/usr/bin/env bash
# BENCHMARKS.md "Many matches on many cores": 1,000 matches of 10 players (10,000
# bots, each finding a match of the kind `match`, moving 0.2 times a second) with
# the server on one core (`taskset -c 0`: one tokio worker) and on two (`taskset
# -c 0,1`: two workers), the two interleaved in ROUNDS rounds, the generator on
# core 1 throughout. On a machine with only two cores the generator shares the
# second server core, so what this measures is the server's CPU per delivered
# frame with one worker and with two at the same load (how much of a second core
# the matches can use), not the load two free cores carry. One JSON line per run
# in OUT_DIR/cores.jsonl; cores-table.py prints the table and the model.
#
# Usage: nodelink-bench/run-cores.sh [OUT_DIR]   (default nodelink-bench/results)
#        ROUNDS=5 PLAYERS=10000 RATE=0.2 nodelink-bench/run-cores.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CARGO_INCREMENTAL=0 cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
rounds="${ROUNDS:-3}"
players="${PLAYERS:-10000}"
rate="${RATE:-0.2}"
mkdir -p "$out"
results="$out/cores.jsonl"
: > "$results"

for round in $(seq 1 "$rounds"); do
  # The order alternates, so neither setting always runs on a warmer machine.
  if (( round % 2 )); then order="0 0,1"; else order="0,1 0"; fi
  for cpus in $order; do
    line=$(taskset -c 1 target/release/loadgen --server-cpus "$cpus" --target nodelink \
      --scenario matches --players "$players" --match-size 10 --rate "$rate" \
      --warmup 5 --duration 10 2>/dev/null)
    echo "{\"round\":$round,\"server_cpus\":\"$cpus\",\"run\":$line}" | tee -a "$results"
  done
done
