#!/usr/bin/env bash
# A federation across separate network hosts on one machine: a coordinator and three clients, each in its own
# network namespace with its own address, joined by veth links to a bridge in a fifth "switch" namespace. Mid-round
# one client's link is cut (`ip link set eth0 down`) for longer than the Socket.IO heartbeat allows, so both sides
# see the connection die; the link is restored, the client reconnects with backoff, rejoins under the same id,
# gets the round in progress again, and the run must finish every round with that client in the last one.
#
# Needs root and `ip netns` (iproute2); prints one line and exits 0 when the machine does not allow it.
# Nothing touches the root namespace's interfaces: every address lives inside namespaces this script creates,
# and a trap removes them, with every process it started, on every exit path. See README.md.
set -euo pipefail

ROUNDS=${ROUNDS:-4}
CUT_ROUND=${CUT_ROUND:-2}
# Longer than the server's pingInterval + pingTimeout (10 s + 20 s), so the cut is a real disconnection.
OUTAGE_S=${OUTAGE_S:-35}
HARD_TIMEOUT_S=${HARD_TIMEOUT_S:-300}
KEEP_WORKDIR=${KEEP_WORKDIR:-0}

readonly SUBNET=10.77.0
readonly COORDINATOR_IP=$SUBNET.1
readonly PORT=8471
readonly CLIENTS=3
readonly CUT_CLIENT=2
readonly DIM=32

skip() {
  echo "multihost: skipped: $*"
  exit 0
}

[[ $EUID -eq 0 ]] || skip "needs root to create network namespaces (running as uid $EUID)"
command -v ip >/dev/null 2>&1 || skip "the ip command (iproute2) is not installed"
command -v node >/dev/null 2>&1 || { echo "multihost: FAILED: node is not on PATH" >&2; exit 1; }

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO_ROOT
# Per-run names, so two runs on one machine (or a stale one) never collide.
readonly TAG="ftl$$"
readonly SWITCH_NS="$TAG-sw"
readonly COORDINATOR_NS="$TAG-coord"
client_ns() { echo "$TAG-c$1"; }
client_ip() { echo "$SUBNET.$((10 + $1))"; }

START=$SECONDS
DEADLINE=$((SECONDS + HARD_TIMEOUT_S))
WORK=""
NAMESPACES=()
PIDS=()

say() { printf 'multihost: [%4ss] %s\n' "$((SECONDS - START))" "$*"; }
fail() {
  echo "multihost: FAILED: $*" >&2
  exit 1
}

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.3
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Deleting a namespace deletes the veth ends inside it, and with them their peers on the bridge.
  local ns
  for ns in "${NAMESPACES[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  if [[ -n $WORK ]]; then
    if [[ $code -ne 0 || $KEEP_WORKDIR == 1 ]]; then
      echo "multihost: logs and metrics kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# Polls `$2…` until it succeeds; fails with "$1" when the run's hard deadline passes first.
wait_until() {
  local what=$1
  shift
  until "$@"; do
    [[ $SECONDS -lt $DEADLINE ]] || fail "timed out after ${HARD_TIMEOUT_S}s waiting for $what"
    sleep 0.5
  done
}

