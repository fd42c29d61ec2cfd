# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: watch_folder_problems
short_description: Judge the watch folders of a Linux station by the role's folder rules
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Returns one message for each folder of O(_input) that the role must not hand to the service account, and for
    each C(module_path) that is not a dotted class path. An empty list means every folder is fine.
  - Paths are judged as text, as the controller sees them. C(.), C(..) and repeated slashes are resolved as the
    kernel would (V(/srv/..) is V(/)); symbolic links are not followed. The preflight module
    M(virinco.pywats.pywats_preflight) applies the same rules on the station to where each folder resolves there.
  - "Refused: a path that is not absolute, or is V(/); a system directory itself (V(/srv), V(/var/lib), ...); anything
    in a tree of the operating system (V(/etc), V(/usr), V(/proc), ...); anything in V(/home), V(/root), V(/tmp) or
    V(/var/tmp), which the service's sandbox hides (only these folders themselves when O(sandboxed=false)); and a
    folder that is in, is or contains one of O(reserved)."
options:
  _input:
    description:
      - The watch folders, as the role option C(pywats_client_watch_folders) holds them (C(path), and
        C(done_folder), C(error_folder), C(pending_folder), C(module_path) where set).
    type: list
    elements: dict
    required: true
  reserved:
    description:
      - Directories of the client that no folder may be, sit in or contain.
      - Each has C(path) and C(what), a phrase for the message in which C(%s) stands for the path.
    type: list
    elements: dict
    default: []
  owner:
    description: The account each folder is made owned by, as the message for a system directory names it.
    type: str
    default: pywats
  mode:
    description: The mode each folder gets, as the message for a system directory names it.
    type: str
    default: '0770'
  sandboxed:
    description:
      - Whether the service runs in the unit's sandbox, which hides V(/home), V(/root), V(/tmp) and V(/var/tmp).
      - V(false) for a container's bind mounts, where only those folders themselves are refused.
    type: bool
    default: true
  name:
    description: The option the messages name.
    type: str
    default: pywats_client_watch_folders
'''

EXAMPLES = r'''
- name: Check each watch folder
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: >-
      {{ pywats_client_watch_folders | virinco.pywats.watch_folder_problems(
           reserved=[{'path': '/var/lib/pywats', 'what': "the client's state directory %s"}],
           owner=pywats_client_user, mode=pywats_client_watch_folder_mode) }}

# [{path: /srv/..}] gives:
# ['pywats_client_watch_folders[0].path must be a directory of its own, such as /srv/pywats/inbox, not the
#   system directory / (the role makes each watch folder owned by pywats with mode 0770); got "/srv/.." (that is /).']
'''

RETURN = r'''
_value:
  description: The messages, in the order of the folders; empty when every folder is fine.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import posix_watch_folder_problems


def watch_folder_problems(watch_folders, reserved=None, owner='pywats', mode='0770', sandboxed=True,
                          name='pywats_client_watch_folders'):
    if not is_sequence(watch_folders) or not all(isinstance(wf, dict) for wf in watch_folders):
        raise AnsibleFilterError('watch_folder_problems expects a list of watch folders (dicts), got %r' % (watch_folders,))
    return posix_watch_folder_problems(watch_folders, reserved=list(reserved or []), owner=owner, mode=mode,
                                       sandboxed=bool(sandboxed), name=name)


class FilterModule(object):
    def filters(self):
        return {'watch_folder_problems': watch_folder_problems}
