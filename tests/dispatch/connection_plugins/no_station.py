# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helper: a connection to a station that is not there.

Every attempt to reach the station (connect, run a command, copy a file) fails as unreachable, so
a play run with it executes only what runs on the controller (option checks, vars, includes, tag
selection) and shows, task by task, where the role would have touched the station. Nothing leaves
the controller and nothing on it changes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = '''
name: no_station
short_description: A connection that reaches no station (tests only)
description:
  - Fails every connection attempt as unreachable, so that only the controller's side of a play runs.
author: the virinco.pywats contributors
'''

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

MESSAGE = 'no station behind this test connection'


class Connection(ConnectionBase):
    transport = 'no_station'
    has_pipelining = True

    def _connect(self):
        raise AnsibleConnectionFailure(MESSAGE)

    def exec_command(self, cmd, in_data=None, sudoable=True):
        raise AnsibleConnectionFailure(MESSAGE)

    def put_file(self, in_path, out_path):
        raise AnsibleConnectionFailure(MESSAGE)

    def fetch_file(self, in_path, out_path):
        raise AnsibleConnectionFailure(MESSAGE)

    def close(self):
        self._connected = False
