"""End to end: `pywats-client service` watches a folder, uploads a dropped
WSJF report to the stand-in, moves it to Done, rides out an outage through
its pending queue, and stops on SIGTERM - with every hotfix. As shipped it
does none of that, and without hotfix 04 it still hangs on SIGTERM.

0.6.0rc1 hard-codes its state directory (/var/lib/pywats; no option, no
environment variable), so the service runs through scripts/run_service.py,
which calls the console script's own entry point after pointing that
directory into tmp_path (and the health server at 127.0.0.1).
"""

import json
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import hotfix_support as hs

TOKEN = "aG90Zml4OnRlc3Q="
ALL = hs.patch_ids()


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def wait_for(predicate, timeout, what):
    if not wait_until(predicate, timeout):
        pytest.fail(f"timed out after {timeout}s waiting for {what}")


def health(port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
            return reply.status
    except OSError:
        return None


def stops_on_sigterm(proc, within=8):
    """SIGTERM, then True with the time taken if it exited 0 in time."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        return False, within
    return rc == 0, time.monotonic() - began


@pytest.fixture
def start_service(client_venv, overlay_factory, standin, tmp_path):
    """start_service(patches) runs the service on a patched copy; at the end
    it is killed if still running, and its output is printed (shown when the
    test failed)."""
    started = []

    def start(patches):
        overlay = overlay_factory(patches)
        state, watch = tmp_path / "state", tmp_path / "watch"
        state.mkdir()
        watch.mkdir()
        # a fresh instance per test: the IPC socket is /tmp/pyWATS_Service_<id>.sock
        instance = f"hotfix-{uuid.uuid4().hex[:8]}"
        (state / f"config_{instance}.json").write_text(json.dumps({
            "service_address": standin.url,
            "api_token": TOKEN,
            "converters": [hs.converter_entry(watch)],
        }))
        port = hs.free_port()
        env = hs.client_env(tmp_path, overlay, PYWATS_TEST_STATE_DIR=state,
                            PYWATS_HEALTH_PORT=port, PYWATS_TEST_RETRY_SECONDS=2)
        log = tmp_path / "service.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(client_venv.python), str(hs.SCRIPTS / "run_service.py"),
                 "--instance-id", instance],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append((proc, log, instance))
        wait_for(lambda: health(port) == 200 or proc.poll() is not None, 30, "/health")
        assert proc.poll() is None, "service exited at start"
        assert any(r["method"] == "GET" and r["path"] == "/api/App/Version"
                   for r in standin.requests)
        return proc, state, watch

    yield start
    for proc, log, instance in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # a killed service leaves its socket behind
        Path(f"/tmp/pyWATS_Service_{instance}.sock").unlink(missing_ok=True)
        print(log.read_text(errors="replace")[-4000:])


@pytest.mark.parametrize("patches, uploads, stops", [
    pytest.param([], False, False, id="as-shipped"),
    pytest.param([p for p in ALL if p != "04-health-server-stop"], True, False,
                 id="without-04"),
    pytest.param(ALL, True, True, id="all-hotfixes"),
])
def test_dropped_report_is_uploaded_and_sigterm_stops(patches, uploads, stops,
                                                      start_service, standin):
    proc, dummy, watch = start_service(patches)

    hs.drop_report(watch)
    done = wait_until((watch / "Done/report.json").is_file, 8 if not uploads else 20)
    posts = standin.posts()
    assert (done, len(posts) == 1) == (uploads, uploads)
    if uploads:
        post = posts[0]
        assert post["path"] == "/api/Report/WSJF"
        assert post["headers"]["Authorization"] == f"Basic {TOKEN}"
        assert post["headers"]["Content-Type"] == "application/json"
        body = json.loads(post["body"])
        assert (body["pn"], body["sn"], body["type"]) == ("PN-HOTFIX-001", "SN-0001", "T")
        assert not (watch / "report.json").exists()
    else:
        assert (watch / "report.json").is_file()

    stopped, seconds = stops_on_sigterm(proc)
    assert stopped is stops
    if stops:
        assert seconds < 5


def test_outage_is_queued_and_uploaded_exactly_once(start_service, standin):
    proc, state, watch = start_service(ALL)
    reports = state / "reports"
    standin.wsjf_status = 503
    hs.drop_report(watch)
    wait_for((watch / "Done/report.json").is_file, 20, "report in Done")
    # the queue tries it at once, still during the outage, and parks it as .error
    wait_for(lambda: list(reports.glob("*.error")), 20, "a parked .error report")
    failed_posts = len(standin.posts())

    standin.wsjf_status = 200
    wait_for(lambda: list(reports.glob("*.completed")), 30, "the queued report uploaded")
    time.sleep(3)  # another queue cycle: nothing is sent twice
    posts = standin.posts()
    assert len(posts) == failed_posts + 1
    assert len({p["body"] for p in posts}) == 1  # the same report every time
    assert not list(reports.glob("*.queued")) and not list(reports.glob("*.error"))
    assert not (watch / "Error").exists() or not any((watch / "Error").iterdir())

    assert stops_on_sigterm(proc)[0]


def test_run_service_calls_what_the_console_script_calls(client_venv):
    """scripts/run_service.py stands for `pywats-client service` only while
    the console script is this entry point."""
    script = client_venv.console_script.read_text()
    assert "from pywats_client.__main__ import main" in script
    assert "from pywats_client.__main__ import main" in (hs.SCRIPTS / "run_service.py").read_text()
