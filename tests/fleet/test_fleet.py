"""Fleet operations as AWX runs them: ansible-runner jobs from a private data
directory against four station containers and the WATS stand-in.

The tests share one fleet and run in order; each starts from what the one
before left:

1. deploy release A to the fleet; every station healthy;
2. upgrade to B with one station's health port taken by another program: that
   station is rolled back to A, the rest of its batch is on B, the next batch
   is never started;
3. 20 reports queued across the fleet while the stand-in refuses uploads, then
   it accepts, then upgrade to B: all 20 arrive, none twice;
4. status: the table in the job output, JSON and CSV files;
5. uninstall keeps config, token and queue;
6. uninstall with purge refuses while a report was never sent, then, forced,
   leaves nothing of ours behind.

A and B: 0.6.0rc1 is the only upstream release that runs (see the README), so
the two releases are two hotfix levels of it, selected with the role's own
option: A skips hotfix 03 (its pending queue cannot upload: every queued report
is parked as .error), B has the whole set.
"""
import csv
import json
import os
import uuid

from tests.fleet.conftest import STATIONS, health, standin_client, wait_until
from tests.integration.conftest import REPO
from tests.support.traces import PATHS, traces

ALL_HOTFIXES = ["01-converter-registry", "02-queue-failed-submit", "03-pending-queue-submit", "04-health-server-stop"]
A_SKIP = ["03-pending-queue-submit"]
A_HOTFIXES = [h for h in ALL_HOTFIXES if h not in A_SKIP]
WATCH = "/srv/pywats/inbox/wsjf"
REPORTS_PER_STATION = 5
# Every upgrade: batches of two, no failure tolerated.
UPGRADE = {"pywats_client_version": "0.6.0rc1", "pywats_upgrade_serial": 2, "pywats_upgrade_max_fail_percentage": 0, "pywats_upgrade_queue_timeout": 60,
           "pywats_client_hotfixes_skip": []}

# State handed from one test to the next.
shared = {}


def by_name(fleet):
    return {s.name: s for s in fleet}


def assert_job(job, status="successful"):
    assert job.status == status, "job %s ended %s (rc %d):\n%s" % (job.artifacts, job.status, job.rc, job.stdout[-6000:])


def drop_report(station, index):
    """Write a WSJF report into the station's watch folder (write, then rename) and
    return its report id."""
    with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report_id = str(uuid.uuid4())
    report.update({"id": report_id, "sn": "SN-%s-%d" % (station.name, index), "machineName": station.name})
    name = "report-%d.json" % index
    station.sh("cat > %s/.%s.part <<'EOF'\n%s\nEOF\nchown pywats: %s/.%s.part && mv %s/.%s.part %s/%s"
               % (WATCH, name, json.dumps(report), WATCH, name, WATCH, name, WATCH, name))
    return report_id


def test_deploy_through_ansible_runner(fleet, standin, awx, token):
    job = awx.run("deploy", {"pywats_client_hotfixes_skip": A_SKIP})
    assert_job(job)
    assert job.hosts_touched() == set(STATIONS)
    for s in fleet:
        assert s.sh("systemctl is-active pywats-client").strip() == "active"
        assert health(s.port) == 200, "%s: GET /health on port %d" % (s.name, s.port)
        assert s.hotfixes() == A_HOTFIXES
        # A: the pending queue still calls the method that does not exist.
        assert "submit_raw(" in s.sh("cat /opt/pywats/venv/lib/python3*/site-packages/pywats_client/service/async_pending_queue.py")
    # The token came in as an extra var, as AWX's credential injects it: never printed.
    assert token not in job.stdout
    assert not any(token in json.dumps(e) for e in job.events)


# Tasks that run on the controller only: they make no module run on a station.
CONTROLLER_ACTIONS = {"ansible.builtin.set_fact", "set_fact", "ansible.builtin.assert", "assert", "ansible.builtin.debug",
                      "debug", "ansible.builtin.fail", "fail", "ansible.builtin.include_tasks", "include_tasks",
                      "ansible.builtin.import_tasks", "ansible.builtin.include_vars", "include_vars",
                      "ansible.builtin.include_role", "include_role", "ansible.builtin.meta", "meta",
                      "ansible.builtin.validate_argument_spec", "validate_argument_spec", "virinco.pywats.warn",
                      "ansible.builtin.group_by", "group_by", "ansible.builtin.add_host", "add_host"}
