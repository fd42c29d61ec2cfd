#!/usr/bin/env bash
# Build the local test images pywats-test/debian:<release> from Debian's packages
# with debootstrap, trusting this machine's extra CA certificates, and import them
# into Docker. An image that already exists is reused unless FORCE=1.
#
# Usage: scripts/build-images.sh [11] [12] [13]     (default: 12 13 11)
set -euo pipefail

declare -A SUITE=([11]=bullseye [12]=bookworm [13]=trixie)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
REPO=${IMAGE_REPO:-pywats-test/debian}
INCLUDE=systemd,systemd-sysv,python3,python3-venv,ca-certificates,dbus
CA_DIR=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}

log() { printf '[build-images] %s\n' "$*"; }

command -v debootstrap >/dev/null 2>&1 || {
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
}

# Root-owned trees of several hundred MB: removed on every exit path, success or not.
# (A RETURN/EXIT trap naming a function's local would meet an unbound name at exit
# under set -u, so the paths live here.)
tmp_paths=()
cleanup() { [ ${#tmp_paths[@]} -eq 0 ] || rm -rf "${tmp_paths[@]}"; }
trap cleanup EXIT

releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(12 13 11)

build_one() {
  local rel=$1 suite=${SUITE[$1]:-}
  [ -n "$suite" ] || { log "unknown Debian release '$rel' (allowed: ${!SUITE[*]})"; return 2; }
  local tag="$REPO:$rel"
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, reused"
    return 0
  fi
  local start=$SECONDS dir
  dir=$(mktemp -d "/var/tmp/pywats-rootfs-$rel.XXXXXX")
  tmp_paths+=("$dir" "$dir.log")
  log "debootstrap $suite into $dir"
  debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
    tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
  rm -f "$dir.log"
  if compgen -G "$CA_DIR/*.crt" >/dev/null; then
    cp "$CA_DIR"/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >/dev/null
  fi
  # Containers need no getty and no udev; a machine-id is made at first boot.
  rm -f "$dir/etc/machine-id" && : >"$dir/etc/machine-id"
  chroot "$dir" systemctl mask getty@tty1.service serial-getty@.service \
    systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
    >/dev/null 2>&1 || true
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
    - "$tag" >/dev/null
  rm -rf "$dir"
  log "$tag built in $((SECONDS - start)) s"
}

# An air-gapped station still needs the client's OS packages; factories get them
# from an internal mirror or a golden image. This tag is such a golden image:
# the base image plus the role's package list for Debian 12.
build_airgap() {
  local base="$REPO:12" tag="$REPO:12-airgap" name="pywats-airgap-build-$$"
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, reused"; return 0
  fi
  local start=$SECONDS
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run --name "$name" --network host "$base" sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libglib2.0-0 patch procps >/dev/null && rm -rf /var/lib/apt/lists/*'
  docker commit -c 'CMD ["/lib/systemd/systemd"]' "$name" "$tag" >/dev/null
  docker rm -f "$name" >/dev/null
  log "$tag built in $((SECONDS - start)) s"
}

for rel in "${releases[@]}"; do build_one "$rel"; done
case " ${releases[*]} " in *" 12 "*) build_airgap ;; esac
