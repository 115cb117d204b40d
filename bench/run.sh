#!/usr/bin/env bash
# The one-command comparison: echo-server on its defaults against the peers
# of its kind, each speaking the same line protocol, cases and servers
# interleaved round by round in one run:
#   naive   bench/NaiveEchoServer.cpp: blocking sockets, a detached std::thread
#           per connection, one send() per reply (the classroom server in C++)
#   go      bench/go/echo.go: a goroutine per connection, bufio, one Write per line
#   asio    bench/AsioEchoServer.cpp: Boost.Asio, one event-loop thread (the ceiling)
# Load: bench/EventLoadGenerator.cpp (one epoll loop; every reply checked).
# UDP: echod (--udp-port=0 --udp-rate-per-address=0) against bench/go/udpecho.go,
# loaded by bench/UdpLoadGenerator.cpp, at 16 B and 1 KiB: datagrams a second,
# latency, CPU per datagram and loss.
# Per server and case: msg/s, p50/p99 latency, and the server's CPU time per
# message (user + system, its process CPU clock, read by event-load), over a window that starts once
# every connection has had a reply: every server is measured at the
# concurrency the case asks for. The burst cases start a fresh
# server of each kind every round and open N connections at once (1,000 and
# 10,000): the time until every one has had its first echo, that first
# echo's p50/p99, and the server's CPU for the whole burst (thread starts
# included; read by event-load before its first connect and once the last
# echo arrived, before any connection closes). With the servers pinned, the
# busy time of the server's CPUs over the same window too (/proc/stat:
# everything that ran there, the kernel threads that work for a server
# included, such as ksoftirqd and the teardown of a thread that ended, which
# its process's CPU time leaves out). At the start, the cost of one
# context switch (bench/ContextSwitch.cpp); at the end, each server's peak
# RSS and the model-floor inequality: echod's CPU per message <= Asio's + one
# switch. Prints one table.
#
#   bench/run.sh                                      full run (about 12 minutes)
#   BENCH_SECONDS=0.5 BENCH_ROUNDS=1 bench/run.sh     the CI smoke test
#   BENCH_SERVER_CPUS=8-15 BENCH_LOAD_CPUS=0-7 BENCH_LOAD_THREADS=8 bench/run.sh
#                                                     many cores (../shared/MANY-CORES.md)
#   BENCH_BIN=build/many bench/run.sh                 programs bundled by bench/bundle.sh,
#                                                     on a machine that cannot build them
#   BENCH_ECHOD=../old/build/bench/service/echo-server bench/run.sh   another echod build as echod
#
# Knobs: BENCH_SECONDS (per measurement, default 3), BENCH_ROUNDS (default 5;
# the median round is reported), BENCH_PIN (1: servers on CPU 0, load on CPU 1;
# default 1 with 2+ CPUs), BENCH_CASES (a regex on the case names). Traffic
# goes to 127.0.0.1 only; every measurement is bounded by BENCH_SECONDS (a
# burst by its 20 s reply timeout). Many cores: BENCH_SERVER_CPUS and
# BENCH_LOAD_CPUS (taskset CPU lists) pin the servers and the load apart, and
# BENCH_LOAD_THREADS (default 1) runs that many event loops in the load.
# A peer whose toolchain is missing is skipped with a message, except with
# CI=true, where that fails (the test command installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-5}
cpus=$(nproc)
pin=${BENCH_PIN:-$([ "$cpus" -ge 2 ] && echo 1 || echo 0)}
case_filter=${BENCH_CASES:-.}

. bench/lib.sh
go_bin=""
if [ -n "${BENCH_BIN:-}" ]; then
  # Programs built elsewhere (bench/bundle.sh: a machine without the toolchain).
  bin=$BENCH_BIN
  [ -x "$bin/bench/go-echo-server" ] && go_bin=$bin/bench/go-echo-server
