#!/usr/bin/env bash
# Where a thread per connection pays: per echoed message, the server's
# context switches (voluntary, involuntary, summed over all its threads from
# /proc/PID/task/*/status) and CPU time (utime+stime from /proc/PID/stat),
# for echod (defaults and --worker-scheduling=batch), the naive
# thread-per-connection server and the one-thread Asio server, under the same
# event-loop ping-pong load.
#   bench/switches.sh                      100 connections, 3 s per server
#   SWITCHES_CONNECTIONS=1000 SWITCHES_SECONDS=2 bench/switches.sh
#   SWITCHES_CONNECTIONS=10 SWITCHES_PIPELINE=64 bench/switches.sh
# Pinned like bench/run.sh (server on CPU 0, load on CPU 1) when there are
# two or more CPUs. Loopback only; each run is bounded by SWITCHES_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${SWITCHES_CONNECTIONS:-100}
seconds=${SWITCHES_SECONDS:-3}
pipeline=${SWITCHES_PIPELINE:-1}

. bench/lib.sh
bench_build echo-server asio-echo-server naive-echo-server event-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

server_cpu=(); load_cpu=()
pin=0
if [ "$(nproc)" -ge 2 ]; then pin=1; server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); fi

log=$(mktemp)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$log" "$log.out"; }
trap cleanup EXIT

switches_of() {  # pid: "voluntary involuntary", all threads alive now
  # A thread may end between the listing and the read: skip it.
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^voluntary_ctxt_switches/{v+=$2} /^nonvoluntary_ctxt_switches/{n+=$2} END{print v+0, n+0}'
}
ticks_of() { awk '{print $14 + $15}' /proc/"$1"/stat; }

measure() {  # name, server command...
  local name=$1 port out v0 n0 v1 n1 t0 t1 w0 w1 msgs errors rate load
  shift
  "${server_cpu[@]}" "$@" >/dev/null 2>"$log" &
  pid=$!
  port=$(listening_port "$log")
  # Counted over a window inside the run, while every connection (and, for
  # the naive server, every thread with its counts) is still alive; messages
  # in the window = the run's rate x the window.
  "${load_cpu[@]}" build/bench/bench/event-load --host=127.0.0.1 --port="$port" \
    --connections="$conns" --size=16 --pipeline="$pipeline" --duration="$seconds" --timeout=5 >"$log.out" &
  load=$!
  sleep "$(awk -v s="$seconds" 'BEGIN{print s * 0.2}')"
  read -r v0 n0 < <(switches_of "$pid"); t0=$(ticks_of "$pid"); w0=$(date +%s%N)
  sleep "$(awk -v s="$seconds" 'BEGIN{print s * 0.5}')"
  read -r v1 n1 < <(switches_of "$pid"); t1=$(ticks_of "$pid"); w1=$(date +%s%N)
  wait "$load" || true
  out=$(cat "$log.out")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  msgs=$(echo "$out" | grep -o '"messages":[0-9]*' | cut -d: -f2)
  errors=$(echo "$out" | grep -o '"errors":[0-9]*' | cut -d: -f2)
  rate=$(echo "$out" | grep -o '"messages_per_second":[0-9.]*' | cut -d: -f2)
  [ "${msgs:-0}" -gt 0 ] && [ "$errors" = 0 ] || { echo "switches: $name: $out" >&2; exit 1; }
  awk -v name="$name" -v m="$(awk -v r="$rate" -v w=$((w1 - w0)) 'BEGIN{print r * w / 1e9}')" \
    -v v=$((v1 - v0)) -v n=$((n1 - n0)) -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v r="$rate" \
    'BEGIN { printf "%-12s %10.0f %10.3f %10.3f %10.2f\n", name, r, v / m, n / m, t * 1e6 / hz / m }'
}

echo "ping-pong, $conns connections, 16-byte lines, $pipeline in flight, ${seconds}s per server, pinned=$pin"
printf "%-12s %10s %10s %10s %10s\n" server msg/s vol/msg invol/msg cpu_us/msg
echod=(build/bench/service/echo-server --port=0 --admin-port=0)  # every other setting at its default
measure echod "${echod[@]}"
measure echod-batch "${echod[@]}" --worker-scheduling=batch
measure naive build/bench/bench/naive-echo-server --port=0
measure asio-1t build/bench/bench/asio-echo-server --port=0 --threads=1
