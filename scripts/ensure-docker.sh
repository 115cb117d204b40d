#!/usr/bin/env bash
# Makes a Docker engine answer and makes sure the base image debian:bookworm-slim
# exists, for the container tests and `docker compose up`.
#
# - installs docker.io, docker-compose and debootstrap when missing (root only);
# - starts dockerd when no engine answers (root only);
# - when debian:bookworm-slim is absent and cannot be pulled, builds it locally
#   with debootstrap from the machine's own apt mirror.
#
# Exit status: 0 ready; 3 no engine and no way to start one (not root);
# 1 anything else failed. The reason is printed on stderr.
set -euo pipefail

log() { echo "ensure-docker: $*" >&2; }
base_image=debian:bookworm-slim

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need_pkgs+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
if [ ${#need_pkgs[@]} -gt 0 ] && ! engine_answers; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no Docker engine and not root: cannot install ${need_pkgs[*]}"
    exit 3
  fi
  log "installing ${need_pkgs[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi

if ! engine_answers; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no Docker engine answers and not root: cannot start dockerd"
    exit 3
  fi
  # Pid files left by a dockerd and its containerd that are gone (a machine
  # restored from a snapshot) stop new ones when their numbers have been
  # reused meanwhile: dockerd refuses to start, or waits for a containerd
  # that is some other process.
  for stale in dockerd:/var/run/docker.pid containerd:/var/run/docker/containerd/containerd.pid; do
    if [ -f "${stale#*:}" ] && ! pgrep -x "${stale%%:*}" >/dev/null 2>&1; then
      log "removing the stale ${stale#*:} (no ${stale%%:*} runs)"
      rm -f "${stale#*:}"
    fi
  done
  log "starting dockerd (log: /var/log/echod-dockerd.log)"
  nohup dockerd >/var/log/echod-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers && break
    sleep 1
  done
  if ! engine_answers; then
    log "dockerd did not answer within 60 s; last lines of its log:"
    tail -n 20 /var/log/echod-dockerd.log >&2 || true
    exit 1
  fi
fi
log "engine ready: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
# `docker compose` where only Debian's docker-compose (1.29) exists (bookworm's
# docker.io has no Compose v2): a Docker CLI plugin that hands it the command,
# so the README's `docker compose ...` lines work as typed. Docker's own
# Compose v2 plugin, where installed, answers first, and none is written.
if ! docker compose version >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    plugin=/usr/local/lib/docker/cli-plugins/docker-compose
    mkdir -p "$(dirname "$plugin")"
    cat >"$plugin" <<'PLUGIN'
#!/bin/sh
# `docker compose ARGS` -> Debian's `docker-compose ARGS` (written by echod's scripts/ensure-docker.sh).
if [ "${1:-}" = docker-cli-plugin-metadata ]; then
  printf '{"SchemaVersion":"0.1.0","Vendor":"Debian (docker-compose %s)","Version":"1","ShortDescription":"Docker Compose"}\n' \
    "$(docker-compose version --short 2>/dev/null)"
  exit 0
fi
shift  # the plugin's own name, "compose"
exec docker-compose "$@"
PLUGIN
    chmod 755 "$plugin"
    docker compose version >/dev/null 2>&1 && log "docker compose: Debian's docker-compose through $plugin"
  else
    log "docker compose is missing and not root: the README's commands need docker-compose in its place"
  fi
fi

# The machine's Debian mirror, from its own apt sources (deb822 or one-line).
apt_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | grep -v -- '-security' | head -n 1)
  if [ -z "$uri" ]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      grep -E ' bookworm( |$)| bookworm main' | awk '{print $2}' | head -n 1)
  fi
  echo "$uri"
}

if docker image inspect "$base_image" >/dev/null 2>&1; then
  log "$base_image present"
  exit 0
fi
if timeout 30 docker pull -q "$base_image" >/dev/null 2>&1; then
  log "$base_image pulled"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  log "$base_image is missing, cannot be pulled, and debootstrap needs root"
  exit 1
fi
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
}
mirror=$(apt_mirror)
if [ -z "$mirror" ]; then
  log "cannot find a Debian mirror in /etc/apt/sources.list*"
  exit 1
fi
root=$(mktemp -d /var/tmp/echod-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "building $base_image with debootstrap from the machine's apt mirror"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >/var/log/echod-debootstrap.log 2>&1; then
  log "debootstrap failed; last lines of /var/log/echod-debootstrap.log:"
  tail -n 20 /var/log/echod-debootstrap.log >&2
  exit 1
fi
# Same sources inside the image as on this machine, so apt-get works in builds.
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import - "$base_image" >/dev/null
log "$base_image imported ($(docker image inspect -f '{{.Size}}' "$base_image") bytes)"
