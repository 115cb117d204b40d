#!/usr/bin/env bash
# The PROXY listener beside the plain one on one echod: `echo-server
# --port=0 --admin-port=0 --proxy-port=0`, nothing else tuned. For each
# round, interleaved (which goes first alternates):
#   ping-pong at 100 connections, plain then through the PROXY port with a
#   v2 header (msg/s, p99): the header is read once per connection, so the
#   echo path must not differ (target: within 3 %);
#   the connect workload at 4 connections (connect, one echo, exit, close),
#   plain then with a v2 header: connections/s, and the server's CPU per
#   connection from /proc/PID/stat (target: at most 1 us more with a header).
# Server pinned to CPU 0, echo-client's load generator to CPU 1 (2+ CPUs).
# Medians of PROXY_ROUNDS (3) rounds of PROXY_SECONDS (3) each, and the median of
# the per-round CPU differences (each round's two connect runs are adjacent); loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${PROXY_SECONDS:-3}
rounds=${PROXY_ROUNDS:-3}
. bench/lib.sh
scripts/install-deps.sh bench
bench_build echo-server echo-client
bin=build/bench
server_cpu=(); load_cpu=()
if [ "$(nproc)" -ge 2 ]; then server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"${server_cpu[@]}" "$bin/service/echo-server" --port=0 --admin-port=0 --log-level=notice --proxy-port=0 \
  >"$work/server.log" 2>&1 &
server_pid=$!
plain=$(listening_port "$work/server.log")
for _ in $(seq 1 300); do grep -q 'listening for PROXY protocol' "$work/server.log" && break; sleep 0.01; done
proxy=$(grep -o 'listening for PROXY protocol on [0-9.]*:[0-9]*' "$work/server.log" | sed 's/.*://')
echo "echod: echo-server --port=0 --admin-port=0 --proxy-port=0 (plain :$plain, PROXY :$proxy)"

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
run() {  # port, extra options...: one JSON result, then the server's CPU ticks it took
  local port=$1 t0 out
  shift
  t0=$(ticks)
  out=$("${load_cpu[@]}" "$bin/client/echo-client" --port="$port" --bench --json --duration="$seconds" "$@")
  echo "$out $(($(ticks) - t0))"
}
field() { grep -o "\"$1\":[0-9.]*" | head -n 1 | cut -d: -f2; }
cpu_us() {  # result: server CPU microseconds per message (connect workload: per connection)
  local messages ticks
  messages=$(echo "$1" | field messages)
  ticks=$(echo "$1" | awk '{print $NF}')
  awk -v t="$ticks" -v hz="$hz" -v m="$messages" 'BEGIN {printf "%.2f", (m > 0) ? t * 1e6 / hz / m : 0}'
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a pp_plain pp_proxy p99_plain p99_proxy storm_plain storm_proxy cpu_plain cpu_proxy cpu_delta
errors=0
for round in $(seq 1 "$rounds"); do
  # Which goes first alternates by round: neither inherits the other's closing connections every time.
  if [ $((round % 2)) -eq 1 ]; then
    a=$(run "$plain" --connections=100)
    b=$(run "$proxy" --connections=100 --proxy-protocol=v2)
    c=$(run "$plain" --connections=4 --workload=connect)
    d=$(run "$proxy" --connections=4 --workload=connect --proxy-protocol=v2)
  else
    b=$(run "$proxy" --connections=100 --proxy-protocol=v2)
    a=$(run "$plain" --connections=100)
    d=$(run "$proxy" --connections=4 --workload=connect --proxy-protocol=v2)
    c=$(run "$plain" --connections=4 --workload=connect)
  fi
  for r in "$a" "$b" "$c" "$d"; do errors=$((errors + $(echo "$r" | field errors))); done
  pp_plain+=("$(echo "$a" | field messages_per_second)"); p99_plain+=("$(echo "$a" | grep -o '"p99":[0-9.]*' | cut -d: -f2)")
  pp_proxy+=("$(echo "$b" | field messages_per_second)"); p99_proxy+=("$(echo "$b" | grep -o '"p99":[0-9.]*' | cut -d: -f2)")
  storm_plain+=("$(echo "$c" | field messages_per_second)"); cpu_plain+=("$(cpu_us "$c")")
  storm_proxy+=("$(echo "$d" | field messages_per_second)"); cpu_proxy+=("$(cpu_us "$d")")
  cpu_delta+=("$(awk -v a="${cpu_plain[-1]}" -v b="${cpu_proxy[-1]}" 'BEGIN {printf "%.2f", b - a}')")
  echo "round $round: ping-pong c=100 plain ${pp_plain[-1]} msg/s, PROXY v2 ${pp_proxy[-1]} msg/s;" \
    "connect c=4 plain ${storm_plain[-1]} conn/s (${cpu_plain[-1]} us CPU each), PROXY v2 ${storm_proxy[-1]} conn/s (${cpu_proxy[-1]} us)"
done
m() { printf '%s\n' "$@" | median; }
printf '\n| case | plain | PROXY v2 | PROXY / plain |\n|---|---|---|---|\n'
awk -v a="$(m "${pp_plain[@]}")" -v b="$(m "${pp_proxy[@]}")" 'BEGIN {printf "| ping-pong, 100 connections, msg/s | %.0f | %.0f | %.3f |\n", a, b, b / a}'
awk -v a="$(m "${p99_plain[@]}")" -v b="$(m "${p99_proxy[@]}")" 'BEGIN {printf "| ping-pong p99, us | %.0f | %.0f | %.2f |\n", a, b, b / a}'
awk -v a="$(m "${storm_plain[@]}")" -v b="$(m "${storm_proxy[@]}")" 'BEGIN {printf "| connect workload, 4 connections, conn/s | %.0f | %.0f | %.3f |\n", a, b, b / a}'
awk -v a="$(m "${cpu_plain[@]}")" -v b="$(m "${cpu_proxy[@]}")" 'BEGIN {printf "| server CPU per connection, us | %.2f | %.2f | %+.2f us |\n", a, b, b - a}'
# The two connect runs of a round are back to back: their difference is the
# header's cost with the host's drift between rounds taken out.
echo "server CPU per connection, PROXY v2 - plain, per round (us): ${cpu_delta[*]}; median $(m "${cpu_delta[@]}")"
echo "errors: $errors"
[ "$errors" -eq 0 ]
