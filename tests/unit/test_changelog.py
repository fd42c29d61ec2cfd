# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The changelog a user reads.

- Every fragment entry outside ``trivial`` is about something a user of the collection
  has: it starts with the name of a role, module, plugin or playbook of the collection
  (or the execution environment, the example inventory, the appliance's configurator).
  Tests, CI, benchmarks and docs of the development tree go under ``trivial``.
- Before the first release nothing was released to fix, break, deprecate or secure, so
  those sections stay empty until then.
- Every playbook is announced (``add object.playbook``), and the release has a summary.
- ``antsibull-changelog release`` on a copy of the tree (scripts/changelog.sh) writes the
  CHANGELOG.rst that the tarball ships: with the summary, New Roles, New Playbooks,
  New Modules and New Plugins, and nothing from the development tree.

Run: python -m pytest tests/unit/test_changelog.py -q
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FRAGMENTS = sorted((ROOT / 'changelogs' / 'fragments').glob('*.y*ml'))
PLAYBOOKS = sorted(p.stem for p in (ROOT / 'playbooks').glob('*.yml'))
ROLES = sorted(p.name for p in (ROOT / 'roles').iterdir() if p.is_dir())
PLUGINS = sorted({p.stem for p in (ROOT / 'plugins').glob('*/*.*')
                  if p.parent.name not in ('module_utils', 'doc_fragments') and not p.name.startswith('_')})
OTHER_SUBJECTS = ('execution environment', 'example inventory', 'pywats-appliance-config', 'filters', 'virinco.pywats')
USER_SECTIONS = ('major_changes', 'minor_changes', 'known_issues')
NOT_BEFORE_FIRST_RELEASE = ('bugfixes', 'security_fixes', 'breaking_changes', 'deprecated_features', 'removed_features')
DEV_WORDS = re.compile(r'\b(tests?/|scripts/|benchmarks/|molecule/|make (test|demo|lint)|run-tests\.sh|\.ci/)')


def _load(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle) or {}


def _subjects(entry):
    head = entry.split(' - ', 1)[0] if ' - ' in entry else ''
    return [part.strip().strip('`') for part in re.split(r',| and ', head) if part.strip()]


def _is_user_subject(subject):
    names = set(ROLES) | set(PLAYBOOKS) | set(PLUGINS)
    first = subject.split(' ', 1)[0].strip('`')
    return first in names or first.replace('virinco.pywats.', '') in names or subject.startswith(OTHER_SUBJECTS)


def _released():
    return _load(ROOT / 'changelogs' / 'changelog.yaml').get('releases') or {}


@pytest.mark.parametrize('path', FRAGMENTS, ids=lambda p: p.name)
def test_user_sections_name_what_users_have(path):
    problems = []
    for section, entries in _load(path).items():
        if section not in USER_SECTIONS + NOT_BEFORE_FIRST_RELEASE:
            continue
        for entry in entries:
            subjects = _subjects(entry)
            if not subjects or not all(_is_user_subject(s) for s in subjects):
                problems.append('{0}: does not start with a role, module, plugin or playbook: {1}'.format(section, entry[:90]))
            elif DEV_WORDS.search(entry):
                problems.append('{0}: names the development tree (move it under trivial): {1}'.format(section, entry[:90]))
    assert not problems, problems


@pytest.mark.parametrize('path', FRAGMENTS, ids=lambda p: p.name)
def test_nothing_to_fix_before_the_first_release(path):
    if _released():
        pytest.skip('a release exists: fixes and breaking changes are about it')
    found = sorted(set(_load(path)) & set(NOT_BEFORE_FIRST_RELEASE))
    assert not found, '{0}: nothing was released yet, so {1} belong in minor_changes (what the first release does) or trivial'.format(
        path.name, found)


def test_every_playbook_and_a_summary_are_announced():
    announced, summaries = set(), 0
    for path in FRAGMENTS:
        content = _load(path)
        announced.update(item['name'] for item in content.get('add object.playbook', []))
        summaries += 'release_summary' in content
    for release in _released().values():
        announced.update(item['name'] for item in (release.get('objects') or {}).get('playbook', []))
    assert sorted(announced) == PLAYBOOKS
    assert summaries == 1, 'exactly one fragment has the release_summary'


@pytest.fixture(scope='module')
def release_notes(tmp_path_factory):
    out = tmp_path_factory.mktemp('changelog') / 'CHANGELOG.rst'
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run(['bash', str(ROOT / 'scripts' / 'changelog.sh'), str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False,
                            env={'PATH': bin_dir + ':/usr/bin:/bin', 'HOME': str(Path.home()), 'LANG': 'C.UTF-8'})
    assert result.returncode == 0, result.stdout + result.stderr
    return out.read_text(encoding='utf-8')


def test_release_notes_read_as_what_a_user_gets(release_notes):
    for heading in ('Release Summary', 'New Roles', 'New Playbooks', 'New Modules', 'New Plugins'):
        assert '\n{0}\n'.format(heading) in release_notes, heading
    for role in ROLES:
        assert '- virinco.pywats.{0} - '.format(role) in release_notes, role
    for playbook in PLAYBOOKS:
        assert '- virinco.pywats.{0} - '.format(playbook) in release_notes, playbook
    assert not DEV_WORDS.search(release_notes), DEV_WORDS.search(release_notes).group(0)


def test_shipped_changelog_is_the_release_notes(release_notes):
    shipped = (ROOT / 'CHANGELOG.rst').read_text(encoding='utf-8')
    assert shipped == release_notes, 'CHANGELOG.rst is out of date: run scripts/changelog.sh and commit it'
