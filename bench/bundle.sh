#!/usr/bin/env bash
# Bundles the bench's programs for a machine that cannot build them (another
# distribution, no POCO, nothing to install: ../shared/MANY-CORES.md):
# echo-server and the C++ peers and load generators with the shared libraries
# they were linked against, each started through the dynamic loader that came
# with them by a wrapper of the same name; Go's servers built static
# (CGO_ENABLED=0); taskset, which such a machine may lack. About 25 MiB.
#
#   bench/bundle.sh [DIR]                 (default build/many)
#   there: PATH="$PWD/DIR/tools:$PATH" BENCH_BIN=DIR BENCH_SERVER_CPUS=8-15 \
#          BENCH_LOAD_CPUS=0-7 BENCH_LOAD_THREADS=8 bench/run.sh
#
# A wrapper execs the loader, so its process id is the program's (the bench
# reads the server's CPU clock by that process id).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

dir=${1:-build/many}
bench_build echo-server asio-echo-server naive-echo-server event-load context-switch udp-load
rm -rf "$dir"
mkdir -p "$dir/lib" "$dir/real" "$dir/service" "$dir/bench" "$dir/tools"

wrap() {  # program, wrapper's path under $dir
  local real
  real="$dir/real/$(basename "$1")"
  cp "$1" "$real"
  for l in $(ldd "$1" | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
    [ -e "$dir/lib/$(basename "$l")" ] || cp -L "$l" "$dir/lib/"
  done
  cat >"$dir/$2" <<WRAP
#!/bin/sh
d=\$(cd "\$(dirname "\$0")/.." && pwd)
exec "\$d/lib/ld-linux-x86-64.so.2" --library-path "\$d/lib" "\$d/real/$(basename "$1")" "\$@"
WRAP
  chmod +x "$dir/$2"
}
wrap build/bench/service/echo-server service/echo-server
for p in asio-echo-server naive-echo-server event-load context-switch udp-load; do
  wrap "build/bench/bench/$p" "bench/$p"
done
wrap "$(command -v taskset)" tools/taskset

scripts/install-deps.sh bench
export CGO_ENABLED=0 GOCACHE=${GOCACHE:-$PWD/build/bench/gocache} GOPATH=${GOPATH:-$PWD/build/bench/gopath} \
  GOFLAGS=-mod=mod
go build -o "$dir/bench/go-echo-server" bench/go/echo.go
go build -o "$dir/bench/go-udp-echo-server" bench/go/udpecho.go
du -sh "$dir"
