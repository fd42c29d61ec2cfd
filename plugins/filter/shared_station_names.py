# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: shared_station_names
short_description: The station names that more than one host of a play uses, with those hosts
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Reads each host's recorded station name from O(_input) (the play's C(hostvars)) and returns the names held
    by two or more of the hosts in O(hosts), each with its hosts in play order. Hosts without the variable
    O(var) (not yet through the role, or a host of another role) are left out.
options:
  _input:
    description: C(hostvars), or any mapping of host name to that host's variables.
    type: dict
    required: true
  hosts:
    description: The hosts to compare, such as C(ansible_play_hosts).
    type: list
    elements: str
    required: true
  var:
    description: The variable that holds a host's station name.
    type: str
    default: __pywats_client_station_name_seen
'''

EXAMPLES = r'''
- name: Warn when two hosts of this play share a station name
  virinco.pywats.warn:
    msg: "{{ item.name }} is used by {{ item.hosts | join(', ') }}"
  loop: "{{ hostvars | virinco.pywats.shared_station_names(ansible_play_hosts) }}"
  run_once: true
'''

RETURN = r'''
_value:
  description: One entry per shared name, in the order the names first appear.
  type: list
  elements: dict
  contains:
    name:
      description: The station name.
      type: str
    hosts:
      description: The hosts that use it.
      type: list
      elements: str
'''


def shared_station_names(hostvars, hosts, var='__pywats_client_station_name_seen'):
    by_name = {}
    for host in hosts:
        variables = hostvars.get(host) or {}
        if var in variables:
            by_name.setdefault(str(variables[var]), []).append(host)
    return [{'name': name, 'hosts': names} for name, names in by_name.items() if len(names) > 1]


class FilterModule(object):
    def filters(self):
        return {'shared_station_names': shared_station_names}
