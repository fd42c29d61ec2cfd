#!/usr/bin/env bash
# Benchmark the role on the local container fleet against the WATS stand-in
# (127.0.0.1 only) and the raw upstream install. See benchmarks/README.md.
#   benchmarks/run.sh [--stations 1,5,10,20] [--quick] [--settle S] [--wheelhouse-stations 1,20 | --no-wheelhouse]
# Prints a table and writes benchmarks/results/<timestamp>.json (+ .logs/).
# Exits non-zero only when the benchmark itself breaks (a station not healthy,
# a re-run with changed != 0, a failed play); never on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"
[ -x .venv/bin/ansible-playbook ] || { echo "run 'make setup' first (.venv missing)" >&2; exit 2; }
[ -e .collections/ansible_collections/virinco/pywats ] || { echo "run 'make collection' first" >&2; exit 2; }
docker image inspect "${PYWATS_BENCH_IMAGE:-pywats-test/debian:12}" >/dev/null 2>&1 \
  || { echo "image ${PYWATS_BENCH_IMAGE:-pywats-test/debian:12} missing: run 'make images'" >&2; exit 2; }

# Every container of this run carries the label pywats-bench-pid=$$ (names start
# with pywats-bench-); the trap removes them and stops the stand-in even when the
# Python driver dies hard.
export PYWATS_BENCH_OWNER=$$
PYWATS_BENCH_TMP=$(mktemp -d /tmp/pywats-bench.XXXXXX)
export PYWATS_BENCH_TMP
# shellcheck disable=SC2329  # run by the trap
cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq --filter "label=pywats-bench-pid=$PYWATS_BENCH_OWNER" --filter "name=^/pywats-bench-" || true)
  [ ${#ids[@]} -eq 0 ] || docker rm -f "${ids[@]}" >/dev/null 2>&1 || true
  if [ -f "$PYWATS_BENCH_TMP/standin/standin.pid" ]; then
    kill "$(cat "$PYWATS_BENCH_TMP/standin/standin.pid")" 2>/dev/null || true
  fi
  rm -rf "$PYWATS_BENCH_TMP"
}
trap cleanup EXIT

# In the background so that a signal reaches the trap at once; the driver
# cleans up on SIGTERM and the EXIT trap catches whatever it left.
python benchmarks/bench.py "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT TERM HUP
rc=0
wait "$child" || rc=$?
exit "$rc"
