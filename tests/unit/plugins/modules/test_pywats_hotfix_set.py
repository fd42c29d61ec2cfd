# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pywats_hotfix_set with the real GNU patch on a venv laid out as python -m venv lays
one out, whose file has CRLF line endings as the upstream client's files do; and the
role's real patches' hunk lines given their CR back as the role did in Jinja."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import shutil

import pytest

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_venv
from ansible_collections.virinco.pywats.plugins.modules import pywats_hotfix_set as hs
from ansible_collections.virinco.pywats.plugins.modules import pywats_station_state as st
from ansible_collections.virinco.pywats.tests.unit.plugins.modules import utils as harness
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, module_args

pytestmark = pytest.mark.skipif(shutil.which('patch') is None, reason='GNU patch is not installed')
HOTFIXES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'pywats_client', 'files', 'hotfixes')
ORIGINAL = b'def f():\r\n    return 1\r\n'
FIXED = b'def f():\r\n    return 2\r\n'
PATCH = ('--- pkg/a.py\n+++ pkg/a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n')


@pytest.fixture
def venv(tmp_path):
    root = tmp_path / 'venv'
    purelib = root / 'lib' / 'python3.11' / 'site-packages'
    (purelib / 'pkg').mkdir(parents=True)
    (root / 'pyvenv.cfg').write_text('home = /usr/bin\nversion = 3.11.2\n')
    (purelib / 'pkg' / 'a.py').write_bytes(ORIGINAL)
    return root, purelib


def run(monkeypatch, root, state='present', check=False, stage=None, expect=AnsibleExitJson, content=PATCH):
    harness.patch_exits(monkeypatch)
    args = {'venv_dir': str(root), 'set_id': 'set-' + state, 'files': ['pkg/a.py'],
            'patches': [{'id': '01-fix', 'file': '01-fix.patch', 'content': content, 'state': state}],
            '_ansible_check_mode': check}
    if stage:
        args['stage_dir'] = str(stage)
    with module_args(args):
        with pytest.raises(expect) as exc:
            hs.main()
    return exc.value.args[0]


def test_applies_records_and_then_changes_nothing(monkeypatch, venv, tmp_path):
    root, purelib = venv
    res = run(monkeypatch, root, stage=tmp_path / 'stage')
    assert res['changed'] and res['applied'] == ['01-fix'] and res['running'] == ['01-fix']
    assert (purelib / 'pkg' / 'a.py').read_bytes() == FIXED
    assert (tmp_path / 'stage' / '01-fix.patch').read_bytes().decode() == pywats_venv.with_crlf_hunks(PATCH)
    assert json.loads((root / 'pywats-hotfixes.json').read_text()) == ['01-fix']
    # What it recorded is what the state read finds: the set, with every file as recorded.
    read = st.read_venv({'dir': str(root), 'packages': [], 'hotfix_state': 'pywats-hotfix-state.json'})
    assert read['hotfix'] == {'set': 'set-present', 'files_ok': True}
    again = run(monkeypatch, root, stage=tmp_path / 'stage')
    assert not again['changed'] and again['applied'] == []


def test_absent_takes_the_fix_out(monkeypatch, venv):
    root, purelib = venv
    run(monkeypatch, root)
    res = run(monkeypatch, root, state='absent')
    assert res['changed'] and res['removed'] == ['01-fix'] and res['running'] == []
    assert (purelib / 'pkg' / 'a.py').read_bytes() == ORIGINAL
    assert json.loads((root / 'pywats-hotfixes.json').read_text()) == []


def test_check_mode_changes_nothing(monkeypatch, venv):
    root, purelib = venv
    res = run(monkeypatch, root, check=True)
    assert res['changed'] and res['applied'] == ['01-fix']
    assert (purelib / 'pkg' / 'a.py').read_bytes() == ORIGINAL
    assert sorted(os.listdir(str(root))) == ['lib', 'pyvenv.cfg']


def test_a_patch_that_does_not_fit_fails_naming_it(monkeypatch, venv):
    root, purelib = venv
    (purelib / 'pkg' / 'a.py').write_bytes(b'something else\r\n')
    res = run(monkeypatch, root, expect=AnsibleFailJson)
    assert res['msg'].startswith('Hotfix 01-fix does not apply to %s' % purelib)


def test_no_site_packages_fails(monkeypatch, tmp_path):
    res = run(monkeypatch, tmp_path / 'empty', expect=AnsibleFailJson)
    assert 'has no site-packages' in res['msg']


def test_crlf_hunks_as_the_role_gave_them():
    """Every real patch of the role: hunk lines get a CR, the ---/+++ headers do not, as
    the role's former Jinja regex_replace('(?m)^((?![-+]{3} )[ +-].*)$', '\\1\\r') did."""
    names = [n for v in os.listdir(HOTFIXES) for n in [os.path.join(v, f) for f in os.listdir(os.path.join(HOTFIXES, v))]]
    assert names
    for name in names:
        with open(os.path.join(HOTFIXES, name)) as fh:
            text = fh.read()
        assert pywats_venv.with_crlf_hunks(text) == re.sub(r'(?m)^((?![-+]{3} )[ +-].*)$', '\\1\\r', text), name
        assert '--- ' in text and '\r' not in text
