#!/usr/bin/env bash
# Builds echo-server (Release) and runs it on its defaults: port 4567 on all
# IPv4 addresses. Extra arguments go to echo-server, e.g. --port=5000.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DECHOD_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target echo-server echo-client -j "$(nproc)"
exec build/release/service/echo-server "$@"
