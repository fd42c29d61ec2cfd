"""Fixtures for the fleet tests: four station containers, the WATS stand-in, and an
AWX-style private data directory that ansible-runner runs the fleet playbooks from.

One fleet serves every test of the module, in order (deploy, failed upgrade, upgrade,
status, uninstall, purge): each test starts from the state the one before left.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from tests.integration.conftest import REPO, RUN_FLAGS, docker
from tests.standin import client as standin_client

IMAGE = os.environ.get("PYWATS_TEST_IMAGE", "pywats-test/debian:12")
STANDIN_PORT = 18300
# Host networking: each station has a health port of its own.
STATIONS = {"pywats-fleet-%d" % i: 18300 + i for i in range(1, 5)}
BIN = os.path.dirname(sys.executable)
PIP_CACHE = os.environ.get("PYWATS_PIP_CACHE") or os.environ.get("PIP_CACHE_DIR") or "/var/cache/pywats-test/pip"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# The AWX project: one playbook per job template, each importing the collection's.
PLAYBOOKS = ("deploy", "upgrade", "uninstall", "status")


def health(port, path="/health"):
    """GET http://127.0.0.1:<port><path> from this host: the status, or None."""
    try:
        with OPENER.open("http://127.0.0.1:%d%s" % (port, path), timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail("timed out after %d s waiting for %s" % (timeout, what))


class Station:
    def __init__(self, name, port):
        self.name, self.port = name, port

    def sh(self, line, check=True):
        res = docker("exec", self.name, "sh", "-c", line, check=False)
        if check and res.returncode != 0:
            raise AssertionError("%s: `%s` exited %d: %s" % (self.name, line, res.returncode, res.stderr))
        return res.stdout

    def exists(self, path):
        return docker("exec", self.name, "test", "-e", path, check=False).returncode == 0

    def unit(self, *props):
        out = self.sh("systemctl show pywats-client.service --property=%s" % ",".join(props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def hotfixes(self):
        """The hotfix ids the role recorded in the station's venv, or None."""
        out = self.sh("cat /opt/pywats/venv/pywats-hotfixes.json 2>/dev/null", check=False)
        return json.loads(out) if out.strip() else None

    def queue(self, suffix):
        out = self.sh("ls /var/lib/pywats/reports 2>/dev/null", check=False)
        return sorted(n for n in out.split() if n.endswith(suffix))


@pytest.fixture(scope="module")
def fleet():
    names = list(STATIONS)
    for name in names:
        docker("rm", "-f", name, check=False)
    for name in names:
        # pip on the stations reads the run's shared cache: the index is asked,
        # but no wheel is downloaded four times.
        docker("run", "-d", "--name", name, "--hostname", name, "--network", "host", *RUN_FLAGS,
               "-v", "%s:/root/.cache/pip:rw" % PIP_CACHE, IMAGE, "/lib/systemd/systemd")
    stations = [Station(n, STATIONS[n]) for n in names]

    def booted():
        return all(docker("exec", s.name, "systemctl", "is-system-running", check=False).stdout.strip()
                   in ("running", "degraded") for s in stations)
    wait_until(booted, 120, "systemd in the station containers")
    yield stations
    # PYWATS_FLEET_KEEP=1 keeps the stations for a look after a failure.
    if os.environ.get("PYWATS_FLEET_KEEP") != "1":
        for s in stations:
            docker("rm", "-f", s.name, check=False)


@pytest.fixture(scope="module")
def token():
    return "fleet-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def standin(tmp_path_factory, token):
    state = tmp_path_factory.mktemp("standin")
    token_file = state / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    script = os.path.join(REPO, "scripts", "standin.sh")
    subprocess.run([script, "start", str(STANDIN_PORT), str(state), str(token_file)], check=True,
                   env=dict(os.environ, PYTHON=sys.executable))
    url = "http://127.0.0.1:%d" % STANDIN_PORT
    yield url
    subprocess.run([script, "stop", str(STANDIN_PORT), str(state)], check=False)


class Job:
    """The outcome of one ansible-runner run: rc, status, stdout and events."""

    def __init__(self, artifacts, rc):
        self.rc = rc
        self.artifacts = artifacts
        with open(os.path.join(artifacts, "status"), encoding="utf-8") as fh:
            self.status = fh.read().strip()
        with open(os.path.join(artifacts, "stdout"), encoding="utf-8", errors="replace") as fh:
            self.stdout = fh.read()
        events_dir = os.path.join(artifacts, "job_events")
        self.events = []
        for name in os.listdir(events_dir):
            with open(os.path.join(events_dir, name), encoding="utf-8") as fh:
                self.events.append(json.load(fh))
        self.events.sort(key=lambda e: e.get("counter", 0))

    def hosts_touched(self):
        """Hosts that any task ran on (ok, changed, failed, skipped, unreachable)."""
        return {e["event_data"]["host"] for e in self.events
                if e.get("event", "").startswith("runner_on_") and e.get("event_data", {}).get("host")}

    def failed_hosts(self):
        return {e["event_data"]["host"] for e in self.events
                if e.get("event") in ("runner_on_failed", "runner_on_unreachable")
                and not e["event_data"].get("ignore_errors")
                and not e["event_data"].get("rescued")}


class PrivateDataDir:
    """A private data directory laid out as AWX lays one out for a job:
    project/ (the SCM checkout, with collections/requirements.yml), inventory/,
    env/extravars (survey answers and credential values), env/envvars,
    and the collection installed from the project's requirements, as a project
    update does, into requirements_collections/."""

    def __init__(self, root, token):
        self.root = root
        self.token = token
        self.runs = 0
        project = root / "project"
        (project / "collections").mkdir(parents=True)
        for name in PLAYBOOKS:
            (project / ("%s.yml" % name)).write_text(
                "---\n- name: Run the collection's %s playbook\n  ansible.builtin.import_playbook: virinco.pywats.%s\n"
                % (name, name))
        build = root / "build"
        subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force",
                        "--output-path", str(build), REPO], check=True, capture_output=True, text=True)
        tarball = next(build.glob("virinco-pywats-*.tar.gz"))
        (project / "collections" / "requirements.yml").write_text(yaml.safe_dump(
            {"collections": [{"name": str(tarball), "type": "file"}]}))
        # Its dependencies come with ansible (the `ansible` package here, the EE in AWX).
        # --force: a checkout on ANSIBLE_COLLECTIONS_PATH must not count as installed.
        subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "--force",
                        "-r", str(project / "collections" / "requirements.yml"),
                        "-p", str(root / "requirements_collections")],
                       check=True, capture_output=True, text=True, env=self.env())
        (root / "env").mkdir()
        (root / "inventory" / "group_vars").mkdir(parents=True)
        # The repository's inventory for the local container fleet, with this
        # fleet's stations and ports.
        shutil.copy(os.path.join(REPO, "inventories", "local", "group_vars", "pywats_stations.yml"),
                    root / "inventory" / "group_vars" / "pywats_stations.yml")
        self._write("env/envvars", {
            "ANSIBLE_COLLECTIONS_PATH": str(root / "requirements_collections"),
            "ANSIBLE_FORCE_COLOR": "false",
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_PIPELINING": "true",
            "ANSIBLE_HOST_KEY_CHECKING": "false",
        })

    @staticmethod
    def env():
        """This environment without the checkout's collection path: jobs use
        what the project installed, as in AWX."""
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_LOG_PATH"):
            env.pop(name, None)
        return env

    def _write(self, rel, data, mode=0o600):
        path = self.root / rel
        path.write_text(yaml.safe_dump(data, default_flow_style=False))
        path.chmod(mode)

    def run(self, playbook, extravars=None, host_vars=None, timeout=2400):
        """Run project/<playbook>.yml as a job; host_vars adds per-host variables."""
        self.runs += 1
        hosts = {}
        for name, port in STATIONS.items():
            hosts[name] = {"pywats_client_health_port": port, "pywats_local_standin_port": STANDIN_PORT}
            hosts[name].update((host_vars or {}).get(name, {}))
        self._write("inventory/hosts.yml", {"pywats_stations": {"hosts": hosts}}, mode=0o644)
        # What the job template, its survey and the token credential put into extravars.
        extra = {"pywats_client_api_token": self.token}
        extra.update(extravars or {})
        self._write("env/extravars", extra)
        ident = "%02d-%s" % (self.runs, playbook)
        start = time.monotonic()
        res = subprocess.run(
            [os.path.join(BIN, "ansible-runner"), "run", str(self.root), "-p", "%s.yml" % playbook,
             "--ident", ident, "--forks", str(len(STATIONS)), "-q"],
            env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)
        job = Job(str(self.root / "artifacts" / ident), res.returncode)
        print("job %s: %s (rc %d) in %.0f s" % (ident, job.status, job.rc, time.monotonic() - start))
        return job


@pytest.fixture(scope="module")
def awx(tmp_path_factory, token):
    return PrivateDataDir(tmp_path_factory.mktemp("awx-job"), token)


class PortBlocker:
    """Another program on a station's health port: answers every GET with 503."""

    def __init__(self, port):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = b'{"status": "not the pyWATS client"}'
                self.send_response(503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def port_blocker():
    blockers = []

    def block(port):
        blockers.append(PortBlocker(port))
        return blockers[-1]
    yield block
    for b in blockers:
        b.close()


__all__ = ["STATIONS", "STANDIN_PORT", "health", "wait_until", "standin_client"]
