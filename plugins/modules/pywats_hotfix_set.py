#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pywats_hotfix_set
short_description: Apply the hotfix set of a pyWATS client release to its venv on a Linux station, in one run
version_added: 0.1.0
description:
  - Applies with GNU C(patch) each patch of the set that is on, takes out each that is off, and records
    in the venv the set's id with the SHA-256 of every file it patched, and the ids of the patches it runs.
  - Each patch is first tried as a dry run, so a patch already in place is left as it is, a reinstalled
    file gets its fix back and a fix switched off is taken out again.
  - The patches are kept with LF line endings; their hunk lines get the CR of the upstream files back
    (O(crlf)), and each is kept in O(stage_dir) as applied, for an operator to read.
  - Used by the P(virinco.pywats.pywats_client#role) role, which decides with
    M(virinco.pywats.pywats_station_state) whether the set must be applied again.
author:
  - virinco.pywats contributors (@virinco)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: In check mode each patch is only tried as a dry run, and nothing is written.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in diff_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
requirements:
  - GNU patch on the station.
options:
  venv_dir:
    description: The client's venv; the patches apply relative to its site-packages.
    type: path
    required: true
  patches:
    description: The set's patches, in the order to apply them.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: The patch's id.
        type: str
        required: true
      file:
        description: The patch's file name (in O(stage_dir)).
        type: str
        required: true
      content:
        description: The unified diff, relative to site-packages (strip 0).
        type: str
        required: true
      state:
        description: V(present) applies the patch, V(absent) takes it out.
        type: str
        choices: [present, absent]
        default: present
  set_id:
    description: The id of the whole set as configured (its patches and which are on); recorded in the venv.
    type: str
    required: true
  files:
    description: The files the set patches, relative to site-packages; their SHA-256 is recorded.
    type: list
    elements: str
    required: true
  crlf:
    description: Give the hunk lines of each patch a CR, for upstream files with CRLF line endings.
    type: bool
    default: true
  stage_dir:
    description: Where each patch is kept as applied (mode 0644); not kept when unset.
    type: path
  state_file:
    description: File name, in the venv, of the recorded set id and checksums.
    type: str
    default: pywats-hotfix-state.json
  record_file:
    description: File name, in the venv, of the ids of the patches the station runs (a JSON list).
    type: str
    default: pywats-hotfixes.json
seealso:
  - module: virinco.pywats.pywats_station_state
  - module: ansible.posix.patch
'''

EXAMPLES = r'''
- name: Apply the hotfix set in one module run
  virinco.pywats.pywats_hotfix_set:
    venv_dir: /opt/pywats/venv
    set_id: "{{ hotfix_set.id }}"
    files: "{{ hotfix_set.files }}"
    stage_dir: /var/cache/pywats/hotfixes/0.6.0rc1
    patches:
      - id: 01-converter-registry
        file: 01-converter-registry.patch
        content: "{{ lookup('ansible.builtin.file', 'hotfixes/0.6.0rc1/01-converter-registry.patch', rstrip=false) }}"
'''

RETURN = r'''
purelib:
  description: The venv's site-packages the patches applied to.
  returned: always
  type: str
  sample: /opt/pywats/venv/lib/python3.11/site-packages
applied:
  description: Ids of the patches this run applied (not those already in place).
  returned: always
  type: list
  elements: str
removed:
  description: Ids of the patches this run took out.
  returned: always
  type: list
  elements: str
running:
  description: Ids of the patches the station runs now, as recorded in O(record_file).
  returned: always
  type: list
  elements: str
'''

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_venv as venv


def write_if_changed(module, path, text, mode=0o644):
    """Write text to path atomically unless it holds it already; True when it changed (or would)."""
    data = text.encode('utf-8')
    try:
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    except (IOError, OSError):
        pass
    if not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.' + os.path.basename(path) + '.')
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
    return True


class Patcher(object):
    """GNU patch in a directory, fed on stdin."""

    def __init__(self, module, basedir):
        self.module = module
        self.basedir = basedir
        self.patch = module.get_bin_path('patch', required=True)

    def run(self, text, *flags):
        cmd = [self.patch, '--strip=0', '--directory=' + self.basedir] + list(flags)
        return self.module.run_command(cmd, data=text, binary_data=True, environ_update=dict(LC_ALL='C'))

    def is_applied(self, text):
        # --forward: a patch that is not in place is not taken for a reversed one.
        return self.run(text, '--forward', '--reverse', '--dry-run', '--silent')[0] == 0

    def change(self, text, reverse):
        flags = ['--batch'] + (['--reverse'] if reverse else ['--forward'])
        if self.module.check_mode:
            flags.append('--dry-run')
        return self.run(text, *flags)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            venv_dir=dict(type='path', required=True),
            patches=dict(type='list', elements='dict', required=True, options=dict(
                id=dict(type='str', required=True),
                file=dict(type='str', required=True),
                content=dict(type='str', required=True),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
            )),
            set_id=dict(type='str', required=True),
            files=dict(type='list', elements='str', required=True),
            crlf=dict(type='bool', default=True),
            stage_dir=dict(type='path'),
            state_file=dict(type='str', default='pywats-hotfix-state.json'),
            record_file=dict(type='str', default='pywats-hotfixes.json'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    venv_dir = params['venv_dir']
    purelib = venv.venv_purelib(venv_dir)
    if not purelib:
        module.fail_json(msg='The venv %s has no site-packages (lib/python3.*/site-packages): install the client '
                             'into it before applying its hotfix set.' % venv_dir)
    result = dict(changed=False, purelib=purelib, applied=[], removed=[], running=[])
    patcher = Patcher(module, purelib)

    if params['stage_dir'] and not module.check_mode and not os.path.isdir(params['stage_dir']):
        os.makedirs(params['stage_dir'], 0o755)
        result['changed'] = True
    for patch in params['patches']:
        text = venv.with_crlf_hunks(patch['content']) if params['crlf'] else patch['content']
        if params['stage_dir'] and os.path.isdir(params['stage_dir']):
            result['changed'] |= write_if_changed(module, os.path.join(params['stage_dir'], patch['file']), text)
        applied = patcher.is_applied(text)
        if patch['state'] == 'present':
            result['running'].append(patch['id'])
            if applied:
                continue
            rc, out, err = patcher.change(text, reverse=False)
            if rc != 0:
                module.fail_json(msg='Hotfix %s does not apply to %s: the files differ from the release it was made '
                                     'for. patch said: %s' % (patch['id'], purelib, (out + err).strip()), **result)
            result['applied'].append(patch['id'])
        elif applied:
            rc, out, err = patcher.change(text, reverse=True)
            if rc != 0:
                module.fail_json(msg='Hotfix %s could not be taken out of %s. patch said: %s'
                                     % (patch['id'], purelib, (out + err).strip()), **result)
            result['removed'].append(patch['id'])
    result['changed'] |= bool(result['applied'] or result['removed'])

    # Recorded as the files are now; in check mode the patches were not applied, so the
    # record would not match them: it is left as it is.
    if not module.check_mode:
        result['changed'] |= write_if_changed(module, os.path.join(venv_dir, params['state_file']),
                                              venv.hotfix_state_text(purelib, params['set_id'], params['files']))
    result['changed'] |= write_if_changed(module, os.path.join(venv_dir, params['record_file']),
                                          json.dumps(result['running']) + '\n')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
