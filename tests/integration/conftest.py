"""Fixtures for integration tests against real systemd containers of the
local test fleet (images from scripts/build-images.sh)."""
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The ansible-playbook of the interpreter running the tests (the project's venv).
_BESIDE = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
ANSIBLE_PLAYBOOK = _BESIDE if os.path.exists(_BESIDE) else (shutil.which("ansible-playbook") or "ansible-playbook")

# This kernel refuses --privileged: SYS_ADMIN, no seccomp filter and the host's
# cgroup tree let systemd run as PID 1. Host networking: loopback only.
RUN_FLAGS = [
    "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
    "--cgroupns", "host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
    "--stop-signal", "SIGRTMIN+3",
]


def docker(*args, check=True, timeout=120):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, timeout=timeout)


class Station:
    def __init__(self, name):
        self.name = name

    def run(self, line):
        return docker("exec", self.name, "sh", "-c", line, check=False).stdout


def start_station(name, image, network="host"):
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--hostname", name, "--network", network, *RUN_FLAGS,
           image, "/lib/systemd/systemd")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            return Station(name)
        time.sleep(0.5)
    raise RuntimeError("systemd in %s did not finish booting: %s" % (name, state))


@pytest.fixture(scope="session")
def debian12_station():
    station = start_station("pywats-it-debian12", os.environ.get("PYWATS_TEST_IMAGE", "pywats-test/debian:12"))
    yield station
    docker("rm", "-f", station.name, check=False)


@pytest.fixture(scope="session")
def ansible_env():
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(REPO, ".collections")
    env["ANSIBLE_FORCE_COLOR"] = "false"
    env["ANSIBLE_NOCOLOR"] = "true"
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env.pop("ANSIBLE_LOG_PATH", None)
    return env


@pytest.fixture(scope="session")
def wheelhouse():
    """The run's shared wheelhouse (built by the `wheelhouse` stage of scripts/run-tests.sh)."""
    path = os.environ.get("PYWATS_WHEELHOUSE", os.path.join(REPO, ".cache", "wheelhouse"))
    if not os.path.exists(os.path.join(path, "SHA256SUMS")):
        pytest.fail("no wheelhouse at %s: run scripts/run-tests.sh wheelhouse first" % path)
    return path
