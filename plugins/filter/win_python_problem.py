# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: win_python_problem
short_description: Why a Windows interpreter cannot host the service (installed for one user only)
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - The service's venv is made from a base interpreter whose DLLs and standard library the service
    account must read. An interpreter in a user's profile (C(C:\Users\<name>\...), any C(AppData)
    folder) or from the Microsoft Store (C(WindowsApps)) is installed for one user only, and the
    service account cannot read it.
  - Returns the message the role refuses such a path with (it names O(source), the path and the
    remedy), or an empty string for a path that may be used. An empty path is fine (nothing chosen).
  - The preflight module M(virinco.pywats.win_pywats_preflight) skips what C(py -0p) lists by the same rule.
options:
  _input:
    description: The path of C(python.exe).
    type: str
    required: true
  source:
    description: Where the path came from, for the message.
    type: str
    default: pywats_client_windows_python
'''

EXAMPLES = r'''
- name: Refuse a Python installed for one user only
  ansible.builtin.assert:
    that: pywats_client_windows_python | virinco.pywats.win_python_problem | length == 0
    fail_msg: "{{ pywats_client_windows_python | virinco.pywats.win_python_problem }}"
# C:\Users\admin\AppData\Local\Programs\Python\Python312\python.exe gives the refusal,
# C:\Program Files\Python312\python.exe gives ""
'''

RETURN = r'''
_value:
  description: The refusal, or an empty string.
  type: str
'''

from ansible_collections.virinco.pywats.plugins.module_utils.win_python import per_user_python_problem


def win_python_problem(path, source='pywats_client_windows_python'):
    return per_user_python_problem(path, source) or ''


class FilterModule(object):
    def filters(self):
        return {'win_python_problem': win_python_problem}
