#!/usr/bin/env bash
# The collection as Galaxy and Automation Hub receive it:
#  1. build the tarball, as a release does;
#  2. lint it as shipped, extracted, with only the files it holds: yamllint and
#     ansible-lint --profile production;
#  3. run galaxy-importer (the code Galaxy runs on every upload) on it, with
#     scripts/galaxy-importer.cfg, in a venv of its own that, like Galaxy's importer,
#     has ansible-core and none of the collections this one depends on.
# Fails on any importer error, and on any importer warning except those that come from
# that environment (listed below, each with why).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/.venv/bin:$PATH"
work=$root/.cache/galaxy-import
venv=$root/.cache/galaxy-importer-venv
requirements=$root/tests/requirements/galaxy-importer.txt
rm -rf "$work"
mkdir -p "$work/out" "$work/extracted/ansible_collections/virinco/pywats" "$work/run"

# 0. The importer's venv, made again only when its requirements change.
stamp=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$requirements"
  echo "$stamp" >"$venv/.requirements-sha256"
fi

# 1. The tarball.
env -u ANSIBLE_COLLECTIONS_PATH ansible-galaxy collection build --force --output-path "$work/out" . >/dev/null
tarball=$(ls "$work"/out/virinco-pywats-*.tar.gz)
echo "galaxy-import: built ${tarball#"$root"/}"

# 2. Lint-clean as shipped.
extracted=$work/extracted/ansible_collections/virinco/pywats
tar -xzf "$tarball" -C "$extracted"
(cd "$extracted" && yamllint -s . && ansible-lint --profile production -q --offline) ||
  { echo "galaxy-import: the tarball as shipped is not lint-clean" >&2; exit 1; }
echo "galaxy-import: the extracted tarball passes yamllint and ansible-lint --profile production"

# 3. The importer, with an environment like Galaxy's: nothing but its own venv on PATH
#    before the system's, no collections path of ours.
log=$work/importer.log
set +e
(cd "$work/run" && env -u ANSIBLE_COLLECTIONS_PATH GALAXY_IMPORTER_CONFIG="$root/scripts/galaxy-importer.cfg" \
  PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" HOME="$work/run" \
  "$venv/bin/python" -m galaxy_importer.main "$tarball") >"$log" 2>&1
rc=$?
set -e
python3 - "$log" "$work/run/importer_result.json" "$rc" <<'PY'
import json
import re
import sys

import yaml

log_path, result_path, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(log_path, encoding='utf-8').read()
with open('galaxy.yml', encoding='utf-8') as handle:
    galaxy = yaml.safe_load(handle)
with open('ee/requirements.yml', encoding='utf-8') as handle:
    ee_collections = {c['name'] for c in yaml.safe_load(handle)['collections']}
# Galaxy's importer installs no dependency, so ansible-lint's syntax check cannot resolve
# a module of one: that is its environment, not a defect, for the collections galaxy.yml
# depends on and for awx.awx (optional: only awx_configure's included task file uses it;
# ee/requirements.yml and docs/awx.md name it).
known = set(galaxy['dependencies']) | ee_collections
unknown_module = re.compile(r"syntax-check\[unknown-module\]: couldn't resolve module/action '([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+'")
errors, ours, environment = [], [], []
for line in text.splitlines():
    if line.startswith('ERROR') or 'The import failed' in line:
        errors.append(line)
    elif line.startswith('WARNING'):
        match = unknown_module.search(line)
        (environment if match and match.group(1) in known else ours).append(line)
for line in environment:
    print('galaxy-import: importer environment (dependency not installed, as on Galaxy):', line)
if rc != 0 or errors or ours:
    print(text)
    for line in errors + ours:
        print('galaxy-import: FAILED:', line, file=sys.stderr)
    if rc != 0:
        print('galaxy-import: FAILED: galaxy-importer exited with', rc, file=sys.stderr)
    sys.exit(1)
result = json.load(open(result_path, encoding='utf-8'))
contents = {(c['content_type'], c['name']) for c in result['contents']}
roles = {name for kind, name in contents if kind == 'role'}
readmes = {r['content_name'] for r in result['docs_blob']['contents'] if r.get('content_type') == 'role' and r.get('readme_html')}
print('galaxy-import: accepted: {0} content items, roles {1} (README rendered: {2}), requires_ansible {3}'.format(
    len(contents), sorted(roles), sorted(readmes), result['requires_ansible']))
if roles != readmes:
    print('galaxy-import: FAILED: roles without a rendered README: {0}'.format(sorted(roles - readmes)), file=sys.stderr)
    sys.exit(1)
PY
