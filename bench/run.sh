#!/usr/bin/env bash
# Side-by-side benchmark: echo-server against a Boost.Asio echo server (one
# thread, and one thread per core), same protocol, same load, cases and
# servers interleaved in one run. Two load generators: `event-load` (one
# epoll loop: cheap per reply, so the server is what runs out of CPU) and
# `echo-client --bench` (a thread per connection, like the threaded client).
# Prints one table.
#
#   bench/run.sh                 full run (about 8 minutes)
#   BENCH_SECONDS=0.5 BENCH_ROUNDS=1 bench/run.sh   the CI smoke test
#
# Knobs: BENCH_SECONDS (per measurement, default 3), BENCH_ROUNDS (each case
# is measured this many times per server, servers alternating; the median
# round is reported; default 3), BENCH_PIN (1: servers on CPU 0, load on
# CPU 1; default 1 on machines with 2+ CPUs), BENCH_LOAD ("event threads",
# or one of them). Traffic goes to 127.0.0.1 only; every run is bounded by
# BENCH_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-3}
loads=(${BENCH_LOAD:-event threads})
cpus=$(nproc)
pin=${BENCH_PIN:-$([ "$cpus" -ge 2 ] && echo 1 || echo 0)}

. bench/lib.sh
bench_build echo-server echo-client asio-echo-server event-load
server_bin=build/bench/service/echo-server
client_bin=build/bench/client/echo-client
asio_bin=build/bench/bench/asio-echo-server
event_bin=build/bench/bench/event-load

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
  port[$name]=$(listening_port "$logdir/$name.log")
}

declare -A port
# A warm pool sized for the largest case: see docs/performance.md (min-threads).
echod_options=(--host=127.0.0.1 --port=0 --max-threads=1200 --min-threads=1100 --max-queued=64 --log-level=notice
  --admin-port=0 --idle-timeout=60)
start_server echod "$server_bin" "${echod_options[@]}"
start_server echod-batch "$server_bin" "${echod_options[@]}" --worker-scheduling=batch
start_server asio-1t "$asio_bin" --port=0 --threads=1
start_server "asio-${cpus}t" "$asio_bin" --port=0 --threads="$cpus"
servers=(echod echod-batch asio-1t "asio-${cpus}t")

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
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

measure() {  # load, server, client options -> JSON line (empty on failure)
  local load=$1 server=$2
  shift 2
  if [ "$load" = event ]; then
    "${load_cpu[@]}" "$event_bin" --host=127.0.0.1 --port="${port[$server]}" --duration="$seconds" --timeout=5 "$@" \
      2>/dev/null || true
  else
    "${load_cpu[@]}" "$client_bin" --bench --json --host=127.0.0.1 --port="${port[$server]}" --duration="$seconds" \
      --timeout=5 "$@" 2>/dev/null || true
  fi
}

declare -A rates p50s p99s p999s ratios round_rate
failures=0
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  read -ra opts <<<"${entry#*|}"
  for load in "${loads[@]}"; do
    for round in $(seq 1 "$rounds"); do
      for server in "${servers[@]}"; do
        out=$(measure "$load" "$server" "${opts[@]}")
        r=$(field "$out" messages_per_second)
        e=$(field "$out" errors)
        if [ -z "$r" ] || [ "${e:-1}" != 0 ]; then
          echo "FAILED: $name, $load load, on $server: ${out:-no output}" >&2
          failures=$((failures + 1))
          continue
        fi
        key="$name|$load|$server"
        rates[$key]+=" $r"; p50s[$key]+=" $(field "$out" p50)"; p99s[$key]+=" $(field "$out" p99)"
        p999s[$key]+=" $(field "$out" p999)"
        round_rate[$server]=$r
      done
      # Per round: each echod against the Asio run measured right after it.
      for server in echod echod-batch; do
        if [ -n "${round_rate[$server]:-}" ] && [ -n "${round_rate[asio-1t]:-}" ]; then
          ratios[$name|$load|$server]+=" $(awk -v a="${round_rate[$server]}" -v b="${round_rate[asio-1t]}" \
            'BEGIN{printf "%.3f", a/b}')"
        fi
      done
      round_rate=()
    done
  done
done

echo
echo "echod vs Boost.Asio, $(date -u +%Y-%m-%d), $cpus CPUs, pinned=$pin, ${seconds}s x ${rounds} rounds, medians"
printf '%-20s %-7s %-11s %11s %9s %9s %9s %9s %9s %13s\n' case load server "msg/s" "p50 us" "p99 us" "p99.9 us" \
  "rate/asio" "p99/asio" "round ratios"
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  for load in "${loads[@]}"; do
    for server in "${servers[@]}"; do
      key="$name|$load|$server"
      [ -n "${rates[$key]:-}" ] || continue
      # shellcheck disable=SC2086
      rate=$(median ${rates[$key]}); p99=$(median ${p99s[$key]})
      ratio=""; p99ratio=""; range=""
      asio="$name|$load|asio-1t"
      if [[ $server == echod* ]] && [ -n "${rates[$asio]:-}" ]; then
        # shellcheck disable=SC2086
        ratio=$(awk -v a="$rate" -v b="$(median ${rates[$asio]})" 'BEGIN{printf "%.2fx", a/b}')
        # shellcheck disable=SC2086
        p99ratio=$(awk -v a="$p99" -v b="$(median ${p99s[$asio]})" 'BEGIN{printf "%.2fx", (b>0)?a/b:0}')
        # shellcheck disable=SC2086
        range=$(printf '%s\n' ${ratios[$name|$load|$server]:-} | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{if (NR) printf "%.2f-%.2f", lo, hi}')
      fi
      # shellcheck disable=SC2086
      printf '%-20s %-7s %-11s %11.0f %9s %9s %9s %9s %9s %13s\n' "$name" "$load" "$server" "$rate" \
        "$(median ${p50s[$key]})" "$p99" "$(median ${p999s[$key]})" "$ratio" "$p99ratio" "$range"
    done
  done
done
echo "(echod: defaults; echod-batch: --worker-scheduling=batch; rate/asio, p99/asio: median over asio-1t's median;"
echo " round ratios: over the asio-1t run right after, per round, lowest-highest;"
echo " connect storm: msg/s = connections/s, each connect + one line + exit/FIN + close)"
if [ $failures -gt 0 ]; then
  echo "bench: $failures measurement(s) failed"
  exit 1
fi
