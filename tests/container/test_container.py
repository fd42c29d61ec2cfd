"""The role virinco.pywats.pywats_client_container on this machine's Docker
engine, deployed to localhost (the Docker host) from the local base image and
the run's wheelhouse, against the WATS stand-in.

The tests run in file order and share one deployment: refused bad input ->
deploy -> health, inspect, secrets, user -> upload -> stop with a queued
report, restart, upload -> second run changes nothing -> a changed build
input rebuilds and replaces the container -> compose-only file.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import yaml

from tests.integration.conftest import ANSIBLE_PLAYBOOK, REPO, docker
# The run's wheelhouse, as a fixture shared with the integration tests.
from tests.integration.conftest import wheelhouse  # noqa: F401  pylint: disable=unused-import
from tests.standin import client as standin

STANDIN_PORT = 18401
HEALTH_PORT = 18402
NAME = "pywats-ctr-test"
IMAGE_NAME = "pywats-ctr/client"
UID = GID = 10042
# Debian 12 from scripts/build-images.sh with glib and patch added (the image
# of air-gapped stations): the build needs no package index, only the wheelhouse.
BASE_IMAGE = os.environ.get("PYWATS_CONTAINER_BASE_IMAGE", "pywats-test/debian:12-airgap")
STANDIN_URL = "http://127.0.0.1:%d" % STANDIN_PORT
PLAY = """- hosts: localhost
  gather_facts: false
  roles:
    - role: virinco.pywats.pywats_client_container