else
  bench_build echo-server asio-echo-server naive-echo-server event-load context-switch udp-load
  bin=build/bench
  if command -v go >/dev/null 2>&1; then
    GOCACHE=${GOCACHE:-$PWD/build/bench/gocache} GOPATH=${GOPATH:-$PWD/build/bench/gopath} GOFLAGS=-mod=mod \
      go build -o "$bin/bench/go-echo-server" bench/go/echo.go
    GOCACHE=${GOCACHE:-$PWD/build/bench/gocache} GOPATH=${GOPATH:-$PWD/build/bench/gopath} GOFLAGS=-mod=mod \
      go build -o "$bin/bench/go-udp-echo-server" bench/go/udpecho.go
    go_bin=$bin/bench/go-echo-server
  elif [ "${CI:-}" = true ]; then
    echo "bench: no Go toolchain (golang-go), and in CI every peer must run" >&2
    exit 1
  else
    echo "bench: no Go toolchain (apt-get install golang-go): the Go peer is skipped" >&2
  fi
fi

# 10,000 connections and the connect storm's churn need descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 10300 ]; then
  echo "bench: the descriptor limit $(ulimit -n) is below 10,300: the 10,000-connection case cannot run" >&2
  exit 1
fi

server_cpu=(); load_cpu=(); server_cpus=()
if [ "$pin" = 1 ]; then server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); server_cpus=(--server-cpus=0); fi
if [ -n "${BENCH_SERVER_CPUS:-}" ] || [ -n "${BENCH_LOAD_CPUS:-}" ]; then
  [ -n "${BENCH_SERVER_CPUS:-}" ] && [ -n "${BENCH_LOAD_CPUS:-}" ] ||
    { echo "bench: BENCH_SERVER_CPUS and BENCH_LOAD_CPUS go together" >&2; exit 64; }
  pin="servers on ${BENCH_SERVER_CPUS}, load on ${BENCH_LOAD_CPUS}"
  server_cpu=(taskset -c "$BENCH_SERVER_CPUS"); load_cpu=(taskset -c "$BENCH_LOAD_CPUS")
  server_cpus=(--server-cpus="$BENCH_SERVER_CPUS")
fi
load_threads=${BENCH_LOAD_THREADS:-1}

