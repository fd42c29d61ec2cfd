# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.virinco.pywats.plugins.filter.shared_station_names import shared_station_names


def test_names_held_by_two_hosts_in_play_order():
    hostvars = {
        'a': {'__pywats_client_station_name_seen': 'line4'},
        'b': {'__pywats_client_station_name_seen': 'line5'},
        'c': {'__pywats_client_station_name_seen': 'line4'},
        'd': {},
        'e': {'__pywats_client_station_name_seen': 'line5'},
    }
    assert shared_station_names(hostvars, ['c', 'a', 'b', 'd', 'e']) == [
        {'name': 'line4', 'hosts': ['c', 'a']}, {'name': 'line5', 'hosts': ['b', 'e']}]


def test_unique_names_and_hosts_outside_the_list_give_nothing():
    hostvars = {'a': {'__pywats_client_station_name_seen': 'x'}, 'b': {'__pywats_client_station_name_seen': 'x'}}
    assert shared_station_names(hostvars, ['a']) == []
    assert shared_station_names({'a': {'__pywats_client_station_name_seen': 1}, 'b': {}}, ['a', 'b', 'z']) == []
