# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: win_watch_folder_problems
short_description: Judge the watch folders of a Windows station by the role's folder rules
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Returns one message for each folder of O(_input) that the role must not grant the service account Modify on,
    and for each C(module_path) that is not a dotted class path. An empty list means every folder is fine.
  - Paths are judged as text and without regard to case. V(/) and V(\\) are one separator, and C(.), C(..) and
    repeated separators are resolved, so V(D:\\WATS\\..) is the drive root V(D:\\).
  - "Refused: anything but V(D:\\folder), V(D:/folder) or V(\\\\\\\\server\\\\share\\\\folder); a drive root; one of
    O(system_dirs) itself; anything in one of O(system_trees); and a folder that is in, is or contains one of
    O(reserved)."
options:
  _input:
    description:
      - The watch folders, as the role option C(pywats_client_watch_folders) holds them (C(path), and
        C(done_folder), C(error_folder), C(pending_folder), C(module_path) where set).
    type: list
    elements: dict
    required: true
  system_trees:
    description: Folders that, with everything below them, belong to Windows or to installed programs.
    type: list
    elements: str
    default: []
  system_dirs:
    description: Folders refused only as themselves (a directory of its own below one is fine).
    type: list
    elements: str
    default: []
  reserved:
    description:
      - Directories of the client that no folder may be, sit in or contain.
      - Each has C(path) and C(what), a phrase for the message in which C(%s) stands for the path.
    type: list
    elements: dict
    default: []
  name:
    description: The option the messages name.
    type: str
    default: pywats_client_watch_folders
'''

EXAMPLES = r'''
- name: Check each watch folder of a Windows station
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: >-
      {{ pywats_client_watch_folders | virinco.pywats.win_watch_folder_problems(
           system_trees=['C:\Windows', 'C:\Program Files', 'C:\Program Files (x86)'],
           system_dirs=['C:\ProgramData', 'C:\Users'],
           reserved=[{'path': 'C:\ProgramData\pyWATS', 'what': "the client's data directory %s"}]) }}

# [{path: 'D:\WATS\..'}] gives:
# ['pywats_client_watch_folders[0].path must be an absolute Windows path other than a drive root, such as
#   D:\WATS\drop or \\server\share\drop; got "D:\\WATS\\.." (that is D:\).']
'''

RETURN = r'''
_value:
  description: The messages, in the order of the folders; empty when every folder is fine.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import win_watch_folder_problems as problems


def win_watch_folder_problems(watch_folders, system_trees=None, system_dirs=None, reserved=None,
                              name='pywats_client_watch_folders'):
    if not is_sequence(watch_folders) or not all(isinstance(wf, dict) for wf in watch_folders):
        raise AnsibleFilterError('win_watch_folder_problems expects a list of watch folders (dicts), got %r'
                                 % (watch_folders,))
    return problems(watch_folders, system_trees=list(system_trees or []), system_dirs=list(system_dirs or []),
                    reserved=list(reserved or []), name=name)


class FilterModule(object):
    def filters(self):
        return {'win_watch_folder_problems': win_watch_folder_problems}