logdir=$(mktemp -d)
declare -A port pid
cleanup() { for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$logdir"; }
trap cleanup EXIT

start_server() {  # name, command...  (sets port[name], pid[name])
  local name=$1
  shift
  "${server_cpu[@]}" "$@" >/dev/null 2>"$logdir/$name.log" &
  pid[$name]=$!
  port[$name]=$(listening_port "$logdir/$name.log")
}

# BENCH_ECHOD: another echo-server to measure as echod (a build of an earlier
# commit, for a before and after in one run).
echod_bin=${BENCH_ECHOD:-$bin/service/echo-server}
# echod exactly as a user starts it: every setting at its default; only the
# ports are free ones (0), so that the run never collides with a server running here.
echod_command=("$echod_bin" --port=0 --admin-port=0)
start_server echod "${echod_command[@]}"
start_server naive "$bin/bench/naive-echo-server" --port=0
[ -z "$go_bin" ] || start_server go "$go_bin" -port=0
start_server asio "$bin/bench/asio-echo-server" --port=0 --threads=1
servers=(echod naive)
[ -z "$go_bin" ] || servers+=(go)
servers+=(asio)

# UDP: echod with its UDP port on (off by default) and no per-address rate
# limit (the load comes from one address), beside Go's UDP echo.
declare -A udp_port_of udp_pid
udp_command=("$echod_bin" --port=0 --admin-port=0 --udp-port=0 --udp-rate-per-address=0)
"${server_cpu[@]}" "${udp_command[@]}" >/dev/null 2>"$logdir/echod-udp.log" &
udp_pid[echod]=$!; pid[echod-udp]=$!
udp_port_of[echod]=$(announced_port "$logdir/echod-udp.log" "UDP echo on")
udp_servers=(echod)
if [ -n "$go_bin" ]; then
  "${server_cpu[@]}" "$bin/bench/go-udp-echo-server" -port=0 >/dev/null 2>"$logdir/go-udp.log" &
  udp_pid[go]=$!; pid[go-udp]=$!
  udp_port_of[go]=$(announced_port "$logdir/go-udp.log" "UDP echo on")
  udp_servers+=(go)
fi

first_server_cpu=${BENCH_SERVER_CPUS:-0}; first_server_cpu=${first_server_cpu%%[-,]*}
switch_ns=$("${server_cpu[@]}" "$bin/bench/context-switch" --cpu="$first_server_cpu" \
  --rounds=5 --passes=100000 | grep -o '[0-9]* ns' | cut -d' ' -f1)

# case name | load options
cases=(
  "pingpong c=1|--connections=1 --size=16"
  "pingpong c=100|--connections=100 --size=16"
  "pingpong c=1000|--connections=1000 --size=16"
  "pingpong c=10000|--connections=10000 --size=16 --timeout=10"
  "c=10 4KiB lines|--connections=10 --size=4096"
  "c=10 pipeline=64|--connections=10 --size=16 --pipeline=64"
  "connect storm c=4|--connections=4 --size=16 --workload=connect"
)

field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

declare -A rates p50s p99s cpus_per_msg busy_per_msg
# Each measurement by round too ("case|server|what|round"): the ratio to
# naive round by round (rounds interleave the servers, so each ratio compares
# two measurements seconds apart) shows how far a median's ratio can be trusted.
declare -A by_round
# A failed measurement of echod fails the run; one of a peer is reported and
# left out of its medians (a peer's burst can outlast the load's timeout when
# its listen backlog overflows: a peer's trouble, not echod's).
failures=0; peer_failures=0
failed() {  # case, server, event-load's output
  echo "FAILED: $1 on $2: ${3:-no output}" >&2
  if [ "$2" = echod ]; then failures=$((failures + 1)); else peer_failures=$((peer_failures + 1)); fi
}
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  [[ $name =~ $case_filter ]] || continue
  read -ra opts <<<"${entry#*|}"
  # The timed window starts once every connection has had a reply (event-load):
  # opening 10,000 connections is not in the rate, and its --timeout bounds it.
  duration=$seconds
  for round in $(seq 1 "$rounds"); do
    for server in "${servers[@]}"; do
      out=$("${load_cpu[@]}" "$bin/bench/event-load" --host=127.0.0.1 --port="${port[$server]}" \
        --duration="$duration" --timeout=5 --threads="$load_threads" --server-pid="${pid[$server]}" "${server_cpus[@]}" "${opts[@]}" \
        2>/dev/null || true)
      r=$(field "$out" messages_per_second)
      e=$(field "$out" errors)
      m=$(field "$out" messages)
      if [ -z "$r" ] || [ "${e:-1}" != 0 ] || [ "${m:-0}" = 0 ]; then
        failed "$name" "$server" "$out"
        continue
      fi
      key="$name|$server"
      rates[$key]+=" $r"; p50s[$key]+=" $(field "$out" p50)"; p99s[$key]+=" $(field "$out" p99)"
      # The server's CPU over the timed window (event-load reads its CPU clock at the start and end).
      cpu=$(awk -v c="$(field "$out" server_cpu_ms)" -v m="$m" 'BEGIN{printf "%.2f", c * 1e3 / m}')
      cpus_per_msg[$key]+=" $cpu"
      by_round[$key|rate|$round]=$r; by_round[$key|cpu|$round]=$cpu
      busy_per_msg[$key]+=" $(awk -v c="$(field "$out" server_cpus_busy_ms)" -v m="$m" 'BEGIN{printf "%.2f", c * 1e3 / m}')"
    done
  done
done

# Burst cases: a fresh server of each kind per round, N connections at once.
declare -A burst_ms burst_p50 burst_p99 burst_cpu burst_busy
burst_sizes=(1000 10000)
start_fresh() {  # name: starts a fresh server of that kind (sets fresh_pid, fresh_port)
  local log="$logdir/fresh-$1.log" command
  case $1 in
    echod) command=("${echod_command[@]}") ;;
    naive) command=("$bin/bench/naive-echo-server" --port=0) ;;
    go) command=("$go_bin" -port=0) ;;
    asio) command=("$bin/bench/asio-echo-server" --port=0 --threads=1) ;;
  esac
  "${server_cpu[@]}" "${command[@]}" >/dev/null 2>"$log" &
  fresh_pid=$!
  pid[fresh]=$fresh_pid
  fresh_port=$(listening_port "$log")
  sleep 0.5  # its start-up (threads up front, the admin port) is not part of the burst
}
for n in "${burst_sizes[@]}"; do
  name="burst $n"
  [[ $name =~ $case_filter ]] || continue
  for round in $(seq 1 "$rounds"); do
    for server in "${servers[@]}"; do
      conntrack_room "$n"
      start_fresh "$server"
      out=$("${load_cpu[@]}" "$bin/bench/event-load" --host=127.0.0.1 --port="$fresh_port" --workload=burst \
        --connections="$n" --size=16 --duration=30 --timeout=20 --threads="$load_threads" \
        --server-pid="$fresh_pid" "${server_cpus[@]}" 2>/dev/null || true)
      kill "$fresh_pid" 2>/dev/null || true
      wait "$fresh_pid" 2>/dev/null || true
      unset 'pid[fresh]'
      if [ "$(field "$out" echoed)" != "$n" ] || [ "$(field "$out" errors)" != 0 ]; then
        failed "$name" "$server" "$out"
        continue
      fi
      key="$name|$server"
      burst_ms[$key]+=" $(field "$out" all_echoed_ms)"; burst_p50[$key]+=" $(field "$out" p50)"
      burst_p99[$key]+=" $(field "$out" p99)"; burst_cpu[$key]+=" $(field "$out" server_cpu_ms)"
      burst_busy[$key]+=" $(field "$out" server_cpus_busy_ms)"
      by_round[$key|time|$round]=$(field "$out" all_echoed_ms); by_round[$key|cpu|$round]=$(field "$out" server_cpu_ms)
    done
  done
