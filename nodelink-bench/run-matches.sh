#!/usr/bin/env bash
# The "Matches" figures in BENCHMARKS.md, the server pinned to core 0 and the
# generator to core 1, in sections (SECTIONS picks some; each rewrites its files):
#  - shapes: matches.jsonl, players in groups of 10, as matches of 10 (the kind
#    `match`, max_players 10, each bot finding one) against rooms of 10 in one
#    world (room-scoped sync), the two shapes interleaved in ROUNDS rounds (the
#    order alternating), at 1,000 players moving 20 times a second, 2,000 at 2,
#    10,000 at 0.2 and 10,000 not moving at all;
#  - saturated: matches-saturated.jsonl, 10,000 players moving 20 times a second,
#    once in each shape (more than this machine can deliver: the evidence);
#  - traced: matches-slow-moves.txt, 10,000 players at 0.2 moves a second in 3
#    rounds of rooms, rooms without pings (--ping-interval 0) and matches, every
#    timed move over 150 ms listed after its run's result line, with when it
#    arrived;
#  - find: matches-find.jsonl, 1,000 clients finding a match of 10 at once,
#    FIND_ROUNDS times, each on a fresh server;
#  - lifecycle: matches-lifecycle.jsonl, the server CPU of a match created then
#    ended (LIFE_ROUNDS rounds of 1,000 loops beside 1,000 visits of the default
#    match) and its RSS (LIFE_ROUNDS cycles of 1,000 matches held, then ended);
#  - profile (needs perf): matches-idle-profile.txt, where an idle server's CPU
#    goes with 10,000 players in matches of 10 and in rooms of 10.
# Before each run the script waits (up to QUIET_WAIT seconds) until the rest of the
# machine uses under QUIET percent of a core; every result line says how much the
# rest of the machine used during the run (others_cpu_percent).
# matches-table.py prints BENCHMARKS.md's tables from these files.
#
# Usage: nodelink-bench/run-matches.sh [OUT_DIR]   (default nodelink-bench/results)
#        SECTIONS="find lifecycle" ROUNDS=5 FIND_ROUNDS=10 LIFE_ROUNDS=20 QUIET=60 \
#          QUIET_WAIT=3600 nodelink-bench/run-matches.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CARGO_INCREMENTAL=0 cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
sections="${SECTIONS:-shapes saturated traced find lifecycle profile}"
rounds="${ROUNDS:-5}"
find_rounds="${FIND_ROUNDS:-10}"
life_rounds="${LIFE_ROUNDS:-20}"
quiet="${QUIET:-60}"
quiet_wait="${QUIET_WAIT:-3600}"
mkdir -p "$out"

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

shapes() {
  local file="$out/matches.jsonl" players rate observers
  : > "$file"
  # players, moves per second per bot, observers
  local sizes=("1000 20 20" "2000 2 50" "10000 0.2 500" "10000 0 5")
  for round in $(seq "$rounds"); do
    for size in "${sizes[@]}"; do
      read -r players rate observers <<< "$size"
      local common=(--players "$players" --rate "$rate" --observers "$observers" --warmup 3
        --duration 15)
      local rooms=(--scenario rooms --room-size 10 "${common[@]}")
      local matches=(--scenario matches --match-size 10 "${common[@]}")
      if (( round % 2 == 1 )); then
        run "$file" "${rooms[@]}"
        run "$file" "${matches[@]}"
      else
        run "$file" "${matches[@]}"
        run "$file" "${rooms[@]}"
      fi
    done
  done
}

saturated() {
  local file="$out/matches-saturated.jsonl"
  : > "$file"
  local common=(--players 10000 --rate 20 --observers 50 --warmup 3 --duration 15)
  run "$file" --scenario rooms --room-size 10 "${common[@]}"
  run "$file" --scenario matches --match-size 10 "${common[@]}"
}

traced() {
  local file="$out/matches-slow-moves.txt"
  : > "$file"
  # A run whose late moves are listed after its result line.
  one() {
    wait_quiet
    echo "# loadgen $*" >> "$file"
    taskset -c 1 target/release/loadgen --server-cpus 0 "$@" --trace-slow 150 2> "$file.err" \
      | tee -a "$file"
    grep -E "window opens|slow move" "$file.err" >> "$file" || true
    rm -f "$file.err"
  }
  local common=(--players 10000 --rate 0.2 --observers 500 --warmup 3 --duration 15)
  for round in 1 2 3; do
    one --scenario rooms --room-size 10 "${common[@]}"
    one --scenario rooms --room-size 10 --ping-interval 0 "${common[@]}"
    one --scenario matches --match-size 10 "${common[@]}"
  done
}

storms() {
  local file="$out/matches-find.jsonl"
  : > "$file"
  for round in $(seq "$find_rounds"); do
    run "$file" --scenario find --players 1000 --match-size 10
  done
}

lifecycle() {
  local file="$out/matches-lifecycle.jsonl"
  : > "$file"
  run "$file" --scenario lifecycle --players 1000 --rounds "$life_rounds" --match-size 10
}

profile() {
  local file="$out/matches-idle-profile.txt"
  if ! command -v perf > /dev/null; then
    echo "run-matches: no perf, no profile" >&2
    return
  fi
  : > "$file"
  one() {
    local name=$1 log data
    shift
    log=$(mktemp) data=$(mktemp)
    wait_quiet
    # The server is the generator's child; perf watches it for 8 s of the window.
    taskset -c 1 target/release/loadgen --server-cpus 0 "$@" --warmup 12 --duration 5 \
      > "$log.json" 2> "$log" &
    local generator=$! server=""
    until grep -q "bots connected" "$log" 2> /dev/null; do
      kill -0 "$generator" 2> /dev/null || { cat "$log" >&2; return 1; }
      sleep 0.5
    done
    server=$(pgrep -P "$generator")
    sleep 3
    perf record -F 499 -g -p "$server" -o "$data" -- sleep 8 2> /dev/null
    wait "$generator"
    {
      echo "# $name: loadgen $*"
      cat "$log.json"
      # The 25 busiest symbols (awk reads to the end: no broken pipe).
      perf report -i "$data" --no-children --sort symbol --stdio -g none 2> /dev/null \
        | grep "%" | sed 's/ *- *- *$//' | awk 'NR <= 25'
      echo
    } >> "$file"
    rm -f "$log" "$log.json" "$data"
  }
  one "1,000 idle matches of 10" --scenario matches --match-size 10 --players 10000 --rate 0
  one "1,000 idle rooms of 10" --scenario rooms --room-size 10 --players 10000 --rate 0
}

for section in $sections; do
  case "$section" in
    shapes) shapes ;;
    saturated) saturated ;;
    traced) traced ;;
    find) storms ;;
    lifecycle) lifecycle ;;
    profile) profile ;;
    *) echo "run-matches: unknown section $section" >&2; exit 2 ;;
  esac
done
