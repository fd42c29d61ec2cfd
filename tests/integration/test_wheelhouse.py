"""Air-gapped installs from a wheelhouse: a tampered wheel is refused before
anything changes, and a fleet of offline stations installs from one wheelhouse
that was fetched from the index once."""
import json
import os
import shutil
import subprocess
import time

import pytest

from tests.integration.conftest import ANSIBLE_PLAYBOOK, REPO, docker, start_station
from tests.support.traces import traces

BAD_INPUT = os.path.join(os.path.dirname(__file__), "bad_input")
# Air-gapped stations get their OS packages from a golden image or an internal
# mirror; the wheelhouse brings the Python packages.
IMAGE = os.environ.get("PYWATS_AIRGAP_IMAGE", "pywats-test/debian:12-airgap")


def inventory(tmp_path, hosts):
    path = tmp_path / "inventory"
    lines = ["[pywats_stations]"] + ["%s pywats_client_health_port=%d" % h for h in hosts]
    lines += ["[pywats_stations:vars]", "ansible_connection=community.docker.docker",
              "ansible_python_interpreter=/usr/bin/python3", "pywats_deploy_become=false"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def assert_refused(station, ansible_env, tmp_path, case):
    """The bad-input play with this case: the role refuses it with the case's message and
    leaves no trace on the station."""
    extra = tmp_path / "case.json"
    extra.write_text(json.dumps(case))
    res = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", inventory(tmp_path, [(station.name, 18184)]),
         os.path.join(BAD_INPUT, "play.yml"), "-e", "@" + os.path.join(BAD_INPUT, "base_vars.yml"),
         "-e", "@" + str(extra)],
        capture_output=True, text=True, env=ansible_env, timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "rescued=1" in res.stdout
    assert traces(station.run) == [], "the refused run left traces on the station"


def test_tampered_wheel_is_refused_before_any_change(debian12_station, ansible_env, wheelhouse, tmp_path):
    assert traces(debian12_station.run) == []
    copy = tmp_path / "wheelhouse"
    shutil.copytree(wheelhouse, copy)
    victim = sorted(n for n in os.listdir(copy) if n.startswith("pywats_api-"))[0]
    with open(copy / victim, "ab") as fh:
        fh.write(b"\0tampered")
    case = {
        "pywats_client_install_source": "wheelhouse",
        "pywats_client_wheelhouse_dir": str(copy),
        "bad_input_expected_msg": (
            "The wheelhouse %s does not match its manifest; nothing was installed. Wheels that differ from the"
            " manifest (tampered or corrupt): %s. Rebuild it with the virinco.pywats.wheelhouse playbook,"
            " or restore the files." % (copy, victim)),
    }
    assert_refused(debian12_station, ansible_env, tmp_path, case)


def test_wheelhouse_without_the_archive_for_the_stations_cpu_is_refused(debian12_station, ansible_env, wheelhouse, tmp_path):
    """A wheelhouse built before the per-CPU archives existed, its manifest intact."""
    copy = tmp_path / "wheelhouse"
    shutil.copytree(wheelhouse, copy)
    (copy / "pywats-wheels-linux-x86_64.tar").unlink()
    manifest = (copy / "SHA256SUMS").read_text().splitlines()
    (copy / "SHA256SUMS").write_text("".join(line + "\n" for line in manifest if not line.endswith("x86_64.tar")))
    case = {
        "pywats_client_install_source": "wheelhouse",
        "pywats_client_wheelhouse_dir": str(copy),
        # Judged after the preflight module (it needs the station's CPU); no server runs here.
        "pywats_client_preflight_skip": ["server_dns", "server_tcp", "server_tls", "server_api", "clock_skew"],
        "bad_input_expected_msg": (
            "The wheelhouse pywats_client_wheelhouse_dir (%s) has no pywats-wheels-linux-x86_64.tar, the archive of"
            " the wheels for x86_64 stations that this station is sent. Build the wheelhouse with the"
            " virinco.pywats.wheelhouse playbook and a target for x86_64; nothing was changed on the station." % copy),
    }
    assert_refused(debian12_station, ansible_env, tmp_path, case)


@pytest.fixture(scope="module")
def offline_fleet():
    names = ["pywats-it-offline-%d" % i for i in range(1, 5)]
    stations = [start_station(n, IMAGE, network="none") for n in names]
    yield stations
    for s in stations:
        docker("rm", "-f", s.name, check=False)


def test_offline_fleet_installs_from_one_wheelhouse(offline_fleet, ansible_env, wheelhouse, tmp_path):
    manifest = os.path.join(wheelhouse, "SHA256SUMS")
    built = os.stat(manifest).st_mtime
    hosts = [(s.name, 18211 + i) for i, s in enumerate(offline_fleet)]
    extra = tmp_path / "fleet.json"
    extra.write_text(json.dumps({
        "pywats_client_install_source": "wheelhouse",
        "pywats_client_wheelhouse_dir": wheelhouse,
        "pywats_client_server_url": "http://127.0.0.1:18086",
        "pywats_client_api_token": "offline-fleet-token",
        "pywats_client_watch_folders": [{"path": "/srv/pywats/inbox/wsjf"}],
        "pywats_client_systemd_private_users": False,
        "pywats_client_sysctl_apply": False,
        # No network at all: the WATS server is out of reach too.
        "pywats_client_preflight_skip": ["server_dns", "server_tcp", "server_tls", "server_api", "clock_skew"],
    }))
    env = dict(ansible_env, ANSIBLE_FORKS="4")
    start = time.monotonic()
    res = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-v", "-i", inventory(tmp_path, hosts), os.path.join(REPO, "playbooks", "deploy.yml"),
         "-e", "@" + str(extra)],
        capture_output=True, text=True, env=env, timeout=900, check=False)
    took = time.monotonic() - start
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    for s in offline_fleet:
        assert s.run("ls /sys/class/net").split() == ["lo"], "%s has a network" % s.name
        assert s.run("systemctl is-active pywats-client").strip() == "active"
    for name, port in hosts:
        code = docker("exec", name, "python3", "-c",
                      "import urllib.request as u; print(u.urlopen('http://127.0.0.1:%d/health', timeout=5).status)"
                      % port, check=False)
        assert code.stdout.strip() == "200", (name, code.stderr)
    # Every station's pip ran with --no-index from its copy of the wheelhouse, and
    # the wheelhouse was not fetched again: the index was asked once, by its build.
    assert res.stdout.count('"--no-index"') >= len(offline_fleet), "pip ran without --no-index"
    assert os.stat(manifest).st_mtime == built
    print("offline fleet of %d deployed in %.0f s" % (len(offline_fleet), took))