# A converged station's no-op re-run: facts, preflight, the state read, the health gate.
NOOP_MODULE_RUNS_MAX = 8


def station_tasks(job, host):
    """(task name, action, changed) of every task that ran a module on the station, in order."""
    out = []
    for e in job.events:
        data = e.get("event_data", {})
        if e.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("host") == host \
                and data.get("task_action") not in CONTROLLER_ACTIONS and not data.get("delegated_host"):
            out.append((data.get("task"), data.get("task_action"), bool((data.get("res") or {}).get("changed"))))
    return out


def test_rerun_corrects_each_drift_and_a_noop_rerun_stays_cheap(fleet, standin, awx):
    """Every kind of drift a converged station can show is corrected by the next run,
    and a no-op re-run of the fleet changes nothing in a handful of module runs."""
    s = fleet[0]
    purelib = s.sh("ls -d /opt/pywats/venv/lib/python3*/site-packages").strip()
    watched = ["/srv/pywats/inbox/wsjf", "/srv/pywats/inbox/xml", "/var/lib/pywats/config_default.json",
               "/etc/pywats/pywats-client.env", "/etc/systemd/system/pywats-client.service",
               purelib + "/pywats_client/converters/__init__.py"]

    def snapshot():
        return s.sh("stat -c '%n %U %G %a' " + " ".join(watched) + " && sha256sum " + " ".join(watched[2:]))
    before = snapshot()
    pid_before = s.unit("MainPID")["MainPID"]
    # The drifts: a folder's mode, a folder's owner, a package removed, a hotfixed file
    # reverted, the config, the environment and the unit edited, the service stopped.
    s.sh("chmod 0700 /srv/pywats/inbox/wsjf && chown root:root /srv/pywats/inbox/xml")
    s.sh("cd %s && patch -R -s -p0 < /var/cache/pywats/hotfixes/0.6.0rc1/01-converter-registry.patch" % purelib)
    s.sh("dpkg -r patch >/dev/null")
    s.sh("sed -i 's/\"log_level\": \"[A-Z]*\"/\"log_level\": \"DEBUG\"/' /var/lib/pywats/config_default.json")
    s.sh("echo 'PYWATS_DRIFT=1' >> /etc/pywats/pywats-client.env")
    s.sh("echo '# drift' >> /etc/systemd/system/pywats-client.service && systemctl daemon-reload")
    s.sh("systemctl stop pywats-client")
    assert snapshot() != before

    job = awx.run("deploy", {"pywats_client_hotfixes_skip": A_SKIP})
    assert_job(job)
    assert snapshot() == before
    assert s.sh("dpkg-query -W -f '${db:Status-Abbrev}' patch").startswith("ii")
    assert s.sh("systemctl is-active pywats-client").strip() == "active"
    assert s.unit("MainPID")["MainPID"] != pid_before
    assert health(s.port) == 200
    changed = {name for name, _action, ch in station_tasks(job, s.name) if ch}
    # The config and the environment are written with no_log, whose events carry no result:
    # the snapshot above shows them restored.
    for task in ("Create the watch, done, error and pending folders", "Install the system packages the client needs (apt)",
                 "Apply the hotfix set because the venv differs from its record", "Write the systemd unit",
                 "Enable and start the service"):
        assert task in changed, "%s did not change on %s; changed: %s" % (task, s.name, sorted(changed))
    for other in fleet[1:]:
        assert not [t for t in station_tasks(job, other.name) if t[2]], other.name

    job = awx.run("deploy", {"pywats_client_hotfixes_skip": A_SKIP})
    assert_job(job)
    for st in fleet:
        ran = station_tasks(job, st.name)
        assert not [t for t in ran if t[2]], "%s changed on a no-op re-run: %s" % (st.name, [t for t in ran if t[2]])
        assert len(ran) <= NOOP_MODULE_RUNS_MAX, "%s: %d module runs on a no-op re-run: %s" % (st.name, len(ran), ran)


