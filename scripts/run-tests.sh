#!/usr/bin/env bash
# Run the test stages in order and print how long each took.
#   scripts/run-tests.sh              every stage
#   scripts/run-tests.sh lint unit    only these
# Stages: lint, sanity, core-range (sanity on every ansible-core minor meta/runtime.yml claims,
# unit and dispatch on the oldest: scripts/core-range.sh), unit, dispatch, windows, wine (a Windows station under Wine: the role's
# Windows rendering applied and the real client run as a service in pywin32's host), hotfixes, wheelhouse, integration, fleet (four
# stations run deploy, upgrade, status and uninstall as AWX jobs through ansible-runner),
# container (the role pywats_client_container on this machine's Docker engine), arm64 (Debian 12
# arm64 under qemu-user emulation: its image, the Molecule scenario arm64, and the container role's
# linux/amd64 + linux/arm64 images with the arm64 one run to healthy), molecule (scenarios from
# MOLECULE_SCENARIOS), appliance (the VM appliance built from the run's wheelhouse and booted
# under qemu: seed, report share, snapshot/restore, console UI), benchmark (benchmarks/run.sh
# --quick; fails when the benchmark itself breaks, when a no-op re-run changes anything, or when it
# makes more than 8 module runs on a station: counts, never timings).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# Two lanes for a full run on a 2-core machine. After the wheelhouse stage, the stages that
# start no station (lint, sanity, unit, dispatch, windows, hotfixes) and the container stage
# (its own image, ports and names) run beside the stages that drive station containers, which
# mostly wait on apt, pip and health checks. The controller lane's output follows once both
# lanes are done. PYWATS_TEST_LANES=1 runs every stage one after the other.
controller_lane=(lint sanity core-range unit dispatch windows wine hotfixes container arm64)
hosts_lane=(integration fleet molecule appliance benchmark)
if [ $# -eq 0 ] && [ "${PYWATS_TEST_LANES:-2}" != 1 ]; then
  mkdir -p .cache/test-logs
  lane_log=.cache/test-logs/controller-lane.log
  begin=$SECONDS
  "$0" wheelhouse || exit 1
  printf '===== controller lane (%s) runs beside the hosts lane; its log follows at the end =====\n' "${controller_lane[*]}"
  "$0" "${controller_lane[@]}" >"$lane_log" 2>&1 &
  lane_pid=$!
  "$0" "${hosts_lane[@]}"; hosts_rc=$?
  wait "$lane_pid"; controller_rc=$?
  printf '\n===== controller lane output =====\n'
  cat "$lane_log"
  printf '\n===== both lanes: %ds; hosts lane %s, controller lane %s =====\n' $((SECONDS - begin)) \
    "$([ $hosts_rc -eq 0 ] && echo ok || echo "FAILED (rc=$hosts_rc)")" \
    "$([ $controller_rc -eq 0 ] && echo ok || echo "FAILED (rc=$controller_rc)")"
  [ $hosts_rc -eq 0 ] && [ $controller_rc -eq 0 ]
  exit $?
fi
stages=("$@"); [ ${#stages[@]} -gt 0 ] || stages=(wheelhouse "${controller_lane[@]}" "${hosts_lane[@]}")
# ubuntu, el8 and el9 need public images (Docker Hub); our CI cannot fetch them.
scenarios=${MOLECULE_SCENARIOS:-"default debian13 debian11 offline selinux"}
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-/var/cache/pywats-test/pip}
export PYWATS_PIP_CACHE=${PYWATS_PIP_CACHE:-$PIP_CACHE_DIR}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.collections}
# One wheelhouse per run, shared by the offline scenario and the fleet tests.
export PYWATS_WHEELHOUSE=${PYWATS_WHEELHOUSE:-$PWD/.cache/wheelhouse}
mkdir -p "$PIP_CACHE_DIR"

declare -a summary=()
failed=0
stage() {
  local name=$1; shift
  local start=$SECONDS rc
  printf '\n===== stage %s =====\n' "$name"
  "$@"; rc=$?
  summary+=("$(printf '%-28s %4ds  %s' "$name" $((SECONDS - start)) "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc=$rc)")")")
  [ $rc -eq 0 ] || failed=1
  return $rc
}

# pytest's exit code 5 (no tests ran) is a failure here too.
# shellcheck disable=SC2329  # run through stage()
run_pytest() { python -m pytest "$@"; }

# shellcheck disable=SC2329  # run through stage()
# Debian 12 has Python 3.11, Debian 13 Python 3.13; Debian 12 arm64 has glibc 2.36, which
# bounds PySide6 to 6.8.0.2 on aarch64 (the arm64 stage installs from these wheels). The
# Windows target is the Wine station's (stage wine): CPython 3.13, PySide6 6.8.0.2, the last
# release whose Qt6Core.dll loads under Wine (later ones need Windows' own ICU, icuuc.dll).
wheelhouse() {
  ansible-playbook playbooks/wheelhouse.yml -e pywats_client_wheelhouse_dir="$PYWATS_WHEELHOUSE" \
    -e '{"pywats_client_wheelhouse_targets": [{"python": "3.11"}, {"python": "3.13"},
         {"python": "3.11", "arch": "aarch64", "glibc": "2.36"},
         {"python": "3.13", "platform": "windows", "pyside6": "6.8.0.2"}]}'
}

