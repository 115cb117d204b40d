#!/usr/bin/env bash
# Container tests: the image, docker-compose.yml, netcat through the published
# port (the front service), the client and load containers, docker stop,
# scale-out, the lb and monitoring profiles; then the README's own commands,
# run as written (tests/container/readme_run.py). Tears everything down on
# exit, even after a failure (images stay cached).
# Exit: 0 passed; 1 failed; 77 skipped (no Docker engine and no way to start one).
set -uo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/container/lib.sh
. tests/container/lib.sh

rc=0
scripts/ensure-docker.sh || rc=$?
if [ $rc -eq 3 ]; then
  echo "container tests skipped: no Docker engine answers and this user cannot start one"
  [ "${CI:-}" = true ] && { echo "CI=true: container tests must run"; exit 1; }
  exit 77
elif [ $rc -ne 0 ]; then
  echo "container tests: Docker is not usable (see above)"
  exit 1
fi

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
project="echodtest$$"
export COMPOSE_PROJECT_NAME=$project ECHO_PUBLISH="127.0.0.1:0" ECHO_TLS_PUBLISH="127.0.0.1:0" ECHO_ADMIN_PUBLISH="127.0.0.1:0" \
  ECHO_PROMETHEUS_PUBLISH="127.0.0.1:0" ECHO_LB_PUBLISH="127.0.0.1:0" ECHO_UDP_PORT=4567
ECHOD_REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
export ECHOD_REVISION
dc() { "${compose[@]}" -p "$project" "$@"; }
cleanup() {
  exec 3<&- 3>&- 2>/dev/null || true
  dc --profile load --profile monitoring --profile lb down --volumes --remove-orphans >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "--- building images with ${compose[*]}"
start=$(date +%s)
if ! dc --profile load build >/tmp/echod-compose-build.log 2>&1; then
  tail -n 40 /tmp/echod-compose-build.log
  fail "image build"
  exit 1
fi
pass "image build ($(($(date +%s) - start)) s; unit tests ran inside the build stage)"
size=$(docker image inspect -f '{{.Size}}' echod:latest)
if [ "$size" -lt 30000000 ]; then
  pass "runtime image echod:latest is $((size / 1000000)) MB (under 30 MB)"
else
  fail "runtime image echod:latest is $((size / 1000000)) MB, not under 30 MB"
fi
label() { docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" echod:latest; }
expect_eq "OCI label title" echod "$(label title)"
expect_eq "OCI label revision is this commit" "$ECHOD_REVISION" "$(label revision)"
for key in description source version licenses; do
  if [ -n "$(label $key)" ]; then pass "OCI label $key: $(label $key | cut -c1-60)"; else fail "no OCI label $key"; fi
done

echo "--- server up behind the front service, waiting for healthy"
dc up -d front >/dev/null 2>&1 || { fail "compose up"; exit 1; }
server_id=$(dc ps -q server)
status=unknown
for _ in $(seq 1 60); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$server_id" 2>/dev/null || echo missing)
  [ "$status" = healthy ] && break
  sleep 1
done
expect_eq "server container becomes healthy (echo-client --check)" healthy "$status"
port=$(dc port front 4567 | sed 's/.*://')
pass "published on 127.0.0.1:$port by the front service"
expect_eq "the server replicas publish no port (so they scale)" "" "$(docker port "$server_id")"

echo "--- capacity follows the compose limits (pids_limit 10240)"
pool=$(docker logs "$server_id" 2>&1 | grep -o 'worker pool: [0-9]* threads, decided by [a-z .A-Z_]*' | head -n 1)
echo "  $pool"
threads=$(echo "$pool" | grep -o '[0-9]*' | head -n 1)
expect_eq "the pids limit decides the pool" "cgroup pids.max" "$(echo "$pool" | sed 's/.*decided by //; s/ *$//')"
if [ "${threads:-0}" -ge 10000 ] && [ "${threads:-0}" -le 10240 ]; then
  pass "pool of $threads threads: room for 10,000 connections within pids.max"
else
  fail "pool of ${threads:-?} threads, expected 10,000 to 10,240"
fi

echo "--- the client container's scripted session"
out=$(timeout 60 "${compose[@]}" -p "$project" run --rm -T client 2>/dev/null)
expect_eq "client container replies" $'echo : hello from the client container\necho : bye\nFIN' "$out"

echo "--- netcat from the host"
out=$(printf 'ping\r\nexit\n' | timeout 10 nc -q 5 127.0.0.1 "$port")
expect_eq "netcat gets echo and FIN" $'echo : ping\nFIN' "$out"

echo "--- UDP echo through compose (ECHO_UDP_PORT=4567): the client container, then a datagram from the host"
out=$(timeout 60 "${compose[@]}" -p "$project" run --rm -T --no-deps client --udp --host=server --port=4567 \
  --send=datagram --timeout=5 2>/dev/null)
expect_eq "echo-client --udp from the client container" "echo : datagram" "$out"
udp_port=$(dc port --protocol=udp front 4567 | sed 's/.*://')
out=$(timeout 10 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"from the host", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(100).decode())' "$udp_port" 2>&1)
expect_eq "a datagram from the host comes back through the published UDP port" "echo : from the host" "$out"

echo "--- the web console on the admin port, in headless Chromium"
admin_port=$(dc port front 9090 | sed 's/.*://')
if /usr/bin/python3 tests/browser/console_test.py "http://127.0.0.1:$admin_port/" "$(mktemp -d /tmp/echod-console-XXXXXX)"; then
  pass "the console works against the compose setup"
else
  fail "the console against the compose setup"
fi

echo "--- TLS: the tls-client container, then openssl s_client and ncat --ssl from the host"
out=$(timeout 60 "${compose[@]}" -p "$project" run --rm -T tls-client 2>/dev/null)
case "$out" in
  "ok: server:4568 (TLS) echoed"*) pass "tls-client container: $out" ;;
  *) fail "tls-client container: $out" ;;
