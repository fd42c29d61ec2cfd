#!/usr/bin/env bash
# A local fleet of three station containers plus the WATS stand-in, deployed
# with the collection's deploy playbook.
#   scripts/local-fleet.sh up      create the fleet, deploy, drop a report on each
#                                  station, print health and what the server got
#   scripts/local-fleet.sh status  print health and what the server got
#   scripts/local-fleet.sh down    remove the containers and stop the stand-in
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"
export PYWATS_DEMO_TOKEN=${PYWATS_DEMO_TOKEN:-local-fleet-demo-token}
IMAGE=${PYWATS_FLEET_IMAGE:-pywats-test/debian:12}
PORT=18080
STATE=${PYWATS_FLEET_STATE:-$PWD/.cache/local-fleet}
PIP_CACHE=${PIP_CACHE_DIR:-/var/cache/pywats-test/pip}
STATIONS=(pywats-station-1 pywats-station-2 pywats-station-3)

start_station() {
  local name=$1
  if docker container inspect "$name" >/dev/null 2>&1; then
    docker start "$name" >/dev/null; return
  fi
  # This kernel refuses --privileged: SYS_ADMIN, no seccomp filter and the
  # host's cgroup tree let systemd run as PID 1.
  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --network host --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$PIP_CACHE:/root/.cache/pip:rw" \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 --label pywats-local-fleet=1 \
    "$IMAGE" /lib/systemd/systemd >/dev/null
}

status() {
  python3 scripts/fleet-report.py --standin "http://127.0.0.1:$PORT" \
    --inventory inventories/local/hosts.yml
}

case "${1:-up}" in
  up)
    mkdir -p "$STATE" "$PIP_CACHE"
    umask 077; printf '%s' "$PYWATS_DEMO_TOKEN" >"$STATE/token"; umask 022
    scripts/standin.sh start "$PORT" "$STATE" "$STATE/token"
    for s in "${STATIONS[@]}"; do start_station "$s"; done
    for s in "${STATIONS[@]}"; do
      docker exec "$s" systemctl is-system-running --wait >/dev/null || true
    done
    ansible-playbook -i inventories/local virinco.pywats.deploy
    # The stand-in keeps reports across runs: wait for, and list, this run's by serial number.
    serials=()
    for s in "${STATIONS[@]}"; do
      serials+=("$(python3 scripts/fleet-report.py --drop-report "$s")")
    done
    python3 scripts/fleet-report.py --standin "http://127.0.0.1:$PORT" \
      --inventory inventories/local/hosts.yml --wait-serials "$(IFS=,; echo "${serials[*]}")"
    ;;
  status) status ;;
  down)
    for s in "${STATIONS[@]}"; do docker rm -f "$s" >/dev/null 2>&1 || true; done
    scripts/standin.sh stop "$PORT" "$STATE" ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
