# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Windows station under Wine: the role's own Windows rendering, applied and run.

The image pywats-test/debian:13-wine (scripts/build-images.sh 13-wine) holds Wine 10
and python.org's official embeddable CPython 3.13 for Windows laid out as an installed
Python. This test takes what the role computes for a Windows station (tests/windows'
play: service binary, PythonClass, Parameters values, the service's two environments,
the config file, pip's arguments and requirements, the hotfix targets) and applies
exactly that, as the role's win_* tasks would, with file copies and the service control
manager's API under Wine; then it runs the real client in pywin32's pythonservice.exe
and checks what a station's user sees: RUNNING, /health, one upload per report, a clean
stop, a crash that ends with an error code. docs/windows.md says what it proves and
what still needs a Windows host.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.hotfixes import hotfix_support as hs
from tests.standin import client as standin_client
from tests.windows.test_windows_role import render_cases

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("PYWATS_WINE_IMAGE", "pywats-test/debian:13-wine")
WHEELHOUSE = Path(os.environ.get("PYWATS_WHEELHOUSE", REPO / ".cache" / "wheelhouse"))
PREFIX = "/opt/wine/drive_c"
TOKEN = "wine-station-token-5d1f"
HOST_MODULE = REPO / "roles" / "pywats_client" / "files" / "windows" / "pywats_service_host.py"
HOTFIX_PLAY = REPO / "tests" / "hotfixes" / "windows_apply.yml"
SERVICE_RUNNING, SERVICE_STOPPED = 4, 1
ERROR_SERVICE_SPECIFIC_ERROR = 1066


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unix(win_path):
    """C:\\x\\y as the container's file system has it."""
    assert win_path[:3].upper() == "C:\\", win_path
    return PREFIX + "/" + win_path[3:].replace("\\", "/")


class Station:
    """One container of the Wine image; its wineserver (and with it Wine's service
    manager) lives as long as a python.exe started first sleeps."""

    def __init__(self, name, lane_dir):
        self.name, self.lane = name, lane_dir
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "run", "-d", "--name", name, "--network", "host",
                        "-v", "%s:/wheelhouse:ro" % WHEELHOUSE, "-v", "%s:/lane" % lane_dir, IMAGE,
                        "sleep", "infinity"], check=True, capture_output=True)
        subprocess.run(["docker", "exec", "-d", name, "wine", r"C:\Program Files\Python313\python.exe",
                        "-c", "import time; time.sleep(86400)"], check=True)

    def sh(self, script, check=True, timeout=600):
        res = subprocess.run(["docker", "exec", self.name, "bash", "-c", script], capture_output=True,
                             text=True, timeout=timeout, check=False)
        if check and res.returncode != 0:
            raise AssertionError("%s\n--- stdout\n%s\n--- stderr\n%s" % (script, res.stdout[-3000:], res.stderr[-3000:]))
        return res

    def wine(self, *argv, check=True, timeout=600):
        quoted = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
        return self.sh("wine %s 2>&1 | grep -v XDG_RUNTIME_DIR; exit ${PIPESTATUS[0]}" % quoted, check=check, timeout=timeout)

    def put(self, win_path, content):
        local = self.lane / ("put-" + uuid.uuid4().hex)
        local.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        self.sh("mkdir -p \"$(dirname '%s')\" && cp '/lane/%s' '%s'" % (unix(win_path), local.name, unix(win_path)))

    def get(self, win_path):
        local = self.lane / ("get-" + uuid.uuid4().hex)
        self.sh("cp '%s' '/lane/%s' && chmod 644 '/lane/%s'" % (unix(win_path), local.name, local.name))
        return local.read_bytes()

    def close(self):
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The role's rendering for a Windows station that talks to the stand-in on loopback."""
    port, health = free_port(), free_port()
    case = {"id": "wine-station", "stop": "", "vars": {
        "pywats_client_server_url": "http://127.0.0.1:%d" % port,
        "pywats_client_api_token": TOKEN,
        "pywats_client_health_port": health,
        "pywats_client_install_source": "wheelhouse",
        "pywats_client_wheelhouse_dir": str(WHEELHOUSE),
        # The last PySide6 whose Qt6Core.dll loads under Wine (docs/windows.md).
        "pywats_client_pyside6_version": "6.8.0.2",
        # A space in the path, as station folders often have.
        "pywats_client_watch_folders": [{"path": "C:\\Factory\\line 4"}],
    }}
    out = render_cases([case], tmp_path_factory.mktemp("wine-render"), base_vars={})
    result = out["results"]["wine-station"]
    assert result and result["rendered"], out["res"].stdout[-4000:]
    return dict(result["rendered"], standin_port=port, health_port=health)


