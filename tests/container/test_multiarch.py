"""The role virinco.pywats.pywats_client_container building for linux/amd64 and
linux/arm64 on this (amd64) Docker host: one image per platform, pushed to a
registry on loopback and joined by a manifest list; the arm64 image runs under
qemu-user emulation (binfmt_misc) until Docker reports it healthy.

One module-scoped deployment: a registry on 127.0.0.1 holds a two-platform
base image (the air-gapped Debian 12 image and an arm64 one with the same
packages), the role builds from it with the wheelhouse (x86_64 and aarch64
wheels), the tests read the registry and run the arm64 image, and a second run
changes nothing.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest

from tests.container.test_container import ansible_env, inspect, play as _play, recap, wait_until
from tests.integration.conftest import ANSIBLE_PLAYBOOK, REPO, docker
from tests.standin import client as standin

NAME = "pywats-ma-test"
UID = GID = 10043
AMD64_BASE = os.environ.get("PYWATS_CONTAINER_BASE_IMAGE", "pywats-test/debian:12-airgap")
ARM64_SOURCE = os.environ.get("PYWATS_ARM64_IMAGE", "pywats-test/debian:12-arm64")
# An arm64 image with the air-gapped image's packages, if the fleet has one;
# otherwise the fixture derives it from ARM64_SOURCE (apt under emulation).
ARM64_BASE = os.environ.get("PYWATS_ARM64_AIRGAP_IMAGE", "pywats-test/debian:12-arm64-airgap")
STABLE_TAG = "0.6.0rc1"
# Emulated Python is 10x+ slower: generous, but bounded, waits.
ARM64_HEALTH_WAIT = 600


def free_ports(count, first=18450, last=18490):
    """Ports on 127.0.0.1 that nothing listens on now: registry, stand-in and
    the two health ports (host networking: every container shares them)."""
    found = []
    for port in range(first, last):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError("fewer than %d free ports on 127.0.0.1 from %d to %d" % (count, first, last - 1))


def emulation_missing():
    """Why arm64 containers cannot run here, or None."""
    if inspect(ARM64_SOURCE, "image") is None and inspect(ARM64_BASE, "image") is None:
        return "no arm64 base image %s (scripts/build-images.sh 12-arm64 builds it)" % ARM64_SOURCE
    entry = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
    if not os.path.exists(entry):
        return "no qemu-aarch64 in binfmt_misc (apt-get install qemu-user-static; see scripts/build-images.sh)"
    with open(entry, encoding="utf-8") as fh:
        text = fh.read()
    flags = [line.split()[1] for line in text.splitlines() if line.startswith("flags:")]
    if not text.startswith("enabled") or not flags or "F" not in flags[0]:
        return "qemu-aarch64 in binfmt_misc is disabled or lacks the F flag (containers cannot use it)"
    image = ARM64_BASE if inspect(ARM64_BASE, "image") else ARM64_SOURCE
    probe = docker("run", "--rm", "--network", "none", image, "uname", "-m", check=False)
    if probe.stdout.strip() != "aarch64":
        return "an arm64 container does not run here: %s" % (probe.stdout + probe.stderr).strip()
    return None


def has_both_arches(path):
    sums = os.path.join(path, "SHA256SUMS")
    if not os.path.exists(sums):
        return False
    with open(sums, encoding="utf-8") as fh:
        names = fh.read().lower()
    return all(any(("pyside6_essentials" in line and arch in line) for line in names.splitlines())
               for arch in ("x86_64", "aarch64"))


def wheelhouse_with_aarch64(base):
    """The run's wheelhouse if it holds aarch64 wheels, else one of our own."""
    shared = os.environ.get("PYWATS_WHEELHOUSE", os.path.join(REPO, ".cache", "wheelhouse"))
    if has_both_arches(shared):
        return shared
    own = os.path.join(base, "wheelhouse")
    print("the wheelhouse %s has no aarch64 wheels: downloading one for Python 3.11 x86_64 and aarch64" % shared)
    targets = [{"python": "3.11"}, {"python": "3.11", "platform": "linux", "arch": "aarch64", "glibc": "2.36"}]
    res = subprocess.run([ANSIBLE_PLAYBOOK, os.path.join(REPO, "playbooks", "wheelhouse.yml"),
                          "-e", "pywats_client_wheelhouse_dir=" + own,
                          "-e", json.dumps({"pywats_client_wheelhouse_targets": targets})],
                         capture_output=True, text=True, env=ansible_env(), timeout=900, check=False)
    assert res.returncode == 0 and has_both_arches(own), res.stdout[-3000:] + res.stderr[-2000:]
    return own


