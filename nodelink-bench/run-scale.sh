#!/usr/bin/env bash
# The "Scale-out" figures in BENCHMARKS.md: a service started by loadgen for each
# run (`--gateway N`: a redis-server, N bench servers joined to it and one
# gateway, nodelink-relay --redis), all of it pinned to core 0 and the generator
# to core 1, in sections (SECTIONS picks some; each rewrites its file):
#  - find: scale-find.jsonl, a storm of clients finding a match of 10 (each size
#    of STORMS) through the gateway, then the same straight to the process, then
#    a trickle of 200 finds at 50 a second alternating between the two;
#    FIND_ROUNDS runs of each size;
#  - matches: scale-matches.jsonl, PLAYERS players in matches of 10 moving 20
#    times a second: one process reached directly and through the gateway, three
#    processes (a third of the players each) reached directly and through the
#    gateway, the four interleaved in ROUNDS rounds (the order turning);
#  - directory: scale-directory.jsonl, the commands Redis runs for 1,000 live
#    matches (2,000 idle players in matches of 2 on one process, reached
#    directly) against 100 and 1 (the heartbeat alone), then a lifecycle run
#    through the gateway (Redis commands per match created and ended, per visit
#    of the default match);
#  - fanout: scale-fanout.jsonl, PLAYERS idle players in matches of 10 and one
#    sending 10 lines a second that are broadcast to every match: of the service
#    over three processes (ClusterHandle::broadcast, through Redis), of the
#    service on one process, and of one process without Redis (the matches'
#    ServerHandle::broadcast in turn), the players through the gateway; the last
#    two again with the players connected straight to the process; ROUNDS rounds.
# Before each run the script waits (up to QUIET_WAIT seconds) until the rest of
# the machine uses under QUIET percent of a core; every result line says how much
# the rest of the machine used during the run (others_cpu_percent).
# scale-table.py prints BENCHMARKS.md's tables from these files.
#
# Usage: nodelink-bench/run-scale.sh [OUT_DIR]   (default nodelink-bench/results)
#        SECTIONS="find fanout" ROUNDS=3 FIND_ROUNDS=3 PLAYERS=900 STORMS="500 100" \
#          QUIET=100 QUIET_WAIT=120 nodelink-bench/run-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
command -v redis-server > /dev/null || { echo "run-scale: needs redis-server" >&2; exit 2; }
CARGO_INCREMENTAL=0 cargo build --release -p nodelink-bench -p nodelink-relay
out="${1:-nodelink-bench/results}"
sections="${SECTIONS:-find matches directory fanout}"
rounds="${ROUNDS:-3}"
find_rounds="${FIND_ROUNDS:-3}"
players="${PLAYERS:-900}"
storms="${STORMS:-500 100}"
quiet="${QUIET:-100}"
quiet_wait="${QUIET_WAIT:-120}"
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
    echo "run-scale: the machine is busy ($busy% of a core), waiting" >&2
    waited=$((waited + 2))
  done
}

run() {
  local file=$1
  shift
  wait_quiet
  echo "run-scale: loadgen $*" >&2
  taskset -c 1 target/release/loadgen --server-cpus 0 "$@" 2>/dev/null | tee -a "$file"
}

finds() {
  local file="$out/scale-find.jsonl"
  : > "$file"
  for round in $(seq "$find_rounds"); do
    for storm in $storms; do
      run "$file" --scenario find --gateway 1 --players "$storm" --match-size 10 \
        --trickle 200 --rate 50
    done
  done
}

matches() {
  local file="$out/scale-matches.jsonl"
  : > "$file"
  local common=(--scenario matches --match-size 10 --players "$players" --rate 20
    --observers 30 --warmup 3 --duration 8)
  local shapes=("--gateway 1 --direct" "--gateway 1" "--gateway 3 --direct" "--gateway 3")
  for round in $(seq "$rounds"); do
    local order=("${shapes[@]}")
    if (( round % 2 == 0 )); then
      order=("${shapes[3]}" "${shapes[2]}" "${shapes[1]}" "${shapes[0]}")
    fi
    for shape in "${order[@]}"; do
      # shellcheck disable=SC2086
      run "$file" "${common[@]}" $shape
    done
  done
}

directory() {
  local file="$out/scale-directory.jsonl"
  : > "$file"
  for live in 1000 100 1; do
    run "$file" --scenario matches --gateway 1 --direct --match-size 2 \
      --players $((live * 2)) --rate 0 --observers 0 --warmup 3 --duration 12
  done
  run "$file" --scenario lifecycle --gateway 1 --players 500 --rounds 3 --match-size 10
}

fanout() {
  local file="$out/scale-fanout.jsonl"
  : > "$file"
  local common=(--scenario fanout --match-size 10 --players "$players" --rate 10
    --observers 30 --warmup 3 --duration 8)
  local shapes=("--gateway 3 --fanout service" "--gateway 1 --fanout service"
    "--gateway 1 --fanout process" "--gateway 1 --direct --fanout service"
    "--gateway 1 --direct --fanout process")
  for round in $(seq "$rounds"); do
    for shape in "${shapes[@]}"; do
      # shellcheck disable=SC2086
      run "$file" "${common[@]}" $shape
    done
  done
}

for section in $sections; do
  case "$section" in
    find) finds ;;
    matches) matches ;;
    directory) directory ;;
    fanout) fanout ;;
    *) echo "run-scale: unknown section $section" >&2; exit 2 ;;
  esac
done
