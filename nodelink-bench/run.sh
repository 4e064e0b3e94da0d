#!/usr/bin/env bash
# Reproduces the load measurements in BENCHMARKS.md: builds the bench crate,
# installs the Python nodelink 0.6.0 baseline, sweeps the `sync` scenario over N for
# each server (stopping a server's sweep where it saturates: under 19 frames/s per
# client or p99 over 1 s), measures idle memory per player, and draws the chart.
#
# Usage: nodelink-bench/run.sh [OUT_DIR]   (default nodelink-bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true

cargo build --release -p nodelink-bench
nodelink-bench/python/setup.sh
out="${1:-nodelink-bench/results}"
mkdir -p "$out"
: > "$out/results.jsonl"

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

for target in limit nodelink; do
  for players in 1000 10000; do
    run --target "$target" --scenario idle --players "$players" --warmup 2 --duration 3 || true
  done
done

target/release/chart "$out/results.jsonl" "$out/sync.svg"
echo "run.sh: results in $out/results.jsonl, chart in $out/sync.svg" >&2