def start_registry(base, port):
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if not binary:
        pytest.fail("no registry binary: apt-get install -y docker-registry (Docker Distribution 2.x)")
    config = os.path.join(base, "registry.yml")
    with open(config, "w", encoding="utf-8") as fh:
        json.dump({"version": 0.1, "log": {"level": "warn"},
                   "storage": {"filesystem": {"rootdirectory": os.path.join(base, "registry")},
                               "delete": {"enabled": True}},
                   "http": {"addr": "127.0.0.1:%d" % port}}, fh)
    log = open(os.path.join(base, "registry.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [binary, "serve", config], stdout=log, stderr=subprocess.STDOUT)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def answers():
        if proc.poll() is not None:
            with open(log.name, encoding="utf-8") as fh:
                raise AssertionError("the registry ended with %d: %s" % (proc.returncode, fh.read()[-2000:]))
        try:
            with opener.open("http://127.0.0.1:%d/v2/" % port, timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False
    wait_until(answers, 30, "the registry on 127.0.0.1:%d" % port, 0.2)
    return proc, log


def manifest(*args, check=True):
    res = subprocess.run(["docker", "manifest", *args], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0 or not check, res.stderr
    return res


def derive_arm64_base(tag):
    """ARM64_SOURCE plus the packages the air-gapped amd64 image has (glib for
    QtCore, patch for the hotfixes), installed under emulation."""
    start = time.monotonic()
    script = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends"
              " libglib2.0-0 patch procps >/dev/null && rm -rf /var/lib/apt/lists/*")
    name = "pywats-ma-base-%s" % uuid.uuid4().hex[:8]
    try:
        res = docker("run", "--name", name, "--network", "host", ARM64_SOURCE, "sh", "-c", script,
                     check=False, timeout=900)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        docker("commit", "-c", 'CMD ["/lib/systemd/systemd"]', name, tag)
    finally:
        docker("rm", "-f", name, check=False)
    print("arm64 base (apt under emulation) took %.0f s" % (time.monotonic() - start))


@pytest.fixture(scope="module")
def site():  # pylint: disable=too-many-locals,too-many-statements
    why = emulation_missing()
    if why:
        pytest.skip(why)
    if inspect(AMD64_BASE, "image") is None:
        pytest.fail("no amd64 base image %s: run scripts/build-images.sh 12" % AMD64_BASE)
    base = tempfile.mkdtemp(prefix="pywats-ma-")
    os.chmod(base, 0o755)
    started = time.monotonic()
    port, standin_port, health_port, arm64_health_port = free_ports(4)
    registry = "127.0.0.1:%d" % port
    data = {"base": base, "registry": registry, "standin_url": "http://127.0.0.1:%d" % standin_port, "arm64_health_port": arm64_health_port, "logs": [],
            "image_name": registry + "/pywats-ma/client",
            "base_list": registry + "/pywats-test/base:12", "watch": os.path.join(base, "inbox", "wsjf"),
            "etc": os.path.join(base, "etc"), "state": os.path.join(base, "state")}
    proc = log = None
    dangling = set(docker("images", "-q", "--filter", "dangling=true", check=False).stdout.split())
    own_arm64_base = False
    standin_dir = os.path.join(base, "standin")
    token = "ma-token-" + uuid.uuid4().hex
    token_file = os.path.join(base, "standin-token")
    try:
        wheelhouse = wheelhouse_with_aarch64(base)
        with open(token_file, "w", encoding="utf-8") as fh:
            fh.write(token)
        os.chmod(token_file, 0o600)
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "start", str(standin_port), standin_dir,
                        token_file], check=True)
        proc, log = start_registry(base, port)
        if inspect(ARM64_BASE, "image") is None:
            derive_arm64_base(ARM64_BASE)
            own_arm64_base = True
        # The two-platform base image: one manifest list over both images.
        for image, arch in ((AMD64_BASE, "amd64"), (ARM64_BASE, "arm64")):
            docker("tag", image, "%s-%s" % (data["base_list"], arch))
            docker("push", "%s-%s" % (data["base_list"], arch), timeout=600)
        manifest("rm", data["base_list"], check=False)
        manifest("create", "--insecure", data["base_list"], data["base_list"] + "-amd64", data["base_list"] + "-arm64")
        manifest("annotate", "--os", "linux", "--arch", "arm64", "--variant", "v8", data["base_list"],
                 data["base_list"] + "-arm64")
        manifest("push", "--purge", "--insecure", data["base_list"])
        for arch in ("amd64", "arm64"):
            docker("rmi", "%s-%s" % (data["base_list"], arch))
        print("registry and base image ready in %.0f s" % (time.monotonic() - started))
        data["vars"] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "pywats_client_server_url": "http://127.0.0.1:%d" % standin_port,
            "pywats_client_api_token": token,
            "pywats_client_health_port": health_port,
            "pywats_client_watch_folders": [{"path": data["watch"]}],
            "pywats_client_install_source": "wheelhouse",
            "pywats_client_wheelhouse_dir": wheelhouse,
            "pywats_client_container_platforms": ["linux/amd64", "linux/arm64"],
            "pywats_client_container_push": True,
            # The name other Docker hosts would run: it must follow each build.
            "pywats_client_container_push_tags": [STABLE_TAG],
            "pywats_client_container_registry_insecure": True,
            "pywats_client_container_image_name": data["image_name"],
            "pywats_client_container_base_image": data["base_list"],
            # The base images bring every package: the builds need no network.
            "pywats_client_container_build_network": "none",
            "pywats_client_container_network_mode": "host",
            "pywats_client_container_name": NAME,
            "pywats_client_container_uid": UID,
            "pywats_client_container_gid": GID,
            "pywats_client_container_config_dir": data["etc"],
            "pywats_client_container_state_dir": data["state"],
            "pywats_client_container_health_interval": 5,
        }
        yield data
    finally:
        for name in (NAME, NAME + "-arm64"):
            docker("rm", "-f", name, check=False)
        # By tag, and by digest: a pulled image may keep only its digest.
        listing = docker("images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}", check=False)
        rows = [row.split() for row in listing.stdout.splitlines()]
        ours = ([repo + ":" + tag for repo, tag, digest in rows if repo.startswith(registry + "/") and tag != "<none>"]
                + [repo + "@" + digest for repo, tag, digest in rows
                   if repo.startswith(registry + "/") and digest != "<none>"]
                + ([ARM64_BASE] if own_arm64_base else []))
        if ours:
            docker("rmi", "-f", *ours, check=False)
        # The build stages the builds left untagged (no -f: one in use stays).
        left = set(docker("images", "-q", "--filter", "dangling=true", check=False).stdout.split()) - dangling
        if left:
            docker("rmi", *sorted(left), check=False)
        for ref in [data["base_list"]] + data.get("lists", []):
            manifest("rm", ref, check=False)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "stop", str(standin_port), standin_dir],
                       check=False)
        shutil.rmtree(base, ignore_errors=True)


