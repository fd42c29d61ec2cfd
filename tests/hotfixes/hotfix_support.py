"""Helpers for the pywats-api hotfix tests: a loopback WATS stand-in, patch
application and subprocess runs against a patched copy of pywats_client."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOTFIX_VERSION = "0.6.0rc1"
PATCH_DIR = REPO / "roles/pywats_client/files/hotfixes" / HOTFIX_VERSION
HOTFIX_VARS = REPO / "roles/pywats_client/vars/hotfixes.yml"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
REPORT = REPO / "tests/data/report-wsjf.json"
LOOPBACK = "127.0.0.1"

# The module_path the shipped configurator writes for the WSJF converter.
WSJF_MODULE_PATH = (
    "pywats_client.converters.standard.wats_standard_json_converter."
    "WATSStandardJsonConverter"
)


# The upstream files have CRLF line endings; the patches are kept with LF
# (ansible-test allows no other) and their hunk lines get CR back before use.
# The role does the same (tasks/linux/hotfixes.yml) with the same expression.
HUNK_LINE = re.compile(r"(?m)^((?![-+]{3} )[ +-].*)$")
_STAGED = Path(tempfile.mkdtemp(prefix="pywats-hotfixes-"))


def with_crlf_hunks(text):
    return HUNK_LINE.sub(lambda m: m.group(1) + "\r", text)


def staged(path):
    """A copy of the patch at `path` as the role stages it on a station."""
    out = _STAGED / path.name
    out.write_bytes(with_crlf_hunks(path.read_text(encoding="utf-8")).encode("utf-8"))
    return out


def patch_files():
    return [staged(p) for p in sorted(PATCH_DIR.glob("*.patch"))]


def patch_ids():
    return [p.name[: -len(".patch")] for p in sorted(PATCH_DIR.glob("*.patch"))]


def patch_file(patch_id):
    path = PATCH_DIR / f"{patch_id}.patch"
    assert path.is_file(), f"no hotfix {path}"
    return staged(path)


# The exact option sets ansible.posix.patch uses (basedir=site-packages, strip=0).
def patch_is_applied(basedir, patch):
    return subprocess.run(
        ["patch", "--quiet", "--forward", "--strip=0", f"--directory={basedir}",
         f"--input={patch}", "--dry-run", "--reverse"],
        capture_output=True, text=True, check=False).returncode == 0


def apply_patch(basedir, patch, check=True, reverse=False):
    proc = subprocess.run(
        ["patch", "--quiet", "--forward", "--batch", "--reject-file=-", "--strip=0",
         f"--directory={basedir}", f"--input={patch}", *(["--reverse"] if reverse else [])],
        capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, f"{patch.name} failed:\n{proc.stdout}{proc.stderr}"
    return proc


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class StandIn:
    """A WATS server stand-in on 127.0.0.1 that records every request.

    GET /api/App/Version answers a JSON string; POST /api/Report/WSJF answers
    `wsjf_status` with [{"ID": <guid>}] when 2xx. Anything else is a 404.
    """

    def __init__(self):
        self.requests = []
        self.wsjf_status = 200
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with standin._lock:
                    standin.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": dict(self.headers.items()), "body": body,
                    })
                    status = standin.wsjf_status
                if self.command == "GET" and path.lower() == "/api/app/version":
                    self._reply(200, "24.1.0")
                elif self.command == "POST" and path.lower() == "/api/report/wsjf":
                    if 200 <= status < 300:
                        self._reply(status, [{"ID": str(uuid.uuid4())}])
                    else:
                        self._reply(status, {"Message": "stand-in is down"})
                else:
                    self._reply(404, {"Message": "not in the stand-in"})

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def posts(self, path="/api/report/wsjf"):
        with self._lock:
            return [r for r in self.requests
                    if r["method"] == "POST" and r["path"].split("?")[0].lower() == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def client_env(tmp_path, overlay, **extra):
    """Environment for a client subprocess: the patched copy first on the
    path, a private HOME, no proxy (every call must stay on loopback)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        PYTHONPATH=str(overlay),
        HOME=str(home),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def make_overlay(site_packages, dest, patches):
    """Copy the installed pywats_client next to nothing else and apply
    `patches` to it, laid out as in site-packages so the patches apply with
    -p0 exactly as on a station."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(site_packages / "pywats_client", dest / "pywats_client",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for patch_id in patches:
        apply_patch(dest, patch_file(patch_id))
    return dest


def converter_entry(watch, module_path=WSJF_MODULE_PATH):
    """A converter entry as the shipped configurator writes it."""
    return {
        "name": "WATS Standard JSON",
        "module_path": module_path,
        "watch_folder": str(watch),
        "done_folder": str(watch / "Done"),
        "error_folder": str(watch / "Error"),
        "pending_folder": str(watch / "Pending"),
        "converter_type": "file",
        "enabled": True,
        "file_patterns": ["*.json"],
        "post_action": "move",
    }


def drop_report(watch, name="report.json", source=REPORT):
    """Drop a report the safe way: write beside, then rename into the folder."""
    tmp = watch.parent / f".{name}.part"
    tmp.write_bytes(source.read_bytes())
    os.replace(tmp, watch / name)
    return watch / name
