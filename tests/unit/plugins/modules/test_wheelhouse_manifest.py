# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib

import pytest

from ansible_collections.virinco.pywats.plugins.modules import wheelhouse_manifest as wm
from ansible_collections.virinco.pywats.tests.unit.plugins.modules import utils as harness
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, module_args


@pytest.fixture(autouse=True)
def patch_exits(monkeypatch):
    harness.patch_exits(monkeypatch)


def run(args, expect=AnsibleExitJson):
    with module_args(args):
        with pytest.raises(expect) as caught:
            wm.main()
    return caught.value.args[0]


@pytest.fixture
def wheelhouse(tmp_path):
    (tmp_path / 'a-1.0-py3-none-any.whl').write_bytes(b'wheel a')
    (tmp_path / 'b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl').write_bytes(b'wheel b')
    (tmp_path / 'notes.txt').write_text('not a wheel')
    return tmp_path


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_present_writes_a_sha256sum_manifest(wheelhouse):
    result = run({'path': str(wheelhouse), 'state': 'present'})
    assert result['changed'] is True
    text = (wheelhouse / 'SHA256SUMS').read_text()
    assert text == '%s  a-1.0-py3-none-any.whl\n%s  b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl\n' % (
        sha(b'wheel a'), sha(b'wheel b'))
    again = run({'path': str(wheelhouse), 'state': 'present'})
    assert again['changed'] is False


def test_present_in_check_mode_writes_nothing(wheelhouse):
    result = run({'path': str(wheelhouse), 'state': 'present', '_ansible_check_mode': True})
    assert result['changed'] is True
    assert not (wheelhouse / 'SHA256SUMS').exists()


def test_verified_passes_on_an_intact_wheelhouse(wheelhouse):
    run({'path': str(wheelhouse), 'state': 'present'})
    result = run({'path': str(wheelhouse)})
    assert result['changed'] is False
    assert sorted(result['files']) == ['a-1.0-py3-none-any.whl', 'b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl']


def test_tampered_wheel_is_named(wheelhouse):
    run({'path': str(wheelhouse), 'state': 'present'})
    (wheelhouse / 'b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl').write_bytes(b'evil')
    result = run({'path': str(wheelhouse)}, AnsibleFailJson)
    assert result['mismatched'] == ['b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl']
    assert result['msg'] == (
        'The wheelhouse %s does not match its manifest; nothing was installed. Wheels that differ from the'
        ' manifest (tampered or corrupt): b-2.0-cp311-cp311-manylinux_2_34_x86_64.whl. Rebuild it with the'
        ' virinco.pywats.wheelhouse playbook, or restore the files.' % wheelhouse)


def test_missing_and_unlisted_wheels_are_named(wheelhouse):
    run({'path': str(wheelhouse), 'state': 'present'})
    (wheelhouse / 'a-1.0-py3-none-any.whl').unlink()
    (wheelhouse / 'c-3.0-py3-none-any.whl').write_bytes(b'smuggled')
    result = run({'path': str(wheelhouse)}, AnsibleFailJson)
    assert result['missing'] == ['a-1.0-py3-none-any.whl']
    assert result['unlisted'] == ['c-3.0-py3-none-any.whl']
    assert 'listed but missing: a-1.0-py3-none-any.whl' in result['msg']
    assert 'not listed in the manifest: c-3.0-py3-none-any.whl' in result['msg']


def test_no_manifest_and_malformed_manifest(wheelhouse):
    result = run({'path': str(wheelhouse)}, AnsibleFailJson)
    assert 'has no manifest SHA256SUMS' in result['msg']
    (wheelhouse / 'SHA256SUMS').write_text('deadbeef a-1.0-py3-none-any.whl\n')
    result = run({'path': str(wheelhouse)}, AnsibleFailJson)
    assert 'is malformed: line 1' in result['msg']


def test_not_a_directory(tmp_path):
    result = run({'path': str(tmp_path / 'nope')}, AnsibleFailJson)
    assert result['msg'] == 'The wheelhouse %s is not a directory.' % (tmp_path / 'nope')


def test_manifest_matches_sha256sum_tool(wheelhouse):
    # The manifest is what `sha256sum *.whl` prints, so admins can check it by hand.
    import subprocess
    run({'path': str(wheelhouse), 'state': 'present'})
    res = subprocess.run(['sha256sum', '--check', '--quiet', 'SHA256SUMS'], cwd=str(wheelhouse), check=False)
    assert res.returncode == 0


def test_the_archive_of_a_cpus_wheels_is_listed_and_verified(wheelhouse):
    (wheelhouse / 'pywats-wheels-linux-x86_64.tar').write_bytes(b'archive')
    (wheelhouse / 'other.tar').write_bytes(b'not ours')
    run({'path': str(wheelhouse), 'state': 'present'})
    assert '%s  pywats-wheels-linux-x86_64.tar\n' % sha(b'archive') in (wheelhouse / 'SHA256SUMS').read_text()
    assert 'other.tar' not in (wheelhouse / 'SHA256SUMS').read_text()
    (wheelhouse / 'pywats-wheels-linux-x86_64.tar').write_bytes(b'tampered')
    result = run({'path': str(wheelhouse)}, AnsibleFailJson)
    assert result['mismatched'] == ['pywats-wheels-linux-x86_64.tar']


def test_archives_without_wheels_are_no_wheelhouse(tmp_path):
    (tmp_path / 'pywats-wheels-linux-x86_64.tar').write_bytes(b'archive')
    result = run({'path': str(tmp_path), 'state': 'present'}, AnsibleFailJson)
    assert result['msg'] == 'The wheelhouse %s holds no wheels.' % tmp_path
