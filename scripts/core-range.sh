#!/usr/bin/env bash
# Test the collection on every ansible-core minor release that meta/runtime.yml claims.
#   scripts/core-range.sh              every tests/requirements/core-*.txt
#   scripts/core-range.sh 2.16 2.18    only these
# Each version gets its own venv under .cache/core-range/, made from its pinned requirement
# file (ansible-core and the `ansible` release built on it, whose bundled collections are
# the dependencies galaxy.yml names) and kept while that file is unchanged.
#
# What runs where, to fit the CI budget: sanity on every version, since what ansible-test
# checks (the documentation schema, the argument specs, the module_utils a module may use)
# changes with each minor release; unit and dispatch on the oldest version, since they
# run the plugins and the role's tasks for real, and what works on the newest and the
# oldest core works between them. The newest version is the project venv's
# (requirements-dev.txt): the sanity, unit and dispatch stages run on it, so here it is
# only checked to be the same pins. CORE_RANGE_FULL=1 runs every test on every version.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-/var/cache/pywats-test/pip}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/.collections}
mkdir -p "$PIP_CACHE_DIR"

# The same interpreter as the project venv: a controller Python every claimed core runs on.
python=${CORE_RANGE_PYTHON:-$("$root/.venv/bin/python" -c 'import sys; print(sys._base_executable)')} || exit 2

pin() { sed -n "s/^$1==\([^[:space:]]*\).*/\1/p" "$2"; }

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  mapfile -t versions < <(find tests/requirements -name 'core-*.txt' -printf '%f\n' |
    sed 's/^core-\(.*\)\.txt$/\1/' | sort -V)
