# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The bad-input matrix, run on the controller in seconds.

tests/integration/bad_input/cases.yml holds each bad input and its exact message; the integration
stage runs it against a Debian 12 container and checks that the host is left untouched. Here the same
cases run in one ansible-playbook run on the controller, one host per case with a Debian 12 station's
recorded facts, through the whole role (argument specs included) in check mode, with no usable
interpreter for the hosts: a case must stop at one of the role's option checks with exactly its message.
Two more hosts share a station name, for the warning that names both.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MATRIX = os.path.join(REPO, 'tests', 'integration', 'bad_input')
TOKEN = 'bad-input-test-token-5d1c'
# The first task past the option checks: it needs the station, so a case that gets there was accepted.
FIRST_STATION_TASK = 'Check that this station can run the client'
DUPLICATE = {'dup-station-a': 'line4-ict', 'dup-station-b': 'line4-ict', 'dup-station-c': 'line5-ict'}
# Folders below system directories, and a URL with '@' only where no credentials go: accepted.
ACCEPTED = {
    'accepted-folders-below-system-dirs': {'pywats_client_watch_folders': [
        {'path': '/var/lib/factory/inbox', 'done_folder': '/srv/pywats/done', 'error_folder': '/var/log/ict/error',
         'pending_folder': '/opt/factory/pending'},
        {'path': '/mnt/share//line4/./drop/'},
        # Names that only start like the venv and the state directory.
        {'path': '/opt/pywats/venv2'}, {'path': '/var/lib/pywats-line4'}]},
}

with open(os.path.join(MATRIX, 'cases.yml'), encoding='utf-8') as fh:
    CASES = yaml.safe_load(fh)
with open(os.path.join(MATRIX, 'base_vars.yml'), encoding='utf-8') as fh:
    BASE_VARS = yaml.safe_load(fh)
# Secrets some cases carry (URL and proxy credentials); none may reach the output.
SECRETS = tuple(c['secret'] for c in CASES if c.get('secret'))


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bad-input')
    collections = tmp / 'collections'
    (collections / 'ansible_collections' / 'virinco').mkdir(parents=True)
    os.symlink(REPO, str(collections / 'ansible_collections' / 'virinco' / 'pywats'))
    hosts = {}
    for case in CASES:
        # Each case gets a station name of its own, so that only the duplicate hosts share one.
        host_vars = dict(copy.deepcopy(BASE_VARS), pywats_client_station_name=case['id'])
        host_vars.update(copy.deepcopy(case['vars']))
        hosts[case['id']] = host_vars
    for host, name in DUPLICATE.items():
        hosts[host] = dict(copy.deepcopy(BASE_VARS), pywats_client_station_name=name)
    for host, extra in ACCEPTED.items():
        hosts[host] = dict(copy.deepcopy(BASE_VARS), pywats_client_station_name=host, **copy.deepcopy(extra))
    inventory = {'cases': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local',
        # No module may run for these hosts: a case that gets past the checks stops at the first task
        # that needs the station, instead of acting on the controller.
        'ansible_python_interpreter': str(tmp / 'no-interpreter' / 'python3'),
        'bad_input_facts': os.path.join(HERE, 'facts', 'debian-12.json'),
    }}}
    (tmp / 'inventory.json').write_text(json.dumps(inventory))
    out = tmp / 'results.json'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_FORKS='20',
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_LOCAL_TEMP=str(tmp / 'ansible-tmp'))
    env.pop('ANSIBLE_LOG_PATH', None)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '--check',
                           '-i', str(tmp / 'inventory.json'), os.path.join(HERE, 'bad_input.yml'),
                           '-e', json.dumps({'bad_input_out': str(out)})],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:]
    with open(str(out)) as handle:
        return {'output': proc.stdout, 'results': json.load(handle)}


CORE = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split('.')[:2])


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_refused_by_the_option_checks_with_its_message(run, case):
    stop = run['results'][case['id']]
    assert stop is not None, 'the role accepted the input and went on'
    assert stop['task'] != FIRST_STATION_TASK, 'the role accepted the input: %s' % stop['msg']
    # Ansible's own argument-spec messages are worded differently before ansible-core 2.19.
    assert stop['msg'] == (case.get('msg_before_2_19', case['msg']) if CORE < (2, 19) else case['msg'])


def test_valid_options_pass_every_check(run):
    # The duplicate hosts carry the matrix's valid base options: they, and the accepted
    # options, must reach the station.
    for host in list(DUPLICATE) + list(ACCEPTED):
        assert run['results'][host]['task'] == FIRST_STATION_TASK, run['results'][host]


def test_shared_station_name_is_warned_about_once_naming_both_hosts(run):
    # An Ansible warning ([WARNING], which AWX lists among the job's warnings), which
    # Ansible may wrap across lines.
    output = ' '.join(run['output'].split())
    warning = ("[WARNING]: pywats_client_station_name 'line4-ict' is set"
               ' for more than one host of this play: '
               'dup-station-a, dup-station-b. A registered client is known to WATS by this name, so the two '
               'would look like one station; give each station a name of its own.')
    assert output.count(warning) == 1, output[-6000:]
    # Names held by one host only are not reported.
    assert "pywats_client_station_name 'line5-ict'" not in output
    assert "pywats_client_station_name '%s'" % CASES[0]['id'] not in output


def test_no_secret_in_the_output(run):
    output = run['output']
    assert len(SECRETS) >= 3
    assert [s for s in SECRETS + (TOKEN,) if s in output] == []
