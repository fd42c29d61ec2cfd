"""Boot test of the pyWATS appliance under qemu (software emulation).

    python3 tests/appliance/boot_test.py [--image PATH] [--work-dir DIR] [--port-base 18610]

1. starts the WATS stand-in on 127.0.0.1 with a fresh token;
2. makes a NoCloud seed with the appliance_seed playbook pointing at the stand-in
   (http://10.0.2.100 inside qemu's user network, forwarded by guestfwd to loopback);
3. boots a throw-away overlay of the qcow2 with that seed, qemu user networking with
   restrict=on (no traffic leaves qemu except the forwards), hostfwd of the client's
   health port to 127.0.0.1 only;
4. asserts: /health answers 200 from the host; the stand-in saw GET /api/App/Version
   with the station's token (from the configurator's check and from the client itself);
   the token appears nowhere on the serial console;
5. powers the VM off through ACPI, boots it again without the seed, and asserts that it
   is healthy again and calls the stand-in with the token again.

Waits are bounded but generous (software emulation on a shared machine). Prints a
transcript and ends with "N passed, N failed".
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GUEST_SERVER = "10.0.2.100"  # inside qemu's user network only; never a real address


class Failed(Exception):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.work = args.work_dir
        self.standin_port = args.port_base
        self.health_port = args.port_base + 1
        self.qmp_path = os.path.join(self.work, "qmp.sock")
        self.qemu = None
        self.results = []
        self.token = secrets.token_urlsafe(24)
        self.start = time.monotonic()

    # Helpers -------------------------------------------------------------------------
    def log(self, message):
        print("[%6.0f s] %s" % (time.monotonic() - self.start, message), flush=True)

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok)))
        self.log("%s: %s%s" % ("PASS" if ok else "FAIL", name, " (%s)" % detail if detail else ""))
        return ok

    def standin(self, method, path):
        request = urllib.request.Request("http://127.0.0.1:%d/_standin/%s" % (self.standin_port, path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def health(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.health_port, timeout=5) as response:
                return response.status, response.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, OSError):
            return None, ""

    def console(self, boot):
        path = os.path.join(self.work, "console-%d.log" % boot)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    # Setup ---------------------------------------------------------------------------
    def prepare(self):
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        os.makedirs(self.work, mode=0o700)
        token_file = os.path.join(self.work, "token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.token)
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "start", str(self.standin_port),
                        os.path.join(self.work, "standin"), token_file], check=True)
        seed_vars = os.path.join(self.work, "seed-vars.json")
        fd = os.open(seed_vars, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"pywats_appliance_seed_server_url": "http://%s" % GUEST_SERVER,
                       "pywats_appliance_seed_api_token": self.token,
                       "pywats_appliance_seed_station_name": "Appliance boot test",
                       "pywats_appliance_seed_output": os.path.join(self.work, "seed.iso")}, handle)
        started = time.monotonic()
        subprocess.run(["ansible-playbook", "virinco.pywats.appliance_seed", "-e", "@" + seed_vars],
                       check=True, stdout=subprocess.DEVNULL)
        self.log("seed ISO made with the appliance_seed playbook in %.0f s" % (time.monotonic() - started))
        self.overlay = os.path.join(self.work, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", os.path.abspath(self.args.image),
                        self.overlay], check=True)

    def boot(self, number, with_seed):
        relay = "python3 %s 127.0.0.1 %d" % (os.path.join(HERE, "relay.py"), self.standin_port)
        netdev = ("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:%d,guestfwd=tcp:%s:80-cmd:%s"
                  % (self.health_port, self.args.guest_health_port, GUEST_SERVER, relay))
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", str(self.args.cpus),
                "-name", "pywats-appliance-boot-test", "-display", "none", "-monitor", "none",
                "-serial", "file:%s" % os.path.join(self.work, "console-%d.log" % number),
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-drive", "file=%s,if=virtio,format=qcow2" % self.overlay,
                "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]
        if with_seed:
            argv += ["-drive", "file=%s,media=cdrom,if=ide,format=raw,readonly=on" % os.path.join(self.work, "seed.iso")]
        self.log("boot %d%s: %s" % (number, " with the seed" if with_seed else " without the seed (detached)",
                                    " ".join(argv)))
        self.qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait_healthy(self, number, timeout):
        deadline = time.monotonic() + timeout
        seen = set()
        marks = ("Linux version", "Run /init", "systemd[1]: Detected", "cloud-init", "login:")
        while time.monotonic() < deadline:
            if self.qemu.poll() is not None:
                raise Failed("qemu exited with %s: %s" % (self.qemu.returncode, self.qemu.stdout.read().decode()[-2000:]))
            text = self.console(number)
            for mark in marks:
                if mark not in seen and mark in text:
                    seen.add(mark)
                    self.log("console %d: reached %r" % (number, mark))
            status, body = self.health()
            if status == 200:
                return body
            time.sleep(5)
        raise Failed("no 200 from http://127.0.0.1:%d/health within %d s" % (self.health_port, timeout))

    def qmp(self, *commands):
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(30)
        sock.connect(self.qmp_path)
        stream = sock.makefile("rw")
        stream.readline()
        for command in ({"execute": "qmp_capabilities"},) + commands:
            stream.write(json.dumps(command) + "\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "return" in reply or "error" in reply:
                    break
        sock.close()

    def power_off(self, timeout):
        self.log("ACPI power button (graceful shutdown)")
        self.qmp({"execute": "system_powerdown"})
        try:
            self.qemu.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.qemu.kill()
            self.qemu.wait()
            return False

    def version_calls(self):
        return [r for r in self.standin("GET", "requests") if r["method"] == "GET" and r["path"].lower() == "/api/app/version"]

    def assert_boot(self, number, timeout):
        started = time.monotonic()
        body = self.wait_healthy(number, timeout)
        self.check("boot %d: GET /health answers 200 through 127.0.0.1:%d" % (number, self.health_port), True,
                   "after %.0f s: %s" % (time.monotonic() - started, body.strip()[:120]))
        # The client calls the server as it starts; give it a bounded while.
        deadline = time.monotonic() + 180
        calls = []
        while time.monotonic() < deadline:
            calls = self.version_calls()
            if any(c["authSeen"] == "token" and "pywats-appliance-config" not in c["userAgent"] for c in calls):
                break
            time.sleep(5)
        by_token = [c for c in calls if c["authSeen"] == "token"]
        self.check("boot %d: the stand-in saw GET /api/App/Version with the station's token" % number, by_token,
                   "%d of %d calls; user agents %s" % (len(by_token), len(calls), sorted({c["userAgent"] for c in calls})))
        self.check("boot %d: the client itself (not only the configurator) called with the token" % number,
                   any("pywats-appliance-config" not in c["userAgent"] for c in by_token))
        self.check("boot %d: no call with a wrong or missing token" % number,
                   all(c["authSeen"] == "token" for c in calls), str(sorted({c["authSeen"] for c in calls})))
        self.check("boot %d: the token is nowhere on the serial console" % number, self.token not in self.console(number))

    def run(self):
        self.prepare()
        self.boot(1, with_seed=True)
        self.assert_boot(1, self.args.boot_timeout)
        self.check("boot 1: the configurator's own check called with the token",
                   any("pywats-appliance-config" in c["userAgent"] and c["authSeen"] == "token" for c in self.version_calls()))
        self.check("shutdown 1: the VM powered off through ACPI", self.power_off(self.args.shutdown_timeout))
        self.standin("DELETE", "requests")
        self.boot(2, with_seed=False)
        self.assert_boot(2, self.args.boot_timeout)
        self.check("shutdown 2: the VM powered off through ACPI", self.power_off(self.args.shutdown_timeout))

    def cleanup(self):
        if self.qemu and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "stop", str(self.standin_port),
                        os.path.join(self.work, "standin")], check=False)

    def transcript(self):
        for number in (1, 2):
            lines = [line for line in self.console(number).splitlines() if line.strip()]
            if not lines:
                continue
            print("---- serial console of boot %d: %d lines; first and last 15 ----" % (number, len(lines)))
            shown = lines if len(lines) <= 30 else lines[:15] + ["[...]"] + lines[-15:]
            print("\n".join(line[:160] for line in shown))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="/var/tmp/pywats-appliance/output/pywats-appliance.qcow2")
    parser.add_argument("--work-dir", default="/var/tmp/pywats-appliance/boot-test")
    parser.add_argument("--port-base", type=int, default=18610, help="stand-in on this port, health forward on the next")
    parser.add_argument("--guest-health-port", type=int, default=8080)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--boot-timeout", type=int, default=1800)
    parser.add_argument("--shutdown-timeout", type=int, default=300)
    args = parser.parse_args()
    if not os.path.isfile(args.image):
        print("no appliance image at %s: build it first (make appliance)" % args.image, file=sys.stderr)
        return 2
    run = Run(args)
    try:
        run.run()
    except (Failed, subprocess.CalledProcessError, OSError) as exc:
        run.check("boot test completed", False, str(exc))
    finally:
        run.cleanup()
        run.transcript()
    failed = sum(1 for result in run.results if not result[1])
    print("appliance boot test: %.0f s" % (time.monotonic() - run.start))
    print("%d passed, %d failed" % (len(run.results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