fi
[ ${#versions[@]} -gt 0 ] || { echo "core-range: no tests/requirements/core-*.txt" >&2; exit 2; }
all=()
mapfile -t all < <(find tests/requirements -name 'core-*.txt' -printf '%f\n' | sed 's/^core-\(.*\)\.txt$/\1/' | sort -V)
oldest=${all[0]}
newest=${all[${#all[@]} - 1]}

# The claimed floor must be the oldest version tested, or the claim is untested.
floor=$(sed -n 's/^requires_ansible:[[:space:]]*"*>=\([0-9]*\.[0-9]*\).*/\1/p' meta/runtime.yml)
if [ "$floor" != "$oldest" ]; then
  echo "core-range: meta/runtime.yml claims ansible-core >=$floor, the oldest tested is $oldest" >&2
  exit 1
fi

# shellcheck disable=SC2329  # run through step()
# A venv per version, rebuilt only when its requirement file changed.
venv_for() {
  local version=$1 req=tests/requirements/core-$1.txt dir=$root/.cache/core-range/$1
  if [ -x "$dir/venv/bin/python" ] && cmp -s "$req" "$dir/requirements.txt"; then
    echo "core-range $version: reusing $dir/venv"
    return 0
  fi
  echo "core-range $version: building $dir/venv from $req"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$python" -m venv "$dir/venv" &&
    "$dir/venv/bin/pip" install --disable-pip-version-check -q -r "$req" &&
    collections_from_bundles "$req" "$dir" &&
    cp "$req" "$dir/requirements.txt"
}

# `#collection NAMESPACE.NAME==VERSION from ansible==X` lines: that collection, taken from
# that ansible release's bundle, replaces the one the venv's ansible bundles. It goes into
# site-packages because the tests set ANSIBLE_COLLECTIONS_PATH to a tree of their own.
# shellcheck disable=SC2329  # called by venv_for()
collections_from_bundles() {
  local req=$1 dir=$2 tag collection from source
  while read -r tag collection from source; do
    [ "$tag" = "#collection" ] && [ "$from" = from ] || continue
    "$dir/venv/bin/pip" download --disable-pip-version-check -q --no-deps -d "$dir/bundles" "$source" &&
      "$dir/venv/bin/python" - "$collection" "$dir/bundles" <<'EOF' || return 1
import glob, json, os, shutil, sys, sysconfig, zipfile
name, version = sys.argv[1].split('==')
prefix = 'ansible_collections/%s/' % name.replace('.', '/')
target = os.path.join(sysconfig.get_paths()['purelib'], prefix)
wheel = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[2], 'ansible-*.whl'))[0])
found = json.loads(wheel.read(prefix + 'MANIFEST.json'))['collection_info']['version']
if found != version:
    sys.exit('core-range: %s holds %s %s, not %s' % (wheel.filename, name, found, version))
shutil.rmtree(target, ignore_errors=True)
for member in wheel.namelist():
    if member.startswith(prefix):
        wheel.extract(member, sysconfig.get_paths()['purelib'])
print('core-range: %s %s from %s' % (name, version, os.path.basename(wheel.filename)))
EOF
    rm -rf "$dir/bundles"
  done <"$req"
}

# The dependency collections in the venv against galaxy.yml's ranges (ansible's bundle, or
# a `#collection` line's stand-in for Galaxy): every one must be in its range.
# shellcheck disable=SC2329  # run through step()
dependency_report() {
  "$1/bin/python" - <<'EOF'
import json, os, sys, yaml
import ansible_collections
from ansible.module_utils.compat.version import LooseVersion
deps = yaml.safe_load(open('galaxy.yml', encoding='utf-8'))['dependencies']
failed = False
for name, spec in sorted(deps.items()):
    namespace, collection = name.split('.')
    version = None
    for top in ansible_collections.__path__:
        manifest = os.path.join(top, namespace, collection, 'MANIFEST.json')
        if 'site-packages' in top and os.path.exists(manifest):
            version = json.load(open(manifest, encoding='utf-8'))['collection_info']['version']
    ok = version is not None
    for clause in spec.split(','):
        op, bound = clause.strip()[:2], clause.strip()[2:]
        if ok and op == '>=':
            ok = LooseVersion(version) >= LooseVersion(bound)
        elif ok and op == '<=':
            ok = LooseVersion(version) <= LooseVersion(bound)
        elif ok and clause.strip()[0] == '<':
            ok = LooseVersion(version) < LooseVersion(clause.strip()[1:])
    failed = failed or not ok
    print('  %-18s %-8s galaxy.yml %-16s %s' % (name, version, spec, 'ok' if ok else 'OUTSIDE THE RANGE'))
sys.exit(1 if failed else 0)
EOF
}

declare -a summary=()
failed=0
step() {
  local label=$1 start=$SECONDS rc; shift
  printf '\n----- core-range %s -----\n' "$label"
  "$@"; rc=$?
  summary+=("$(printf '%-30s %4ds  %s' "$label" $((SECONDS - start)) "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc=$rc)")")")
  [ $rc -eq 0 ] || failed=1
  return $rc
}

# shellcheck disable=SC2329  # run through step()
# The newest version is the project venv's: the same pins, or the main stages test another.
# Elsewhere the tools the tests use are requirements-dev.txt's.
same_as_project() {
  local name ok=0 names
  names=$(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' "tests/requirements/core-$1.txt")
  for name in $names; do
    if [ "$2" != all ] && { [ "$name" = ansible-core ] || [ "$name" = ansible ]; }; then continue; fi
    if [ "$(pin "$name" "tests/requirements/core-$1.txt")" != "$(pin "$name" requirements-dev.txt)" ]; then
      echo "core-range: $name in tests/requirements/core-$1.txt and requirements-dev.txt differ" >&2
      ok=1
    fi
  done
  return "$ok"
}

# Run in the version's venv only: its ansible-playbook, ansible-test and pytest.
in_venv() { (PATH="$1/bin:$PATH" && export PATH && shift && "$@"); }

for v in "${versions[@]}"; do
  req=tests/requirements/core-$v.txt
  [ -f "$req" ] || { echo "core-range: no $req" >&2; failed=1; continue; }
  tests=(sanity)
  if [ "${CORE_RANGE_FULL:-0}" = 1 ] || [ "$v" = "$oldest" ]; then tests=(sanity unit dispatch); fi
  if [ "${CORE_RANGE_FULL:-0}" != 1 ] && [ "$v" = "$newest" ] && [ ${#versions[@]} -gt 1 ]; then
    printf '\n===== ansible-core %s (ansible %s) =====\n' "$v" "$(pin ansible "$req")"
    step "$v pins" same_as_project "$v" all &&
      echo "core-range $v: the project venv; the sanity, unit and dispatch stages test it"
    continue
  fi
  printf '\n===== ansible-core %s (ansible %s): %s =====\n' "$v" "$(pin ansible "$req")" "${tests[*]}"
  venv=$root/.cache/core-range/$v/venv
  step "$v pins" same_as_project "$v" tools
  step "$v venv" venv_for "$v" || continue
  in_venv "$venv" ansible --version | sed -n 1p
  step "$v dependencies" dependency_report "$venv"
  for t in "${tests[@]}"; do
    case $t in
      sanity) step "$v sanity" env SANITY_VENV="$venv" SANITY_WORK="$root/.cache/core-range/$v/sanity" scripts/sanity.sh ;;
      unit) step "$v unit" in_venv "$venv" python -m pytest -q -p no:cacheprovider tests/unit ;;
      dispatch) step "$v dispatch" in_venv "$venv" python -m pytest -q -p no:cacheprovider tests/dispatch ;;
    esac
  done
done

printf '\n===== core-range durations =====\n'
printf '%s\n' "${summary[@]}"
exit $failed
