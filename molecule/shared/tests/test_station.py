"""What an ops team sees on a converged station, checked against the WATS stand-in.

The tests run in file order: the crash and reboot tests come last.
"""

import json
import os
import re
import shlex
import time
import uuid

import pytest
from conftest import REPO, SERVICE, docker, http_status, standin, wait_healthy


def test_unit_is_enabled_and_active(host):
    svc = host.service(SERVICE)
    assert svc.is_enabled
    assert svc.is_running


def test_main_process_runs_as_service_account(host, station):
    pid = host.run("systemctl show -p MainPID --value %s" % SERVICE).stdout.strip()
    assert pid not in ("", "0")
    owner = host.run("stat -c %%U /proc/%s" % pid).stdout.strip()
    assert owner == station["user"]


def test_service_account_has_no_login_shell(host, station):
    assert host.user(station["user"]).shell in ("/usr/sbin/nologin", "/sbin/nologin")


def test_health_endpoint_answers(station):
    assert http_status("http://127.0.0.1:%d/health" % station["health_port"]) == 200


@pytest.mark.parametrize("path", ["/var/lib/pywats/config_default.json"])
def test_secret_files_are_private(host, station, path):
    f = host.file(path)
    assert f.exists
    assert f.mode == 0o600
    assert f.user == station["user"]
    assert f.group == station["user"]


def test_config_carries_role_options(host, station):
    cfg = json.loads(host.file("/var/lib/pywats/config_default.json").content_string)
    assert cfg["service_address"] == station["standin_url"]
    assert cfg["api_token"] == station["token"]
    assert [c["watch_folder"] for c in cfg["converters"]] == station["watch_folders"]


def test_pip_index_settings_are_root_only(host, station):
    """An index URL (it may carry credentials) lives in root's pip.conf; without one there is no file."""
    f = host.file("/etc/pywats/pip.conf")
    if not station["pip_index_url"]:
        assert not f.exists
        return
    assert f.exists and f.mode == 0o600 and f.user == "root" and f.group == "root"
    # The inventory names it through a role variable, which the verifier cannot resolve.
    urls = [line.split(" = ", 1)[1] for line in f.content_string.splitlines() if line.startswith("index-url = ")]
    assert len(urls) == 1 and urls[0].startswith("https://"), f.content_string
    assert urls[0] not in host.run("ps -eo args").stdout


def test_token_not_in_systemd_files(host, station):
    content = host.run("find /etc/systemd /lib/systemd/system -type f -name '*pywats*' -print0 | xargs -0 -r cat").stdout
    # The executable quoted as one word (systemd.syntax(7)), its arguments after it.
    assert '/bin/pywats-client" service' in host.file("/etc/systemd/system/%s.service" % SERVICE).content_string
    assert station["token"] not in content
    everything = host.run("find /etc/systemd -type f -print0 | xargs -0 -r cat").stdout
    assert station["token"] not in everything


def test_token_not_in_any_command_line(host, station):
    # Read every command line out and search here: a grep for the token would
    # itself carry the token in its arguments.
    out = host.run("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done").stdout
    assert "pywats-client service" in out
    assert station["token"] not in out


def test_token_not_in_journal(host, station):
    out = host.run("journalctl --no-pager -o cat").stdout
    assert station["token"] not in out


def playbook_output(path):
    """The logged output of ansible-playbook runs only: this verifier's own
    ansible-inventory calls (which print the inventory, test token included)
    log to the same file."""
    runs, current = {}, None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = re.match(r"^\S+ \S+ p=(\d+) u=\S+ n=\S+ \w+\| ?(.*)", line)
            if m:
                current = m.group(1)
                runs.setdefault(current, []).append(m.group(2))
            elif current:
                runs[current].append(line)
    plays = [lines for lines in runs.values() if lines and lines[0].startswith(("PLAY [", "TASK [", "PLAYBOOK"))]
    return "\n".join("\n".join(lines) for lines in plays)


def test_token_not_in_converge_output(station):
    text = playbook_output(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "ansible.log"))
    assert "Write the client configuration" in text, "converge output was not logged"
    assert station["token"] not in text


def test_unit_is_hardened(host):
    out = host.run("systemd-analyze security %s --no-pager" % SERVICE).stdout
    line = [l for l in out.splitlines() if "Overall exposure level" in l][0]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.5, line


