"""An offline station installed from the wheelhouse runs and is healthy."""

SERVICE = "pywats-client"


def test_station_has_no_network(host):
    # Only the loopback interface exists inside the container.
    links = host.run("ls /sys/class/net").stdout.split()
    assert links == ["lo"]


def test_service_active_and_healthy(host):
    assert host.service(SERVICE).is_running
    port = host.ansible.get_variables()["pywats_client_health_port"]
    code = host.run(
        "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:%d/health', timeout=5).status)\"" % port)
    assert code.stdout.strip() == "200", code.stderr


def test_installed_from_the_wheelhouse(host):
    wheels = host.run("ls /var/cache/pywats/wheelhouse").stdout.split()
    assert any(w.startswith("pywats_api-0.6.0rc1-") for w in wheels)
    assert any(w.startswith("pyside6_essentials-") for w in wheels)
    # Only wheels for this station's platform were copied.
    assert not [w for w in wheels if "win_" in w or "macosx" in w or "aarch64" in w]
    version = host.run("/opt/pywats/venv/bin/python -c \"import importlib.metadata as m; print(m.version('pywats-api'))\"")
    assert version.stdout.strip() == "0.6.0rc1"


def test_hotfixes_applied(host):
    site = host.run("/opt/pywats/venv/bin/python -c \"import sysconfig; print(sysconfig.get_paths()['purelib'])\"").stdout.strip()
    queue = host.file(site + "/pywats_client/service/async_pending_queue.py").content_string
    assert "api.report.submit_raw(" not in queue
