#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The module itself is win_pywats_preflight.ps1; this file holds its documentation only.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: win_pywats_preflight
short_description: Check, without changing anything, that a Windows station can run the pyWATS client
version_added: 0.1.0
description:
  - Runs read-only checks on a Windows test station before the pyWATS client is installed on it.
  - Each check reports a name, whether it passed, its severity, a detail and a remedy.
  - "The module fails when a check of severity C(error) fails, with one message that lists every failed
    error check as C(name: detail. Remedy: remedy), joined by C(; ). Warnings never fail it."
  - Network checks contact only the host of O(server_url), or the proxy when one applies to it.
  - For Linux stations use M(virinco.pywats.pywats_preflight), which returns results of the same shape.
author:
  - virinco.pywats contributors (@virinco)
requirements:
  - Windows PowerShell 5.1 (Windows 10, Windows Server 2016 or newer).
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
    platforms: windows
    description: Target OS/families that can be operated against.
options:
  python:
    description:
      - C(python.exe) the client's venv will be built from.
      - When omitted, the module looks at every all-users install registered under
        C(HKLM\SOFTWARE\Python\PythonCore\<version>\InstallPath) and every interpreter C(py -0p) lists, and picks the
        newest 64-bit one that is O(python_min) or newer. Interpreters installed for one user only are skipped and named
        in the detail, since the service account cannot read them. Those are interpreters in a user's profile (C(py -0p)
        lists the connecting administrator's own, under C(C:\Users\<name>\AppData)), under any C(AppData) folder, or
        from the Microsoft Store (C(WindowsApps)). The rule is C(PER_USER_PYTHON) of the collection's C(win_python) module
        utility, which the role also applies to O(python) before this module runs.
    type: path
  python_min:
    description: Oldest Python version the client supports.
    type: str
    default: '3.10'
  python_installer:
    description:
      - The Python installer the role will run when no suitable Python is found.
      - When set, a missing or too old Python passes the C(python) check, whose detail says that Python will be installed.
    type: str
  install_dir:
    description: Where the client and its venv go. Need not exist yet.
    type: path
    default: C:\Program Files\pyWATS
  data_dir:
    description: The client's data directory (config, upload queue). Need not exist yet. Environment variables are expanded.
    type: path
    default: '%PROGRAMDATA%\pyWATS'
  watch_folders:
    description: Converter watch folders, local (C(D:\drop)) or on a share (C(\\server\share\drop)). Need not exist yet.
    type: list
    elements: path
    default: []
  min_free_mb_install:
    description: Free space, in MiB, needed on the volume of O(install_dir) (PySide6 alone takes about 250 MB).
    type: int
    default: 600
  min_free_mb_data:
    description: Free space, in MiB, needed on the volume of O(data_dir).
    type: int
    default: 200
  min_free_mb_watch:
    description:
      - Free space, in MiB, needed on the volume of each watch folder.
      - Paths on the same volume add up their needs.
    type: int
    default: 100
  server_url:
    description:
      - Base URL of the WATS server, C(http://) or C(https://).
      - When empty, the checks C(server_dns), C(server_tcp), C(server_tls), C(server_api) and C(clock_skew) are skipped.
      - Must not carry credentials (C(user:password@)); the client authenticates with O(api_token) only.
        Results show URLs with their user information masked.
    type: str
  api_token:
    description:
      - "Token sent as C(Authorization: Basic <token>) on the version call, as the client sends it."
    type: str
  ca_bundle:
    description:
      - CA certificates to accept the server's certificate with, besides the Windows certificate store.
      - Either the PEM text itself (so that a CA not yet installed on the station can be checked before anything
        changes) or the path of a PEM or DER file on the station.
    type: str
  validate_certs:
    description: Verify the server's certificate. Set to V(false) only for a test server.
    type: bool
    default: true
  proxy:
    description:
      - HTTP proxy, as C(http://host:port), for the server calls.
      - When empty, C(HTTPS_PROXY), C(HTTP_PROXY) and C(ALL_PROXY) from the environment apply, as for the client.
        The proxy settings of Internet Options (WinINET) are not used.
      - With a proxy, C(server_dns) and C(server_tcp) check the way to the proxy, and C(server_tls) tunnels
        through it with C(CONNECT).
      - It may carry credentials (C(http://user:password@host:port)), so its value is masked in results.
    type: str
  no_proxy:
    description:
      - Hosts or domains reached without the proxy. When empty, C(NO_PROXY) from the environment applies.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each network step, and for each Python interpreter to report its version.
    type: int
    default: 10
  max_clock_skew:
    description: Largest difference, in seconds, between the local clock and the server's C(Date) header.
    type: int
    default: 300
  health_port:
    description:
      - TCP port of the client's health server, bound on all addresses. Not checked when omitted.
      - A port held by the process of the O(service_name) service, or by a process started under it, counts as free.
    type: int
  service_name:
    description: Name of the client's Windows service.
    type: str
    default: pyWATS_Service
  skip:
    description: Checks not to run. They are listed under RV(summary.skipped).
    type: list
    elements: str
    default: []
    choices: [administrator, python, disk_space, server_dns, server_tcp, server_tls, server_api, clock_skew, health_port,
              uwf, pending_reboot, execution_policy, defender]
notes:
  - "The checks, in order, with their severity: C(administrator) (error: an elevated administrator token),
    C(python) (error), C(disk_space) (error; a warning when only folders on a share are short of space or
    cannot be read, as the WinRM logon does not reach a file server, the double hop), C(server_dns),
    C(server_tcp), C(server_tls), C(server_api) (errors), C(clock_skew) (warning), C(health_port) (error),
    C(uwf) (error: the Unified Write Filter, on now or after the next restart, would discard what the client
    writes to O(data_dir) or a watch folder on a protected volume that is not excluded; O(install_dir) needs no
    exclusion, as only the role writes there), C(pending_reboot) (warning), C(execution_policy) (warning: C(Restricted) or C(AllSigned) for the
    machine), C(defender) (information only: it always passes and sets RV(facts.defender_present))."
  - Server checks run in order; after one fails, the ones that depend on it are skipped.
    C(server_tls) runs only for C(https://) URLs, and C(clock_skew) only when the server answered.
  - The client does not follow redirects, so neither does C(server_api).
  - Windows completes a certificate chain whose intermediates the server does not send by downloading them; the
    client, built on OpenSSL, does not. Such a server passes C(server_tls) here and still fails in the client.
  - C(execution_policy) reads the machine's policy (Group Policy, then C(LocalMachine), then the Windows default),
    not the process policy Ansible runs with.
seealso:
  - module: virinco.pywats.pywats_preflight
'''

EXAMPLES = r'''
- name: Check the station before installing anything
  virinco.pywats.win_pywats_preflight:
    server_url: https://wats.example.com
    api_token: "{{ pywats_client_api_token }}"
    watch_folders:
      - D:\WATS\drop
    health_port: 8080

- name: Check behind a proxy with a private CA, letting the role install Python
  virinco.pywats.win_pywats_preflight:
    python_installer: C:\Windows\Temp\python-3.12.8-amd64.exe
    server_url: https://wats.example.com
    proxy: http://proxy.example.com:3128
    no_proxy: [localhost, .lab.example.com]
    ca_bundle: "{{ lookup('ansible.builtin.file', 'files/corp-ca.pem') }}"
    skip: [clock_skew]

- name: Only report, never fail, so that a later task can decide
  virinco.pywats.win_pywats_preflight:
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
      sample: no 64-bit Python 3.10 or newer found (C:\Python39\python.exe is Python 3.9.13 64-bit)
    remedy:
      description: How to fix a failure; empty when the check passed.
      type: str
      sample: >-
        Install a 64-bit Python 3.10 or newer for all users and set pywats_client_windows_python to its python.exe,
        or set pywats_client_windows_python_installer to an installer the role can run
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
    python_path:
      description: The Python the C(python) check chose (the newest suitable one), or the one it found when none is suitable.
      type: str
      sample: C:\Program Files\Python312\python.exe
    python_version:
      description: Version of RV(facts.python_path).
      type: str
      sample: 3.12.8
    free_mb:
      description: Free MiB on the volume of each checked path, or of its nearest existing parent.
      type: dict
      sample: {'C:\Program Files\pyWATS': 20480, 'C:\ProgramData\pyWATS': 20480}
    server_version:
      description: What the server's C(/api/App/Version) answered.
      type: str
      sample: 24.2.0
    clock_skew_seconds:
      description: Local clock minus the server's C(Date) header.
      type: int
      sample: -2
    uwf_enabled:
      description: Whether the Unified Write Filter is enabled now or after the next restart; false when it is not installed.
      type: bool
      sample: false
    pending_reboot:
      description: Why Windows wants a restart; empty when it does not.
      type: list
      elements: str
      sample: [Windows Update (RebootRequired)]
    execution_policy:
      description: The PowerShell execution policy for the machine, outside Ansible.
      type: str
      sample: RemoteSigned
    defender_present:
      description: Whether Microsoft Defender's antimalware service runs, so that the role can add scan exclusions.
      type: bool
      sample: true
    defender_realtime_protection:
      description: Whether Microsoft Defender's real-time protection is on; null when Defender is not running.
      type: bool
      sample: true
'''
