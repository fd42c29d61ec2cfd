"""The bad-input matrix: each case runs the role against a Debian 12 station
and must be refused with its exact message before anything changes.

One station serves every case: each case is followed by a full check that the
host holds nothing of ours (tests.support.traces), so a case that changed
anything fails there, and the next case again starts from a pristine host.
"""
import json
import os
import subprocess

import pytest
import yaml

from tests.integration.conftest import ANSIBLE_PLAYBOOK
from tests.support.traces import traces

HERE = os.path.join(os.path.dirname(__file__), "bad_input")
with open(os.path.join(HERE, "cases.yml"), encoding="utf-8") as fh:
    CASES = yaml.safe_load(fh)


def test_matrix_is_complete():
    assert len(CASES) >= 12
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def station(debian12_station):
    # A pristine host to start from: if this fails, the image is not clean.
    assert traces(debian12_station.run) == []
    return debian12_station


def run_case(station, ansible_env, tmp_path, variables):
    """play.yml against the station with the matrix's base options and these on top."""
    inventory = tmp_path / "inventory"
    inventory.write_text("%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n"
                         % station.name)
    extra = tmp_path / "case.json"
    extra.write_text(json.dumps(variables))
    return subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inventory), os.path.join(HERE, "play.yml"),
         "-e", "@" + os.path.join(HERE, "base_vars.yml"), "-e", "@" + str(extra)],
        capture_output=True, text=True, env=ansible_env, timeout=300, check=False)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_is_refused_before_any_change(station, ansible_env, tmp_path, case):
    res = run_case(station, ansible_env, tmp_path, dict(case["vars"], bad_input_expected_msg=case["msg"]))
    assert res.returncode == 0, "refusal message differs or the role went on:\n" + res.stdout[-3000:] + res.stderr[-2000:]
    assert "rescued=1" in res.stdout
    assert "bad-input-test-token-5d1c" not in res.stdout + res.stderr
    if case.get("secret"):
        assert case["secret"] not in res.stdout + res.stderr, "the output shows a secret of the input"
    assert traces(station.run) == [], "the refused run left traces on the host"


# Judged where they live: links made on the station, which no text check on the
# controller can see. Each is refused by preflight before anything changes.
LINK_CASES = [
    {"id": "link-to-etc", "target": "/etc",
     "part": ('folders: pywats_client_watch_folders[0].path must be outside /etc, which belongs to the operating '
              'system; use a directory such as /srv/pywats/inbox; got "/srv/in", which resolves to /etc on the station')},
    {"id": "link-to-state-dir", "target": "/var/lib/pywats",
     "part": ('folders: pywats_client_watch_folders[0].path must be outside the client\'s state directory '
              '/var/lib/pywats')},
]


def tree_state(station, path):
    return station.run("stat -c '%U:%G %a' " + path + " && ls -A " + path)


@pytest.mark.parametrize("case", LINK_CASES, ids=[c["id"] for c in LINK_CASES])
def test_folder_that_leads_into_a_refused_place_is_refused_on_the_station(station, ansible_env, tmp_path, case):
    before = tree_state(station, "/etc")
    assert "linked" in station.run("ln -s %s /srv/in && echo linked" % case["target"])
    try:
        variables = {"pywats_client_watch_folders": [{"path": "/srv/in"}], "bad_input_expected_part": case["part"]}
        res = run_case(station, ansible_env, tmp_path, variables)
        assert res.returncode == 0, "refusal differs or the role went on:\n" + res.stdout[-3000:] + res.stderr[-2000:]
        assert "rescued=1" in res.stdout
    finally:
        station.run("rm -f /srv/in")
    assert tree_state(station, "/etc") == before
    assert traces(station.run) == [], "the refused run left traces on the host"
