#!/usr/bin/env bash
# What TLS costs: the `sync` scenario against the nodelink server over ws:// and
# over wss://, three rounds with the two interleaved, the server pinned to core 0
# and the generator to core 1 (the bots decrypt too: sharing a core, they would
# take their TLS work out of the server's time). Fifty observers rather than five:
# a move's latency depends on where it falls in the server's 50 ms tick, and the
# first fifty bots connect over more than one tick, so their moves cover every
# phase of it (five, connected within a few milliseconds, share one phase, which
# changes from run to run). Prints the medians and the wss:// / ws:// ratios as a
# Markdown table; the result lines go to tls.jsonl.
#
# Usage: nodelink-bench/run-tls.sh [OUT_DIR] [PLAYERS]   (defaults
# nodelink-bench/results, 500)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p nodelink-bench
out="${1:-nodelink-bench/results}"
players="${2:-500}"
mkdir -p "$out"
: > "$out/tls.jsonl"

for round in 1 2 3; do
  for tls in "" --tls; do
    echo "run-tls.sh: round $round, ${tls:-plain}" >&2
    # shellcheck disable=SC2086 # $tls is one flag or none
    taskset -c 1 target/release/loadgen --target nodelink --scenario sync --players "$players" \
      --observers 50 --warmup 3 --duration 10 --server-cpus 0 $tls 2>/dev/null >> "$out/tls.jsonl"
  done
done

python3 - "$out/tls.jsonl" <<'PY'
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
columns = [
    ("server CPU (% of a core)", lambda r: r["server_cpu_percent"]),
    ("latency p50 (ms)", lambda r: r["latency_ms"]["p50"]),
    ("latency p99 (ms)", lambda r: r["latency_ms"]["p99"]),
    ("bytes/s per client read from the socket", lambda r: r["socket_bytes_per_s_per_client"]),
    ("of which frames' payloads", lambda r: r["bytes_per_s_per_client"]),
    ("of which framing, pings and TLS",
     lambda r: r["socket_bytes_per_s_per_client"] - r["bytes_per_s_per_client"]),
    ("server RSS per player (KiB)", lambda r: r["server_rss_per_player_kib"]),
    ("frames/s per client", lambda r: r["frames_per_s_per_client"]),
    ("generator CPU (% of a core)", lambda r: r["loadgen_cpu_percent"]),
]
median = {
    tls: [statistics.median(f(r) for r in rows if r["tls"] == tls) for _, f in columns]
    for tls in (False, True)
}
print(f"players: {rows[0]['players']}, rounds: {len(rows) // 2}")
print("| median of three | ws:// | wss:// | wss:// / ws:// |")
print("|---|---|---|---|")
for (name, _), plain, tls in zip(columns, median[False], median[True]):
    print(f"| {name} | {plain:.2f} | {tls:.2f} | {tls / plain:.2f}× |")
for tls in (False, True):
    for name, f in columns[:4]:
        values = ", ".join(f"{f(r):.2f}" for r in rows if r["tls"] == tls)
        print(f"{'wss' if tls else 'ws '} {name}: {values}", file=sys.stderr)
PY
