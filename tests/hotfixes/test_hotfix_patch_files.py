"""The hotfix patches themselves: listed in vars, documented, relative to
site-packages, and idempotent the way ansible.posix.patch uses them."""

import re
import shutil

import pytest
import yaml

import hotfix_support as hs


def patched_paths(patch):
    return re.findall(r"^(?:---|\+\+\+) (\S+)", patch.read_bytes().decode(), re.M)


ALL_PATHS = sorted({p for f in hs.patch_files() for p in patched_paths(f)})


def test_vars_list_every_patch_file_in_order():
    listed = yaml.safe_load(hs.HOTFIX_VARS.read_text())["_pywats_client_hotfixes"]
    entries = listed[hs.HOTFIX_VERSION]
    assert [e["file"] for e in entries] == [p.name for p in hs.patch_files()]
    assert [e["id"] + ".patch" for e in entries] == [e["file"] for e in entries]
    assert all(len(e["summary"]) > 40 for e in entries)
    assert len(entries) == 4


@pytest.mark.parametrize("patch", hs.patch_files(), ids=lambda p: p.stem)
def test_patch_is_documented_and_relative_to_site_packages(patch):
    header = patch.read_bytes().decode().split("\n--- ", 1)[0]
    assert hs.HOTFIX_VERSION in header and "Upstream defect:" in header and "Fix:" in header
    paths = patched_paths(patch)
    assert paths and all(p.startswith("pywats_client/") for p in paths)


def test_patches_touch_only_files_the_wheel_installs(client_venv):
    """A reinstall (pip rewrites the files in RECORD, keeps any other) must
    leave a state the patches apply to again: so no patch creates a file."""
    [record] = client_venv.site_packages.glob("pywats_api-*.dist-info/RECORD")
    installed = {line.split(",")[0] for line in record.read_text().splitlines()}
    assert set(ALL_PATHS) <= installed


@pytest.fixture
def pristine(client_venv, tmp_path):
    """pristine(dest): the files the patches touch, as the wheel installs them."""
    def copy(dest):
        for rel in ALL_PATHS:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(client_venv.site_packages / rel, dest / rel)
        return dest
    return copy


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("patch_id", hs.patch_ids())
def test_patch_applies_once_and_is_detected(patch_id, pristine, tmp_path):
    site = pristine(tmp_path / "site")
    patch = hs.patch_file(patch_id)
    before = snapshot(site)
    assert not hs.patch_is_applied(site, patch)
    hs.apply_patch(site, patch)
    after = snapshot(site)
    assert after != before and after.keys() == before.keys()  # no .orig, .rej, new file
    assert hs.patch_is_applied(site, patch)
    # what ansible.posix.patch does on a second run: checks, and leaves it
    assert hs.apply_patch(site, patch, check=False).returncode != 0
    assert hs.patch_is_applied(site, patch) and snapshot(site) == after


@pytest.mark.parametrize("left_out", [None, *hs.patch_ids()])
def test_patches_apply_in_any_subset_and_come_out_again(left_out, pristine, tmp_path):
    site = pristine(tmp_path / "site")
    before = snapshot(site)
    chosen = [p for p in hs.patch_ids() if p != left_out]
    for patch_id in chosen:
        hs.apply_patch(site, hs.patch_file(patch_id))
    for patch_id in hs.patch_ids():
        assert hs.patch_is_applied(site, hs.patch_file(patch_id)) is (patch_id in chosen)
    # state: absent, in list order as the role loops: back to the wheel's files,
    # with no backup (.orig) or reject file left behind
    for patch_id in chosen:
        proc = hs.apply_patch(site, hs.patch_file(patch_id), check=False, reverse=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert snapshot(site) == before


def test_reinstalled_package_takes_the_patches_again(pristine, tmp_path):
    site = pristine(tmp_path / "site")
    for patch_id in hs.patch_ids():
        hs.apply_patch(site, hs.patch_file(patch_id))
    pristine(site)  # what `pip install --force-reinstall` does to these files
    for patch_id in hs.patch_ids():
        assert not hs.patch_is_applied(site, hs.patch_file(patch_id))
        hs.apply_patch(site, hs.patch_file(patch_id))
        assert hs.patch_is_applied(site, hs.patch_file(patch_id))
