#!/usr/bin/env bash
# A whole service on one machine: a Redis for its directory, three game processes
# (`examples/service.rs`, the web game's server) and two gateways
# (`nodelink-relay --redis`), every one on 127.0.0.1. Builds them with cargo
# first, prints where to connect, and stops everything it started on Ctrl-C (one
# that stops before, killed to watch the service carry on without it, is reported).
#
#   deploy/local.sh                  run until Ctrl-C
#   deploy/local.sh --check          start, check a player can create a table
#                                    through gateway 1 and another join it by its
#                                    code through gateway 2, stop; exit 0 or 1
#
# docs/service.md describes the topology; deploy/compose.yaml and deploy/systemd/
# run the same on several machines.
set -euo pipefail

usage() {
  cat <<'TEXT'
usage: deploy/local.sh [--check] [--release] [--redis-port N]
                       [--process-ports A,B,C] [--gateway-ports A,B] [--service NAME]

Starts redis-server, three game processes and two gateways on 127.0.0.1.
  --check                check a client can create through gateway 1 and join by
                         code through gateway 2, then stop everything; exit 0/1
  --release              build and run release binaries
  --redis-port N         Redis's port [6390]
  --process-ports A,B,C  the game processes' ports [7101,7102,7103]
  --gateway-ports A,B    the gateways' ports [9101,9102]
  --service NAME         the service's name in Redis [local]
TEXT
}

check=0
profile=debug
redis_port=6390
process_ports=7101,7102,7103
gateway_ports=9101,9102
service=local

while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --release) profile=release ;;
    --redis-port) redis_port="${2:?--redis-port needs a value}"; shift ;;
    --process-ports) process_ports="${2:?--process-ports needs a value}"; shift ;;
    --gateway-ports) gateway_ports="${2:?--gateway-ports needs a value}"; shift ;;
    --service) service="${2:?--service needs a value}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy/local.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

IFS=, read -r -a processes <<<"$process_ports"
IFS=, read -r -a gateways <<<"$gateway_ports"
for port in "$redis_port" "${processes[@]}" "${gateways[@]}"; do
  case "$port" in
    ''|*[!0-9]*) echo "deploy/local.sh: $port is not a port" >&2; exit 2 ;;
  esac
done
if [ "${#gateways[@]}" -lt 2 ]; then
  echo "deploy/local.sh: --gateway-ports needs two ports" >&2
  exit 2
fi
if ! command -v redis-server >/dev/null; then
  echo "deploy/local.sh: redis-server is needed (apt-get install redis-server)" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/$profile"
redis_url="redis://127.0.0.1:$redis_port"

echo "== building the game process, the gateway and the probe ($profile)" >&2
cargo_flags=(--quiet -p nodelink-examples -p nodelink-relay --example service --example service_probe --bin nodelink-relay)
if [ "$profile" = release ]; then cargo_flags+=(--release); fi
(cd "$root" && cargo build "${cargo_flags[@]}")

logs="$(mktemp -d "${TMPDIR:-/tmp}/nodelink-local.XXXXXX")"
pids=()
names=()

# Stops what this script started: the processes and gateways first (SIGINT: they
# leave the directory and close their players with a reason), then Redis.
stop() {
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

# start NAME COMMAND…: runs COMMAND in the background, its output in $logs/NAME.log.
start() {
  local name="$1"
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# Prints the end of every log, after a failure.
show_logs() {
  local log
  for log in "$logs"/*.log; do
    echo "---- $(basename "$log")" >&2
    tail -n 20 "$log" >&2
  done
}

# Fails unless everything started is still running.
all_alive() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "deploy/local.sh: ${names[$i]} stopped" >&2
      show_logs
      return 1
    fi
  done
}

# wait_for WHAT COMMAND…: retries COMMAND for up to 30 s, while everything runs.
wait_for() {
  local what="$1"
  shift
  for _ in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    all_alive || return 1
    sleep 0.1
  done
  echo "deploy/local.sh: timed out waiting for $what" >&2
  show_logs
  return 1
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A process registers as soon as it starts, draining and with no kinds; it is
# ready for players once its next beat publishes its kinds.
processes_registered() {
  local id serving=0
  for id in $(redis-cli -p "$redis_port" zrange "$service:procs" 0 -1); do
    if [ -n "$(redis-cli -p "$redis_port" hget "$service:proc:$id" kinds)" ] &&
      [ "$(redis-cli -p "$redis_port" hget "$service:proc:$id" draining)" = 0 ]; then
      serving=$((serving + 1))
    fi
  done
  [ "$serving" -ge "${#processes[@]}" ]
}

start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no
wait_for "redis-server on $redis_port" listening "$redis_port" || exit 1

for i in "${!processes[@]}"; do
  port="${processes[$i]}"
  start "process-$((i + 1))" "$bin/examples/service" --redis "$redis_url" --service "$service" \
    --host 127.0.0.1 --port "$port" --advertise "ws://127.0.0.1:$port/" --trust 127.0.0.1
done
for i in "${!gateways[@]}"; do
  start "gateway-$((i + 1))" "$bin/nodelink-relay" --redis "$redis_url" --service "$service" \
    --host 127.0.0.1 --port "${gateways[$i]}"
done
for port in "${processes[@]}" "${gateways[@]}"; do
  wait_for "a listener on $port" listening "$port" || exit 1
done
if command -v redis-cli >/dev/null; then
  wait_for "${#processes[@]} processes serving in the directory" processes_registered || exit 1
fi

if [ "$check" = 1 ]; then
  echo "== checking: create through gateway 1, join by code through gateway 2" >&2
  if "$bin/examples/service_probe" "ws://127.0.0.1:${gateways[0]}/" "ws://127.0.0.1:${gateways[1]}/"; then
    rm -rf "$logs"
    exit 0
  fi
  show_logs
  exit 1
fi

cat <<TEXT
The service "$service" is running.
  players connect to a gateway, as to one game process (?match=create&kind=game,
  ?match=join&code=…, ?match=find…, ?match=list&kind=game, or no query for a
  default table):
$(for port in "${gateways[@]}"; do echo "    ws://127.0.0.1:$port/"; done)
  game processes:
$(for port in "${processes[@]}"; do echo "    ws://127.0.0.1:$port/"; done)
  directory: $redis_url, service "$service"
    redis-cli -p $redis_port zrange $service:procs 0 -1 withscores
    redis-cli -p $redis_port --scan --pattern '$service:*'
  try it:  $bin/examples/service_probe ws://127.0.0.1:${gateways[0]}/ ws://127.0.0.1:${gateways[1]}/
  logs:    $logs
Ctrl-C stops everything.
TEXT

# Until Ctrl-C. One that stops meanwhile (a game process killed, to watch its
# players' clients carry on elsewhere) is reported, and the others go on.
reported=()
while true; do
  for i in "${!pids[@]}"; do
    if [ -z "${reported[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "deploy/local.sh: ${names[$i]} stopped (its log: $logs/${names[$i]}.log); the others go on" >&2
      reported[$i]=1
    fi
  done
  sleep 1
done
