# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rules for the role's Windows task files that hold whatever a task does, read from the files
themselves: what a Windows host would show only on a station in another language, or only on
one where another program shares a system-wide component."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WINDOWS_TASKS = REPO / "roles" / "pywats_client" / "tasks" / "windows"
TASK_FILES = sorted(WINDOWS_TASKS.glob("*.yml"))

# Names Windows translates: "Administratoren" (de), "Administrateurs" (fr), "Järjestelmänvalvojat" (fi),
# "Jeder" for Everyone, "NT-AUTORITÄT\SYSTEM"... A task that names them fails on such a station; the
# well-known SIDs (S-1-5-18, S-1-5-32-544, S-1-5-32-545, S-1-1-0, ...) are the same everywhere.
LOCALIZED_NAMES = {
    "system", "localsystem", "administrators", "administrator", "users", "everyone", "guests",
    "authenticated users", "creator owner", "network service", "local service", "networkservice",
    "localservice", "power users", "remote desktop users", "interactive", "network",
}
LOCALIZED_DOMAINS = ("builtin\\", "nt authority\\")


def scalars(node):
    """Every string in a YAML tree (task names, arguments, loop items, vars)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "name":
                continue  # task names are prose for people
            yield from scalars(value)
    elif isinstance(node, list):
        for item in node:
            yield from scalars(item)
    elif isinstance(node, str):
        yield node


def fragile(value):
    text = value.strip().lower()
    return text in LOCALIZED_NAMES or text.startswith(LOCALIZED_DOMAINS)


@pytest.mark.parametrize("path", TASK_FILES, ids=[p.name for p in TASK_FILES])
def test_no_task_names_an_account_by_its_localized_name(path):
    tasks = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    assert [s for s in scalars(tasks) if fragile(s)] == []


def test_private_paths_grant_system_and_administrators_by_sid():
    tasks = yaml.safe_load((WINDOWS_TASKS / "acl_private.yml").read_text(encoding="utf-8"))
    grant = next(t for t in tasks if "ansible.windows.win_acl" in t)
    users = [item["user"] for item in grant["loop"]]
    assert users[:2] == ["S-1-5-18", "S-1-5-32-544"]


def test_the_scan_sees_a_localized_name():
    # The scan itself: the names the role used before are caught, a SID and prose are not.
    assert fragile("SYSTEM") and fragile("Administrators") and fragile("BUILTIN\\Users")
    assert not fragile("S-1-5-32-544") and not fragile("Grant SYSTEM, administrators and the service account")


def test_uninstall_leaves_pywin32_machine_wide_setup_alone():
    # pywats_client never runs pywin32's post-install; its -remove would unregister machine-wide COM
    # servers and delete System32 copies of pywin32's DLLs that another program may use.
    for path in TASK_FILES:
        text = path.read_text(encoding="utf-8")
        assert "pywin32_postinstall" not in text, path.name
        assert not re.search(r"^\s*-\s*-remove\s*$", text, re.M), path.name