done

# UDP cases: 8 sockets, 8 datagrams in flight each (64 in all: within a
# socket's default buffer, so a closed loop loses nothing below saturation).
udp_cases=("udp 16 B|--size=16" "udp 1 KiB|--size=1024")
declare -A udp_rates udp_p50s udp_p99s udp_cpu udp_lost
for entry in "${udp_cases[@]}"; do
  name=${entry%%|*}
  [[ $name =~ $case_filter ]] || continue
  read -ra opts <<<"${entry#*|}"
  for round in $(seq 1 "$rounds"); do
    for server in "${udp_servers[@]}"; do
      t0=$(ticks "${udp_pid[$server]}")
      out=$("${load_cpu[@]}" "$bin/bench/udp-load" --port="${udp_port_of[$server]}" --sockets=8 --window=8 \
        --duration="$seconds" "${opts[@]}" 2>/dev/null || true)
      t1=$(ticks "${udp_pid[$server]}")
      r=$(field "$out" messages_per_second); e=$(field "$out" errors); m=$(field "$out" messages)
      if [ -z "$r" ] || [ "${e:-1}" != 0 ] || [ "${m:-0}" = 0 ]; then
        failed "$name" "$server" "$out"
        continue
      fi
      key="$name|$server"
      udp_rates[$key]+=" $r"; udp_p50s[$key]+=" $(field "$out" p50)"; udp_p99s[$key]+=" $(field "$out" p99)"
      udp_lost[$key]+=" $(field "$out" loss_percent)"
      udp_cpu[$key]+=" $(awk -v t=$((t1 - t0)) -v hz="$hz" -v m="$m" 'BEGIN{printf "%.2f", t * 1e6 / hz / m}')"
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
span() {  # case, what: the lowest and highest of echod's ratio to naive's, round by round
  local round pairs=""
  for round in $(seq 1 "$rounds"); do
    local a=${by_round[$1|echod|$2|$round]:-} b=${by_round[$1|naive|$2|$round]:-}
    [ -n "$a" ] && [ -n "$b" ] && pairs+=" $a $b"
  done
  # shellcheck disable=SC2086
  awk 'BEGIN{ for (i = 1; i + 1 < ARGC; i += 2) if (ARGV[i + 1] > 0) { r = ARGV[i] / ARGV[i + 1];
    if (!n++) lo = hi = r; if (r < lo) lo = r; if (r > hi) hi = r }
    if (n) printf "%.2f-%.2f", lo, hi; else printf "-" }' $pairs
}
echo
echo "echod vs its peers, $(date -u +%Y-%m-%d), $cpus CPUs, pinned=$pin, load threads $load_threads, ${seconds}s x ${rounds} rounds, medians"
echo "echod: ${echod_command[*]#$bin/service/}"
printf '%-20s %-6s %11s %9s %9s %10s %9s %10s %9s %9s %9s %9s %10s %9s %10s\n' case server "msg/s" "p50 us" "p99 us" \
  "cpu us/msg" "/naive" "lo-hi" "p99/naive" "/go" "/asio" "cpu/naive" "lo-hi" "busy us" "busy/naive"
