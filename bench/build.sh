#!/usr/bin/env bash
# The benchmarks' one build: installs what is missing, then builds the given
# targets as Release in build/bench.
#   bench/build.sh echo-server echo-client asio-echo-server event-load
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh bench
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DECHOD_BUILD_BENCH=ON -DECHOD_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench -j "$(nproc)" --target "$@" >/dev/null
