# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Execution environments build with this collection in them: ours, and a user's own.

ansible-builder reads a collection's meta/execution-environment.yml as that
collection's dependency file and adds the Python and system packages it names to
every EE that contains the collection (introspection, in the image's builder stage).

Our EE (ee/execution-environment.yml): runs ``ansible-builder create`` (no container
runtime, no network) into a temporary directory and checks what a later
``ansible-builder build`` would install: the base image, ansible-core and
ansible-runner, the collections this one depends on (with galaxy.yml's version
ranges), and this collection's source. Then installs the collection from the
generated context with ``ansible-galaxy collection install --offline``, as the
image's galaxy stage does, and runs the context's own introspection script over
it, as the builder stage does: the packages of meta/execution-environment.yml come
out.

A user's EE: a definition that lists the built tarball as a galaxy requirement of
``type: file``, with Python and system packages of its own. ``create`` must work;
the galaxy stage's install from the context and the builder stage's introspection
command (taken from the generated Containerfile) must yield the user's packages
and ours, merged.

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

from tests.support import collection as collection_build

ROOT = Path(__file__).resolve().parents[2]
EE_FILE = ROOT / 'ee' / 'execution-environment.yml'
DEPENDENCY_FILE = ROOT / 'meta' / 'execution-environment.yml'
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
    return ctx, _create(EE_FILE, ctx)


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


def _create(definition, context_dir):
    env = dict(os.environ, **OFFLINE_ENV)
    result = subprocess.run(
        [sys.executable, '-m', 'ansible_builder', 'create', '--file', str(definition), '--context', str(context_dir),
         '--output-filename', 'Containerfile', '-v', '3'],
        cwd=str(Path(definition).parent), env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def _galaxy_env(tmp_path):
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    return dict(collection_build.source_env(), HOME=str(home), ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1',
                ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), **OFFLINE_ENV)


def _introspect(ctx, collections, out):
    """The builder stage's introspection, with the arguments the Containerfile gives it,
    over the collections the galaxy stage installed (the image's /usr/share/ansible/collections)."""
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    lines = [line for line in containerfile.splitlines() if '/output/scripts/introspect.py introspect' in line]
    assert len(lines) == 1, containerfile
    args = lines[0].split('introspect.py introspect', 1)[1].replace('/tmp/src', str(out)).split()
    result = subprocess.run(
        [sys.executable, str(ctx / '_build' / 'scripts' / 'introspect.py'), 'introspect'] + args + [str(collections)],
        cwd=str(ctx / '_build'), capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    pip = out / 'requirements.txt'
    bindep = out / 'bindep.txt'
    return (pip.read_text(encoding='utf-8') if pip.exists() else '',
            bindep.read_text(encoding='utf-8') if bindep.exists() else '', output)


def _our_dependencies():
    """The Python and system packages meta/execution-environment.yml names, read from its files."""
    definition = _load_yaml(DEPENDENCY_FILE)
    files = {}
    for kind in ('python', 'system'):
        path = ROOT / definition['dependencies'][kind]
        files[kind] = [line.split('#', 1)[0].strip() for line in path.read_text(encoding='utf-8').splitlines()
                       if line.split('#', 1)[0].strip()]
    return files


def test_dependency_file_is_a_collection_dependency_file_not_an_ee_definition():
    """What ansible-builder's introspection reads from an installed collection: the
    dependencies, with paths relative to the collection's root; nothing of an EE
    definition (images, ansible-core, build steps), which a collection cannot carry."""
    definition = _load_yaml(DEPENDENCY_FILE)
    assert definition['version'] == 1
    assert set(definition) == {'version', 'dependencies'}, definition
    assert set(definition['dependencies']) == {'python', 'system'}, definition
    for kind, name in definition['dependencies'].items():
        assert not os.path.isabs(name), name
        assert (ROOT / name).is_file(), '{0}: {1} does not exist relative to the collection root'.format(kind, name)
    deps = _our_dependencies()
    assert _requirement_names('\n'.join(deps['python'])) == {'pywinrm'}
    assert 'openssh-clients [platform:rpm]' in deps['system']
    assert 'patch [platform:rpm]' in deps['system']


def test_containerfile_installs_the_requirements_and_this_collection(context):
    ctx, dummy = context
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    lines = containerfile.splitlines()
    galaxy_from_file = [i for i, line in enumerate(lines)
                        if 'ansible-galaxy collection install' in line and '-r requirements.yml' in line]
    this_collection = [i for i, line in enumerate(lines)
                       if 'ansible-galaxy collection install --offline' in line and line.rstrip().endswith('/build/virinco.pywats')]
    builder_stage = [i for i, line in enumerate(lines) if line.startswith('FROM base AS builder')]
    introspect = [i for i, line in enumerate(lines) if '/output/scripts/introspect.py introspect' in line]
    assert len(galaxy_from_file) == 1, containerfile
    assert len(this_collection) == 1, containerfile
    assert len(builder_stage) == 1 and len(introspect) == 1, containerfile
    # Dependencies first, so the offline install of this collection finds them; and
    # both in the galaxy stage, whose collections the builder stage introspects.
    assert galaxy_from_file[0] < this_collection[0] < builder_stage[0] < introspect[0]
    assert '--collections-path /usr/share/ansible/collections' in lines[this_collection[0]]
    assert 'COPY _build /build' in lines
    assert 'COPY --from=galaxy /usr/share/ansible /usr/share/ansible' in lines[builder_stage[0]:introspect[0]]
    # No Python or system list of the EE's own: the collection's dependency file has them.
    assert '--user-pip' not in lines[introspect[0]]
    assert not (ctx / '_build' / 'requirements.txt').exists()


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


def test_collection_in_the_context_ships_what_the_tarball_ships(installed_from_context, tarball):
    """The EE installs the collection from a copy of the checkout: with galaxy.yml's
    build_ignore applied, exactly the tarball's files land in the image."""
    installed, dummy = installed_from_context
    files = {path.relative_to(installed).as_posix() for path in installed.rglob('*') if path.is_file()}
    expected = collection_build.members(tarball)
    assert files == expected, 'only installed: {0}; only in the tarball: {1}'.format(
        sorted(files - expected), sorted(expected - files))


def test_our_ee_introspects_the_collection_dependency_file(context, installed_from_context, tmp_path):
    ctx, dummy = context
    installed, collections = installed_from_context
    assert (installed / 'meta' / 'execution-environment.yml').is_file()
    pip, bindep, output = _introspect(ctx, collections, tmp_path)
    deps = _our_dependencies()
    for line in deps['python']:
        assert '{0}  # from collection virinco.pywats'.format(line) in pip.splitlines(), output
    for line in deps['system']:
        assert '{0}  # from collection virinco.pywats'.format(line) in bindep.splitlines(), output


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    return collection_build.build(ROOT, tmp_path_factory.mktemp('tarball'), env=collection_build.source_env())


@pytest.fixture(scope='module')
def installed_from_context(context, tmp_path_factory):
    """What the image's galaxy stage runs, against the collections of the `ansible` package."""
    ctx, dummy = context
    tmp_path = tmp_path_factory.mktemp('galaxy-stage')
    collections = tmp_path / 'collections'
    env = dict(_galaxy_env(tmp_path), ANSIBLE_COLLECTIONS_PATH=str(collections))
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
    return installed, collections


USER_PIP = 'requests>=2.31\n'
USER_BINDEP = 'git [platform:rpm]\n'


@pytest.fixture(scope='module')
def user_ee(tarball, tmp_path_factory):
    """A user's own EE definition with the collection tarball in it, as the README's
    install section and docs/awx.md describe."""
    project = tmp_path_factory.mktemp('user-ee')
    shutil.copy(tarball, project / tarball.name)
    (project / 'requirements.yml').write_text(yaml.safe_dump({'collections': [
        # Relative to the galaxy stage's working directory, /build, where the
        # additional build file below lands.
        {'name': 'collections/{0}'.format(tarball.name), 'type': 'file'}]}), encoding='utf-8')
    (project / 'requirements.txt').write_text(USER_PIP, encoding='utf-8')
    (project / 'bindep.txt').write_text(USER_BINDEP, encoding='utf-8')
    definition = project / 'execution-environment.yml'
    definition.write_text(yaml.safe_dump({
        'version': 3,
        'images': {'base_image': {'name': 'registry.example.com/ee-minimal-rhel9:latest'}},
        'dependencies': {
            'ansible_core': {'package_pip': 'ansible-core~=2.19.0'},
            'ansible_runner': {'package_pip': 'ansible-runner~=2.4'},
            'galaxy': 'requirements.yml',
            'python': 'requirements.txt',
            'system': 'bindep.txt',
        },
        'additional_build_files': [{'src': tarball.name, 'dest': 'collections'}],
        'options': {'package_manager_path': '/usr/bin/microdnf'},
    }), encoding='utf-8')
    ctx = project / 'context'
    output = _create(definition, ctx)
    return ctx, output


def test_user_ee_create_works_with_the_collection_tarball(user_ee, tarball):
    ctx, output = user_ee
    assert (ctx / 'Containerfile').is_file(), output
    assert 'No matches for' not in output and 'does not exist' not in output, output
    assert (ctx / '_build' / 'collections' / tarball.name).is_file()
    containerfile = (ctx / 'Containerfile').read_text(encoding='utf-8')
    assert '-r requirements.yml --collections-path "/usr/share/ansible/collections"' in containerfile
    assert '--user-pip=requirements.txt --user-bindep=bindep.txt' in containerfile


def test_user_ee_gets_the_collection_dependencies(user_ee, tmp_path):
    """The galaxy stage (install from the context's requirements.yml) and the builder
    stage (introspection): the user's packages and this collection's, merged. This is
    where a full EE definition in meta/ made ansible-builder fail."""
    ctx, dummy = user_ee
    collections = tmp_path / 'collections'
    # --no-deps: offline there is no Galaxy for galaxy.yml's dependencies; they bring
    # their own dependency files and do not change what ours adds.
    result = subprocess.run(
        [_tool('ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '-r', 'requirements.yml',
         '--collections-path', str(collections)],
        cwd=str(ctx / '_build'), env=dict(_galaxy_env(tmp_path), ANSIBLE_COLLECTIONS_PATH=str(collections)),
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = collections / 'ansible_collections' / 'virinco' / 'pywats'
    assert (installed / 'meta' / 'execution-environment.yml').is_file()
    out = tmp_path / 'src'
    pip, bindep, output = _introspect(ctx, collections, out)
    deps = _our_dependencies()
    pip_lines = pip.splitlines()
    bindep_lines = bindep.splitlines()
    for line in deps['python']:
        assert '{0}  # from collection virinco.pywats'.format(line) in pip_lines, output
    for line in deps['system']:
        assert '{0}  # from collection virinco.pywats'.format(line) in bindep_lines, output
    assert '{0}  # from collection user'.format(USER_PIP.strip()) in pip_lines, output
    assert '{0}  # from collection user'.format(USER_BINDEP.strip()) in bindep_lines, output
