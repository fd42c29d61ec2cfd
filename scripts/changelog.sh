#!/usr/bin/env bash
# Write CHANGELOG.rst as `antsibull-changelog release` writes it for the version in
# galaxy.yml, from a copy of this tree: the fragments and changelogs/changelog.yaml here
# stay as they are (a real release consumes the fragments).
#   scripts/changelog.sh            update CHANGELOG.rst (commit it with the fragment)
#   scripts/changelog.sh OUT        write it to OUT instead (the unit test compares the two)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/CHANGELOG.rst}
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/virinco/pywats
mkdir -p "$dest"
# The collection's files as git sees them (tracked and new, not ignored).
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$dest"
# ansible-doc, which antsibull-changelog runs to find new plugins, modules and roles,
# must see this copy and no other virinco.pywats.
cd "$dest"
# The release date goes only into the copy's changelog.yaml, not into CHANGELOG.rst: a fixed
# one keeps this preview reproducible (a real release takes the day's date).
ANSIBLE_COLLECTIONS_PATH=$work ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  antsibull-changelog release --version "$version" --date 2026-12-07 >"$work/release.log" 2>&1 ||
  { cat "$work/release.log" >&2; exit 1; }
cp "$dest/CHANGELOG.rst" "$out"
