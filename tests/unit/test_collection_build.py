# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection tarball ships what a user needs and nothing of the development tree.

Builds the tarball with ``ansible-galaxy collection build`` from this checkout, and
again from a copy of it littered with what a developer's tree holds (caches of
pytest, ansible-lint and ansible-test, a venv, built tarballs, editor files), and
compares both with the allow-list in tests/support/collection.py, read against the
source tree: every file of roles, plugins, playbooks, meta, docs, the AWX surveys,
the example inventory, README, LICENSE and the changelog must be in it, and nothing
else may be.

Run: python -m pytest tests/unit/test_collection_build.py -q
"""

import shutil
from pathlib import Path

import pytest
import yaml

from tests.support import collection

REPO = collection.REPO
# Must be in every tarball, whatever the source tree holds: without them the
# collection does not work or cannot be used.
REQUIRED = (
    'README.md', 'LICENSE', 'MANIFEST.json', 'FILES.json',
    'meta/runtime.yml', 'meta/execution-environment.yml',
    'changelogs/changelog.yaml',
    'roles/pywats_client/tasks/main.yml', 'roles/pywats_client/meta/argument_specs.yml',
    'roles/pywats_client/defaults/main.yml', 'roles/pywats_client_container/tasks/main.yml',
    'plugins/modules/pywats_preflight.py', 'plugins/modules/win_pywats_preflight.ps1',
    'playbooks/deploy.yml', 'playbooks/upgrade.yml', 'playbooks/status.yml', 'playbooks/uninstall.yml',
    'playbooks/awx_configure.yml', 'awx/surveys/deploy.json',
    'docs/awx.md', 'docs/windows.md', 'inventories/example/hosts.yml',
    'LICENSES/GPL-3.0-or-later.txt', '.ansible-lint', '.ansible-lint-ignore', '.yamllint',
)
# First path components (or whole paths) that must never ship.
FORBIDDEN_TOP = {'molecule', 'tests', 'scripts', 'benchmarks', 'ee', 'Makefile', 'requirements-dev.txt',
                 'galaxy.yml', 'CONTRIBUTING.md'}
# A developer's tree: what `make test`, ansible-lint, ansible-test, editors and
# earlier builds leave behind.
LITTER = (
    '.pytest_cache/v/cache/lastfailed', '.ansible/tmp/x', '.cache/wheelhouse/SHA256SUMS',
    '.venv/bin/python', '.collections/README', 'tests/output/junit/x.xml', 'tests/unit/.pytest_cache/x',
    'roles/pywats_client/.pytest_cache/x', 'roles/pywats_client/tasks/.main.yml.swp',
    'roles/pywats_client/tasks/main.yml~', 'plugins/modules/__pycache__/pywats_preflight.cpython-311.pyc',
    'virinco-pywats-0.0.1.tar.gz', 'molecule/default/.molecule/state.yml', '.DS_Store',
    'changelogs/fragments/new-thing.yml', 'inventories/local/hosts.yml',
)


def _copy_tree(dest):
    def ignore(directory, names):
        if Path(directory) == REPO:
            return [n for n in names if n in ('.git', '.venv', '.cache', '.collections', '.ansible', '.pytest_cache')]
        return [n for n in names if n in ('__pycache__', '.pytest_cache')]
    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp('build')
    return collection.members(collection.build(REPO, out, env=collection.source_env()))


@pytest.fixture(scope='module')
def littered(tmp_path_factory):
    tree = tmp_path_factory.mktemp('littered') / 'pywats'
    _copy_tree(tree)
    for name in LITTER:
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('litter\n', encoding='utf-8')
    out = tmp_path_factory.mktemp('littered-build')
    return tree, collection.members(collection.build(tree, out, env=collection.source_env()))


def _difference(actual, expected):
    return 'shipped but not wanted: {0}\nwanted but missing: {1}'.format(
        sorted(actual - expected), sorted(expected - actual))


def test_tarball_ships_exactly_the_user_files(built):
    expected = collection.expected_members(REPO)
    assert built == expected, _difference(built, expected)


def test_tarball_has_every_required_file(built):
    missing = [name for name in REQUIRED if name not in built]
    assert not missing, missing


def test_tarball_has_no_development_files(built):
    def development(name):
        return (name.split('/', 1)[0] in FORBIDDEN_TOP
                or any(part.startswith('.') or part == '__pycache__' for part in name.split('/'))
                or name.startswith(('changelogs/fragments/', 'inventories/local/')))
    offending = sorted(name for name in built if name not in collection.LINT_CONFIG and development(name))
    assert not offending, offending


def test_tarball_ships_the_dependency_files_it_names(built):
    """ansible-builder reads meta/execution-environment.yml from the installed collection:
    the files it names must be in the tarball, at the paths given (relative to the root)."""
    with open(REPO / 'meta' / 'execution-environment.yml', encoding='utf-8') as handle:
        definition = yaml.safe_load(handle)
    for kind in ('python', 'system'):
        assert definition['dependencies'][kind] in built, kind


def test_a_developer_tree_builds_the_same_tarball(littered, built):
    tree, members = littered
    # The copy has the same user files plus litter; the tarball must not see the litter.
    expected = collection.expected_members(tree)
    assert members == expected, _difference(members, expected)
    assert members == built, _difference(members, built)
