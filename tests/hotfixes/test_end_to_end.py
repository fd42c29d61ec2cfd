"""End to end with every hotfix: `pywats-client service` watches a folder,
uploads a dropped WSJF report to the stand-in, moves it to Done, rides out
an outage through its pending queue, and stops on SIGTERM.

0.6.0rc1 hard-codes its state directory (/var/lib/pywats, no setting or
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

import pytest

import hotfix_support as hs

TOKEN = "aG90Zml4OnRlc3Q="


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def health(port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
            return reply.status
    except OSError:
        return None


@pytest.fixture
def service(client_venv, overlay_factory, standin, tmp_path):
    """Start the service with every hotfix; yields a handle, then SIGTERMs
    it (kill if it hangs) and prints its output when a test failed."""
    overlay = overlay_factory(hs.patch_ids())
    state, watch = tmp_path / "state", tmp_path / "watch"
    state.mkdir()
    watch.mkdir()
    instance = f"hotfix-{uuid.uuid4().hex[:8]}"  # the IPC socket is /tmp/pyWATS_Service_<id>.sock
    (state / f"config_{instance}.json").write_text(json.dumps({
        "service_address": standin.url,
        "api_token": TOKEN,
        "converters": [hs.converter_entry(watch)],
    }))
    port = hs.free_port()
    log = tmp_path / "service.log"
    env = hs.client_env(tmp_path, overlay, PYWATS_TEST_STATE_DIR=state,
                        PYWATS_HEALTH_PORT=port, PYWATS_TEST_RETRY_SECONDS=2)

    class Service:
        pass

    svc = Service()
    svc.watch, svc.state, svc.port, svc.log = watch, state, port, log
    with open(log, "wb") as out:
        svc.proc = subprocess.Popen(
            [str(client_venv.python), str(hs.SCRIPTS / "run_service.py"),
             "--instance-id", instance],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: health(port) == 200 or svc.proc.poll() is not None, 30, "/health")
        assert svc.proc.poll() is None, "service exited at start"
        yield svc
    finally:
        if svc.proc.poll() is None:
            svc.proc.kill()
            svc.proc.wait()
        print(log.read_text(errors="replace")[-4000:])


def test_dropped_report_is_uploaded_and_moved_to_done(service, standin):
    assert any(r["method"] == "GET" and r["path"] == "/api/App/Version"
               for r in standin.requests)

    hs.drop_report(service.watch)
    wait_for(lambda: (service.watch / "Done/report.json").is_file(), 20, "report in Done")

    [post] = standin.posts()
    assert post["path"] == "/api/Report/WSJF"
    assert post["headers"]["Authorization"] == f"Basic {TOKEN}"
    assert post["headers"]["Content-Type"] == "application/json"
    body = json.loads(post["body"])
    assert (body["pn"], body["sn"], body["type"]) == ("PN-HOTFIX-001", "SN-0001", "T")
    assert not (service.watch / "report.json").exists()

    began = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(timeout=10) == 0
    assert time.monotonic() - began < 5


def test_outage_is_queued_and_uploaded_exactly_once(service, standin):
    standin.wsjf_status = 503
    hs.drop_report(service.watch)
    wait_for(lambda: (service.watch / "Done/report.json").is_file(), 20, "report in Done")
    reports = service.state / "reports"
    # the queue tries it at once, still during the outage, and parks it as .error
    wait_for(lambda: list(reports.glob("*.error")), 20, "a parked .error report")
    failed_posts = len(standin.posts())

    standin.wsjf_status = 200
    wait_for(lambda: list(reports.glob("*.completed")), 30, "the queued report uploaded")
    time.sleep(3)  # one more queue cycle: nothing is sent twice
    posts = standin.posts()
    assert len(posts) == failed_posts + 1
    assert len({p["body"] for p in posts}) == 1
    assert not list(reports.glob("*.queued")) and not list(reports.glob("*.error"))
    assert not (service.watch / "Error").exists() or not any((service.watch / "Error").iterdir())

    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(timeout=10) == 0
