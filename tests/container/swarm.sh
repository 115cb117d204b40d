#!/usr/bin/env bash
# A rolling update on Docker Swarm (docs/protocol.md "Rollouts and connection
# lifetime"; deploy/swarm/stack.yml): a one-node swarm, the stack deployed from
# the image the container tests built (echod:latest, --resolve-image never),
# then `docker service update` to a new version label under
# `echo-client --bench --reconnect --rate` from a container on the stack's
# network: 0 wrong replies, 0 refused connects, every broken connection a
# FIN, and `--spread --by=version` all old before, mixed during, all new
# after. Then the same update with the tasks' stop signal SIGKILL: the
# connections must break some other way (the check can fail). Leaves swarm
# mode (if it entered it) and removes the stack, also when it fails.
# Exit: 0 passed, 1 failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/container/lib.sh
. tests/container/lib.sh

stack="echodswarm$$"
service="${stack}_server"
network="${stack}_echo"
entered_swarm=false
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null
  docker stack rm "$stack" >/dev/null 2>&1 || true
  # Its tasks and network go asynchronously: wait, bounded, so that leaving works.
  for _ in $(seq 1 30); do
    docker network inspect "$network" >/dev/null 2>&1 || break
    sleep 1
  done
  if $entered_swarm; then docker swarm leave --force >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if ! docker image inspect echod:latest >/dev/null 2>&1; then
  fail "no echod:latest image (tests/container/run.sh builds it)"
  exit 1
fi
case "$(docker info --format '{{.Swarm.LocalNodeState}}')" in
  inactive)
    if docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
      entered_swarm=true
      pass "one-node swarm initialised (left again at the end)"
    else
      fail "docker swarm init"
      exit 1
    fi
    ;;
  active) pass "the engine is already a swarm manager: used as it is, not left" ;;
  *)
    fail "the engine's swarm state is $(docker info --format '{{.Swarm.LocalNodeState}}')"
    exit 1
    ;;
esac

if ! timeout 120 docker stack deploy --resolve-image never -c deploy/swarm/stack.yml "$stack" >/dev/null 2>&1; then
  fail "docker stack deploy"
  exit 1
fi
# A client container on the stack's overlay network: the service name resolves to every task (dnsrr).
client() { timeout 120 docker run --rm --network "$network" --entrypoint echo-client echod:latest --host=server "$@"; }
versions() { # who answers N fresh connections, by version: "VERSION:COUNT ...", sorted
  client --spread="$1" --by=version --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["replicas"]
except Exception:
    r = {}
print(" ".join(f"{k}:{v}" for k, v in sorted(r.items())))'
}
running=""
for _ in $(seq 1 60); do
  running=$(docker service ls --filter "name=$service" --format '{{.Replicas}}')
  [ "$running" = "3/3" ] && [ "$(versions 12)" = "1.0.0:12" ] && break
  sleep 1
done
expect_eq "3 tasks running, every one answering who as version 1.0.0" "3/3 1.0.0:12" "$running $(versions 12)"

# One rolling update under a paced load: update to $1, with the service's
# settings as deployed plus the extra `docker service update` flags after it.
# Prints the load's JSON result to $bench_out and the spreads sampled during
# the update to $samples.
rolling_update() {
  local version=$1
  shift
  bench_out=$(mktemp)
  samples=$(mktemp)
  client --bench --reconnect --connections=20 --rate=200 --duration=50 --json >"$bench_out" 2>/dev/null &
  local bench_pid=$!
  # The load is at work (its first replies) before the update starts.
  sleep 3
  timeout 120 docker service update --detach=false --quiet --label-add "version=$version" --force "$@" "$service" \
    >/dev/null 2>&1 &
  local update_pid=$!
  while kill -0 "$update_pid" 2>/dev/null; do
    versions 6 >>"$samples"
    sleep 1
  done
  wait "$update_pid"
  update_rc=$?
  update_done_while_loaded=false
  kill -0 "$bench_pid" 2>/dev/null && update_done_while_loaded=true
  wait "$bench_pid"
}

echo "--- rolling update 1.0.0 -> 2.0.0 (start-first, SIGTERM: shutdown delay, then drain)"
rolling_update 2.0.0
bench=$(cat "$bench_out")
echo "  $bench"
expect_eq "docker service update converged" 0 "$update_rc"
expect_eq "the update finished while the load still ran" true "$update_done_while_loaded"
expect_eq "0 wrong replies" 0 "$(json_get "$bench" '["errors"]')"
expect_eq "0 refused connects" 0 "$(json_get "$bench" '["refused"]')"
fin=$(json_get "$bench" '["broken"].get("fin", 0)')
if [ "${fin:-0}" -ge 3 ] 2>/dev/null; then
  pass "the update broke connections ($fin), each ended with FIN by its old task's drain"
else
  fail "the update broke ${fin:-no} connections with FIN: did it replace the tasks under the load?"
fi
expect_eq "no connection broke any other way (err reset closed timeout)" "0 0 0 0" \
  "$(broken_otherwise "$bench")"
expect_eq "every broken connection was reopened" "$fin" "$(json_get "$bench" '["reconnects"]')"
echo "  spread by version during the update: $(tr '\n' '|' <"$samples")"
first_sample=$(head -n 1 "$samples")
if [ "${first_sample#*1.0.0:}" != "$first_sample" ]; then
  pass "the update started one task at a time: its first sample still saw 1.0.0 ($first_sample)"
else
  fail "the first sample during the update saw no 1.0.0: ${first_sample:-none}"
fi
if grep -q '1.0.0:.*2.0.0:' "$samples"; then
  pass "during the update the versions were mixed"
else
  fail "no spread during the update saw both versions"
fi
expect_eq "after the update every task answers 2.0.0" "2.0.0:12" "$(versions 12)"
expect_eq "--spread --by=version --expect=2.0.0:100~0 exits 0" 0 \
  "$(client --spread=12 --by=version --expect=2.0.0:100~0 >/dev/null 2>&1; echo $?)"
rm -f "$bench_out" "$samples"

echo "--- the same update with the tasks' stop signal SIGKILL: no drain, the check must see it"
# The tasks are stopped with the signal they were created with: first make
# tasks that carry SIGKILL (no load, as fast as the update allows), then update them under the load.
if timeout 120 docker service update --detach=false --quiet --stop-signal SIGKILL --update-delay 0s \
  --update-monitor 1s "$service" >/dev/null 2>&1; then
  pass "tasks now stop with SIGKILL"
else
  fail "docker service update --stop-signal SIGKILL"
fi
rolling_update 3.0.0
bench=$(cat "$bench_out")
echo "  $bench"
expect_eq "docker service update converged" 0 "$update_rc"
others=$(echo "$bench" | /usr/bin/python3 -c 'import json,sys; b=json.load(sys.stdin)["broken"]; print(b.get("reset",0) + b.get("closed",0) + b.get("timeout",0))' 2>/dev/null)
if [ "${others:-0}" -ge 1 ] 2>/dev/null; then
  pass "killed tasks broke $others connections without FIN: the check above can fail"
else
  fail "killed tasks broke no connection without FIN: the FIN check above proves nothing"
fi
rm -f "$bench_out" "$samples"

echo
if [ "$failures" -eq 0 ]; then
  echo "swarm tests: all passed"
  exit 0
fi
echo "swarm tests: $failures failed"
exit 1
