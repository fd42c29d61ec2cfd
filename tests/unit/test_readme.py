# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the README tells a new user matches the collection.

- the dependency list of the install section is galaxy.yml's `dependencies`, names
  and ranges;
- the phase tags docs/linux.md lists are the tags the role's task trees carry;
- the vault variable for the station token has one name in the README, docs/,
  inventories/, playbooks/ and awx/, and the example inventory defines that one;
- it links to every page of docs/;
- its platform table is what each role's meta/main.yml tells Galaxy.

Run: python -m pytest tests/unit/test_readme.py -q
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / 'README.md').read_text(encoding='utf-8')
PHASE_TAGS = {'pywats_client_preflight', 'pywats_client_install', 'pywats_client_configure', 'pywats_client_service'}


def _load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_dependency_list_is_galaxy_yml():
    match = re.search(r'<!-- dependencies:[^>]*-->\n(.*?)<!-- /dependencies -->', README, re.S)
    assert match, 'the README has no dependency list between the dependencies markers'
    listed = {}
    for line in match.group(1).splitlines():
        item = re.fullmatch(r'- `([a-z0-9_]+\.[a-z0-9_]+)` `([^`]+)`', line.strip())
        assert item, 'not a dependency line: {0!r}'.format(line)
        assert item.group(1) not in listed, 'listed twice: {0}'.format(item.group(1))
        listed[item.group(1)] = item.group(2)
    assert listed == _load_yaml(ROOT / 'galaxy.yml')['dependencies']


def test_install_section_names_both_ways():
    section = README.split('## Install\n', 1)[1].split('\n## ', 1)[0]
    assert 'ansible-galaxy collection install virinco.pywats\n' in section
    assert re.search(r'ansible-galaxy collection install virinco-pywats-[0-9.]+\.tar\.gz', section)
    assert 'ansible-galaxy collection build' in section


def _role_tags():
    tags = set()
    for path in (ROOT / 'roles' / 'pywats_client' / 'tasks').rglob('*.yml'):
        for task in _load_yaml(path) or []:
            value = task.get('tags', []) if isinstance(task, dict) else []
            tags.update([value] if isinstance(value, str) else value)
    return {tag for tag in tags if tag.startswith('pywats_client_')}


def test_linux_docs_list_the_phase_tags_the_role_carries():
    linux = (ROOT / 'docs' / 'linux.md').read_text(encoding='utf-8')
    listed = set(re.findall(r'^\| `(pywats_client_[a-z_]+)` \|', linux, re.M)) & (PHASE_TAGS | _role_tags())
    assert listed == PHASE_TAGS
    assert _role_tags() == PHASE_TAGS


def test_one_vault_variable_name_for_the_token():
    names = {}
    files = [ROOT / 'README.md'] + [p for top in ('docs', 'inventories', 'playbooks', 'awx')
                                    for p in (ROOT / top).rglob('*') if p.is_file()]
    for path in files:
        text = path.read_text(encoding='utf-8', errors='replace')
        for name in re.findall(  # the station token; other secrets (AWX, WinRM) have their own names
                r'\bvault_[a-z0-9_]*(?:pywats|api_token)[a-z0-9_]*\b', text):
            names.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert set(names) == {'vault_pywats_client_api_token'}, names
    vault = _load_yaml(ROOT / 'inventories' / 'example' / 'group_vars' / 'pywats_stations' / 'main.yml')
    assert vault['pywats_client_api_token'] == '{{ vault_pywats_client_api_token }}'


def test_readme_links_to_every_page_of_docs():
    """The README is the collection's front page: each page under docs/ is one link away
    (tests/unit/test_shipped_docs.py checks that every link resolves)."""
    repository = _load_yaml(ROOT / 'galaxy.yml')['repository'].rstrip('/')
    links = set(re.findall(re.escape(repository) + r'/blob/main/(docs/[^)#]+)', README))
    assert links == {p.relative_to(ROOT).as_posix() for p in (ROOT / 'docs').glob('*.md')} - {'docs/architecture.md'}


# The README's platform table, by row: Galaxy's platform name and how a version cell
# names Galaxy's versions (Debian and Ubuntu by code name, the others by number).
GALAXY_PLATFORMS = {
    'Debian (x86_64)': 'Debian', 'Debian (aarch64)': 'Debian', 'Ubuntu': 'Ubuntu',
    'RHEL, Rocky, Alma': 'EL', 'Windows Server': 'Windows',
    'Windows IoT Enterprise LTSC': None,   # Galaxy has no platform for it: covered by Windows
}


def _platform_table():
    match = re.search(r'<!-- platforms:[^>]*-->\n(.*?)<!-- /platforms -->', README, re.S)
    assert match, 'the README has no platform table between the platforms markers'
    rows = [[cell.strip() for cell in line.strip().strip('|').split('|')]
            for line in match.group(1).splitlines() if line.startswith('|') and not line.startswith('|---')]
    header, rows = rows[0], rows[1:]
    roles = [re.sub(r'`([a-z_]+)`.*', r'\1', cell) for cell in header[2:]]
    return roles, rows


def _galaxy_versions(cell):
    versions = []
    for item in cell.split(','):
        item = item.strip()
        named = re.search(r'\(([a-z]+)\)', item)
        versions.append(named.group(1) if named else item)
    return versions


def test_role_platforms_in_meta_are_the_readme_table():
    roles, rows = _platform_table()
    assert sorted(roles) == sorted(p.name for p in (ROOT / 'roles').iterdir() if p.is_dir())
    expected = {role: {} for role in roles}
    for row in rows:
        assert row[0] in GALAXY_PLATFORMS, 'unknown platform row {0!r}'.format(row[0])
        platform = GALAXY_PLATFORMS[row[0]]
        for role, cell in zip(roles, row[2:]):
            if platform and cell not in ('—', '-', ''):
                expected[role].setdefault(platform, set()).update(_galaxy_versions(row[1]))
    for role in roles:
        meta = _load_yaml(ROOT / 'roles' / role / 'meta' / 'main.yml')['galaxy_info']['platforms']
        listed = {p['name']: {str(v) for v in p['versions']} for p in meta}
        assert listed == expected[role], '{0}: meta/main.yml lists {1}, the README {2}'.format(role, listed, expected[role])
