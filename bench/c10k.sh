#!/usr/bin/env bash
# C10K with threads: 10,000 connections held open at once, each doing round
# trips, every reply checked, against echo-server on its defaults; fails on any
# error or a peak RSS of 256 MiB or more. Reports the server's RSS (idle, peak), threads,
# and start-up time to the first accepted connection.
#   bench/c10k.sh                       10,000 connections for 10 s
#   C10K_CONNECTIONS=2000 C10K_SECONDS=3 bench/c10k.sh
# Raises the descriptor limit for itself (not in the code). Loopback only;
# the load is bounded by C10K_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${C10K_CONNECTIONS:-10000}
seconds=${C10K_SECONDS:-10}

. bench/lib.sh
bench_build echo-server echo-client
server_bin=build/bench/service/echo-server
client_bin=build/bench/client/echo-client

ulimit -n "$(ulimit -Hn)"
need=$((conns + 100))
if [ "$(ulimit -n)" -lt "$need" ]; then
  echo "c10k: the descriptor limit $(ulimit -n) is below $need; lower C10K_CONNECTIONS" >&2
  exit 1
fi

log=$(mktemp)
rss_of() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
first_answer_ms() {  # port, start time in ns: waits for the first answered connection
  for _ in $(seq 1 2000); do
    "$client_bin" --port="$1" --check --timeout=0.5 >/dev/null 2>&1 && break
  done
  echo $((($(date +%s%N) - $2) / 1000000))
}

# 1. The idle server on its defaults: RSS and start-up time.
start_ns=$(date +%s%N)
"$server_bin" --host=127.0.0.1 --port=0 --log-level=notice --admin-port=0 2>"$log" &
pid=$!
port=$(listening_port "$log")
default_ready_ms=$(first_answer_ms "$port" "$start_ns")
idle_rss=$(rss_of $pid)
kill $pid
wait $pid 2>/dev/null || true

# 2. The C10K server: a thread per connection, all started up front.
: >"$log"
conntrack_room "$conns"
# The C10K server is the same server on its defaults: the pool is sized from
# this machine's limits, threads start as connections come.
start_ns=$(date +%s%N)
"$server_bin" --host=127.0.0.1 --port=0 --log-level=notice --admin-port=0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=$(listening_port "$log")
ready_ms=$(first_answer_ms "$port" "$start_ns")
pool_line=$(grep -o 'worker pool: [0-9]* threads, decided by [^(]*' "$log" || true)
rss() { rss_of $pid; }
threads() { awk '/Threads/{print $2}' "/proc/$pid/status"; }
warm_rss=$(rss)

peak_file=$(mktemp)
echo 0 >"$peak_file"
(
  peak=0
  while kill -0 $pid 2>/dev/null; do
    r=$(rss 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak $(threads)" >"$peak_file"
    sleep 0.2
  done
) &
sampler=$!
out=$("$client_bin" --port="$port" --bench --json --connections="$conns" --size=16 --duration="$seconds" \
  --timeout=60 2>&1) || true
kill $sampler 2>/dev/null || true
wait $sampler 2>/dev/null || true
read -r peak_rss peak_threads <"$peak_file"
rm -f "$peak_file"

echo "c10k: $conns connections, ${seconds} s, echo-server on its defaults ($pool_line)"
echo "  load:    $out"
echo "  idle server on its defaults: RSS ${idle_rss} KiB, start-up to first answered connection ${default_ready_ms} ms"
echo "  C10K server: start-up ${ready_ms} ms; RSS before load ${warm_rss} KiB;" \
  "peak RSS under load ${peak_rss} KiB with ${peak_threads} threads"
errors=$(echo "$out" | grep -o '"errors":[0-9]*' | cut -d: -f2)
[ "${errors:-1}" = 0 ] || { echo "c10k: FAILED (errors: ${errors:-no result})"; exit 1; }
limit_kib=$((256 * 1024))
[ "${peak_rss:-0}" -lt "$limit_kib" ] || { echo "c10k: FAILED (peak RSS ${peak_rss} KiB, limit 256 MiB)"; exit 1; }
echo "c10k: passed (0 errors, peak RSS under 256 MiB)"