def play(site, extra=None):
    # Two builds, one of them under emulation.
    return _play(site, extra, timeout=2400)


def arch_images(site):
    return {arch: "%s-%s" % (site["list"], arch) for arch in ("amd64", "arm64")}


def test_deploy_builds_both_platforms_and_runs_the_host_one(site):
    res = play(site)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    info = inspect(NAME)
    assert info["State"]["Health"]["Status"] == "healthy"
    site["container_id"] = info["Id"]
    # The container runs the Docker host's (amd64) image by its per-platform tag.
    site["list"] = info["Config"]["Image"][:-len("-amd64")]
    site["stable"] = site["image_name"] + ":" + STABLE_TAG
    site.setdefault("lists", []).extend([site["list"], site["stable"]])
    assert info["Config"]["Image"] == site["list"] + "-amd64"
    assert site["list"].startswith(site["image_name"] + ":0.6.0rc1-")
    images = {arch: inspect(ref, "image") for arch, ref in arch_images(site).items()}
    created = {arch: image["Created"] for arch, image in images.items()}
    print("per-platform images created: %s" % created)
    # The role builds amd64 first: the arm64 build took about the time between.
    amd64_done = time.mktime(time.strptime(created["amd64"][:19], "%Y-%m-%dT%H:%M:%S"))
    arm64_done = time.mktime(time.strptime(created["arm64"][:19], "%Y-%m-%dT%H:%M:%S"))
    print("arm64 build (under emulation) took about %.0f s" % (arm64_done - amd64_done))


def test_per_platform_images_have_their_architecture(site):
    for arch, ref in arch_images(site).items():
        image = inspect(ref, "image")
        assert (image["Os"], image["Architecture"]) == ("linux", arch), ref
        assert any(d.startswith(site["image_name"] + "@sha256:") for d in image["RepoDigests"]), image["RepoDigests"]


