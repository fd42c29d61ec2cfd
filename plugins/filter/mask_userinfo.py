# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: mask_userinfo
short_description: Mask the user information (user:password@) of a URL for a message
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Replaces everything from the start of the URL's authority up to its last C(@) with C(***@), so that a
    password holding C(@), C(/) or a line break stays hidden. A URL without C(@) is returned as it is.
  - The role's option checks and the preflight module M(virinco.pywats.pywats_preflight) mask URLs with the
    same rule.
options:
  _input:
    description: The URL (anything else is turned into text first).
    type: raw
    required: true
'''

EXAMPLES = r'''
- name: Show the proxy without its credentials
  ansible.builtin.debug:
    msg: "proxy {{ pywats_client_proxy | virinco.pywats.mask_userinfo }}"
# http://ops:s3cret@proxy.example.com:3128 gives http://***@proxy.example.com:3128
# ops:s3cret@wats.example.com gives ***@wats.example.com
'''

RETURN = r'''
_value:
  description: The URL with its user information masked.
  type: str
'''

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import mask_userinfo


class FilterModule(object):
    def filters(self):
        return {'mask_userinfo': mask_userinfo}
