#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine. Installs Debian's docker.io
# when the engine is missing and starts dockerd without a bridge: test
# containers use host networking (or none), never a private-range network.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*"; }

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  log "engine already answers"
  exit 0
fi

logfile=${DOCKERD_LOG:-/var/log/dockerd-pywats.log}
log "starting dockerd (log: $logfile)"
nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$logfile" 2>&1 &

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine answers"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last lines of $logfile:"
tail -n 30 "$logfile" >&2 || true
exit 1
