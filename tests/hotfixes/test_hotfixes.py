"""One test per hotfix: with every other hotfix applied, the behaviour is
broken without this one and works with it (the two cases assert opposite
outcomes). Each runs the client's own code in a subprocess against a
loopback stand-in of the WATS server."""

import json
import re

import pytest

import hotfix_support as hs

TOKEN = "aG90Zml4OnRlc3Q="  # sent verbatim as "Authorization: Basic <token>"
ALL = hs.patch_ids()


def patches(patched, patch_id):
    assert patch_id in ALL
    return ALL if patched else [p for p in ALL if p != patch_id]


def with_and_without(patch_id):
    return pytest.mark.parametrize(
        "patched", [False, True], ids=[f"without-{patch_id[:2]}", f"with-{patch_id[:2]}"])


def write_config(tmp_path, standin, watch):
    """A config file in its own directory: reports/ (the pending queue) sits
    beside it, as /var/lib/pywats/reports sits beside config_default.json."""
    state = tmp_path / "state"
    state.mkdir()
    watch.mkdir()
    config = state / "config_default.json"
    config.write_text(json.dumps({
        "service_address": standin.url,
        "api_token": TOKEN,
        "converters": [hs.converter_entry(watch)],
    }))
    return config


def last_json(proc):
    assert proc is not None, "script hung"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@with_and_without("01-converter-registry")
def test_01_configured_converter_loads_and_uploads(patched, overlay_factory, standin,
                                                   run_script, tmp_path):
    overlay = overlay_factory(patches(patched, "01-converter-registry"))
    watch = tmp_path / "watch"
    config = write_config(tmp_path, standin, watch)
    hs.drop_report(watch)

    facts = last_json(run_script("pool_once.py", overlay, config, 6))

    loaded = facts["loaded"] == ["WATSStandardJsonConverter"]
    posts = standin.posts()
    uploaded = (len(posts) == 1 and json.loads(posts[0]["body"])["sn"] == "SN-0001"
                and (watch / "Done/report.json").is_file())
    assert (loaded, uploaded) == (patched, patched), facts
    assert (watch / "report.json").exists() is not patched


@with_and_without("02-queue-failed-submit")
def test_02_failed_submit_is_queued_not_dropped(patched, overlay_factory, standin,
                                                run_script, tmp_path):
    overlay = overlay_factory(patches(patched, "02-queue-failed-submit"))
    watch = tmp_path / "watch"
    config = write_config(tmp_path, standin, watch)
    standin.wsjf_status = 503
    hs.drop_report(watch)

    last_json(run_script("pool_once.py", overlay, config, 6))

    assert len(standin.posts()) == 1  # the converter ran and tried to upload
    queued = list((config.parent / "reports").glob("report.*.queued"))
    in_done = (watch / "Done/report.json").is_file()
    in_error = (watch / "Error/report.json").is_file()
    assert (len(queued) == 1, in_done, in_error) == (patched, patched, not patched)
    if patched:
        report = json.loads(queued[0].read_text())
        assert queued[0].name == f"report.{report['id']}.queued"
        assert json.loads(standin.posts()[0]["body"]) == report
        assert not list(queued[0].parent.glob("*.tmp"))


@with_and_without("03-pending-queue-submit")
def test_03_pending_queue_uploads_what_the_pool_queued(patched, overlay_factory, standin,
                                                       run_script, tmp_path):
    overlay = overlay_factory(patches(patched, "03-pending-queue-submit"))
    watch = tmp_path / "watch"
    config = write_config(tmp_path, standin, watch)
    reports = config.parent / "reports"
    standin.wsjf_status = 503                # outage: the pool queues (hotfix 02)
    hs.drop_report(watch)
    last_json(run_script("pool_once.py", overlay, config, 6))
    [queued] = reports.glob("*.queued")
    stem = queued.name[: -len(".queued")]

    standin.wsjf_status = 200                # back: the queue uploads it
    files = last_json(run_script("queue_once.py", overlay, standin.url, TOKEN, reports, 6))

    posts = standin.posts()
    uploaded = (f"{stem}.completed" in files and len(posts) == 2
                and posts[1]["body"] == posts[0]["body"])
    failed = f"{stem}.error" in files
    assert (uploaded, failed) == (patched, not patched), files
    if not patched:
        info = json.loads((reports / f"{stem}.error.info").read_text())
        assert "submit_raw" in info["error"]


@with_and_without("04-health-server-stop")
def test_04_health_server_stop_returns(patched, overlay_factory, run_script):
    overlay = overlay_factory(patches(patched, "04-health-server-stop"))

    proc = run_script("health_stop.py", overlay, hs.free_port(), timeout=20)

    stopped = proc is not None and last_json(proc)["stop_seconds"] < 3
    assert stopped is patched
    if patched:
        assert last_json(proc)["health"] == 200


def configurator_module_paths(site_packages):
    """The module_path strings the shipped (Qt) configurator writes."""
    source = site_packages / "pywats_ui/apps/configurator/pages/converters.py"
    found = re.findall(r'"(pywats_client\.converters\.standard\.\w+\.\w+)"', source.read_text())
    return list(dict.fromkeys(found))


@with_and_without("01-converter-registry")
def test_01_every_configurator_module_path_loads(patched, client_venv, overlay_factory,
                                                 run_script, tmp_path):
    module_paths = configurator_module_paths(client_venv.site_packages)
    assert hs.WSJF_MODULE_PATH in module_paths and len(module_paths) == 6
    overlay = overlay_factory(patches(patched, "01-converter-registry"))

    loaded = last_json(run_script("load_converters.py", overlay, tmp_path, *module_paths))

    assert [f"{c['module']}.{c['class']}" for c in loaded] == (module_paths if patched else [])
    for i, c in enumerate(loaded):
        watch = tmp_path / f"w{i}"
        assert (c["watch_path"], c["archive_path"], c["error_path"], c["action"]) == (
            str(watch), str(watch / "Done"), str(watch / "Error"), "move")
        assert c["matches"] == [True, True, False]