esac
tls_port=$(dc port front 4568 | sed 's/.*://')
ca=$(mktemp)
dc run --rm -T --no-deps --entrypoint cat tls-cert /etc/echod/tls/ca.pem >"$ca" 2>/dev/null
if grep -q 'BEGIN CERTIFICATE' "$ca"; then pass "the development CA comes out of the echod-tls volume"; else fail "no CA in the volume"; fi
out=$(printf 'secure\nexit\n' | timeout 10 openssl s_client -connect "127.0.0.1:$tls_port" -CAfile "$ca" \
  -verify_return_error -verify_ip 127.0.0.1 -quiet 2>/dev/null)
expect_eq "openssl s_client (certificate checked) gets echo and FIN" $'echo : secure\nFIN' "$out"
out=$(printf 'via ncat\nexit\n' | timeout 10 ncat --ssl --ssl-verify --ssl-trustfile "$ca" localhost "$tls_port" 2>&1)
expect_eq "ncat --ssl (certificate checked) gets echo and FIN" $'echo : via ncat\nFIN' "$out"
echo "--- mutual TLS: the mtls-client container and who's tls.client; another CA's certificate refused"
out=$(timeout 60 "${compose[@]}" -p "$project" run --rm -T mtls-client 2>/dev/null)
case "$out" in
  "ok: server:4568 (TLS) echoed"*) pass "mtls-client container (its certificate verified): $out" ;;
  *) fail "mtls-client container: $out" ;;
esac
who=$(timeout 60 "${compose[@]}" -p "$project" run --rm -T mtls-client --who 2>/dev/null | head -n 1)
verdict=$(printf '%s\n' "$who" | /usr/bin/python3 -c '
import json, sys
c = json.loads(sys.stdin.readline())["tls"]["client"]
print(c["spiffe_id"], c["verified"], c["issuer"], c["sans"]["uri"] == [c["spiffe_id"]])' 2>&1)
expect_eq "who over mTLS: the client's SPIFFE ID, verified, issued by the development CA" \
  "spiffe://echod.test/ns/default/sa/echo-client True CN=echod development CA True" "$verdict"
other=$(mktemp -d)
ECHOD_CERT_DAYS=30 sh scripts/dev-cert.sh "$other" 2>/dev/null
out=$( (printf 'never echoed\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$tls_port" -CAfile "$ca" \
  -verify_ip 127.0.0.1 -cert "$other/client.pem" -key "$other/client.key" -quiet 2>&1)
case "$out" in
  *"echo : never echoed"*) fail "a client certificate from another CA was served: $out" ;;
  *"alert unknown ca"*) pass "a client certificate from another CA is refused with the unknown_ca alert" ;;
  *) fail "another CA's client certificate: $out" ;;
