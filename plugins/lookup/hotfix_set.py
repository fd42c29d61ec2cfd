# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: hotfix_set
short_description: The id and the patched files of a client release's hotfix set
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Reads the patch files of the release's hotfix set on the controller and returns one dict with C(id), a
    SHA-256 over the release, each fix's id, whether it is on, and its patch's content (a station whose
    recorded id differs is patched again), and C(files), the files relative to site-packages that the
    patches touch, in order, once each.
options:
  _terms:
    description: The client release, such as C(0.6.0rc1).
    type: list
    elements: str
    required: true
  hotfixes:
    description: The role's hotfix table, release to a list of C({id, file}).
    type: dict
    required: true
  base:
    description: The directory that holds a directory per release with its patch files.
    type: path
    required: true
  enabled:
    description: Whether the hotfix set is on at all.
    type: bool
    default: true
  skip:
    description: Ids of fixes that are off.
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: The hotfix set of the pinned release
  ansible.builtin.debug:
    msg: "{{ lookup('virinco.pywats.hotfix_set', pywats_client_version, hotfixes=_pywats_client_hotfixes,
             base=role_path ~ '/files/hotfixes') }}"
'''

RETURN = r'''
_raw:
  description: One dict per release given.
  type: list
  elements: dict
  contains:
    id:
      description: The set's id.
      type: str
    files:
      description: The files the patches touch, relative to site-packages.
      type: list
      elements: str
    patches:
      description:
        - Each fix as M(virinco.pywats.pywats_hotfix_set) takes it, in order, with C(id), C(file), C(content)
          (the patch text) and C(state) (V(present) when it is on, V(absent) when it is off).
      type: list
      elements: dict
'''

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_values import hotfix_set


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        table, base = self.get_option('hotfixes'), self.get_option('base')
        out = []
        for version in terms:
            fixes = table.get(version) or []
            texts = []
            for fix in fixes:
                path = os.path.join(base, version, fix['file'])
                try:
                    with open(path, 'rb') as fh:
                        texts.append(to_text(fh.read(), errors='surrogate_or_strict'))
                except OSError as exc:
                    raise AnsibleLookupError('cannot read the hotfix %s of %s: %s' % (fix['id'], version, exc))
            out.append(hotfix_set(version, fixes, texts, self.get_option('enabled'), self.get_option('skip')))
        return out
