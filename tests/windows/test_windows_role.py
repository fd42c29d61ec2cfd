"""The role on Windows stations, as far as it runs without one.

No Windows host can be reached here, so these tests run what the role does on
the controller for a Windows station: the dispatch from facts to the Windows
task tree and vars/Windows.yml, every option check (which must refuse bad
input before the first task that talks to the station), and what the role
computes from its options through its real vars and templates (the service's
command line and environment, the config file, the account, the recovery
actions, the shutdown timeout). Each case is one host of a single play that
carries a Windows Server 2022 station's facts over a local connection; molecule/windows runs the rest against a real station.
"""
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = os.path.join(REPO, "roles", "pywats_client")
_BESIDE = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
ANSIBLE_PLAYBOOK = _BESIDE if os.path.exists(_BESIDE) else (shutil.which("ansible-playbook") or "ansible-playbook")
PREFLIGHT_TASK = "Check that this Windows station can run the client"
SECRETS = ("Pr0xy-Secret-4e", "Svc-Secret-71aa", "Never-Shown-93c1", "windows-test-token-8c2e")

with open(os.path.join(HERE, "cases.yml"), encoding="utf-8") as fh:
    CASES = yaml.safe_load(fh)
with open(os.path.join(HERE, "base_vars.yml"), encoding="utf-8") as fh:
    BASE_VARS = yaml.safe_load(fh)
