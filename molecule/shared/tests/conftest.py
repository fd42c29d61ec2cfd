"""Shared fixtures for the station verifier: stand-in access, the station's
settings from the Molecule inventory, and the service journal on failure."""

import os
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# Imported after sys.path is set above; test_station.py takes `standin` from here.
from tests.standin import client as standin  # noqa: E402  # pylint: disable=unused-import

SERVICE = "pywats-client"


@pytest.fixture(scope="module")
def station(host):
    """The station's settings as the inventory gives them."""
    v = host.ansible.get_variables()
    return {
        "name": v["inventory_hostname"],
        "health_port": int(v["pywats_client_health_port"]),
        "standin_url": "http://127.0.0.1:%d" % int(v["wats_standin_port"]),
        "token": v["wats_standin_token"],
        "watch": v["pywats_client_watch_folders"][0]["path"],
        "watch_folders": [wf["path"] for wf in v["pywats_client_watch_folders"]],
        "user": v.get("pywats_client_user", "pywats"),
        # Emulated stations (molecule/arm64) run everything several times slower.
        "wait_factor": float(v.get("molecule_wait_factor", 1)),
        "pip_index_url": v.get("pywats_client_pip_index_url", ""),
    }


def http_status(url, timeout=3.0):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_healthy(host, port, timeout):
    """Wait until the unit is active and GET /health answers 200; return seconds taken."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        active = host.run("systemctl is-active %s" % SERVICE).stdout.strip() == "active"
        if active and http_status("http://127.0.0.1:%d/health" % port) == 200:
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def docker(*args, timeout=120):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=timeout)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "host" in item.funcargs:
        host = item.funcargs["host"]
        try:
            journal = host.run("journalctl -u %s -n 60 --no-pager -o short-iso" % SERVICE).stdout
            status = host.run("systemctl status %s --no-pager" % SERVICE).stdout
        except Exception as exc:  # the container may be gone: say so, keep the failure
            journal, status = "(journal not readable: %s)" % exc, ""
        report.sections.append(("service status", status))
        report.sections.append(("service journal (last 60 lines)", journal))
