#!/usr/bin/env bash
# TLS beside plain on one echod: `echo-server --port=0 --admin-port=0` plus a
# TLS listener (--tls-port=0 and a development certificate from
# scripts/dev-cert.sh), nothing tuned. For each round, interleaved:
#   ping-pong at 100 connections, plain then TLS (msg/s, p99), and
#   the connect workload at 4 connections (connect, one echo, exit, close):
#   plain conn/s, then TLS handshakes/s.
# Then the server's CPU per handshake (utime + stime from /proc over a
# connect workload, divided by its handshakes), side by side: TLS, PROXY
# then TLS (v2 header), and mutual TLS on a second echod with
# --tls-client-auth=require, its clients presenting a 2048-bit RSA and a
# P-256 certificate (a CA of the script's own signs both). mTLS minus TLS is
# what verifying the client's certificate costs; bench/cert-verify measures
# that verification alone (decode, chain, the CertificateVerify signature).
# Server pinned to CPU 0, echo-client's load generator to CPU 1 (2+ CPUs).
# Medians of TLS_ROUNDS (3) rounds of TLS_SECONDS (3) each.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${TLS_SECONDS:-3}
rounds=${TLS_ROUNDS:-3}
. bench/lib.sh
scripts/install-deps.sh bench
bench_build echo-server echo-client cert-verify
bin=build/bench
server_cpu=(); load_cpu=()
if [ "$(nproc)" -ge 2 ]; then server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  for pid in "$server_pid" "$mtls_pid"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
mtls_pid=""
scripts/dev-cert.sh "$work/tls" 2>/dev/null
"${server_cpu[@]}" "$bin/service/echo-server" --port=0 --admin-port=0 --log-level=notice --tls-port=0 \
  --proxy-tls-port=0 --tls-certificate="$work/tls/server.pem" --tls-private-key="$work/tls/server.key" \
  >"$work/server.log" 2>&1 &
server_pid=$!
plain=$(listening_port "$work/server.log")
tls=$(announced_port "$work/server.log" 'listening for TLS on')
proxy_tls=$(announced_port "$work/server.log" 'listening for PROXY protocol then TLS on')
echo "echod: echo-server --port=0 --admin-port=0 --tls-port=0 --proxy-tls-port=0 --tls-certificate=... --tls-private-key=..." \
  "(plain :$plain, TLS :$tls, PROXY then TLS :$proxy_tls)"

# Client certificates: a CA of this script's own, an RSA 2048 and a P-256 client.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 -subj "/CN=bench client CA" \
  -keyout "$work/client-ca.key" -out "$work/client-ca.pem" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
for kind in rsa ec; do
  if [ "$kind" = rsa ]; then key=(-newkey rsa:2048); else key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
  openssl req -new "${key[@]}" -nodes -sha256 -subj "/CN=bench $kind client" -keyout "$work/$kind.key" \
    -out "$work/$kind.csr" 2>/dev/null
  printf 'subjectAltName=URI:spiffe://bench/%s\nextendedKeyUsage=clientAuth\n' "$kind" >"$work/$kind.ext"
  openssl x509 -req -in "$work/$kind.csr" -CA "$work/client-ca.pem" -CAkey "$work/client-ca.key" -CAcreateserial \
    -sha256 -days 2 -extfile "$work/$kind.ext" -out "$work/$kind.pem" 2>/dev/null
done
"${server_cpu[@]}" "$bin/service/echo-server" --port=0 --admin-port=0 --log-level=notice --tls-port=0 \
  --tls-certificate="$work/tls/server.pem" --tls-private-key="$work/tls/server.key" \
  --tls-client-auth=require --tls-client-ca="$work/client-ca.pem" >"$work/mtls.log" 2>&1 &
mtls_pid=$!
mtls=$(announced_port "$work/mtls.log" 'listening for TLS on')
echo "echod: the same with --tls-client-auth=require --tls-client-ca=... (TLS :$mtls)"

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

# Server CPU per handshake: the connect workload (4 connections), the
# server's utime + stime before and after, over the handshakes done.
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A per_handshake=()
for round in $(seq 1 "$rounds"); do
  for case in tls proxy-tls mtls-rsa mtls-p256; do
    case $case in
      tls) pid=$server_pid; args=(--port="$tls") ;;
      proxy-tls) pid=$server_pid; args=(--port="$proxy_tls" --proxy-protocol=v2) ;;
      mtls-rsa) pid=$mtls_pid; args=(--port="$mtls" --tls-certificate="$work/rsa.pem" --tls-private-key="$work/rsa.key") ;;
      mtls-p256) pid=$mtls_pid; args=(--port="$mtls" --tls-certificate="$work/ec.pem" --tls-private-key="$work/ec.key") ;;
    esac
    before=$(cpu_ticks "$pid")
    r=$("${load_cpu[@]}" "$bin/client/echo-client" --bench --json --duration="$seconds" --connections=4 \
      --workload=connect --tls --tls-ca="$work/tls/ca.pem" "${args[@]}")
    after=$(cpu_ticks "$pid")
    errors=$((errors + $(echo "$r" | field errors)))
    handshakes=$(echo "$r" | field handshakes)
    us=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="${handshakes:-0}" 'BEGIN {printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0)}')
    per_handshake[$case]+="$us "
    echo "round $round: $case: $handshakes handshakes, server CPU $us us each"
  done
done
mh() { printf '%s\n' ${per_handshake[$1]} | median; }
printf '\n| server CPU per handshake (connect workload, 4 connections) | us | / TLS |\n|---|---|---|\n'
for case in tls proxy-tls mtls-rsa mtls-p256; do
  awk -v c="$case" -v a="$(mh "$case")" -v b="$(mh tls)" 'BEGIN {
    name["tls"] = "TLS"; name["proxy-tls"] = "PROXY v2, then TLS"
    name["mtls-rsa"] = "mutual TLS, RSA 2048 client key"; name["mtls-p256"] = "mutual TLS, P-256 client key"
    printf "| %s | %.1f | %.2f |\n", name[c], a, (b > 0 ? a / b : 0)}'
done
# What verifying one client certificate costs OpenSSL alone, on the server's CPU.
echo
"${server_cpu[@]}" "$bin/bench/cert-verify" "$work/client-ca.pem" "$work/rsa.pem" "$work/rsa.key" 2000
"${server_cpu[@]}" "$bin/bench/cert-verify" "$work/client-ca.pem" "$work/ec.pem" "$work/ec.key" 2000
echo "errors: $errors"
[ "$errors" -eq 0 ]
