#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pywats_station_state
short_description: Read in one run everything the pywats_client role decides on for a Linux station
version_added: 0.1.0
description:
  - Reads, without changing anything, the state of a Linux station that the
    P(virinco.pywats.pywats_client#role) role compares with what it wants, namely which OS packages are
    installed, the service account and group, the owner, group, mode and checksum of the files and
    directories the role manages, what the client's venv holds, the hotfix state recorded in it,
    the systemd version and the service's state.
  - Each path is compared with what is wanted and comes back with C(ok); the role runs a task only
    for what differs, so a converged station costs one module run for all of it.
  - The venv is read from its files (C(pyvenv.cfg), the C(.dist-info) metadata in site-packages),
    without starting its interpreter.
author:
  - virinco.pywats contributors (@virinco)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: The module never changes the target, so check mode reads the same state.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in diff_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  packages:
    description: OS packages to look up in the package database.
    type: list
    elements: str
    default: []
  package_manager:
    description:
      - How to read the package database. V(apt) asks C(dpkg-query); V(dnf), V(yum) and V(zypper) ask C(rpm).
    type: str
    choices: [apt, dnf, yum, zypper]
    default: apt
  user:
    description: The service account to read from the account database.
    type: str
  group:
    description: The service group to read from the group database.
    type: str
  paths:
    description: Files and directories to read and compare with what is wanted.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      type:
        description: The type wanted.
        type: str
        choices: [directory, file]
        default: file
      follow:
        description: Follow a symbolic link at O(paths[].path) itself; without it a link is never what is wanted.
        type: bool
        default: false
      owner:
        description: Owner wanted (name).
        type: str
      group:
        description: Group wanted (name).
        type: str
      mode:
        description:
          - Mode wanted, octal (V(0750) or V(750)). A symbolic mode cannot be compared and never counts as C(ok).
        type: str
      checksum:
        description: SHA-1 of the content wanted (files only).
        type: str
  venv:
    description: The client's venv to read.
    type: dict
    suboptions:
      dir:
        description: The venv directory.
        type: path
        required: true
      packages:
        description: Distribution names whose installed release to report.
        type: list
        elements: str
        default: []
      hotfix_state:
        description: File name, inside the venv, of the hotfix state the role records.
        type: str
  service:
    description: The systemd service (without C(.service)) whose state to read.
    type: str
  service_enabled:
    description: Whether the service is wanted enabled; not compared when unset.
    type: bool
  service_state:
    description:
      - The run state wanted. V(started) is C(ActiveState=active); V(stopped) is C(inactive) or C(failed);
        not compared when unset.
    type: str
    choices: [started, stopped]
notes:
  - Reads only; it never changes the station, in check mode or not.
seealso:
  - module: virinco.pywats.pywats_preflight
'''

EXAMPLES = r'''
- name: Read the station's state in one module run
  virinco.pywats.pywats_station_state:
    packages: [python3-venv, libglib2.0-0]
    package_manager: apt
    user: pywats
    group: pywats
    paths:
      - {path: /var/lib/pywats, type: directory, follow: true, owner: pywats, group: pywats, mode: "0750"}
      - {path: /etc/systemd/system/pywats-client.service, owner: root, group: root, mode: "0644",
         checksum: "{{ lookup('ansible.builtin.template', 'pywats-client.service.j2') | hash('sha1') }}"}
    venv:
      dir: /opt/pywats/venv
      packages: [pywats-api, PySide6-Essentials]
      hotfix_state: pywats-hotfix-state.json
    service: pywats-client
  register: station_state
'''

RETURN = r'''
packages:
  description: Each package asked for, with whether it is installed.
  returned: always
  type: dict
  sample: {"python3-venv": true, "libglib2.0-0": false}
apt_lists_age:
  description:
    - Seconds since the apt package lists were last refreshed (C(/var/lib/apt/periodic/update-success-stamp),
      else the lists directory, as M(ansible.builtin.apt)'s O(ansible.builtin.apt#module:cache_valid_time) reads them);
      null when there are no lists.
  returned: when O(package_manager) is V(apt)
  type: int
  sample: 812
packages_missing:
  description: The packages asked for that are not installed, in the order asked.
  returned: always
  type: list
  elements: str
  sample: [libglib2.0-0]
user:
  description: The service account, when O(user) was given.
  returned: when O(user) is given
  type: dict
  sample: {"exists": true, "uid": 998, "group": "pywats", "home": "/var/lib/pywats", "shell": "/usr/sbin/nologin"}
group:
  description: The service group, when O(group) was given.
  returned: when O(group) is given
  type: dict
  sample: {"exists": true, "gid": 998}
paths:
  description:
    - Each path asked for, with what it is now and C(ok) when it is what is wanted.
    - C(type) is V(directory), V(file), V(link), V(other) or V(absent).
  returned: always
  type: dict
  sample:
    /var/lib/pywats: {"exists": true, "type": "directory", "owner": "pywats", "group": "pywats",
                      "mode": "0750", "checksum": null, "ok": true}
paths_drifted:
  description: The paths asked for that are not what is wanted, in the order asked.
  returned: always
  type: list
  elements: str
venv:
  description:
    - The venv, when O(venv) was given. C(python) is whether its interpreter exists; C(purelib) its
      site-packages; C(versions) the release of each package asked for (null when not installed);
      C(hotfix) the recorded hotfix set id and whether every file it patched still has its
      recorded SHA-256.
  returned: when O(venv) is given
  type: dict
  sample: {"python": true, "purelib": "/opt/pywats/venv/lib/python3.11/site-packages",
           "versions": {"pywats-api": "0.6.0rc1", "PySide6-Essentials": "6.10.1"},
           "hotfix": {"set": "0.6.0rc1:...", "files_ok": true}}
service:
  description:
    - Properties of the service that C(systemctl show) prints, when O(service) was given, and C(ok) when
      systemd knows the unit, needs no daemon reload, and the unit is enabled (or not) and running (or not)
      as O(service_enabled) and O(service_state) want.
  returned: when O(service) is given
  type: dict
  sample: {"LoadState": "loaded", "ActiveState": "active", "SubState": "running", "UnitFileState": "enabled",
           "NeedDaemonReload": "no", "ok": true}
'''

import grp
import os
import pwd
import re
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_venv as venv

SERVICE_PROPERTIES = ('LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload')


def name_of_uid(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def name_of_gid(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def octal_mode(text):
    """'0750', '750' or '2775' as an int; None for a symbolic or empty mode."""
    text = (text or '').strip()
    if re.match(r'^0?[0-7]{3,4}$', text):
        return int(text, 8)
    return None


def read_path(spec, lstat=os.lstat, stat_=os.stat):
    """What one path is now, compared with spec (see the module's paths option)."""
    path = spec['path']
    found = dict(exists=False, type='absent', owner=None, group=None, mode=None, checksum=None, ok=False)
    try:
        info = stat_(path) if spec.get('follow') else lstat(path)
    except OSError:
        return found
    if stat.S_ISDIR(info.st_mode):
        kind = 'directory'
    elif stat.S_ISREG(info.st_mode):
        kind = 'file'
    elif stat.S_ISLNK(info.st_mode):
        kind = 'link'
    else:
        kind = 'other'
    found.update(exists=True, type=kind, owner=name_of_uid(info.st_uid), group=name_of_gid(info.st_gid),
                 mode='%04o' % stat.S_IMODE(info.st_mode))
    if kind == 'file' and spec.get('checksum'):
        try:
            found['checksum'] = venv.digest(path, 'sha1')
        except (IOError, OSError):
            found['checksum'] = None
    found['ok'] = path_ok(spec, found)
    return found


def path_ok(spec, found):
    """True when the path is what spec wants: type, owner, group, mode and checksum."""
    if found['type'] != (spec.get('type') or 'file'):
        return False
    if spec.get('owner') and found['owner'] != spec['owner']:
        return False
    if spec.get('group') and found['group'] != spec['group']:
        return False
    if spec.get('mode'):
        wanted = octal_mode(spec['mode'])
        if wanted is None or int(found['mode'], 8) != wanted:
            return False
    if spec.get('checksum') and found['checksum'] != spec['checksum'].lower():
        return False
    return True


def parse_dpkg(text, names):
    """dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' output: installed means status 'ii'."""
    installed = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith('ii'):
            installed.add(parts[0].split(':')[0])
    return dict((name, name.split(':')[0] in installed) for name in names)


def parse_rpm(text, names):
    """rpm -q --qf '%{NAME}\\n' NAMES output: a package that is not installed prints a 'not installed' line."""
    installed = set(line.strip() for line in text.splitlines() if line.strip() and ' ' not in line.strip())
    return dict((name, name in installed) for name in names)


def read_packages(module, names, manager):
    if not names:
        return {}
    if manager == 'apt':
        cmd = ['dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}\n'] + list(names)
        parse = parse_dpkg
    else:
        cmd = ['rpm', '-q', '--qf', '%{NAME}\n'] + list(names)
        parse = parse_rpm
    tool = module.get_bin_path(cmd[0])
    if tool is None:
        return dict((name, False) for name in names)
    cmd[0] = tool
    _rc, out, _err = module.run_command(cmd, environ_update=dict(LC_ALL='C'))
    return parse(out, names)


APT_STAMP = '/var/lib/apt/periodic/update-success-stamp'
APT_LISTS = '/var/lib/apt/lists'


def apt_lists_age(now=None, stamp=APT_STAMP, lists=APT_LISTS):
    """Seconds since apt's lists were refreshed, as the apt module's cache_valid_time reads it
    (the success stamp, else the lists directory); None when there are no package lists."""
    try:
        names = os.listdir(lists)
    except OSError:
        return None
    if not [n for n in names if re.search(r'_Packages(\.[a-z0-9]+)?$', n)]:
        return None
    for path in (stamp, lists):
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        return max(0, int((time.time() if now is None else now) - mtime))
    return None


def read_user(name, getpwnam=pwd.getpwnam, getgrgid=grp.getgrgid):
    try:
        entry = getpwnam(name)
    except KeyError:
        return dict(exists=False)
    try:
        group = getgrgid(entry.pw_gid).gr_name
    except KeyError:
        group = str(entry.pw_gid)
    return dict(exists=True, uid=entry.pw_uid, group=group, home=entry.pw_dir, shell=entry.pw_shell)


def read_group(name, getgrnam=grp.getgrnam):
    try:
        return dict(exists=True, gid=getgrnam(name).gr_gid)
    except KeyError:
        return dict(exists=False)


def read_venv(spec):
    venv_dir = spec['dir']
    purelib = venv.venv_purelib(venv_dir)
    result = dict(python=os.path.exists(os.path.join(venv_dir, 'bin', 'python')), purelib=purelib,
                  versions=venv.installed_versions(purelib, spec.get('packages') or []))
    if spec.get('hotfix_state'):
        result['hotfix'] = venv.read_hotfix_state(purelib, os.path.join(venv_dir, spec['hotfix_state']))
    return result


def service_ok(props, enabled=None, state=None):
    """True when systemd knows the unit, needs no reload, and it is enabled and running as wanted."""
    if props.get('LoadState') != 'loaded' or props.get('NeedDaemonReload') == 'yes':
        return False
    if enabled is not None and (props.get('UnitFileState') in ('enabled', 'enabled-runtime')) != enabled:
        return False
    if state == 'started' and props.get('ActiveState') != 'active':
        return False
    if state == 'stopped' and props.get('ActiveState') not in ('inactive', 'failed'):
        return False
    return True


def parse_show(text):
    props = {}
    for line in (text or '').splitlines():
        if '=' in line:
            key, value = line.split('=', 1)
            props[key] = value
    return props


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=[]),
            package_manager=dict(type='str', choices=['apt', 'dnf', 'yum', 'zypper'], default='apt'),
            user=dict(type='str'),
            group=dict(type='str'),
            paths=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                type=dict(type='str', choices=['directory', 'file'], default='file'),
                follow=dict(type='bool', default=False),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='str'),
                checksum=dict(type='str'),
            )),
            venv=dict(type='dict', options=dict(
                dir=dict(type='path', required=True),
                packages=dict(type='list', elements='str', default=[]),
                hotfix_state=dict(type='str'),
            )),
            service=dict(type='str'),
            service_enabled=dict(type='bool'),
            service_state=dict(type='str', choices=['started', 'stopped']),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False)

    packages = read_packages(module, params['packages'], params['package_manager'])
    result['packages'] = packages
    result['packages_missing'] = [name for name in params['packages'] if not packages.get(name)]
    if params['package_manager'] == 'apt':
        result['apt_lists_age'] = apt_lists_age()
    if params['user']:
        result['user'] = read_user(params['user'])
    if params['group']:
        result['group'] = read_group(params['group'])

    paths = {}
    for spec in params['paths']:
        paths[spec['path']] = read_path(spec)
    result['paths'] = paths
    result['paths_drifted'] = [spec['path'] for spec in params['paths'] if not paths[spec['path']]['ok']]

    if params['venv']:
        result['venv'] = read_venv(params['venv'])

    systemctl = module.get_bin_path('systemctl')
    if params['service']:
        result['service'] = {}
        if systemctl:
            _rc, out, _err = module.run_command(
                [systemctl, 'show', params['service'] + '.service', '--property=' + ','.join(SERVICE_PROPERTIES)],
                environ_update=dict(LC_ALL='C'))
            result['service'] = parse_show(out)
        result['service']['ok'] = service_ok(result['service'], params['service_enabled'], params['service_state'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
