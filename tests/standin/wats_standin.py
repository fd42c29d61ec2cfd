# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small stand-in for the WATS server, for tests of the pyWATS client.

It answers the calls the upstream pyWATS client makes (version check, WSJF upload,
and the calls of registration mode), records what it receives, and lets a test
simulate an outage. Python 3.9+ standard library only, one file, so that it can
be copied into a test container and run there with the system python3.

Usage:
    python3 wats_standin.py --port 18080 --token-file PATH
        [--bind 127.0.0.1] [--state-dir DIR] [--version 23.1.0]
        [--ready-file PATH] [--log-file PATH]

The token is read from --token-file (surrounding whitespace stripped) or, without
it, from the environment variable WATS_STANDIN_TOKEN; never from the command line,
where every user of the host could read it. The stand-in listens on loopback only
(127.0.0.0/8 or ::1) and refuses any other --bind.

WATS API (paths matched case-insensitively, as the ASP.NET server does):
    GET  /api/App/Version                  auth; 200 "<version>"
    POST /api/Report/WSJF                  auth; JSON object body; 200 [{"ID": "<uuid4>"}]
    POST /api/Client/Register?id=...       auth with the token; 200 "<passcode>"
    GET  /api/internal/Client/ServerInfo   auth; 200 {"Name", "SiteCode", "Version"}
    PUT  /api/Client/Update                auth; JSON body; 200
    POST /api/internal/Client/Update       auth; JSON body; 200
    GET  /api/internal/Client/Ping         auth; 200
    GET  /api/internal/Auth/Disconnect     auth; 200
"auth" means the header "Authorization: Basic <token>", byte for byte, or, after a
registration, "Basic base64(<id>:<passcode>)" as the registered client sends it.
Anything else answers 401. Unknown paths answer 404 (a known path with another
method 405); both are counted.

Control API for tests (no auth; answered only to loopback peers; these calls are
not written to the request log):
    GET    /_standin/health       counters, version, current failure
    GET    /_standin/reports      accepted reports, oldest first
    DELETE /_standin/reports      forget them (files in --state-dir stay)
    GET    /_standin/requests     request log (WATS API calls only), oldest first
    DELETE /_standin/requests     clear it and the unknown-path counter
    POST   /_standin/fail         {"status": 503, "count": N}: the next N uploads
                                  (POST /api/Report/WSJF) answer 503; without
                                  "count", every upload until reset-fail;
                                  "status" (400-599) defaults to 503
    POST   /_standin/reset-fail   end the simulated outage

A simulated failure answers before the auth check, as a proxy in front of a down
server would. A report entry holds: seq, id (the ID the upload was answered with),
received, reportId / serialNumber / partNumber (from the WSJF fields id, sn and pn,
or serialNumber and partNumber), auth, clientId, duplicateOf (seq of an earlier
upload with the same reportId, else null), file and body. A request log entry
holds: seq, time, method, path, query, status, auth (token, client, missing, bad,
not-required or not-checked), authOk, clientId, authSeen (what the Authorization
header held, checked or not: token, client, missing or bad), userAgent, injected and
durationMs.

With --state-dir, every accepted report is also written, exactly as received, to
<state-dir>/reports/<n>-<id>.json (n zero-padded, never reused, carried on across
restarts), through a temporary file and a rename.

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not listen, 2 usage error.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 18080
DEFAULT_VERSION = "23.1.0"
TOKEN_ENV = "WATS_STANDIN_TOKEN"
CONTROL_PREFIX = "/_standin/"
MAX_BODY_BYTES = 32 * 1024 * 1024
REQUEST_LOG_LIMIT = 10000
ALLOWED_FAILURE_STATUS = range(400, 600)
REPORT_FILE_RE = re.compile(r"^(\d+)-.*\.json$")

LOG = logging.getLogger("wats_standin")

# Control characters in a logged path would let a client forge log lines.
_LOG_ESCAPES = {c: "\\x%02x" % c for c in list(range(0x20)) + [0x7F]}


