#!/usr/bin/env bash
# BENCHMARKS.md "Many matches on many cores", the capacity part: what one core
# and two cores carry when the matches, not the generator, are the load. Each
# match of 2 players spends TICK_WORK microseconds of CPU in every tick (a fixed
# computation standing for a game's simulation; `--tick-work`), and there are
# more matches than two cores can tick 20 times a second, so the server runs as
# many ticks as its cores allow; the server counts them (`match ticks a second`,
# every 5 s on its standard error). The server runs on core 0 (one tokio worker)
# and on cores 0 and 1 (two workers), interleaved in ROUNDS rounds; the
# generator runs on core 1 throughout, where it is light (the bots move RATE
# times a second and receive a frame only for a tick in which something
# changed), and its share of core 1 is in each run's line. The work of a tick
# is timed once at the server's start, so it differs a little between runs:
# what is compared is ticks times the rounds of computation each does (printed
# by the server, `tick work: N rounds`). One JSON line per
# run in OUT_DIR/capacity.jsonl; capacity-table.py prints the table.
#
# Usage: nodelink-bench/run-capacity.sh [OUT_DIR]   (default nodelink-bench/results)
#        ROUNDS=5 MATCHES=100 TICK_WORK=2000 RATE=2 nodelink-bench/run-capacity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CARGO_INCREMENTAL=0 cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
rounds="${ROUNDS:-5}"
matches="${MATCHES:-100}"
work="${TICK_WORK:-2000}"
rate="${RATE:-2}"
mkdir -p "$out"
results="$out/capacity.jsonl"
: > "$results"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for round in $(seq 1 "$rounds"); do
  # The order alternates, so neither setting always runs on a warmer machine.
  if (( round % 2 )); then order="0 0,1"; else order="0,1 0"; fi
  for cpus in $order; do
    line=$(taskset -c 1 target/release/loadgen --server-cpus "$cpus" --target nodelink \
      --scenario matches --players $((2 * matches)) --match-size 2 --rate "$rate" \
      --tick-work "$work" --warmup 5 --duration 15 2>"$log")
    # The server's reports after the first two (which include the connecting
    # and the warm-up) fall within the measured 15 seconds.
    ticks=$(grep -o 'match ticks a second: [0-9.]*' "$log" | awk '{print $NF}' | tail -n +3 \
      | paste -sd, -)
    rounds_a_tick=$(grep -o 'tick work: [0-9]* rounds' "$log" | awk '{print $3}')
    echo "{\"round\":$round,\"server_cpus\":\"$cpus\",\"tick_work_us\":$work,\"rounds_a_tick\":$rounds_a_tick,\"matches\":$matches,\"ticks_per_s\":[$ticks],\"run\":$line}" \
      | tee -a "$results"
  done
done