esac
rm -rf "$other"
out=$(printf 'plain text\n' | timeout 10 nc -q 5 127.0.0.1 "$tls_port" | tr -cd '[:print:]')
case "$out" in
  *echo*) fail "plain text on the TLS port was echoed: $out" ;;
  *) pass "plain text on the TLS port is closed, not echoed" ;;
esac
rm -f "$ca"

echo "--- load mode from the load container"
out=$(timeout 120 "${compose[@]}" -p "$project" --profile load run --rm -T load \
  --bench --connections=20 --messages=500 --pipeline=2 --json 2>/dev/null)
echo "  $out"
expect_eq "load run: 20 x 500 messages" 10000 "$(echo "$out" | grep -o '"messages":[0-9]*' | cut -d: -f2)"
expect_eq "load run: zero errors" 0 "$(echo "$out" | grep -o '"errors":[0-9]*' | cut -d: -f2)"

echo "--- the runtime image: what it runs and nothing else"
if docker run --rm --entrypoint sh echod:latest -c true >/dev/null 2>&1; then
  fail "the runtime image has a shell"
else
  pass "no shell in the runtime image (docker run --entrypoint sh fails)"
fi
created=$(docker create echod:latest)
files=$(docker export "$created" | tar -t | grep -v '/$')
docker rm "$created" >/dev/null
if echo "$files" | grep -qE '(^|/)(sh|bash|dash|apt|apt-get|dpkg|perl|gcc|cc)$'; then
  fail "a shell, package manager or compiler in the image: $(echo "$files" | grep -E '(^|/)(sh|bash|dash|apt|apt-get|dpkg|perl|gcc|cc)$' | tr '\n' ' ')"
else
  pass "$(echo "$files" | wc -l) files: no shell, package manager or compiler"
fi
expect_eq "runs as non-root" "10001:10001" "$(docker image inspect -f '{{.Config.User}}' echod:latest)"
help=$(docker run --rm echod:latest --help 2>&1 | head -n 1)
expect_eq "docker run --rm echod:latest --help" "usage: echo-server [--name=value ...]" "$help"
expect_eq "the health check is echo-client --check" "[CMD echo-client --check]" \
  "$(docker image inspect -f '{{.Config.Healthcheck.Test}}' echod:latest)"

