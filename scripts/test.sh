#!/usr/bin/env bash
# Builds and runs every test of echod:
#   1. unit and integration tests (GoogleTest under CTest), plain build;
#   2. the same suite built with -fsanitize=thread;
#   3. the same suite built with -fsanitize=address,undefined;
#   4. the libFuzzer targets of the protocol core (server and client halves, the PROXY header), ECHOD_FUZZ_SECONDS (90) shared;
#   5. the soak test: mixed traffic for ECHOD_SOAK_SECONDS (60), then fds and RSS;
#   6. the benchmark as a smoke test (every case runs, zero errors; no timing thresholds),
#      and C10K on the defaults (10,000 connections, zero errors, RSS under 256 MiB);
#   7. the Kubernetes manifests, parsed and checked field by field;
#   8. the container tests (Docker image, compose, netcat, stop, scale-out);
#   9. lint: clang-format on every C++ file, clang-tidy (warnings are errors) on the product's sources,
#      the direction of includes between service/'s rooms, and the map kept true (scripts/lint-map.py:
#      docs/architecture.md and the README name every room and unit, docs/X.md "Section" pointers name
#      sections that exist, no service unit over 450 lines).
#  10. the web console in headless Chromium driven by Selenium (tests/browser/console_test.py).
# Installs what is missing. With CI=true every part must run: a skip fails.
# ECHOD_TEST_PARTS="lint unit browser tsan asan fuzz soak bench deploy container" picks parts (default: all).
# A skipped test counts: the summary prints how many, and with CI=true a skip fails its part.
set -euo pipefail
cd "$(dirname "$0")/.."

parts=${ECHOD_TEST_PARTS:-"lint unit browser tsan asan fuzz soak bench deploy container"}
jobs=$(nproc)
failed=()
summary=()

scripts/install-deps.sh test

run_suite() {  # name, build dir, cmake args...
  local name=$1 dir=$2
  shift 2
  echo "=== $name: build ($dir)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DECHOD_WERROR=ON "$@" >/dev/null
  if ! cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1; then
    grep -E -A5 'error|warning' "$dir/build.log" | head -60
    echo "=== $name: BUILD FAILED (log: $dir/build.log)"
    failed+=("$name build")
    return
  fi
  echo "=== $name: ctest"
  local rc=0
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300 | tee ctest.log) || rc=$?
  # The fault tests print what they measured; ctest keeps it in its log.
  grep -h '\[ figures  \]' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null || true
  local skipped
  skipped=$(grep -c ' Skipped ' "$dir/ctest.log" || true)
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
  elif [ "$skipped" -gt 0 ] && [ "${CI:-}" = true ]; then
    grep ' Skipped ' "$dir/ctest.log"
    failed+=("$name: $skipped test(s) skipped, and in CI every test must run")
  else
    summary+=("$name: passed, $skipped skipped")
  fi
}

