"""Boot test of the pyWATS appliance under qemu (KVM when /dev/kvm is usable, else TCG).

    python3 tests/appliance/boot_test.py [--image PATH] [--work-dir DIR] [--port-base 18610] [--tcg]

1. starts the WATS stand-in on 127.0.0.1 with a fresh token, and makes a NoCloud seed
   with the appliance_seed playbook (stand-in at http://10.0.2.100 inside qemu's user
   network, relayed by guestfwd to loopback; a fresh share password);
2. boots a throw-away qcow2 overlay with that seed: qemu user networking with
   restrict=on, hostfwd of the health port and of SMB (445) to 127.0.0.1 only;
3. boot 1: /health 200 from the host; the client calls the stand-in with the token; a
   WSJF report copied into the share with smbclient (SMB3, encrypted) reaches the
   stand-in exactly once and its file ends in Done; Done is read-only to the share user;
   a wrong password, a guest and SMB2 are refused; neither the token nor the share
   password is on the serial console. Prints power-on to /health and to first upload;
4. powers off through ACPI, boots without the seed: the same again; then snapshot and
   restore (savevm/loadvm on the overlay) with a report dropped in between while the
   stand-in refuses uploads, the guest clock's jump measured and set through the guest
   agent, the client healthy and the report dropped again uploaded once;
5. powers off and reads the disk: neither secret in any file (the token only in the
   client's config) nor in the journal.

Prints a transcript and ends with "N passed, N failed".
"""

import argparse
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tui_test import ConsoleUI, check_console_ui_files, console_ui_files, static_forward  # noqa: E402  pylint: disable=wrong-import-position
from vm import Harness, vm_arguments  # noqa: E402  pylint: disable=wrong-import-position

SHARE = "inbox"
TOKEN_FILES = ("/var/lib/pywats/config_default.json", "/var/lib/pywats/config_default.json.bak")


