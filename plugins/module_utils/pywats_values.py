# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Values the role computes from its options and from what a station reports.

Pure functions, used by the collection's filters (plugins/filter/), so that the
role's vars hold data and one-line calls, and each rule has unit tests of its own
(tests/unit/plugins/module_utils/test_pywats_values.py). docs/architecture.md says
where each is used.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import ntpath
import posixpath
import re

from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.parsing.convert_bool import boolean

# The converter a watch folder gets when it names none.
DEFAULT_CONVERTER = 'wats_json'
INOTIFY_KEYS = ('max_user_watches', 'max_user_instances')


def _text(value):
    return value if isinstance(value, str) else str(value)


def converters_config(watch_folders, converters, windows=False):
    """Each watch folder with every default filled in, in the shape of the client's config file.

    watch_folders: the role option pywats_client_watch_folders (path, and converter, name,
      module_path, done_folder, error_folder, pending_folder, enabled, file_patterns,
      post_action, arguments where set).
    converters: the role's converter table (name -> module_path, file_patterns).
    windows: Windows paths: '/' turned into '\\', trailing separators dropped (not the
      one of a drive root), folders default to <path>\\Done, \\Error and \\Pending.
    """
    out = []
    for wf in watch_folders:
        conv = converters.get(wf.get('converter', DEFAULT_CONVERTER)) or {}
        if windows:
            path = re.sub(r'(?<=.)\\+$', '', _text(wf['path']).replace('/', '\\'))
            sep, basename = '\\', ntpath.basename(path)

            def folder(key, default):
                return _text(wf[key]).replace('/', '\\') if key in wf else default
        else:
            path = re.sub('/+$', '', _text(wf['path']))
            sep, basename = '/', posixpath.basename(path)

            def folder(key, default):
                return wf[key] if key in wf else default
        out.append({
            'name': wf.get('name', basename),
            'module_path': wf.get('module_path') or conv.get('module_path', ''),
            'watch_folder': path,
            'done_folder': folder('done_folder', path + sep + 'Done'),
            'error_folder': folder('error_folder', path + sep + 'Error'),
            'pending_folder': folder('pending_folder', path + sep + 'Pending'),
            'converter_type': 'file',
            'enabled': boolean(wf.get('enabled', True), strict=False),
            'file_patterns': wf.get('file_patterns', conv.get('file_patterns', ['*.*'])),
            'post_action': wf.get('post_action', 'move'),
            'arguments': wf.get('arguments', {}),
        })
    return out


def pyside6_tier(wheels, arch, glibc):
    """The tier of wheels (from, glibc) a station of this CPU and glibc takes unpinned.

    wheels: the role's table, CPU -> tiers newest first, each {from, glibc}: from release
      `from` on the wheels need glibc `glibc` or newer.
    Returns the first tier the station's glibc satisfies, with `below`: the `from` of the
    tier above it ('' for the newest), so that the station's requirement is '<below'.
    {} when no tier fits, or the glibc is unknown ('').
    """
    above = ''
    for tier in wheels.get(arch) or []:
        if glibc and LooseVersion(_text(glibc)) >= LooseVersion(_text(tier['glibc'])):
            return dict(tier, below=above)
        above = tier['from']
    return {}


def pyside6_pin_glibc(wheels, arch, version):
    """The glibc a pinned PySide6 release's wheels need on this CPU ('' when no tier covers it)."""
    if not version:
        return ''
    for tier in wheels.get(arch) or []:
        if LooseVersion(_text(version)) >= LooseVersion(_text(tier['from'])):
            return tier['glibc']
    return ''


def inotify_raise(wanted, current):
    """The inotify limits (max_user_watches, max_user_instances) to raise: wanted above current."""
    return [key for key in INOTIFY_KEYS if int(wanted[key]) > int(current.get(key) or 0)]


