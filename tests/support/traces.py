"""What the pywats_client role leaves on a host, so that a test can prove a
refused run left nothing behind."""

# Paths the role creates (with the default options and the test inventories).
PATHS = [
    "/opt/pywats",
    "/var/lib/pywats",
    "/etc/pywats",
    "/etc/systemd/system/pywats-client.service",
    "/etc/sysctl.d/60-pywats.conf",
    "/srv/pywats",
]

# One shell line that prints one line per trace found, and nothing on a clean host.
PROBE = " ; ".join(
    ["for p in %s; do [ -e \"$p\" ] && echo \"path $p\"; done" % " ".join(PATHS),
     "getent passwd pywats >/dev/null && echo 'user pywats'",
     "getent group pywats >/dev/null && echo 'group pywats'",
     "ls /var/lib/apt/lists/ 2>/dev/null | grep -q _Packages && echo 'apt lists updated'",
     "true"]
)


def traces(run):
    """run(shell_line) -> stdout. Returns the traces found, [] on a clean host."""
    return [line for line in run(PROBE).splitlines() if line.strip()]
