# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's venv on a Linux station, read from its files: its site-packages, the
releases installed in it, and the hotfix state the role records in it. Shared by the
modules pywats_station_state (reads) and pywats_hotfix_set (applies and records), so
that what one records is what the other reads."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import hashlib
import json
import os
import re

CHUNK = 1024 * 1024
# Hunk lines of a unified diff: context, added and removed lines, but not the ---/+++ headers.
HUNK_LINE = re.compile(r'^((?![-+]{3} )[ +-].*)$', re.M)


def digest(path, algorithm='sha256'):
    hasher = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            hasher.update(block)
    return hasher.hexdigest()


def venv_version(venv_dir):
    """'3.11' from the venv's pyvenv.cfg, or None."""
    try:
        with open(os.path.join(venv_dir, 'pyvenv.cfg')) as handle:
            text = handle.read()
    except (IOError, OSError):
        return None
    match = re.search(r'^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)', text, re.M)
    return '%s.%s' % match.groups() if match else None


def venv_purelib(venv_dir):
    """The venv's site-packages: lib/pythonX.Y/site-packages for the version pyvenv.cfg names."""
    version = venv_version(venv_dir)
    if version:
        path = os.path.join(venv_dir, 'lib', 'python' + version, 'site-packages')
        if os.path.isdir(path):
            return path
    found = sorted(glob.glob(os.path.join(venv_dir, 'lib', 'python3*', 'site-packages')))
    return found[-1] if found else None


def canonical(name):
    """A distribution name as PEP 503 compares them."""
    return re.sub(r'[-_.]+', '-', name).lower()


def installed_versions(purelib, names):
    """The release of each distribution in names installed in purelib (None when it is not), from its METADATA."""
    wanted = {}
    for name in names:
        wanted.setdefault(canonical(name), []).append(name)
    versions = dict((name, None) for name in names)
    if not purelib or not wanted or not os.path.isdir(purelib):
        return versions
    for entry in sorted(os.listdir(purelib)):
        if not entry.endswith('.dist-info'):
            continue
        name = version = None
        try:
            with open(os.path.join(purelib, entry, 'METADATA'), 'rb') as handle:
                for raw in handle:
                    line = raw.decode('utf-8', 'replace').rstrip('\r\n')
                    if not line:
                        break
                    if line.startswith('Name:'):
                        name = line[5:].strip()
                    elif line.startswith('Version:'):
                        version = line[8:].strip()
        except (IOError, OSError):
            continue
        if name and canonical(name) in wanted and version:
            for asked in wanted[canonical(name)]:
                versions[asked] = version
    return versions


def read_hotfix_state(purelib, state_file):
    """The recorded hotfix set id and whether every file it patched still has its recorded SHA-256."""
    try:
        with open(state_file) as handle:
            state = json.load(handle)
    except (IOError, OSError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    files = state.get('files') or {}
    ok = bool(files) and bool(purelib)
    if ok:
        for rel, value in files.items():
            try:
                if value is None or digest(os.path.join(purelib, rel)) != value:
                    ok = False
                    break
            except (IOError, OSError):
                ok = False
                break
    return dict(set=state.get('set'), files_ok=ok)


def hotfix_state_text(purelib, set_id, files):
    """The hotfix state record: the set id and the SHA-256 of each file (relative to purelib) as it is now."""
    sums = {}
    for rel in files:
        try:
            sums[rel] = digest(os.path.join(purelib, rel))
        except (IOError, OSError):
            sums[rel] = None
    return json.dumps({'set': set_id, 'files': sums}, indent=1, sort_keys=True) + '\n'


def with_crlf_hunks(patch_text):
    """A patch kept with LF line endings, with CR given back to its hunk lines: the upstream
    files it patches have CRLF line endings, and GNU patch refuses hunks whose endings differ."""
    return HUNK_LINE.sub(lambda m: m.group(1) + '\r', patch_text)
