# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: win_path_problems
short_description: Judge the directories the role installs into on a Windows station, and its python.exe
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Returns one message for each directory of O(_input) that is not an absolute Windows path of a directory of its
    own (a drive root, V(C:\\Windows), V(C:\\Program Files), V(C:\\Program Files (x86\)), V(C:\\ProgramData) and
    V(C:\\Users) are refused), and for each interpreter of O(pythons) that is neither empty nor the full path of a
    C(python.exe). An empty list means all are fine.
options:
  _input:
    description: The directories, by the option that sets each (the messages name it).
    type: dict
    required: true
  pythons:
    description: Interpreters (empty for one found on the station), by the option that sets each.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Check the Windows paths the role owns
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: >-
      {{ {'pywats_client_windows_install_dir': pywats_client_windows_install_dir,
          'pywats_client_windows_venv_dir': pywats_client_windows_venv_dir}
         | virinco.pywats.win_path_problems(pythons={'pywats_client_windows_python': pywats_client_windows_python}) }}
'''

RETURN = r'''
_value:
  description: The messages, directories first; empty when all are fine.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import win_own_dir_problem, win_python_path_problem


def win_path_problems(dirs, pythons=None):
    if not isinstance(dirs, dict) or not isinstance(pythons or {}, dict):
        raise AnsibleFilterError('win_path_problems expects dicts of option names and paths, got %r and %r' % (dirs, pythons))
    out = [win_own_dir_problem(name, value) for name, value in dirs.items()]
    out += [win_python_path_problem(name, value) for name, value in (pythons or {}).items()]
    return [problem for problem in out if problem]


class FilterModule(object):
    def filters(self):
        return {'win_path_problems': win_path_problems}
