# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: warn
short_description: Give a warning that Ansible shows as [WARNING] and AWX lists among the job's warnings
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Returns O(msg) as a warning of the task, the way a module reports one, and changes nothing.
  - For a condition an operator must see but that must not stop the play (two stations that share a
    station name), where M(ansible.builtin.debug) would print an ordinary line.
options:
  msg:
    description: The warning.
    type: str
    required: true
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
  check_mode:
    support: full
    description: Changes nothing in any mode.
  diff_mode:
    support: none
    description: Has no diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the host.
'''

EXAMPLES = r'''
- name: Warn that two hosts share a station name
  virinco.pywats.warn:
    msg: "pywats_client_station_name 'line4' is set for more than one host of this play: a, b."
'''

RETURN = r'''
msg:
  description: The warning.
  returned: always
  type: str
'''
