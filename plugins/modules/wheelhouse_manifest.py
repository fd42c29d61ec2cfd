#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: wheelhouse_manifest
short_description: Write or verify the SHA-256 manifest of a wheelhouse
version_added: 0.1.0
description:
  - A wheelhouse is a directory of Python wheels that stations install from without a package index.
  - With O(state=present) the module writes the manifest C(SHA256SUMS) (the format of C(sha256sum)) for
    every wheel in the directory, and for each archive of wheels (C(pywats-wheels-*.tar)) that the
    P(virinco.pywats.pywats_client#role) role's wheelhouse entry point packs for a station CPU.
  - With O(state=verified) it changes nothing and fails, naming each file, when a wheel differs from its
    manifest entry, a listed wheel is missing, or a wheel is not listed (archives count as wheels here).
author:
  - virinco.pywats contributors (@virinco)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in diff_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  path:
    description: The wheelhouse directory.
    type: path
    required: true
  manifest:
    description: File name of the manifest inside O(path).
    type: str
    default: SHA256SUMS
  state:
    description:
      - V(present) writes the manifest when it is missing or out of date.
      - V(verified) only checks the wheelhouse against its manifest.
    type: str
    choices: [present, verified]
    default: verified
'''

EXAMPLES = r'''
- name: Refuse a wheelhouse whose files do not match their manifest
  virinco.pywats.wheelhouse_manifest:
    path: /srv/wheelhouse
  delegate_to: localhost
  run_once: true

- name: Write the manifest after downloading the wheels
  virinco.pywats.wheelhouse_manifest:
    path: /srv/wheelhouse
    state: present
'''

RETURN = r'''
files:
  description: Wheel file names with their SHA-256, as found in the directory.
  returned: always
  type: dict
  sample: {"pywats_api-0.6.0rc1-py3-none-any.whl": "3f1c..."}
mismatched:
  description: Wheels whose SHA-256 differs from the manifest.
  returned: always
  type: list
  elements: str
missing:
  description: Wheels the manifest lists that are not in the directory.
  returned: always
  type: list
  elements: str
unlisted:
  description: Wheels in the directory that the manifest does not list.
  returned: always
  type: list
  elements: str
'''

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

CHUNK = 1024 * 1024


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def listed_kind(name):
    """True for the files a manifest lists: wheels, and the role's archives of them."""
    return name.endswith('.whl') or (name.startswith('pywats-wheels-') and name.endswith('.tar'))


def scan(path):
    """SHA-256 of every wheel (and archive of wheels) in path, by file name."""
    return dict((name, sha256_of(os.path.join(path, name)))
                for name in sorted(os.listdir(path))
                if listed_kind(name) and os.path.isfile(os.path.join(path, name)))


def parse_manifest(text):
    """Entries of a sha256sum file: {name: digest}. Raises ValueError on a malformed line."""
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ValueError('line %d is not "<sha256>  <file>": %r' % (number, line))
        entries[parts[1].lstrip('*').strip()] = parts[0].lower()
    return entries


def render_manifest(files):
    return ''.join('%s  %s\n' % (digest, name) for name, digest in sorted(files.items()))


def compare(found, listed):
    mismatched = sorted(n for n in found if n in listed and found[n] != listed[n])
    missing = sorted(n for n in listed if n not in found)
    unlisted = sorted(n for n in found if n not in listed)
    return mismatched, missing, unlisted


def problems_message(path, mismatched, missing, unlisted):
    parts = []
    if mismatched:
        parts.append('differ from the manifest (tampered or corrupt): %s' % ', '.join(mismatched))
    if missing:
        parts.append('listed but missing: %s' % ', '.join(missing))
    if unlisted:
        parts.append('not listed in the manifest: %s' % ', '.join(unlisted))
    return ('The wheelhouse %s does not match its manifest; nothing was installed. Wheels that %s. Rebuild it'
            ' with the virinco.pywats.wheelhouse playbook, or restore the files.' % (path, '; wheels that '.join(parts)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            manifest=dict(type='str', default='SHA256SUMS'),
            state=dict(type='str', choices=['present', 'verified'], default='verified'),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    manifest_path = os.path.join(path, module.params['manifest'])
    if not os.path.isdir(path):
        module.fail_json(msg='The wheelhouse %s is not a directory.' % path)
    found = scan(path)
    result = dict(changed=False, files=found, mismatched=[], missing=[], unlisted=[])

    if module.params['state'] == 'present':
        if not any(name.endswith('.whl') for name in found):
            module.fail_json(msg='The wheelhouse %s holds no wheels.' % path, **result)
        wanted = render_manifest(found)
        current = None
        if os.path.exists(manifest_path):
            with open(manifest_path) as handle:
                current = handle.read()
        if current != wanted:
            result['changed'] = True
            if not module.check_mode:
                fd, tmp = tempfile.mkstemp(dir=path, prefix='.SHA256SUMS.')
                with os.fdopen(fd, 'w') as handle:
                    handle.write(wanted)
                os.chmod(tmp, 0o644)
                module.atomic_move(tmp, manifest_path)
        module.exit_json(**result)

    if not os.path.exists(manifest_path):
        module.fail_json(msg='The wheelhouse %s has no manifest %s; build it with the virinco.pywats.wheelhouse'
                             ' playbook.' % (path, module.params['manifest']), **result)
    try:
        with open(manifest_path) as handle:
            listed = parse_manifest(handle.read())
    except ValueError as exc:
        module.fail_json(msg='The manifest %s is malformed: %s' % (manifest_path, exc), **result)
    mismatched, missing, unlisted = compare(found, listed)
    result.update(mismatched=mismatched, missing=missing, unlisted=unlisted)
    if mismatched or missing or unlisted:
        module.fail_json(msg=problems_message(path, mismatched, missing, unlisted), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
