# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the client's venv holds, asked of the venv's own interpreter in one start.

Run by the role with ansible.builtin.script and the venv's python as the executable:
    venv_state.py CLIENT_PACKAGE PYSIDE6_PACKAGE
prints {"client": "<release>" or null, "pyside6": "<release>" or null}. Read-only.
"""
import json
import sys
from importlib import metadata


def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv):
    client, pyside6 = argv[1:3]
    print(json.dumps({"client": version(client), "pyside6": version(pyside6)}))


if __name__ == "__main__":
    main(sys.argv)
