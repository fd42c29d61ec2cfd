# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""virinco.pywats.awx_configure and the optional awx.awx collection.

awx.awx is not one of the collection's dependencies (only this playbook needs it; the
execution environment's requirements and docs/awx.md name it). Without it the playbook
must pass a syntax check (Galaxy's importer runs one) and stop with a message that says
what to install, before any AWX call; with it, it goes on to the AWX objects. The
controller address is a closed port on loopback, so the run ends at the first AWX call.
The ansible package of the test environment (requirements-dev.txt) ships awx.awx.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(REPO, 'playbooks', 'awx_configure.yml')
ARGS = ['-e', 'pywats_awx_scm_url=https://git.example.com/pywats.git', '-e', 'pywats_awx_ee_image=registry.example.com/ee:1',
        '-e', 'pywats_awx_api_token=station-token-value']


def _run(*extra, scan_sys_path=True):
    env = dict(os.environ)
    env.update(PATH=BIN + os.pathsep + env.get('PATH', ''), ANSIBLE_NOCOLOR='1',
               CONTROLLER_HOST='http://127.0.0.1:9', CONTROLLER_OAUTH_TOKEN='controller-token-value',
               # False hides the collections that the ansible package installs beside
               # ansible-core (awx.awx among them): a controller with ansible-core alone.
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=str(scan_sys_path))
    return subprocess.run([os.path.join(BIN, 'ansible-playbook'), PLAYBOOK] + list(extra), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


def test_without_awx_awx_the_syntax_check_passes():
    result = _run('--syntax-check', scan_sys_path=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_awx_awx_it_says_what_to_install_before_any_awx_call():
    result = _run(*ARGS, scan_sys_path=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert 'needs the awx.awx collection' in out and "ansible-galaxy collection install 'awx.awx:" in out, out
    assert 'Create the organization' not in out, out
    assert 'station-token-value' not in out


def test_with_awx_awx_it_goes_on_to_the_awx_objects():
    result = _run(*ARGS)
    out = result.stdout + result.stderr
    assert 'needs the awx.awx collection' not in out, out
    assert 'TASK [Create the organization that owns everything below]' in out, out
    assert '127.0.0.1:9' in out, out
    assert 'station-token-value' not in out and 'controller-token-value' not in out