"""


def inspect(ref, kind="container"):
    out = docker(kind, "inspect", ref, check=False)
    return json.loads(out.stdout)[0] if out.returncode == 0 else None


def wait_until(predicate, timeout, what, interval=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))


@pytest.fixture(scope="module")
def site(wheelhouse):  # pylint: disable=redefined-outer-name
    base = tempfile.mkdtemp(prefix="pywats-ctr-")
    token = "ctr-token-" + uuid.uuid4().hex
    token_file = os.path.join(base, "standin-token")
    with open(token_file, "w", encoding="utf-8") as fh:
        fh.write(token)
    os.chmod(token_file, 0o600)
    standin_dir = os.path.join(base, "standin")
    subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "start", str(STANDIN_PORT), standin_dir, token_file],
                   check=True)
    os.chmod(base, 0o755)
    # A second watch folder given as a symbolic link to an ordinary directory: the role
    # hands over the directory it leads to and leaves the link as it is.
    os.makedirs(os.path.join(base, "shelf", "line2"))
    os.makedirs(os.path.join(base, "inbox"))
    os.symlink(os.path.join(base, "shelf", "line2"), os.path.join(base, "inbox", "line2"))
    data = {
        "base": base,
        "token": token,
        "watch": os.path.join(base, "inbox", "wsjf"),
        "state": os.path.join(base, "state"),
        "etc": os.path.join(base, "etc"),
        "logs": [],
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "pywats_client_server_url": STANDIN_URL,
            "pywats_client_api_token": token,
            "pywats_client_health_port": HEALTH_PORT,
            "pywats_client_watch_folders": [{"path": os.path.join(base, "inbox", "wsjf")},
                                            {"path": os.path.join(base, "inbox", "line2")}],
            "pywats_client_install_source": "wheelhouse",
            "pywats_client_wheelhouse_dir": wheelhouse,
            "pywats_client_container_base_image": BASE_IMAGE,
            # No network for the build: base image and wheelhouse bring it all.
            "pywats_client_container_build_network": "none",
            "pywats_client_container_network_mode": "host",
            "pywats_client_container_name": NAME,
            "pywats_client_container_image_name": IMAGE_NAME,
            "pywats_client_container_uid": UID,
            "pywats_client_container_gid": GID,
            "pywats_client_container_config_dir": os.path.join(base, "etc"),
            "pywats_client_container_state_dir": os.path.join(base, "state"),
            "pywats_client_container_health_interval": 5,
        },
    }
    yield data
    docker("rm", "-f", NAME, check=False)
    images = docker("images", "-q", IMAGE_NAME, check=False).stdout.split()
    if images:
        docker("rmi", "-f", *sorted(set(images)), check=False)
    subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "stop", str(STANDIN_PORT), standin_dir], check=False)
    shutil.rmtree(base, ignore_errors=True)


def ansible_env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".collections"), ANSIBLE_PIPELINING="true",
               ANSIBLE_NOCOLOR="true", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", ANSIBLE_LOCALHOST_WARNING="false")
    env.pop("ANSIBLE_LOG_PATH", None)
    return env


def play(site, extra=None, check=False, timeout=900):
    """The role with the site's variables (and `extra`), from a 0600 vars file; prints the
    recap and the ten slowest tasks, keeps the output in site["logs"]."""
    variables = dict(site["vars"], **(extra or {}))
    path = os.path.join(site["base"], "vars-%d.json" % len(site["logs"]))
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(variables, fh)
    os.chmod(path, 0o600)
    playbook = os.path.join(site["base"], "play.yml")
    with open(playbook, "w", encoding="utf-8") as fh:
        fh.write(PLAY)
    cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", playbook, "-e", "@" + path] + (["--check"] if check else [])
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), timeout=timeout, check=False)
    lines = res.stdout.splitlines()
    marker = "TASKS RECAP " + "*" * 68
    slowest = lines.index(marker) if marker in lines else len(lines) - 12
    # The recap's ten slowest tasks, after its date and rule lines.
    print("\n".join([row for row in lines if row.startswith("localhost ")]
                    + [row for row in lines[slowest + 1:slowest + 15] if re.search(r" -+ [0-9.]+s$", row)][:10]))
    print("ansible-playbook%s took %.0f s" % (" --check" if check else "", time.monotonic() - start))
    site["logs"].append(res.stdout + res.stderr)
    return res


def recap(res):
    line = [row for row in res.stdout.splitlines() if row.startswith("localhost") and "ok=" in row][-1]
    return dict(part.split("=") for part in line.split(":", 1)[1].split())


def drop_report(site, sn, folder=None):
    folder = folder or site["watch"]
    with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report["sn"], report["id"] = sn, str(uuid.uuid4())
    # Write, then rename: the client may read a file still being written.
    staged = os.path.join(folder, ".%s.part" % sn)
    with open(staged, "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    os.rename(staged, os.path.join(folder, sn + ".json"))


def uploaded(sn):
    return [r for r in standin.reports(STANDIN_URL) if r.get("serialNumber") == sn]


def test_bad_input_is_refused_before_any_change(site):
    res = play(site, {"pywats_client_container_uid": 0})
    assert res.returncode != 0
    assert ("pywats_client_container_uid and pywats_client_container_gid must be numeric ids from 1 to"
            " 2147483647 (the client never runs as root); got uid 0 and gid %d." % GID) in res.stdout
    res = play(site, {"pywats_client_container_health_host_address": "localhost"})
    assert res.returncode != 0
    assert "pywats_client_container_health_host_address an IP address of the Docker host" in res.stdout
    assert "got network 'host', address 'localhost'" in res.stdout
    # Two platforms without a registry to put their manifest list in.
    res = play(site, {"pywats_client_container_platforms": ["linux/amd64", "linux/arm64"]})
    assert res.returncode != 0
    assert ("pywats_client_container_platforms must include the Docker host's own platform linux/amd64 (the"
            " container runs that image), and more than one platform needs pywats_client_container_push: true"
            " (their images and the manifest list that joins them live in a registry); got platforms"
            " [linux/amd64, linux/arm64] and push false.") in res.stdout
    assert not os.path.exists(site["etc"]) and not os.path.exists(site["state"])
    assert inspect(NAME) is None


def test_a_folder_that_leads_into_a_refused_place_is_refused_where_it_lives(site):
    """Judged on the Docker host, links followed, before any change: a link to the role's
    own state directory, and (in check mode, so that nothing could change) one to /etc."""
    to_state = os.path.join(site["base"], "inbox", "to-state")
    os.symlink(site["state"], to_state)
    res = play(site, {"pywats_client_watch_folders": [{"path": to_state}]})
    assert res.returncode != 0
    assert ("pywats_client_watch_folders[0].path must be outside the container's state directory %s"
            % site["state"]) in res.stdout
    assert "which resolves to %s on the station" % site["state"] in res.stdout
    assert not os.path.exists(site["etc"]) and not os.path.exists(site["state"])

    to_etc = os.path.join(site["base"], "inbox", "to-etc")
    os.symlink("/etc", to_etc)
    before = os.stat("/etc"), sorted(os.listdir("/etc"))
    res = play(site, {"pywats_client_watch_folders": [{"path": to_etc}]}, check=True)
    assert res.returncode != 0
    assert "pywats_client_watch_folders[0].path must be outside /etc" in res.stdout
    assert "which resolves to /etc on the station" in res.stdout
    after = os.stat("/etc"), sorted(os.listdir("/etc"))
    assert (before[0].st_uid, before[0].st_gid, before[0].st_mode, before[1]) == (
        after[0].st_uid, after[0].st_gid, after[0].st_mode, after[1])
    assert inspect(NAME) is None


def test_deploy_ends_healthy(site):
    res = play(site)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    info = inspect(NAME)
    # The role ended only once Docker itself reported the container healthy.
    assert info["State"]["Health"]["Status"] == "healthy"
    site["container_id"] = info["Id"]
    site["image"] = info["Config"]["Image"]


def test_inspect_shows_health_check_stop_signal_and_restart_policy(site):
    info = inspect(NAME)
    assert info["Config"]["Healthcheck"]["Test"] == [
        "CMD", "/opt/pywats/venv/bin/python", "-I", "/usr/local/bin/pywats-healthcheck"]
    assert info["Config"]["StopSignal"] == "SIGTERM"
    assert info["Config"]["StopTimeout"] == 30
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert info["Config"]["User"] == "%d:%d" % (UID, GID)
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert info["HostConfig"]["Init"] is True
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    for inside in ("/etc/pywats/config.json", "/run/secrets/pywats_api_token", "/etc/pywats/pywats-client.env"):
        assert mounts[inside]["Type"] == "bind" and mounts[inside]["RW"] is False, inside
    assert mounts["/var/lib/pywats"]["Source"] == site["state"] and mounts["/var/lib/pywats"]["RW"]
    assert mounts[site["watch"]]["Source"] == site["watch"] and mounts[site["watch"]]["RW"]
    image = inspect(site["image"], "image")
    labels = image["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == "0.6.0rc1"
    assert labels["io.virinco.pywats.collection-version"] == yaml.safe_load(
        open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8"))["version"]
    assert labels["io.virinco.pywats.hotfixes"] == (
        "01-converter-registry,02-queue-failed-submit,03-pending-queue-submit,04-health-server-stop")
    assert image["Config"]["Healthcheck"]["Test"][-1] == "/usr/local/bin/pywats-healthcheck"


def test_runs_as_the_configured_non_root_uid(site):
    top = docker("top", NAME, "-o", "pid,uid,args").stdout.splitlines()[1:]
    assert any("pywats-client service" in line for line in top), top
    assert {line.split()[1] for line in top} == {str(UID)}, top


def test_token_stays_out_of_inspect_history_logs_and_output(site):
    token = site["token"]
    assert token not in docker("inspect", NAME).stdout
    assert token not in docker("image", "inspect", site["image"]).stdout
    assert token not in docker("history", "--no-trunc", site["image"]).stdout
    logs = docker("logs", NAME)
    assert token not in logs.stdout + logs.stderr
    assert all(token not in log for log in site["logs"])
    with open(os.path.join(site["etc"], "config.json"), encoding="utf-8") as fh:
        assert json.load(fh)["api_token"] == ""
    token_file = os.stat(os.path.join(site["etc"], "api-token"))
    assert (token_file.st_mode & 0o777, token_file.st_uid, token_file.st_gid) == (0o440, 0, GID)
    for root, dummy, files in os.walk(site["state"]):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                with open(path, "rb") as fh:
                    assert token.encode() not in fh.read(), path


def test_dropped_report_reaches_the_standin(site):
    sn = "SN-CTR-" + uuid.uuid4().hex[:10]
    drop_report(site, sn)
    wait_until(lambda: uploaded(sn), 90, "report %s at the stand-in" % sn, 0.5)
    done = os.path.join(site["watch"], "Done", sn + ".json")
    wait_until(lambda: os.path.exists(done), 30, "report in Done")
    # What the client writes on the host belongs to its uid.
    written = [os.path.join(r, n) for r, ds, fs in os.walk(site["state"]) for n in ds + fs]
    assert written
    assert {os.lstat(p).st_uid for p in written} == {UID}, written


def test_a_watch_folder_given_as_a_link_works(site):
    link = os.path.join(site["base"], "inbox", "line2")
    target = os.path.join(site["base"], "shelf", "line2")
    assert os.path.islink(link)
    assert os.stat(target).st_uid == UID and os.stat(os.path.join(target, "Done")).st_uid == UID
    sn = "SN-CTR-LINK-" + uuid.uuid4().hex[:8]
    drop_report(site, sn, link)
    wait_until(lambda: uploaded(sn), 90, "report %s uploaded from the linked folder" % sn, 0.5)
    wait_until(lambda: os.path.exists(os.path.join(target, "Done", sn + ".json")), 30,
               "report %s moved to Done" % sn, 0.5)


def test_stop_exits_0_and_a_queued_report_survives_restart(site):
    sn = "SN-CTR-Q-" + uuid.uuid4().hex[:8]
    reports = os.path.join(site["state"], "reports")
    standin.set_failure(STANDIN_URL, 503)
    try:
        drop_report(site, sn)
        queued = wait_until(lambda: [n for n in os.listdir(reports) if n.startswith(sn + ".")
                                     and n.endswith((".queued", ".error"))],
                            90, "report %s queued after the refused upload" % sn, 0.5)
        start = time.monotonic()
        stop = docker("stop", NAME, timeout=120)
        took = time.monotonic() - start
        print("docker stop took %.1f s" % took)
        assert stop.returncode == 0
        state = inspect(NAME)["State"]
        # 0, not 137: the client ended on SIGTERM before Docker's stop timeout
        # would have sent SIGKILL.
        assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 0, False)
        left = [n for n in os.listdir(reports) if n.startswith(sn + ".")]
        assert any(n.endswith((".queued", ".error")) for n in left), (queued, left)
        for name in left:
            assert os.stat(os.path.join(reports, name)).st_uid == UID
        assert not uploaded(sn)
    finally:
        standin.reset(STANDIN_URL)
    docker("start", NAME)
    wait_until(lambda: inspect(NAME)["State"]["Health"]["Status"] == "healthy", 180, "healthy after restart")
    wait_until(lambda: uploaded(sn), 120, "queued report %s uploaded after the restart" % sn, 0.5)
    assert len(uploaded(sn)) == 1


def test_second_run_changes_nothing(site):
    res = play(site)
    assert res.returncode == 0, res.stdout[-6000:]
    assert recap(res)["changed"] == "0", [row for row in res.stdout.splitlines() if row.startswith("changed")]
    assert inspect(NAME)["Id"] == site["container_id"]


def test_changed_build_input_rebuilds_and_replaces_the_container(site):
    # Only 0.6.0rc1 runs headless (see the README), so pin the PySide6 that
    # the image holds: a real build input that forces a new image.
    pyside = docker("exec", NAME, "/opt/pywats/venv/bin/python", "-c",
                    "import importlib.metadata as m; print(m.version('PySide6-Essentials'))").stdout.strip()
    assert pyside
    res = play(site, {"pywats_client_pyside6_version": pyside})
    assert res.returncode == 0, res.stdout[-6000:]
    info = inspect(NAME)
    assert info["Config"]["Image"] != site["image"]
    assert info["Id"] != site["container_id"]
    assert info["State"]["Health"]["Status"] == "healthy"
    with open(os.path.join(site["etc"], "build", "Containerfile"), encoding="utf-8") as fh:
        assert "PySide6-Essentials==%s" % pyside in fh.read()
    assert inspect(site["container_id"]) is None


def test_compose_only_writes_a_valid_compose_file(site):
    etc = os.path.join(site["base"], "compose-etc")
    # With the image built above as a prebuilt image: present here, so not pulled.
    res = play(site, {"pywats_client_container_compose_only": True, "pywats_client_container_name": NAME + "-compose",
                      "pywats_client_container_config_dir": etc, "pywats_client_container_image": site["image"],
                      "pywats_client_container_network_mode": "bridge"})
    assert res.returncode == 0, res.stdout[-6000:]
    assert inspect(NAME + "-compose") is None
    path = os.path.join(etc, "docker-compose.yml")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert site["token"] not in text
    service = yaml.safe_load(text)["services"]["pywats-client"]
    assert service["image"] == site["image"] and "build" not in service
    assert service["restart"] == "unless-stopped"
    assert service["ports"] == ["127.0.0.1:%d:%d" % (HEALTH_PORT, HEALTH_PORT)]
    assert service["healthcheck"]["test"][-1] == "/usr/local/bin/pywats-healthcheck"
    assert "%s/api-token:/run/secrets/pywats_api_token:ro" % etc in service["volumes"]
    assert "PYWATS_API_TOKEN" not in service["environment"]
    compose = (["docker", "compose"] if docker("compose", "version", check=False).returncode == 0
               else [shutil.which("docker-compose") or "docker-compose"])
    checked = subprocess.run(compose + ["-f", path, "config", "-q"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
