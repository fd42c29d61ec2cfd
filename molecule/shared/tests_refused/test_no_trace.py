"""After a run the role refused, the host must hold nothing of ours."""
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, REPO)

from tests.support.traces import traces  # noqa: E402


def test_refused_run_left_no_trace(host):
    found = traces(lambda line: host.run(line).stdout)
    assert found == []


def test_no_service_unit_known_to_systemd(host):
    out = host.run("systemctl list-unit-files 'pywats*' --no-legend").stdout
    assert out.strip() == ""
