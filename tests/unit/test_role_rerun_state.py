# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What lets a re-run skip work: the hotfix state that the module
pywats_hotfix_set records in a station's venv, and the state read (module
pywats_station_state) that reads it back, with the releases the venv holds,
from the venv's files and without starting its interpreter. A re-run may skip
the hotfixes only while every patched file is exactly as the set left it; these
tests record and read in a real venv, whose own interpreter names its
site-packages."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_venv
from ansible_collections.virinco.pywats.plugins.modules import pywats_station_state as station_state

REPO = Path(__file__).resolve().parents[2]
VARS = yaml.safe_load((REPO / "roles/pywats_client/vars/main.yml").read_text(encoding="utf-8"))
FILES = ["pkg/a.py", "pkg/sub/b.py"]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    return python, Path(purelib), root / VARS["_pywats_client_hotfix_state"]


@pytest.fixture()
def patched(venv):
    python, purelib, state = venv
    for rel in FILES:
        (purelib / rel).parent.mkdir(parents=True, exist_ok=True)
        (purelib / rel).write_bytes(b"patched " + rel.encode() + b"\r\n")
    if state.exists():
        state.unlink()
    return python, purelib, state


def probe(python, state):
    """The hotfix state as the state read finds it, with the site-packages it found,
    which must be the one the venv's own interpreter names."""
    read = station_state.read_venv({"dir": str(python.parent.parent), "packages": [], "hotfix_state": state.name})
    assert read["python"] is True
    return dict(read["hotfix"], purelib=read["purelib"])


def record(python, purelib, state, set_id, files=None):
    """Record as pywats_hotfix_set does; "changed" or "unchanged"."""
    del python
    text = pywats_venv.hotfix_state_text(str(purelib), set_id, FILES if files is None else files)
    if state.exists() and state.read_text(encoding="utf-8") == text:
        return "unchanged"
    state.write_text(text, encoding="utf-8")
    state.chmod(0o644)
    return "changed"


def test_no_record_means_apply(patched):
    python, purelib, state = patched
    got = probe(python, state)
    assert got == {"purelib": str(purelib), "set": None, "files_ok": False}


def test_record_then_unchanged_files_skip(patched):
    python, purelib, state = patched
    assert record(python, purelib, state, "set-1") == "changed"
    assert probe(python, state) == {"purelib": str(purelib), "set": "set-1", "files_ok": True}
    # Recording the same state again changes nothing (the role reports ok).
    assert record(python, purelib, state, "set-1") == "unchanged"
    assert oct(state.stat().st_mode & 0o777) == "0o644"


def test_edited_file_means_apply(patched):
    python, purelib, state = patched
    record(python, purelib, state, "set-1")
    (purelib / FILES[1]).write_bytes(b"reinstalled by pip\r\n")
    got = probe(python, state)
    assert got["set"] == "set-1"
    assert got["files_ok"] is False


def test_missing_file_means_apply(patched):
    python, purelib, state = patched
    record(python, purelib, state, "set-1")
    (purelib / FILES[0]).unlink()
    assert probe(python, state)["files_ok"] is False


def test_file_missing_when_recorded_never_counts_as_applied(patched):
    python, purelib, state = patched
    record(python, purelib, state, "set-1", files=FILES + ["pkg/never.py"])
    assert probe(python, state)["files_ok"] is False


def test_other_set_is_reported(patched):
    python, purelib, state = patched
    record(python, purelib, state, "set-1")
    assert record(python, purelib, state, "set-2") == "changed"
    assert probe(python, state)["set"] == "set-2"


def test_broken_record_means_apply(patched):
    python, purelib, state = patched
    state.write_text("{not json", encoding="utf-8")
    assert probe(python, state) == {"purelib": str(purelib), "set": None, "files_ok": False}


def test_venv_read_reports_releases(venv):
    python, purelib, dummy = venv
    dist = purelib / "pywats_api-0.6.0rc1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pywats-api\nVersion: 0.6.0rc1\n", encoding="utf-8")
    read = station_state.read_venv({"dir": str(python.parent.parent), "packages": ["pywats-api", "PySide6-Essentials"]})
    assert read["versions"] == {"pywats-api": "0.6.0rc1", "PySide6-Essentials": None}
    assert read["purelib"] == str(purelib)


def test_venv_read_agrees_with_the_venvs_own_interpreter(tmp_path):
    """A venv with pip: the release the state read finds in the files is the one the
    venv's importlib.metadata reports."""
    root = tmp_path / "withpip"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    want = subprocess.run([str(root / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('pip'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    read = station_state.read_venv({"dir": str(root), "packages": ["pip", "PIP", "not-there"]})
    assert read["versions"] == {"pip": want, "PIP": want, "not-there": None}


def test_no_venv_reads_as_empty(tmp_path):
    read = station_state.read_venv({"dir": str(tmp_path / "none"), "packages": ["pip"], "hotfix_state": "x.json"})
    assert read == {"python": False, "purelib": None, "versions": {"pip": None}, "hotfix": {"set": None, "files_ok": False}}
