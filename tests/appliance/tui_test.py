"""Console UI test of the pyWATS appliance: `pywats-appliance-config tui` driven in tmux.

    python3 tests/appliance/tui_test.py [--image PATH] [--work-dir DIR] [--port-base 18620] [--tcg]

The appliance's own text UI (the one on tty1) is started by the test, through the guest
agent, on the VM's second serial port (ttyS1, 100x30); that port is a unix socket on the
host, joined to a tmux pane (serial_term.py). The test types with `tmux send-keys` and
reads the screen with `tmux capture-pane`, as a person at the console would:

1. a token the stand-in rejects: refused on screen, nothing changed (unconfigured and
   the client not running, or, on a configured appliance, the old settings kept and the
   client still healthy);
2. a good URL, token and station: configured, the client (re)started and healthy,
   calling the stand-in with the token;
3. the share password twice, first two different entries (refused, nothing changed),
   then the same: smbclient logs in with it (and no longer with an earlier one);
4. network: a static address (10.0.2.20/24), then DHCP again; each time the address is
   live (the client's /health answers through a forward to that very address) and shown;
5. no screen ever shows the token, the rejected token or a share password.

Run alone, on a fresh unconfigured VM, it then powers off and reads the disk: the network
file as ifupdown reads it, cloud-init's network config off, the client's config with the
URL and station typed, no secret in any other file or in the journal. The boot test runs
steps 1-5 on its configured VM (ConsoleUI below).
"""

import argparse
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vm import GUEST_DHCP_ADDRESS, GUEST_SERVER, HERE, Failed, Harness, vm_arguments  # noqa: E402  pylint: disable=wrong-import-position

STATIC_ADDRESS = "10.0.2.20"
STATION = "TUI station 7"
BOX = re.compile("[\u2500-\u257f]")
TOKEN_FILES = ("/var/lib/pywats/config_default.json", "/var/lib/pywats/config_default.json.bak")


def static_forward(harness):
    """The host port that reaches the client's health port at the static address."""
    return "hostfwd=tcp:127.0.0.1:%d-%s:%d" % (harness.args.port_base + 3, STATIC_ADDRESS, harness.args.guest_health_port)


