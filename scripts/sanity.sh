#!/usr/bin/env bash
# Run `ansible-test sanity` on this collection, as CI does.
#   scripts/sanity.sh                   every sanity test
#   scripts/sanity.sh --test pylint     arguments go on to `ansible-test sanity`
# The controller is the venv's Python (the project venv, or SANITY_VENV: scripts/core-range.sh
# runs this with each ansible-core's own). `compile` and `import` also run for the modules
# on the Pythons of the Debian releases they run on (3.9 for 11, 3.13 for 13) when that
# ansible-test supports the version and a real interpreter of it is found
# (SANITY_TARGET_PYTHONS="..." to change).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${SANITY_VENV:-$root/.venv}
# The project venv after it still lends its tools (shellcheck for the shellcheck test).
export PATH="$venv/bin:$root/.venv/bin:$PATH"
work=${SANITY_WORK:-$root/.cache/sanity}
dest=$work/ansible_collections/virinco/pywats
targets=${SANITY_TARGET_PYTHONS-"3.9 3.13"}
controller=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# What this ansible-test runs on: the controller Pythons and every target Python it knows.
# A target Python newer than the ansible-core release is unknown to it (2.16 stops at 3.12).
read -r -a supported < <(python -c '
from ansible_test._internal import constants
print(*constants.SUPPORTED_PYTHON_VERSIONS)')
read -r -a controller_supported < <(python -c '
from ansible_test._internal import constants
print(*constants.CONTROLLER_PYTHON_VERSIONS)')
if [[ " ${controller_supported[*]} " != *" $controller "* ]]; then
  echo "sanity: ansible-test $(ansible --version | head -1) runs on Python ${controller_supported[*]}, not $controller" >&2
  exit 1
fi

# ansible-test only tests a tree at .../ansible_collections/NAMESPACE/NAME: copy the
# collection's files there afresh (tracked and new ones, not what .gitignore ignores).
rm -rf "$dest"
mkdir -p "$dest"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$dest"
else
  tar --exclude=./.git --exclude=./.venv --exclude=./.cache --exclude=./.collections \
    --exclude=./tests/output --exclude=__pycache__ --exclude=.pytest_cache -cf - . |
    tar -xf - -C "$dest"
fi
# ansible-test lists a collection's files with git when it finds a .git at the collection
# or above it; this repo's would list none, since it ignores .cache/. The copy's own
# (empty) repo makes it list them as git would here: every file not ignored.
if command -v git >/dev/null; then git init -q "$dest"; fi

# ansible-test puts pip into each of its sanity venvs with a get-pip script that it
# downloads from Ansible's CI file server, which is not reachable from CI here (package
# registries only). It reuses a copy from its cache, so seed the cache with our
# stand-in (scripts/sanity-get-pip.py says how it works). A real get-pip already cached,
# say on a machine with full network access, is left alone. (The pinned pip version is
# read from ansible-test itself, so an ansible-core upgrade carries on working.)
pip_version=$(python -c '
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"])' "$controller")
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -s "$get_pip" ] || grep -q 'virinco.pywats get-pip stand-in' "$get_pip"; then
  install -D -m 0644 scripts/sanity-get-pip.py "$get_pip"
fi

# validate-modules reads a PowerShell module's argument spec by running it in pwsh, and
# stops with a traceback when there is none. PowerShell is in none of the registries CI
# reaches (not in Debian; npm's `pwsh` downloads it at install time), so without pwsh
# skip validate-modules for .ps1 modules, in the copy only. Their documentation, in the
# sidecar beside them, is still validated (a module without one fails here, as it would
# in validate-modules); pslint skips itself without pwsh.
if ! command -v pwsh >/dev/null; then
  ignore=$dest/tests/sanity/ignore-$(python -c 'from ansible.release import __version__ as v; print(*v.split(".")[:2], sep=".")').txt
  mkdir -p "$(dirname "$ignore")"
  for m in "$dest"/plugins/modules/*.ps1; do
    [ -e "$m" ] || continue
    module=${m#"$dest"/}
    if ! [ -e "${m%.ps1}.py" ] && ! [ -e "${m%.ps1}.yml" ] && ! [ -e "${m%.ps1}.yaml" ]; then
      echo "sanity: $module has no documentation sidecar (${module%.ps1}.py or .yml)" >&2
      exit 1
    fi
    echo "$module validate-modules!skip" >>"$ignore"
    echo "sanity: no pwsh here, so validate-modules checks only the documentation of $module" >&2
  done
fi

# ansible-test looks for pythonX.Y on PATH, in an environment it cleans, where pyenv's
# shims fail: give it a directory of links to real interpreters instead.
real_python() {
  local p
  for p in $(type -a -P "python$1") "${PYENV_ROOT:-$HOME/.pyenv}/versions/$1".*/bin/"python$1"; do
    case $p in */shims/*) continue ;; esac
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
}
bin=$work/bin
rm -rf "$bin"
mkdir -p "$bin"
found=()
for v in $targets; do
  if [[ " ${supported[*]} " != *" $v "* ]]; then
    echo "sanity: this ansible-test knows Python ${supported[*]}, so no compile and import test on $v" >&2
    continue
  fi
  real=$(real_python "$v")
  if [ -n "$real" ]; then
    ln -s "$real" "$bin/python$v"
    found+=("$v")
  else
    echo "sanity: no Python $v here, so no compile and import test on it" >&2
  fi
done

cd "$dest"
# Every run goes ahead, so one failure does not hide another; any failure fails the script.
rc=0
ansible-test sanity --python "$controller" --color no "$@" || rc=1
if [ $# -eq 0 ]; then
  for v in "${found[@]}"; do
    PATH="$bin:$PATH" ansible-test sanity --python "$v" --test compile --test import --color no || rc=1
  done
fi
exit $rc
