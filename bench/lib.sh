# Sourced by the bench scripts (from the repository's top directory).

# Installs what is missing, then builds the given targets as Release in build/bench.
bench_build() {
  scripts/install-deps.sh bench
  cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DECHOD_BUILD_BENCH=ON -DECHOD_BUILD_TESTS=OFF >/dev/null
  cmake --build build/bench -j "$(nproc)" --target "$@" >/dev/null
}

# Prints the port a server announced ("<what> HOST:PORT") in its log,
# waiting for it up to 30 s (a server creating 10,000 threads up front takes a while); prints the log and fails if it never came.
announced_port() {  # log file, what precedes the address ("listening on", "UDP echo on")
  local p=""
  for _ in $(seq 1 3000); do
    p=$(grep -o "$2 [0-9.]*:[0-9]*" "$1" | sed 's/.*://') && [ -n "$p" ] && break
    sleep 0.01
  done
  [ -n "$p" ] || { echo "bench: nothing announced '$2'; its log:" >&2; cat "$1" >&2; return 1; }
  echo "$p"
}
listening_port() { announced_port "$1" 'listening on'; }  # log file: the TCP port

# Waits, at most 150 s, until the kernel's connection tracking table (where
# netfilter is loaded, loopback is tracked too) has room for N more
# connections. Every closed connection stays there 120 s in TIME_WAIT; a
# full table drops new SYNs, and a burst then waits for SYN retransmits (1 s,
# 3 s, 7 s...) or times out, whichever server it is. Says so when it waits.
conntrack_room() {  # N
  local count=/proc/sys/net/netfilter/nf_conntrack_count max=/proc/sys/net/netfilter/nf_conntrack_max
  [ -r "$count" ] && [ -r "$max" ] || return 0
  local want=$(($1 * 2)) waited=0
  while [ $(($(cat "$max") - $(cat "$count"))) -lt "$want" ] && [ "$waited" -lt 150 ]; do
    [ "$waited" -gt 0 ] || echo "bench: waiting for room for $1 connections in the connection tracking table ($(cat "$count") of $(cat "$max") used)" >&2
    sleep 1
    waited=$((waited + 1))
  done
}
