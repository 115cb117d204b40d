#!/usr/bin/env bash
# Builds and runs every test of echod:
#   1. unit and integration tests (GoogleTest under CTest), plain build;
#   2. the same suite built with -fsanitize=thread;
#   3. the same suite built with -fsanitize=address,undefined;
#   4. the container tests (Docker image, compose, netcat, stop).
# Installs what is missing. With CI=true every part must run: a skip fails.
# ECHOD_TEST_PARTS="unit tsan asan container" picks parts (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."

parts=${ECHOD_TEST_PARTS:-"unit tsan asan container"}
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
  if (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300); then
    summary+=("$name: passed")
  else
    failed+=("$name")
  fi
}

for part in $parts; do
  case $part in
    unit) run_suite "unit+integration" build/test ;;
    tsan)
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
        run_suite "thread sanitizer" build/tsan -DECHOD_SANITIZE=thread ;;
    asan)
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        run_suite "address+undefined sanitizer" build/asan "-DECHOD_SANITIZE=address,undefined" ;;
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