declare -A med_rate med_p99 med_cpu med_busy
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  for server in "${servers[@]}"; do
    key="$name|$server"
    [ -n "${rates[$key]:-}" ] || continue
    # shellcheck disable=SC2086
    med_rate[$key]=$(median ${rates[$key]}); med_p99[$key]=$(median ${p99s[$key]}); med_cpu[$key]=$(median ${cpus_per_msg[$key]})
    # shellcheck disable=SC2086
    med_busy[$key]=$(median ${busy_per_msg[$key]})
  done
  for server in "${servers[@]}"; do
    key="$name|$server"
    [ -n "${med_rate[$key]:-}" ] || continue
    vs_naive=""; p99_naive=""; vs_go=""; vs_asio=""; cpu_naive=""; busy_naive=""; rate_span=""; cpu_span=""
    busy=${med_busy[$key]}; [ "${#server_cpus[@]}" -gt 0 ] || busy=-
    if [ "$server" = echod ]; then
      [ -z "${med_rate[$name|naive]:-}" ] || { vs_naive=$(ratio "${med_rate[$key]}" "${med_rate[$name|naive]}");
        p99_naive=$(ratio "${med_p99[$key]}" "${med_p99[$name|naive]}")
        cpu_naive=$(ratio "${med_cpu[$key]}" "${med_cpu[$name|naive]}")
        rate_span=$(span "$name" rate); cpu_span=$(span "$name" cpu)
        [ "$busy" = - ] || busy_naive=$(ratio "$busy" "${med_busy[$name|naive]}"); }
      [ -z "${med_rate[$name|go]:-}" ] || vs_go=$(ratio "${med_rate[$key]}" "${med_rate[$name|go]}")
      [ -z "${med_rate[$name|asio]:-}" ] || vs_asio=$(ratio "${med_rate[$key]}" "${med_rate[$name|asio]}")
    fi
    # shellcheck disable=SC2086
    printf '%-20s %-6s %11.0f %9s %9s %10s %9s %10s %9s %9s %9s %9s %10s %9s %10s\n' "$name" "$server" \
      "${med_rate[$key]}" "$(median ${p50s[$key]})" "${med_p99[$key]}" "${med_cpu[$key]}" "$vs_naive" "$rate_span" \
      "$p99_naive" "$vs_go" "$vs_asio" "$cpu_naive" "$cpu_span" "$busy" "$busy_naive"
  done
done
echo "(connect storm: msg/s = connections/s, each a connect, one line, exit/FIN, close; cpu us/msg per connection)"
echo "(cpu: the server process's CPU time; busy: its pinned CPUs' busy time, the kernel's work for it included; both per message)"
echo "(lo-hi: the lowest and highest of echod's ratio to naive's round by round, the ratio on its left being of the medians)"
if [ -n "${burst_ms[*]:-}" ]; then
  echo
  echo "Bursts: a fresh server each round, N connections opened at once, one line each; all echoed = until the last"
  echo "connection's first echo; first echo p50/p99 from each connect; server cpu ms for the whole burst (threads started)"
  printf '%-12s %-6s %14s %9s %9s %10s %12s %10s %11s %10s %9s %9s %10s\n' case server "all echoed ms" "p50 ms" \
    "p99 ms" "cpu ms" "time/naive" "lo-hi" "cpu/naive" "lo-hi" "time/go" "busy ms" "busy/naive"
  for n in "${burst_sizes[@]}"; do
    name="burst $n"
    for server in "${servers[@]}"; do
      key="$name|$server"
      [ -n "${burst_ms[$key]:-}" ] || continue
      # shellcheck disable=SC2086
      t=$(median ${burst_ms[$key]}); c=$(median ${burst_cpu[$key]}); b=$(median ${burst_busy[$key]})
      [ "${#server_cpus[@]}" -gt 0 ] || b=-
      vs_time=""; vs_cpu=""; vs_go=""; vs_busy=""; time_span=""; cpu_span=""
      if [ "$server" = echod ]; then
        # shellcheck disable=SC2086
        [ -z "${burst_ms[$name|naive]:-}" ] || { vs_time=$(ratio "$t" "$(median ${burst_ms[$name|naive]})");
          vs_cpu=$(ratio "$c" "$(median ${burst_cpu[$name|naive]})")
          time_span=$(span "$name" time); cpu_span=$(span "$name" cpu)
          [ "$b" = - ] || vs_busy=$(ratio "$b" "$(median ${burst_busy[$name|naive]})"); }
        # shellcheck disable=SC2086
        [ -z "${burst_ms[$name|go]:-}" ] || vs_go=$(ratio "$t" "$(median ${burst_ms[$name|go]})")
      fi
      # shellcheck disable=SC2086
      printf '%-12s %-6s %14.1f %9.1f %9.1f %10.0f %12s %10s %11s %10s %9s %9s %10s\n' "$name" "$server" "$t" \
        "$(awk -v v="$(median ${burst_p50[$key]})" 'BEGIN{print v / 1000}')" \
        "$(awk -v v="$(median ${burst_p99[$key]})" 'BEGIN{print v / 1000}')" "$c" "$vs_time" "$time_span" "$vs_cpu" \
        "$cpu_span" "$vs_go" "$b" "$vs_busy"
    done
  done
