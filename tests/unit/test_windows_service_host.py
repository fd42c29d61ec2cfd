# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows service host (roles/pywats_client/files/windows/pywats_service_host.py) on Linux.

pywin32 exists only on Windows, so the four modules the host imports are replaced by
fakes that behave as pywin32's do where the host relies on them: ServiceFramework's
accepted controls and control dispatch (win32serviceutil.py), SetServiceStatus, the
Parameters key, and servicemanager's event log. The client is a fake asyncio service
with upstream's interface (run(), request_shutdown()).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import asyncio
import importlib.util
import os
import signal
import sys
import threading
import types

import pytest

HOST = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "pywats_client", "files", "windows",
                    "pywats_service_host.py")

# Values as in the Windows SDK (winsvc.h, winnt.h).
SVC = dict(SERVICE_STOPPED=1, SERVICE_START_PENDING=2, SERVICE_STOP_PENDING=3, SERVICE_RUNNING=4,
           SERVICE_ACCEPT_STOP=0x1, SERVICE_ACCEPT_PAUSE_CONTINUE=0x2, SERVICE_ACCEPT_SHUTDOWN=0x4,
           SERVICE_ACCEPT_PRESHUTDOWN=0x100, SERVICE_CONTROL_STOP=1, SERVICE_CONTROL_PAUSE=2,
           SERVICE_CONTROL_CONTINUE=3, SERVICE_CONTROL_INTERROGATE=4, SERVICE_CONTROL_SHUTDOWN=5,
           SERVICE_CONTROL_PRESHUTDOWN=0xF, SERVICE_CONFIG_PRESHUTDOWN_INFO=7, SC_MANAGER_CONNECT=1,
           SERVICE_QUERY_CONFIG=1, SERVICE_CHANGE_CONFIG=2, SERVICE_WIN32_OWN_PROCESS=0x10)


class Fakes:
    def __init__(self):
        self.options = {}
        self.status = []        # (state, waitHint, thread name)
        self.events = []        # (type, id, text)
        self.source = []
        self.preshutdown = 180000
        self.config2_calls = []
        self.startup_env = {}   # service name -> the service key's Environment lines