with open(os.path.join(HERE, "facts", "windows-server-2022.json"), encoding="utf-8") as fh:
    FACTS = json.load(fh)


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def render_cases(cases, tmp, base_vars=None):
    """Run play.yml for these cases (one host each) in the directory tmp.

    Returns {"res", "results" (by case id: where the role stopped and what it
    rendered), "fill", "tokens"}. tests/wine applies what it renders under Wine.
    """
    # Stand-ins for the binaries the role copies from the controller: only
    # their checksums matter before the first task that talks to the station.
    nssm = tmp / "nssm.exe"
    nssm.write_bytes(b"MZ" + os.urandom(4096))
    installer = tmp / "python-3.12.8-amd64.exe"
    installer.write_bytes(b"MZ" + os.urandom(4096))
    tokens = {"@NSSM_SRC@": str(nssm), "@NSSM_SHA256@": sha256(nssm),
              "@INSTALLER@": str(installer), "@INSTALLER_SHA256@": sha256(installer)}

    def fill(value):
        text = json.dumps(value)
        for token, real in tokens.items():
            text = text.replace(token, real)
        return json.loads(text)

    out = tmp / "out"
    out.mkdir()
    hosts = {}
    for case in cases:
        host_vars = dict(copy.deepcopy(BASE_VARS if base_vars is None else base_vars),
                         pywats_client_windows_nssm_src=str(nssm), pywats_client_windows_nssm_sha256=sha256(nssm))
        host_vars.update(fill(case["vars"]))
        host_vars.update(ansible_connection="local", ansible_python_interpreter=sys.executable,
                         windows_case_out=str(out), windows_role_dir=ROLE, windows_facts=FACTS)
        hosts[case["id"]] = host_vars
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))

    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".collections"), ANSIBLE_NOCOLOR="true",
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_FORKS="8", ANSIBLE_LOCALHOST_WARNING="false")
    env.pop("ANSIBLE_LOG_PATH", None)
    res = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), os.path.join(HERE, "play.yml")],
                         capture_output=True, text=True, env=env, timeout=600, check=False)
    results = {}
    for case in cases:
        path = out / ("%s.json" % case["id"])
        results[case["id"]] = json.loads(path.read_text()) if path.exists() else None
    return {"res": res, "results": results, "fill": fill, "tokens": tokens}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One ansible-playbook run for every case; the results by case id."""
    return render_cases(CASES, tmp_path_factory.mktemp("windows-role"))


def test_play_ran_every_case(run):
    res = run["res"]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    missing = [cid for cid, result in run["results"].items() if result is None]
    assert missing == [], "no result for %s:\n%s" % (missing, res.stdout[-4000:])


def test_no_secret_in_the_output(run):
    output = run["res"].stdout + run["res"].stderr
    assert [s for s in SECRETS if s in output] == []


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_stops_where_and_why_expected(run, case):
    result = run["results"][case["id"]]
    assert result is not None and result["stop"] is not None, "the role went past every check without stopping"
    assert result["stop"]["task"] == case["stop"], result["stop"]
    if "msg" in case:
        assert result["stop"]["msg"] == run["fill"](case["msg"])
    else:
        # Accepted options reach the Windows preflight module: the first task
        # that talks to the station, which a local connection cannot run.
        assert result["rendered"] is not None


def rendered(run, case_id):
    return run["results"][case_id]["rendered"]


def test_dispatch_reaches_the_windows_tree_with_windows_vars(run):
    r = rendered(run, "accepted-defaults")
    assert r["vars_file_service"] == "pyWATS_Service"
    assert r["state_dir"] == "C:\\ProgramData\\pyWATS"
    assert r["config_file"] == "C:\\ProgramData\\pyWATS\\config_default.json"


def params(r):
    return {p["name"]: (p["data"], p["type"]) for p in r["host_parameters"]}


def test_native_host_registration(run):
    r = rendered(run, "accepted-gmsa-proxy-installer-url")
    assert r["service_host"] == "native"
    # pythonservice.exe in the venv's Scripts, beside its python.exe (in the venv root,
    # site.py would make the venv's parent sys.prefix: tests/wine shows it cannot start
    # there), quoted for the space a path may hold.
    assert r["service_binary"] == '"D:\\pyWATS\\venv\\Scripts\\pythonservice.exe"'
    assert r["host_runtime_dir"] == "D:\\pyWATS\\venv\\Scripts"
    assert r["python_class"] == "C:\\Program Files\\pyWATS\\host\\pywats_service_host.PyWATSService"
    assert r["host_module"] == "C:\\Program Files\\pyWATS\\host\\pywats_service_host.py"
    assert params(r) == {
        "InstanceId": ("default", "string"),
        "AppDirectory": ("C:\\ProgramData\\pyWATS", "string"),
        "LogFile": ("C:\\ProgramData\\pyWATS\\logs\\service.log", "string"),
        "LogRotateBytes": (10485760, "dword"),
        "LogBackups": (5, "dword"),
        "StopTimeoutSec": (30, "dword"),
        "PreshutdownTimeoutMs": (60000, "dword"),
    }
    assert int(r["preshutdown_ms"]) == 60000
    assert r["env_value"] == "Environment"
    assert r["service_log"] == "C:\\ProgramData\\pyWATS\\logs\\service.log"
    # What NSSM left behind is taken out when a station moves to the native host.
    assert {"Application", "AppParameters", "AppEnvironmentExtra", "AppStderr"} <= set(r["foreign_parameters"])
    assert "AppDirectory" not in r["foreign_parameters"]
    assert not any(s in json.dumps(r["host_parameters"]) for s in SECRETS)


def test_the_host_reads_the_parameters_the_role_writes():
    # Every option the host module reads has a value the role writes.
    with open(os.path.join(ROLE, "files", "windows", "pywats_service_host.py"), encoding="utf-8") as fh:
        host = fh.read()
    read = set(re.findall(r'self\.option\("([A-Za-z]+)"', host))
    with open(os.path.join(ROLE, "vars", "Windows.yml"), encoding="utf-8") as fh:
        text = fh.read()
    native = text[text.index("__pywats_client_win_host_parameters:"):].split("if pywats_client_windows_service_host == 'native' else")[0]
    written = set(re.findall(r"'name': '([A-Za-z]+)'", native))
    assert written
    assert read == written | {"Environment"}


def test_nssm_fallback_registration(run):
    r = rendered(run, "accepted-nssm-fallback")
    assert r["service_binary"] == '"C:\\Program Files\\pyWATS\\nssm\\nssm.exe"'
    p = params(r)
    assert p["Application"] == ("C:\\Program Files\\pyWATS\\venv\\Scripts\\python.exe", "expandstring")
    assert p["AppParameters"] == ("-m pywats_client service --instance-id default", "expandstring")
    assert p["AppStderr"] == ("C:\\ProgramData\\pyWATS\\logs\\service-stderr.log", "expandstring")
    # 4 = OPEN_ALWAYS: NSSM appends after a restart instead of truncating (2, win_nssm's value).
    assert p["AppStdoutCreationDisposition"] == (4, "dword") and p["AppStderrCreationDisposition"] == (4, "dword")
    assert p["AppStopMethodConsole"] == (30000, "dword")
    assert r["nssm_exit_actions"] == [{"name": "", "data": "Exit"}, {"name": "0", "data": "Restart"}]
    assert r["env_value"] == "AppEnvironmentExtra"
    assert {"PythonClass"}.isdisjoint(r["foreign_parameters"]) and "PreshutdownTimeoutMs" in r["foreign_parameters"]
    # The newest two rotated logs of each stream are kept.
    assert r["logs_to_prune"] == ["L:\\e1"]


def test_a_station_under_nssm_is_recognised_for_migration(run):
    assert rendered(run, "accepted-native-without-nssm")["hosted_by_nssm"] is True
    assert rendered(run, "accepted-uwf-servicing")["hosted_by_nssm"] is False
    assert rendered(run, "accepted-defaults")["hosted_by_nssm"] is False


def test_nssm_older_than_2_24_101_is_refused(run):
    assert rendered(run, "accepted-nssm-fallback")["nssm_version_ok"] is True
    assert rendered(run, "accepted-native-without-nssm")["nssm_version_ok"] is False


def test_uwf_on_blocks_unless_servicing(run):
    assert rendered(run, "accepted-native-without-nssm")["uwf_blocks"] is True
    assert rendered(run, "accepted-uwf-servicing")["uwf_blocks"] is False
    assert rendered(run, "accepted-defaults")["uwf_blocks"] is False


def test_shared_preflight_skip_drops_linux_names(run):
    assert sorted(rendered(run, "accepted-native-without-nssm")["preflight_skip"]) == ["defender", "server_api", "uwf"]
    assert rendered(run, "accepted-defaults")["preflight_skip"] == []


def test_upgrade_in_place_stops_the_service_first(run):
    assert rendered(run, "accepted-uwf-servicing")["upgrade_in_place"] is True     # 0.5.0b6 -> 0.6.0rc1
    assert rendered(run, "accepted-native-without-nssm")["upgrade_in_place"] is False
    assert rendered(run, "accepted-defaults")["upgrade_in_place"] is False          # nothing installed yet


def test_share_folders_are_left_to_the_share_owner(run):
    r = rendered(run, "accepted-gmsa-proxy-installer-url")
    assert r["unc_paths"] == ["\\\\fileserver\\ict$\\line4", "\\\\fileserver\\ict$\\line4\\Error",
                              "\\\\fileserver\\ict$\\line4\\Pending"]
    assert not [p for p in r["local_paths"] if p.startswith("\\\\")]


@pytest.mark.parametrize("name", ["defender.yml", "uwf.yml", "preflight.yml"])
def test_powershell_tasks_report_no_change_by_default(name):
    # win_powershell reports changed unless the script says otherwise.
    with open(os.path.join(ROLE, "tasks", "windows", name), encoding="utf-8") as fh:
        tasks = yaml.safe_load(fh)
    scripts = [t["ansible.windows.win_powershell"]["script"] for t in tasks if "ansible.windows.win_powershell" in t]
    assert scripts
    for script in scripts:
        body = [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith(("#", "[", "param"))]
        assert body[0] == "$Ansible.Changed = $false"


def test_service_command_line_holds_no_secret(run):
    r = rendered(run, "accepted-gmsa-proxy-installer-url")
    assert r["venv_python"] == "D:\\pyWATS\\venv\\Scripts\\python.exe"
    assert r["nssm_arguments"] == ["-m", "pywats_client", "service", "--instance-id", "default"]
    assert r["nssm_executable"] == "C:\\Program Files\\pyWATS\\nssm\\nssm.exe"
    assert r["log_dir"] == "C:\\ProgramData\\pyWATS\\logs"
    assert not any(s in json.dumps(r["nssm_arguments"]) for s in SECRETS)


def test_service_environment(run):
    default_env = rendered(run, "accepted-defaults")["service_env_lines"]
    assert default_env == sorted(default_env)
    assert "PYWATS_HEALTH_PORT=8089" in default_env
    assert "USERPROFILE=C:\\ProgramData\\pyWATS\\home" in default_env
    assert not [line for line in default_env if line.startswith(("HTTP_PROXY=", "HTTPS_PROXY="))]
    proxied = rendered(run, "accepted-gmsa-proxy-installer-url")["service_env_lines"]
    assert "HTTPS_PROXY=http://proxyuser:Pr0xy-Secret-4e@proxy.example.com:3128" in proxied


def test_interpreter_settings_reach_the_process_before_python_starts(run):
    # The native host: PYTHON* in the service key's Environment value, which the
    # service control manager sets before it creates the process; the rest, read at
    # run time and possibly secret, in the private Parameters key.
    native = rendered(run, "accepted-defaults")
    assert native["startup_env_lines"] == ["PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "PYTHONUTF8=1"]
    assert not [line for line in native["service_env_lines"] if line.startswith("PYTHON")]
    # NSSM sets AppEnvironmentExtra before it starts python.exe: all of it goes there.
    nssm = rendered(run, "accepted-nssm-fallback")
    assert nssm["startup_env_lines"] == []
    assert "PYTHONUTF8=1" in nssm["service_env_lines"]


def test_config_file_from_role_options(run):
    config = json.loads(rendered(run, "accepted-gmsa-proxy-installer-url")["config_json"])
    assert config["service_address"] == "https://wats.example.com"
    assert config["api_token"] == "windows-test-token-8c2e"
    assert json.loads(rendered(run, "accepted-defaults")["config_json"])["converters"][1]["watch_folder"] == "E:\\ICT\\line4"
    first, second = config["converters"]
    assert first["watch_folder"] == "D:\\WATS\\drop"
    assert (first["done_folder"], first["error_folder"], first["pending_folder"]) == (
        "D:\\WATS\\drop\\Done", "D:\\WATS\\drop\\Error", "D:\\WATS\\drop\\Pending")
    assert first["name"] == "drop"
    assert first["module_path"].endswith(".WATSStandardJsonConverter")
    assert second["watch_folder"] == "\\\\fileserver\\ict$\\line4"
    assert second["done_folder"] == "E:\\archive\\line4"
    assert second["module_path"].endswith(".TeradyneICTConverter")
    assert second["post_action"] == "archive"


def test_accounts(run):
    assert (rendered(run, "accepted-defaults")["account"], rendered(run, "accepted-defaults")["account_kind"]) == (
        "NT SERVICE\\pyWATS_Service", "virtual")
    gmsa = rendered(run, "accepted-gmsa-proxy-installer-url")
    assert (gmsa["account"], gmsa["account_kind"]) == ("CORP\\pywats-gmsa$", "gmsa")
    user = rendered(run, "accepted-domain-user")
    assert (user["account"], user["account_kind"]) == ("CORP\\svc-pywats", "user")


def test_service_account_may_write_only_data_and_watch_folders(run):
    assert rendered(run, "accepted-gmsa-proxy-installer-url")["writable_paths"] == [
        "C:\\ProgramData\\pyWATS",
        "D:\\WATS\\drop", "\\\\fileserver\\ict$\\line4",
        "D:\\WATS\\drop\\Done", "E:\\archive\\line4",
        "D:\\WATS\\drop\\Error", "\\\\fileserver\\ict$\\line4\\Error",
        "D:\\WATS\\drop\\Pending", "\\\\fileserver\\ict$\\line4\\Pending"]


def test_recovery_actions(run):
    r = rendered(run, "accepted-defaults")
    assert [(a["type"], int(a["delay_ms"])) for a in r["failure_actions"]] == [
        ("restart", 5000), ("restart", 5000), ("restart", 30000)]
    assert int(r["failure_reset_sec"]) == 86400


def test_shutdown_timeout_is_raised_never_lowered(run):
    # stop timeout 30 s + 10 s margin; no value yet, a lower and a higher one.
    assert int(rendered(run, "accepted-defaults")["wait_to_kill_ms"]) == 40000
    assert int(rendered(run, "accepted-domain-user")["wait_to_kill_ms"]) == 40000
    assert int(rendered(run, "accepted-gmsa-proxy-installer-url")["wait_to_kill_ms"]) == 120000


def test_python_installer_target(run):
    r = rendered(run, "accepted-gmsa-proxy-installer-url")
    assert (r["installer_name"], r["installer_version"], r["installer_target"]) == (
        "python-3.12.8-amd64.exe", "3.12.8", "C:\\Program Files\\Python312")


def test_pip_and_hotfix_targets(run):
    r = rendered(run, "accepted-defaults")
    assert r["pip_install"][:4] == ["C:\\Program Files\\pyWATS\\venv\\Scripts\\python.exe", "-m", "pip", "install"]
    assert r["requirement"] == "pywats-api[client-headless]==0.6.0rc1"
    assert sorted(r["hotfix_targets"]) == [
        "pywats_client/converters/__init__.py",
        "pywats_client/service/async_converter_pool.py",
        "pywats_client/service/async_pending_queue.py",
        "pywats_client/service/health_server.py"]


def test_windows_scenario_playbooks_parse():
    # molecule/windows needs a real station; its playbooks are at least
    # checked here against an inventory shaped like the scenario's.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".collections"), ANSIBLE_NOCOLOR="true")
    scenario = os.path.join(REPO, "molecule", "windows")
    for play in ("prepare.yml", "verify.yml", "cleanup.yml", os.path.join("..", "shared", "converge.yml")):
        res = subprocess.run([ANSIBLE_PLAYBOOK, "--syntax-check", "-i", "pywats-win2022,", os.path.join(scenario, play)],
                             capture_output=True, text=True, env=env, timeout=120, check=False)
        assert res.returncode == 0, play + ":\n" + res.stdout + res.stderr


def test_preshutdown_timeout_is_set_with_the_service_registration():
    # win_service's pre_shutdown_timeout_ms makes the same ChangeServiceConfig2(SERVICE_CONFIG_PRESHUTDOWN_INFO)
    # call the host module's "preshutdown" command made, with check mode and change reporting of its own.
    with open(os.path.join(ROLE, "tasks", "windows", "configure.yml"), encoding="utf-8") as fh:
        tasks = yaml.safe_load(fh)
    register = next(t for t in tasks if t["name"] == "Register the service with its host, account and recovery actions")
    timeout = register["ansible.windows.win_service"]["pre_shutdown_timeout_ms"]
    assert "__pywats_client_win_preshutdown_ms" in timeout and "'native'" in timeout
    for task in tasks:
        assert "preshutdown" not in json.dumps(task.get("ansible.windows.win_command", {})), task["name"]


@pytest.mark.parametrize("state, refused", [
    ({"present": True, "current_enabled": True, "servicing": False}, True),    # protected now
    ({"present": True, "current_enabled": False, "servicing": True}, True),    # servicing: its script restarts the device
    ({"present": True, "current_enabled": False, "servicing": False}, False),  # off now (on or not after a restart)
    ({}, False),                                                                # no UWF
])
def test_uwf_refusal_after_preflight(state, refused):
    # The refusal runs after the preflight module, which nothing here can reach: its conditions are evaluated
    # with Ansible's templar on what the role's UWF read task would register, through the role's real vars.
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    with open(os.path.join(ROLE, "tasks", "windows", "preflight.yml"), encoding="utf-8") as fh:
        tasks = yaml.safe_load(fh)
    task = next(t for t in tasks if t["name"] == "Refuse to install while the Unified Write Filter is on or servicing")
    with open(os.path.join(ROLE, "vars", "Windows.yml"), encoding="utf-8") as fh:
        role_vars = yaml.safe_load(fh)
    variables = {"__pywats_client_win_uwf_state": {"result": state},
                 "__pywats_client_win_uwf_blocks": trust_as_template(role_vars["__pywats_client_win_uwf_blocks"])}
    variables.update((k, trust_as_template(v)) for k, v in task.get("vars", {}).items())
    templar = Templar(loader=DataLoader(), variables=variables)
    passed = all(templar.template(trust_as_template("{{ %s }}" % c)) for c in task["ansible.builtin.assert"]["that"])
    assert passed is not refused
