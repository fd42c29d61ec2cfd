# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the WATS stand-in (tests/standin). All traffic goes to 127.0.0.1.

Run: python3 -m pytest tests/unit/standin -q
STANDIN_PYTHON=/path/to/python3.9 runs the command-line tests with another
interpreter (the stand-in must work with the python3 of Debian 11).
"""

import base64
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.standin import client, wats_standin  # noqa: E402

SCRIPT = ROOT / "tests" / "standin" / "wats_standin.py"
PYTHON = os.environ.get("STANDIN_PYTHON", sys.executable)
TOKEN = "dXNlcjpzM2NyM3QtdG9rZW4tZm9yLXRlc3Rz"  # what a station would hold: base64 text
AUTH = {"Authorization": "Basic " + TOKEN}
REPORT = {"id": "6f1c2a4e-0000-4000-8000-000000000001", "type": "T", "pn": "PN-100",
          "sn": "SN-0001", "rev": "A", "processCode": 10, "result": "P"}


def call(base, method, path, body=None, headers=None, raw=None):
    """One request with http.client (no proxies, no added headers); returns (status, json)."""
    host, port = base.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=5)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, body=data, headers=dict(headers or {}))
        response = conn.getresponse()
        payload = response.read()
        return response.status, (json.loads(payload) if payload else None)
    finally:
        conn.close()


@pytest.fixture
def standin(tmp_path):
    with wats_standin.Standin(TOKEN, port=0, state_dir=str(tmp_path / "state")) as server:
        yield server


@pytest.fixture
def url(standin):
    return standin.url


# WATS API --------------------------------------------------------------------

def test_version_needs_the_token(url):
    # As upstream's own connection test reads WATS: 401 is "Authentication failed".
    assert call(url, "GET", "/api/App/Version", headers=AUTH) == (200, "23.1.0")
    assert call(url, "GET", "/api/App/Version")[0] == 401
    assert call(url, "GET", "/api/App/Version", headers={"Authorization": "Basic wrong-token"})[0] == 401


def test_version_is_configurable(tmp_path):
    with wats_standin.Standin(TOKEN, version="24.2.1") as server:
        assert call(server.url, "GET", "/api/App/Version", headers=AUTH) == (200, "24.2.1")


def test_upload_with_the_token_is_accepted_and_listed(url, standin):
    status, body = call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)

    assert status == 200
    assert len(body) == 1 and set(body[0]) == {"ID"}
    listed = client.reports(url)
    assert len(listed) == 1
    entry = listed[0]
    assert entry["id"] == body[0]["ID"]
    assert entry["reportId"] == REPORT["id"]
    assert entry["serialNumber"] == "SN-0001"
    assert entry["partNumber"] == "PN-100"
    assert entry["body"] == REPORT
    assert entry["received"].endswith("Z")
    assert entry["duplicateOf"] is None


def test_long_field_names_are_listed_too(url):
    call(url, "POST", "/api/Report/WSJF", {"serialNumber": "S", "partNumber": "P"}, AUTH)

    entry = client.reports(url)[0]
    assert (entry["reportId"], entry["serialNumber"], entry["partNumber"]) == (None, "S", "P")


def test_a_second_upload_of_one_report_is_marked(url):
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)

    first, second = client.reports(url)
    assert second["duplicateOf"] == first["seq"]


@pytest.mark.parametrize("headers, kind", [
    ({}, "missing"),
    ({"Authorization": "Basic wrong"}, "bad"),
    ({"Authorization": "basic " + TOKEN}, "bad"),
    ({"Authorization": "Bearer " + TOKEN}, "bad"),
    ({"Authorization": "Basic " + TOKEN + " "}, "bad"),
    ({"Authorization": "Basic " + TOKEN[:-1]}, "bad"),
])
def test_upload_without_the_exact_header_is_refused(url, headers, kind):
    status, body = call(url, "POST", "/api/Report/WSJF", REPORT, headers)

    assert status == 401
    assert "denied" in body["Message"]
    assert client.reports(url) == []
    last = client.request_log(url)[-1]
    assert (last["status"], last["auth"], last["authOk"]) == (401, kind, False)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_upload_of_anything_but_a_json_object_is_refused(url, raw):
    status, body = call(url, "POST", "/api/Report/WSJF", headers=AUTH, raw=raw)

    assert status == 400
    assert body["Message"]
    assert client.reports(url) == []


def test_chunked_upload_is_read(url):
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/api/Report/WSJF", body=iter([b'{"sn": ', b'"C1"}']),
                 headers=AUTH, encode_chunked=True)
    response = conn.getresponse()
    response.read()
    conn.close()

    assert response.status == 200
    assert client.reports(url)[0]["serialNumber"] == "C1"


def test_paths_match_case_insensitively_like_aspnet(url):
    assert call(url, "POST", "/api/report/wsjf", REPORT, AUTH)[0] == 200
    assert call(url, "GET", "/API/APP/VERSION", headers=AUTH)[0] == 200


def test_unknown_paths_answer_404_and_are_counted(url):
    assert call(url, "GET", "/api/Nope", headers=AUTH)[0] == 404
    assert call(url, "POST", "/api/Report/WSML", REPORT, AUTH)[0] == 404
    assert call(url, "GET", "/api/Report/WSJF", headers=AUTH)[0] == 405

    assert client.health(url)["unknown"] == 3
    assert [r["status"] for r in client.request_log(url)] == [404, 404, 405]


def test_registration_flow(url):
    status, passcode = call(url, "POST", "/api/Client/Register?id=ST-01&type=python&name=ST-01",
                            headers=AUTH)
    assert status == 200 and isinstance(passcode, str) and passcode
    station = {"Authorization": "Basic " + base64.b64encode(("ST-01:" + passcode).encode()).decode()}

    assert call(url, "GET", "/api/internal/Client/ServerInfo", headers=station)[1]["Version"] == "23.1.0"
    assert call(url, "PUT", "/api/Client/Update", {"name": "ST-01", "status": "Online"}, station)[0] == 200
    assert call(url, "POST", "/api/internal/Client/Update", {"miscinfo": "<x/>"}, station)[0] == 200
    assert call(url, "GET", "/api/internal/Client/Ping", headers=station)[0] == 200
    assert call(url, "POST", "/api/Report/WSJF", REPORT, station)[0] == 200
    assert call(url, "GET", "/api/internal/Auth/Disconnect?id=ST-01", headers=station)[0] == 200
    # Registering needs the token itself, not a client's passcode.
    assert call(url, "POST", "/api/Client/Register?id=ST-02", headers=station)[0] == 401
    assert client.reports(url)[0]["clientId"] == "ST-01"
    assert client.health(url)["registeredClients"] == ["ST-01"]


def test_registering_again_voids_the_old_passcode(url):
    dummy, old = call(url, "POST", "/api/Client/Register?id=ST-01", headers=AUTH)
    call(url, "POST", "/api/Client/Register?id=ST-01", headers=AUTH)
    station = {"Authorization": "Basic " + base64.b64encode(("ST-01:" + old).encode()).decode()}

    assert call(url, "GET", "/api/internal/Client/Ping", headers=station)[0] == 401


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/Client/Register?id=X", None),
    ("GET", "/api/internal/Client/ServerInfo", None),
    ("PUT", "/api/Client/Update", {}),
    ("GET", "/api/internal/Client/Ping", None),
])
def test_registration_calls_check_auth(url, method, path, body):
    assert call(url, method, path, body, {"Authorization": "Basic nope"})[0] == 401


def test_register_needs_an_id(url):
    assert call(url, "POST", "/api/Client/Register", headers=AUTH)[0] == 400


def test_update_with_invalid_json_is_refused(url):
    assert call(url, "PUT", "/api/Client/Update", headers=AUTH, raw=b"{")[0] == 400


# Request log and state dir -------------------------------------------------

def test_requests_are_logged_and_control_calls_are_not(url):
    call(url, "GET", "/api/App/Version", headers=AUTH)
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)
    client.health(url)

    log = client.request_log(url)
    assert [(r["method"], r["path"], r["status"], r["authOk"]) for r in log] == [
        ("GET", "/api/App/Version", 200, True), ("POST", "/api/Report/WSJF", 200, True)]
    assert all(r["time"].endswith("Z") for r in log)
    assert client.clear_requests(url) == 2
    assert client.request_log(url) == []


def test_reports_are_written_to_the_state_dir(url, standin, tmp_path):
    raw = json.dumps(REPORT, indent=1).encode()
    dummy, first = call(url, "POST", "/api/Report/WSJF", headers=AUTH, raw=raw)
    dummy, second = call(url, "POST", "/api/Report/WSJF", {"sn": "2"}, AUTH)

    files = sorted(os.listdir(tmp_path / "state" / "reports"))
    assert files == ["000001-%s.json" % first[0]["ID"], "000002-%s.json" % second[0]["ID"]]
    assert (tmp_path / "state" / "reports" / files[0]).read_bytes() == raw
    assert client.reports(url)[0]["file"] == str(tmp_path / "state" / "reports" / files[0])


def test_clearing_reports_keeps_files_and_numbering_goes_on(url, standin, tmp_path):
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)
    assert client.clear_reports(url) == 1
    assert client.reports(url) == []
    standin.stop()

    with wats_standin.Standin(TOKEN, state_dir=str(tmp_path / "state")) as again:
        dummy, reply = call(again.url, "POST", "/api/Report/WSJF", REPORT, AUTH)

    files = sorted(os.listdir(tmp_path / "state" / "reports"))
    assert len(files) == 2 and files[1] == "000002-%s.json" % reply[0]["ID"]


def test_concurrent_uploads_are_all_recorded(url, tmp_path):
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda n: call(url, "POST", "/api/Report/WSJF", {"sn": str(n)}, AUTH),
                                range(40)))

    assert all(status == 200 for status, dummy in replies)
    listed = client.reports(url)
    assert sorted(r["seq"] for r in listed) == list(range(1, 41))
    assert {r["id"] for r in listed} == {body[0]["ID"] for dummy, body in replies}
    assert len(os.listdir(tmp_path / "state" / "reports")) == 40


# Simulated outage ------------------------------------------------------------

def test_failure_with_a_count_fails_that_many_uploads(url):
    assert client.set_failure(url, 503, count=2) == {"status": 503, "remaining": 2}

    statuses = [call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)[0] for dummy in range(3)]

    assert statuses == [503, 503, 200]
    assert len(client.reports(url)) == 1
    assert [r["injected"] for r in client.request_log(url)] == [True, True, False]
    health = client.health(url)
    assert health["failure"] is None and health["injectedFailures"] == 2


def test_failure_without_a_count_lasts_until_reset(url):
    client.set_failure(url, 502)
    statuses = [call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)[0] for dummy in range(4)]
    # Only uploads fail: the version check still answers.
    assert call(url, "GET", "/api/App/Version", headers=AUTH)[0] == 200
    client.reset(url)

    assert statuses == [502] * 4
    assert call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)[0] == 200
    assert client.health(url)["failure"] is None


@pytest.mark.parametrize("spec", [{"status": 200}, {"status": "503"}, {"status": 503, "count": 0},
                                  {"status": 503, "count": 1.5}, {"status": 503, "other": 1}, [503]])
def test_bad_failure_specs_are_refused(url, spec):
    assert call(url, "POST", "/_standin/fail", spec)[0] == 400
    assert client.health(url)["failure"] is None


def test_unknown_control_calls(url):
    assert call(url, "GET", "/_standin/nope")[0] == 404
    assert call(url, "GET", "/_standin/fail")[0] == 405
    assert client.health(url)["unknown"] == 0


def test_control_api_answers_loopback_peers_only():
    assert wats_standin.is_loopback_peer("127.0.0.1")
    assert wats_standin.is_loopback_peer("127.8.9.10")
    assert wats_standin.is_loopback_peer("::1")
    assert wats_standin.is_loopback_peer("::ffff:127.0.0.1")
    assert not wats_standin.is_loopback_peer("10.0.0.5")
    assert not wats_standin.is_loopback_peer("::ffff:10.0.0.5")
    assert not wats_standin.is_loopback_peer("fe80::1%eth0")


def test_wait_for_reports(url):
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)
    assert len(client.wait_for_reports(url + "/", 1, timeout=2)) == 1

    started = time.monotonic()
    with pytest.raises(TimeoutError) as error:
        client.wait_for_reports(url, 2, timeout=0.3, interval=0.05)
    assert time.monotonic() - started < 2
    assert "1 of 2" in str(error.value) and "POST /api/Report/WSJF -> 200" in str(error.value)


# Binding -----------------------------------------------------------------------

@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "localhost", "::ffff:127.0.0.1"])
def test_non_loopback_bind_is_refused(bind):
    with pytest.raises(wats_standin.UsageError, match="loopback"):
        wats_standin.Standin(TOKEN, bind=bind)


def test_other_loopback_addresses_are_allowed():
    with wats_standin.Standin(TOKEN, bind="127.0.0.2") as server:
        assert call(server.url, "GET", "/api/App/Version", headers=AUTH)[0] == 200


def test_ipv6_loopback_is_allowed():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with wats_standin.Standin(TOKEN, bind="::1") as server:
        assert server.url.startswith("http://[::1]:")
        assert call(server.url, "GET", "/api/App/Version", headers=AUTH)[0] == 200


# The secret stays secret -------------------------------------------------------

def test_token_and_passcodes_never_reach_the_log(url, caplog):
    caplog.set_level(logging.INFO, logger="wats_standin")
    call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)
    call(url, "POST", "/api/Report/WSJF", REPORT, {"Authorization": "Basic " + TOKEN + "x"})
    call(url, "GET", "/api/Nope?token=" + TOKEN)
    call(url, "POST", "/api/Report/WSJF", {"sn": TOKEN}, AUTH)
    dummy, passcode = call(url, "POST", "/api/Client/Register?id=S1", headers=AUTH)
    credential = base64.b64encode(("S1:" + passcode).encode()).decode()
    call(url, "GET", "/api/internal/Client/Ping?c=" + credential, headers={"Authorization": "Basic " + credential})

    text = caplog.text + json.dumps(client.request_log(url))
    assert "/api/Nope?token=***" in text
    for secret in (TOKEN, passcode, credential):
        assert secret not in text


def run_cli(*args, env=None, timeout=10):
    return subprocess.run([PYTHON, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != wats_standin.TOKEN_ENV}
    env.update(extra)
    return env


def test_cli_refuses_a_non_loopback_bind(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")

    result = run_cli("--port", "0", "--bind", "0.0.0.0", "--token-file", str(token_file), env=base_env())

    assert result.returncode == 2
    assert "--bind 0.0.0.0 is not a loopback address" in result.stderr


def test_cli_needs_a_token(tmp_path):
    result = run_cli("--port", "0", env=base_env())

    assert result.returncode == 2
    assert "no token: give --token-file PATH or set WATS_STANDIN_TOKEN" in result.stderr


def test_cli_does_not_take_or_echo_a_token_argument():
    result = run_cli("--token", TOKEN, env=base_env())

    assert result.returncode == 2
    assert "--token-file or WATS_STANDIN_TOKEN" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_cli_serves_until_sigterm_and_keeps_the_token_out_of_its_logs(tmp_path):
    ready = tmp_path / "ready"
    log_file = tmp_path / "standin.log"
    proc = subprocess.Popen(
        [PYTHON, str(SCRIPT), "--port", "0", "--ready-file", str(ready), "--log-file", str(log_file),
         "--state-dir", str(tmp_path / "state"), "--version", "9.9.9"],
        env=base_env(WATS_STANDIN_TOKEN=TOKEN), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 5
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), proc.stderr.read() if proc.poll() is not None else "no ready file"
        url = ready.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        assert TOKEN not in " ".join(proc.args)

        assert call(url, "GET", "/api/App/Version", headers=AUTH) == (200, "9.9.9")
        assert call(url, "POST", "/api/Report/WSJF", REPORT, AUTH)[0] == 200
        assert call(url, "POST", "/api/Report/WSJF", REPORT, {"Authorization": "Basic " + TOKEN + "!"})[0] == 401
        assert len(client.wait_for_reports(url, 1, timeout=2)) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        dummy, stderr = proc.communicate(timeout=5)

    assert proc.returncode == 0
    assert not ready.exists()
    assert "POST /api/Report/WSJF HTTP/1.1\" 401 auth=bad" in stderr
    assert "stopped: 1 report(s) accepted" in stderr
    assert log_file.read_text() and "token from environment variable WATS_STANDIN_TOKEN" in stderr
    assert TOKEN not in stderr + log_file.read_text()
