# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for tests and scripts that drive the WATS stand-in's control API.

Standard library only (urllib). Every function takes the stand-in's base URL,
e.g. "http://127.0.0.1:18080" (the content of its --ready-file), with or
without a trailing slash.

    from tests.standin import client
    client.set_failure(url, 503, count=2)   # the next 2 uploads answer 503
    ...
    client.reset(url)                       # end the simulated outage
    found = client.wait_for_reports(url, 1, timeout=120)
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

DEFAULT_TIMEOUT = 10.0

# Proxies from the environment (http_proxy, ...) must not see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StandinError(RuntimeError):
    """The control API answered with an error status."""


def _call(base_url: str, method: str, name: str, payload=None, timeout: float = DEFAULT_TIMEOUT):
    url = base_url.rstrip("/") + "/_standin/" + name
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise StandinError("%s %s answered %d: %s" % (method, url, exc.code, detail)) from None


def health(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Counters (reports, requests, unknown, injectedFailures) and the current failure."""
    return _call(base_url, "GET", "health", timeout=timeout)


def reports(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> list:
    """Accepted reports, oldest first: seq, id, received, reportId, serialNumber,
    partNumber, duplicateOf, file, body."""
    return _call(base_url, "GET", "reports", timeout=timeout)


def request_log(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> list:
    """WATS API calls received, oldest first: seq, time, method, path, query, status,
    auth, authOk, clientId, injected, durationMs."""
    return _call(base_url, "GET", "requests", timeout=timeout)


def clear_reports(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Forget the accepted reports (files in --state-dir stay); returns how many."""
    return _call(base_url, "DELETE", "reports", timeout=timeout)["cleared"]


def clear_requests(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Clear the request log and the unknown-path counter; returns how many."""
    return _call(base_url, "DELETE", "requests", timeout=timeout)["cleared"]


def set_failure(base_url: str, status: int = 503, count: int | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Make uploads answer `status`: the next `count` of them, or all until reset()."""
    payload = {"status": status}
    if count is not None:
        payload["count"] = count
    return _call(base_url, "POST", "fail", payload, timeout=timeout)["failure"]


def reset(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """End a simulated outage. Reports and the request log are kept."""
    _call(base_url, "POST", "reset-fail", {}, timeout=timeout)


def wait_for_reports(base_url: str, count: int, timeout: float = 60.0,
                     interval: float = 0.25) -> list:
    """Poll until at least `count` reports were accepted; return them all.

    On timeout, raise TimeoutError saying what did arrive, with the last calls the
    stand-in saw, so that a failing test shows why.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = reports(base_url)
        if len(found) >= count:
            return found
        if time.monotonic() >= deadline:
            break
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    try:
        recent = request_log(base_url)[-10:]
        calls = "; ".join("%s %s -> %s (auth %s)" % (r["method"], r["path"], r["status"], r["auth"])
                          for r in recent) or "none"
    except (OSError, StandinError) as exc:
        calls = "unknown (%s)" % exc
    raise TimeoutError("%d of %d report(s) reached %s within %.0f s; last calls: %s"
                       % (len(found), count, base_url, timeout, calls))