for part in $parts; do
  case $part in
    lint)
      echo "=== lint: clang-format, clang-tidy"
      lint_ok=true
      if ! git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror; then
        echo "=== lint: clang-format would change the files above (run: git ls-files '*.cpp' '*.h' | xargs clang-format -i)"
        lint_ok=false
      fi
      cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DECHOD_BUILD_BENCH=ON >/dev/null
      cmake --build build/test -j "$jobs" >/dev/null  # generated sources and headers must exist for clang-tidy
      if ! run-clang-tidy -p build/test -j "$jobs" -quiet "$PWD/(protocol|service|client|settings|tls|bench)/.*\.cpp" \
        >build/test/tidy.log 2>&1; then
        grep -E 'warning:|error:' build/test/tidy.log | sort -u | head -40
        echo "=== lint: clang-tidy found the above (log: build/test/tidy.log)"
        lint_ok=false
      fi
      # The direction of includes (docs/architecture.md, "The house"): nothing
      # includes a room above its own, and the connection path never reads ServerSettings.
      upward=$( {
        grep -rnE '#include "service/(admin|server)/' service/connection service/logging service/udp service/core
        grep -rnE '#include "service/(connection|udp|core)/' service/logging
        grep -rn '#include "service/connection/' service/udp
        grep -rn '#include "service/udp/' service/connection
        grep -rn '#include "service/' service/core | grep -v '#include "service/core/'
        grep -rn '#include "service/admin/' service/server
        grep -rn '#include "service/' protocol settings tls client
        grep -rn '#include "service/EchoServerApp.h"' service | grep -v -e '^service/main.cpp:' -e '^service/EchoServerApp.cpp:'
      } || true)
      if [ -n "$upward" ]; then
        echo "$upward"
        echo "=== lint: the includes above point up the house (docs/architecture.md, \"The house\")"
        lint_ok=false
      fi
      # The map stays true: every room and unit named, every section pointer alive, no unit over 450 lines.
      if ! /usr/bin/python3 scripts/lint-map.py; then
        echo "=== lint: docs/architecture.md, the README's layout or a section pointer is out of step (scripts/lint-map.py)"
        lint_ok=false
      fi
      if $lint_ok; then summary+=("lint: passed"); else failed+=("lint"); fi ;;
    unit) run_suite "unit+integration" build/test ;;
    browser)
      echo "=== browser: the web console in headless Chromium (Selenium)"
      if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
        if [ "${CI:-}" = true ]; then
          failed+=("browser: chromium, chromium-driver or python3-selenium is missing, and in CI it must run")
        else
          summary+=("browser: skipped (apt-get install chromium chromium-driver python3-selenium)")
        fi
        continue
      fi
      cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DECHOD_WERROR=ON >/dev/null &&
        cmake --build build/test -j "$jobs" --target echo-server >/dev/null
      shots=$(mktemp -d /tmp/echod-console-XXXXXX)
      if timeout 600 /usr/bin/python3 tests/browser/console_test.py build/test "$shots"; then
        summary+=("browser: passed (screenshot: $shots/console.png)")
      else
        failed+=("browser (screenshots: $shots)")
      fi
      ;;
    tsan)
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
        run_suite "thread sanitizer" build/tsan -DECHOD_SANITIZE=thread ;;
    asan)
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        run_suite "address+undefined sanitizer" build/asan "-DECHOD_SANITIZE=address,undefined" ;;
    fuzz)
      echo "=== fuzz: build (build/fuzz, clang + libFuzzer)"
      cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DECHOD_BUILD_TESTS=OFF -DECHOD_BUILD_FUZZ=ON "-DECHOD_SANITIZE=address,undefined,fuzzer-no-link" >/dev/null
      fuzz_targets=(echo_session_fuzz reply_reader_fuzz proxy_header_fuzz udp_datagram_fuzz rollout_fuzz alpn_fuzz
        certificate_facts_fuzz)
      if cmake --build build/fuzz --target "${fuzz_targets[@]}" -j "$jobs" >build/fuzz/build.log 2>&1; then
        # The time is shared between the parsers of the protocol core; each has its seed corpus.
        share=$(( ${ECHOD_FUZZ_SECONDS:-90} / ${#fuzz_targets[@]} ))
        fuzz_failed=()
        for target in "${fuzz_targets[@]}"; do
          corpus=$(mktemp -d)
          case $target in
            proxy_header_fuzz) cp tests/fuzz/proxy-corpus/* "$corpus/" ;;
            rollout_fuzz) cp tests/fuzz/rollout-corpus/* "$corpus/" ;;
            alpn_fuzz) cp tests/fuzz/alpn-corpus/* "$corpus/" ;;
            certificate_facts_fuzz) cp tests/fuzz/certificate-corpus/* "$corpus/" ;;
            *) cp tests/fuzz/corpus/* "$corpus/" ;;
          esac
          echo "=== fuzz: $target, ${share} s"
          fuzz_rc=0
          (cd build/fuzz && "./tests/fuzz/$target" -max_total_time="$share" \
            -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 "$corpus" >"$target.log" 2>&1) || fuzz_rc=$?
          grep -E '^Done|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|property violated|SUMMARY' \
            "build/fuzz/$target.log" || true
          if [ $fuzz_rc -ne 0 ]; then
            tail -n 30 "build/fuzz/$target.log"
            fuzz_failed+=("$target")
          fi
          rm -rf "$corpus"
        done
        if [ ${#fuzz_failed[@]} -eq 0 ]; then
          summary+=("fuzz: passed, no finding (${fuzz_targets[*]})")
        else
          failed+=("fuzz: ${fuzz_failed[*]} (the failing input is in build/fuzz/)")
        fi
      else
        tail -n 30 build/fuzz/build.log
        failed+=("fuzz build")
      fi ;;
    soak)
      echo "=== soak: ${ECHOD_SOAK_SECONDS:-60} s of mixed traffic"
      cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build/test -j "$jobs" --target echo-server echo-client >/dev/null
      if tests/soak/run.sh build/test; then summary+=("soak: passed"); else failed+=("soak"); fi ;;
    bench)
      echo "=== bench smoke test (short runs, no thresholds)"
      if BENCH_SECONDS=${ECHOD_BENCH_SECONDS:-0.5} BENCH_ROUNDS=1 bench/run.sh &&
        SWITCHES_SECONDS=${ECHOD_BENCH_SECONDS:-0.5} bench/switches.sh &&
        C10K_SECONDS=${ECHOD_C10K_SECONDS:-3} bench/c10k.sh &&
        TLS_SECONDS=${ECHOD_BENCH_SECONDS:-0.5} TLS_ROUNDS=1 bench/tls.sh &&
        PROXY_SECONDS=${ECHOD_BENCH_SECONDS:-0.5} PROXY_ROUNDS=1 bench/proxy.sh; then
        summary+=("bench smoke: passed")
      else
        failed+=("bench smoke")
      fi ;;
    deploy)
      echo "=== Kubernetes manifests"
      if /usr/bin/python3 tests/deploy/check_manifests.py; then summary+=("deploy: passed"); else failed+=("deploy"); fi ;;
    container)
      echo "=== container tests"
      rc=0
      tests/container/run.sh || rc=$?
      if [ $rc -eq 0 ]; then
        summary+=("container: passed")
      elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
        summary+=("container: SKIPPED (no Docker engine and not root)")
      else
        failed+=("container")
      fi ;;
    *) echo "unknown test part: $part" >&2; exit 2 ;;
  esac
done

echo
echo "=== summary"
for line in "${summary[@]}"; do echo "$line"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test parts passed"
