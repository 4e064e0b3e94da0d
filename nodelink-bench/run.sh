#!/usr/bin/env bash
# Reproduces the load measurements in BENCHMARKS.md: builds the bench crate,
# installs the Python nodelink 0.6.0 baseline, sweeps the `sync` scenario over N for
# each server (a sweep stops where the server saturates: under 19 frames/s per
# client or p99 over 1 s), runs nodelink with JSON-wire bots at three N, repeats
# N = 500 and 1000 three times for the CPU ratios, measures idle memory per player, then the
# `broadcast`, `connect` and `rooms` scenarios, compares ws:// with wss://
# (run-tls.sh), and draws the chart.
#
# Usage: nodelink-bench/run.sh [OUT_DIR]   (default nodelink-bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
# 10,000 bots hold 10,000 sockets in the generator and as many in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
  echo "run.sh: ulimit -n is $(ulimit -n); the 10,000-player runs need more than 10,100" >&2
fi

cargo build --release -p nodelink-bench
nodelink-bench/python/setup.sh
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
: > "$out/results.jsonl"
: > "$out/repeats.jsonl"

run() { target/release/loadgen "$@" 2>/dev/null | tee -a "$out/results.jsonl"; }

saturated() {
  python3 -c 'import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["frames_per_s_per_client"] < 19 or (r["latency_ms"]["p99"] or 0) > 1000 else 1)' "$1"
}

for target in limit nodelink python; do
  for players in 10 100 250 500 750 1000 1500 2000; do
    if ! line=$(run --target "$target" --scenario sync --players "$players" --warmup 3 --duration 10); then
      echo "run.sh: $target could not hold $players players" >&2
      break
    fi
    if saturated "$line"; then
      echo "run.sh: $target saturated at $players players" >&2
      break
    fi
  done
done

# The nodelink server with bots on its JSON wire (as Python clients would be).
for players in 100 500 1000; do
  run --target nodelink-json --scenario sync --players "$players" --warmup 3 --duration 10 || true
done

# CPU at 500 and 1,000 players again, three rounds with the servers interleaved: a
# single window on a shared machine is not enough for a ratio (median in BENCHMARKS).
for round in 1 2 3; do
  for players in 500 1000; do
    for target in limit nodelink python; do
      target/release/loadgen --target "$target" --scenario sync --players "$players" \
        --warmup 3 --duration 10 2>/dev/null >> "$out/repeats.jsonl" || true
    done
  done
done

for target in limit nodelink; do
  for players in 1000 10000; do
    run --target "$target" --scenario idle --players "$players" --warmup 2 --duration 3 || true
  done
done

# One sender, 20 chat lines a second, relayed to everyone.
for target in limit nodelink python; do
  for players in 100 1000; do
    run --target "$target" --scenario broadcast --players "$players" --rate 20 --warmup 3 --duration 10 ||
      echo "run.sh: $target could not hold $players players (broadcast)" >&2
  done
done

# Joins at 500 a second. Python nodelink sends the whole world to everyone on every
# join, so it gets 5,000 rather than 10,000; its failed and slow joins are the
# finding, and are recorded in the result line.
run --target limit --scenario connect --players 10000 --rate 500 || true
run --target nodelink --scenario connect --players 10000 --rate 500 || true
run --target python --scenario connect --players 5000 --rate 500 || true

# Rooms of 50 (200 rooms at 10,000), sync scoped to each room at 20 Hz. Players
# move twice a second: every room still changes on every tick (about 5 moves per
# tick in a room of 50), while the generator is spared 200,000 moves a second at
# 10,000. Not for Python nodelink, which has no room-scoped sync. A sweep stops
# where it saturates.
for target in limit nodelink; do
  for players in 2000 10000; do
    if ! line=$(run --target "$target" --scenario rooms --players "$players" --room-size 50 \
      --rate 2 --observers 20 --warmup 3 --duration 10); then
      echo "run.sh: $target could not hold $players players (rooms)" >&2
      break
    fi
    if saturated "$line"; then
      echo "run.sh: $target saturated at $players players (rooms)" >&2
      break
    fi
  done
done

# ws:// against wss://: the sync scenario at 500 players, interleaved, the server
# and the generator pinned to different cores (BENCHMARKS.md, "TLS").
nodelink-bench/run-tls.sh "$out"

# The limit server on nodelink's wire (sync), broadcast latency, and a relay:
# three interleaved rounds, pinned (BENCHMARKS.md, "Against a limit server on
# nodelink's own wire", "Broadcast latency, explained", "Through a relay").
nodelink-bench/run-round-two.sh "$out"

target/release/chart "$out/results.jsonl" "$out/sync.svg"
echo "run.sh: results in $out/results.jsonl, chart in $out/sync.svg" >&2