def console_ui_files(mnt):
    """What the console UI wrote, read from the powered-off disk mounted at mnt."""
    def read(path):
        try:
            with open(os.path.join(mnt, path.lstrip("/")), encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
    return {"network": read("/etc/network/interfaces.d/60-pywats-appliance"),
            "cloud_off": read("/etc/cloud/cloud.cfg.d/99-pywats-appliance-network.cfg"),
            "cloud_eth0": read("/etc/network/interfaces.d/50-cloud-init"),
            "config": json.loads(read("/var/lib/pywats/config_default.json") or "{}")}


def check_console_ui_files(harness, found):
    harness.check("disk: the network file is ifupdown's DHCP stanza for eth0 (the console UI's last choice)",
                  found["network"] == "# Written by pywats-appliance-config\nauto eth0\nallow-hotplug eth0\n"
                  "iface eth0 inet dhcp\n", repr(found["network"]))
    harness.check("disk: cloud-init's network config is off and its eth0 file gone",
                  found["cloud_off"] and "config: disabled" in found["cloud_off"] and not found["cloud_eth0"])
    harness.check("disk: the client's config holds the URL and station typed",
                  found["config"].get("service_address") == "http://%s" % GUEST_SERVER
                  and found["config"].get("station_name") == STATION,
                  str({k: found["config"].get(k) for k in ("service_address", "station_name")}))


class ConsoleUI:
    """The text UI on ttyS1 of a running appliance VM, in a tmux pane."""

    def __init__(self, harness):
        self.h = harness
        self.tmux_socket = "pywats-tui-%d" % os.getpid()
        self.static_port = harness.args.port_base + 3
        self.screens = []
        self.wrong_token = "rejected-" + secrets.token_urlsafe(12)
        harness.secret_values["rejected token"] = self.wrong_token

    # tmux ----------------------------------------------------------------------------
    def tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.tmux_socket, *args], capture_output=True, text=True, check=check).stdout

    def screen(self):
        text = self.tmux("capture-pane", "-p", "-t", "tui")
        self.screens.append(text)
        return text

    @staticmethod
    def flat(text):
        """The screen's words in order, without box drawing and line breaks."""
        return " ".join(BOX.sub(" ", text).split())

    def wait_screen(self, *phrases, timeout=60):
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            self.h.alive()
            text = self.screen()
            if all(p in self.flat(text) for p in phrases):
                return self.flat(text)
            time.sleep(0.5)
        raise Failed("the screen did not show %s within %d s; it shows:\n%s" % (phrases, timeout, text))

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "tui", *keys)
        time.sleep(0.3)

    def type(self, text):
        self.tmux("send-keys", "-t", "tui", "-l", text)
        time.sleep(0.3)

    def fill(self, text, clear=0):
        """An input box: clear what it shows, type, Enter."""
        if clear:
            self.keys(*(["BSpace"] * clear))
        self.type(text)
        self.keys("Enter")

    def menu(self, item):
        """Item 1, 2, ... of the main menu: whiptail starts on the first, Down moves."""
        self.wait_screen("Configure the WATS server", "Refresh")
        self.keys(*(["Down"] * (item - 1) + ["Enter"]))

    # Start and stop ------------------------------------------------------------------
    def open(self, timeout):
        """The tmux pane on ttyS1, and the appliance's UI started there (by the guest agent)."""
        self.tmux("new-session", "-d", "-s", "tui", "-x", "100", "-y", "30",
                  "python3 %s %s" % (shlex.quote(os.path.join(HERE, "serial_term.py")), shlex.quote(self.h.tui_path)))
        self.h.wait_qga(timeout)
        self.h.qga("guest-exec", {"path": "/usr/bin/systemd-run", "arg": [
            "--unit=pywats-tui-test", "--property=StandardInput=tty", "--property=StandardOutput=tty",
            "--property=StandardError=journal", "--property=TTYPath=/dev/ttyS1", "--property=TTYReset=yes",
            "--property=TTYRows=30", "--property=TTYColumns=100", "--setenv=TERM=screen",
            "/usr/local/sbin/pywats-appliance-config", "tui"]})
        return self.wait_screen("Configure the WATS server", timeout=timeout)

    def close(self):
        self.tmux("kill-server", check=False)

    # Dialogues -----------------------------------------------------------------------
    def server(self, token):
        self.menu(1)
        self.wait_screen("WATS server URL")
        self.fill("http://%s" % GUEST_SERVER, clear=len("https://"))
        self.wait_screen("API token")
        self.fill(token)
        self.wait_screen("Station name")
        self.fill(STATION, clear=64)

    def share(self, first, again):
        self.menu(3)
        self.wait_screen("New password of share user")
        self.fill(first)
        self.wait_screen("The same password again")
        self.fill(again)

    def network(self, mode, address=None):
        self.menu(2)
        self.wait_screen("Network of the first network card")
        self.keys(*(["Down"] if mode == "static" else []) + ["Enter"])
        if mode == "static":
            self.wait_screen("Address with prefix")
            self.fill("%s/24" % address)
            self.wait_screen("Gateway")
            self.fill("10.0.2.2")
            self.wait_screen("DNS servers")
            self.fill("10.0.2.3")

    # The steps -----------------------------------------------------------------------
    def run(self, configured, timeout):
        h, check = self.h, self.h.check
        started = time.monotonic()
        text = self.open(timeout)
        h.timing("console UI: up on ttyS1, %.1f s after power-on" % (time.monotonic() - h.power_on))
        before = text
        if configured:
            check("console UI: shows the configured appliance", "Server: http://%s" % GUEST_SERVER in text
                  and "Client: healthy" in text and "(password not set)" not in text, text[:300])
        else:
            check("console UI: shows an unconfigured appliance", "Server: (not configured)" in text
                  and "(password not set)" in text, text[:300])
        h.standin("DELETE", "requests")

        # 1. A token the server rejects.
        self.server(self.wrong_token)
        text = self.wait_screen("Nothing changed", timeout=120)
        check("console UI: a rejected token is refused on screen", "rejected the token" in text and "HTTP 401" in text,
              text[:300])
        self.keys("Enter")
        text = self.wait_screen("Configure the WATS server")
        same = text.split("Share:", maxsplit=1)[0] == before.split("Share:", maxsplit=1)[0]
        if configured:
            check("console UI: after the refusal nothing changed (server, station, the client healthy)",
                  same and h.health()[0] == 200, text[:200])
        else:
            check("console UI: after the refusal nothing changed (unconfigured, the client not running)",
                  same and "Client: not running" in text and h.health()[0] is None, text[:200])
        calls = h.version_calls()
        check("console UI: the stand-in saw the rejected token only from the configurator's check",
              any(c["authSeen"] == "bad" and "pywats-appliance-config" in c["userAgent"] for c in calls)
              and all(c["authSeen"] == "token" or "pywats-appliance-config" in c["userAgent"] for c in calls),
              str([(c["authSeen"], c["userAgent"][:24]) for c in calls]))

        # 2. Good values.
        h.standin("DELETE", "requests")
        self.server(h.token)
        text = self.wait_screen("Configured. Server version", timeout=300)
        check("console UI: a good URL, token and station configure and %sstart the client" % ("re" if configured else ""),
              "Client: healthy" in text and STATION in text and "http://%s" % GUEST_SERVER in text, text[:300])
        status, _body = h.health()
        check("console UI: the client answers /health 200 through 127.0.0.1:%d" % h.health_port, status == 200, str(status))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any(
                c["authSeen"] == "token" and "pywats-appliance-config" not in c["userAgent"] for c in h.version_calls()):
            time.sleep(2)
        check("console UI: the client calls the stand-in with the token typed",
              any(c["authSeen"] == "token" and "pywats-appliance-config" not in c["userAgent"] for c in h.version_calls()))
        self.keys("Enter")

        # 3. The share password: two different entries, then a new one.
        old = h.share_password if configured else None
        new = "Tui-" + secrets.token_urlsafe(15)
        h.secret_values["share password typed"] = new
        self.share(new, new + "x")
        text = self.wait_screen("Not changed")
        check("console UI: two different share passwords are refused", "the two entries differ" in text, text[:200])
        self.keys("Enter")
        rc_new, out_new = h.smb("inbox", "ls", password=new)
        rc_old = h.smb("inbox", "ls", password=old)[0] if old else 0
        check("console UI: after the refusal the share password is unchanged", rc_new != 0 and rc_old == 0, out_new[-120:])
        self.share(new, new)
        text = self.wait_screen("Share password set", timeout=120)
        check("console UI: the share password is set", "(password not set)" not in text, text[:300])
        self.keys("Enter")
        rc, out = h.smb("inbox", "ls", password=new)
        check("console UI: smbclient logs in to \\\\appliance\\inbox with the password typed", rc == 0, out[-200:])
        if old:
            rc, out = h.smb("inbox", "ls", password=old)
            check("console UI: the earlier share password no longer logs in", rc != 0 and "NT_STATUS_LOGON_FAILURE" in out,
                  out[-120:])
        h.share_password = new

        # 4. Network: static, then DHCP again.
        self.network("static", STATIC_ADDRESS)
        text = self.wait_screen("Network set", timeout=120)
        check("console UI: a static address is applied and shown", "%s/24" % STATIC_ADDRESS in text, text[-300:])
        self.keys("Enter")
        status, _body = h.health(self.static_port)
        check("console UI: the client answers at the static address %s" % STATIC_ADDRESS, status == 200, str(status))
        self.network("dhcp")
        text = self.wait_screen("Network set", timeout=180)
        check("console UI: DHCP is applied again and its address shown",
              "%s/24" % GUEST_DHCP_ADDRESS in text and "%s/24" % STATIC_ADDRESS not in text, text[-300:])
        self.keys("Enter")
        status, _body = h.health()
        check("console UI: the client answers at the DHCP address again", status == 200, str(status))

        leaked = sorted({name for screen in self.screens for name in h.secrets_in(screen)})
        check("console UI: no screen showed the token, the rejected token or a share password (%d screens read)"
              % len(self.screens), not leaked, str(leaked))
        h.timing("console UI steps: %.0f s" % (time.monotonic() - started))