class _SecretFilter(logging.Filter):
    """Masks every known secret in every record of LOG, whatever its handlers."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple = ()

    def add(self, *secrets: str) -> None:
        with self._lock:
            # Longest first, so that no shorter secret leaves part of a longer one.
            self._secrets = tuple(sorted(set(self._secrets) | set(secrets), key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_SECRETS = _SecretFilter()
LOG.addFilter(_SECRETS)


class UsageError(Exception):
    """A bad option or environment: exit 2 with the message."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def loopback_address(host: str) -> ipaddress._BaseAddress:
    """Return host as an address if it is a loopback literal, else raise UsageError."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise UsageError(
            "--bind %r is not an IP address; the stand-in listens only on a loopback "
            "address (127.0.0.0/8 or ::1), e.g. --bind 127.0.0.1" % host
        ) from None
    if not address.is_loopback:
        raise UsageError(
            "--bind %s is not a loopback address; the stand-in listens only on "
            "127.0.0.0/8 or ::1, so that no other machine can send it reports or "
            "drive its control API" % host
        )
    return address


def is_loopback_peer(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def read_token(token_file: str | None, environ=None) -> tuple[str, str]:
    """Return (token, where it came from). Never puts the token in a message."""
    if environ is None:
        environ = os.environ
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError("cannot read --token-file %s: %s" % (token_file, exc)) from None
        if not token:
            raise UsageError("--token-file %s is empty" % token_file)
        return token, "file %s" % token_file
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(
            "no token: give --token-file PATH or set %s (the token is never taken "
            "from the command line)" % TOKEN_ENV
        )
    return token, "environment variable %s" % TOKEN_ENV


def basic(credential: str) -> bytes:
    return ("Basic " + credential).encode("utf-8")


class State:
    """Everything the stand-in remembers; all methods are thread-safe."""

    def __init__(self, token: str, version: str = DEFAULT_VERSION, state_dir: str | None = None):
        if not token:
            raise UsageError("the token must not be empty")
        self.version = version
        self.state_dir = os.path.abspath(state_dir) if state_dir else None
        self._lock = threading.Lock()
        self._token_header = basic(token)
        self._clients: dict[bytes, str] = {}  # expected header -> registered client id
        _SECRETS.add(token)
        self._reports: list[dict] = []
        self._first_seen: dict[str, int] = {}  # report "id" -> seq of its first upload
        self._requests: deque = deque(maxlen=REQUEST_LOG_LIMIT)
        self._request_seq = 0
        self._unknown = 0
        self._failure: dict | None = None
        self._injected = 0
        self._report_seq = 0
        if self.state_dir:
            self._reports_dir = os.path.join(self.state_dir, "reports")
            os.makedirs(self._reports_dir, mode=0o750, exist_ok=True)
            for name in os.listdir(self._reports_dir):
                match = REPORT_FILE_RE.match(name)
                if match:
                    self._report_seq = max(self._report_seq, int(match.group(1)))

    # Secrets ---------------------------------------------------------------
    @staticmethod
    def redact(text: str) -> str:
        return _SECRETS.redact(text)

    def authenticate(self, header: str | None, allow_clients: bool = True) -> tuple[str, str | None]:
        """Return (kind, client id): kind is token, client, missing or bad."""
        if header is None:
            return "missing", None
        # http.client decoded the header as latin-1; undo that to compare bytes.
        got = header.encode("latin-1", "replace")
        if hmac.compare_digest(got, self._token_header):
            return "token", None
        if allow_clients:
            with self._lock:
                clients = list(self._clients.items())
            for expected, client_id in clients:
                if hmac.compare_digest(got, expected):
                    return "client", client_id
        return "bad", None

    def register_client(self, client_id: str) -> str:
        passcode = secrets.token_urlsafe(18)
        credential = base64.b64encode(("%s:%s" % (client_id, passcode)).encode("utf-8")).decode("ascii")
        with self._lock:
            # Registering again issues a new passcode and voids the old one, as WATS does.
            self._clients = {k: v for k, v in self._clients.items() if v != client_id}
            self._clients[basic(credential)] = client_id
        _SECRETS.add(passcode, credential)
        return passcode

    # Request log -------------------------------------------------------------
    def record_request(self, entry: dict) -> None:
        with self._lock:
            self._request_seq += 1
            entry["seq"] = self._request_seq
            self._requests.append(entry)
            if entry["status"] in (404, 405):
                self._unknown += 1

    def requests(self) -> list:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> int:
        with self._lock:
            count = len(self._requests)
            self._requests.clear()
            self._unknown = 0
            return count

    # Simulated outage --------------------------------------------------------
    def set_failure(self, status: int, count: int | None) -> dict:
        with self._lock:
            self._failure = {"status": status, "remaining": count}
            return dict(self._failure)

    def reset_failure(self) -> None:
        with self._lock:
            self._failure = None

    def take_failure(self) -> int | None:
        """The status an upload must fail with now, or None; counts it down."""
        with self._lock:
            if self._failure is None:
                return None
            status = self._failure["status"]
            if self._failure["remaining"] is not None:
                self._failure["remaining"] -= 1
                if self._failure["remaining"] <= 0:
                    self._failure = None
            self._injected += 1
            return status

    # Reports -----------------------------------------------------------------
    def add_report(self, raw: bytes, body: dict, auth: str, client_id: str | None) -> dict:
        report_id = str(uuid.uuid4())
        with self._lock:
            self._report_seq += 1
            seq = self._report_seq
        path = None
        if self.state_dir:
            # Outside the lock: a slow disk must not stall the control API.
            path = os.path.join(self._reports_dir, "%06d-%s.json" % (seq, report_id))
            tmp = os.path.join(self._reports_dir, ".%06d-%s.json.tmp" % (seq, report_id))
            with open(tmp, "wb") as handle:
                handle.write(raw)
            os.replace(tmp, path)

        def field(*names):
            for name in names:
                if name in body:
                    return body[name]
            return None

        entry = {
            "seq": seq,
            "id": report_id,
            "received": utc_now(),
            # WSJF names them id, sn and pn; the long names are accepted too.
            "reportId": field("id"),
            "serialNumber": field("sn", "serialNumber"),
            "partNumber": field("pn", "partNumber"),
            "auth": auth,
            "clientId": client_id,
            "duplicateOf": None,
            "file": path,
            "body": body,
        }
        with self._lock:
            key = entry["reportId"]
            if isinstance(key, str):
                if key in self._first_seen:
                    entry["duplicateOf"] = self._first_seen[key]
                else:
                    self._first_seen[key] = seq
            self._reports.append(entry)
        return entry

    def reports(self) -> list:
        with self._lock:
            return list(self._reports)

    def clear_reports(self) -> int:
        with self._lock:
            count = len(self._reports)
            self._reports.clear()
            self._first_seen.clear()
            return count

    def health(self) -> dict:
        with self._lock:
            return {
                "status": "ok",
                "version": self.version,
                "reports": len(self._reports),
                "requests": len(self._requests),
                "unknown": self._unknown,
                "failure": dict(self._failure) if self._failure else None,
                "injectedFailures": self._injected,
                "registeredClients": sorted(set(self._clients.values())),
                "stateDir": self.state_dir,
            }


class BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so the client can keep its connection, as with the real server.
    protocol_version = "HTTP/1.1"
    server_version = "WATS-standin/1"
    # An idle or stuck client frees its thread after this many seconds.
    timeout = 30

    # Routes: lower-cased path -> {method: (handler, auth)}; auth is None (no check),
    # "token" (only the token) or "any" (token or a registered client).
    ROUTES = {
        # Assumed, as upstream's configurator reads it (401: "Authentication failed").
        "/api/app/version": {"GET": ("_version", "any")},
        "/api/report/wsjf": {"POST": ("_upload", "any")},
        "/api/client/register": {"POST": ("_register", "token")},
        "/api/internal/client/serverinfo": {"GET": ("_server_info", "any")},
        "/api/client/update": {"PUT": ("_client_update", "any")},
        "/api/internal/client/update": {"POST": ("_client_update", "any")},
        "/api/internal/client/ping": {"GET": ("_ping", "any")},
        "/api/internal/auth/disconnect": {"GET": ("_disconnect", "any")},
    }
    CONTROL = {
        "health": {"GET": "_c_health"},
        "reports": {"GET": "_c_reports", "DELETE": "_c_clear_reports"},
        "requests": {"GET": "_c_requests", "DELETE": "_c_clear_requests"},
        "fail": {"POST": "_c_fail"},
        "reset-fail": {"POST": "_c_reset_fail"},
    }

    @property
    def state(self) -> State:
        return self.server.state

    # Logging: headers are never logged, and LOG masks every known secret anyway.
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        message = (format % args).translate(_LOG_ESCAPES)
        LOG.info("%s %s", self.client_address[0], self.state.redact(message))

    def log_request(self, code="-", size="-"):
        code = getattr(code, "value", code)
        self.log_message('"%s" %s auth=%s', self.requestline, code, getattr(self, "_auth", "-"))

    # Plumbing -----------------------------------------------------------------
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding")
        if encoding:
            if encoding.strip().lower() != "chunked":
                raise BodyError(501, "Transfer-Encoding %s is not supported" % encoding)
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise BodyError(400, "invalid Content-Length") from None
        if size < 0:
            raise BodyError(400, "invalid Content-Length")
        if size > MAX_BODY_BYTES:
            raise BodyError(413, "body larger than %d bytes" % MAX_BODY_BYTES)
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "invalid chunked body") from None
            if size < 0:
                raise BodyError(400, "invalid chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(data)
            if len(data) + size > MAX_BODY_BYTES:
                raise BodyError(413, "body larger than %d bytes" % MAX_BODY_BYTES)
            data += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send_json(self, status: int, payload, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self._status = status
        self._record()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict | None = None) -> None:
        # "Message" is how ASP.NET, and so WATS, names it; the client reads it.
        self._send_json(status, {"Message": message}, headers)

    def _dispatch(self) -> None:
        self._status = None
        self._auth = "-"
        self._client_id = None
        self._injected = False
        self._recorded = False
        self._started = time.monotonic()
        self._received = utc_now()
        self._split = split = urlsplit(self.path)
        path = split.path
        self._is_control = is_control = path.startswith(CONTROL_PREFIX)
        try:
            try:
                # Read the body first, always: closing a socket with unread data
                # resets it, and the client would see a reset instead of our answer.
                self._body = self._read_body()
            except BodyError as exc:
                self.close_connection = True
                self._error(exc.status, exc.message)
                return
            except (OSError, ValueError) as exc:
                self.close_connection = True
                self._error(400, "could not read the body: %s" % exc)
                return
            if is_control:
                self._control(path[len(CONTROL_PREFIX):])
            else:
                self._api(path, split.query)
        except Exception:  # a bug here must still answer, and show in the log
            LOG.exception("error handling %s %s", self.command, self.state.redact(path))
            if self._status is None:
                self.close_connection = True
                self._error(500, "The stand-in failed; see its log.")
        finally:
            self._record()

    def _record(self) -> None:
        """Log the WATS call once, before its answer leaves: a client that reads the
        request log right after its answer must find the call there."""
        if self._recorded or self._is_control or self._status is None:
            return
        self._recorded = True
        self.state.record_request({
            "time": self._received,
            "method": self.command,
            "path": self.state.redact(self._split.path),
            "query": self.state.redact(self._split.query),
            "status": self._status,
            "auth": self._auth,
            "authOk": {"token": True, "client": True, "missing": False,
                       "bad": False}.get(self._auth),
            "clientId": self._client_id,
            # What the Authorization header held, checked or not: token, client, missing or bad.
            "authSeen": self.state.authenticate(self.headers.get("Authorization"))[0],
            "userAgent": (self.headers.get("User-Agent") or "")[:80],
            "injected": self._injected,
            "durationMs": round((time.monotonic() - self._started) * 1000, 1),
        })

    def _api(self, path: str, query: str) -> None:
        routes = self.ROUTES.get(path.rstrip("/").lower() or "/")
        if routes is None:
            self._error(404, "No HTTP resource was found that matches the request URI '%s'." % path)
            return
        if self.command not in routes:
            self._error(405, "The requested resource does not support http method '%s'." % self.command,
                        {"Allow": ", ".join(sorted(routes))})
            return
        handler, auth = routes[self.command]
        if auth is None:
            self._auth = "not-required"
        else:
            if handler == "_upload":
                # An outage comes before any application logic, auth included.
                status = self.state.take_failure()
                if status is not None:
                    self._injected = True
                    self._auth = "not-checked"
                    self._error(status, "Simulated failure (wats_standin /_standin/fail)")
                    return
            self._auth, self._client_id = self.state.authenticate(
                self.headers.get("Authorization"), allow_clients=(auth == "any"))
            if self._auth not in ("token", "client"):
                self._error(401, "Authorization has been denied for this request.")
                return
        getattr(self, handler)(parse_qs(query))

    def _json_body(self):
        try:
            return json.loads(self._body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            self._error(400, "The request body is not valid JSON: %s" % exc)
            raise BodyError(400, "invalid JSON") from None

    # WATS API -----------------------------------------------------------------
    def _version(self, query):
        self._send_json(200, self.state.version)

    def _upload(self, query):
        try:
            body = self._json_body()
        except BodyError:
            return
        if not isinstance(body, dict):
            self._error(400, "A WSJF report is a JSON object, not %s." % type(body).__name__)
            return
        try:
            entry = self.state.add_report(self._body, body, self._auth, self._client_id)
        except OSError as exc:
            LOG.error("cannot write the report to %s: %s", self.state.state_dir, exc)
            self._error(500, "The stand-in could not store the report: %s" % exc)
            return
        LOG.info("report %d accepted: id=%s reportId=%s sn=%s pn=%s", entry["seq"], entry["id"],
                 entry["reportId"], entry["serialNumber"], entry["partNumber"])
        self._send_json(200, [{"ID": entry["id"]}])

    def _register(self, query):
        client_id = (query.get("id") or [""])[0].strip()
        if not client_id:
            self._error(400, "The query parameter 'id' is required.")
            return
        self._client_id = client_id
        self._send_json(200, self.state.register_client(client_id))

    def _server_info(self, query):
        self._send_json(200, {"Name": "WATS stand-in", "SiteCode": "STANDIN",
                              "Version": self.state.version})

    def _client_update(self, query):
        try:
            self._json_body()
        except BodyError:
            return
        self._send_json(200, {"Updated": True})

    def _ping(self, query):
        self._send_json(200, {"Ping": "OK", "ServerTime": utc_now()})

    def _disconnect(self, query):
        self._send_json(200, {"Disconnected": True})

    # Control API --------------------------------------------------------------
    def _control(self, name: str) -> None:
        self._auth = "control"
        if not is_loopback_peer(self.client_address[0]):
            self._error(403, "The control API answers loopback peers only.")
            return
        methods = self.CONTROL.get(name.rstrip("/"))
        if methods is None:
            self._error(404, "Unknown control call %s%s; known: %s" % (
                CONTROL_PREFIX, name, ", ".join(sorted(self.CONTROL))))
            return
        if self.command not in methods:
            self._error(405, "%s%s takes %s" % (CONTROL_PREFIX, name, ", ".join(sorted(methods))),
                        {"Allow": ", ".join(sorted(methods))})
            return
        getattr(self, methods[self.command])()

    def _c_health(self):
        self._send_json(200, self.state.health())

    def _c_reports(self):
        self._send_json(200, self.state.reports())

    def _c_clear_reports(self):
        self._send_json(200, {"cleared": self.state.clear_reports()})

    def _c_requests(self):
        self._send_json(200, self.state.requests())

    def _c_clear_requests(self):
        self._send_json(200, {"cleared": self.state.clear_requests()})

    def _c_fail(self):
        try:
            spec = self._json_body()
        except BodyError:
            return
        if not isinstance(spec, dict) or set(spec) - {"status", "count"}:
            self._error(400, 'Expected {"status": 503} or {"status": 503, "count": N}.')
            return
        status = spec.get("status", 503)
        count = spec.get("count")
        if not isinstance(status, int) or isinstance(status, bool) or status not in ALLOWED_FAILURE_STATUS:
            self._error(400, "status must be an integer from 400 to 599, got %r" % (status,))
            return
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            self._error(400, "count must be a positive integer or absent, got %r" % (count,))
            return
        failure = self.state.set_failure(status, count)
        LOG.info("simulated outage: uploads answer %d %s", status,
                 "until reset-fail" if count is None else "for the next %d call(s)" % count)
        self._send_json(200, {"failure": failure})

    def _c_reset_fail(self):
        self.state.reset_failure()
        LOG.info("simulated outage ended")
        self._send_json(200, {"failure": None})


class StandinHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 drops connections in a burst, which costs the
    # client a one-second SYN retry each.
    request_queue_size = 128

    def __init__(self, bind: str, port: int, state: State):
        address = loopback_address(bind)
        self.address_family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        self.state = state
        super().__init__((str(address), port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind asks DNS for the host's FQDN, which can stall; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class Standin:
    """The stand-in, in a background thread. For tests:

        with Standin(token="t0ken", port=0) as standin:
            urlopen(standin.url + "/api/App/Version")
    """

    def __init__(self, token: str, bind: str = "127.0.0.1", port: int = 0,
                 state_dir: str | None = None, version: str = DEFAULT_VERSION):
        self.state = State(token, version=version, state_dir=state_dir)
        self.httpd = StandinHTTPServer(bind, port, self.state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return "http://%s:%d" % ("[%s]" % host if ":" in host else host, self.port)

    def start(self) -> "Standin":
        # A short poll keeps stop() quick; the cost is a few idle wake-ups a second.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="wats-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "Standin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse echoes unknown arguments; one of them may be a token typed on the
        # command line by mistake, so name only the options.
        if message.startswith("unrecognized arguments:"):
            names = [a.split("=", 1)[0] for a in message.split(":", 1)[1].split() if a.startswith("-")]
            message = "unrecognized arguments (values not shown): %s" % (" ".join(names) or "(positional)")
            if any(n.startswith("--token") and n != "--token-file" for n in names):
                message += "; the token is read only from --token-file or %s" % TOKEN_ENV
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="wats_standin.py", allow_abbrev=False,
        description="Stand-in WATS server for tests of the pyWATS client (loopback only).",
        epilog="The token comes from --token-file or $%s, never from the command line. "
               "Control API under %s: health, reports, requests, fail, reset-fail."
               % (TOKEN_ENV, CONTROL_PREFIX))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="TCP port, 0 for any free one (default %(default)s)")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="loopback address to listen on: 127.0.0.0/8 or ::1 (default %(default)s)")
    parser.add_argument("--token-file", metavar="PATH",
                        help="file holding the API token (else $%s)" % TOKEN_ENV)
    parser.add_argument("--state-dir", metavar="DIR",
                        help="also write accepted reports to DIR/reports/<n>-<id>.json")
    parser.add_argument("--version", default=DEFAULT_VERSION, dest="server_version", metavar="VERSION",
                        help="what GET /api/App/Version answers (default %(default)s)")
    parser.add_argument("--ready-file", metavar="PATH",
                        help="once listening, write the base URL to PATH (removed on exit)")
    parser.add_argument("--log-file", metavar="PATH",
                        help="append the log to PATH as well as to stderr")
    return parser


def configure_logging(log_file: str | None) -> None:
    formatter = logging.Formatter("%(asctime)s wats_standin %(levelname)s %(message)s")
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def write_atomically(path: str, text: str) -> None:
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logging(args.log_file)
    except OSError as exc:
        print("wats_standin: cannot open --log-file: %s" % exc, file=sys.stderr)
        return 2
    try:
        if not 0 <= args.port <= 65535:
            raise UsageError("--port %d is out of range 0-65535" % args.port)
        loopback_address(args.bind)
        token, source = read_token(args.token_file)
        standin = Standin(token, bind=args.bind, port=args.port, state_dir=args.state_dir,
                          version=args.server_version)
    except UsageError as exc:
        LOG.error("%s", exc)
        return 2
    except OSError as exc:
        LOG.error("cannot listen on %s port %s: %s", args.bind, args.port, exc)
        return 1

    stop = threading.Event()

    def on_signal(signum, frame):
        LOG.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    standin.start()
    LOG.info("listening on %s (version %s, token from %s, state dir %s)", standin.url,
             args.server_version, source, standin.state.state_dir or "none")
    status = 0
    try:
        if args.ready_file:
            write_atomically(args.ready_file, standin.url + "\n")
        while not stop.wait(0.5):
            pass
    except OSError as exc:
        LOG.error("cannot write --ready-file %s: %s", args.ready_file, exc)
        status = 1
    finally:
        standin.stop()
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except OSError:
                pass
        health = standin.state.health()
        LOG.info("stopped: %d report(s) accepted, %d unknown call(s)", health["reports"], health["unknown"])
    return status


if __name__ == "__main__":
    sys.exit(main())