def test_failed_health_gate_rolls_back_and_stops(fleet, standin, awx, port_blocker):
    stations = by_name(fleet)
    canary, blocked = stations["pywats-fleet-1"], stations["pywats-fleet-2"]
    later = [stations["pywats-fleet-3"], stations["pywats-fleet-4"]]
    before = {s.name: s.unit("InvocationID", "MainPID") for s in later}
    # Another program takes the health port while the client is down.
    blocked.sh("systemctl stop pywats-client")
    blocker = port_blocker(blocked.port)
    assert health(blocked.port) == 503

    # The preflight would see the port taken and stop before the install (also
    # rolled back, as the first run of this test found); skipping that check lets
    # the new release start, so that its health gate is what fails.
    job = awx.run("upgrade", UPGRADE, host_vars={blocked.name: {"pywats_client_health_timeout": 30,
                                                                "pywats_client_preflight_skip": ["health_port"]}})

    assert_job(job, "failed")
    assert job.failed_hosts() == {blocked.name}
    assert ("%s failed its upgrade (preflight, install or health gate) to 0.6.0rc1 (hotfixes skipped: none) "
            "and was rolled back to 0.6.0rc1 (hotfixes: %s); the rolled-back release is not healthy either"
            % (blocked.name, ", ".join(A_HOTFIXES))) in job.stdout
    assert "http://127.0.0.1:%d/health with 200 within 30 s" % blocked.port in job.stdout
    assert "Later batches were not started" in job.stdout
    # The next batch never started: no task ran on its stations, their clients were not touched.
    assert not job.hosts_touched() & {s.name for s in later}
    for s in later:
        assert s.unit("InvocationID", "MainPID") == before[s.name]
        assert s.hotfixes() == A_HOTFIXES
    # The rest of the first batch is on B and healthy.
    assert canary.hotfixes() == ALL_HOTFIXES
    assert health(canary.port) == 200
    # The failed station has A again, file for file, and no copy left over.
    assert blocked.hotfixes() == A_HOTFIXES
    assert "submit_raw(" in blocked.sh("cat /opt/pywats/venv/lib/python3*/site-packages/pywats_client/service/async_pending_queue.py")
    assert not blocked.exists("/opt/pywats/venv.rollback")

    # The other program goes away; the rolled-back client takes its port again.
    blocker.close()
    blocked.sh("systemctl restart pywats-client")
    wait_until(lambda: health(blocked.port) == 200, 120, "%s healthy on A again" % blocked.name)


def test_upgrade_delivers_every_queued_report_once(fleet, standin, awx):
    standin_client.clear_reports(standin)
    standin_client.set_failure(standin, 503)
    dropped = {}
    for s in fleet:
        for i in range(REPORTS_PER_STATION):
            dropped[drop_report(s, i)] = s.name
    assert len(dropped) == 20

    # Each station converts its reports, fails to upload them, queues them, and
    # parks them as .error (A: its queue cannot upload; B: the refused retry).
    def parked():
        return all(len(s.queue(".error")) == REPORTS_PER_STATION and not s.queue(".queued") for s in fleet)
    wait_until(parked, 300, "every station to park its %d reports" % REPORTS_PER_STATION)
    for s in fleet:
        assert s.sh("ls %s | grep -c '\\.json$' || true" % WATCH).strip() == "0", s.name
    assert standin_client.reports(standin) == []

    standin_client.reset(standin)  # the server accepts again
    assert standin_client.reports(standin) == []
    job = awx.run("upgrade", UPGRADE)
    assert_job(job)
    for s in fleet:
        assert s.hotfixes() == ALL_HOTFIXES
        assert health(s.port) == 200

    got = standin_client.wait_for_reports(standin, len(dropped), timeout=300)

    def settled():
        return all(not s.queue(".queued") and not s.queue(".processing") and not s.queue(".error") for s in fleet)
    wait_until(settled, 180, "every station's upload queue to empty")
    got = standin_client.reports(standin)
    assert sorted(r["reportId"] for r in got) == sorted(dropped), "a report missing or sent twice"
    assert all(r["duplicateOf"] is None for r in got)
    assert {dropped[r["reportId"]] for r in got} == set(STATIONS)
    for s in fleet:
        assert len(s.queue(".completed")) == REPORTS_PER_STATION
    shared["uploaded"] = len(got)