class TuiTest(Harness):

    def __init__(self, args):
        super().__init__(args, "tui-test")
        self.ui = ConsoleUI(self)

    def run(self):
        self.start_standin()
        self.choose_accel()
        self.make_overlay()
        self.boot(1, extra_forwards=[static_forward(self)])
        self.ui.run(configured=False, timeout=self.args.boot_timeout)
        self.check("the VM powered off through ACPI", self.power_off(self.args.shutdown_timeout))
        files, journal_hits, journal_lines, found = self.scan_disk(TOKEN_FILES)
        self.check("disk: no secret in a file (the token only in the client's config) nor in the journal",
                   not any(files.values()) and journal_lines > 0 and not journal_hits,
                   "%s; journal %s" % (files, journal_hits))
        check_console_ui_files(self, found)

    def inspect_disk(self, mnt):
        return console_ui_files(mnt)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args = vm_arguments(parser, "/var/tmp/pywats-appliance/tui-test", 18620,
                        "stand-in on this port; health, SMB and the static address's health forward on the next three")
    if args is None:
        return 2
    run = TuiTest(args)
    try:
        run.run()
    except Exception as exc:  # pylint: disable=broad-except
        run.check("console UI test completed", False, "%s: %s" % (type(exc).__name__, exc))
        if run.ui.screens:
            print("---- last screen ----\n%s" % run.ui.screens[-1])
    finally:
        run.kill()
        run.ui.close()
        run.stop_standin()
    for line in run.times:
        print("TIME " + line)
    return run.summary()


if __name__ == "__main__":
    sys.exit(main())