# shellcheck disable=SC2329  # run through stage()
# The container test builds its image from the run's wheelhouse (built here when
# this stage runs alone) and checks the compose file with `docker compose config`,
# or, where Debian has no compose v2 (bookworm), with docker-compose v1.
container() {
  [ -f "$PYWATS_WHEELHOUSE/SHA256SUMS" ] || wheelhouse || return 1
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; } || return 1
  fi
  run_pytest -q -rA tests/container/test_container.py
}

# shellcheck disable=SC2329  # run through stage()
# The aarch64 wheels come from the run's wheelhouse; one made before it had an aarch64
# target gets them added (pip download skips what is there).
arm64_wheels() {
  compgen -G "$PYWATS_WHEELHOUSE/*_aarch64.whl" >/dev/null || wheelhouse
}

# shellcheck disable=SC2329  # run through stage()
wine_wheels() {
  compgen -G "$PYWATS_WHEELHOUSE/*win_amd64.whl" >/dev/null || wheelhouse
}

# shellcheck disable=SC2329  # run through stage()
# The multi-arch check pushes to a registry on loopback: Debian's docker-registry
# (Docker Distribution), run by the test itself, not as a service.
container_multiarch() {
  if ! command -v docker-registry >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; } || return 1
  fi
  run_pytest -q -rA tests/container/test_multiarch.py
}

# shellcheck disable=SC2329  # run through stage()
# The VM tests' host tools, from Debian's packages.
appliance_tools() {
  local missing=() tool
  for tool in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils cloud-localds:cloud-image-utils \
      smbclient:smbclient tmux:tmux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

# shellcheck disable=SC2329  # run through stage()
# The appliance from the run's wheelhouse and pip cache, qcow2 only (the other formats are
# conversions of the same disk); its base tree (debootstrap and apt) stays in the work
# directory and is reused while its package list is unchanged.
appliance_build() {
  [ -f "$PYWATS_WHEELHOUSE/SHA256SUMS" ] || wheelhouse || return 1
  ansible-playbook playbooks/appliance_build.yml -e '{"pywats_appliance_formats": ["qcow2"]}' \
    -e pywats_client_wheelhouse_dir="$PYWATS_WHEELHOUSE" -e pywats_appliance_pip_cache_dir="$PIP_CACHE_DIR" \
    -e pywats_appliance_keep_tree=true -e pywats_appliance_fresh_tree=false
}

# shellcheck disable=SC2329  # called by lint()
# Logic lives in plugins: a Jinja statement ({% ... %}) in the roles' vars or tasks is a
# program that belongs in a filter (docs/architecture.md).
no_jinja_programs() {
  local found
  found=$(grep -rn '{%' roles/*/vars roles/*/tasks) || return 0
  printf 'Jinja statements in vars or tasks (move them to a filter plugin):\n%s\n' "$found" >&2
  return 1
}

# shellcheck disable=SC2329  # run through stage()
# antsibull-docs checks the docs of every plugin and role entry point the way the
# docsite renders them (markup such as O() must name a real option). galaxy-import.sh
# lints the built tarball as shipped and runs Galaxy's importer on it.
lint() {
  yamllint -s . && ansible-lint --profile production -q && python scripts/check-argspecs.py &&
    antsibull-docs lint-collection-docs --plugin-docs . && no_jinja_programs && scripts/galaxy-import.sh
}

for s in "${stages[@]}"; do
  case "$s" in
    lint) stage lint lint ;;
    sanity) stage sanity scripts/sanity.sh ;;
    core-range) stage core-range scripts/core-range.sh ;;
    unit) stage unit run_pytest -q tests/unit ;;
    dispatch) stage dispatch run_pytest -q tests/dispatch ;;
    # The role for Windows stations, as far as it runs without one (molecule/windows needs a real host).
    windows) stage windows run_pytest -q tests/windows ;;
    # The Windows station under Wine: its image, then the lane (win_amd64 wheels from the
    # run's wheelhouse, made here when this stage runs alone).
    wine)
      stage "wine image" scripts/build-images.sh 13-wine && stage "wine wheels" wine_wheels &&
        stage wine run_pytest -q -rA tests/wine ;;
    hotfixes) stage hotfixes run_pytest -q tests/hotfixes ;;
    wheelhouse) stage wheelhouse wheelhouse ;;
    integration) stage integration run_pytest -q tests/integration ;;
    fleet) stage fleet run_pytest -q -rA --durations=0 tests/fleet ;;
    container) stage container container ;;
    # Each part under its own name, so that its duration shows; a missing image or
    # wheelhouse stops the rest.
    arm64)
      stage "arm64 image" scripts/build-images.sh 12-arm64 && stage "arm64 wheels" arm64_wheels &&
        { stage "molecule arm64" molecule test -s arm64
          stage "container arm64" container_multiarch; } ;;
    molecule)
      for sc in $scenarios; do stage "molecule $sc" molecule test -s "$sc"; done ;;
    # One boot within the budget: seed, report share, snapshot/restore and the console UI
    # (tmux) on one VM; make appliance-boot-test adds the second boot and the console UI on
    # an unconfigured VM (docs/appliance.md).
    appliance)
      stage "appliance tools" appliance_tools && stage "appliance build" appliance_build &&
        stage "appliance boot test" python tests/appliance/boot_test.py --boots 1 ;;
    benchmark) stage benchmark benchmarks/run.sh --quick --max-noop-module-runs 8 ;;
    *) echo "unknown stage '$s' (allowed: lint sanity core-range unit dispatch windows wine hotfixes wheelhouse integration fleet container arm64 molecule appliance benchmark)" >&2; exit 2 ;;
  esac
done

printf '\n===== stage durations =====\n'
printf '%s\n' "${summary[@]}"
exit $failed
