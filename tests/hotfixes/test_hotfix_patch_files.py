"""The hotfix patches themselves: listed in vars, documented, relative to
site-packages, and idempotent the way ansible.posix.patch uses them."""

import re
import shutil

import pytest
import yaml

import hotfix_support as hs

FILES = ["pywats_client/service/async_converter_pool.py",
         "pywats_client/service/async_pending_queue.py",
         "pywats_client/service/health_server.py",
         "pywats_client/converters/registry.py"]


def test_vars_list_every_patch_file_in_order():
    listed = yaml.safe_load(hs.HOTFIX_VARS.read_text())["_pywats_client_hotfixes"]
    entries = listed[hs.HOTFIX_VERSION]
    assert [e["file"] for e in entries] == [p.name for p in hs.patch_files()]
    assert [e["id"] + ".patch" for e in entries] == [e["file"] for e in entries]
    assert all(len(e["summary"]) > 40 for e in entries)
    assert len(entries) == 4


@pytest.mark.parametrize("patch", hs.patch_files(), ids=lambda p: p.stem)
def test_patch_is_documented_and_relative_to_site_packages(patch):
    text = patch.read_bytes().decode()
    header = text.split("\n--- ", 1)[0]
    assert hs.HOTFIX_VERSION in header and "Upstream defect:" in header and "Fix:" in header
    paths = re.findall(r"^(?:---|\+\+\+) (\S+)", text, re.M)
    assert paths and all(p == "/dev/null" or p.startswith("pywats_client/") for p in paths)


@pytest.fixture
def pristine(client_venv, tmp_path):
    """The files the patches touch, as the wheel installs them."""
    def copy(dest):
        for rel in FILES[:3]:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(client_venv.site_packages / rel, dest / rel)
        return dest
    assert not (client_venv.site_packages / FILES[3]).exists(), "0.6.0rc1 ships no registry.py"
    return copy


def snapshot(root):
    return {rel: (root / rel).read_bytes() for rel in FILES if (root / rel).exists()}


@pytest.mark.parametrize("patch_id", hs.patch_ids())
def test_patch_applies_once_and_is_detected(patch_id, pristine, tmp_path):
    site = pristine(tmp_path / "site")
    patch = hs.patch_file(patch_id)
    before = snapshot(site)
    assert not hs.patch_is_applied(site, patch)
    hs.apply_patch(site, patch)
    assert snapshot(site) != before
    assert hs.patch_is_applied(site, patch)
    # what ansible.posix.patch would do on a second run: nothing
    assert hs.apply_patch(site, patch, check=False).returncode != 0
    assert hs.patch_is_applied(site, patch)


@pytest.mark.parametrize("left_out", [None, *hs.patch_ids()])
def test_patches_apply_in_any_subset_and_come_out_again(left_out, pristine, tmp_path):
    site = pristine(tmp_path / "site")
    before = snapshot(site)
    chosen = [p for p in hs.patch_ids() if p != left_out]
    for patch_id in chosen:
        hs.apply_patch(site, hs.patch_file(patch_id))
    for patch_id in hs.patch_ids():
        assert hs.patch_is_applied(site, hs.patch_file(patch_id)) is (patch_id in chosen)
    # state: absent, in list order as the role loops: back to the wheel's files
    for patch_id in chosen:
        proc = hs.apply_patch(site, hs.patch_file(patch_id), check=False, reverse=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert snapshot(site) == before