add_namespace() {
  ip netns add "$1"
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# One host: its namespace, a veth whose host end is eth0 with the given address, and whose other end is a port
# of the bridge in the switch namespace. Both ends are created directly inside their namespaces.
add_host() {
  local ns=$1 address=$2 port=$3
  add_namespace "$ns"
  ip link add eth0 netns "$ns" type veth peer name "$port" netns "$SWITCH_NS"
  ip -n "$SWITCH_NS" link set "$port" master br0 up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
}

if ! ip netns add "$SWITCH_NS" 2>/dev/null; then
  skip "ip netns is unavailable here (cannot create a network namespace)"
fi
NAMESPACES+=("$SWITCH_NS")

WORK=$(mktemp -d -t fedtl-multihost-XXXXXX)
say "work dir $WORK; subnet $SUBNET.0/24; rounds $ROUNDS; cut org-$CUT_CLIENT in round $CUT_ROUND for ${OUTAGE_S}s"

ip -n "$SWITCH_NS" link set lo up
ip -n "$SWITCH_NS" link add br0 type bridge
ip -n "$SWITCH_NS" link set br0 up
add_host "$COORDINATOR_NS" "$COORDINATOR_IP" coord
for k in $(seq 1 "$CLIENTS"); do add_host "$(client_ns "$k")" "$(client_ip "$k")" "c$k"; done
for ns in "$COORDINATOR_NS" $(for k in $(seq 1 "$CLIENTS"); do client_ns "$k"; done); do
  say "host $ns: $(ip -n "$ns" -4 -brief addr show dev eth0 | awk '{print $3}')"
done

cd "$REPO_ROOT"
node --import tsx deploy/multihost/write-features.ts "$WORK" "$CLIENTS" "$DIM" 2000 >/dev/null

# The coordinator listens beyond loopback, so it needs a token; every process here inherits it from the env.
FEDTL_TOKEN=$(node -e "process.stdout.write(require('crypto').randomBytes(24).toString('hex'))")
export FEDTL_TOKEN
ip netns exec "$COORDINATOR_NS" node --import tsx apps/cli/src/main.ts coordinator \
  --host "$COORDINATOR_IP" --port "$PORT" --ready-file "$WORK/ready.json" --out-dir "$WORK/out" --fresh \
  --rounds "$ROUNDS" --min-clients "$CLIENTS" --min-available "$CLIENTS" \
  --round-timeout-ms 240000 --rejoin-grace-ms 150000 \
  --backbone "precomputed:$DIM" --labels a,b --adapter-width 16 --local-epochs 5 --batch-size 32 \
  --learning-rate 0.01 --seed 11 --log-format json >"$WORK/coordinator.log" 2>&1 &
COORDINATOR_PID=$!
PIDS+=("$COORDINATOR_PID")
wait_until "the coordinator to listen" test -s "$WORK/ready.json"
URL=$(node -p "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')).url" "$WORK/ready.json")
say "coordinator listening at $URL (namespace $COORDINATOR_NS)"

reaches_coordinator() {
  ip netns exec "$1" node -e "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$URL"
}
for k in $(seq 1 "$CLIENTS"); do
  wait_until "host $(client_ns "$k") to reach $URL" reaches_coordinator "$(client_ns "$k")"
done
say "every client host reaches the coordinator's status page over the bridge"

CLIENT_PIDS=()
for k in $(seq 1 "$CLIENTS"); do
  ip netns exec "$(client_ns "$k")" node --import tsx apps/cli/src/main.ts client \
    --coordinator "$URL" --client-id "org-$k" --features "$WORK/client-$k.features.json" \
    --backbone "precomputed:$DIM" --backend cpu --ack-timeout-ms 20000 --log-format json >"$WORK/org-$k.log" 2>&1 &
  CLIENT_PIDS+=($!)
  PIDS+=($!)
done
say "started clients org-1..org-$CLIENTS at $(client_ip 1)..$(client_ip "$CLIENTS")"

# pino writes `msg` last, after the fields: the two are matched apart, not in one order.
round_started() { grep '"msg":"round started"' "$WORK/coordinator.log" | grep -q "\"round\":$CUT_ROUND,"; }
round_aggregated() { grep -q "\"round\":$1,[^}]*\"status\":\"aggregated\"" "$WORK/out/metrics.jsonl" 2>/dev/null; }
wait_until "round $CUT_ROUND to start" round_started
CUT_NS=$(client_ns "$CUT_CLIENT")
ip -n "$CUT_NS" link set eth0 down
say "round $CUT_ROUND started; CUT org-$CUT_CLIENT's link (ip -n $CUT_NS link set eth0 down)"
# In the background, so an interrupt is handled at once rather than after the outage.
sleep "$OUTAGE_S" &
PIDS+=($!)
wait $!
round_aggregated "$CUT_ROUND" && fail "round $CUT_ROUND was aggregated without org-$CUT_CLIENT while its link was down"
ip -n "$CUT_NS" link set eth0 up
say "RESTORED org-$CUT_CLIENT's link after ${OUTAGE_S}s; round $CUT_ROUND was still waiting for it"

coordinator_exited() { ! kill -0 "$COORDINATOR_PID" 2>/dev/null; }
wait_until "the coordinator to finish $ROUNDS rounds" coordinator_exited
COORDINATOR_CODE=0
wait "$COORDINATOR_PID" || COORDINATOR_CODE=$?
[[ $COORDINATOR_CODE -eq 0 ]] || fail "the coordinator exited with $COORDINATOR_CODE; last lines:
$(tail -n 5 "$WORK/coordinator.log")"
for k in $(seq 1 "$CLIENTS"); do
  pid=${CLIENT_PIDS[$((k - 1))]}
  wait_until "org-$k to exit" bash -c "! kill -0 $pid 2>/dev/null"
  code=0
  wait "$pid" || code=$?
  [[ $code -eq 0 ]] || fail "client org-$k exited with $code; last lines:
$(tail -n 5 "$WORK/org-$k.log")"
done
say "coordinator and all clients exited cleanly"

say "what the link cut did (from the JSON logs):"
node --import tsx deploy/multihost/print-log-events.ts "$WORK/coordinator.log" coordinator "org-$CUT_CLIENT" \
  'client disconnected' 'client left' 'client joined' 'client rejoined' 'sending the current round' 'round started' 'round aggregated'
node --import tsx deploy/multihost/print-log-events.ts "$WORK/org-$CUT_CLIENT.log" "org-$CUT_CLIENT" "org-$CUT_CLIENT" \
  'connection lost' 'cannot reach' 'joined' 'update' 'local job failed' 'join not acknowledged'

say "rounds (metrics.jsonl):"
node --import tsx deploy/multihost/check-metrics.ts "$WORK/out/metrics.jsonl" "$ROUNDS" "$CUT_ROUND" "org-$CUT_CLIENT"
say "PASSED: $ROUNDS rounds across $((CLIENTS + 1)) network hosts; org-$CUT_CLIENT was cut for ${OUTAGE_S}s in round $CUT_ROUND and is back in the last round"
