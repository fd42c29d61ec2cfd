# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pywats_station_state: the one read a re-run decides on. Paths are real files
and directories in a temp dir; the package database and systemd are read from
their real output formats."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import grp
import hashlib
import os
import pwd

import pytest

from ansible_collections.virinco.pywats.plugins.modules import pywats_station_state as st
from ansible_collections.virinco.pywats.tests.unit.plugins.modules import utils as harness
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.utils import AnsibleExitJson, module_args

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def sha1(data):
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "dir").mkdir()
    os.chmod(str(tmp_path / "dir"), 0o750)
    (tmp_path / "file").write_bytes(b"content\n")
    os.chmod(str(tmp_path / "file"), 0o600)
    os.symlink(str(tmp_path / "dir"), str(tmp_path / "link"))
    return tmp_path


def spec(path, **kw):
    base = {"path": str(path), "type": "file", "follow": False, "owner": None, "group": None, "mode": None,
            "checksum": None}
    base.update(kw)
    return base


def test_a_path_as_wanted_is_ok(tree):
    got = st.read_path(spec(tree / "file", owner=ME, group=MY_GROUP, mode="0600", checksum=sha1(b"content\n")))
    assert got == {"exists": True, "type": "file", "owner": ME, "group": MY_GROUP, "mode": "0600",
                   "checksum": sha1(b"content\n"), "ok": True}
    assert st.read_path(spec(tree / "dir", type="directory", mode="750"))["ok"] is True


@pytest.mark.parametrize("change", [
    {"mode": "0644"}, {"owner": "nobody-else"}, {"group": "nobody-else"}, {"checksum": sha1(b"other\n")},
    {"type": "directory"}, {"mode": "u=rw"},
])
def test_each_difference_is_drift(tree, change):
    want = dict(owner=ME, group=MY_GROUP, mode="0600", checksum=sha1(b"content\n"))
    want.update(change)
    assert st.read_path(spec(tree / "file", **want))["ok"] is False


def test_missing_path_is_drift(tree):
    got = st.read_path(spec(tree / "none", type="directory"))
    assert got["exists"] is False and got["type"] == "absent" and got["ok"] is False


def test_a_link_is_never_a_directory_unless_followed(tree):
    assert st.read_path(spec(tree / "link", type="directory"))["type"] == "link"
    assert st.read_path(spec(tree / "link", type="directory"))["ok"] is False
    assert st.read_path(spec(tree / "link", type="directory", follow=True))["ok"] is True


def test_dpkg_status_lines():
    out = "python3 ii \nlibglib2.0-0:amd64 ii \npatch rc \n"
    got = st.parse_dpkg(out, ["python3", "libglib2.0-0", "patch", "procps"])
    assert got == {"python3": True, "libglib2.0-0": True, "patch": False, "procps": False}


def test_rpm_lines():
    out = "python3\npackage libglib2 is not installed\n"
    assert st.parse_rpm(out, ["python3", "libglib2"]) == {"python3": True, "libglib2": False}


@pytest.mark.parametrize("props,enabled,state,ok", [
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled", "NeedDaemonReload": "no"}, True, "started", True),
    ({"LoadState": "loaded", "ActiveState": "inactive", "UnitFileState": "enabled", "NeedDaemonReload": "no"}, True, "started", False),
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "disabled", "NeedDaemonReload": "no"}, True, "started", False),
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled", "NeedDaemonReload": "yes"}, True, "started", False),
    ({"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": "", "NeedDaemonReload": "no"}, None, None, False),
    ({"LoadState": "loaded", "ActiveState": "failed", "UnitFileState": "disabled", "NeedDaemonReload": "no"}, False, "stopped", True),
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled", "NeedDaemonReload": "no"}, True, None, True),
])
def test_service_state_against_what_is_wanted(props, enabled, state, ok):
    assert st.service_ok(props, enabled, state) is ok


def test_systemctl_show_output():
    assert st.parse_show("LoadState=loaded\nActiveState=active\nExecMainStatus=0=x\n") == {
        "LoadState": "loaded", "ActiveState": "active", "ExecMainStatus": "0=x"}


def test_user_and_group_read():
    me = st.read_user(ME)
    assert me["exists"] is True and me["uid"] == os.getuid() and me["group"] == MY_GROUP
    assert st.read_user("no-such-account-here") == {"exists": False}
    assert st.read_group(MY_GROUP) == {"exists": True, "gid": os.getgid()}
    assert st.read_group("no-such-group-here") == {"exists": False}


def test_module_reads_and_changes_nothing(tree, monkeypatch):
    harness.patch_exits(monkeypatch)
    before = sorted(os.listdir(str(tree)))
    args = {"paths": [{"path": str(tree / "file"), "mode": "0600", "checksum": sha1(b"content\n")},
                      {"path": str(tree / "dir"), "type": "directory", "mode": "0700"}],
            "venv": {"dir": str(tree / "venv"), "packages": ["pywats-api"]},
            "_ansible_check_mode": True}
    with module_args(args):
        with pytest.raises(AnsibleExitJson) as exc:
            st.main()
    res = exc.value.args[0]
    assert res["changed"] is False
    assert res["paths_drifted"] == [str(tree / "dir")]
    assert res["venv"] == {"python": False, "purelib": None, "versions": {"pywats-api": None}}
    assert res["packages"] == {} and res["packages_missing"] == []
    assert sorted(os.listdir(str(tree))) == before


def test_apt_lists_age(tmp_path):
    lists = tmp_path / "lists"
    stamp = tmp_path / "update-success-stamp"
    assert st.apt_lists_age(stamp=str(stamp), lists=str(lists)) is None
    lists.mkdir()
    (lists / "lock").write_text("")
    assert st.apt_lists_age(stamp=str(stamp), lists=str(lists)) is None
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_text("")
    os.utime(str(lists), (1000, 1000))
    assert st.apt_lists_age(now=1600, stamp=str(stamp), lists=str(lists)) == 600
    stamp.write_text("")
    os.utime(str(stamp), (1500, 1500))
    assert st.apt_lists_age(now=1600, stamp=str(stamp), lists=str(lists)) == 100
