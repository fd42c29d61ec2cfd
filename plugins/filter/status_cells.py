# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: status_cells
short_description: The cells of the fleet table, one list of strings per station
version_added: 0.1.0
author:
  - virinco.pywats contributors (@virinco)
description:
  - Turns the C(pywats_client_status) records of the stations into rows of text, one cell per column,
    in the order of the columns.
  - A column a record does not have gives an empty cell. Linux and Windows stations report different
    sets (a Windows station has no hotfix record, no restart counter), and the table and its CSV must
    show every station all the same.
  - The C(virinco.pywats.status) playbook prints the table and writes its CSV from these rows.
options:
  _input:
    description: The status records (dictionaries).
    type: list
    elements: dict
    required: true
  columns:
    description: The keys to show, in order.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Show one line per station
  ansible.builtin.debug:
    msg: "{{ rows | virinco.pywats.status_cells(['host', 'version', 'hotfixes']) | map('join', ' | ') | list }}"
# [{host: a, version: 0.6.0rc1, hotfixes: "01,02"}, {host: w, version: 0.6.0rc1}]
# gives ["a | 0.6.0rc1 | 01,02", "w | 0.6.0rc1 | "]
'''

RETURN = r'''
_value:
  description: One list of cells (text) per record.
  type: list
  elements: list
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types


def status_cells(rows, columns):
    if isinstance(columns, string_types) or not isinstance(columns, (list, tuple)):
        raise AnsibleFilterError('status_cells: columns must be a list of keys, got %r' % (columns,))
    cells = []
    for row in rows or []:
        if not isinstance(row, dict):
            raise AnsibleFilterError('status_cells: each status record must be a dictionary, got %r' % (row,))
        cells.append([to_text(row[column]) if row.get(column) is not None else '' for column in columns])
    return cells


class FilterModule(object):
    def filters(self):
        return {'status_cells': status_cells}
