# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options the main entry point marks required are refused when left unset.

meta/argument_specs.yml marks pywats_client_server_url and pywats_client_api_token
``required: true``, while defaults/main.yml keeps an empty placeholder for each
(the uninstall, status and wheelhouse entry points, pywats_client_state=absent and
the container role run without them). Ansible counts a role default as given, so
its argument-spec validation passes either way; what refuses the empty value is
the role's own option check (tasks/validate.yml). This runs the role's main entry
point, in check mode on the controller only, for a Debian 12 station's recorded
facts with one or both options unset, and asserts that the run stops in the
option checks with a message naming the variable, before any other task.

Run: python -m pytest tests/unit/test_required_options.py -q
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / 'roles' / 'pywats_client'
FACTS = ROOT / 'tests' / 'dispatch' / 'facts' / 'debian-12.json'
ACTION_PLUGINS = ROOT / 'tests' / 'dispatch' / 'action_plugins'

# Loopback only: should a check ever let a case through, preflight reaches nothing else.
URL = 'https://127.0.0.1:9'
TOKEN = 'cmVxdWlyZWQtdGVzdA=='
# case: (options given, variable the refusal must name)
CASES = {
    'no_url': ({'pywats_client_api_token': TOKEN}, 'pywats_client_server_url'),
    'no_token': ({'pywats_client_server_url': URL}, 'pywats_client_api_token'),
    'empty_url': ({'pywats_client_server_url': '', 'pywats_client_api_token': TOKEN}, 'pywats_client_server_url'),
    'neither': ({}, 'pywats_client_server_url'),
}

PLAY = '''---
- name: Run the role's main entry point with required options unset
  hosts: stations
  gather_facts: false
  tasks:
    - name: Load a Debian 12 station's recorded facts
      recorded_facts:
        path: "{{ required_facts }}"

    - name: Run the role until it refuses
      block:
        - name: Deploy the pyWATS client
          ansible.builtin.include_role:
            name: virinco.pywats.pywats_client
        - name: Record that the role did not stop
          ansible.builtin.set_fact:
            required_stop: {task: "", msg: ""}
      rescue:
        - name: Record where the role stopped and why
          ansible.builtin.set_fact:
            required_stop:
              task: "{{ ansible_failed_task.name }}"
              msg: "{{ ansible_failed_result.msg | default('') }}"

    - name: Write the results
      ansible.builtin.copy:
        content: "{{ required_stop | to_json }}"
        dest: "{{ required_out }}/{{ inventory_hostname }}.json"
        mode: "0600"
      check_mode: false
'''


def _validate_task_names():
    return {task['name'] for task in yaml.safe_load((ROLE / 'tasks' / 'validate.yml').read_text(encoding='utf-8'))}


@pytest.fixture(scope='module')
def stops(tmp_path_factory):
    work = tmp_path_factory.mktemp('required')
    collections = work / 'collections' / 'ansible_collections' / 'virinco'
    collections.mkdir(parents=True)
    (collections / 'pywats').symlink_to(ROOT)
    out = work / 'out'
    out.mkdir()
    inventory = {'stations': {
        'hosts': {name: given for name, (given, dummy) in CASES.items()},
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                 'required_facts': str(FACTS), 'required_out': str(out),
                 # Should the option checks ever let a case through: checks only, no change.
                 'pywats_client_preflight_only': True}}}
    (work / 'inventory.json').write_text(json.dumps(inventory), encoding='utf-8')
    (work / 'play.yml').write_text(PLAY, encoding='utf-8')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / 'collections'), ANSIBLE_ACTION_PLUGINS=str(ACTION_PLUGINS),
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=str(work / 'tmp'),
               ANSIBLE_FORKS='4', ANSIBLE_LOCALHOST_WARNING='false')
    env.pop('ANSIBLE_LOG_PATH', None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / 'ansible-playbook'), '--check', '-i', str(work / 'inventory.json'),
         str(work / 'play.yml')],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    found = {path.stem: json.loads(path.read_text(encoding='utf-8')) for path in out.glob('*.json')}
    assert sorted(found) == sorted(CASES), output
    return found, output


def test_argument_spec_marks_them_required_without_a_spec_default():
    spec = yaml.safe_load((ROLE / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))['argument_specs']
    defaults = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text(encoding='utf-8'))
    for name in ('pywats_client_server_url', 'pywats_client_api_token'):
        option = spec['main']['options'][name]
        assert option.get('required') is True, name
        assert 'default' not in option, name
        assert defaults[name] == '', name
        # The entry points that do not deploy do not ask for them.
        for entry_point in ('uninstall', 'status', 'wheelhouse'):
            assert name not in (spec[entry_point].get('options') or {}), (entry_point, name)


@pytest.mark.parametrize('case', sorted(CASES))
def test_unset_required_option_is_refused_in_the_option_checks(stops, case):
    found, output = stops
    stop = found[case]
    variable = CASES[case][1]
    # Stopped in the option checks, which run before any task that could change a host.
    assert stop['task'] in _validate_task_names(), (stop, output)
    assert variable in stop['msg'], stop


def test_no_token_in_the_output(stops):
    dummy, output = stops
    assert TOKEN not in output
