# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each role has a README (Galaxy's importer refuses a role without one), and the option
table in it says what meta/argument_specs.yml says: every option it names exists in the
main entry point, with the default shown, and an option the spec requires is shown as
required.

Run: python -m pytest tests/unit/test_role_readmes.py -q
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / 'roles').iterdir() if (p / 'meta' / 'argument_specs.yml').is_file())
ROW = re.compile(r'\| `(?P<name>[a-z0-9_]+)` \| (?P<default>[^|]+?) \| [^|]+ \|')


def _table(text):
    match = re.search(r'<!-- options:[^>]*-->\n(.*?)<!-- /options -->', text, re.S)
    assert match, 'no option table between the options markers'
    rows = [line for line in match.group(1).splitlines() if line.startswith('| `')]
    parsed = [ROW.fullmatch(line) for line in rows]
    assert all(parsed), [line for line, row in zip(rows, parsed) if not row]
    return {row.group('name'): row.group('default').strip() for row in parsed}


def _shown(value):
    """A default as the table shows it: in backticks, YAML-ish."""
    if isinstance(value, bool):
        return '`{0}`'.format(str(value).lower())
    if isinstance(value, (list, dict)):
        return '`{0}`'.format(yaml.safe_dump(value, default_flow_style=True).strip())
    if value == '':
        return '`""`'
    return '`{0}`'.format(value)


@pytest.mark.parametrize('role', ROLES)
def test_role_has_a_readme_with_example_and_pointer(role):
    readme = ROOT / 'roles' / role / 'README.md'
    assert readme.is_file(), 'roles/{0}/README.md is missing'.format(role)
    text = readme.read_text(encoding='utf-8')
    assert text.startswith('# virinco.pywats.{0}\n'.format(role))
    assert 'role: virinco.pywats.{0}'.format(role) in text, 'no example play'
    assert 'ansible-doc -t role virinco.pywats.{0}'.format(role) in text


@pytest.mark.parametrize('role', ROLES)
def test_role_readme_options_match_argument_specs(role):
    text = (ROOT / 'roles' / role / 'README.md').read_text(encoding='utf-8')
    with open(ROOT / 'roles' / role / 'meta' / 'argument_specs.yml', encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    table = _table(text)
    assert table, 'the option table is empty'
    problems = []
    for name, default in table.items():
        spec = options.get(name)
        if spec is None:
            problems.append('{0}: not an option of the main entry point'.format(name))
        elif spec.get('required'):
            if default != '(required)':
                problems.append('{0}: required, shown as {1}'.format(name, default))
        elif default != _shown(spec.get('default')):
            problems.append('{0}: default is {1}, shown as {2}'.format(name, _shown(spec.get('default')), default))
    assert not problems, problems
