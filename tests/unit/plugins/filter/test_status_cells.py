# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""status_cells: the rows of the status playbook's fleet table, whatever columns a record has."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.virinco.pywats.plugins.filter import status_cells as plugin

COLUMNS = ['host', 'version', 'hotfixes', 'queued']


def cells(*args, **kwargs):
    return plugin.FilterModule().filters()['status_cells'](*args, **kwargs)


def test_one_row_of_text_per_record_in_column_order():
    rows = [{'host': 'a', 'version': '0.6.0rc1', 'hotfixes': '01,02', 'queued': 3, 'extra': 'x'}]
    assert cells(rows, COLUMNS) == [['a', '0.6.0rc1', '01,02', '3']]


def test_a_missing_or_empty_column_is_an_empty_cell():
    # A Windows station's record has no hotfix record; it is a row all the same.
    rows = [{'host': 'w', 'version': '0.6.0rc1', 'queued': 0}, {'host': 'n', 'version': None}]
    assert cells(rows, COLUMNS) == [['w', '0.6.0rc1', '', '0'], ['n', '', '', '']]


def test_no_records_no_rows():
    assert cells([], COLUMNS) == []


@pytest.mark.parametrize('rows, columns', [([{'host': 'a'}], 'host'), (['a'], COLUMNS)])
def test_refuses_what_is_no_table(rows, columns):
    with pytest.raises(AnsibleFilterError) as caught:
        cells(rows, columns)
    assert str(caught.value).startswith('status_cells: ')