fi
if [ -n "${udp_rates[*]:-}" ]; then
  echo
  echo "UDP: ${udp_command[*]#$bin/service/} against Go's UDP echo (one goroutine, ReadFrom/WriteTo);"
  echo "bench/udp-load: 8 sockets x 8 datagrams in flight, recvmmsg/sendmmsg; dg/s = datagrams answered a second"
  printf '%-20s %-6s %11s %9s %9s %10s %8s %9s\n' case server "dg/s" "p50 us" "p99 us" "cpu us/dg" "loss %" "/go"
  for entry in "${udp_cases[@]}"; do
    name=${entry%%|*}
    for server in "${udp_servers[@]}"; do
      key="$name|$server"
      [ -n "${udp_rates[$key]:-}" ] || continue
      # shellcheck disable=SC2086
      rate=$(median ${udp_rates[$key]})
      vs=""
      if [ "$server" = echod ] && [ -n "${udp_rates[$name|go]:-}" ]; then
        # shellcheck disable=SC2086
        vs=$(ratio "$rate" "$(median ${udp_rates[$name|go]})")
      fi
      # shellcheck disable=SC2086
      printf '%-20s %-6s %11.0f %9s %9s %10s %8s %9s\n' "$name" "$server" "$rate" "$(median ${udp_p50s[$key]})" \
        "$(median ${udp_p99s[$key]})" "$(median ${udp_cpu[$key]})" "$(median ${udp_lost[$key]})" "$vs"
    done
  done
fi
echo
echo "The model's floor: one context switch costs ${switch_ns} ns here (bench/ContextSwitch.cpp, two threads on CPU 0)."
for name in "pingpong c=100" "pingpong c=1000" "pingpong c=10000"; do
  e=${med_cpu[$name|echod]:-}; a=${med_cpu[$name|asio]:-}
  [ -n "$e" ] && [ -n "$a" ] || continue
  awk -v n="$name" -v e="$e" -v a="$a" -v s="$switch_ns" 'BEGIN{
    f = a + s / 1000; printf "%-17s echod %.2f us/msg %s asio %.2f + one switch %.2f = %.2f us/msg: %s\n", n, e,
      (e <= f ? "<=" : ">"), a, s / 1000, f, (e <= f ? "at the floor" : "ABOVE the floor") }'
done
echo
printf 'peak RSS:'
for server in "${servers[@]}"; do
  printf '  %s %s MiB' "$server" "$(awk '/VmHWM/{printf "%.0f", $2 / 1024}' "/proc/${pid[$server]}/status")"
done
for server in "${udp_servers[@]}"; do
  printf '  %s-udp %s MiB' "$server" "$(awk '/VmHWM/{printf "%.0f", $2 / 1024}' "/proc/${udp_pid[$server]}/status")"
done
echo
[ $peer_failures -eq 0 ] || echo "bench: $peer_failures measurement(s) of the peers failed (left out of their medians)"
if [ $failures -gt 0 ]; then
  echo "bench: $failures measurement(s) of echod failed"
  exit 1
fi
