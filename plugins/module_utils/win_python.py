# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which Python a Windows station's service may be built on.

The venv is made from a base interpreter, and the service runs that interpreter's DLLs and
standard library as its own account (a virtual account, a gMSA or a user). A Python installed for
one user (the python.org installer's default "Install Now", the Microsoft Store's, or one that
``py -0p`` lists for the WinRM administrator) lives in that user's profile, under
``C:\\Users\\<name>\\AppData``, which the service account cannot read: the service could not start.
Only interpreters installed for all users qualify.

Pure functions: no Ansible imports, no file system access. The preflight module
(win_pywats_preflight.ps1) applies the same pattern, PER_USER_PYTHON, to what ``py -0p`` lists;
tests/unit/plugins/module_utils/test_win_python.py keeps the two copies equal.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

# A path inside a user's profile (any drive, either slash; C:\Users\Public is shared), under an
# AppData folder wherever the profiles are, or a Microsoft Store package or alias (WindowsApps).
PER_USER_PYTHON = r'^[A-Za-z]:[\\/]+Users[\\/]+(?!Public[\\/])[^\\/]+[\\/]|[\\/](AppData|WindowsApps)[\\/]'
_PER_USER = re.compile(PER_USER_PYTHON, re.IGNORECASE)


def is_per_user_python(path):
    """True when the interpreter at path is installed for one user only."""
    return bool(_PER_USER.search(str(path or '')))


def per_user_python_problem(path, source='pywats_client_windows_python'):
    """The message the role refuses a per-user interpreter with, or None.

    source names where the path came from: the option, or what preflight found.
    """
    if not is_per_user_python(path):
        return None
    return (
        "%s is %s, a Python installed for one user only (in a user's profile): the service account cannot "
        "read it, so the service could not start. Only a Python installed for all users qualifies: install one "
        "with the python.org installer's InstallAllUsers=1 (into C:\\Program Files\\Python3X) and set "
        "pywats_client_windows_python to its python.exe or leave it empty, or set "
        "pywats_client_windows_python_installer (or pywats_client_windows_python_installer_url) with its "
        "SHA-256 and let the role install one." % (source, path))
