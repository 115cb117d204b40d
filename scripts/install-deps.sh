#!/usr/bin/env bash
# Installs, with apt-get, whichever of the packages echod needs are missing.
#   scripts/install-deps.sh build   compiler, CMake, POCO (to build and run)
#   scripts/install-deps.sh test    the above plus GoogleTest, netcat, clang (and its tidy and format), Boost (to test)
#   scripts/install-deps.sh bench   the build set plus Boost (for bench/)
# Needs root only when something is missing.
set -euo pipefail

want=(g++ cmake make libpoco-dev)
case "${1:-build}" in
  test) want+=(googletest libgtest-dev netcat-openbsd clang libclang-rt-dev clang-tidy clang-format procps libboost-dev golang-go python3-yaml openssl ncat haproxy curl chromium chromium-driver python3-selenium) ;;
  bench) want+=(libboost-dev golang-go openssl) ;;
esac

# promtool (checks the /metrics format in the tests): taken out of Debian's
# prometheus package without installing it, so no Prometheus service starts.
fetch_promtool() {
  local tools dir
  tools="$(cd "$(dirname "$0")/.." && pwd)/.tools"
  [ -x "$tools/promtool" ] || command -v promtool >/dev/null 2>&1 && return 0
  dir=$(mktemp -d)
  if (cd "$dir" && apt-get download prometheus >/dev/null 2>&1 && dpkg-deb -x prometheus_*.deb root); then
    mkdir -p "$tools" && cp "$dir/root/usr/bin/promtool" "$tools/promtool"
  else
    echo "install-deps: could not fetch promtool from the prometheus package" >&2
  fi
  rm -rf "$dir"
}

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "${1:-build}" = test ] && fetch_promtool
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
[ "${1:-build}" = test ] && fetch_promtool
exit 0