echo "--- ECHO_HOST=:: on Docker's default network, which gives the container no IPv6 address"
# POCO 1.11 looked "::" up with getaddrinfo, which failed here: the server would not start.
six=$(docker run -d -e ECHO_HOST=:: echod:latest)
six_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$six" | awk '{print $1}')
answered=""
for _ in $(seq 1 50); do # bounded: until it listens or exits, at most 50 tries
  [ "$(docker inspect -f '{{.State.Running}}' "$six")" = true ] || break
  answered=$(timeout 3 bash -c 'exec 5<>"/dev/tcp/$0/4567" && printf "over IPv4\n" >&5 &&
    IFS= read -r -t 2 line <&5 && echo "$line"' "$six_ip" 2>/dev/null) && break
  sleep 0.2
done
expect_eq "ECHO_HOST=:: without IPv6: an IPv4 client is answered" "echo : over IPv4" "$answered"
state=""
for _ in $(seq 1 25); do # bounded: the admin port may open a moment after the echo port
  state=$(timeout 5 curl -sf "http://$six_ip:9090/console/state") && break
  sleep 0.2
done
expect_eq "... the admin port answers, its console relaying to 127.0.0.1" '{"echo":"127.0.0.1:4567"' \
  "$(echo "$state" | grep -o '^{"echo":"[^"]*"')"
docker logs "$six" 2>&1 | tail -n 2 | sed 's/^/  log: /'
docker rm -f "$six" >/dev/null

echo "--- docker stop with an open connection"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'before stop\n' >&3
IFS= read -r -t 5 line <&3
expect_eq "open connection answered" "echo : before stop" "$line"
start_ms=$(date +%s%3N)
dc stop server >/dev/null 2>&1
took=$(($(date +%s%3N) - start_ms))
IFS= read -r -t 5 line <&3
expect_eq "open connection got FIN at stop" "FIN" "$line"
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$server_id")
expect_eq "server exit status after docker stop" 0 "$exit_code"
# The shutdown delay (3 s: /readyz says 503, still serving) comes first, then the drain.
if [ "$took" -ge 2900 ] && [ "$took" -lt 15000 ]; then
  pass "stopped in $took ms (shutdown delay 3 s, grace period 15 s)"
else
  fail "stop took $took ms (expected the 3 s shutdown delay, then the drain, under 15 s)"
fi
docker logs "$server_id" 2>&1 | tail -n 4 | sed 's/^/  log: /'

echo "--- scale-out: three replicas behind the service name, on the same published ports"
dc up -d --scale server=3 front >/dev/null 2>&1 || fail "compose up --scale server=3"
healthy=0
for _ in $(seq 1 60); do
  healthy=0
  for id in $(dc ps -q server); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ] && healthy=$((healthy + 1))
  done
  [ $healthy -eq 3 ] && break
  sleep 1
done
expect_eq "three healthy replicas" 3 "$healthy"
out=$(timeout 120 "${compose[@]}" -p "$project" --profile load run --rm -T load \
  --bench --connections=30 --messages=200 --json 2>/dev/null)
expect_eq "load over the replicas: zero errors" 0 "$(echo "$out" | grep -o '"errors":[0-9]*' | cut -d: -f2)"
metric() {  # host:port, series: the value from /metrics over plain HTTP
  local body
  exec 4<>"/dev/tcp/${1%:*}/${1##*:}"
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&4
  body=$(timeout 5 cat <&4)
  exec 4<&- 4>&-
  echo "$body" | awk -v s="$2" '$1 == s {print $2}'
}
# Each replica's own admin port, at its address on the compose network (the
# host reaches a bridge network's containers): the replicas publish nothing.
i=0
for id in $(dc ps -q server); do
  i=$((i + 1))
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | awk '{print $1}')
  served=$(metric "$ip:9090" echod_messages_total)
  # Health checks add a message every 5 s; a share of the 6,000 needs many more.
  if [ "${served:-0}" -ge 200 ]; then
    pass "replica $i served ${served} messages (its /metrics at $ip:9090)"
  else
    fail "replica $i served ${served:-no} messages: the load did not reach it"
  fi
done
healthz=$(exec 5<>"/dev/tcp/127.0.0.1/$admin_port";
  printf 'GET /healthz HTTP/1.0\r\n\r\n' >&5; timeout 5 head -n 1 <&5)
expect_eq "/healthz through the front's admin port answers 200" "HTTP/1.0 200 OK" "$(echo "$healthz" | tr -d '\r')"

echo "--- monitoring profile: Prometheus scrapes every replica"
if dc --profile monitoring build prometheus >/tmp/echod-prometheus-build.log 2>&1 &&
  dc --profile monitoring up -d --no-deps prometheus >/dev/null 2>&1; then
  prom=$(dc port prometheus 9090 | sed 's/.*://')
  up=0
  for _ in $(seq 1 60); do
    exec 6<>"/dev/tcp/127.0.0.1/$prom" 2>/dev/null || { sleep 1; continue; }
    printf 'GET /api/v1/query?query=sum(up%%7Bjob%%3D%%22echod%%22%%7D) HTTP/1.0\r\n\r\n' >&6
    body=$(timeout 5 cat <&6)
    exec 6<&- 6>&-
    up=$(echo "$body" | grep -o '"value":\[[0-9.]*,"[0-9]*"' | sed 's/.*,"//; s/"//')
    [ "${up:-0}" = 3 ] && break
    sleep 1
  done
  expect_eq "Prometheus sees 3 echod targets up" 3 "${up:-0}"
