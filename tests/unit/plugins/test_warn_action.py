# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The warn action through a real ansible-playbook run: Ansible prints [WARNING] and counts no change."""
import os
import shutil
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def test_warn_prints_an_ansible_warning(tmp_path):
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - virinco.pywats.warn:
        msg: two stations share line4
    - virinco.pywats.warn:
        msg: ""
      ignore_errors: true
      register: empty
    - ansible.builtin.assert:
        that: [empty is failed, "'msg must be a non-empty string' in empty.msg"]
""")
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    playbook = beside if os.path.exists(beside) else shutil.which("ansible-playbook")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    res = subprocess.run([playbook, str(play)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    assert "[WARNING]: two stations share line4" in out
    assert "changed=0" in out
