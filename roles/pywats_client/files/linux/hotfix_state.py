# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hotfix state recorded in the client's venv, run with the venv's own interpreter.

    hotfix_state.py read STATE_FILE
        prints {"purelib": site-packages, "set": the recorded set id or null,
        "files_ok": whether every recorded file still has its recorded SHA-256}. Read-only.
    hotfix_state.py record STATE_FILE SET_ID FILE...
        records the set id and the SHA-256 of each FILE (relative to site-packages) as
        they are now, atomically, mode 0644; prints "changed" or "unchanged".
"""
import hashlib
import json
import os
import sys
import sysconfig


def purelib():
    return sysconfig.get_paths()["purelib"]


def digest(base, rel):
    try:
        with open(os.path.join(base, rel), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def read(path):
    try:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    base = purelib()
    files = state.get("files") or {}
    ok = bool(files) and all(value is not None and digest(base, rel) == value for rel, value in files.items())
    return {"purelib": base, "set": state.get("set"), "files_ok": ok}


def record(path, set_id, files):
    base = purelib()
    text = json.dumps({"set": set_id, "files": {rel: digest(base, rel) for rel in files}},
                      indent=1, sort_keys=True) + "\n"
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return "unchanged"
    except OSError:
        pass
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)
    return "changed"


def main(argv):
    if len(argv) >= 3 and argv[1] == "read":
        print(json.dumps(read(argv[2])))
    elif len(argv) >= 4 and argv[1] == "record":
        print(record(argv[2], argv[3], argv[4:]))
    else:
        sys.exit("usage: hotfix_state.py read STATE_FILE | record STATE_FILE SET_ID FILE...")


if __name__ == "__main__":
    main(sys.argv)
