# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: folder_options
short_description: List the folders of the client's converters, each with the option it comes from
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Turns the client's converter configs (each with C(watch_folder), C(done_folder), C(error_folder) and
    C(pending_folder), defaults filled in) into one entry per folder with the option that sets it, in the shape
    the O(virinco.pywats.pywats_preflight#module:folders) option of the preflight module takes, so that its
    messages name the option.
options:
  _input:
    description: The converter configs, in the order of the watch folders.
    type: list
    elements: dict
    required: true
  name:
    description: The option that lists the watch folders.
    type: str
    default: pywats_client_watch_folders
'''

EXAMPLES = r'''
- name: Check the folders on the station
  virinco.pywats.pywats_preflight:
    folders: "{{ __pywats_client_converters_config | virinco.pywats.folder_options }}"

# [{watch_folder: /srv/in, done_folder: /srv/in/Done, error_folder: /srv/in/Error, pending_folder: /srv/in/Pending}]
# gives [{option: 'pywats_client_watch_folders[0].path', path: /srv/in},
#        {option: 'pywats_client_watch_folders[0].done_folder', path: /srv/in/Done}, ...]
'''

RETURN = r'''
_value:
  description: One entry per folder, watch folder first, then its done, error and pending folders.
  type: list
  elements: dict
  contains:
    option:
      description: The option, such as C(pywats_client_watch_folders[0].done_folder).
      type: str
    path:
      description: The folder.
      type: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import folder_options as options


def folder_options(converters, name='pywats_client_watch_folders'):
    if not is_sequence(converters) or not all(isinstance(c, dict) for c in converters):
        raise AnsibleFilterError('folder_options expects a list of converter configs (dicts), got %r' % (converters,))
    try:
        return options(converters, name)
    except KeyError as exc:
        raise AnsibleFilterError('folder_options: a converter config has no %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'folder_options': folder_options}
