# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The example inventory (inventories/example, the README's starting point for a fleet) deploys
every station it lists, Windows included, as shipped.

The deploy playbook runs unchanged over the inventory as shipped, with only what a test must add
on top as host variables of a second inventory source: the ``no_station`` connection (nothing
leaves the controller), recorded facts, and a token in place of the vaulted one (whose password
nobody has). Every station must pass the option checks and reach its preflight module, the first
task that talks to a station. The example's Windows group once set ``ansible_become_method: runas``
without a ``become_user`` under the playbooks' ``become: true`` (every task failed with "Required
config 'become_user' for 'runas' become plugin not provided") and inherited the Linux stations'
POSIX watch folders (refused by the option checks).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from tests.dispatch.test_entry_points import FACTS, HERE, PLAYBOOK, REPO, WINDOWS_FACTS, Run, collection_tree

EXAMPLE = os.path.join(REPO, 'inventories', 'example')
TOKEN = 'ZXhhbXBsZS1pbnZlbnRvcnk='


def example_hosts():
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(PLAYBOOK), 'ansible-inventory'), '-i', EXAMPLE, '--list'],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120, check=True)
    listed = json.loads(proc.stdout)
    return sorted(listed['pywats_linux']['hosts']), sorted(listed['pywats_windows']['hosts'])


@pytest.fixture(scope='module')
def deployed(tmp_path_factory):
    work = str(tmp_path_factory.mktemp('example-inventory'))
    collections = collection_tree(work)
    with open(WINDOWS_FACTS) as handle:
        windows_facts = os.path.join(work, 'windows-server-2022.json')
        with open(windows_facts, 'w') as out:
            json.dump({'ansible_facts': json.load(handle)}, out)
    linux, windows = example_hosts()
    common = {'ansible_connection': 'no_station', 'ansible_python_interpreter': sys.executable,
              'pywats_client_api_token': TOKEN}
    hosts = dict((host, dict(common, dispatch_facts_file=os.path.join(FACTS, 'debian-12.json'))) for host in linux)
    hosts.update((host, dict(common, dispatch_facts_file=windows_facts)) for host in windows)
    overlay = os.path.join(work, 'test-overlay.json')
    with open(overlay, 'w') as handle:
        json.dump({'all': {'hosts': hosts}}, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
               ANSIBLE_CONNECTION_PLUGINS=os.path.join(HERE, 'connection_plugins'),
               ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=os.path.join(work, 'tmp'),
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_FORKS='10')
    for name in ('ANSIBLE_LOG_PATH', 'ANSIBLE_CALLBACKS_ENABLED'):
        env.pop(name, None)
    proc = subprocess.run([PLAYBOOK, '-i', EXAMPLE, '-i', overlay, os.path.join(HERE, 'take_facts.yml'),
                           'virinco.pywats.deploy'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, check=False)
    return Run(proc), linux, windows


def test_the_example_lists_linux_and_windows_stations():
    linux, windows = example_hosts()
    assert linux and windows


def test_every_linux_station_passes_the_option_checks(deployed):
    run, linux, _windows = deployed
    for host in linux:
        assert run.first_unreachable(host) == 'Check that this station can run the client', (
            host, [(name, result.get('msg')) for name, result in run.hosts.get(host, []) if result.get('failed')])


def test_every_windows_station_passes_the_option_checks_as_shipped(deployed):
    run, _linux, windows = deployed
    for host in windows:
        failed = [(name, result.get('msg')) for name, result in run.hosts.get(host, []) if result.get('failed')]
        assert failed == [], host
        assert run.first_unreachable(host) == 'Check that this Windows station can run the client', run.stderr[-3000:]
