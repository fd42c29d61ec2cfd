# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values the role computes, one function at a time, with the role's own tables."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_values as values

ROLE_VARS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "pywats_client", "vars", "main.yml")
with open(ROLE_VARS, encoding="utf-8") as fh:
    VARS = yaml.safe_load(fh)
WHEELS = VARS["_pywats_client_pyside6_wheels"]
CONVERTERS = {"wats_json": {"module_path": "conv.Json", "file_patterns": ["*.json"]},
              "teradyne_ict": {"module_path": "conv.Ict", "file_patterns": ["*.log"]}}


def test_converters_config_fills_every_default_on_linux():
    out = values.converters_config([{"path": "/srv/pywats/inbox/"}], CONVERTERS)
    assert out == [{"name": "inbox", "module_path": "conv.Json", "watch_folder": "/srv/pywats/inbox",
                    "done_folder": "/srv/pywats/inbox/Done", "error_folder": "/srv/pywats/inbox/Error",
                    "pending_folder": "/srv/pywats/inbox/Pending", "converter_type": "file", "enabled": True,
                    "file_patterns": ["*.json"], "post_action": "move", "arguments": {}}]


def test_converters_config_keeps_what_the_folder_sets():
    wf = {"path": "/srv/a", "converter": "teradyne_ict", "name": "ict", "module_path": "my.Conv",
          "done_folder": "/srv/archive", "enabled": "no", "file_patterns": ["*.txt"], "post_action": "archive",
          "arguments": {"k": 1}}
    (out,) = values.converters_config([wf], CONVERTERS)
    assert (out["name"], out["module_path"], out["done_folder"], out["error_folder"], out["enabled"],
            out["file_patterns"], out["post_action"], out["arguments"]) == (
        "ict", "my.Conv", "/srv/archive", "/srv/a/Error", False, ["*.txt"], "archive", {"k": 1})
    # An empty module_path falls back to the converter's; an unknown converter has none.
    assert values.converters_config([{"path": "/srv/a", "module_path": ""}], CONVERTERS)[0]["module_path"] == "conv.Json"
    assert values.converters_config([{"path": "/srv/a", "converter": "csv"}], CONVERTERS)[0]["module_path"] == ""


def test_converters_config_on_windows():
    folders = [{"path": "D:/WATS/drop/"}, {"path": "\\\\fileserver\\ict$\\line4", "done_folder": "E:/archive/line4"},
               {"path": "E:\\"}]
    a, b, c = values.converters_config(folders, CONVERTERS, windows=True)
    assert (a["name"], a["watch_folder"], a["done_folder"], a["pending_folder"]) == (
        "drop", "D:\\WATS\\drop", "D:\\WATS\\drop\\Done", "D:\\WATS\\drop\\Pending")
    assert (b["name"], b["watch_folder"], b["done_folder"]) == ("line4", "\\\\fileserver\\ict$\\line4", "E:\\archive\\line4")
    assert c["watch_folder"] == "E:"


@pytest.mark.parametrize("arch, glibc, tier", [
    ("x86_64", "2.36", {"from": "6.10.0", "glibc": "2.34", "below": ""}),
    ("x86_64", "2.31", {"from": "6.3.0", "glibc": "2.28", "below": "6.10.0"}),
    ("x86_64", "2.17", {}),
    ("aarch64", "2.36", {"from": "6.5.3", "glibc": "2.31", "below": "6.8.1"}),
    ("aarch64", "2.41", {"from": "6.8.1", "glibc": "2.39", "below": ""}),
    ("aarch64", "", {}),
    ("riscv64", "2.41", {}),
])
def test_pyside6_tier(arch, glibc, tier):
    assert values.pyside6_tier(WHEELS, arch, glibc) == tier


@pytest.mark.parametrize("arch, version, glibc", [
    ("x86_64", "6.12.0", "2.34"), ("x86_64", "6.9.3", "2.28"), ("x86_64", "6.2.4", ""),
    ("aarch64", "6.8.0.2", "2.31"), ("aarch64", "6.8.1", "2.39"), ("x86_64", "", ""),
])
def test_pyside6_pin_glibc(arch, version, glibc):
    assert values.pyside6_pin_glibc(WHEELS, arch, version) == glibc


def test_inotify_raise_only_what_is_below():
    wanted = {"max_user_watches": 524288, "max_user_instances": "512"}
    assert values.inotify_raise(wanted, {"max_user_watches": 8192, "max_user_instances": 1024}) == ["max_user_watches"]
    assert values.inotify_raise(wanted, {}) == ["max_user_watches", "max_user_instances"]
    assert values.inotify_raise(wanted, {"max_user_watches": 524288, "max_user_instances": None}) == ["max_user_instances"]


