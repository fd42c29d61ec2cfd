# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: split_userinfo
short_description: Split a URL into the URL without credentials and its user information
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Returns C(url), the URL with its user information (C(user:password@)) taken out, and C(userinfo), that
    information without the C(@) (empty when there is none). Everything up to the authority's last C(@) counts,
    as in M(virinco.pywats.pywats_preflight)'s masking, so a password holding C(@) or C(/) stays whole.
  - The role passes the two apart to the preflight module, whose results then show the URL readable and the
    credentials nowhere.
options:
  _input:
    description: The URL.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Hand the index and its credentials to preflight apart
  virinco.pywats.pywats_preflight:
    index_url: "{{ (pywats_client_pip_index_url | virinco.pywats.split_userinfo).url }}"
    index_userinfo: "{{ (pywats_client_pip_index_url | virinco.pywats.split_userinfo).userinfo | default(omit, true) }}"
# https://ci:t0ken@pypi.example.com/simple gives {url: https://pypi.example.com/simple, userinfo: ci:t0ken}
'''

RETURN = r'''
_value:
  description: The two parts.
  type: dict
  contains:
    url:
      description: The URL without user information.
      type: str
    userinfo:
      description: The user information (C(user:password)), or an empty string.
      type: str
'''

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import split_userinfo


class FilterModule(object):
    def filters(self):
        return {'split_userinfo': split_userinfo}
