# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: systemd_quote
short_description: Quote a path or argument as one word of a systemd unit file
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Wraps the text in double quotes, escapes backslashes and double quotes with a backslash and doubles
    C(%), which systemd expands as a specifier; with O(command=true) it also doubles C($), which systemd
    expands as a variable in C(ExecStart=) and the other command lines.
  - Unquoted, C(ReadWritePaths=/srv/line 4) is two words to systemd, which logs "path is not absolute,
    ignoring" for the second and leaves the folder read-only for the service.
options:
  _input:
    description: The path or argument (anything else is turned into text first).
    type: raw
    required: true
  command:
    description: Whether the word goes on a command line (C(ExecStart=)), where C($) must be doubled too.
    type: bool
    default: false
'''

EXAMPLES = r'''
# ReadWritePaths=-"/srv/pywats/inbox/line 4" (the - inside the quotes: systemd unquotes first)
- name: Write one sandbox exception per folder
  ansible.builtin.debug:
    msg: "ReadWritePaths={{ ('-' ~ item) | virinco.pywats.systemd_quote }}"
  loop: ["/srv/pywats/inbox/line 4"]
'''

RETURN = r'''
_value:
  description: The quoted word.
  type: str
'''

from ansible_collections.virinco.pywats.plugins.module_utils.pywats_rules import systemd_quote


class FilterModule(object):
    def filters(self):
        return {'systemd_quote': systemd_quote}
