#!/usr/bin/env bash
# Soak test: mixed traffic from many clients against one echo-server for
# ECHOD_SOAK_SECONDS (default 60), after a warm-up with the same mix. Passes
# when every client saw zero errors, the server's open descriptors return to
# their count before the soak, and its RSS stays within 5 MiB of it.
# Traffic goes to 127.0.0.1 only; every client run is bounded by --duration.
#   tests/soak/run.sh [BUILD_DIR]      (default build/test)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/test}
seconds=${ECHOD_SOAK_SECONDS:-60}
warmup=${ECHOD_SOAK_WARMUP:-5}
server=$build/service/echo-server
client=$build/client/echo-client
for bin in "$server" "$client"; do [ -x "$bin" ] || { echo "soak: $bin is not built"; exit 1; }; done

log=$(mktemp)
"$server" --host=127.0.0.1 --port=0 --log-level=notice --admin-port=0 --max-threads=512 --idle-timeout=30 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$log" | sed 's/.*://')
[ -n "$port" ] || { echo "soak: server did not start"; cat "$log"; exit 1; }

rss() { awk '/VmRSS/{print $2}' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
long_line=$(head -c 70000 /dev/zero | tr '\0' 'x')

# One round of the mix, $1 seconds long; prints one line per load and "errors N".
mix() {
  local s=$1 dir
  dir=$(mktemp -d)
  "$client" --port="$port" --bench --json --connections=50 --size=16 --duration="$s" >"$dir/pingpong" 2>&1 &
  "$client" --port="$port" --bench --json --connections=10 --size=200 --pipeline=32 --duration="$s" >"$dir/pipelined" 2>&1 &
  "$client" --port="$port" --bench --json --connections=4 --workload=connect --duration="$s" >"$dir/connect" 2>&1 &
  "$client" --port="$port" --bench --json --connections=5 --size=8000 --duration="$s" >"$dir/large" 2>&1 &
  # Misbehaving and short-lived clients, bounded by the same time.
  local end=$((SECONDS + ${s%.*} + 1)) bad=0 odd=0
  while [ $SECONDS -lt $end ] && [ $odd -lt 100000 ]; do
    "$client" --port="$port" --check >/dev/null || bad=$((bad + 1))
    "$client" --port="$port" --send="$long_line" >/dev/null 2>&1 && bad=$((bad + 1))  # must get ERR: exit 1
    [ "$(printf 'a\nhalf' | "$client" --port="$port" 2>/dev/null)" = $'echo : a\necho : half' ] || bad=$((bad + 1))
    odd=$((odd + 3))
  done
  wait
  local errors=$bad
  for f in "$dir"/*; do
    local e
    e=$(grep -o '"errors":[0-9]*' "$f" | cut -d: -f2)
    echo "  $(basename "$f"): $(grep -o '"messages":[0-9]*' "$f" | cut -d: -f2) messages, ${e:-?} errors"
    errors=$((errors + ${e:-1}))
  done
  echo "  short clients: $odd runs (check, line too long, half-close), $bad wrong"
  echo "errors $errors"
  rm -rf "$dir"
}

echo "soak: warm-up ${warmup} s"
mix "$warmup" | tail -n 1 >/dev/null
# Let the warm-up's connections close before taking the baseline.
for _ in $(seq 1 100); do [ "$(fds)" -le 8 ] && break; sleep 0.1; done
fd0=$(fds); rss0=$(rss)
echo "soak: ${seconds} s of mixed traffic (baseline: $fd0 fds, $rss0 KiB RSS)"
out=$(mix "$seconds")
echo "$out" | grep -v '^errors'
errors=$(echo "$out" | awk '/^errors/{print $2}')
fd1=$(fds)
for _ in $(seq 1 100); do fd1=$(fds); [ "$fd1" -le "$fd0" ] && break; sleep 0.1; done
rss1=$(rss)
echo "soak: after: $fd1 fds, $rss1 KiB RSS (change $((rss1 - rss0)) KiB)"

status=0
[ "$errors" = 0 ] || { echo "soak: FAIL: $errors errors"; status=1; }
[ "$fd1" -le "$fd0" ] || { echo "soak: FAIL: descriptors $fd0 -> $fd1"; status=1; }
[ $((rss1 - rss0)) -lt 5120 ] || { echo "soak: FAIL: RSS grew by $((rss1 - rss0)) KiB"; status=1; }
kill -TERM $pid
# The drain takes at most drainTimeout (5 s) + 1 s + the pool's join: 15 s is plenty.
for _ in $(seq 1 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
  echo "soak: FAIL: server still running 15 s after SIGTERM"
  kill -KILL $pid
  status=1
fi
rc=0
wait $pid || rc=$?
[ $rc -eq 0 ] || { echo "soak: FAIL: server exit status $rc after SIGTERM"; status=1; }
trap 'rm -f "$log"' EXIT
[ $status -eq 0 ] && echo "soak: passed"
exit $status
