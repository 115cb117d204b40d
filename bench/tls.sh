#!/usr/bin/env bash
# TLS beside plain on one echod: `echo-server --port=0 --admin-port=0` plus a
# TLS listener (--tls-port=0 and a development certificate from
# scripts/dev-cert.sh), nothing tuned. For each round, interleaved:
#   ping-pong at 100 connections, plain then TLS (msg/s, p99), and
#   the connect workload at 4 connections (connect, one echo, exit, close):
#   plain conn/s, then TLS handshakes/s.
# Server pinned to CPU 0, echo-client's load generator to CPU 1 (2+ CPUs).
# Medians of TLS_ROUNDS (3) rounds of TLS_SECONDS (3) each.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${TLS_SECONDS:-3}
rounds=${TLS_ROUNDS:-3}
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
scripts/dev-cert.sh "$work/tls" 2>/dev/null
"${server_cpu[@]}" "$bin/service/echo-server" --port=0 --admin-port=0 --log-level=notice --tls-port=0 \
  --tls-certificate="$work/tls/server.pem" --tls-private-key="$work/tls/server.key" >"$work/server.log" 2>&1 &
server_pid=$!
plain=$(listening_port "$work/server.log")
for _ in $(seq 1 300); do grep -q 'listening for TLS' "$work/server.log" && break; sleep 0.01; done
tls=$(grep -o 'listening for TLS on [0-9.]*:[0-9]*' "$work/server.log" | sed 's/.*://')
echo "echod: echo-server --port=0 --admin-port=0 --tls-port=0 --tls-certificate=... --tls-private-key=... (plain :$plain, TLS :$tls)"

run() {  # port, extra options...: one JSON result
  local port=$1
  shift
  "${load_cpu[@]}" "$bin/client/echo-client" --port="$port" --bench --json --duration="$seconds" "$@"
}
field() { grep -o "\"$1\":[0-9.]*" | head -n 1 | cut -d: -f2; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a pp_plain pp_tls p99_plain p99_tls storm_plain storm_tls
errors=0
for round in $(seq 1 "$rounds"); do
  a=$(run "$plain" --connections=100)
  b=$(run "$tls" --connections=100 --tls --tls-ca="$work/tls/ca.pem")
  c=$(run "$plain" --connections=4 --workload=connect)
  d=$(run "$tls" --connections=4 --workload=connect --tls --tls-ca="$work/tls/ca.pem")
  for r in "$a" "$b" "$c" "$d"; do errors=$((errors + $(echo "$r" | field errors))); done
  pp_plain+=("$(echo "$a" | field messages_per_second)"); p99_plain+=("$(echo "$a" | grep -o '"p99":[0-9.]*' | cut -d: -f2)")
  pp_tls+=("$(echo "$b" | field messages_per_second)"); p99_tls+=("$(echo "$b" | grep -o '"p99":[0-9.]*' | cut -d: -f2)")
  storm_plain+=("$(echo "$c" | field messages_per_second)")
  storm_tls+=("$(echo "$d" | field handshakes_per_second)")
  echo "round $round: ping-pong c=100 plain ${pp_plain[-1]} msg/s, TLS ${pp_tls[-1]} msg/s;" \
    "connect c=4 plain ${storm_plain[-1]} conn/s, TLS ${storm_tls[-1]} handshakes/s"
done
m() { printf '%s\n' "$@" | median; }
printf '\n| case | plain | TLS | TLS / plain |\n|---|---|---|---|\n'
awk -v a="$(m "${pp_plain[@]}")" -v b="$(m "${pp_tls[@]}")" 'BEGIN {printf "| ping-pong, 100 connections, msg/s | %.0f | %.0f | %.2f |\n", a, b, b / a}'
awk -v a="$(m "${p99_plain[@]}")" -v b="$(m "${p99_tls[@]}")" 'BEGIN {printf "| ping-pong p99, us | %.0f | %.0f | %.2f |\n", a, b, b / a}'
awk -v a="$(m "${storm_plain[@]}")" -v b="$(m "${storm_tls[@]}")" 'BEGIN {printf "| connect workload, 4 connections: conn/s (TLS: handshakes/s) | %.0f | %.0f | %.2f |\n", a, b, b / a}'
echo "errors: $errors"
[ "$errors" -eq 0 ]
