# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which Python a Windows service may be built on: only one installed for all users.

py -0p lists the connecting administrator's own interpreters too (python.org's default "Install
Now" puts one under C:\\Users\\<name>\\AppData\\Local\\Programs\\Python); the service account
cannot read them. The rule is one pattern, used by the role's filter on the controller and by the
preflight module on the station; the test below keeps the module's copy equal to it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

import pytest

from ansible_collections.virinco.pywats.plugins.filter import win_python_problem as filter_plugin
from ansible_collections.virinco.pywats.plugins.module_utils import win_python

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PREFLIGHT_PS1 = os.path.join(REPO, 'plugins', 'modules', 'win_pywats_preflight.ps1')

PER_USER = [
    r'C:\Users\admin\AppData\Local\Programs\Python\Python312\python.exe',   # python.org "Install Now"
    r'c:\users\Administrator\appdata\local\programs\python\python311\python.exe',
    r'C:\Users\admin\AppData\Local\Microsoft\WindowsApps\python.exe',       # Microsoft Store alias
    r'C:\Users\admin\scoop\apps\python\current\python.exe',
    r'D:\Users\deploy\Python312\python.exe',                                  # profiles on another drive
    r'C:/Users/admin/AppData/Local/Programs/Python/Python312/python.exe',
    r'E:\Profiles\admin\AppData\Local\Programs\Python\Python312\python.exe',  # a redirected profile
    r'C:\Program Files\WindowsApps\PythonSoftwareFoundation.Python.3.12_3.12.2032.0_x64__qbz5n2kfra8p0\python.exe',
]
MACHINE_WIDE = [
    r'C:\Program Files\Python312\python.exe',
    r'C:\Python311\python.exe',
    r'D:\Tools\Python313\python.exe',
    r'C:\Users\Public\Python312\python.exe',
    r'C:\ProgramData\Python312\python.exe',
    '',
]


@pytest.mark.parametrize('path', PER_USER)
def test_per_user_interpreters_are_refused(path):
    assert win_python.is_per_user_python(path)
    message = filter_plugin.FilterModule().filters()['win_python_problem'](path)
    assert message.startswith('pywats_client_windows_python is %s, a Python installed for one user only' % path)
    assert 'InstallAllUsers=1' in message and 'pywats_client_windows_python_installer' in message


@pytest.mark.parametrize('path', MACHINE_WIDE)
def test_machine_wide_interpreters_qualify(path):
    assert not win_python.is_per_user_python(path)
    assert filter_plugin.FilterModule().filters()['win_python_problem'](path) == ''


def test_the_message_names_where_the_path_came_from():
    message = win_python.per_user_python_problem(PER_USER[0], 'the Python preflight found (py -0p)')
    assert message.startswith('the Python preflight found (py -0p) is C:\\Users\\admin\\')


def test_the_preflight_module_applies_the_same_pattern():
    # The station side (PowerShell, .NET regex, case-insensitive -match) cannot import the Python rule:
    # it holds a copy, which must be the same text.
    with open(PREFLIGHT_PS1, encoding='utf-8') as handle:
        text = handle.read()
    copy = re.search(r"^\$PerUserPython = '([^']*)'$", text, re.M)
    assert copy and copy.group(1) == win_python.PER_USER_PYTHON
    # ... and uses it on every interpreter it finds by itself.
    assert 'if (Test-PerUserPython -Path $found)' in text
