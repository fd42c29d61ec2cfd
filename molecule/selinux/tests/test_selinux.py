"""What the role registered for SELinux, read back with the SELinux tools.

The container's kernel has SELinux disabled (a container cannot run SELinux in
enforcing mode), so these checks read the policy store and the file-context
configuration, not the labels on disk.
"""
import re

import pytest

VENV = "/opt/pywats/venv"
STATE = "/var/lib/pywats"
WATCH_TYPE = "public_content_rw_t"


def folders(v):
    out = []
    for wf in v["pywats_client_watch_folders"]:
        path = wf["path"].rstrip("/")
        out += [path, wf.get("done_folder", path + "/Done"), wf.get("error_folder", path + "/Error"),
                wf.get("pending_folder", path + "/Pending")]
    return out


@pytest.fixture(scope="module")
def expected(host):
    v = host.ansible.get_variables()
    rules = {VENV + "/bin": "bin_t", STATE: "var_lib_t"}
    rules.update((path, WATCH_TYPE) for path in folders(v))
    return {"rules": rules, "port": int(v["pywats_client_health_port"])}


def local_fcontexts(host):
    """semanage's local file-context rules: {regex: type}."""
    out = host.check_output("semanage fcontext --list --locallist --noheading")
    rules = {}
    for line in out.splitlines():
        match = re.match(r"^(\S+)\s+all files\s+\S+:\S+:(\S+):\S+", line)
        if match:
            rules[match.group(1)] = match.group(2)
    return rules


def test_selinux_is_not_running_in_this_container(host):
    # Said plainly: management is forced on; the kernel has no SELinux for a container.
    assert host.run("selinuxenabled").rc != 0
    assert host.check_output("getenforce") == "Disabled"


def test_every_file_context_rule_is_registered(host, expected):
    rules = local_fcontexts(host)
    want = dict((path + "(/.*)?", setype) for path, setype in expected["rules"].items())
    assert rules == want


@pytest.mark.parametrize("suffix, venv_type", [("/bin/pywats-client", "bin_t"), ("/bin/python", "bin_t"),
                                               ("/bin", "bin_t")])
def test_matchpathcon_venv(host, suffix, venv_type):
    path = VENV + suffix
    assert host.file(path).exists
    assert host.check_output("matchpathcon %s" % path).split()[-1].split(":")[2] == venv_type


def test_matchpathcon_every_path(host, expected):
    wrong = {}
    for path, setype in expected["rules"].items():
        assert host.file(path).is_directory, path
        for probe in (path, path + "/report-0001.json"):
            found = host.check_output("matchpathcon %s" % probe).split()[-1].split(":")[2]
            if found != setype:
                wrong[probe] = found
    config = host.check_output("matchpathcon %s/config_default.json" % STATE).split()[-1].split(":")[2]
    assert wrong == {} and config == "var_lib_t"


def test_health_port_is_labelled(host, expected):
    out = host.check_output("semanage port --list --locallist --noheading")
    ports = [line.split() for line in out.splitlines() if line.strip()]
    assert ["http_port_t", "tcp", str(expected["port"])] in ports


def test_service_still_runs_with_management_forced_on(host, expected):
    assert host.service("pywats-client").is_running
    out = host.check_output("python3 -c \"import urllib.request as u; "
                            "print(u.urlopen('http://127.0.0.1:%d/health', timeout=5).status)\"" % expected["port"])
    assert out == "200"
