# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every ansible.windows and community.windows module the collection uses exists in the oldest
release galaxy.yml allows.

galaxy.yml allowed ansible.windows 2.0.0 while the role used ansible.windows.win_eventlog, which
that collection has only since 2.6.0: a controller with 2.0-2.5 failed at that task, late in a
purge. The table below says which release first shipped each module; a module the role starts
using must be added to it, and the floor raised when it is newer than the floor.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

# The first release of each collection that ships the module.
# Source: each collection's changelogs/changelog.yaml, whose `modules:` entries name the modules a
# release added (github.com/ansible-collections/ansible.windows and .../community.windows).
# Modules that came from Ansible 2.9 are in each collection's first release, 0.2.0 (2020-07-18),
# and listed in no release's `modules:`.
FIRST_RELEASE = {
    "ansible.windows": {
        # ansible.windows 1.5.0: "modules: win_powershell - Run PowerShell scripts"
        "win_powershell": "1.5.0",
        # ansible.windows 2.6.0: "Includes various modules promoted from community.windows",
        # "modules: ... win_eventlog - Manage Windows event logs"
        "win_eventlog": "2.6.0",
        # From Ansible 2.9 (plugins of the first release, 0.2.0).
        "psrp": "0.2.0", "slurp": "0.2.0", "win_acl": "0.2.0", "win_acl_inheritance": "0.2.0",
        "win_command": "0.2.0", "win_copy": "0.2.0", "win_file": "0.2.0", "win_find": "0.2.0",
        "win_get_url": "0.2.0", "win_package": "0.2.0", "win_ping": "0.2.0", "win_reboot": "0.2.0",
        "win_reg_stat": "0.2.0", "win_regedit": "0.2.0", "win_service": "0.2.0",
        "win_service_info": "0.2.0", "win_stat": "0.2.0", "win_template": "0.2.0", "win_uri": "0.2.0",
        "win_user_right": "0.2.0",
        "win_wait_for": "0.2.0",
    },
    "community.windows": {
        # From Ansible 2.9 (community.windows 0.2.0, its first release).
        "win_eventlog_entry": "0.2.0", "win_file_version": "0.2.0", "win_firewall_rule": "0.2.0",
        "win_scheduled_task": "0.2.0",
    },
}
# Options the role passes that a module gained after its first release: the module's own
# DOCUMENTATION says so with `version_added` (ansible.windows: win_command argv in 1.11.0).
FQCN = re.compile(r"\b(ansible\.windows|community\.windows)\.([a-z0-9_]+)\b")


def version(text):
    return tuple(int(part) for part in text.split("."))


def floor(collection):
    with open(REPO / "galaxy.yml", encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["dependencies"][collection]
    return re.search(r">=\s*([0-9.]+)", spec).group(1)


def sources():
    for pattern in ("roles/**/*.yml", "playbooks/**/*.yml"):
        for path in sorted(glob.glob(str(REPO / pattern), recursive=True)):
            yield Path(path)


def used_modules():
    found = {}
    for path in sources():
        for collection, name in FQCN.findall(path.read_text(encoding="utf-8")):
            found.setdefault((collection, name), set()).add(str(path.relative_to(REPO)))
    return found


def test_the_scan_finds_the_windows_modules():
    used = used_modules()
    assert ("ansible.windows", "win_eventlog") in used
    assert ("community.windows", "win_firewall_rule") in used


@pytest.mark.parametrize("collection", sorted(FIRST_RELEASE))
def test_every_module_exists_in_the_oldest_allowed_release(collection):
    lowest = version(floor(collection))
    missing, newer = [], []
    for (owner, name), where in sorted(used_modules().items()):
        if owner != collection:
            continue
        first = FIRST_RELEASE[collection].get(name)
        if first is None:
            missing.append("%s.%s (%s)" % (owner, name, ", ".join(sorted(where))))
        elif version(first) > lowest:
            newer.append("%s.%s is in %s %s and later, galaxy.yml allows %s" % (owner, name, collection, first, floor(collection)))
    assert missing == [], "add these to FIRST_RELEASE, with the release that added them: %s" % missing
    assert newer == []


def installed_docs(collection, name):
    """The DOCUMENTATION of the installed module, or None where the collection is not installed."""
    try:
        import ansible_collections  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        return None
    namespace, package = collection.split(".")
    for root in __import__("ansible_collections").__path__:
        base = os.path.join(root, namespace, package, "plugins", "modules", name)
        if os.path.exists(base + ".py"):
            text = open(base + ".py", encoding="utf-8").read()
            match = re.search(r"DOCUMENTATION\s*=\s*r?('''|\"\"\")(.*?)\1", text, re.S)
            return yaml.safe_load(match.group(2)) if match else None
        if os.path.exists(base + ".yml"):
            with open(base + ".yml", encoding="utf-8") as handle:
                return yaml.safe_load(handle).get("DOCUMENTATION")
    return None


def module_options(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            match = FQCN.fullmatch(key)
            if match and isinstance(value, dict):
                found.setdefault(match.groups(), set()).update(value)
            module_options(value, found)
    elif isinstance(node, list):
        for item in node:
            module_options(item, found)
    return found


def test_every_option_the_role_passes_exists_in_the_oldest_allowed_release():
    found = {}
    for path in sources():
        try:
            module_options(yaml.safe_load(path.read_text(encoding="utf-8")), found)
        except yaml.YAMLError:
            continue  # !unsafe and other tags: no Windows module there
    checked, newer = 0, []
    for (collection, name), options in sorted(found.items()):
        docs = installed_docs(collection, name)
        if not docs:
            continue
        checked += 1
        for option in sorted(options):
            added = ((docs.get("options") or {}).get(option) or {}).get("version_added")
            if added and re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", str(added)) and version(str(added)) > version(floor(collection)):
                newer.append("%s.%s option %s is in %s %s and later" % (collection, name, option, collection, added))
    if not checked:
        pytest.skip("ansible.windows and community.windows are not installed here")
    assert newer == []