def test_inotify_floor_written(host):
    conf = host.file("/etc/sysctl.d/60-pywats.conf")
    assert conf.exists
    values = dict(l.split("=", 1) for l in conf.content_string.splitlines() if "=" in l and not l.startswith("#"))
    values = {k.strip(): int(v) for k, v in values.items()}
    assert values["fs.inotify.max_user_watches"] >= 524288
    assert values["fs.inotify.max_user_instances"] >= 512


def uploads_of(station, sn):
    return [r for r in standin.reports(station["standin_url"]) if r.get("serialNumber") == sn]


def drop_and_wait(host, station, tmp_path, watch, prefix):
    """Drop a report into watch (write, then rename: the client may read a file still being
    written), wait until the stand-in has it and the file is in Done; return its serial."""
    sn = prefix + uuid.uuid4().hex[:12]
    with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report["sn"] = sn
    report["id"] = str(uuid.uuid4())
    src = tmp_path / "report.json"
    src.write_text(json.dumps(report), encoding="utf-8")
    staged, final = "%s/.%s.part" % (watch, sn), "%s/%s.json" % (watch, sn)
    docker("cp", str(src), "%s:%s" % (station["name"], staged))
    assert host.run("chown %s: %s && mv %s %s" % (
        station["user"], shlex.quote(staged), shlex.quote(staged), shlex.quote(final))).rc == 0

    bound = 60 * station["wait_factor"]
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline and not uploads_of(station, sn):
        time.sleep(0.5)
    assert uploads_of(station, sn), "report %s did not reach the stand-in within %d s; calls it saw: %s" % (
        sn, bound, standin.request_log(station["standin_url"])[-10:])
    deadline = time.monotonic() + 30 * station["wait_factor"]
    while time.monotonic() < deadline and host.file(final).exists:
        time.sleep(0.5)
    assert not host.file(final).exists
    assert sn in host.run("ls -1 %s/Done" % shlex.quote(watch)).stdout
    return sn


def test_report_in_watch_folder_reaches_server(host, station, tmp_path):
    drop_and_wait(host, station, tmp_path, station["watch"], "SN-MOLECULE-")


def test_unit_has_no_setting_systemd_ignores(host):
    """A path systemd splits (an unquoted space) is logged as ignored, and the folder
    stays read-only for the service: the unit must verify without such a line."""
    out = host.run("systemd-analyze verify /etc/systemd/system/%s.service 2>&1" % SERVICE)
    # Only what the role's quoting governs: an older systemd may also ignore a hardening
    # key it does not know, which the role accepts there.
    ignored = [line for line in out.stdout.splitlines()
               if "ignoring" in line.lower() and ("Paths=" in line or "ExecStart" in line or "not absolute" in line)]
    assert ignored == [], out.stdout


def test_report_in_a_spaced_folder_is_uploaded_once_across_restarts(host, station, tmp_path):
    spaced = [path for path in station["watch_folders"] if " " in path]
    if not spaced:
        pytest.skip("this scenario has no watch folder with a space")
    sn = drop_and_wait(host, station, tmp_path, spaced[0], "SN-SPACED-")
    for restart in (1, 2):
        assert host.run("systemctl restart %s" % SERVICE).rc == 0, "restart %d" % restart
        assert wait_healthy(host, station["health_port"], timeout=90 * station["wait_factor"]) is not None
    time.sleep(5)
    assert len(uploads_of(station, sn)) == 1


def test_service_recovers_from_sigkill(host, station):
    before = host.run("systemctl show -p MainPID --value %s" % SERVICE).stdout.strip()
    assert host.run("kill -KILL %s" % before).rc == 0
    time.sleep(1)
    bound = 90 * station["wait_factor"]
    took = wait_healthy(host, station["health_port"], timeout=bound)
    assert took is not None, "not active and healthy within %d s of SIGKILL" % bound
    after = host.run("systemctl show -p MainPID --value %s" % SERVICE).stdout.strip()
    assert after != before


def test_service_survives_reboot(host, station):
    docker("restart", "--time", "30", station["name"], timeout=120)
    bound = 120 * station["wait_factor"]
    assert wait_healthy(host, station["health_port"], timeout=bound) is not None, \
        "not active and healthy within %d s of a restart of the container" % bound
    assert host.service(SERVICE).is_enabled