def test_status_table_json_and_csv(fleet, standin, awx):
    out = awx.root / "out"
    out.mkdir()
    job = awx.run("status", {"pywats_status_json": str(out / "fleet.json"), "pywats_status_csv": str(out / "fleet.csv")})
    assert_job(job)
    for s in fleet:
        assert "%s | 0.6.0rc1 | %s | active/running | 200 |" % (s.name, ",".join(ALL_HOTFIXES)) in job.stdout
    with open(out / "fleet.json", encoding="utf-8") as fh:
        table = json.load(fh)
    assert table["unreachable"] == []
    rows = {r["host"]: r for r in table["stations"]}
    assert set(rows) == set(STATIONS)
    for row in rows.values():
        assert tuple(str(row[k]) for k in ("version", "hotfixes", "health", "queued", "parked")) == (
            "0.6.0rc1", ",".join(ALL_HOTFIXES), "200", "0", "0"), row
        assert row["last_upload"].endswith("Z")
    with open(out / "fleet.csv", encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [r["host"] for r in lines] == sorted(STATIONS)
    assert all(r["version"] == "0.6.0rc1" and r["service"] == "active/running" for r in lines)


def test_uninstall_keeps_config_and_queue(fleet, standin, awx, token):
    stations = by_name(fleet)
    # One report that never reached the server stays queued on the last station.
    last = stations["pywats-fleet-4"]
    standin_client.set_failure(standin, 503)
    unsent = drop_report(last, 99)
    wait_until(lambda: len(last.queue(".error")) == 1, 120, "the refused report parked on %s" % last.name)
    standin_client.reset(standin)

    job = awx.run("uninstall", {"pywats_uninstall_hosts": "pywats_stations"})
    assert_job(job)
    for s in fleet:
        for gone in ("/etc/systemd/system/pywats-client.service", "/opt/pywats/venv", "/etc/pywats/pywats-client.env",
                     "/var/cache/pywats/hotfixes"):
            assert not s.exists(gone), "%s: %s" % (s.name, gone)
        assert s.unit("LoadState")["LoadState"] == "not-found"
        assert health(s.port) is None
        config = json.loads(s.sh("cat /var/lib/pywats/config_default.json"))
        assert config["api_token"] == token
        assert s.sh("stat -c '%a %U' /var/lib/pywats/config_default.json").split() == ["600", "pywats"]
        assert len(s.queue(".completed")) == REPORTS_PER_STATION
        assert s.exists(WATCH)
    assert [n for n in last.queue(".error") if unsent in n]
    shared["unsent"] = unsent


def test_purge_leaves_nothing_behind(fleet, standin, awx):
    stations = by_name(fleet)
    last = stations["pywats-fleet-4"]
    # AWX surveys have no booleans: the answer arrives as the string "true".
    job = awx.run("uninstall", {"pywats_uninstall_hosts": "pywats_stations", "pywats_client_purge": "true"})
    assert_job(job, "failed")
    assert job.failed_hosts() == {last.name}
    assert "never reached the server" in job.stdout
    assert [n for n in last.queue(".error") if shared["unsent"] in n], "the refused purge deleted the report"

    job = awx.run("uninstall", {"pywats_uninstall_hosts": "pywats_stations", "pywats_client_purge": "true",
                                "pywats_client_purge_force": "true"})
    assert_job(job)
    ours = PATHS + ["/var/cache/pywats", "/opt/pywats/venv.rollback", "/etc/pywats",
                    "/etc/systemd/system/multi-user.target.wants/pywats-client.service"]
    for s in fleet:
        left = [p for p in ours if s.exists(p)]
        assert left == [], "%s still has %s" % (s.name, left)
        assert [t for t in traces(s.sh) if not t.startswith("apt lists")] == []
        assert s.sh("getent passwd pywats; getent group pywats; true").strip() == ""
        assert s.sh("ls /tmp/ | grep -i pywats; true").strip() == ""
        assert s.sh("systemctl list-unit-files 'pywats*' --no-legend; true").strip() == ""
        assert s.unit("LoadState")["LoadState"] == "not-found"
