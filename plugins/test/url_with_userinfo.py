# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: url_with_userinfo
short_description: Whether a URL carries user information (user:password@host)
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - True when the text holds an C(@). As for the filter P(virinco.pywats.mask_userinfo#filter), which masks it,
    everything up to the last C(@) counts as user information.
options:
  _input:
    description: The URL.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse credentials in the server URL
  ansible.builtin.assert:
    that: pywats_client_server_url is not virinco.pywats.url_with_userinfo
'''

RETURN = r'''
_value:
  description: Whether the URL carries user information.
  type: bool
'''

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import has_userinfo


def url_with_userinfo(url):
    return has_userinfo(url if isinstance(url, str) else str(url))


class TestModule(object):
    def tests(self):
        return {'url_with_userinfo': url_with_userinfo}