def test_selinux_port_types_reads_semanage_output():
    lines = ["SELinux Port Type              Proto    Port Number",
             "http_cache_port_t              tcp      8080, 8118, 8123, 10001-10010",
             "http_port_t                    tcp      80, 81, 443, 488, 8008, 8009, 8443, 9000",
             "unreserved_port_t              tcp      1024-32767, 32768-61000",
             "http_cache_port_t              udp      3130",
             "jboss_management_port_t        tcp      4447, 4712, 7600, 9123, 9990, 9999, 18001"]
    generic = VARS["_pywats_client_selinux_generic_port_types"]
    assert values.selinux_port_types(lines, 8080, generic) == ["http_cache_port_t"]
    assert values.selinux_port_types(lines, 10005, generic) == ["http_cache_port_t"]
    assert values.selinux_port_types(lines, 18181, generic) == []
    assert values.selinux_port_types(lines, 3130, generic) == []
    assert values.selinux_port_types(lines, 9000, []) == ["http_port_t", "unreserved_port_t"]


HOTFIX_VARS = os.path.join(os.path.dirname(ROLE_VARS), "hotfixes.yml")
HOTFIX_BASE = os.path.join(os.path.dirname(ROLE_VARS), "..", "files", "hotfixes")


def hotfix_texts(version):
    with open(HOTFIX_VARS, encoding="utf-8") as fh:
        fixes = yaml.safe_load(fh)["_pywats_client_hotfixes"][version]
    texts = []
    for fix in fixes:
        with open(os.path.join(HOTFIX_BASE, version, fix["file"]), encoding="utf-8") as fh:
            texts.append(fh.read())
    return fixes, texts


def test_hotfix_set_files_and_an_id_that_follows_every_input():
    fixes, texts = hotfix_texts("0.6.0rc1")
    on = values.hotfix_set("0.6.0rc1", fixes, texts)
    assert on["files"] == ["pywats_client/service/async_converter_pool.py", "pywats_client/converters/__init__.py",
                           "pywats_client/service/async_pending_queue.py", "pywats_client/service/health_server.py"]
    # The id the role's earlier Jinja gave this set: stations keep their record.
    assert values.hotfix_set("0.6.0rc1", fixes, texts, skip=["02-queue-failed-submit"])["id"] == (
        "206ef2c34838e73797846383b2dca5511d9c5fdb24ebab6da351a685240cf6dd")
    others = [values.hotfix_set("0.6.0rc1", fixes, texts, enabled=False)["id"],
              values.hotfix_set("0.6.0rc1", fixes, texts, skip=[fixes[0]["id"]])["id"],
              values.hotfix_set("0.6.0rc2", fixes, texts)["id"],
              values.hotfix_set("0.6.0rc1", fixes, [texts[0] + " "] + texts[1:])["id"]]
    assert len(set(others + [on["id"]])) == 5
    assert values.hotfix_set("0.5.0", [], [])["files"] == []


def test_wheel_platform_tags():
    assert values.wheel_platform_tags("windows", "amd64", "") == ["win_amd64"]
    tags = values.wheel_platform_tags("linux", "aarch64", "2.36")
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert len(tags) == 36 - 17 + 2


@pytest.mark.parametrize("name, arch, takes", [
    ("pywats_api-0.6.0rc1-py3-none-any.whl", "x86_64", True),
    ("PySide6_Essentials-6.10.1-cp39-abi3-manylinux_2_34_x86_64.whl", "x86_64", True),
    ("PySide6_Essentials-6.10.1-cp39-abi3-manylinux_2_34_x86_64.whl", "aarch64", False),
    ("pydantic_core-2.41.5-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "aarch64", True),
    ("pywin32-311-cp311-cp311-win_amd64.whl", "x86_64", False),
    ("a-1-cp311-cp311-musllinux_1_2_x86_64.whl", "x86_64", True),
    ("a-1-cp311-cp311-manylinux_2_17_x86_64.whl.metadata", "x86_64", False),
])
def test_wheel_file_pattern(name, arch, takes):
    import re
    assert bool(re.search(values.wheel_file_pattern(arch), name)) is takes
    assert values.wheel_archive_name(arch) == "pywats-wheels-linux-%s.tar" % arch


def test_mount_roots_leave_out_what_a_mounted_watch_folder_holds():
    paths = ["/srv/in", "/srv/in/Done", "/srv/in-other", "/srv/archive", "/srv/in/Done", "/srv/in2/Error"]
    assert values.mount_roots(paths, ["/srv/in", "/srv/in2"]) == ["/srv/in", "/srv/in-other", "/srv/archive"]


def test_manifest_helpers():
    results = [{"item": "linux/amd64", "rc": 0, "stdout": '{"Descriptor": {"digest": "sha256:a"}}'},
               {"item": "linux/arm64", "rc": 1, "stdout": ""},
               {"item": "linux/arm64", "stdout": ""}]
    assert values.manifest_digests(results) == {"amd64": "sha256:a"}
    listed = {"manifests": [{"platform": {"architecture": "arm64"}, "digest": "sha256:b"},
                            {"platform": {"architecture": "amd64"}, "digest": "sha256:a"}]}
    assert values.manifest_list_entries(listed) == ["amd64@sha256:a", "arm64@sha256:b"]
    assert values.manifest_list_entries({}) == [] and values.manifest_list_entries(None) == []
