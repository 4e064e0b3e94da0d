#!/usr/bin/env bash
# The "Matches" figures in BENCHMARKS.md, the server pinned to core 0 and the
# generator to core 1:
#  - matches.jsonl: players in groups of 10, as matches of 10 (the kind `match`,
#    max_players 10, each bot finding one) against rooms of 10 in one world
#    (room-scoped sync), the two shapes interleaved in ROUNDS rounds (the order
#    alternating), at 1,000 players moving 20 times a second, 2,000 at 2, 10,000
#    at 0.2 and 10,000 not moving at all;
#  - matches-saturated.jsonl: 10,000 players moving 20 times a second, once in each
#    shape (more than this machine can deliver: the evidence);
#  - matches-find.jsonl: 1,000 clients finding a match of 10 at once, FIND_ROUNDS
#    times, each on a fresh server;
#  - matches-slow-moves.txt: 10,000 players at 0.2 moves a second once more in each
#    shape, every timed move over 150 ms printed with when it arrived;
#  - matches-lifecycle.jsonl: the server CPU of a match created then ended (7
#    rounds of 1,000 loops beside 1,000 visits of the default match) and its RSS (7
#    cycles of 1,000 matches held, then ended).
# matches-table.py prints BENCHMARKS.md's tables from these files.
# Before each run the script waits (up to QUIET_WAIT seconds) until the rest of the
# machine uses under QUIET percent of a core; every result line says how much the
# rest of the machine used during the run (others_cpu_percent).
#
# Usage: nodelink-bench/run-matches.sh [OUT_DIR]   (default nodelink-bench/results)
#        ROUNDS=5 FIND_ROUNDS=5 QUIET=50 QUIET_WAIT=180 nodelink-bench/run-matches.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CARGO_INCREMENTAL=0 cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
rounds="${ROUNDS:-5}"
find_rounds="${FIND_ROUNDS:-5}"
quiet="${QUIET:-50}"
quiet_wait="${QUIET_WAIT:-180}"
mkdir -p "$out"
shapes="$out/matches.jsonl"
saturated="$out/matches-saturated.jsonl"
storms="$out/matches-find.jsonl"
lifecycle="$out/matches-lifecycle.jsonl"
slow="$out/matches-slow-moves.txt"
: > "$shapes"; : > "$saturated"; : > "$storms"; : > "$lifecycle"; : > "$slow"

# The machine's busy CPU over 2 s, in percent of one core (nothing of ours runs
# between two runs).
busy_percent() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  sleep 2
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  echo $(( (b - a) / 2 ))
}

wait_quiet() {
  local waited=0 busy
  while busy=$(busy_percent); (( busy >= quiet && waited < quiet_wait )); do
    echo "run-matches: the machine is busy ($busy% of a core), waiting" >&2
    waited=$((waited + 2))
  done
}

run() {
  local file=$1
  shift
  wait_quiet
  taskset -c 1 target/release/loadgen --server-cpus 0 "$@" 2>/dev/null | tee -a "$file"
}

# players, moves per second per bot, observers
sizes=("1000 20 20" "2000 2 50" "10000 0.2 500" "10000 0 5")
for round in $(seq "$rounds"); do
  for size in "${sizes[@]}"; do
    read -r players rate observers <<< "$size"
    common=(--players "$players" --rate "$rate" --observers "$observers" --warmup 3 --duration 15)
    rooms=(--scenario rooms --room-size 10 "${common[@]}")
    matches=(--scenario matches --match-size 10 "${common[@]}")
    if (( round % 2 == 1 )); then
      run "$shapes" "${rooms[@]}"
      run "$shapes" "${matches[@]}"
    else
      run "$shapes" "${matches[@]}"
      run "$shapes" "${rooms[@]}"
    fi
  done
done

# A run whose late moves are listed after its result line.
traced() {
  wait_quiet
  echo "# loadgen $*" >> "$slow"
  taskset -c 1 target/release/loadgen --server-cpus 0 "$@" --trace-slow 150 2> "$slow.err" \
    | tee -a "$slow"
  grep -E "window opens|slow move" "$slow.err" >> "$slow" || true
  rm -f "$slow.err"
}
common=(--players 10000 --rate 0.2 --observers 500 --warmup 3 --duration 15)
traced --scenario rooms --room-size 10 "${common[@]}"
traced --scenario matches --match-size 10 "${common[@]}"

common=(--players 10000 --rate 20 --observers 50 --warmup 3 --duration 15)
run "$saturated" --scenario rooms --room-size 10 "${common[@]}"
run "$saturated" --scenario matches --match-size 10 "${common[@]}"

for round in $(seq "$find_rounds"); do
  run "$storms" --scenario find --players 1000 --match-size 10
done

run "$lifecycle" --scenario lifecycle --players 1000 --rounds 7 --match-size 10