@pytest.fixture(scope="module")
def standin(tmp_path_factory, rendered):
    tmp = tmp_path_factory.mktemp("wine-standin")
    token_file = tmp / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    ready = tmp / "ready"
    proc = subprocess.Popen(["python3", str(REPO / "tests" / "standin" / "wats_standin.py"),
                             "--port", str(rendered["standin_port"]), "--token-file", str(token_file),
                             "--state-dir", str(tmp / "state"), "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (ready.exists() and ready.read_text().strip()):
        time.sleep(0.1)
    yield ready.read_text().strip()
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def station(tmp_path_factory, rendered):
    """The role's Windows state applied under Wine, service registered, not started."""
    if not list(WHEELHOUSE.glob("*win_amd64.whl")):
        pytest.fail("no win_amd64 wheels in %s: run scripts/run-tests.sh wheelhouse" % WHEELHOUSE)
    lane = tmp_path_factory.mktemp("wine-lane")
    lane.chmod(0o777)
    st = Station("pywats-wine-station", lane)
    r = rendered
    venv = r["venv_python"].rsplit("\\Scripts\\", 1)[0]
    try:
        # The wheels a Windows station takes (install.yml: only pure and win_amd64 ones).
        wheelhouse = r["pip_install"][r["pip_install"].index("--find-links") + 1]
        st.sh("mkdir -p '%s' && cp /wheelhouse/*-any.whl /wheelhouse/*win_amd64.whl '%s/'"
              % (unix(wheelhouse), unix(wheelhouse)))
        # The venv. Windows' `python -m venv` puts the venvlauncher in Scripts; the
        # embeddable build has neither the venv module nor the launcher, so virtualenv
        # makes it, and python.exe there needs the base DLLs beside it. The service
        # does not use python.exe: what it runs is the role's layout, below.
        st.wine(r"C:\Program Files\Python313\python.exe", "-m", "virtualenv", "--no-periodic-update",
                "--no-download", venv)
        st.sh("cp '%s'/python313.dll '%s'/python3.dll '%s'/vcruntime140*.dll '%s/Scripts/'"
              % ((unix(r"C:\Program Files\Python313"),) * 3 + (unix(venv),)))
        # install.yml: the pinned client, pywin32 and PySide6 from the station's wheelhouse.
        st.wine(*(r["pip_install"] + [r["requirement"], r["pywin32_requirement"], r["pyside6_requirement"]]),
                timeout=900)
        # host.yml: the host module, then what it says goes beside pythonservice.exe.
        st.put(r["host_module"], HOST_MODULE.read_bytes())
        runtime = json.loads(st.wine(r["venv_python"], r["host_module"], "runtime").stdout.strip().splitlines()[-1])
        for path in runtime:
            st.sh("cp '%s' '%s/'" % (unix(path), unix(r["host_runtime_dir"])))
        apply_hotfixes(st, r, lane)
        # configure.yml: data, log and home directories, config file, folders.
        st.put(r["config_file"], r["config_json"])
        for path in [r["state_dir"], r["log_dir"], r["home_dir"]] + r["writable_paths"]:
            st.sh("mkdir -p '%s'" % unix(path))
        st.put("C:\\lane\\scm_driver.py", (Path(__file__).parent / "scm_driver.py").read_bytes())
        spec = {"name": r["service_name"], "display_name": r["display_name"], "binary": r["service_binary"],
                "python_class": r["python_class"], "parameters": r["host_parameters"], "env_value": r["env_value"],
                "runtime_env": r["service_env_lines"], "startup_env": r["startup_env_lines"]}
        st.put("C:\\lane\\spec.json", json.dumps(spec))
        st.scm = lambda *args, **kw: json.loads(
            st.wine(r["venv_python"], "C:\\lane\\scm_driver.py", *map(str, args), **kw).stdout.strip().splitlines()[-1])
        st.applied = st.scm("apply", "C:\\lane\\spec.json")
        yield st
    finally:
        if os.environ.get("PYWATS_WINE_KEEP") != "1":
            st.close()


def apply_hotfixes(st, r, lane):
    """hotfixes.yml: read the target files from the station, patch them with the role's
    controller-side tasks (CRLF staging, ansible.posix.patch), write them back."""
    site = r["venv_python"].rsplit("\\Scripts\\", 1)[0] + "\\Lib\\site-packages"
    originals = {t: st.get(site + "\\" + t.replace("/", "\\")).decode("utf-8") for t in r["hotfix_targets"]}
    assert originals and all("\r\n" in text for text in originals.values())
    out = lane / "hotfix-out"
    out.mkdir()
    extra = lane / "hotfix-vars.json"
    extra.write_text(json.dumps({"__pywats_client_hotfix_originals": originals, "windows_apply_out": str(out),
                                 "windows_apply_hotfix_vars": str(hs.HOTFIX_VARS)}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"), ANSIBLE_NOCOLOR="true",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    playbook = shutil.which("ansible-playbook", path=os.path.dirname(os.sys.executable)) or "ansible-playbook"
    res = subprocess.run([playbook, str(HOTFIX_PLAY), "-e", "@" + str(extra)], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-3000:]
    assert all(json.loads((out / "changed.json").read_text()).values())
    for target in r["hotfix_targets"]:
        st.put(site + "\\" + target.replace("/", "\\"), (out / "files" / target).read_bytes())


def health(port, timeout=2):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open("http://127.0.0.1:%d/health" % port, timeout=timeout) as resp:
            return resp.status
    except OSError:
        return None


def wait_health(port, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if health(port) == 200:
            return True
        time.sleep(1)
    return False


def service_log(st, r, tail=4000):
    try:
        text = st.get(r["service_log"]).decode("utf-8", "replace")
        return text[-tail:] if tail else text
    except AssertionError:
        return "(no service log)"


def test_the_role_registers_pythonservice_in_the_venv_scripts(station, rendered):
    config = station.applied["config"]
    assert config[3] == rendered["service_binary"]
    assert rendered["service_binary"].endswith('\\venv\\Scripts\\pythonservice.exe"')


def test_service_runs_answers_health_and_uploads_a_report_once(station, rendered, standin):
    r = rendered
    started = station.scm("start", r["service_name"])
    assert started["state"] == SERVICE_RUNNING, (started, service_log(station, r))
    assert wait_health(r["health_port"]), ("no /health", station.scm("status", r["service_name"]), service_log(station, r))
    # Stays running.
    time.sleep(5)
    assert station.scm("status", r["service_name"])["state"] == SERVICE_RUNNING
    # One report dropped into the watch folder (written, then renamed into place).
    report = json.loads((REPO / "tests" / "data" / "report-wsjf.json").read_text())
    report.update(sn="SN-WINE-%s" % uuid.uuid4().hex[:8], id=str(uuid.uuid4()))
    watch = json.loads(r["config_json"])["converters"][0]["watch_folder"]
    station.put(watch + "\\..\\incoming.tmp", json.dumps(report))
    station.sh("mv '%s' '%s'" % (unix(watch + "\\..\\incoming.tmp"), unix(watch + "\\report-wine.json")))
    found = standin_client.wait_for_reports(standin, 1, timeout=120)
    assert [rep["serialNumber"] for rep in found] == [report["sn"]], service_log(station, r)
    done = json.loads(r["config_json"])["converters"][0]["done_folder"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and station.sh("ls '%s'" % unix(done)).stdout.strip() == "":
        time.sleep(1)
    assert "report-wine.json" in station.sh("ls '%s'" % unix(done)).stdout
    assert "report-wine.json" not in station.sh("ls '%s'" % unix(watch)).stdout
    # Exactly once, also after a restart.
    stopped = station.scm("stop", r["service_name"], int(r["stop_timeout_sec"]) + 15)
    assert stopped["state"] == SERVICE_STOPPED and stopped["win32_exit_code"] == 0, (stopped, service_log(station, r))
    assert stopped["seconds"] <= int(r["stop_timeout_sec"]), stopped
    assert station.scm("start", r["service_name"])["state"] == SERVICE_RUNNING
    assert wait_health(r["health_port"])
    time.sleep(10)
    assert len(standin_client.reports(standin)) == 1
    log = service_log(station, r, tail=None)
    # Wine's service manager does not hand the service key's Environment value to the
    # process (Windows' does): the host says so and applies it itself.
    assert "did not set PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED, PYTHONUTF8 before Python started" in log


def test_preshutdown_is_the_service_managers_alone(station, rendered):
    """What Wine can say about pre-shutdown: only the service manager sends it (at
    system shutdown); ControlService with SERVICE_CONTROL_PRESHUTDOWN is refused with
    ERROR_INVALID_PARAMETER, as Windows documents, and the service runs on. Wine's own
    shutdown sends none, so the host's pre-shutdown handler is left to the unit tests
    and a Windows host (docs/windows.md)."""
    r = rendered
    if station.scm("status", r["service_name"])["state"] != SERVICE_RUNNING:
        assert station.scm("start", r["service_name"])["state"] == SERVICE_RUNNING
        assert wait_health(r["health_port"])
    result = station.scm("control", r["service_name"], 15)
    assert result.get("error") == [87, "Invalid parameter."], result
    assert result["state"] == SERVICE_RUNNING
    assert station.scm("stop", r["service_name"], 60)["state"] == SERVICE_STOPPED
    assert "stopping (stop)" in service_log(station, r)


def test_a_crash_of_the_client_ends_with_an_error_code(station, rendered):
    r = rendered
    if station.scm("status", r["service_name"])["state"] == SERVICE_RUNNING:
        station.scm("stop", r["service_name"], 60)
    # Upstream crashes on a health port that is not a number: the condition the
    # recovery actions need is a stop with an error code.
    bad = dict(json.loads(json.dumps(r)))
    spec_env = [line if not line.startswith("PYWATS_HEALTH_PORT=") else "PYWATS_HEALTH_PORT=not-a-port"
                for line in bad["service_env_lines"]]
    spec = {"name": r["service_name"], "display_name": r["display_name"], "binary": r["service_binary"],
            "python_class": r["python_class"], "parameters": r["host_parameters"], "env_value": r["env_value"],
            "runtime_env": spec_env, "startup_env": r["startup_env_lines"]}
    station.put("C:\\lane\\crash.json", json.dumps(spec))
    station.scm("apply", "C:\\lane\\crash.json")
    station.scm("start", r["service_name"])
    deadline = time.monotonic() + 90
    st = station.scm("status", r["service_name"])
    while st["state"] != SERVICE_STOPPED and time.monotonic() < deadline:
        time.sleep(1)
        st = station.scm("status", r["service_name"])
    assert st["state"] == SERVICE_STOPPED, (st, service_log(station, r))
    assert st["win32_exit_code"] != 0, (st, service_log(station, r))
    assert "crashed" in service_log(station, r)
    station.scm("apply", "C:\\lane\\spec.json")


def test_pythonservice_in_the_venv_root_cannot_start(station, rendered):
    """Defect 1, the layout of earlier releases: pythonservice.exe beside pyvenv.cfg."""
    r = rendered
    venv = r["venv_python"].rsplit("\\Scripts\\", 1)[0]
    station.sh("cp '%s'/* '%s/'" % (unix(r["host_runtime_dir"]) + "/..", unix(venv)), check=False)
    station.sh("cd '%s' && cp pythonservice.exe pywintypes313.dll python313.dll python3.dll vcruntime140.dll "
               "vcruntime140_1.dll '%s/'" % (unix(r["host_runtime_dir"]), unix(venv)))
    spec = {"name": "pyWATS_RootLayout", "display_name": "root layout", "binary": '"%s\\pythonservice.exe"' % venv,
            "python_class": r["python_class"], "parameters": r["host_parameters"], "env_value": r["env_value"],
            "runtime_env": r["service_env_lines"], "startup_env": r["startup_env_lines"]}
    station.put("C:\\lane\\root.json", json.dumps(spec))
    station.scm("apply", "C:\\lane\\root.json")
    result = station.scm("start", "pyWATS_RootLayout")
    assert result["state"] == SERVICE_STOPPED, result
    assert result.get("error"), result
