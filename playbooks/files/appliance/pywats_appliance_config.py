# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""First-boot configurator of the pyWATS appliance (no SSH needed).

    pywats-appliance-config seed FILE     apply a NoCloud seed's settings (cloud-init runcmd)
    pywats-appliance-config configure --url URL --station NAME [--token-file F | token on stdin]
                                          [--network dhcp|static --address A/P --gateway G --dns D,..]
    pywats-appliance-config share-password   set the report share's password (stdin, or asked twice on a terminal)
    pywats-appliance-config tui           the text UI on tty1 (whiptail)
    pywats-appliance-config status        one line per fact

The server URL is checked (reachable, GET /api/App/Version answers 2xx with the token as
"Authorization: Basic <token>", as the client sends it) before anything changes; a token
the server rejects (401/403) is refused. The token is written only into the client's
config file (mode 0600, owner of the service); never into a command line, the journal or
the console. Settings of the image build are read from /etc/pywats/appliance.json.

The report share (SMB3, Samba) serves the watch folders to test equipment as one user;
its password goes to `smbpasswd -s` on stdin (Samba keeps only its NT hash, in a root-only
database) and smbd starts once a password is set.
"""

import argparse
import getpass
import ipaddress
import json
import os
import pwd
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SETTINGS_FILE = "/etc/pywats/appliance.json"
DEFAULTS = {
    "config_file": "/var/lib/pywats/config_default.json",
    "service_name": "pywats-client",
    "user": "pywats",
    "health_port": 8080,
    "marker": "/etc/pywats/appliance-configured",
    "network_file": "/etc/network/interfaces.d/60-pywats-appliance",
    "cloud_network_off": "/etc/cloud/cloud.cfg.d/99-pywats-appliance-network.cfg",
    "cloud_instance_dir": "/var/lib/cloud/instances",
    "cloud_run_sensitive": "/run/cloud-init/instance-data-sensitive.json",
    "share_user": "pywats-share",
    "share_marker": "/etc/pywats/share-configured",
    "share_service": "smbd",
    "shares": [],
}
TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")
STATION_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")
# Printable characters (any script), no control characters: a password travels on one line.
SHARE_PASSWORD_MIN, SHARE_PASSWORD_MAX = 8, 127
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# A URL's user information: all up to its last @, so that a password holding '@' or '/' stays hidden.
USERINFO_RE = re.compile(r"(?s)^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?.*@")


class ConfigError(Exception):
    """A refused input or a failed step; the message never holds the token."""


def settings(path=SETTINGS_FILE):
    values = dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8") as handle:
            values.update(json.load(handle))
    except FileNotFoundError:
        pass
    return values


def log(message):
    print("pywats-appliance-config: %s" % message, file=sys.stderr, flush=True)


# Checks -----------------------------------------------------------------------------
def redact_url(url):
    """The URL as messages may show it: its user information (user:password@) masked."""
    return USERINFO_RE.sub(r"\1***@", url, count=1) if "@" in (url or "") else url


def check_url(url):
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname or any(c.isspace() for c in url):
        raise ConfigError("server URL must be an http:// or https:// URL such as https://wats.example.com; got %r"
                          % redact_url(url))
    if "@" in url:
        raise ConfigError("server URL must not carry credentials (user:password@host): the station authenticates"
                          " with its token only; got %r" % redact_url(url))
    return url.rstrip("/")


def check_token(token):
    if not token or not TOKEN_RE.match(token):
        raise ConfigError("token must be non-empty printable ASCII without spaces (as WATS issues it)")
    return token


def check_station(name):
    if not name or not STATION_RE.match(name):
        raise ConfigError("station name must be 1-100 characters without control characters; got %r" % name)
    return name


def check_share_password(password):
    """The share password as Samba takes it; the message never holds the value."""
    if not isinstance(password, str) or not SHARE_PASSWORD_MIN <= len(password) <= SHARE_PASSWORD_MAX \
            or CONTROL_RE.search(password):
        raise ConfigError("share password must be %d-%d printable characters, without control characters or line breaks"
                          " (the value is not shown)" % (SHARE_PASSWORD_MIN, SHARE_PASSWORD_MAX))
    return password


def check_network(net):
    mode = net.get("mode", "dhcp")
    if mode == "dhcp":
        return {"mode": "dhcp"}
    if mode != "static":
        raise ConfigError("network mode must be dhcp or static; got %r" % mode)
    try:
        iface = ipaddress.ip_interface(net.get("address", ""))
    except ValueError:
        raise ConfigError("network address must be ADDRESS/PREFIX such as 192.0.2.10/24; got %r" % net.get("address")) from None
    if iface.network.prefixlen == iface.max_prefixlen:
        raise ConfigError("network address needs a prefix length (ADDRESS/PREFIX); got %r" % net.get("address"))
    gateway = net.get("gateway") or ""
    dns = net.get("dns") or []
    if isinstance(dns, str):
        dns = [d for d in re.split(r"[\s,]+", dns) if d]
    try:
        if gateway:
            ipaddress.ip_address(gateway)
        for server in dns:
            ipaddress.ip_address(server)
    except ValueError as exc:
        raise ConfigError("network gateway and DNS servers must be IP addresses: %s" % exc) from None
    return {"mode": "static", "address": str(iface), "gateway": gateway, "dns": dns}


def probe_server(url, token, timeout=10):
    """GET /api/App/Version with the token; return the version text or raise ConfigError."""
    request = urllib.request.Request(url + "/api/App/Version", headers={
        "Authorization": "Basic " + token, "Accept": "application/json", "User-Agent": "pywats-appliance-config"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL checked above
            body = response.read(4096).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise ConfigError("the server at %s rejected the token (HTTP %d)" % (url, exc.code)) from None
        raise ConfigError("the server at %s answered GET /api/App/Version with HTTP %d" % (url, exc.code)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError("the server at %s is not reachable: %s" % (url, reason)) from None
    try:
        return str(json.loads(body))
    except ValueError:
        return body[:80]


# Changes ----------------------------------------------------------------------------
def write_client_config(conf, url, token, station):
    path = conf["config_file"]
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        data = {}
    data.update({"service_address": url, "api_token": token, "station_name": station})
    account = pwd.getpwnam(conf["user"])
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.chown(tmp, account.pw_uid, account.pw_gid)
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def set_share_password(conf, password):
    """Set the share user's Samba password (stdin of smbpasswd, never its arguments) and start smbd."""
    password = check_share_password(password)
    user = conf["share_user"]
    env = dict(os.environ, LC_ALL="C")
    result = subprocess.run(["smbpasswd", "-s", "-a", user], input="%s\n%s\n" % (password, password),
                            capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).replace(password, "***").strip()[-300:]
        raise ConfigError("smbpasswd could not set the password of share user %s: %s" % (user, detail))
    subprocess.run(["smbpasswd", "-e", user], capture_output=True, check=False, env=env)
    with open(conf["share_marker"], "w", encoding="utf-8") as handle:
        handle.write("share password set %s\n" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    service = conf["share_service"]
    for argv in (["systemctl", "enable", service], ["systemctl", "restart", service]):
        result = subprocess.run(argv, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConfigError("share password set, but %s failed: %s" % (" ".join(argv), result.stderr.strip()[-300:]))
    log("share password of %s set; %s serves %s" % (user, service, ", ".join(s["name"] for s in conf["shares"]) or "no share"))


def share_text(conf, address="<address>"):
    """One line per share: where test equipment maps it, and whether it can log in yet."""
    ready = os.path.exists(conf["share_marker"])
    lines = []
    for share in conf["shares"]:
        lines.append("Share:   \\\\%s\\%s  user %s%s"
                     % (address, share["name"], conf["share_user"], "" if ready else "  (password not set)"))
    return "\n".join(lines)


def ipv4_addresses(brief):
    """(interface, ADDRESS/PREFIX) pairs from `ip -brief -4 address`, without loopback."""
    pairs = []
    for line in brief.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] != "lo":
            pairs.extend((fields[0], field) for field in fields[2:] if "/" in field)
    return pairs


def first_ethernet():
    names = sorted(n for n in os.listdir("/sys/class/net") if os.path.exists("/sys/class/net/%s/device" % n))
    if not names:
        raise ConfigError("no network interface found")
    return names[0]


def interfaces_stanza(iface, net):
    """The lines of /etc/network/interfaces.d/ for the first NIC (ifupdown's syntax)."""
    lines = ["# Written by pywats-appliance-config", "auto %s" % iface, "allow-hotplug %s" % iface]
    if net["mode"] == "dhcp":
        lines.append("iface %s inet dhcp" % iface)
    else:
        lines.append("iface %s inet static" % iface)
        lines.append("    address %s" % net["address"])
        if net["gateway"]:
            lines.append("    gateway %s" % net["gateway"])
    return lines


def apply_network(conf, net):
    """Write ifupdown settings for the first NIC and take networking away from cloud-init."""
    iface = first_ethernet()
    lines = interfaces_stanza(iface, net)
    if net["mode"] == "static":
        if net["dns"]:
            with open("/etc/resolv.conf.pywats-tmp", "w", encoding="utf-8") as handle:
                handle.write("".join("nameserver %s\n" % d for d in net["dns"]))
            os.replace("/etc/resolv.conf.pywats-tmp", "/etc/resolv.conf")
    subprocess.run(["ifdown", "--force", iface], check=False, capture_output=True)
    for stale in ("/etc/network/interfaces.d/50-cloud-init",):
        if os.path.exists(stale):
            os.unlink(stale)
    with open(conf["network_file"], "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    with open(conf["cloud_network_off"], "w", encoding="utf-8") as handle:
        handle.write("# The console or seed configuration owns the network now.\nnetwork: {config: disabled}\n")
    result = subprocess.run(["ifup", iface], check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigError("ifup %s failed: %s" % (iface, (result.stderr or result.stdout).strip()[-300:]))
    log("network: %s on %s" % (net["mode"], iface))


def start_client(conf, wait=120):
    service = conf["service_name"]
    with open(conf["marker"], "w", encoding="utf-8") as handle:
        handle.write("configured %s\n" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    for argv in (["systemctl", "enable", service], ["systemctl", "restart", service]):
        result = subprocess.run(argv, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConfigError("settings saved, but %s failed: %s" % (" ".join(argv), result.stderr.strip()[-300:]))
    return wait_health(conf, wait)


def health(conf, timeout=3):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % int(conf["health_port"]), timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_health(conf, wait):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if health(conf):
            return True
        time.sleep(2)
    return False


def scrub_cloud_init(conf):
    """Remove cloud-init's copies of the user-data, which held the token and the share password
    (the raw user-data, its processed parts, the merged cloud-config and the pickled datasource)."""
    removed = 0
    base = conf["cloud_instance_dir"]
    if os.path.isdir(base):
        for instance in os.listdir(base):
            for name in ("user-data.txt", "user-data.txt.i", "cloud-config.txt", "obj.pkl"):
                path = os.path.join(base, instance, name)
                if os.path.exists(path):
                    os.unlink(path)
                    removed += 1
    for path in (conf["cloud_run_sensitive"],):
        if os.path.exists(path):
            os.unlink(path)
            removed += 1
    return removed


def configure(conf, url, token, station, network=None, strict=True, share_password=None):
    """Check everything, then change the appliance. Returns the server's version text."""
    url = check_url(url)
    token = check_token(token)
    station = check_station(station)
    net = check_network(network) if network else None
    if share_password is not None:
        check_share_password(share_password)
    if net:
        apply_network(conf, net)
    try:
        version = probe_server(url, token)
    except ConfigError as exc:
        if strict or "rejected the token" in str(exc):
            raise
        log("warning: %s; configured anyway, the client retries" % exc)
        version = None
    write_client_config(conf, url, token, station)
    log("server %s (version %s), station %r written to %s" % (url, version or "unknown", station, conf["config_file"]))
    if share_password is not None:
        set_share_password(conf, share_password)
    healthy = start_client(conf)
    log("%s %s" % (conf["service_name"], "healthy" if healthy else "started but /health does not answer yet"))
    return version


# Entry points -----------------------------------------------------------------------
def cmd_seed(conf, args):
    try:
        with open(args.file, encoding="utf-8") as handle:
            seed = json.load(handle)
    finally:
        if os.path.exists(args.file):
            os.unlink(args.file)
    network = seed.get("network") or None
    if network and network.get("mode", "dhcp") == "dhcp":
        network = None  # cloud-init's fallback already runs DHCP on the first NIC
    try:
        configure(conf, seed.get("server_url"), seed.get("api_token"), seed.get("station_name"),
                  network=network, strict=False, share_password=seed.get("share_password") or None)
    finally:
        log("removed %d cloud-init copies of the seed's user-data" % scrub_cloud_init(conf))
    return 0


def cmd_configure(conf, args):
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            token = handle.read().strip()
    else:
        token = sys.stdin.readline().strip()
    network = None
    if args.network:
        network = {"mode": args.network, "address": args.address, "gateway": args.gateway, "dns": args.dns}
    version = configure(conf, args.url, token, args.station, network=network, strict=not args.no_verify)
    print("configured; server version %s" % version)
    return 0


def read_new_password(stream=None):
    """From a terminal: asked twice, hidden. Otherwise: the first line of stdin."""
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("New share password: ")
        if getpass.getpass("Again: ") != first:
            raise ConfigError("share password: the two entries differ; nothing changed")
        return first
    return stream.readline().rstrip("\r\n")


def cmd_share_password(conf, args):
    set_share_password(conf, read_new_password())
    print("share password set")
    return 0


def cmd_status(conf, args):
    try:
        with open(conf["config_file"], encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}
    active = subprocess.run(["systemctl", "is-active", conf["service_name"]], capture_output=True, text=True,
                            check=False).stdout.strip()
    print("server:   %s" % (data.get("service_address") or "(not configured)"))
    print("station:  %s" % (data.get("station_name") or "(not configured)"))
    print("token:    %s" % ("set" if data.get("api_token") else "(not set)"))
    print("service:  %s %s" % (conf["service_name"], active))
    print("health:   %s" % ("200 on port %s" % conf["health_port"] if health(conf) else "not answering"))
    ready = os.path.exists(conf["share_marker"])
    for share in conf["shares"]:
        print("share:    %s (%s) user %s, %s"
              % (share["name"], share["path"], conf["share_user"], "password set" if ready else "password not set"))
    return 0


class Whiptail:
    """whiptail draws on the terminal (stdout) and prints the answer on stderr."""

    title = "pyWATS appliance"

    def run(self, *args):
        result = subprocess.run(["whiptail", "--title", self.title, *args], stderr=subprocess.PIPE, text=True, check=False)
        return result.returncode, result.stderr

    def msg(self, text):
        self.run("--msgbox", text, "18", "76")

    def ask(self, text, init=""):
        code, answer = self.run("--inputbox", text, "10", "72", init)
        return None if code != 0 else answer.strip()

    def secret(self, text):
        code, answer = self.run("--passwordbox", text, "10", "72")
        return None if code != 0 else answer.strip()

    def menu(self, text, *items):
        flat = [part for item in items for part in item]
        code, answer = self.run("--menu", text, "20", "76", str(len(items)), *flat)
        return None if code != 0 else answer.strip()


def status_text(conf):
    try:
        with open(conf["config_file"], encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}
    brief = subprocess.run(["ip", "-brief", "-4", "address"], capture_output=True, text=True, check=False).stdout
    addresses = ipv4_addresses(brief)
    return "Server:  %s\nStation: %s\nClient:  %s\n%s\nAddress: %s" % (
        data.get("service_address") or "(not configured)", data.get("station_name") or "(not configured)",
        "healthy" if health(conf, timeout=1) else "not running",
        share_text(conf, addresses[0][1].split("/")[0] if addresses else "<address>"),
        ", ".join("%s %s" % pair for pair in addresses) or "(none)")


def cmd_tui(conf, args):
    ui = Whiptail()
    while True:
        choice = ui.menu(status_text(conf), ("1", "Configure the WATS server, token and station"),
                         ("2", "Configure the network (DHCP or static)"),
                         ("3", "Set the password of the report share"), ("4", "Refresh"))
        if choice == "1":
            tui_server(conf, ui)
        elif choice == "2":
            tui_network(conf, ui)
        elif choice == "3":
            tui_share(conf, ui)
        elif choice is None and args.once:
            return 0


def tui_server(conf, ui):
    url = ui.ask("WATS server URL (https://...):", "https://")
    if url is None:
        return
    token = ui.secret("API token of this station (input hidden):")
    if token is None:
        return
    station = ui.ask("Station name (written to the client's config):", os.uname().nodename)
    if station is None:
        return
    ui.run("--infobox", "Checking %s ..." % url, "8", "72")
    try:
        version = configure(conf, url, token, station)
    except ConfigError as exc:
        ui.msg(("%s" if str(exc).startswith("settings saved") else "Nothing changed: %s") % exc)
        return
    ui.msg("Configured. Server version %s.\n\n%s" % (version, status_text(conf)))


def tui_share(conf, ui):
    first = ui.secret("New password of share user %s (input hidden, %d-%d characters):"
                      % (conf["share_user"], SHARE_PASSWORD_MIN, SHARE_PASSWORD_MAX))
    if first is None:
        return
    again = ui.secret("The same password again:")
    if again is None:
        return
    try:
        if first != again:
            raise ConfigError("the two entries differ")
        set_share_password(conf, first)
    except ConfigError as exc:
        ui.msg("Not changed: %s" % exc)
        return
    ui.msg("Share password set.\n\n%s" % status_text(conf))


def tui_network(conf, ui):
    mode = ui.menu("Network of the first network card:", ("dhcp", "automatic (DHCP)"), ("static", "static address"))
    if mode is None:
        return
    net = {"mode": mode}
    if mode == "static":
        for key, text in (("address", "Address with prefix, e.g. 192.0.2.10/24:"), ("gateway", "Gateway (may be empty):"),
                          ("dns", "DNS servers, comma separated:")):
            value = ui.ask(text)
            if value is None:
                return
            net[key] = value
    try:
        apply_network(conf, check_network(net))
    except ConfigError as exc:
        ui.msg("Not changed: %s" % exc)
        return
    ui.msg("Network set.\n\n%s" % status_text(conf))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pywats-appliance-config", description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default=SETTINGS_FILE, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    p_seed = sub.add_parser("seed", help="apply a seed file (JSON), then delete it")
    p_seed.add_argument("file")
    p_conf = sub.add_parser("configure", help="set server, token (stdin or --token-file) and station")
    p_conf.add_argument("--url", required=True)
    p_conf.add_argument("--station", required=True)
    p_conf.add_argument("--token-file")
    p_conf.add_argument("--no-verify", action="store_true", help="configure even when the server is unreachable")
    p_conf.add_argument("--network", choices=("dhcp", "static"))
    p_conf.add_argument("--address", default="")
    p_conf.add_argument("--gateway", default="")
    p_conf.add_argument("--dns", default="")
    p_tui = sub.add_parser("tui", help="text UI")
    p_tui.add_argument("--once", action="store_true", help="leave on Cancel (for a shell)")
    sub.add_parser("share-password", help="set the report share's password (stdin, or asked twice on a terminal)")
    sub.add_parser("status", help="print the appliance's state")
    args = parser.parse_args(argv)
    conf = settings(args.settings)
    try:
        return {"seed": cmd_seed, "configure": cmd_configure, "tui": cmd_tui, "status": cmd_status,
                "share-password": cmd_share_password}[args.command](conf, args)
    except ConfigError as exc:
        log("error: %s" % exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
