# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The execution environment definition (meta/execution-environment.yml) builds a usable context.

Runs ``ansible-builder create`` (no container runtime, no network) into a temporary
directory and checks what a later ``ansible-builder build`` would install: the base
image, ansible-core and ansible-runner, this collection's source, the collections it
depends on (with galaxy.yml's version ranges), the Python packages and the system
packages. Then installs the collection from the generated context with
``ansible-galaxy collection install --offline``, as the image's galaxy stage does,
against the collections the ``ansible`` package ships.

Run: python -m pytest tests/unit/test_ee_context.py -q
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EE_FILE = ROOT / 'meta' / 'execution-environment.yml'
BIN_DIR = Path(sys.executable).parent

# Proxies that lead nowhere: `create` must not need the network, and the offline
# install must not reach for it either.
OFFLINE_ENV = {
    'http_proxy': 'http://127.0.0.1:9',
    'https_proxy': 'http://127.0.0.1:9',
    'HTTP_PROXY': 'http://127.0.0.1:9',
    'HTTPS_PROXY': 'http://127.0.0.1:9',
    'no_proxy': '',
    'NO_PROXY': '',
    'PIP_NO_INDEX': '1',
}


def _tool(name):
    path = BIN_DIR / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    assert found, '{0} is not installed: `make venv` installs it from requirements-dev.txt'.format(name)
    return found


def _load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _requirement_names(text):
    names = set()
    for line in text.splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            names.add(re.split(r'[\s<>=!~;\[]', line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp('ee') / 'context'
    env = dict(os.environ, **OFFLINE_ENV)
    result = subprocess.run(
        [sys.executable, '-m', 'ansible_builder', 'create', '--file', str(EE_FILE), '--context', str(ctx),
         '--output-filename', 'Containerfile', '-v', '3'],
        cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return ctx, output


@pytest.fixture(scope='module')
def ee_definition():
    return _load_yaml(EE_FILE)


@pytest.fixture(scope='module')
def galaxy():
    return _load_yaml(ROOT / 'galaxy.yml')


def test_create_completes_without_warnings(context):
    ctx, output = context
    assert (ctx / 'Containerfile').is_file(), output
    # ansible-builder only warns when an additional_build_files source matches nothing.
    assert 'No matches for' not in output, output
    assert 'does not exist' not in output, output


def test_every_additional_build_file_exists(ee_definition):
    entries = ee_definition['additional_build_files']
    assert entries
    for entry in entries:
        assert list(EE_FILE.parent.glob(entry['src'])), 'additional_build_files src {0!r} matches nothing'.format(entry['src'])


def test_base_image_is_a_build_arg_with_a_public_default(context):
    ctx, dummy = context
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    match = re.search(r'^ARG EE_BASE_IMAGE="([^"]+)"$', containerfile, re.M)
    assert match, containerfile
    assert match.group(1) == 'docker.io/redhat/ubi9:latest'
    assert re.search(r'^FROM \$EE_BASE_IMAGE AS base$', containerfile, re.M)


def test_python_and_ansible_versions(context):
    ctx, dummy = context
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    pycmd = re.search(r'^ARG PYCMD="/usr/bin/python(\d+)\.(\d+)"$', containerfile, re.M)
    assert pycmd, containerfile
    # ansible-core 2.19 runs on Python >= 3.11 only.
    assert (int(pycmd.group(1)), int(pycmd.group(2))) >= (3, 11)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]+)"$', containerfile, re.M)
    assert refs, containerfile
    packages = _requirement_names(refs.group(1).replace(' ', '\n'))
    assert packages == {'ansible-core', 'ansible-runner'}
    assert 'ansible-core~=2.19.0' in refs.group(1).split()
    assert 'RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS' in containerfile


def test_containerfile_installs_the_requirements_and_this_collection(context):
    ctx, dummy = context
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    lines = containerfile.splitlines()
    galaxy_from_file = [i for i, line in enumerate(lines)
                        if 'ansible-galaxy collection install' in line and '-r requirements.yml' in line]
    this_collection = [i for i, line in enumerate(lines)
                       if 'ansible-galaxy collection install --offline' in line and line.rstrip().endswith('/build/virinco.pywats')]
    assert len(galaxy_from_file) == 1, containerfile
    assert len(this_collection) == 1, containerfile
    # Dependencies first, so the offline install of this collection finds them.
    assert galaxy_from_file[0] < this_collection[0]
    assert '--collections-path /usr/share/ansible/collections' in lines[this_collection[0]]
    assert 'COPY _build /build' in lines
    assert 'COPY _build/requirements.txt requirements.txt' in lines
    assert 'COPY _build/bindep.txt bindep.txt' in lines
    assert any(line.startswith('RUN $PYCMD /output/scripts/introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt')
               for line in lines), containerfile


def test_collection_requirements_match_galaxy_yml(context, galaxy):
    ctx, dummy = context
    requirements = _load_yaml(ctx / '_build' / 'requirements.yml')
    versions = {item['name']: item.get('version') for item in requirements['collections']}
    expected = {'ansible.posix', 'community.general', 'community.docker', 'ansible.windows', 'community.windows'}
    assert expected <= set(versions), versions
    for name, version in galaxy['dependencies'].items():
        assert versions.get(name) == version, '{0}: ee-requirements.yml {1!r}, galaxy.yml {2!r}'.format(name, versions.get(name), version)
    for name in expected:
        assert versions[name], '{0} has no version range'.format(name)
    # The collection itself comes from the checkout, not from Galaxy.
    assert 'virinco.pywats' not in versions


def test_python_requirements(context):
    ctx, dummy = context
    names = _requirement_names((ctx / '_build' / 'requirements.txt').read_text(encoding='utf-8'))
    assert {'pywinrm', 'jmespath', 'docker'} <= names, names


def test_system_requirements(context):
    ctx, dummy = context
    bindep = (ctx / '_build' / 'bindep.txt').read_text(encoding='utf-8')
    assert re.search(r'^openssh-clients \[platform:rpm\]$', bindep, re.M), bindep


def test_collection_source_is_complete(context, galaxy):
    ctx, dummy = context
    source = ctx / '_build' / 'virinco.pywats'
    copied = _load_yaml(source / 'galaxy.yml')
    assert (copied['namespace'], copied['name'], copied['version']) == (galaxy['namespace'], galaxy['name'], galaxy['version'])
    assert (source / galaxy['readme']).is_file()
    assert (source / 'meta' / 'runtime.yml').is_file()
    for top in ('roles', 'plugins', 'playbooks'):
        for path in (ROOT / top).rglob('*'):
            if path.is_file() and '__pycache__' not in path.parts and path.suffix != '.pyc':
                relative = path.relative_to(ROOT)
                assert (source / relative).is_file(), '{0} is missing from the EE context'.format(relative)
    # Nothing that does not belong in the collection.
    assert not (source / 'tests').exists()
    assert not (source / '.venv').exists()


def test_collection_installs_offline_from_the_context(context, tmp_path):
    """What the image's galaxy stage runs, against the collections of the `ansible` package."""
    ctx, dummy = context
    collections = tmp_path / 'collections'
    home = tmp_path / 'home'
    home.mkdir()
    env = dict(os.environ, HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), **OFFLINE_ENV)
    result = subprocess.run(
        [_tool('ansible-galaxy'), 'collection', 'install', '--offline', '--collections-path', str(collections),
         str(ctx / '_build' / 'virinco.pywats')],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    installed = collections / 'ansible_collections' / 'virinco' / 'pywats'
    assert (installed / 'MANIFEST.json').is_file(), output
    assert (installed / 'roles' / 'pywats_client' / 'tasks' / 'main.yml').is_file()
    assert (installed / 'playbooks' / 'deploy.yml').is_file()