def selinux_port_types(lines, port, generic=()):
    """The specific SELinux types `semanage port -l` gives this TCP port (in order, once each).

    Generic types (port_t, unreserved_port_t, ...) only say "some port of this range" and
    are left out, so an empty list means the port is unlabelled.
    """
    port, out = int(port), []
    for line in lines:
        fields = line.split(None, 2)
        if len(fields) != 3 or fields[1] != 'tcp' or fields[0] in generic:
            continue
        for part in fields[2].split(','):
            bounds = part.strip().split('-')
            if bounds[0].isdigit() and bounds[-1].isdigit() and int(bounds[0]) <= port <= int(bounds[-1]):
                if fields[0] not in out:
                    out.append(fields[0])
    return out


PATCH_TARGET = re.compile(r'(?m)^\+\+\+ ([^\t\r\n]+)')


def hotfix_set(version, fixes, patch_texts, enabled=True, skip=()):
    """The hotfix set of a client release as it applies on a station.

    fixes: the release's entries of the role's hotfix table, in order (id, file).
    patch_texts: the text of each entry's patch file, in the same order.
    Returns {'id': a SHA-256 over the release, each fix's id, whether it is on, and its
    patch's SHA-256 (another id means the files must be patched again), 'files': the
    files (relative to site-packages) the patches touch, in order, once each, 'patches':
    each fix as the module pywats_hotfix_set takes it (id, file, content, state)}.
    """
    parts, files, patches = [_text(version)], [], []
    for fix, text in zip(fixes, patch_texts):
        on = boolean(enabled, strict=False) and fix['id'] not in skip
        parts.append('%s %s %s' % (fix['id'], 'present' if on else 'absent',
                                   hashlib.sha256(text.encode('utf-8')).hexdigest()))
        patches.append({'id': fix['id'], 'file': fix['file'], 'content': text, 'state': 'present' if on else 'absent'})
        for target in PATCH_TARGET.findall(text):
            if target not in files:
                files.append(target)
    # Joined with a backslash and an n, as the role's Jinja did before: ids recorded on
    # stations by earlier releases stay valid, and an upgrade of the collection alone
    # does not patch every station again.
    return {'id': hashlib.sha256('\\n'.join(parts).encode('utf-8')).hexdigest(), 'files': files, 'patches': patches}


def wheel_platform_tags(platform, arch, glibc):
    """The wheel platform tags pip must be given (--platform) for one wheelhouse target.

    pip takes an explicit --platform literally: a Linux target lists every manylinux tag
    from its glibc down to 2.17, then manylinux2014, so that wheels built for older glibc
    versions qualify too; a Windows target has the one tag win_<arch>.
    """
    if platform == 'windows':
        return ['win_' + arch]
    minor = int(_text(glibc).split('.')[1])
    return ['manylinux_2_%d_%s' % (m, arch) for m in range(minor, 16, -1)] + ['manylinux2014_' + arch]


def wheel_file_pattern(arch):
    """A regular expression for the wheel files a Linux station of this CPU can install: pure
    Python wheels and manylinux, musllinux or linux wheels for the CPU."""
    return r'(-any|-(manylinux|musllinux|linux)[0-9a-z_.]*_%s)\.whl$' % re.escape(_text(arch))


def wheel_archive_name(arch):
    """The file name, in a wheelhouse, of the archive of the wheels for Linux stations of this CPU."""
    return 'pywats-wheels-linux-%s.tar' % _text(arch)


def mount_roots(paths, watch_folders):
    """The folders a container must bind-mount: each path (in order, once) that is not
    strictly inside one of the watch folders, which are mounted whole."""
    out = []
    for path in paths:
        inside = any(path != wf and path.startswith(wf + '/') for wf in watch_folders)
        if not inside and path not in out:
            out.append(path)
    return out


def manifest_digests(results):
    """arch -> digest from `docker manifest inspect --verbose` runs, one per platform
    (looped over linux/<arch> items); runs that failed are left out."""
    out = {}
    for result in results:
        if result.get('rc', 1) == 0:
            out[result['item'].split('/')[1]] = json.loads(result['stdout'])['Descriptor']['digest']
    return out


def manifest_list_entries(manifest):
    """The "<arch>@<digest>" entries of a manifest list, sorted ([] for none)."""
    entries = (manifest or {}).get('manifests') or []
    return sorted('%s@%s' % (e['platform']['architecture'], e['digest']) for e in entries)
