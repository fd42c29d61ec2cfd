#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pywats_preflight
short_description: Check, without changing anything, that a Linux station can run the pyWATS client
version_added: 0.1.0
description:
  - Runs read-only checks on a Linux test station before the pyWATS client is installed on it.
  - Each check reports a name, whether it passed, its severity, a detail and a remedy.
  - "The module fails when a check of severity C(error) fails, with one message that lists every failed
    error check as C(name: detail. Remedy: remedy), joined by C(; ). Warnings never fail it."
  - Network checks contact only the host of O(server_url), or the proxy when one applies to it.
author:
  - virinco.pywats contributors (@virinco)
requirements:
  - Python 3.9 or newer on the target (older than the client needs, so that this module can say so).
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: The module never changes the target, so check mode runs the same checks.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in diff_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  python:
    description: Interpreter the client's venv will be built from.
    type: path
    default: /usr/bin/python3
  python_package:
    description:
      - OS package that provides O(python) and that the role installs after preflight, such as V(python3.11) on RHEL 9.
      - When set and O(python) does not exist yet, the C(python) check passes and says which package will provide it;
        the caller must check the interpreter's version once the package is installed.
    type: str
  python_min:
    description: Oldest Python version the client supports.
    type: str
    default: '3.10'
  state_dir:
    description: The client's state directory (config, upload queue). Need not exist yet.
    type: path
    default: /var/lib/pywats
  venv_dir:
    description: Where the client's venv goes. Need not exist yet.
    type: path
    default: /opt/pywats/venv
  watch_folders:
    description: Converter watch folders. Need not exist yet.
    type: list
    elements: path
    default: []
  folders:
    description:
      - Folders the role hands to the service account (each watch folder and its done, error and pending folders),
        each with the option it comes from. Need not exist yet.
      - The C(folders) check resolves each on the target, following every symbolic link (a part of the path that
        does not exist yet is taken as written, below where its existing part resolves), and applies the rules of
        the role's option checks to where it resolves. It fails for a folder that resolves to a system directory,
        into a tree of the operating system or one the service's sandbox hides, or into, onto or around one of
        O(reserved_dirs), naming the option, the path given and where it resolves.
      - The check runs whenever folders are given and cannot be skipped. RV(facts.folders) says where each resolves.
    type: list
    elements: dict
    default: []
    suboptions:
      option:
        description: The option the folder comes from, as the messages name it, such as C(pywats_client_watch_folders[0].path).
        type: str
        required: true
      path:
        description: The folder, as given.
        type: str
        required: true
  reserved_dirs:
    description:
      - Directories of the client that no folder of O(folders) may resolve into, onto or around, whether as written or
        as they resolve on the target.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: str
        required: true
      what:
        description: How the message names it, with C(%s) for its path, such as C(the client's state directory %s).
        type: str
        required: true
  folder_owner:
    description: The account the role makes each folder owned by, as the message for a system directory names it.
    type: str
    default: pywats
  folder_mode:
    description: The mode the role gives each folder, as the message for a system directory names it.
    type: str
    default: '0770'
  sandboxed:
    description:
      - Whether the service runs in a unit that hides C(/home), C(/root), C(/tmp) and C(/var/tmp) (C(ProtectHome),
        C(PrivateTmp)), so that no folder may resolve into them.
    type: bool
    default: true
  min_free_mb_state:
    description: Free space, in MiB, needed on the filesystem of O(state_dir).
    type: int
    default: 200
  min_free_mb_venv:
    description: Free space, in MiB, needed on the filesystem of O(venv_dir) (PySide6 alone takes about 250 MB).
    type: int
    default: 600
  min_free_mb_watch:
    description:
      - Free space, in MiB, needed on the filesystem of each watch folder.
      - Paths on the same filesystem add up their needs.
    type: int
    default: 100
  server_url:
    description:
      - Base URL of the WATS server, C(http://) or C(https://).
      - When empty, the checks C(server_dns), C(server_tcp), C(server_tls), C(server_api) and C(clock_skew) are skipped.
      - Must not carry credentials (C(user:password@)); the client authenticates with O(api_token) only.
    type: str
  api_token:
    description:
      - "Token sent as C(Authorization: Basic <token>) on the version call, as the client sends it."
    type: str
  ca_bundle:
    description:
      - CA certificates to verify the server's certificate with, instead of the system store.
      - Either the path of a PEM file on the target or the PEM text itself (so that a CA not yet
        installed on the target can be checked before anything changes).
    type: str
  validate_certs:
    description: Verify the server's certificate. Set to V(false) only for a test server.
    type: bool
    default: true
  proxy:
    description:
      - HTTP proxy, as C(http://host:port), for the server calls.
      - When empty, C(HTTPS_PROXY), C(HTTP_PROXY) and C(ALL_PROXY) from the environment apply, as for the client.
      - With a proxy, C(server_dns) and C(server_tcp) check the way to the proxy, and C(server_tls) tunnels
        through it with C(CONNECT).
      - Without credentials, which go in O(proxy_userinfo), never shown in results. A URL shown in a
        result has its user information masked as C(***@), the rest readable.
    type: str
  proxy_userinfo:
    description:
      - The proxy's credentials, C(user:password), as they stand before C(@) in a proxy URL; sent as
        C(Proxy-Authorization).
    type: str
  no_proxy:
    description:
      - Hosts or domains reached without the proxy. When empty, C(NO_PROXY) from the environment applies.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each network step.
    type: int
    default: 10
  max_clock_skew:
    description: Largest difference, in seconds, between the local clock and the server's C(Date) header.
    type: int
    default: 300
  health_port:
    description:
      - TCP port of the client's health server, bound on all addresses. Not checked when omitted.
      - A port held by a process of the O(service_name) unit counts as free.
    type: int
  service_name:
    description: Name of the client's systemd unit, without C(.service).
    type: str
    default: pywats-client
  inotify_min_watches:
    description: Lowest acceptable C(fs.inotify.max_user_watches).
    type: int
    default: 524288
  inotify_min_instances:
    description: Lowest acceptable C(fs.inotify.max_user_instances).
    type: int
    default: 512
  needs_pyside6:
    description:
      - Whether the client version to install imports PySide6 (0.5 and later do, even headless).
      - Enables the C(glibc) check.
    type: bool
    default: true
  glibc_min:
    description:
      - Oldest glibc that the PySide6-Essentials wheels for this station's architecture run on
        (V(2.34) for x86_64, V(2.31) for aarch64, as the role passes them).
    type: str
    default: '2.34'
  architectures:
    description:
      - CPU architectures the client can be installed on, as C(uname -m) names them.
      - The C(architecture) check compares the architecture of the target's userland with this list.
      - A 32-bit userland on a 64-bit ARM kernel (32-bit Raspberry Pi OS on a Pi 4 or 5) counts as C(armv8l),
        as pip sees it, not as the kernel's C(aarch64).
    type: list
    elements: str
    default: [x86_64, aarch64]
  selinux_manage:
    description: Whether the role will manage SELinux labels. When V(false), an enforcing SELinux is a warning.
    type: bool
    default: false
  index_url:
    description:
      - Package index (PEP 503 simple API) that pip will install from, such as V(https://pypi.org/simple).
      - When set, the C(package_index) check asks it for O(index_package) through the proxy that applies.
        Leave it unset for installs that need no index (a wheelhouse or an OS package).
      - Without credentials, which go in O(index_userinfo). A URL shown in a result has its user information
        masked as C(***@), the rest readable.
    type: str
  index_userinfo:
    description:
      - The index's credentials, C(user:token), as they stand before C(@) in the URL pip takes; sent as HTTP
        basic authentication, never shown in a result.
    type: str
  index_package:
    description: Package the C(package_index) check asks the index for.
    type: str
    default: pywats-api
  remedy_notes:
    description:
      - Platform-specific advice appended to the remedy of a failed check, by check name.
      - "For example C({glibc: RHEL 8 ships glibc 2.28}) on RHEL 8."
    type: dict
    default: {}
  skip:
    description: Checks not to run. They are listed under RV(summary.skipped).
    type: list
    elements: str
    default: []
    choices: [architecture, python, privileges, init_system, disk_space, server_dns, server_tcp, server_tls, server_api,
              clock_skew, health_port, inotify, glibc, selinux, package_index]
notes:
  - The C(folders) check runs first, and only when O(folders) are given.
  - Server checks run in order; after one fails, the ones that depend on it are skipped.
    C(server_tls) runs only for C(https://) URLs, and C(clock_skew) only when the server answered.
  - The client does not follow redirects, so neither does C(server_api).
'''

EXAMPLES = r'''
- name: Check the station before installing anything
  virinco.pywats.pywats_preflight:
    python: /usr/bin/python3.11
    server_url: https://wats.example.com
    api_token: "{{ pywats_client_api_token }}"
    watch_folders:
      - /srv/wats/drop
    folders:
      - {option: "pywats_client_watch_folders[0].path", path: /srv/wats/drop}
      - {option: "pywats_client_watch_folders[0].done_folder", path: /srv/wats/drop/Done}
    reserved_dirs:
      - {path: /var/lib/pywats, what: "the client's state directory %s"}
    health_port: 8080
  become: true

- name: Check behind a proxy with a private CA, without the server API call
  virinco.pywats.pywats_preflight:
    server_url: https://wats.example.com
    proxy: http://proxy.example.com:3128
    no_proxy: [localhost, .lab.example.com]
    ca_bundle: /etc/pki/tls/certs/corp-ca.pem
    skip: [server_api, clock_skew]
  become: true

- name: Only report, never fail, so that a later task can decide
  virinco.pywats.pywats_preflight:
    needs_pyside6: false
  register: __pywats_client_preflight
  failed_when: false
'''

RETURN = r'''
checks:
  description: Every check that ran, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name, as used by O(skip).
      type: str
      sample: python
    ok:
      description: Whether the check passed.
      type: bool
      sample: false
    severity:
      description: What a failure means. C(error) fails the module; C(warning) does not.
      type: str
      sample: error
    detail:
      description: What was found.
      type: str
      sample: /usr/bin/python3 is Python 3.9.2, the client needs 3.10 or newer
    remedy:
      description: How to fix a failure; empty when the check passed.
      type: str
      sample: Install Python 3.10 or newer and set pywats_client_python to its path
summary:
  description: Counts of the results.
  returned: always
  type: dict
  contains:
    errors:
      description: Failed checks of severity C(error).
      type: int
      sample: 1
    warnings:
      description: Failed checks of severity C(warning).
      type: int
      sample: 0
    passed:
      description: Checks that passed.
      type: int
      sample: 9
    skipped:
      description: Checks not run, by O(skip), for lack of O(server_url) or O(health_port), or after a failed prerequisite.
      type: list
      elements: str
      sample: [server_tls, health_port]
facts:
  description: What the checks found; a value is null when the check that reads it did not run.
  returned: always
  type: dict
  contains:
    architecture:
      description: CPU architecture of the target's userland, as pip names it (C(uname -m), 32-bit userlands mapped).
      type: str
      sample: aarch64
    python_version:
      description: Version of O(python).
      type: str
      sample: 3.11.2
    glibc_version:
      description: Version of the GNU C library, null without one.
      type: str
      sample: '2.36'
    selinux_mode:
      description: C(enforcing), C(permissive) or C(disabled).
      type: str
      sample: disabled
    inotify:
      description: C(max_user_watches) and C(max_user_instances).
      type: dict
      sample: {max_user_watches: 524288, max_user_instances: 128}
    free_mb:
      description: Free MiB on the filesystem of each checked path, or of its nearest existing parent.
      type: dict
      sample: {/var/lib/pywats: 20480, /opt/pywats/venv: 20480}
    server_version:
      description: What the server's C(/api/App/Version) answered.
      type: str
      sample: 24.2.0
    clock_skew_seconds:
      description: Local clock minus the server's C(Date) header.
      type: int
      sample: -2
    folders:
      description:
        - Each folder of O(folders), with where it resolves on the target (every symbolic link followed), in the
          order given. Empty when no folders were given.
        - The role creates and hands over the resolved folders, never following a link itself.
      type: list
      elements: dict
      sample: [{option: "pywats_client_watch_folders[0].path", path: /srv/in, resolved: /data/in}]
'''

import base64
import errno
import json
import os
import platform
import re
import socket
import ssl
import struct
import time
from email.utils import mktime_tz, parsedate_tz

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib import request as urllib_request
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import unquote, urlsplit

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_rules as rules

CHECKS = (
    ('architecture', 'error'), ('python', 'error'), ('privileges', 'error'), ('init_system', 'error'), ('disk_space', 'error'),
    ('server_dns', 'error'), ('server_tcp', 'error'), ('server_tls', 'error'), ('server_api', 'error'),
    ('clock_skew', 'warning'), ('health_port', 'error'), ('inotify', 'warning'), ('glibc', 'error'),
    ('selinux', 'warning'), ('package_index', 'error'),
)
CHECK_NAMES = [name for name, severity in CHECKS]
SERVER_CHECKS = ('server_dns', 'server_tcp', 'server_tls', 'server_api', 'clock_skew')
# Not among CHECKS: it cannot be skipped, and runs only when folders are given.
FOLDER_CHECK = 'folders'
SEVERITY = dict(CHECKS + ((FOLDER_CHECK, 'error'),))
PY_PROBE = 'import sys; print(".".join(str(v) for v in sys.version_info[:3]))'
# Any URL's user information inside a longer text, such as an exception's message.
TEXT_USERINFO = re.compile(r'([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@')
MIB = 1024 * 1024


def redact_url(url):
    """The URL as messages may show it: its user information (user:password@) masked."""
    return rules.mask_userinfo(to_text(url))


def redact_text(text):
    """A message with the user information of every URL in it masked."""
    return TEXT_USERINFO.sub(r'\1***@', to_text(text))


def split_userinfo(url):
    """(URL without its user information, basic-auth header value or None), as pip reads index URLs."""
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url, None
    userinfo, hostport = parts.netloc.rsplit('@', 1)
    user, _sep, password = userinfo.partition(':')
    creds = '%s:%s' % (unquote(user), unquote(password))
    bare = parts._replace(netloc=hostport).geturl()
    return bare, 'Basic %s' % to_native(base64.b64encode(creds.encode('utf-8')))


def version_tuple(text):
    match = re.match(r'^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?', text or '')
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def read_text(path):
    try:
        with open(path, 'rb') as handle:
            return to_text(handle.read(), errors='surrogate_or_replace')
    except (IOError, OSError):
        return None


def to_int(text):
    try:
        return int((text or '').strip())
    except ValueError:
        return None


# What a 32-bit userland on a 64-bit kernel is to pip (packaging.tags): its wheels are
# those of the userland, whatever uname says.
USERLAND_32 = {'aarch64': 'armv8l', 'arm64': 'armv8l', 'x86_64': 'i686', 'amd64': 'i686'}


def machine_architecture(machine=platform.machine, pointer_bits=struct.calcsize('P') * 8):
    found = (machine() or '').strip() or None
    if found and pointer_bits == 32:
        return USERLAND_32.get(found, found)
    return found


def check_architecture(machine, supported):
    remedy = ('The client imports PySide6 (Qt), whose Linux wheels exist for %s only: install the station with a'
              ' 64-bit OS on a 64-bit CPU (a Raspberry Pi 3, 4 or 5 with Raspberry Pi OS 64-bit, arm64, not the'
              ' 32-bit armhf image)' % ' and '.join(supported))
    if machine is None:
        return False, 'the CPU architecture could not be read', remedy
    if machine in supported:
        return True, 'architecture %s' % machine, ''
    what = ' (a 32-bit userland on a 64-bit ARM kernel)' if machine == 'armv8l' else ''
    return False, 'architecture %s%s is not supported (supported: %s)' % (machine, what, ', '.join(supported)), remedy


def check_python(python, python_min, facts, run, exists=os.path.exists, access=os.access, package=None):
    remedy = ('Install Python %s or newer and set pywats_client_python to its path (for example /usr/bin/python3.11)'
              % python_min)
    if not exists(python):
        if package:
            return True, '%s is not installed yet: the role installs it from the package %s' % (python, package), ''
        return False, '%s does not exist' % python, remedy
    if not access(python, os.X_OK):
        return False, '%s is not executable' % python, remedy
    rc, out, err = run([python, '-c', PY_PROBE])
    found = version_tuple(out) if rc == 0 else None
    if found is None:
        return False, '%s did not report its version (rc=%s): %s' % (python, rc, (err or out).strip()), remedy
    facts['python_version'] = out.strip()
    if found < version_tuple(python_min):
        return False, '%s is Python %s, the client needs %s or newer' % (python, out.strip(), python_min), remedy
    return True, '%s is Python %s' % (python, out.strip()), ''


def check_privileges(geteuid):
    uid = geteuid()
    if uid != 0:
        return False, 'running as uid %d, not root' % uid, 'Run the play (or the role) with become: true'
    return True, 'running as root', ''


def check_init_system(isdir, read):
    comm = (read('/proc/1/comm') or '').strip() or None
    remedy = 'The client runs as a systemd service: use a host (or container) booted with systemd as PID 1'
    if not isdir('/run/systemd/system'):
        return False, '/run/systemd/system is missing (PID 1 is %s)' % (comm or 'unknown'), remedy
    if comm not in (None, 'systemd'):
        return False, '/run/systemd/system exists but PID 1 is %s' % comm, remedy
    return True, 'systemd is PID 1', ''


def nearest_existing(path, exists):
    path = os.path.abspath(path)
    while not exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


# Which pywats_client_preflight_min_free_mb_* option sets each need.
THRESHOLD_OPTIONS = {'state_dir': 'state', 'venv_dir': 'venv', 'watch folder': 'watch'}


def check_disk_space(needs, facts, exists=os.path.exists, statvfs=os.statvfs, device=lambda p: os.stat(p).st_dev):
    """needs: (what, path, MiB) triples. Paths on one filesystem add up, as they fill it together.

    A refusal names the threshold options behind the filesystems that are short.
    """
    groups, order, thresholds = {}, [], {}
    for what, path, need in needs:
        anchor = nearest_existing(path, exists)
        stat = statvfs(anchor)
        free = stat.f_bavail * stat.f_frsize // MIB
        facts['free_mb'][path] = free
        key = device(anchor)
        if key not in groups:
            groups[key] = {'anchor': anchor, 'free': free, 'need': 0, 'paths': [], 'options': []}
            order.append(key)
        groups[key]['need'] += need
        groups[key]['paths'].append('%s %s' % (what, path))
        option = THRESHOLD_OPTIONS.get(what, 'watch')
        thresholds[option] = need
        if option not in groups[key]['options']:
            groups[key]['options'].append(option)
    lines = ['%d MB free on the filesystem of %s, %d MB needed for %s' % (
        groups[k]['free'], groups[k]['anchor'], groups[k]['need'], ', '.join(groups[k]['paths'])) for k in order]
    short = [line for k, line in zip(order, lines) if groups[k]['free'] < groups[k]['need']]
    if short:
        options = []
        for k in order:
            if groups[k]['free'] < groups[k]['need']:
                options += [o for o in groups[k]['options'] if o not in options]
        return False, ', '.join(short), (
            'Free space on those filesystems, mount larger ones there, or lower the threshold in %s'
            % ', '.join('pywats_client_preflight_min_free_mb_%s (%d MB)' % (o, thresholds[o]) for o in options))
    return True, ', '.join(lines), ''


def station_spellings(paths, realpath):
    """The paths, then where each resolves on this host where that differs (a /home that links to /var/home)."""
    out = list(paths)
    for path in paths:
        real = realpath(path)
        if real not in out:
            out.append(real)
    return tuple(out)


def check_folders(folders, reserved, owner, mode, sandboxed, facts, realpath=os.path.realpath):
    """Each folder judged by the option checks' rules, as written and where it resolves on this host.

    realpath follows every symbolic link, dangling ones included, and keeps the part of the path that
    does not exist yet as written below where its existing part resolves.
    """
    reserved = [dict(entry, resolved=realpath(entry['path'])) for entry in reserved]
    lists = dict(system_trees=station_spellings(rules.SYSTEM_TREES, realpath),
                 hidden_trees=station_spellings(rules.HIDDEN_TREES, realpath),
                 system_dirs=station_spellings(rules.SYSTEM_DIRS, realpath))
    problems, links = [], []
    for folder in folders:
        option, path = folder['option'], folder['path']
        # As written first: what the option checks refuse, this check refuses too.
        problem = rules.posix_folder_problem(option, path, reserved, owner, mode, sandboxed)
        resolved = realpath(path) if path.startswith('/') else None
        facts['folders'].append({'option': option, 'path': path, 'resolved': resolved})
        if problem is None:
            problem = rules.posix_folder_problem(option, path, reserved, owner, mode, sandboxed, resolved=resolved, **lists)
        if problem:
            problems.append(problem)
        elif resolved != rules.posix_normpath(path):
            links.append('%s resolves to %s' % (path, resolved))
    if problems:
        return False, ' '.join(problems), (
            'Point each of these options at a directory of its own, or change the symbolic link on the station so'
            ' that it leads to one')
    count = '1 folder, a directory' if len(folders) == 1 else '%d folders, each a directory' % len(folders)
    return True, '%s of its own%s' % (count, ''.join('; ' + link for link in links)), ''


def no_proxy_match(host, entries):
    host = host.lower().strip('[]')
    for entry in entries:
        entry = entry.strip().lower()
        if entry == '*':
            return True
        entry = entry.lstrip('.')
        if entry and (host == entry or host.endswith('.' + entry)):
            return True
    return False


def effective_proxy(scheme, host, proxy, no_proxy, environ):
    """The proxy the client would use for this URL, or None; the proxy option wins over the environment."""
    def env(name):
        return environ.get(name.lower()) or environ.get(name.upper()) or ''
    if not proxy:
        proxy = env(scheme + '_proxy') or env('all_proxy')
    bypass = no_proxy or [e for e in env('no_proxy').split(',') if e.strip()]
    if not proxy or no_proxy_match(host, bypass):
        return None
    return proxy if '://' in proxy else 'http://' + proxy


def endpoint(server_url, proxy, no_proxy, environ):
    url = urlsplit(server_url)
    scheme = url.scheme.lower()
    point = {'scheme': scheme, 'host': url.hostname, 'port': url.port or (443 if scheme == 'https' else 80),
             'url': server_url.rstrip('/') + '/api/App/Version', 'proxy': None}
    point['proxy'] = effective_proxy(scheme, point['host'], proxy, no_proxy, environ)
    if point['proxy']:
        purl = urlsplit(point['proxy'])
        point['proxy_host'], point['proxy_port'] = purl.hostname, purl.port or 80
        if purl.username is not None:
            creds = '%s:%s' % (unquote(purl.username), unquote(purl.password or ''))
            point['proxy_auth'] = to_native(base64.b64encode(creds.encode('utf-8')))
    return point


def hop(point):
    """Host and port this station connects to, and how to name them in a detail."""
    if point['proxy']:
        return point['proxy_host'], point['proxy_port'], 'proxy %s:%d' % (point['proxy_host'], point['proxy_port'])
    return point['host'], point['port'], '%s:%d' % (point['host'], point['port'])


def check_server_dns(point, getaddrinfo):
    host, port, label = hop(point)
    try:
        infos = getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, socket.herror, UnicodeError) as exc:
        return False, 'cannot resolve %s: %s' % (host, exc), (
            'Check the host name in pywats_client_server_url (or pywats_client_proxy) and the DNS servers of the station')
    addresses = sorted(set(info[4][0] for info in infos))
    return True, '%s resolves to %s' % (label, ', '.join(addresses)), ''


def check_server_tcp(point, timeout, connect):
    host, port, label = hop(point)
    start = time.time()
    try:
        connect(host, port, timeout).close()
    except (socket.error, socket.timeout) as exc:
        return False, 'cannot connect to %s: %s' % (label, exc), (
            'Open the firewall from this station to %s, or set pywats_client_proxy' % label)
    return True, 'connected to %s in %d ms' % (label, (time.time() - start) * 1000), ''


def ssl_context(validate_certs, ca_bundle):
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle and is_pem(ca_bundle):
        return ssl.create_default_context(cadata=ca_bundle)
    return ssl.create_default_context(cafile=ca_bundle or None)


def is_pem(value):
    return value.lstrip().startswith('-----BEGIN')


def ca_label(ca_bundle):
    if not ca_bundle:
        return 'the system store'
    return 'the given PEM certificates' if is_pem(ca_bundle) else ca_bundle


def open_tunnel(sock, point):
    target = '%s:%d' % ('[%s]' % point['host'] if ':' in point['host'] else point['host'], point['port'])
    lines = ['CONNECT %s HTTP/1.1' % target, 'Host: %s' % target]
    if point.get('proxy_auth'):
        lines.append('Proxy-Authorization: Basic %s' % point['proxy_auth'])
    sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('ascii'))
    answer = b''
    while b'\r\n\r\n' not in answer and len(answer) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    status = to_text(answer.split(b'\r\n', 1)[0], errors='surrogate_or_replace')
    if status.split(' ')[1:2] != ['200']:
        raise socket.error('proxy refused CONNECT %s: %s' % (target, status or 'no answer'))


def check_server_tls(point, timeout, validate_certs, ca_bundle, connect):
    remedy = ('Set pywats_client_ca_bundle to the CA that signed the server certificate'
              ' (or, for a test server only, add server_tls to pywats_client_preflight_skip)')
    try:
        context = ssl_context(validate_certs, ca_bundle)
    except (IOError, OSError, ssl.SSLError) as exc:
        return False, 'cannot load CA bundle %s: %s' % (ca_label(ca_bundle), exc), remedy
    host, port, label = hop(point)
    sock = None
    try:
        sock = connect(host, port, timeout)
        if point['proxy']:
            open_tunnel(sock, point)
        tls = context.wrap_socket(sock, server_hostname=point['host'])
        version, cert = tls.version(), tls.getpeercert()
        tls.close()
    except ssl.SSLError as exc:
        reason = getattr(exc, 'verify_message', None) or to_native(exc)
        if getattr(exc, 'verify_code', None) is None:
            remedy = 'Check that %s:%d speaks TLS and that pywats_client_server_url has the right scheme and port' % (
                point['host'], point['port'])
        return False, 'TLS handshake with %s:%d failed: %s' % (point['host'], point['port'], reason), remedy
    except (socket.error, socket.timeout) as exc:
        return False, 'TLS connection to %s:%d via %s failed: %s' % (point['host'], point['port'], label, exc), (
            'Check the proxy (pywats_client_proxy) and the firewall to the server')
    finally:
        if sock is not None:
            sock.close()
    if not validate_certs:
        return True, '%s with %s:%d; certificate not verified (validate_certs is false)' % (
            version, point['host'], point['port']), ''
    expiry = cert.get('notAfter', 'unknown') if cert else 'unknown'
    return True, '%s with %s:%d; certificate verified against %s, valid until %s' % (
        version, point['host'], point['port'], ca_label(ca_bundle), expiry), ''


class NoRedirect(urllib_request.HTTPRedirectHandler):
    """httpx, which the client uses, does not follow redirects: a redirect must fail here as it fails there."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def http_get(url, headers, timeout, proxy, context):
    """GET url; returns (status, lower-cased headers, body) for any HTTP answer."""
    handlers = [urllib_request.ProxyHandler({urlsplit(url).scheme: proxy} if proxy else {}), NoRedirect()]
    if context is not None:
        handlers.append(urllib_request.HTTPSHandler(context=context))
    request = urllib_request.Request(url, headers=headers)
    try:
        response = urllib_request.build_opener(*handlers).open(request, timeout=timeout)
    except HTTPError as exc:
        response = exc
    try:
        answer = dict((key.lower(), value) for key, value in response.info().items())
        return response.getcode(), answer, response.read(65536)
    finally:
        response.close()


def check_package_index(index_url, package, timeout, proxy, no_proxy, environ, validate_certs, ca_bundle, fetch):
    """The index pip installs from answers for the client's package (PEP 503 simple page)."""
    remedy = ('Without access to a package index, build a wheelhouse once on a controller that has it'
              ' (playbook virinco.pywats.wheelhouse) and deploy with pywats_client_install_source: wheelhouse'
              ' and pywats_client_wheelhouse_dir; or set pywats_client_pip_index_url to a reachable mirror,'
              ' or pywats_client_proxy')
    shown = redact_url(index_url)
    bare, auth = split_userinfo(index_url)
    point = endpoint(bare, proxy, no_proxy, environ)
    url = '%s/%s/' % (bare.rstrip('/'), re.sub(r'[-_.]+', '-', package).lower())
    headers = {'Accept': 'text/html'}
    if auth:
        headers['Authorization'] = auth
    try:
        context = ssl_context(validate_certs, ca_bundle) if point['scheme'] == 'https' else None
        status, answer, body = fetch(url, headers, timeout, point.get('proxy'), context)
    except Exception as exc:  # any failure to reach the index is the finding itself
        return False, 'the package index %s is unreachable: %s' % (shown, redact_text(to_native(exc))), remedy
    if status != 200:
        return False, 'the package index %s answered %s for %s' % (shown, status, package), remedy
    return True, 'the package index %s lists %s' % (shown, package), ''


def check_server_api(point, token, timeout, validate_certs, ca_bundle, seen, fetch):
    headers = {'Accept': 'application/json', 'User-Agent': 'virinco.pywats-preflight'}
    if token:
        headers['Authorization'] = 'Basic %s' % token
    url = point['url']
    shown = redact_url(url)
    via = ' via proxy %s:%d' % (point['proxy_host'], point['proxy_port']) if point['proxy'] else ''
    start = time.time()
    try:
        context = ssl_context(validate_certs, ca_bundle) if point['scheme'] == 'https' else None
        status, answer, body = fetch(url, headers, timeout, point['proxy'], context)
    except Exception as exc:
        reason = getattr(exc, 'reason', None) or exc
        return False, 'GET %s%s failed: %s' % (shown, via, redact_text(to_native(reason))), (
            'Check pywats_client_server_url, pywats_client_proxy and that the server is up')
    seen['headers'] = answer
    elapsed = (time.time() - start) * 1000
    if 200 <= status < 300:
        try:
            seen['version'] = to_text(json.loads(to_text(body)))
        except ValueError:
            seen['version'] = to_text(body).strip()[:80] or None
        return True, 'GET %s%s answered %d in %d ms (server version %s)' % (
            shown, via, status, elapsed, seen['version']), ''
    if status == 401:
        what = 'rejected the API token' if token else 'requires an API token and none is set'
        return False, 'the server %s (HTTP 401 on GET %s)' % (what, shown), (
            'Set pywats_client_api_token to a valid token for this server (sent as Authorization: Basic <token>)')
    if 300 <= status < 400:
        return False, 'GET %s redirects (HTTP %d) to %s' % (shown, status, redact_url(answer.get('location', '?'))), (
            'Set pywats_client_server_url to the address it redirects to: the client does not follow redirects')
    if status == 407:
        return False, 'the proxy requires authentication (HTTP 407)', (
            'Put the proxy credentials in pywats_client_proxy (http://user:password@host:port)')
    return False, 'GET %s%s answered HTTP %d' % (shown, via, status), (
        'Check that pywats_client_server_url is the base URL of a WATS server and that the server is healthy')


def check_clock_skew(date_header, max_skew, facts, now):
    remedy = 'Enable time synchronisation on the station (chrony or systemd-timesyncd)'
    parsed = parsedate_tz(date_header) if date_header else None
    if parsed is None:
        return False, 'the server sent no usable Date header (%r), so the clocks were not compared' % date_header, remedy
    skew = int(round(now() - mktime_tz(parsed)))
    facts['clock_skew_seconds'] = skew
    side = 'ahead of' if skew > 0 else 'behind'
    if abs(skew) > max_skew:
        return False, 'the local clock is %d s %s the server (at most %d s allowed)' % (abs(skew), side, max_skew), remedy
    return True, 'the local clock is within %d s of the server' % abs(skew), ''


def bind_port(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As the client's HTTPServer (allow_reuse_address): a TIME_WAIT leftover is no conflict.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('0.0.0.0', port))
    finally:
        sock.close()


def port_owner(port, read, listdir, readlink):
    """PID of the process listening on TCP port, from /proc; None when not visible."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        for line in (read(table) or '').splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[3] == '0A' and int(fields[1].rsplit(':', 1)[1], 16) == port:
                inodes.add('socket:[%s]' % fields[9])
    if not inodes:
        return None
    for pid in listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            fds = listdir('/proc/%s/fd' % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if readlink('/proc/%s/fd/%s' % (pid, fd)) in inodes:
                    return int(pid)
            except OSError:
                continue
    return None


def check_health_port(port, service_name, bind, read, listdir, readlink, unit_port=None):
    remedy = 'Stop the process that holds the port, or set pywats_client_health_port to a free port'
    try:
        bind(port)
        return True, 'port %d is free' % port, ''
    except (socket.error, OSError) as exc:
        if exc.errno != errno.EADDRINUSE:
            return False, 'cannot bind port %d: %s' % (port, exc), remedy
    pid = port_owner(port, read, listdir, readlink)
    if pid is None:
        # Without CAP_SYS_PTRACE (some containers) root cannot read other users'
        # /proc/<pid>/fd. The unit's own settings still tell whether it is ours.
        state, unit_health_port = unit_port(service_name) if unit_port else (None, None)
        if state == 'active' and unit_health_port == port:
            return True, ('port %d is held by %s.service itself (active, PYWATS_HEALTH_PORT=%d)'
                          % (port, service_name, port)), ''
        return False, 'port %d is in use by a process this check cannot see' % port, remedy
    comm = (read('/proc/%d/comm' % pid) or '?').strip()
    unit = re.compile(r'/%s\.service(/|$)' % re.escape(service_name), re.M)
    if unit.search(read('/proc/%d/cgroup' % pid) or ''):
        return True, 'port %d is held by %s (pid %d) of %s.service itself' % (port, comm, pid, service_name), ''
    return False, 'port %d is in use by %s (pid %d), not by %s.service' % (port, comm, pid, service_name), remedy


def check_inotify(min_watches, min_instances, facts, read):
    values = {}
    for key in ('max_user_watches', 'max_user_instances'):
        values[key] = to_int(read('/proc/sys/fs/inotify/%s' % key))
    facts['inotify'] = values
    wanted = (('max_user_watches', min_watches), ('max_user_instances', min_instances))
    found = ['fs.inotify.%s = %s (want %d or more)' % (key, values[key], need) for key, need in wanted]
    low = [text for text, (key, need) in zip(found, wanted) if values[key] is None or values[key] < need]
    if low:
        return False, ', '.join(low), (
            'Raise them with sysctl (fs.inotify.max_user_watches=%d, fs.inotify.max_user_instances=%d in'
            ' /etc/sysctl.d/) or set pywats_client_sysctl_manage: true to let the role do it' % (min_watches, min_instances))
    return True, ', '.join(found), ''


def glibc_version(confstr=getattr(os, 'confstr', None), libc_ver=platform.libc_ver):
    try:
        found = confstr('CS_GNU_LIBC_VERSION') if confstr else None
    except (ValueError, OSError):
        found = None
    if found and found.startswith('glibc '):
        return found.split()[1]
    lib, version = libc_ver()
    return version if lib == 'glibc' and version else None


GLIBC_REMEDY = {
    'x86_64': ('PySide6-Essentials, which the client imports even headless, ships only manylinux_2_34 wheels'
               ' (glibc %s or newer) since 6.10: move the station to a newer OS (for example Debian 12, Ubuntu 22.04,'
               ' RHEL 9). On an older glibc pip falls back to PySide6-Essentials 6.9.x (manylinux_2_28, x86_64 only),'
               ' which this collection does not test'),
    'aarch64': ('PySide6-Essentials, which the client imports even headless, has aarch64 wheels for glibc %s or newer'
                ' only (6.5.3 to 6.8.0.2: manylinux_2_31; 6.8.1 and later: manylinux_2_39): move the station to a newer'
                ' OS (for example Debian 12, Raspberry Pi OS 12 64-bit or Ubuntu 22.04)'),
}
GLIBC_REMEDY_OTHER = ('PySide6-Essentials, which the client imports even headless, needs glibc %s or newer here:'
                      ' move the station to a newer OS')


def check_glibc(version, glibc_min, architecture='x86_64'):
    remedy = GLIBC_REMEDY.get(architecture, GLIBC_REMEDY_OTHER) % glibc_min
    if version is None:
        return False, 'no GNU C library found (musl or another libc?)', remedy
    if version_tuple(version) < version_tuple(glibc_min):
        return False, 'glibc %s is older than %s' % (version, glibc_min), remedy
    return True, 'glibc %s' % version, ''


def selinux_mode(read, getenforce):
    enforce = (read('/sys/fs/selinux/enforce') or '').strip()
    if enforce:
        return 'enforcing' if enforce == '1' else 'permissive'
    answer = (getenforce() or '').strip().lower()
    return answer if answer in ('enforcing', 'permissive') else 'disabled'


def check_selinux(mode, manage):
    if mode == 'enforcing' and not manage:
        return False, 'SELinux is enforcing and the role will not manage labels', (
            'Set pywats_client_selinux_manage: true so the role labels the venv, the state directory and the health'
            ' port, or label them yourself')
    return True, 'SELinux is %s%s' % (mode, ' and the role manages labels' if mode == 'enforcing' else ''), ''


def tcp_connect(host, port, timeout):
    return socket.create_connection((host, port), timeout)


class Host(object):
    """The boundary between the checks and the target; unit tests replace parts of it."""

    geteuid = staticmethod(os.geteuid)
    exists = staticmethod(os.path.exists)
    realpath = staticmethod(os.path.realpath)
    isdir = staticmethod(os.path.isdir)
    access = staticmethod(os.access)
    listdir = staticmethod(os.listdir)
    readlink = staticmethod(os.readlink)
    statvfs = staticmethod(os.statvfs)
    read = staticmethod(read_text)
    getaddrinfo = staticmethod(socket.getaddrinfo)
    connect = staticmethod(tcp_connect)
    bind = staticmethod(bind_port)
    fetch = staticmethod(http_get)
    glibc = staticmethod(glibc_version)
    architecture = staticmethod(machine_architecture)
    now = staticmethod(time.time)

    def __init__(self, module):
        self.module = module
        self.environ = os.environ

    @staticmethod
    def device(path):
        return os.stat(path).st_dev

    def run(self, argv):
        return self.module.run_command(argv, environ_update={'LC_ALL': 'C', 'LANG': 'C'})

    def unit_port(self, service_name):
        """(ActiveState, PYWATS_HEALTH_PORT from the unit's Environment=) of a unit."""
        path = self.module.get_bin_path('systemctl')
        if not path:
            return None, None
        rc, out, err = self.run([path, 'show', '%s.service' % service_name,
                                 '--property=ActiveState', '--property=Environment'])
        state, port = None, None
        for line in (out or '').splitlines() if rc == 0 else []:
            key, dummy, value = line.partition('=')
            if key == 'ActiveState':
                state = value.strip()
            elif key == 'Environment':
                found = re.search(r'(?:^|\s)PYWATS_HEALTH_PORT=(\d+)', value)
                port = int(found.group(1)) if found else None
        return state, port

    def getenforce(self):
        path = self.module.get_bin_path('getenforce')
        if not path:
            return None
        rc, out, err = self.run([path])
        return out if rc == 0 else None


class Runner(object):
    def __init__(self, skip, notes=None):
        self.skip = set(skip)
        self.notes = notes or {}
        self.checks = []
        self.skipped = []

    def run(self, name, func, *args):
        """Run one check unless skipped; returns True/False, or None when skipped."""
        if name in self.skip:
            self.skip_(name)
            return None
        try:
            ok, detail, remedy = func(*args)
        except Exception as exc:
            ok, detail, remedy = False, 'the check itself failed: %s' % to_native(exc), (
                'Skip it with skip: [%s] and report this as a bug of virinco.pywats.pywats_preflight' % name)
        if not ok and self.notes.get(name):
            remedy = '%s. %s' % (remedy.rstrip('.'), self.notes[name])
        self.checks.append({'name': name, 'ok': bool(ok), 'severity': SEVERITY[name],
                            'detail': detail, 'remedy': '' if ok else remedy})
        return bool(ok)

    def skip_(self, *names):
        self.skipped.extend(name for name in names if name not in self.skipped)

    def summary(self):
        failed = [c for c in self.checks if not c['ok']]
        return {'errors': len([c for c in failed if c['severity'] == 'error']),
                'warnings': len([c for c in failed if c['severity'] == 'warning']),
                'passed': len(self.checks) - len(failed),
                'skipped': sorted(self.skipped, key=CHECK_NAMES.index)}


def run_server_checks(p, host, runner, facts):
    point = endpoint(p['server_url'], p['proxy'], p['no_proxy'], host.environ)
    seen = {}
    steps = [('server_dns', check_server_dns, point, host.getaddrinfo),
             ('server_tcp', check_server_tcp, point, p['timeout'], host.connect)]
    if point['scheme'] == 'https':
        steps.append(('server_tls', check_server_tls, point, p['timeout'], p['validate_certs'], p['ca_bundle'],
                      host.connect))
    else:
        runner.skip_('server_tls')
    steps.append(('server_api', check_server_api, point, p['api_token'], p['timeout'], p['validate_certs'],
                  p['ca_bundle'], seen, host.fetch))
    for index, step in enumerate(steps):
        if runner.run(*step) is False:
            runner.skip_(*[later[0] for later in steps[index + 1:]])
            break
    facts['server_version'] = seen.get('version')
    if 'headers' in seen:
        runner.run('clock_skew', check_clock_skew, seen['headers'].get('date'), p['max_clock_skew'], facts, host.now)
    else:
        runner.skip_('clock_skew')


def run_checks(p, host):
    facts = {'architecture': None, 'python_version': None, 'glibc_version': None, 'selinux_mode': None, 'inotify': {}, 'free_mb': {},
             'server_version': None, 'clock_skew_seconds': None, 'folders': []}
    runner = Runner(p['skip'], p['remedy_notes'])
    if p['folders']:
        runner.run(FOLDER_CHECK, check_folders, p['folders'], p['reserved_dirs'], p['folder_owner'], p['folder_mode'],
                   p['sandboxed'], facts, host.realpath)
    facts['architecture'] = host.architecture()
    runner.run('architecture', check_architecture, facts['architecture'], p['architectures'])
    runner.run('python', check_python, p['python'], p['python_min'], facts, host.run, host.exists, host.access,
               p['python_package'])
    runner.run('privileges', check_privileges, host.geteuid)
    runner.run('init_system', check_init_system, host.isdir, host.read)
    needs = [('state_dir', p['state_dir'], p['min_free_mb_state']), ('venv_dir', p['venv_dir'], p['min_free_mb_venv'])]
    needs += [('watch folder', path, p['min_free_mb_watch']) for path in p['watch_folders']]
    runner.run('disk_space', check_disk_space, needs, facts, host.exists, host.statvfs, host.device)
    if p['server_url']:
        run_server_checks(p, host, runner, facts)
    else:
        runner.skip_(*SERVER_CHECKS)
    if p['health_port'] is None:
        runner.skip_('health_port')
    else:
        runner.run('health_port', check_health_port, p['health_port'], p['service_name'], host.bind, host.read,
                   host.listdir, host.readlink, host.unit_port)
    runner.run('inotify', check_inotify, p['inotify_min_watches'], p['inotify_min_instances'], facts, host.read)
    facts['glibc_version'] = host.glibc()
    if p['needs_pyside6']:
        runner.run('glibc', check_glibc, facts['glibc_version'], p['glibc_min'], facts['architecture'])
    else:
        runner.skip_('glibc')
    if 'selinux' not in runner.skip:
        facts['selinux_mode'] = selinux_mode(host.read, host.getenforce)
    runner.run('selinux', check_selinux, facts['selinux_mode'], p['selinux_manage'])
    if p['index_url']:
        runner.run('package_index', check_package_index, p['index_url'], p['index_package'], p['timeout'],
                   p['proxy'], p['no_proxy'], host.environ, p['validate_certs'], p['ca_bundle'], host.fetch)
    else:
        runner.skip_('package_index')
    return runner.checks, runner.summary(), facts


def failure_message(checks):
    return '; '.join('%s: %s. Remedy: %s' % (c['name'], c['detail'].rstrip('.'), c['remedy'].rstrip('.'))
                     for c in checks if not c['ok'] and c['severity'] == 'error')


def validate(module):
    p = module.params
    for option in ('python_min', 'glibc_min'):
        if version_tuple(p[option]) is None:
            module.fail_json(msg='%s must be a version such as 3.10, got %r' % (option, p[option]))
    if p['server_url']:
        url = urlsplit(p['server_url'])
        if url.scheme.lower() not in ('http', 'https') or not url.hostname:
            module.fail_json(msg='server_url must be an http:// or https:// URL with a host, got %r' % redact_url(p['server_url']))
        if '@' in p['server_url']:
            module.fail_json(msg='server_url must not carry credentials (user:password@host): the client authenticates'
                                 ' with api_token only; got %r' % redact_url(p['server_url']))
    if p['proxy'] and urlsplit(p['proxy'] if '://' in p['proxy'] else 'http://' + p['proxy']).scheme != 'http':
        module.fail_json(msg='proxy must be an http:// URL such as http://proxy.example.com:3128')
    if p['health_port'] is not None and not 0 < p['health_port'] < 65536:
        module.fail_json(msg='health_port must be between 1 and 65535, got %d' % p['health_port'])
    if not p['architectures']:
        module.fail_json(msg='architectures must list at least one CPU architecture, such as x86_64 or aarch64')
    if p['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds, got %d' % p['timeout'])


def argument_spec():
    return dict(
        python=dict(type='path', default='/usr/bin/python3'),
        python_package=dict(type='str'),
        python_min=dict(type='str', default='3.10'),
        state_dir=dict(type='path', default='/var/lib/pywats'),
        venv_dir=dict(type='path', default='/opt/pywats/venv'),
        watch_folders=dict(type='list', elements='path', default=[]),
        folders=dict(type='list', elements='dict', default=[], options=dict(
            option=dict(type='str', required=True),
            path=dict(type='str', required=True),
        )),
        reserved_dirs=dict(type='list', elements='dict', default=[], options=dict(
            path=dict(type='str', required=True),
            what=dict(type='str', required=True),
        )),
        folder_owner=dict(type='str', default='pywats'),
        folder_mode=dict(type='str', default='0770'),
        sandboxed=dict(type='bool', default=True),
        min_free_mb_state=dict(type='int', default=200),
        min_free_mb_venv=dict(type='int', default=600),
        min_free_mb_watch=dict(type='int', default=100),
        server_url=dict(type='str'),
        api_token=dict(type='str', no_log=True),
        ca_bundle=dict(type='str'),
        validate_certs=dict(type='bool', default=True),
        # Credentials apart from their URLs: a URL with no_log would be masked whole in every result.
        proxy=dict(type='str'),
        proxy_userinfo=dict(type='str', no_log=True),
        no_proxy=dict(type='list', elements='str', default=[]),
        timeout=dict(type='int', default=10),
        max_clock_skew=dict(type='int', default=300),
        health_port=dict(type='int'),
        service_name=dict(type='str', default='pywats-client'),
        inotify_min_watches=dict(type='int', default=524288),
        inotify_min_instances=dict(type='int', default=512),
        needs_pyside6=dict(type='bool', default=True),
        glibc_min=dict(type='str', default='2.34'),
        architectures=dict(type='list', elements='str', default=['x86_64', 'aarch64']),
        selinux_manage=dict(type='bool', default=False),
        index_url=dict(type='str'),
        index_userinfo=dict(type='str', no_log=True),
        index_package=dict(type='str', default='pywats-api'),
        remedy_notes=dict(type='dict', default={}),
        skip=dict(type='list', elements='str', default=[], choices=CHECK_NAMES),
    )


def join_credentials(module):
    """Put the credentials given apart back into their URLs, for the checks that use them."""
    for url, userinfo in (('proxy', 'proxy_userinfo'), ('index_url', 'index_userinfo')):
        if module.params[url] and rules.has_userinfo(module.params[url]):
            module.warn('%s carries credentials, which the invocation of this task shows; give them in %s'
                        % (url, userinfo))
        elif module.params[url] and module.params[userinfo]:
            module.params[url] = rules.join_userinfo(module.params[url], module.params[userinfo])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    join_credentials(module)
    validate(module)
    checks, summary, facts = run_checks(module.params, Host(module))
    if summary['errors']:
        module.fail_json(msg=failure_message(checks), checks=checks, summary=summary, facts=facts)
    module.exit_json(changed=False, checks=checks, summary=summary, facts=facts)


if __name__ == '__main__':
    main()
