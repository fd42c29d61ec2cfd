# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role's per-distribution dispatch, run for real against recorded facts.

One ansible-playbook run (connection local, nothing leaves the controller) loads each recorded
``facts/*.json`` as a station's facts, runs the role's own ``vars.yml`` (facts + first_found
include_vars) and ``validate.yml``, and renders the unit, sysctl and config templates with what
they resolved. The tests assert the vars file chosen, the Python and the packages for each
distribution, and the rendered files.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.dispatch.test_entry_points import WINDOWS_ONLY

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ROLE = os.path.join(REPO, 'roles', 'pywats_client')
FACTS = os.path.join(HERE, 'facts')

DEB = ['python3', 'python3-venv']
SELINUX_EL = ['policycoreutils', 'policycoreutils-python-utils']
SELINUX_DEB = ['policycoreutils', 'policycoreutils-python-utils', 'selinux-utils', 'netbase']

ARM64_GLIBC_236 = {'architecture': 'aarch64', 'glibc_version': '2.36'}

# station -> (facts file, extra host vars, vars file chosen, Python, every OS package, SELinux managed)
EXPECTED = {
    'debian-11': ('debian-11', {}, 'Debian-11.yml', '/usr/bin/python3',
                  DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-12': ('debian-12', {'dispatch_preflight_facts': {'architecture': 'x86_64', 'glibc_version': '2.36'}},
                  'Debian.yml', '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-13': ('debian-13', {}, 'Debian-13.yml', '/usr/bin/python3',
                  DEB + ['libglib2.0-0t64', 'patch', 'procps'], False),
    'ubuntu-20.04': ('ubuntu-20.04', {}, 'Ubuntu-20.yml', '/usr/bin/python3',
                     DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'ubuntu-22.04': ('ubuntu-22.04', {}, 'Debian.yml', '/usr/bin/python3',
                     DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'ubuntu-24.04': ('ubuntu-24.04', {}, 'Ubuntu-24.yml', '/usr/bin/python3',
                     DEB + ['libglib2.0-0t64', 'patch', 'procps'], False),
    'rhel-8.10': ('rhel-8.10', {}, 'RedHat-8.yml', '/usr/bin/python3.11',
                  ['python3.11', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'rocky-8.10': ('rocky-8.10', {}, 'RedHat-8.yml', '/usr/bin/python3.11',
                   ['python3.11', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'almalinux-8.10': ('almalinux-8.10', {}, 'RedHat-8.yml', '/usr/bin/python3.11',
                       ['python3.11', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'rhel-9.4': ('rhel-9.4', {'dispatch_inotify_watches': 1048576}, 'RedHat-9.yml', '/usr/bin/python3.12',
                 ['python3.12', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'rocky-9.5': ('rocky-9.5', {}, 'RedHat-9.yml', '/usr/bin/python3.12',
                  ['python3.12', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    # 9.3 predates python3.12 in AppStream; permissive still counts as enabled.
    'almalinux-9.3': ('almalinux-9.3', {}, 'RedHat-9.yml', '/usr/bin/python3.11',
                      ['python3.11', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'rhel-10.0': ('rhel-10.0', {}, 'RedHat.yml', '/usr/bin/python3',
                  ['python3', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'rocky-10.0': ('rocky-10.0', {}, 'RedHat.yml', '/usr/bin/python3',
                   ['python3', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    'almalinux-10.0': ('almalinux-10.0', {}, 'RedHat.yml', '/usr/bin/python3',
                       ['python3', 'glib2', 'patch', 'procps-ng'] + SELINUX_EL, True),
    # arm64 stations (facts captured from the arm64 test images), with what preflight reads there.
    'debian-12-arm64': ('debian-12-arm64', {'dispatch_preflight_facts': ARM64_GLIBC_236}, 'Debian.yml',
                        '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-12-arm64-pin-6.7.3': ('debian-12-arm64', {'dispatch_preflight_facts': ARM64_GLIBC_236,
                                                      'pywats_client_pyside6_version': '6.7.3'},
                                  'Debian.yml', '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-12-arm64-pin-6.12.0': ('debian-12-arm64', {'dispatch_preflight_facts': ARM64_GLIBC_236,
                                                       'pywats_client_pyside6_version': '6.12.0'},
                                   'Debian.yml', '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-12-arm64-pin-6.4.3': ('debian-12-arm64', {'dispatch_preflight_facts': ARM64_GLIBC_236,
                                                      'pywats_client_pyside6_version': '6.4.3'},
                                  'Debian.yml', '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
    # Options on top of a platform: an interpreter of the user's own (no Python package),
    # SELinux management forced on where SELinux is off, and turned off where it is on, and
    # firewalld opening the health port.
    'ubuntu-20.04-own-python': ('ubuntu-20.04', {'pywats_client_python': '/usr/bin/python3.11'}, 'Ubuntu-20.yml',
                                '/usr/bin/python3.11', ['libglib2.0-0', 'patch', 'procps'], False),
    'debian-12-selinux-always': ('debian-12', {'pywats_client_selinux_manage': 'always'}, 'Debian.yml',
                                 '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'] + SELINUX_DEB, True),
    'rhel-9.4-selinux-never': ('rhel-9.4', {'pywats_client_selinux_manage': 'never',
                                            'pywats_client_firewall_open_health_port': True}, 'RedHat-9.yml',
                               '/usr/bin/python3.12', ['python3.12', 'glib2', 'patch', 'procps-ng', 'python3-firewall'],
                               False),
    # A private index whose URLs carry credentials.
    'debian-12-private-index': ('debian-12', {'pywats_client_pip_index_url': 'https://ci:Idx-Pass-0b3f@pypi.example.com/simple',
                                              'pywats_client_pip_extra_index_urls': [
                                                  'https://ci:Extra-Pass-7c1e@extra.example.com/simple',
                                                  'https://mirror.example.com/simple']},
                                'Debian.yml', '/usr/bin/python3', DEB + ['libglib2.0-0', 'patch', 'procps'], False),
}
PRIVATE_INDEX = 'debian-12-private-index'
BACKOFF_SYSTEMD = 254  # RestartMaxDelaySec= exists from systemd 254 on
WATCH = '/srv/pywats/inbox/ict'


# The dispatch play's output, for the checks that read it.
OUTPUT = {}


def recorded(name):
    with open(os.path.join(FACTS, name + '.json')) as handle:
        return json.load(handle)['ansible_facts']


@pytest.fixture(scope='module')
def resolved():
    """Run the playbook once for every station; yields {station: (resolved vars, output dir)}."""
    work = tempfile.mkdtemp(prefix='pywats-dispatch-')
    try:
        collections = os.path.join(work, 'collections')
        os.makedirs(os.path.join(collections, 'ansible_collections', 'virinco'))
        os.symlink(REPO, os.path.join(collections, 'ansible_collections', 'virinco', 'pywats'))
        hosts = dict((station, dict(extra, dispatch_facts=facts))
                     for station, (facts, extra, _f, _p, _k, _s) in EXPECTED.items())
        inventory = {'stations': {'hosts': hosts, 'vars': {
            'ansible_connection': 'local',
            'ansible_python_interpreter': sys.executable,
            'dispatch_facts_dir': FACTS,
            'dispatch_role': ROLE,
            'dispatch_out': os.path.join(work, 'out'),
            'dispatch_inotify_watches': 65536,
            'pywats_client_server_url': 'https://wats.example.com',
            'pywats_client_api_token': 'dGVzdC10b2tlbg==',
            'pywats_client_health_port': 8080,
            'pywats_client_watch_folders': [{'path': WATCH, 'converter': 'teradyne_ict'}],
        }}}
        with open(os.path.join(work, 'inventory.json'), 'w') as handle:
            json.dump(inventory, handle)
        os.makedirs(os.path.join(work, 'out'))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_PIPELINING='1',
                   ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
                   ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=os.path.join(work, 'tmp'),
                   ANSIBLE_FORKS='20')
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                               '-i', os.path.join(work, 'inventory.json'), os.path.join(HERE, 'play.yml')],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              check=False)
        assert proc.returncode == 0, proc.stdout
        sys.stdout.write(proc.stdout[proc.stdout.rfind('PLAY RECAP'):])
        OUTPUT['play'] = proc.stdout
        with open(os.path.join(work, 'out', 'resolved.json')) as handle:
            results = json.load(handle)
        assert sorted(results) == sorted(EXPECTED)
        yield dict((station, (data, data.pop('rendered'))) for station, data in results.items())
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize('station', sorted(EXPECTED))
def test_vars_file_python_and_packages(resolved, station):
    facts_file, extra, vars_file, python, packages, selinux_on = EXPECTED[station]
    data, out = resolved[station]
    facts = recorded(facts_file)
    # The facts came from the recording (the role's setup task did not gather the controller's).
    assert data['distribution'] == facts['ansible_distribution']
    assert data['vars_files'] == [vars_file]
    assert data['pkg_mgr'] == facts['ansible_pkg_mgr']
    assert data['python'] == python
    assert data['packages'] == packages
    assert data['selinux_on'] is selinux_on
    assert data['selinux_kernel_off'] is (facts['ansible_selinux']['status'] != 'enabled')


@pytest.mark.parametrize('station', sorted(EXPECTED))
def test_rendered_unit(resolved, station):
    unit = resolved[station][1]['unit']
    systemd = recorded(EXPECTED[station][0])['ansible_systemd']['version']
    # Quoted as one word each (systemd.syntax(7)): a space would otherwise split a path.
    assert 'ExecStart="/opt/pywats/venv/bin/pywats-client" service --instance-id default\n' in unit
    assert 'Environment=PYWATS_HEALTH_PORT=8080\n' in unit
    for path in ('/var/lib/pywats', WATCH, WATCH + '/Done', WATCH + '/Error', WATCH + '/Pending'):
        assert 'ReadWritePaths="-%s"\n' % path in unit
    assert ('RestartMaxDelaySec=300\n' in unit) is (systemd >= BACKOFF_SYSTEMD)
    assert 'dGVzdC10b2tlbg' not in unit


@pytest.mark.parametrize('station', sorted(EXPECTED))
def test_rendered_config_and_sysctl(resolved, station):
    rendered = resolved[station][1]
    config = json.loads(base64.b64decode(rendered['config_b64']).decode('utf-8'))
    assert config['service_address'] == 'https://wats.example.com'
    assert [c['watch_folder'] for c in config['converters']] == [WATCH]
    assert config['converters'][0]['module_path'].endswith('.TeradyneICTConverter')
    sysctl = [line for line in rendered['sysctl'].splitlines() if line and not line.startswith('#')]
    watches = EXPECTED[station][1].get('dispatch_inotify_watches', 524288)
    assert sysctl == ['fs.inotify.max_user_instances = 512', 'fs.inotify.max_user_watches = %d' % max(watches, 524288)]


def test_unsupported_platforms_carry_their_remedy(resolved):
    notes = dict((station, resolved[station][0]['remedy_notes']) for station in EXPECTED)
    assert 'glibc 2.28' in notes['rhel-8.10']['glibc'] and 'python3.11' in notes['rhel-8.10']['python']
    assert 'glibc 2.31' in notes['debian-11']['glibc'] and 'Debian 12' in notes['debian-11']['python']
    assert 'glibc 2.31' in notes['ubuntu-20.04']['glibc']
    assert 'pywats_client_python: /usr/bin/python3.11' in notes['ubuntu-20.04']['python']
    for station in ('debian-12', 'debian-13', 'ubuntu-22.04', 'ubuntu-24.04', 'rhel-10.0'):
        assert notes[station] == {}


def test_selinux_rules_cover_every_path(resolved):
    data = resolved['rhel-9.4'][0]
    assert [(r['path'], r['setype']) for r in data['fcontexts']] == [
        ('/opt/pywats/venv/bin', 'bin_t'), ('/var/lib/pywats', 'var_lib_t'),
        (WATCH, 'public_content_rw_t'), (WATCH + '/Done', 'public_content_rw_t'),
        (WATCH + '/Error', 'public_content_rw_t'), (WATCH + '/Pending', 'public_content_rw_t')]
    # 8080 is http_cache_port_t in the reference policy (recorded `semanage port -l`): not ours to relabel.
    assert data['health_port_types'] == ['http_cache_port_t']


def test_linux_stations_load_no_windows_task(resolved):
    """The Linux stations ran validate.yml: none of them loads, skips or warns about a Windows check."""
    output = OUTPUT['play']
    assert 'Invalid no_log value' not in output
    assert '__pywats_client_win' not in output
    shown = [name for name in WINDOWS_ONLY if ': %s]' % name in output]
    assert shown == []
    # The include of the Windows checks is skipped once per station, never entered.
    assert 'windows/validate.yml for' not in output


# station -> (PySide6 requirement, refusal); stations not listed take the unbounded newest release.
PYSIDE6 = {
    'debian-12': ('PySide6-Essentials', ''),
    # glibc 2.36 on aarch64: 6.8.1 and later are manylinux_2_39, so pip must take 6.8.0.2.
    'debian-12-arm64': ('PySide6-Essentials<6.8.1', ''),
    'debian-12-arm64-pin-6.7.3': ('PySide6-Essentials==6.7.3', ''),
    'debian-12-arm64-pin-6.12.0': ('', 'pywats_client_pyside6_version is 6.12.0, and its aarch64 wheels need glibc 2.39'
                                       ' or newer (manylinux_2_39_aarch64); this station has glibc 2.36. Leave'
                                       ' pywats_client_pyside6_version empty to take the newest release that fits this'
                                       ' station, or pin one that has a wheel for it.'),
    'debian-12-arm64-pin-6.4.3': ('', 'pywats_client_pyside6_version is 6.4.3, and PySide6-Essentials has no aarch64'
                                      ' wheels for that release (the first is 6.5.3). Leave pywats_client_pyside6_version'
                                      ' empty to take the newest release that fits this station, or pin one that has a'
                                      ' wheel for it.'),
}


@pytest.mark.parametrize('station', sorted(EXPECTED))
def test_pyside6_fits_the_cpu_and_glibc(resolved, station):
    requirement, refused = PYSIDE6.get(station, ('PySide6-Essentials', ''))
    assert resolved[station][0]['pyside6'] == {'requirement': requirement, 'refused': refused}


def test_arm64_facts_are_an_arm64_station():
    for name in ('debian-12-arm64',):
        facts = recorded(name)
        assert facts['ansible_architecture'] == 'aarch64' and facts['ansible_machine'] == 'aarch64'


def test_pip_index_urls_stay_off_the_command_line(resolved, tmp_path):
    """Index URLs (they may carry credentials) reach pip only through its root-only config file.

    The rendered file is handed to the controller's own pip, which must read both settings from it.
    """
    pip = resolved[PRIVATE_INDEX][0]['pip']
    assert not [arg for arg in pip['argv'] if 'example.com' in arg or 'index-url' in arg], pip['argv']
    assert pip['environment']['PIP_CONFIG_FILE'] == '/etc/pywats/pip.conf'
    assert not [value for value in pip['environment'].values() if 'Pass' in value]
    config = tmp_path / 'pip.conf'
    config.write_text(pip['config'])
    proc = subprocess.run([sys.executable, '-m', 'pip', 'config', 'list'], check=True, universal_newlines=True,
                          stdout=subprocess.PIPE, env=dict(os.environ, PIP_CONFIG_FILE=str(config)))
    settings = dict(line.split('=', 1) for line in proc.stdout.splitlines())
    assert settings["global.index-url"] == "'https://ci:Idx-Pass-0b3f@pypi.example.com/simple'"
    assert settings["global.extra-index-url"] == (
        "'https://ci:Extra-Pass-7c1e@extra.example.com/simple https://mirror.example.com/simple'")
    # Without index options the station gets no file, and pip its default index.
    plain = resolved['debian-12'][0]['pip']
    assert plain['config'] == '' and 'PIP_CONFIG_FILE' not in plain['environment']
    assert plain['argv'][:2] == ['/opt/pywats/venv/bin/pip', 'install'] and not [a for a in plain['argv'] if '://' in a]
