# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Return the message as a warning: Ansible prints it as [WARNING] and AWX lists it."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('msg',))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        msg = self._task.args.get('msg')
        if not isinstance(msg, string_types) or not msg.strip():
            raise AnsibleActionFail('msg must be a non-empty string')
        result.update(changed=False, msg=msg, warnings=[msg])
        return result