def test_manifest_list_holds_exactly_amd64_and_arm64(site):
    listed = json.loads(manifest("inspect", "--insecure", site["list"]).stdout)
    assert listed["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    platforms = sorted((m["platform"]["os"], m["platform"]["architecture"]) for m in listed["manifests"])
    assert platforms == [("linux", "amd64"), ("linux", "arm64")]
    arm64 = [m["platform"] for m in listed["manifests"] if m["platform"]["architecture"] == "arm64"]
    assert arm64[0].get("variant") == "v8"
    for entry in listed["manifests"]:
        image = inspect("%s-%s" % (site["list"], entry["platform"]["architecture"]), "image")
        assert site["image_name"] + "@" + entry["digest"] in image["RepoDigests"]
    # The extra tag names the same list.
    stable = json.loads(manifest("inspect", "--insecure", site["stable"]).stdout)
    assert stable["manifests"] == listed["manifests"]


def test_arm64_image_from_the_list_runs_healthy_under_emulation(site):
    # By the extra tag, as another (arm64) Docker host would name it.
    pulled = docker("pull", "--platform", "linux/arm64", site["stable"], check=False, timeout=600)
    assert pulled.returncode == 0, pulled.stderr
    # The list's arm64 entry is the image the role built for arm64.
    assert inspect(site["stable"], "image")["Id"] == inspect(site["list"] + "-arm64", "image")["Id"]
    state = os.path.join(site["base"], "state-arm64")
    watch = os.path.join(site["base"], "watch-arm64")
    for path in (state, watch):
        os.makedirs(path)
        os.chown(path, UID, GID)
    etc = site["etc"]
    # Its own state, watch folder and health port beside the amd64 container.
    args = ["run", "-d", "--name", NAME + "-arm64", "--platform", "linux/arm64", "--network", "host", "--init",
            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "-e", "PYWATS_HEALTH_PORT=%d" % site["arm64_health_port"],
            "-v", etc + "/config.json:/etc/pywats/config.json:ro",
            "-v", etc + "/pywats-client.env:/etc/pywats/pywats-client.env:ro",
            "-v", etc + "/api-token:/run/secrets/pywats_api_token:ro",
            "-v", state + ":/var/lib/pywats:rw", "-v", watch + ":" + site["watch"] + ":rw",
            "--tmpfs", "/run/pywats:rw,noexec,nosuid,nodev,size=1m,mode=0700,uid=%d,gid=%d" % (UID, GID),
            "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=16m,mode=1777",
            "--health-interval", "5s", "--health-timeout", "60s", "--health-retries", "60",
            site["stable"]]
    start = time.monotonic()
    docker(*args)

    def healthy():
        current = inspect(NAME + "-arm64")["State"]
        assert current["Status"] == "running", (current, docker("logs", NAME + "-arm64", check=False).stderr[-3000:])
        return current["Health"]["Status"] == "healthy"
    try:
        wait_until(healthy, ARM64_HEALTH_WAIT, "the arm64 container healthy", 2)
    except AssertionError:
        logs = docker("logs", "--tail", "40", NAME + "-arm64", check=False)
        print(logs.stdout[-3000:] + logs.stderr[-3000:])
        raise
    print("arm64 container healthy after %.0f s under emulation" % (time.monotonic() - start))
    assert docker("exec", NAME + "-arm64", "uname", "-m").stdout.strip() == "aarch64"
    machine = docker("exec", NAME + "-arm64", "/opt/pywats/venv/bin/python", "-c",
                     "import platform, PySide6.QtCore; print(platform.machine())", timeout=300)
    assert machine.stdout.strip() == "aarch64"
    # What the client is for, on aarch64: a report dropped into its watch folder
    # (written, then renamed) reaches the stand-in.
    sn = "SN-MA-ARM64-" + uuid.uuid4().hex[:8]
    with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report["sn"], report["id"] = sn, str(uuid.uuid4())
    staged = os.path.join(watch, ".%s.part" % sn)
    with open(staged, "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    os.rename(staged, os.path.join(watch, sn + ".json"))
    start = time.monotonic()
    wait_until(lambda: [r for r in standin.reports(site["standin_url"]) if r.get("serialNumber") == sn],
               ARM64_HEALTH_WAIT, "report %s from the arm64 container at the stand-in" % sn, 1)
    print("report from the arm64 container at the stand-in after %.0f s" % (time.monotonic() - start))
    docker("rm", "-f", NAME + "-arm64")


def test_second_run_changes_nothing(site):
    res = play(site)
    assert res.returncode == 0, res.stdout[-6000:]
    assert recap(res)["changed"] == "0", [row for row in res.stdout.splitlines() if row.startswith("changed")]
    assert inspect(NAME)["Id"] == site["container_id"]
    assert all(site["vars"]["pywats_client_api_token"] not in log for log in site["logs"])