@pytest.fixture
def host(monkeypatch, tmp_path):
    fakes = Fakes()
    win32service = types.ModuleType("win32service")
    for name, value in SVC.items():
        setattr(win32service, name, value)
    win32service.OpenSCManager = lambda *a: "scm"
    win32service.OpenService = lambda scm, name, access: "svc:" + name
    win32service.CloseServiceHandle = lambda h: None
    win32service.QueryServiceConfig2 = lambda h, level: fakes.preshutdown
    win32service.ChangeServiceConfig2 = lambda h, level, value: fakes.config2_calls.append((h, level, value))

    servicemanager = types.ModuleType("servicemanager")
    servicemanager.EVENTLOG_ERROR_TYPE, servicemanager.EVENTLOG_WARNING_TYPE = 1, 2
    servicemanager.EVENTLOG_INFORMATION_TYPE = 4
    servicemanager.SetEventSourceName = fakes.source.append
    servicemanager.LogMsg = lambda kind, event_id, inserts: fakes.events.append((kind, event_id, inserts[0]))
    servicemanager.RegisterServiceCtrlHandler = lambda name, handler, ex: "ssh:" + name

    win32serviceutil = types.ModuleType("win32serviceutil")

    class ServiceFramework:
        """The parts of pywin32's ServiceFramework the host builds on, as pywin32 writes them."""

        def __init__(self, args):
            self.ssh = servicemanager.RegisterServiceCtrlHandler(args[0], self.ServiceCtrlHandlerEx, True)
            servicemanager.SetEventSourceName(self._svc_name_)

        def GetAcceptedControls(self):
            accepted = 0
            if hasattr(self, "SvcStop"):
                accepted |= win32service.SERVICE_ACCEPT_STOP
            if hasattr(self, "SvcPause") and hasattr(self, "SvcContinue"):
                accepted |= win32service.SERVICE_ACCEPT_PAUSE_CONTINUE
            if hasattr(self, "SvcShutdown"):
                accepted |= win32service.SERVICE_ACCEPT_SHUTDOWN
            return accepted

        def ReportServiceStatus(self, serviceStatus, waitHint=5000, win32ExitCode=0, svcExitCode=0):
            fakes.status.append((serviceStatus, waitHint, threading.current_thread().name))

        def SvcOther(self, control):
            fakes.status.append(("other", control, threading.current_thread().name))

        def SvcOtherEx(self, control, event_type, data):
            return self.SvcOther(control)

        def ServiceCtrlHandlerEx(self, control, event_type, data):
            if control == win32service.SERVICE_CONTROL_STOP:
                return self.SvcStop()
            if control == win32service.SERVICE_CONTROL_SHUTDOWN:
                return self.SvcShutdown()
            return self.SvcOtherEx(control, event_type, data)

    win32serviceutil.ServiceFramework = ServiceFramework
    win32serviceutil.GetServiceCustomOption = lambda svc, option, default=None: fakes.options.get((svc, option), default)

    for module in (win32service, servicemanager, win32serviceutil):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    # The upstream defect: signal.signal from a thread that is not the main one.
    monkeypatch.setattr(signal, "signal", lambda *a: pytest.fail("the host must never install signal handlers"))
    monkeypatch.chdir(tmp_path)

    spec = importlib.util.spec_from_file_location("pywats_service_host_under_test", HOST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.fakes = fakes
    module.svc = win32service
    # winreg exists only on Windows; the Wine lane (tests/wine) reads the real value.
    module.PyWATSService.startup_environment = staticmethod(lambda name: fakes.startup_env.get(name, []))
    monkeypatch.setattr(os, "environ", dict(os.environ))
    yield module
    for name in ("stdout", "stderr"):
        monkeypatch.setattr(sys, name, getattr(sys, "__%s__" % name))


class FakeClient:
    """Upstream's AsyncClientService as the host sees it."""

    def __init__(self, mode="run"):
        self.mode = mode
        self.running = threading.Event()
        self.shutdown_threads = []
        self.run_thread = None
        self._stop = None

    async def run(self):
        self.run_thread = threading.current_thread().name
        self._stop = asyncio.Event()
        self.running.set()
        if self.mode == "crash":
            raise RuntimeError("converter pool exploded")
        if self.mode == "return":
            return  # as upstream's run() does after a failed start
        await self._stop.wait()
        if self.mode == "hang":
            await asyncio.sleep(3600)

    def request_shutdown(self):
        self.shutdown_threads.append(threading.current_thread().name)
        self._stop.set()


def start(host, client, name="pyWATS_Service"):
    host.PyWATSService.client_factory = staticmethod(lambda instance_id: client)
    service = host.PyWATSService([name])
    outcome = {}

    def main():
        try:
            service.SvcRun()
            outcome["raised"] = None
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            outcome["raised"] = exc

    thread = threading.Thread(target=main, name="service-main")
    thread.start()
    return service, thread, outcome


def event_ids(host):
    return [event_id for _kind, event_id, _text in host.fakes.events]


def test_accepts_stop_shutdown_and_preshutdown_only(host):
    accepted = host.PyWATSService(["pyWATS_Service"]).GetAcceptedControls()
    assert accepted == SVC["SERVICE_ACCEPT_STOP"] | SVC["SERVICE_ACCEPT_SHUTDOWN"] | SVC["SERVICE_ACCEPT_PRESHUTDOWN"]


def test_events_go_to_the_pywats_source(host):
    host.PyWATSService(["pyWATS_Service_line4"])
    assert host.fakes.source[-1] == "pyWATS"


@pytest.mark.parametrize("control, reason", [("SERVICE_CONTROL_STOP", "stop"), ("SERVICE_CONTROL_SHUTDOWN", "shutdown")])
def test_stop_from_the_control_thread_stops_the_client_on_its_loop(host, control, reason):
    client = FakeClient()
    service, thread, outcome = start(host, client)
    assert client.running.wait(5)
    # The service manager's control handler runs on a thread of its own.
    handler = threading.Thread(target=service.ServiceCtrlHandlerEx, args=(SVC[control], 0, None), name="scm-control")
    handler.start()
    handler.join(5)
    thread.join(10)
    assert not thread.is_alive()
    assert outcome["raised"] is None and service.exit_code == 0
    assert client.run_thread == "service-main"
    assert client.shutdown_threads == ["service-main"]
    assert (SVC["SERVICE_STOP_PENDING"], 30000, "scm-control") in host.fakes.status
    assert event_ids(host) == [host.EVENT_STARTED, host.EVENT_STOPPED]
    assert host.fakes.events[-1][2] == "pyWATS_Service stopped (%s)" % reason


def test_preshutdown_reports_its_timeout_and_stops_cleanly(host):
    host.fakes.options[("pyWATS_Service", "PreshutdownTimeoutMs")] = 90000
    client = FakeClient()
    service, thread, outcome = start(host, client)
    assert client.running.wait(5)
    service.ServiceCtrlHandlerEx(SVC["SERVICE_CONTROL_PRESHUTDOWN"], 0, None)
    thread.join(10)
    assert outcome["raised"] is None and service.exit_code == 0
    assert (SVC["SERVICE_STOP_PENDING"], 90000, "MainThread") in host.fakes.status
    assert host.fakes.events[-1][2] == "pyWATS_Service stopped (pre-shutdown)"


def test_other_controls_are_left_to_the_framework(host):
    service = host.PyWATSService(["pyWATS_Service"])
    service.ServiceCtrlHandlerEx(SVC["SERVICE_CONTROL_INTERROGATE"], 0, None)
    assert host.fakes.status == [("other", SVC["SERVICE_CONTROL_INTERROGATE"], "MainThread")]
    assert service._stop_reason is None


def test_stop_before_the_loop_exists_is_not_lost(host):
    client = FakeClient()
    host.PyWATSService.client_factory = staticmethod(lambda instance_id: client)
    service = host.PyWATSService(["pyWATS_Service"])
    service.SvcStop()
    service.SvcRun()
    assert service.exit_code == 0
    assert client.shutdown_threads == ["MainThread"]


def test_a_crash_stops_with_an_error_and_logs_the_traceback(host):
    service, thread, outcome = start(host, FakeClient("crash"))
    thread.join(10)
    assert isinstance(outcome["raised"], host.ServiceCrashed)
    assert service.exit_code == 1
    kind, event_id, text = host.fakes.events[-1]
    assert (kind, event_id) == (1, host.EVENT_CRASHED)
    assert "RuntimeError: converter pool exploded" in text and "Traceback" in text


def test_a_client_that_returns_unasked_is_a_crash(host):
    service, thread, outcome = start(host, FakeClient("return"))
    thread.join(10)
    assert isinstance(outcome["raised"], host.ServiceCrashed)
    assert "returned without being asked to stop" in host.fakes.events[-1][2]


def test_a_client_that_cannot_be_built_is_a_crash(host):
    def broken(instance_id):
        raise ImportError("No module named 'PySide6'")
    host.PyWATSService.client_factory = staticmethod(broken)
    service = host.PyWATSService(["pyWATS_Service"])
    with pytest.raises(host.ServiceCrashed):
        service.SvcRun()
    assert event_ids(host) == [host.EVENT_CRASHED]


def test_a_client_that_hangs_on_stop_is_cancelled_after_the_stop_timeout(host):
    host.fakes.options[("pyWATS_Service", "StopTimeoutSec")] = 1
    client = FakeClient("hang")
    service, thread, outcome = start(host, client)
    assert client.running.wait(5)
    service.SvcStop()
    thread.join(10)
    assert not thread.is_alive()
    assert outcome["raised"] is None and service.exit_code == 0
    assert event_ids(host) == [host.EVENT_STARTED, host.EVENT_SLOW_STOP, host.EVENT_STOPPED]


def test_options_from_the_parameters_key(host, tmp_path):
    seen = {}
    name = "pyWATS_Service_line4"
    host.fakes.options.update({
        (name, "InstanceId"): "line4",
        (name, "AppDirectory"): str(tmp_path),
        (name, "Environment"): ["PYWATS_HEALTH_PORT=8089", "HTTPS_PROXY=http://u:p=w@proxy:3128"],
    })

    def factory(instance_id):
        seen.update(instance=instance_id, port=os.environ.get("PYWATS_HEALTH_PORT"),
                    proxy=os.environ.get("HTTPS_PROXY"), cwd=os.getcwd())
        return FakeClient("crash")
    host.PyWATSService.client_factory = staticmethod(factory)
    with pytest.raises(host.ServiceCrashed):
        host.PyWATSService([name]).SvcRun()
    assert seen == {"instance": "line4", "port": "8089", "proxy": "http://u:p=w@proxy:3128", "cwd": str(tmp_path)}


def test_the_log_keeps_the_last_crash_across_a_restart(host, tmp_path):
    log_file = tmp_path / "service.log"
    host.fakes.options[("pyWATS_Service", "LogFile")] = str(log_file)
    with pytest.raises(host.ServiceCrashed):
        start_and_wait(host, FakeClient("crash"))
    client = FakeClient()
    service, thread, outcome = start(host, client)
    assert client.running.wait(5)
    print("printed by the client")
    service.SvcStop()
    thread.join(10)
    text = log_file.read_text(encoding="utf-8")
    assert "RuntimeError: converter pool exploded" in text
    assert "printed by the client" in text


def start_and_wait(host, client):
    service, thread, outcome = start(host, client)
    thread.join(10)
    if outcome["raised"]:
        raise outcome["raised"]
    return service


def test_startup_environment_the_scm_did_not_set_is_applied_and_reported(host, tmp_path):
    seen = {}
    host.fakes.startup_env["pyWATS_Service"] = ["PYTHONUTF8=1", "PYTHONDONTWRITEBYTECODE=1"]
    os.environ["PYTHONUTF8"] = "1"  # as the Windows SCM sets it from the service key
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    def factory(instance_id):
        seen.update(dont_write=os.environ.get("PYTHONDONTWRITEBYTECODE"))
        return FakeClient("crash")
    host.PyWATSService.client_factory = staticmethod(factory)
    with pytest.raises(host.ServiceCrashed):
        host.PyWATSService(["pyWATS_Service"]).SvcRun()
    assert seen == {"dont_write": "1"}
    warnings = [text for kind, event_id, text in host.fakes.events if event_id == host.EVENT_STARTUP_ENVIRONMENT]
    assert len(warnings) == 1
    assert "did not set PYTHONDONTWRITEBYTECODE before Python started" in warnings[0]


def test_startup_environment_set_by_the_scm_is_not_reported(host):
    host.fakes.startup_env["pyWATS_Service"] = ["PYTHONUTF8=1"]
    os.environ["PYTHONUTF8"] = "1"
    host.PyWATSService.client_factory = staticmethod(lambda instance_id: FakeClient("crash"))
    with pytest.raises(host.ServiceCrashed):
        host.PyWATSService(["pyWATS_Service"]).SvcRun()
    assert host.EVENT_STARTUP_ENVIRONMENT not in event_ids(host)
