#!/usr/bin/env bash
# BENCHMARKS.md "The floor": `sync` at 500, 1,000 and 2,000 players and `rooms`
# (rooms of 50, each player moving twice a second) at 2,000 and 5,000, against
# three servers that send the same bytes: nodelink, the limit server
# (tokio-tungstenite by hand) and the floor (the same game, nothing but socket
# writes). Five rounds, the servers interleaved within each, the server pinned to
# core 0 and the generator to core 1. One JSON line per run in
# OUT_DIR/floor.jsonl; then, with perf, the system calls each server makes
# while 1,000 players sync (OUT_DIR/floor-syscalls.txt).
#
# Usage: nodelink-bench/run-floor.sh [OUT_DIR]   (default nodelink-bench/results)
#        PARTS="sync" TARGETS="limit nodelink" nodelink-bench/run-floor.sh OUT_DIR
#        (PARTS: any of sync, rooms, syscalls, idle; TARGETS: any of floor, limit,
#        nodelink). `idle` (not in the default) measures each target's memory per
#        idle player at 1,000, 2,000, 5,000 and 10,000 into OUT_DIR/idle.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
parts="${PARTS:-sync rooms syscalls}"
targets="${TARGETS:-floor limit nodelink}"
results="$out/floor.jsonl"
: > "$results"

run() {
  local round=$1
  shift
  local line
  line=$(taskset -c 1 target/release/loadgen --server-cpus 0 "$@" 2>/dev/null)
  echo "{\"round\":$round,\"run\":$line}" | tee -a "$results"
}

for round in 1 2 3 4 5; do
  for players in 500 1000 2000; do
    [[ " $parts " == *" sync "* ]] || break
    for target in $targets; do
      run "$round" --target "$target" --scenario sync --players "$players" --warmup 3 --duration 8
    done
  done
  for players in 2000 5000; do
    [[ " $parts " == *" rooms "* ]] || break
    for target in $targets; do
      run "$round" --target "$target" --scenario rooms --players "$players" --room-size 50 \
        --rate 2 --warmup 3 --duration 8
    done
  done
done

# System calls: perf counts the server's (all its threads') for 5 seconds of
# `sync` at 1,000 players, after the warmup: 1,000 players x 20 frames a second
# x 5 s = 100,000 frames delivered, as loadgen's figures for the run confirm.
if [[ " $parts " == *" idle "* ]]; then
  : > "$out/idle.jsonl"
  for target in $targets; do
    for players in 1000 2000 5000 10000; do
      taskset -c 1 target/release/loadgen --server-cpus 0 --target "$target" --scenario idle \
        --players "$players" --warmup 2 --duration 3 2>/dev/null | tee -a "$out/idle.jsonl"
    done
  done
fi

[[ " $parts " == *" syscalls "* ]] || exit 0
syscalls="$out/floor-syscalls.txt"
: > "$syscalls"
events=raw_syscalls:sys_enter
for call in write writev sendto sendmsg read readv recvfrom epoll_wait epoll_pwait futex sched_yield; do
  events="$events,syscalls:sys_enter_$call"
done
for target in floor limit nodelink; do
  taskset -c 1 target/release/loadgen --server-cpus 0 --target "$target" --scenario sync \
    --players 1000 --warmup 3 --duration 10 > "$out/floor-syscalls-$target.json" 2>/dev/null &
  loadgen=$!
  server=""
  while [ -z "$server" ]; do
    sleep 0.2
    server=$(pgrep -n -f "bench-server-$target" || true)
  done
  sleep 6 # the players connected, past the warmup
  {
    echo "== $target"
    perf stat -e "$events" -p "$server" -- sleep 5 2>&1 || true
  } >> "$syscalls"
  wait "$loadgen"
done
