# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helper for the dispatch test: return a recorded facts file as the host's facts.

The file holds ``{"ansible_facts": {...}}`` as ``ansible HOST -m setup`` prints it. Facts returned by a
task are merged into the host's facts exactly as the setup module's are, so the role sees the recorded
distribution instead of the controller it runs on. An action plugin: it reads the file on the
controller and starts no module process, which keeps the test fast.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('path',))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        path = self._task.args.get('path')
        try:
            with open(path) as handle:
                facts = json.load(handle)['ansible_facts']
        except (IOError, OSError, ValueError, KeyError, TypeError) as exc:
            raise AnsibleActionFail('cannot read recorded facts from %s: %s' % (path, exc))
        result.update(changed=False, ansible_facts=facts)
        return result
