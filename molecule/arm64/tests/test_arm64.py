"""A Debian 12 arm64 station under emulation: the shared station checks (a report
reaches the stand-in, secrets, hardening, recovery from SIGKILL and from a restart
of the whole station), and what is particular to aarch64 (the CPU the station runs
and the PySide6 release its glibc allows).

Left out: the pip index settings check (this scenario installs from the wheelhouse,
so no index is configured) and the SELinux check (Debian without SELinux is covered
natively).
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tests"))

# Collected here as this scenario's tests; the order is the shared file's.
from test_station import (  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position
    test_unit_is_enabled_and_active,
    test_main_process_runs_as_service_account,
    test_service_account_has_no_login_shell,
    test_health_endpoint_answers,
    test_secret_files_are_private,
    test_config_carries_role_options,
    test_token_not_in_systemd_files,
    test_token_not_in_any_command_line,
    test_token_not_in_journal,
    test_token_not_in_converge_output,
    test_unit_is_hardened,
    test_inotify_floor_written,
    test_report_in_watch_folder_reaches_server,
    test_service_recovers_from_sigkill,
    test_service_survives_reboot,
)

VENV = "/opt/pywats/venv"


def test_station_runs_aarch64(host):
    assert host.run("uname -m").stdout.strip() == "aarch64"
    assert host.run("dpkg --print-architecture").stdout.strip() == "arm64"
    # The venv's interpreter is the station's own aarch64 build, not an x86_64 one.
    machine = host.run("%s/bin/python -c 'import platform; print(platform.machine())'" % VENV)
    assert machine.stdout.strip() == "aarch64", machine.stderr


def test_pyside6_is_the_last_release_for_glibc_2_31_to_2_38(host):
    # Debian 12 has glibc 2.36: PySide6-Essentials 6.8.1 and later are manylinux_2_39 on
    # aarch64, so the role bounds it to <6.8.1 and pip takes 6.8.0.2 (manylinux_2_31).
    probe = host.run(
        "%s/bin/python -c \"import importlib.metadata as m; d = m.distribution('PySide6-Essentials');"
        " print(d.version); print(d.read_text('WHEEL'))\"" % VENV)
    assert probe.rc == 0, probe.stderr
    lines = probe.stdout.splitlines()
    assert lines[0] == "6.8.0.2"
    assert "Tag: cp39-abi3-manylinux_2_31_aarch64" in lines
    qt = host.run("%s/bin/python -c 'import PySide6.QtCore as q; print(q.qVersion())'" % VENV)
    assert qt.rc == 0 and qt.stdout.strip().startswith("6.8."), qt.stderr