else
  tail -n 20 /tmp/echod-prometheus-build.log
  fail "monitoring profile did not start"
fi

echo "--- lb profile: HAProxy (Debian's package) in front of the three replicas, PROXY v2, /readyz"
client_run() { timeout 120 "${compose[@]}" -p "$project" run --rm -T --no-deps "$@" 2>/dev/null; }
if dc --profile lb build lb >/tmp/echod-lb-build.log 2>&1 && dc --profile lb up -d --no-deps lb >/dev/null 2>&1; then
  pass "lb up on 127.0.0.1:$(dc port lb 4570 | sed 's/.*://')"
  # HAProxy finds the replicas through Docker's DNS and health-checks each
  # (rise 2 at 500 ms): wait until all three answer, bounded.
  spread=""
  for _ in $(seq 1 30); do
    spread=$(client_run client --host=lb --port=4570 --spread=60 --json)
    [ "$(echo "$spread" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["replicas"]))' 2>/dev/null)" = 3 ] && break
    sleep 1
  done
  echo "  $spread"
  expect_eq "--spread=60 through the load balancer: 60 answered" 60 \
    "$(echo "$spread" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["answered"])' 2>/dev/null)"
  expect_eq "all three replicas answered, each at least 10 times" "3 True" \
    "$(echo "$spread" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["replicas"]; print(len(r), all(v >= 10 for v in r.values()))' 2>/dev/null)"
  # --who from the client container: client is that container's own address
  # (on the compose network, neither the load balancer's nor a replica's),
  # peer the load balancer's, the header v2.
  who=$(client_run client --host=lb --port=4570 --who)
  lb_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$(dc ps -q lb)" | awk '{print $1}')
  others=$(for id in $(dc ps -q lb) $(dc ps -q server) $(dc ps -q front); do
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id"; done | tr -s ' ' '\n' | sort -u)
  # who_verdict WHO: whose address the client is, the peer, the header's
  # version, the listener, and TLS's SNI and version ("- -" without TLS).
  who_verdict() {
    echo "$1" | tail -n 1 | /usr/bin/python3 -c '
import json, sys
w = json.load(sys.stdin)
client = w["client"].rsplit(":", 1)[0]
others = sys.argv[1].split()
tls = w["tls"] or {"sni": "-", "version": "-"}
print("a client of its own" if client not in others and client.count(".") == 3 else "client " + client,
      w["peer"].rsplit(":", 1)[0], w["proxy"]["version"], w["listener"], tls["sni"], tls["version"][:5])' \
      "$others" 2>/dev/null
  }
  expect_eq "--who through the load balancer: client, peer, PROXY version, listener, no TLS" \
    "a client of its own $lb_ip 2 proxy - -" "$(who_verdict "$who")"
  # TLS passthrough: HAProxy in TCP mode sends a v2 header, then the client's
  # own handshake with a replica's PROXY-then-TLS port; the certificate names
  # the service, so the client asks for "server" (SNI and the name checked).
  who_tls=$(client_run tls-client --host=lb --port=4571 --tls --tls-ca=/etc/echod/tls/ca.pem --tls-server-name=server \
    --who)
  echo "  $who_tls"
  expect_eq "--who through HAProxy's TLS passthrough: client, peer, PROXY version, listener, SNI, TLS" \
    "a client of its own $lb_ip 2 proxy-tls server TLSv1" "$(who_verdict "$who_tls")"
  # A replica stopped under load: it leaves the rotation (/readyz 503) before it drains.
  # The load is paced (--rate=200: 20 connections, 10 round trips a second
  # each), so the two CPUs stay free for the engine: finding the victim and
  # signalling it take well under a second, not the tens of seconds they took
  # under a flat-out load. The load runs 30 s: the victim's connections open
  # within its first seconds, then its 3 s shutdown delay and its drain
  # (about 0.1 s) come with more than 20 s to spare.
  # The victim: the first replica that logs three proxied connections of this
  # load (each logs its connections at the information level), read through
  # the engine.
  declare -A seen
  opened() { docker logs "$1" 2>&1 | grep -c 'proxied connection from'; }
  for id in $(dc ps -q server); do seen[$id]=$(opened "$id"); done
  client_run client --host=lb --port=4570 --bench --reconnect --connections=20 --rate=200 --duration=30 --json \
    >/tmp/echod-lb-bench.json &
  bench_pid=$!
  bench_started=$(date +%s%3N)
  victim=""
  deadline=$(($(date +%s) + 20))
  while [ -z "$victim" ] && [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$bench_pid" 2>/dev/null; do
    for id in "${!seen[@]}"; do
      if [ "$(opened "$id")" -ge $((seen[$id] + 3)) ]; then victim=$id; break; fi
    done
    [ -n "$victim" ] || sleep 0.2
  done
  if [ -n "$victim" ]; then
    held=$(($(opened "$victim") - seen[$victim]))
    pass "the load reached replica ${victim:0:12} ($held connections): SIGTERM"
    signalled=$(date +%s.%N)
    docker kill -s TERM "$victim" >/dev/null
    timeout 60 docker wait "$victim" >/dev/null
    docker logs "$victim" 2>&1 | grep -E 'termination requested|shutdown delay|draining|stopped' | sed 's/^/  victim: /'
    awk -v a="$bench_started" -v b="$signalled" -v c="$(date +%s.%N)" \
      'BEGIN {printf "  victim signalled %.1f s into the load, gone %.1f s later\n", b - a, c - b}'
  else
    fail "no replica logged three connections of the load within 20 s"
  fi
  wait $bench_pid
  bench=$(cat /tmp/echod-lb-bench.json)
  echo "  $bench"
  field() { echo "$bench" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)" 2>/dev/null; }
  if [ -n "$victim" ]; then
    expect_eq "the stopped replica exited 0 after its delay and drain" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$victim")"
  fi
  expect_eq "a replica stopped under load: zero refused connects" 0 "$(field '["refused"]')"
  expect_eq "a replica stopped under load: zero wrong replies" 0 "$(field '["errors"]')"
  if [ "$(field '["messages"]')" -gt 0 ] 2>/dev/null; then pass "load ran: $(field '["messages"]') messages"; else fail "no load ran"; fi
  # Every connection the victim held ended with FIN (its drain), none any
  # other way, and each was reopened (through the load balancer, on a replica
  # still in the rotation: a reopen that reached the victim would be refused
  # or get ERR, both counted above).
  broken=$(field '["broken"]')
  echo "  broken: $broken; reconnects $(field '["reconnects"]')"
  fin=$(field '["broken"]["fin"]')
  if [ "${fin:-0}" -ge "${held:-1}" ] 2>/dev/null; then
    pass "the victim's $held connections (at least) ended with FIN: $fin"
  else
    fail "the victim held ${held:-?} connections, $fin ended with FIN"
  fi
  expect_eq "no connection broke any other way" "0 0 0 0" \
    "$(broken_otherwise "$bench")"
  expect_eq "every broken connection was reopened" "$fin" "$(field '["reconnects"]')"

  echo "--- rebalancing: 2 replicas scaled to 4 under long-lived connections, with echo.maxConnectionAge=4~1"
  # Without an age limit the 20 connections would stay on the 2 replicas they
  # landed on; with it each ends with FIN within 5 s, reconnects through
  # HAProxy, and lands round-robin on all 4.
  ips() { for id in $(dc ps -q server); do
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | awk '{print $1}'; done | sort; }
  replicas_seen() { json_get "$(client_run client --host=lb --port=4570 --spread=24 --by=hostname --json)" \
    '["replicas"].__len__()'; }
  ECHO_MAX_CONNECTION_AGE=4~1 dc --profile lb up -d --no-deps --scale server=2 server >/dev/null 2>&1
  for _ in $(seq 1 60); do [ "$(replicas_seen)" = 2 ] && break; sleep 1; done
  old_ips=$(ips)
  expect_eq "2 replicas with the age limit, both in HAProxy's rotation" "2 2" "$(echo "$old_ips" | wc -l) $(replicas_seen)"
  client_run client --host=lb --port=4570 --bench --reconnect --connections=20 --rate=100 --duration=30 --json \
    >/tmp/echod-rebalance-bench.json &
  bench_pid=$!
  sleep 3
  ECHO_MAX_CONNECTION_AGE=4~1 dc --profile lb up -d --no-deps --scale server=4 server >/dev/null 2>&1
  joined=""
  for _ in $(seq 1 60); do
    [ "$(replicas_seen)" = 4 ] && { joined=yes; break; }
    sleep 0.5
  done
  expect_eq "the 2 new replicas joined HAProxy's rotation" yes "$joined"
  # From the moment all 4 are in the rotation, every connection reaches its
  # age within 4 + 1 s (plus the housekeeper's 100 ms tick), and is then
  # placed again, round-robin over 4. Polled every 0.5 s until then plus a
  # margin for the reconnect through HAProxy and the metrics' fetch on a
  # loaded 2-core machine: each new replica holds at least 2 of the 20 and
  # both together at least 6 (an even share is 10).
  shares=""
  balanced=""
  started=$(date +%s%3N)
  for _ in $(seq 1 16); do
    shares=""
    new_share=0
    new_min=20
    for ip in $(ips); do
      open=$(metric "$ip:9090" 'echod_listener_connections_open{listener="proxy"}')
      if echo "$old_ips" | grep -qx "$ip"; then
        shares+=" old=${open:-?}"
      else
        shares+=" new=${open:-?}"
        new_share=$((new_share + ${open:-0}))
        [ "${open:-0}" -lt "$new_min" ] && new_min=${open:-0}
      fi
    done
    took_ms=$(($(date +%s%3N) - started))
    if [ "$new_min" -ge 2 ] && [ "$new_share" -ge 6 ]; then
      balanced=yes
      break
    fi
    [ "$took_ms" -gt 6500 ] && break
    sleep 0.5
  done
  echo "  long-lived connections by replica, ${took_ms} ms after the new ones joined:$shares"
  expect_eq "within one age plus its jitter (5.1 s, margin 1.4 s) the new replicas hold their share (each >= 2, both >= 6 of 20)" \
    yes "$balanced"
  echo "  --spread --by=hostname now: $(client_run client --host=lb --port=4570 --spread=24 --by=hostname 2>&1 | tr '\n' ' ')"
  wait $bench_pid
  bench=$(cat /tmp/echod-rebalance-bench.json)
  echo "  $bench"
  expect_eq "rebalancing: zero refused connects, zero wrong replies" "0 0" \
    "$(json_get "$bench" '["refused"]') $(json_get "$bench" '["errors"]')"
  recycled=$(json_get "$bench" '["broken"].get("fin", 0)')
  if [ "${recycled:-0}" -ge 40 ] 2>/dev/null; then
    pass "connections ended by their age with FIN and reopened: $recycled"
  else
    fail "only ${recycled:-no} connections ended with FIN in 30 s of 4~1 s ages"
  fi
  expect_eq "rebalancing: no connection broke any other way" "0 0 0 0" \
    "$(broken_otherwise "$bench")"
else
  tail -n 20 /tmp/echod-lb-build.log
  fail "lb profile did not start"
fi

echo "--- a rolling update on Docker Swarm (tests/container/swarm.sh)"
dc --profile load --profile monitoring --profile lb down --volumes --remove-orphans >/dev/null 2>&1 || true
if tests/container/swarm.sh; then
  pass "the Swarm rolling update broke no connection without FIN"
else
  fail "the Swarm rolling update (above)"
fi

echo "--- the README's commands, run as written on a clean engine (tests/container/readme_run.py)"
dc --profile load --profile monitoring --profile lb down --volumes --remove-orphans >/dev/null 2>&1 || true
if /usr/bin/python3 tests/container/readme_run.py; then
  pass "every command of the README's console examples ran and printed what the README shows"
else
  fail "a README command did not run as the README says (above)"
fi

echo
if [ $failures -eq 0 ]; then
  echo "container tests: all passed"
  exit 0
fi
echo "container tests: $failures failed"
exit 1
