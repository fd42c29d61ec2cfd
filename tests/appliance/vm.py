"""What the appliance's VM tests share: the stand-in, a seed, qemu with user networking
forwarded to loopback only, QMP and the guest agent, smbclient against the report share,
and a look into the powered-off disk.

Every address a test talks to is 127.0.0.1 on the host or 10.0.2.x inside qemu's user
network (restrict=on: nothing leaves qemu but the listed forwards).
"""

import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GUEST_SERVER = "10.0.2.100"  # inside qemu's user network only; never a real address
GUEST_DHCP_ADDRESS = "10.0.2.15"  # the first address qemu's DHCP server hands out
KVM_GET_API_VERSION = 0xAE00
# What a current Windows station negotiates: SMB3, encrypted.
SMB3_ENCRYPTED = ["-m", "SMB3", "--option=client min protocol=SMB3_00", "--client-protection=encrypt"]


class Failed(Exception):
    pass


def kvm_usable():
    """(True, "") when /dev/kvm opens read-write and answers KVM_GET_API_VERSION 12."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, "/dev/kvm: %s" % exc.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as exc:
        return False, "/dev/kvm: KVM_GET_API_VERSION failed: %s" % exc.strerror
    finally:
        os.close(fd)
    return (version == 12), ("" if version == 12 else "/dev/kvm: API version %s, not 12" % version)


def kvm_cpu():
    """The -cpu model KVM starts with here: host, or host without the ARCH_CAPABILITIES MSR,
    which nested KVM may refuse ("failed to set MSR 0x10a"); None when neither starts."""
    errors = []
    for model in ("host", "host,-arch-capabilities"):
        probe = subprocess.Popen(["qemu-system-x86_64", "-accel", "kvm", "-cpu", model, "-m", "64", "-nodefaults",
                                  "-display", "none", "-monitor", "none", "-S"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out = probe.communicate(timeout=3)[0]
        except subprocess.TimeoutExpired:  # still running: the vCPU was set up
            probe.kill()
            probe.wait()
            return model, errors
        errors.append("-cpu %s: %s" % (model, out.decode(errors="replace").strip().splitlines()[:1]))
    return None, errors


def private_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def vm_arguments(parser, work_dir, port_base, ports_help):
    """The options both VM tests take (image, work directory, ports, CPUs, timeouts), and
    the image checked; returns the parsed arguments, or None when there is no image."""
    parser.add_argument("--image", default="/var/tmp/pywats-appliance/output/pywats-appliance.qcow2")
    parser.add_argument("--work-dir", default=work_dir)
    parser.add_argument("--port-base", type=int, default=port_base, help=ports_help)
    parser.add_argument("--guest-health-port", type=int, default=8080)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--tcg", action="store_true", help="software emulation even where KVM works")
    parser.add_argument("--boot-timeout", type=int, default=1800)
    parser.add_argument("--shutdown-timeout", type=int, default=300)
    args = parser.parse_args()
    if not os.path.isfile(args.image):
        print("no appliance image at %s: build it first (make appliance)" % args.image, file=sys.stderr)
        return None
    return args


class Harness:
    """One stand-in, one throw-away overlay and the qemu runs on it."""

    def __init__(self, args, name):
        self.args = args
        self.name = name
        self.work = args.work_dir
        self.standin_port = args.port_base
        self.health_port = args.port_base + 1
        self.smb_port = args.port_base + 2
        self.qmp_path = os.path.join(self.work, "qmp.sock")
        self.qga_path = os.path.join(self.work, "qga.sock")
        self.tui_path = os.path.join(self.work, "tui.sock")
        self.qemu = None
        self.results = []
        self.token = secrets.token_urlsafe(24)
        self.share_password = "Sh-" + secrets.token_urlsafe(15)
        # Every secret the run typed or seeded, by name: none may show on a screen, a console or a log.
        self.secret_values = {"token": self.token, "share password": self.share_password}
        self.start = time.monotonic()
        self.power_on = None
        self.consoles = []
        self.times = []
        self.accel = ["-accel", "tcg", "-cpu", "max"]
        self.kvm = False

    def choose_accel(self):
        """KVM when it runs this image (its boot loader prints on the serial port within
        seconds), else TCG, saying why."""
        ok, why = kvm_usable()
        model = None
        if getattr(self.args, "tcg", False):
            ok, why = False, "--tcg given"
        if ok:
            model, errors = kvm_cpu()
            why = "; ".join(errors) or why
        if model:
            why = self.kvm_runs_the_image(model) or why
            if not why:
                self.accel = ["-accel", "kvm", "-cpu", model]
                self.kvm = True
                self.log("accelerator: KVM, -cpu %s" % model)
                return
        self.log("accelerator: TCG software emulation, several times slower than KVM (KVM not used: %s)" % why)

    def kvm_runs_the_image(self, model, timeout=20):
        """None when a KVM guest of the image writes to its serial port in time, else why not."""
        probe_disk = os.path.join(self.work, "kvm-probe.qcow2")
        probe_log = os.path.join(self.work, "kvm-probe.log")
        probe_out = os.path.join(self.work, "kvm-probe.out")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", os.path.abspath(self.args.image),
                        probe_disk], check=True)
        qemu = subprocess.Popen(["qemu-system-x86_64", "-accel", "kvm", "-cpu", model, "-m", "512", "-nodefaults",
                                 "-display", "none", "-monitor", "none", "-serial", "file:%s" % probe_log,
                                 "-drive", "file=%s,if=virtio,format=qcow2" % probe_disk, "-snapshot"],
                                stdin=subprocess.DEVNULL, stdout=open(probe_out, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        why = "the guest wrote nothing to its serial port in %d s" % timeout

        def output():
            with open(probe_out, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        try:
            while time.monotonic() < deadline:
                if qemu.poll() is not None:
                    why = "qemu exited: %s" % output().strip()[:200]
                    break
                if "KVM internal error" in output():  # qemu stops the guest and waits
                    why = "KVM stopped the guest (%s)" % output().strip().splitlines()[0][:120]
                    break
                if os.path.exists(probe_log) and os.path.getsize(probe_log) > 0:
                    why = None
                    break
                time.sleep(0.5)
        finally:
            if qemu.poll() is None:
                qemu.kill()
            qemu.wait()
            os.unlink(probe_disk)
        return why

    # Reporting -----------------------------------------------------------------------
    def log(self, message):
        print("[%6.0f s] %s" % (time.monotonic() - self.start, message), flush=True)

    def timing(self, message):
        """A measured duration: logged now and listed again at the end."""
        self.times.append(message)
        self.log("TIME " + message)

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok)))
        self.log("%s: %s%s" % ("PASS" if ok else "FAIL", name, " (%s)" % detail if detail else ""))
        return ok

    def secrets_in(self, text):
        """Which of the run's secrets a text holds (by name, never by value)."""
        return [name for name, value in self.secret_values.items() if value in text]

    def summary(self):
        failed = sum(1 for result in self.results if not result[1])
        print("appliance %s: %.0f s" % (self.name, time.monotonic() - self.start))
        print("%d passed, %d failed" % (len(self.results) - failed, failed))
        return 1 if failed or not self.results else 0

    # Stand-in ------------------------------------------------------------------------
    def start_standin(self):
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        os.makedirs(self.work, mode=0o700)
        token_file = private_file(os.path.join(self.work, "token"), self.token)
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "start", str(self.standin_port),
                        os.path.join(self.work, "standin"), token_file], check=True)

    def stop_standin(self):
        subprocess.run([os.path.join(REPO, "scripts", "standin.sh"), "stop", str(self.standin_port),
                        os.path.join(self.work, "standin")], check=False)

    def standin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request("http://127.0.0.1:%d/_standin/%s" % (self.standin_port, path), method=method,
                                         data=data, headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def version_calls(self):
        return [r for r in self.standin("GET", "requests") if r["method"] == "GET" and r["path"].lower() == "/api/app/version"]

    def uploads_of(self, report_id):
        return [r for r in self.standin("GET", "reports") if r.get("reportId") == report_id]

    # Seed and disk -------------------------------------------------------------------
    def make_seed(self, values, output):
        seed_vars = private_file(os.path.join(self.work, "seed-vars-%s.json" % os.path.basename(output)),
                                 json.dumps(dict(values, pywats_appliance_seed_output=output)))
        started = time.monotonic()
        subprocess.run(["ansible-playbook", "virinco.pywats.appliance_seed", "-e", "@" + seed_vars],
                       check=True, stdout=subprocess.DEVNULL)
        os.unlink(seed_vars)
        self.log("seed ISO %s made with the appliance_seed playbook in %.0f s"
                 % (os.path.basename(output), time.monotonic() - started))

    def make_overlay(self):
        self.overlay = os.path.join(self.work, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", os.path.abspath(self.args.image),
                        self.overlay], check=True)

    # qemu ----------------------------------------------------------------------------
    def boot(self, number, cdrom=None, extra_forwards=(), extra_args=()):
        relay = "python3 %s 127.0.0.1 %d" % (os.path.join(HERE, "relay.py"), self.standin_port)
        forwards = ["hostfwd=tcp:127.0.0.1:%d-:%d" % (self.health_port, self.args.guest_health_port),
                    "hostfwd=tcp:127.0.0.1:%d-:445" % self.smb_port] + list(extra_forwards)
        netdev = "user,id=n0,restrict=on,%s,guestfwd=tcp:%s:80-cmd:%s" % (",".join(forwards), GUEST_SERVER, relay)
        console = os.path.join(self.work, "console-%d.log" % number)
        self.consoles.append(console)
        argv = ["qemu-system-x86_64", *self.accel, "-m", "1024", "-smp", str(self.args.cpus), "-nodefaults", "-vga", "std",
                "-name", "pywats-appliance-%s" % self.name, "-display", "none", "-monitor", "none",
                "-rtc", "base=utc,clock=host",
                "-serial", "file:%s" % console, "-serial", "unix:%s,server=on,wait=off" % self.tui_path, *extra_args,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-chardev", "socket,id=qga0,path=%s,server=on,wait=off" % self.qga_path,
                "-device", "virtio-serial", "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                "-drive", "file=%s,if=virtio,format=qcow2" % self.overlay,
                "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]
        if cdrom:
            argv += ["-drive", "file=%s,media=cdrom,if=ide,format=raw,readonly=on" % cdrom]
        self.log("boot %d%s: %s" % (number, " with %s" % os.path.basename(cdrom) if cdrom else " without a seed",
                                    " ".join(argv)))
        self.power_on = time.monotonic()
        self.qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def console(self, number):
        try:
            with open(os.path.join(self.work, "console-%d.log" % number), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        if self.qemu.poll() is not None:
            raise Failed("qemu exited with %s: %s" % (self.qemu.returncode, self.qemu.stdout.read().decode()[-2000:]))

    def health(self, port=None):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % (port or self.health_port), timeout=5) as response:
                return response.status, response.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, OSError):
            return None, ""

    def wait_healthy(self, number, timeout, port=None):
        deadline = time.monotonic() + timeout
        seen = set()
        marks = ("Linux version", "Run /init", "systemd[1]: Detected", "cloud-init", "login:")
        while time.monotonic() < deadline:
            self.alive()
            text = self.console(number)
            for mark in marks:
                if mark not in seen and mark in text:
                    seen.add(mark)
                    self.log("console %d: reached %r" % (number, mark))
            status, body = self.health(port)
            if status == 200:
                return body
            time.sleep(1)
        raise Failed("no 200 from http://127.0.0.1:%d/health within %d s" % (port or self.health_port, timeout))

    def qmp(self, *commands):
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(120)
        sock.connect(self.qmp_path)
        stream = sock.makefile("rw")
        stream.readline()
        replies = []
        for command in ({"execute": "qmp_capabilities"},) + commands:
            stream.write(json.dumps(command) + "\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "return" in reply or "error" in reply:
                    break
            replies.append(reply)
        sock.close()
        for reply in replies:
            if "error" in reply:
                raise Failed("QMP: %s" % reply["error"])
        return replies[1:]

    def hmp(self, line):
        """A monitor command (savevm/loadvm have no QMP command in qemu 7); its text output."""
        reply = self.qmp({"execute": "human-monitor-command", "arguments": {"command-line": line}})[0]
        return reply["return"].strip()

    def qga(self, command, arguments=None, timeout=30):
        """One guest-agent command; the agent is reached through its virtio-serial port."""
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(self.qga_path)
        stream = sock.makefile("rw")
        marker = secrets.randbelow(2 ** 31)
        # guest-sync flushes whatever an earlier, abandoned exchange left in the channel.
        stream.write(json.dumps({"execute": "guest-sync", "arguments": {"id": marker}}) + "\n")
        stream.flush()
        while json.loads(stream.readline()).get("return") != marker:
            pass
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        stream.write(json.dumps(message) + "\n")
        stream.flush()
        reply = json.loads(stream.readline())
        sock.close()
        if "error" in reply:
            raise Failed("guest agent %s: %s" % (command, reply["error"]))
        return reply.get("return")

    def wait_qga(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.qga("guest-ping", timeout=5)
            except (OSError, ValueError, Failed):
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)

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

    def kill(self):
        if self.qemu and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()

    # The report share ----------------------------------------------------------------
    def smb(self, share, command, password=None, user="pywats-share", options=None):
        """smbclient against the forwarded share; the password travels in a 0600 file (-A), never in argv."""
        argv = ["smbclient", "//127.0.0.1/%s" % share, "-p", str(self.smb_port), *(options or SMB3_ENCRYPTED)]
        auth = None
        if password is None:
            argv.append("-N")
        else:
            auth = private_file(os.path.join(self.work, "smb-auth-%s" % uuid.uuid4().hex),
                                "username = %s\npassword = %s\ndomain = WORKGROUP\n" % (user, password))
            argv += ["-A", auth]
        argv += ["-c", command]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                                    env=dict(os.environ, LC_ALL="C"))
        finally:
            if auth:
                os.unlink(auth)
        return result.returncode, (result.stdout + result.stderr).strip()

    def put_report(self, share, name, report_id, serial):
        """Copy a WSJF report (unique id and serial number) into the share as test equipment would."""
        with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as handle:
            report = json.load(handle)
        report.update({"id": report_id, "sn": serial})
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.work, delete=False) as handle:
            json.dump(report, handle)
            local = handle.name
        try:
            return self.smb(share, 'put "%s" "%s"' % (local, name), password=self.share_password)
        finally:
            os.unlink(local)

    def wait_upload(self, report_id, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            uploads = self.uploads_of(report_id)
            if uploads:
                return uploads
            time.sleep(0.5)
        return []

    # The disk, powered off ------------------------------------------------------------
    def scan_disk(self, allowed_token_files):
        """Mount the overlay read-only (through a raw copy) and list the files holding a secret,
        and the journal's lines that do; returns (files by secret, journal hits by secret, root)."""
        raw = os.path.join(self.work, "scan.raw")
        mnt = os.path.join(self.work, "scan")
        os.makedirs(mnt, exist_ok=True)
        subprocess.run(["qemu-img", "convert", "-O", "raw", self.overlay, raw], check=True)
        loop = subprocess.run(["losetup", "--show", "-f", "-r", "-o", "1048576", raw], check=True,
                              capture_output=True, text=True).stdout.strip()
        try:
            subprocess.run(["mount", "-o", "ro,noload", loop, mnt], check=True)
            try:
                files = {}
                for name, value in self.secret_values.items():
                    found = subprocess.run(["grep", "-rlFa", "--", value, mnt], capture_output=True, text=True,
                                           check=False).stdout.split()
                    files[name] = sorted(os.path.relpath(f, mnt) for f in found
                                         if not (name == "token" and "/" + os.path.relpath(f, mnt) in allowed_token_files))
                journal = subprocess.run(["journalctl", "-D", os.path.join(mnt, "var/log/journal"), "-o", "cat",
                                          "--no-pager"], capture_output=True, text=True, check=False).stdout
                journal_hits = self.secrets_in(journal)
                extra = self.inspect_disk(mnt)
                return files, journal_hits, len(journal.splitlines()), extra
            finally:
                subprocess.run(["umount", mnt], check=False)
        finally:
            subprocess.run(["losetup", "-d", loop], check=False)
            os.unlink(raw)

    def inspect_disk(self, mnt):
        """Hook for a test to read more files while the disk is mounted."""
        return None
