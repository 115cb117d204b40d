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
