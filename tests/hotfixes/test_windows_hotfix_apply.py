"""The Windows hotfix path, on the real upstream files: a Windows station has
no GNU patch, so the role patches copies of the station's files on the
controller (tasks/windows/hotfix_apply.yml) with the same patch files, the
same CRLF staging and the same module as on Linux, and copies the results
back. Here it runs on the pristine 0.6.0rc1 files from the cached client venv
(the wheel is pure Python: the same files a Windows station installs) and must
give byte for byte what GNU patch gives on Linux, change nothing the second
time, and take a fix out again when it is switched off."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import hotfix_support as hs

PLAY = Path(__file__).resolve().parent / "windows_apply.yml"
_BESIDE = Path(sys.executable).parent / "ansible-playbook"
ANSIBLE_PLAYBOOK = str(_BESIDE) if _BESIDE.exists() else (shutil.which("ansible-playbook") or "ansible-playbook")


def targets():
    out = []
    for path in hs.patch_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("+++ ") and line[4:].split()[0] not in out:
                out.append(line[4:].split()[0])
    return out


def read_tree(base):
    return {t: (base / t).read_bytes() for t in targets()}


def run_apply(tmp_path, name, originals, **extra):
    out = tmp_path / name
    out.mkdir()
    extra_vars = tmp_path / f"{name}.json"
    extra_vars.write_text(json.dumps(dict(
        __pywats_client_hotfix_originals={k: v.decode("utf-8") for k, v in originals.items()},
        windows_apply_out=str(out), windows_apply_hotfix_vars=str(hs.HOTFIX_VARS), **extra)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(hs.REPO / ".collections"), ANSIBLE_NOCOLOR="true",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    res = subprocess.run([ANSIBLE_PLAYBOOK, str(PLAY), "-e", "@" + str(extra_vars)],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    return read_tree(out / "files"), json.loads((out / "changed.json").read_text())


@pytest.fixture
def pristine(client_venv):
    files = read_tree(client_venv.site_packages)
    assert all(b"\r\n" in content for content in files.values()), "upstream files are expected with CRLF"
    return files


@pytest.fixture
def linux_result(client_venv, tmp_path):
    overlay = hs.make_overlay(client_venv.site_packages, tmp_path / "linux", hs.patch_ids())
    return read_tree(overlay)


def test_same_result_as_gnu_patch_on_linux_then_idempotent(tmp_path, pristine, linux_result):
    first, changed = run_apply(tmp_path, "first", pristine)
    assert changed == {pid: True for pid in hs.patch_ids()}
    assert first == linux_result
    assert first != pristine
    again, changed = run_apply(tmp_path, "again", first)
    assert changed == {pid: False for pid in hs.patch_ids()}
    assert again == first


def test_switched_off_fix_is_taken_out(tmp_path, pristine, linux_result):
    skipped = "04-health-server-stop"
    out, changed = run_apply(tmp_path, "skip", linux_result, pywats_client_hotfixes_skip=[skipped])
    assert changed == {pid: pid == skipped for pid in hs.patch_ids()}
    target = "pywats_client/service/health_server.py"
    assert out[target] == pristine[target]
    assert {k: v for k, v in out.items() if k != target} == {k: v for k, v in linux_result.items() if k != target}


def test_hotfix_targets_match_the_role_vars():
    # The role computes the same list from the patch headers (vars/Windows.yml).
    with open(hs.HOTFIX_VARS, encoding="utf-8") as fh:
        listed = [fix["file"] for fix in yaml.safe_load(fh)["_pywats_client_hotfixes"][hs.HOTFIX_VERSION]]
    assert sorted(listed) == sorted(p.name for p in hs.patch_files())
    assert len(targets()) == 4