class BootTest(Harness):

    def __init__(self, args):
        super().__init__(args, "boot-test")
        self.seed = os.path.join(self.work, "seed.iso")
        self.first_upload = None

    def prepare(self):
        self.start_standin()
        self.choose_accel()
        self.make_seed({"pywats_appliance_seed_server_url": "http://10.0.2.100",
                        "pywats_appliance_seed_api_token": self.token,
                        "pywats_appliance_seed_share_password": self.share_password,
                        "pywats_appliance_seed_station_name": "Appliance boot test"}, self.seed)
        self.make_overlay()

    def assert_client(self, number, timeout):
        body = self.wait_healthy(number, timeout)
        to_health = time.monotonic() - self.power_on
        self.check("boot %s: GET /health answers 200 through 127.0.0.1:%d" % (number, self.health_port), True,
                   "%s: %s" % ("TCG" if not self.kvm else "KVM", body.strip()[:100]))
        self.timing("boot %d: power-on to /health 200: %.1f s (%s)" % (number, to_health, "KVM" if self.kvm else "TCG"))
        deadline = time.monotonic() + 120
        calls = []
        while time.monotonic() < deadline:
            calls = self.version_calls()
            if any(c["authSeen"] == "token" and "pywats-appliance-config" not in c["userAgent"] for c in calls):
                break
            time.sleep(2)
        by_token = [c for c in calls if c["authSeen"] == "token"]
        self.check("boot %s: the client itself called GET /api/App/Version with the station's token" % number,
                   any("pywats-appliance-config" not in c["userAgent"] for c in by_token),
                   "%d of %d calls; user agents %s" % (len(by_token), len(calls), sorted({c["userAgent"] for c in calls})))
        self.check("boot %s: no call with a wrong or missing token" % number,
                   all(c["authSeen"] == "token" for c in calls), str(sorted({c["authSeen"] for c in calls})))
        return to_health

    def assert_share(self, number, suffix=""):
        """A report in through the share, once, into Done; what the share refuses."""
        report_id, serial = str(uuid.uuid4()), "SN-BOOT-%d" % number
        name = "report-boot%d%s.json" % (number, "-again" if suffix else "")
        boot = number
        if suffix:
            number = "%d, %s" % (number, suffix)
        dropped = time.monotonic()
        deadline = dropped + 90
        while True:  # smbd starts beside the client; give it a bounded while on the first try
            rc, out = self.put_report(SHARE, name, report_id, serial)
            if rc == 0 or time.monotonic() > deadline:
                break
            time.sleep(2)
        self.check("boot %s: smbclient put %s into \\\\appliance\\%s (SMB3, encrypted, share user)" % (number, name, SHARE),
                   rc == 0, out[-300:] if rc else "")
        uploads = self.wait_upload(report_id, 180)
        if uploads and self.first_upload is None:
            self.first_upload = time.monotonic() - self.power_on
            self.timing("boot %s: power-on to first upload: %.1f s (%s); drop to upload %.1f s"
                        % (number, self.first_upload, "KVM" if self.kvm else "TCG", time.monotonic() - dropped))
        self.check("boot %s: the report reached the stand-in" % number, uploads,
                   "after %.1f s" % (time.monotonic() - dropped))
        time.sleep(15)  # a second upload would come within seconds (a re-read or a re-queue)
        uploads = self.uploads_of(report_id)
        self.check("boot %s: uploaded exactly once, with the station's token" % number,
                   len(uploads) == 1 and uploads[0]["auth"] == "token",
                   "%d uploads, auth %s" % (len(uploads), [u["auth"] for u in uploads]))
        rc, out = self.smb(SHARE, 'ls "Done\\%s"' % name, password=self.share_password)
        rc_inbox, out_inbox = self.smb(SHARE, 'ls "%s"' % name, password=self.share_password)
        self.check("boot %s: the file ends in Done (seen through the share), not in the watch folder" % number,
                   rc == 0 and name in out and rc_inbox != 0 and "NT_STATUS_NO_SUCH_FILE" in out_inbox,
                   "Done: %s | inbox: %s" % (out[-160:], out_inbox[-120:]))
        rc, out = self.put_report(SHARE, "Done\\planted-%d%s.json" % (boot, "-again" if suffix else ""), str(uuid.uuid4()), "SN-PLANT")
        self.check("boot %s: the share user cannot write into Done" % number,
                   rc != 0 and "NT_STATUS_ACCESS_DENIED" in out, out[-200:])
        rc, out = self.smb(SHARE, "ls", password="wrong-" + self.share_password)
        self.check("boot %s: a wrong share password is refused" % number,
                   rc != 0 and "NT_STATUS_LOGON_FAILURE" in out, out[-200:])
        rc, out = self.smb(SHARE, "ls")
        self.check("boot %s: a guest (no password) is refused" % number, rc != 0, out[-200:])
        rc, out = self.smb(SHARE, "ls", password=self.share_password,
                           options=["-m", "SMB2_10", "--option=client min protocol=SMB2_02", "--client-protection=sign"])
        self.check("boot %s: SMB2 (below SMB3) is refused before log-in" % number,
                   rc != 0 and "NT_STATUS_LOGON_FAILURE" not in out, out[-200:])
        self.check("boot %s: neither the token nor the share password is on the serial console" % number,
                   not self.secrets_in(self.console(boot)), str(self.secrets_in(self.console(boot))))

    def snapshot_restore(self, number):
        """savevm, a report dropped while uploads fail, loadvm, the clock, the report again: once."""
        started = time.monotonic()
        self.wait_qga()
        out = self.hmp("savevm pywats-test")
        self.check("snapshot: savevm on the qcow2 overlay", "Error" not in out and "error" not in out,
                   "%s (%.1f s)" % (out[:200] or "ok", time.monotonic() - started))
        saved = time.time()
        self.standin("POST", "fail", {"status": 503})
        report_id, name = str(uuid.uuid4()), "report-restore.json"
        rc, out = self.put_report(SHARE, name, report_id, "SN-RESTORE")
        tried = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not tried:
            tried = [r for r in self.standin("GET", "requests") if r["method"] == "POST" and r.get("injected")]
            time.sleep(1)
        self.check("snapshot: a report dropped after savevm was picked up (its upload refused with 503)",
                   rc == 0 and tried, "put rc %d; %d refused uploads" % (rc, len(tried)))
        time.sleep(max(0.0, 20 - (time.time() - saved)))  # let the clocks drift apart measurably
        restored_at = time.time()
        out = self.hmp("loadvm pywats-test")
        self.check("snapshot: loadvm restores the running VM", "Error" not in out and "error" not in out, out[:200] or "ok")
        self.standin("POST", "reset-fail")
        guest = self.qga("guest-get-time") / 1e9
        jump = time.time() - guest
        self.log("CLOCK after loadvm: the guest's clock is %.1f s behind the host (snapshot taken %.1f s before the restore)"
                 % (jump, restored_at - saved))
        self.check("snapshot: the guest's clock jumped back with the restore (it resumes at the snapshot's time)",
                   jump > 10, "%.1f s behind" % jump)
        self.qga("guest-set-time", {"time": time.time_ns()})
        after = time.time() - self.qga("guest-get-time") / 1e9
        self.check("snapshot: the guest agent sets the clock to the host's (as libvirt/Proxmox do after a restore)",
                   abs(after) < 2, "%.2f s off afterwards" % after)
        status, _body = self.health()
        deadline = time.monotonic() + 60
        while status != 200 and time.monotonic() < deadline:
            time.sleep(1)
            status, _body = self.health()
        self.check("snapshot: the client answers /health 200 after the restore", status == 200, str(status))
        rc, out = self.smb(SHARE, 'ls "%s"' % name, password=self.share_password)
        self.check("snapshot: the restored disk does not hold the report dropped after savevm",
                   rc != 0 and "NT_STATUS_NO_SUCH_FILE" in out, out[-160:])
        rc, out = self.put_report(SHARE, name, report_id, "SN-RESTORE")
        uploads = self.wait_upload(report_id, 180)
        time.sleep(15)
        uploads = self.uploads_of(report_id)
        self.check("snapshot: the report dropped again after the restore is uploaded exactly once",
                   rc == 0 and len(uploads) == 1, "put rc %d; %d uploads" % (rc, len(uploads)))
        rc, out = self.smb(SHARE, 'ls "Done\\%s"' % name, password=self.share_password)
        self.check("snapshot: and its file ends in Done", rc == 0 and name in out, out[-160:])
        self.timing("snapshot and restore checks: %.0f s" % (time.monotonic() - started))

    def run(self):
        self.prepare()
        last = self.args.boots
        forwards = [static_forward(self)]
        self.boot(1, cdrom=self.seed, extra_forwards=forwards if last == 1 else [])
        self.assert_client(1, self.args.boot_timeout)
        self.check("boot 1: the configurator's own check called with the token",
                   any("pywats-appliance-config" in c["userAgent"] and c["authSeen"] == "token" for c in self.version_calls()))
        self.assert_share(1)
        if last == 2:
            self.check("shutdown 1: the VM powered off through ACPI", self.power_off(self.args.shutdown_timeout))
            self.standin("DELETE", "requests")
            self.boot(2, extra_forwards=forwards)
            self.assert_client(2, self.args.boot_timeout)
            self.assert_share(2)
        self.snapshot_restore(last)
        ConsoleUI(self).run(configured=True, timeout=300)
        self.assert_share(last, suffix="after the console UI")
        self.check("shutdown %d: the VM powered off through ACPI" % last, self.power_off(self.args.shutdown_timeout))
        # The snapshot lives inside the overlay; the scan reads the current state.
        started = time.monotonic()
        files, journal_hits, journal_lines, found = self.scan_disk(TOKEN_FILES)
        self.check("disk: no share password (seeded or typed) is in any file (Samba keeps only its hash)",
                   not files["share password"] and not files["share password typed"],
                   str([files["share password"], files["share password typed"]]))
        self.check("disk: the token is in no file but the client's config", not files["token"], str(files["token"]))
        self.check("disk: the rejected token is in no file", not files["rejected token"], str(files["rejected token"]))
        check_console_ui_files(self, found)
        self.check("disk: neither secret is in the journal", journal_lines > 0 and not journal_hits,
                   "%d journal lines; found %s" % (journal_lines, journal_hits))
        self.log("disk scan: %.0f s" % (time.monotonic() - started))

    def inspect_disk(self, mnt):
        return console_ui_files(mnt)

    def transcript(self):
        for number, path in enumerate(self.consoles, 1):
            lines = [line for line in self.console(number).splitlines() if line.strip()]
            if not lines:
                continue
            print("---- serial console of boot %d: %d lines; first and last 15 ----" % (number, len(lines)))
            shown = lines if len(lines) <= 30 else lines[:15] + ["[...]"] + lines[-15:]
            print("\n".join(line[:160] for line in shown))
        print("---- times ----")
        for line in self.times:
            print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, choices=(1, 2), default=2,
                        help="2: boot again without the seed and repeat the checks before snapshot and console UI")
    args = vm_arguments(parser, "/var/tmp/pywats-appliance/boot-test", 18610,
                        "stand-in on this port, the health forward on the next, SMB on the one after")
    if args is None:
        return 2
    run = BootTest(args)
    try:
        run.run()
    except Exception as exc:  # pylint: disable=broad-except
        run.check("boot test completed", False, "%s: %s" % (type(exc).__name__, exc))
    finally:
        run.kill()
        run.stop_standin()
        run.transcript()
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
