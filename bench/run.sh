#!/usr/bin/env bash
# Side-by-side benchmark: echo-server against a Boost.Asio echo server (one
# thread, and one thread per core), same protocol, same load generator
# (echo-client --bench), cases interleaved in one run. Prints one table.
#
#   bench/run.sh                 full run (about 2 minutes)
#   BENCH_SECONDS=0.5 BENCH_ROUNDS=1 bench/run.sh   the CI smoke test
#
# Knobs: BENCH_SECONDS (per measurement, default 5), BENCH_ROUNDS (each case
# is measured this many times per server, alternating; default 2, the best
# round counts), BENCH_PIN (1: servers on CPU 0, load on CPU 1; default 1 on
# machines with 2+ CPUs). Traffic goes to 127.0.0.1 only; every run is
# bounded by BENCH_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-2}
cpus=$(nproc)
pin=${BENCH_PIN:-$([ "$cpus" -ge 2 ] && echo 1 || echo 0)}

scripts/install-deps.sh bench
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DECHOD_BUILD_BENCH=ON -DECHOD_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench -j "$cpus" --target echo-server echo-client asio-echo-server >/dev/null
server_bin=build/bench/service/echo-server
client_bin=build/bench/client/echo-client
asio_bin=build/bench/bench/asio-echo-server

# 1,000 connections plus the connect storm's churn need descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

server_cpu=(); load_cpu=()
if [ "$pin" = 1 ]; then server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); fi

logdir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$logdir"; }
trap cleanup EXIT

start_server() {  # name, command...  (sets port[name])
  local name=$1
  shift
  "${server_cpu[@]}" "$@" >/dev/null 2>"$logdir/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$logdir/$name.log" && break
    sleep 0.05
  done
  port[$name]=$(grep -o 'listening on [0-9.]*:[0-9]*' "$logdir/$name.log" | sed 's/.*://')
  [ -n "${port[$name]}" ] || { echo "bench: $name did not start:"; cat "$logdir/$name.log"; exit 1; }
}

declare -A port
# A warm pool sized for the largest case: see docs/performance.md (min-threads).
start_server echod "$server_bin" --host=127.0.0.1 --port=0 --max-threads=1200 --min-threads=1100 --max-queued=64 \
  --log-level=notice --admin-port=0 --idle-timeout=60
start_server asio-1t "$asio_bin" --port=0 --threads=1
start_server "asio-${cpus}t" "$asio_bin" --port=0 --threads="$cpus"
servers=(echod asio-1t "asio-${cpus}t")

# case name | client options
cases=(
  "pingpong c=1 16B|--connections=1 --size=16"
  "pingpong c=100 16B|--connections=100 --size=16"
  "pingpong c=1000 16B|--connections=1000 --size=16"
  "c=10 4KiB lines|--connections=10 --size=4096"
  "c=10 pipeline=64|--connections=10 --size=16 --pipeline=64"
  "connect storm c=4|--connections=4 --size=16 --workload=connect"
)

field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }

declare -A rate p50 p99 p999 errs
failures=0
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  opts=${entry#*|}
  for round in $(seq 1 "$rounds"); do
    for server in "${servers[@]}"; do
      # shellcheck disable=SC2086
      out=$("${load_cpu[@]}" "$client_bin" --bench --json --host=127.0.0.1 --port="${port[$server]}" \
        --duration="$seconds" --timeout=5 $opts 2>/dev/null) || true
      r=$(field "$out" messages_per_second)
      e=$(field "$out" errors)
      if [ -z "$r" ] || [ "${e:-1}" != 0 ]; then
        echo "FAILED: $name on $server: ${out:-no output}" >&2
        failures=$((failures + 1))
        continue
      fi
      key="$name|$server"
      # Keep the best round (highest rate) per case and server.
      if [ -z "${rate[$key]:-}" ] || awk -v a="$r" -v b="${rate[$key]}" 'BEGIN{exit !(a>b)}'; then
        rate[$key]=$r; p50[$key]=$(field "$out" p50); p99[$key]=$(field "$out" p99); p999[$key]=$(field "$out" p999)
        errs[$key]=$e
      fi
    done
  done
done

echo
echo "echod vs Boost.Asio, $(date -u +%Y-%m-%d), $cpus CPUs, ${seconds}s x ${rounds} rounds (best), pinned=$pin"
printf '%-22s %-9s %12s %9s %9s %9s %8s %10s %10s\n' case server "msg/s" "p50 us" "p99 us" "p99.9 us" errors \
  "rate/asio" "p99/asio"
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  for server in "${servers[@]}"; do
    key="$name|$server"
    [ -n "${rate[$key]:-}" ] || continue
    ratio=""; p99ratio=""
    if [ "$server" = echod ] && [ -n "${rate[$name|asio-1t]:-}" ]; then
      ratio=$(awk -v a="${rate[$key]}" -v b="${rate[$name|asio-1t]}" 'BEGIN{printf "%.2fx", a/b}')
      p99ratio=$(awk -v a="${p99[$key]}" -v b="${p99[$name|asio-1t]}" 'BEGIN{printf "%.2fx", (b>0)?a/b:0}')
    fi
    printf '%-22s %-9s %12.0f %9s %9s %9s %8s %10s %10s\n' "$name" "$server" "${rate[$key]}" "${p50[$key]}" \
      "${p99[$key]}" "${p999[$key]}" "${errs[$key]}" "$ratio" "$p99ratio"
  done
done
echo "(connect storm: msg/s = connections/s, each connect + one round trip + exit/FIN + close; ratios vs asio-1t)"
if [ $failures -gt 0 ]; then
  echo "bench: $failures measurement(s) failed"
  exit 1
fi
