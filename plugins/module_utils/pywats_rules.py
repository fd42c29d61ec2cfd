# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rules for the folders the role hands to the service account, and URL masking.

One rule set for both sides: the role's option checks call these functions on the
controller (through the collection's filters), where a path is only text, and the
preflight modules call them on the station, with each folder resolved there (every
symbolic link followed). Each function returns the exact message the role refuses an
input with, or None (an empty list) when the input is fine.

Pure functions: no Ansible imports, no file system access.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

# Folders the role would hand to the service account (owner, mode 0770) and that must
# never be one of these. Trees: the folder and everything below it belong to the
# operating system, or are hidden from the service by its sandbox (ProtectHome,
# PrivateTmp). Directories: the folder itself, while a directory of its own below it
# (/srv/pywats/inbox, /var/lib/factory/inbox) is fine.
SYSTEM_TREES = ('/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin',
                '/sys', '/usr')
HIDDEN_TREES = ('/home', '/root', '/tmp', '/var/tmp')
SYSTEM_DIRS = ('/', '/media', '/mnt', '/opt', '/srv', '/var', '/var/backups', '/var/cache', '/var/lib', '/var/local',
               '/var/log', '/var/mail', '/var/opt', '/var/spool')

# The folder keys of one watch folder, in the order their problems are reported.
FOLDER_KEYS = ('path', 'done_folder', 'error_folder', 'pending_folder')

# A URL's user information (user:password@): all up to the last @, so that a password
# holding '@', '/' or a line break stays hidden.
URL_USERINFO = re.compile(r'(?s)^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?.*@')

MODULE_PATH = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$')
# \Z, not $: a path that ends in a line break is not a path of its own.
POSIX_FOLDER = re.compile(r'^/[^\x00-\x1f\x7f]*\Z')
# D:\drop or D:/drop, or \\server\share\drop.
WIN_FOLDER = re.compile(r'^([A-Za-z]:[\\/]|[\\/]{2}[^\\/\x00-\x1f]+[\\/][^\\/\x00-\x1f]+)[^\x00-\x1f\x7f<>"|?*]*\Z')
WIN_DRIVE_ROOT_GIVEN = re.compile(r'^[A-Za-z]:[\\/]*\Z')
WIN_DRIVE_ROOT = re.compile(r'^[A-Za-z]:\\\Z')
WIN_ABSOLUTE = re.compile(r'^[A-Za-z]:\\[^\x00-\x1f\x7f<>"|?*]*[^\\\x00-\x1f\x7f]\Z')
WIN_OWN_DIR_REFUSED = re.compile(r'(?i)^[a-z]:\\(windows|program files|program files \(x86\)|programdata|users)?\Z')
WIN_PYTHON = re.compile(r'(?i)^[a-z]:\\.*\\python\.exe\Z')


def mask_userinfo(url):
    """The URL as a message may show it: its user information (user:password@) replaced by ***@."""
    text = url if isinstance(url, str) else str(url)
    return URL_USERINFO.sub(r'\1***@', text, count=1)


def split_userinfo(url):
    """{'url': the URL without its user information, 'userinfo': 'user:password' or ''}.

    As mask_userinfo reads it: everything up to the last @ of the authority part, so that a
    password holding '@' or '/' stays whole.
    """
    text = url if isinstance(url, str) else str(url)
    match = URL_USERINFO.match(text)
    if not match:
        return {'url': text, 'userinfo': ''}
    prefix = match.group(1) or ''
    return {'url': prefix + text[match.end():], 'userinfo': text[len(prefix):match.end() - 1]}


def join_userinfo(url, userinfo):
    """The URL with userinfo put back in front of its host (split_userinfo's inverse)."""
    if not userinfo:
        return url
    prefix = re.match(r'^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?', url).group(1) or ''
    return prefix + userinfo + '@' + url[len(prefix):]


def has_userinfo(url):
    """Whether the URL carries user information (user:password@host)."""
    return bool(URL_USERINFO.match(url))


def to_json(value):
    """A value as the messages quote it (as Ansible's to_json writes it)."""
    return json.dumps(value)


def systemd_quote(value, command=False):
    """One word for a systemd unit file, as systemd.syntax(7) and systemd.service(5) read it.

    Double-quoted so that spaces stay inside the word (unquoted, ReadWritePaths= splits a
    path at its space and ignores the pieces); backslash and double quote escaped with a
    backslash; '%' doubled, since specifiers are expanded in paths and command lines;
    with command=True (ExecStart=) '$' doubled too, since systemd expands variables there.
    Non-ASCII text is written as it is (unit files are UTF-8).
    """
    text = str(value).replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%')
    if command:
        text = text.replace('$', '$$')
    return '"%s"' % text


def _collapse(segments):
    """Path segments with '', '.' and '..' resolved; '..' never climbs above the top."""
    parts = []
    for seg in segments:
        if seg in ('', '.'):
            continue
        if seg != '..':
            parts.append(seg)
        elif parts:
            parts.pop()
    return parts


def posix_normpath(path):
    """A POSIX path resolved as the kernel would without links: '.', '..' and repeated slashes.

    /srv/.. is /, and /srv/pywats/../../etc is /etc. Always absolute: a relative path is
    read from /.
    """
    return '/' + '/'.join(_collapse(path.split('/')))


def posix_is_within(path, top):
    return path == top or path.startswith(top + '/')


def posix_folder_problem(option, value, reserved=(), owner='pywats', mode='0770', sandboxed=True, resolved=None,
                         system_trees=SYSTEM_TREES, hidden_trees=HIDDEN_TREES, system_dirs=SYSTEM_DIRS):
    """The message that refuses one folder of a Linux station, or None.

    option: what the message names, such as pywats_client_watch_folders[0].path.
    value: the path as given.
    reserved: the client's own directories, as dicts with path and what ('%s' in what
      takes the path); on the station, entries may also carry the directory resolved
      there as resolved.
    owner, mode: what the role makes each folder (named in the message for system
      directories).
    sandboxed: whether the service's unit hides /home, /root, /tmp and /var/tmp
      (ProtectHome, PrivateTmp); outside it (a container's bind mounts) these are
      refused only as themselves.
    resolved: where the folder resolves on the station (every symbolic link followed);
      None judges the text alone, as the controller does.
    system_trees, hidden_trees, system_dirs: the lists above; the station adds where each
      resolves there (a /home that is a link to /var/home hides /var/home as well).
    """
    if not isinstance(value, str) or not POSIX_FOLDER.match(value) or re.sub('/+$', '', value) == '':
        return ('%s must be an absolute path other than /, such as /srv/pywats/inbox; got %s.'
                % (option, to_json(value)))
    path = posix_normpath(value)
    if resolved is not None and resolved != path:
        path = resolved
        given = '%s, which resolves to %s on the station' % (to_json(value), resolved)
    else:
        given = to_json(value) + ((' (that is %s)' % path) if path != re.sub('(?<=.)/+$', '', value) else '')
    system_trees, hidden = tuple(system_trees), tuple(hidden_trees)
    trees = [top for top in system_trees + (hidden if sandboxed else ()) if posix_is_within(path, top)]
    clash = [d for d in reserved
             if any(posix_is_within(path, p) or p.startswith(path + '/') for p in reserved_paths(d))]
    if path in system_dirs or (not sandboxed and path in hidden):
        return ('%s must be a directory of its own, such as /srv/pywats/inbox, not the system directory %s '
                '(the role makes each watch folder owned by %s with mode %s); got %s.'
                % (option, path, owner, mode, given))
    if trees and trees[0] in system_trees:
        return ('%s must be outside %s, which belongs to the operating system; use a directory '
                'such as /srv/pywats/inbox; got %s.' % (option, trees[0], given))
    if trees:
        return ('%s must be outside %s, which the service cannot see (its unit sets ProtectHome=yes '
                'and PrivateTmp=yes); use a directory such as /srv/pywats/inbox; got %s.' % (option, trees[0], given))
    if clash:
        return ('%s must be outside %s and must not contain it; use a directory such as '
                '/srv/pywats/inbox; got %s.' % (option, clash[0]['what'] % posix_normpath(str(clash[0]['path'])), given))
    return None


def reserved_paths(entry):
    """The normalised path of a reserved directory, and where it resolves on the station when known."""
    paths = [posix_normpath(str(entry['path']))]
    if entry.get('resolved') and entry['resolved'] not in paths:
        paths.append(entry['resolved'])
    return paths


def module_path_problem(option, module_path):
    """The message that refuses a converter's module_path, or None (empty is fine: the converter's own)."""
    if module_path is None or len(module_path) == 0 or MODULE_PATH.match(str(module_path)):
        return None
    return ('%s must be a dotted class path such as mypackage.converters.MyConverter; got %s.'
            % (option, to_json(module_path)))


def folder_values(watch_folder):
    """(key, value) of the folders one watch folder names: its path always, the others when set."""
    return [(key, watch_folder.get(key, '')) for key in FOLDER_KEYS if key == 'path' or key in watch_folder]


# The client's config keys for a watch folder's folders, and the option keys they come from.
CONFIG_FOLDER_KEYS = (('watch_folder', 'path'), ('done_folder', 'done_folder'), ('error_folder', 'error_folder'),
                      ('pending_folder', 'pending_folder'))


def folder_options(converters, name='pywats_client_watch_folders'):
    """The folders of the client's converter configs (defaults filled in), each with the option it comes from."""
    return [{'option': '%s[%d].%s' % (name, index, key), 'path': converter[config_key]}
            for index, converter in enumerate(converters) for config_key, key in CONFIG_FOLDER_KEYS]


def posix_watch_folder_problems(watch_folders, reserved=(), owner='pywats', mode='0770', sandboxed=True,
                                name='pywats_client_watch_folders'):
    """Every message that refuses a watch folder of a Linux station, in order; [] when all are fine."""
    return _watch_folder_problems(watch_folders, name, lambda option, value: posix_folder_problem(
        option, value, reserved, owner, mode, sandboxed))


def win_normpath(path):
    """A Windows path with '/' as '\\' and '.', '..' and repeated separators resolved.

    The drive (D:) or the share (\\\\server\\share) stays as it is: D:\\WATS\\.. is D:\\.
    """
    path = path.replace('/', '\\')
    unc = path.startswith('\\\\')
    segs = path.lstrip('\\').split('\\')
    head = ('\\\\' + '\\'.join(segs[:2])) if unc else segs[0]
    return head + '\\' + '\\'.join(_collapse(segs[2:] if unc else segs[1:]))


def win_is_within(low, top):
    return low == top or low.startswith(top + '\\')


def win_folder_problem(option, value, system_trees=(), system_dirs=(), reserved=()):
    """The message that refuses one folder of a Windows station, or None. Case does not matter.

    system_trees: folders that, with everything below them, belong to Windows or to installed
      programs; system_dirs: folders refused only as themselves (a drive root always is);
      reserved: the client's own directories, as dicts with path and what.
    """
    path = win_normpath(value) if isinstance(value, str) else ''
    low = re.sub(r'\\$', '', path.lower())
    if isinstance(value, str) and path.lower() != re.sub(r'(?<=[^:])\\+$', '', value.replace('/', '\\').lower()):
        given = '%s (that is %s)' % (to_json(value), path)
    else:
        given = to_json(value)
    trees = [win_normpath(d).lower() for d in system_trees]
    dirs = [win_normpath(d).lower() for d in system_dirs]
    inside = [top for top in trees if win_is_within(low, top)]
    clash = []
    for entry in reserved:
        dir_path = win_normpath(str(entry['path']))
        if win_is_within(low, dir_path.lower()) or dir_path.lower().startswith(low + '\\'):
            clash.append((entry['what'], dir_path))
    if not isinstance(value, str) or not WIN_FOLDER.match(value) or WIN_DRIVE_ROOT_GIVEN.match(value):
        return ('%s must be an absolute Windows path other than a drive root, such as D:\\WATS\\drop '
                'or \\\\server\\share\\drop; got %s.' % (option, to_json(value)))
    if WIN_DRIVE_ROOT.match(path):
        return ('%s must be an absolute Windows path other than a drive root, such as D:\\WATS\\drop '
                'or \\\\server\\share\\drop; got %s.' % (option, given))
    if low in dirs:
        return ('%s must be a directory of its own, such as D:\\WATS\\drop, not the system directory %s '
                '(the service account gets Modify rights on each watch folder); got %s.' % (option, path, given))
    if inside:
        return ('%s must be outside %s, which belongs to Windows or to installed programs; use a directory '
                'such as D:\\WATS\\drop; got %s.' % (option, system_trees[trees.index(inside[0])], given))
    if clash:
        return ('%s must be outside %s and must not contain it; use a directory such as D:\\WATS\\drop; '
                'got %s.' % (option, clash[0][0] % clash[0][1], given))
    return None


def win_watch_folder_problems(watch_folders, system_trees=(), system_dirs=(), reserved=(),
                              name='pywats_client_watch_folders'):
    """Every message that refuses a watch folder of a Windows station, in order; [] when all are fine."""
    return _watch_folder_problems(watch_folders, name, lambda option, value: win_folder_problem(
        option, value, system_trees, system_dirs, reserved))


def _watch_folder_problems(watch_folders, name, folder_problem):
    """folder_problem(option, value) for each folder of each watch folder, then its module_path."""
    out = []
    for index, watch_folder in enumerate(watch_folders):
        at = '%s[%d]' % (name, index)
        for key, value in folder_values(watch_folder):
            problem = folder_problem('%s.%s' % (at, key), value)
            if problem:
                out.append(problem)
        problem = module_path_problem('%s.module_path' % at, watch_folder.get('module_path'))
        if problem:
            out.append(problem)
    return out


def win_own_dir_problem(option, value):
    """The message that refuses a directory the role installs into on Windows (install dir, venv), or None."""
    if not isinstance(value, str) or not WIN_ABSOLUTE.match(value) or WIN_OWN_DIR_REFUSED.match(value):
        return ('%s must be an absolute Windows path of a directory of its own, such as C:\\Program Files\\pyWATS; '
                'got %s.' % (option, to_json(value)))
    return None


def win_python_path_problem(option, value):
    """The message that refuses the python.exe the venv is built from on Windows, or None (empty: found there)."""
    if len(value) > 0 and not WIN_PYTHON.match(value):
        return ('%s must be empty (find one) or the full path of a python.exe, such as '
                'C:\\Program Files\\Python312\\python.exe; got %s.' % (option, to_json(value)))
    return None
