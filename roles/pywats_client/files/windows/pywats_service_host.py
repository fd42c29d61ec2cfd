# Copyright (c) virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows service host for the pyWATS client, run by pywin32's pythonservice.exe.

The service control manager starts pythonservice.exe, which imports this module
(registry value PythonClass) and calls PyWATSService.SvcRun on the service's
main thread; stop, shutdown and pre-shutdown arrive on the control handler's
thread. The client's asyncio service runs in-process on the main thread, and
a stop reaches its loop only through call_soon_threadsafe: upstream's own
Windows service calls signal.signal from a worker thread, which raises.

Options come from HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>\\Parameters,
written by the role: InstanceId, AppDirectory, Environment (K=V lines read at
run time by the client: health port, home, proxy, CA; not on a command line,
a proxy URL may carry a password), LogFile, LogRotateBytes, LogBackups,
StopTimeoutSec, PreshutdownTimeoutMs.

The interpreter's own settings (PYTHONUTF8, PYTHONUNBUFFERED, ...) act only
when they are in the environment before Python starts: the role writes them to
the service key's own Environment value, which the Windows service control
manager hands to the process it creates. The host checks that they arrived,
and applies and reports those that did not (Wine's service manager ignores
that value).

pythonservice.exe must sit in the venv's Scripts directory, beside the venv's
python.exe: site.py takes the parent of the executable's directory as the venv
(sys.prefix) when pyvenv.cfg is there, so a copy in the venv root makes the
venv's parent the prefix and the venv's site-packages, pywin32 included, never
reach sys.path (docs/windows.md).

Run as a script with the venv's python.exe:
  pywats_service_host.py runtime    the files that go beside pythonservice.exe, as JSON
(win_service sets the pre-shutdown timeout: pre_shutdown_timeout_ms).
"""
import asyncio
import json
import logging
import logging.handlers
import os
import sys
import threading
import traceback

import servicemanager
import win32service
import win32serviceutil

EVENT_SOURCE = "pyWATS"
EVENT_STARTED, EVENT_STOPPED, EVENT_CRASHED, EVENT_SLOW_STOP = 1100, 1101, 1102, 1103
EVENT_STARTUP_ENVIRONMENT = 1104
SERVICES_KEY = "SYSTEM\\CurrentControlSet\\Services\\"
log = logging.getLogger("pywats_service_host")


class ServiceCrashed(Exception):
    """Raised from SvcRun so that pythonservice.exe reports SERVICE_STOPPED with an error."""


def _read_startup_environment(service_name):
    """The service key's Environment value (REG_MULTI_SZ of K=V), [] when there is none."""
    import winreg
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, SERVICES_KEY + service_name) as key:
            value, _kind = winreg.QueryValueEx(key, "Environment")
    except OSError:
        return []
    return list(value or [])


def host_runtime_files():
    """pythonservice.exe and the DLLs it loads before Python runs, for the venv's Scripts directory.

    Asked of the venv's interpreter: where pip put pywin32's pythonservice.exe and
    pywintypes, and which python3XX.dll and runtime DLLs the base install has.
    """
    import pywintypes
    version = "%d%d" % sys.version_info[:2]
    base = [os.path.join(sys.base_prefix, name)
            for name in ("python%s.dll" % version, "python3.dll", "vcruntime140.dll", "vcruntime140_1.dll")]
    return ([os.path.join(os.path.dirname(win32service.__file__), "pythonservice.exe"), pywintypes.__file__]
            + [path for path in base if os.path.isfile(path)])


def _client_factory(instance_id):
    from pywats_client.service.async_client_service import AsyncClientService
    return AsyncClientService(instance_id)


class _LogWriter:
    """stdout/stderr of a service go nowhere; send what the client prints to the log."""

    def __init__(self, level):
        self._level, self._buf = level, ""

    def write(self, text):
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            log.log(self._level, "%s", line.rstrip("\r"))

    def flush(self):
        pass


class PyWATSService(win32serviceutil.ServiceFramework):
    _svc_name_ = "pyWATS_Service"
    _svc_display_name_ = "pyWATS Client Service"
    client_factory = staticmethod(_client_factory)
    startup_environment = staticmethod(_read_startup_environment)

    def __init__(self, args):
        win32serviceutil.ServiceFramework.__init__(self, args)
        self._svc_name_ = args[0] if args else self._svc_name_
        servicemanager.SetEventSourceName(EVENT_SOURCE)
        self._lock = threading.Lock()
        self._loop = self._stop_event = None
        self._stop_reason = None
        self.exit_code = None

    def option(self, name, default):
        value = win32serviceutil.GetServiceCustomOption(self._svc_name_, name, None)
        return default if value in (None, "") else value

    def GetAcceptedControls(self):
        accepted = win32serviceutil.ServiceFramework.GetAcceptedControls(self)
        return accepted | win32service.SERVICE_ACCEPT_PRESHUTDOWN

    # Control handler thread: record the request, wake the loop, return at once.
    def SvcStop(self):
        self._request_stop("stop", int(self.option("StopTimeoutSec", 30)) * 1000)

    def SvcShutdown(self):
        self._request_stop("shutdown", int(self.option("StopTimeoutSec", 30)) * 1000)

    def SvcOtherEx(self, control, event_type, data):
        if control == win32service.SERVICE_CONTROL_PRESHUTDOWN:
            self._request_stop("pre-shutdown", int(self.option("PreshutdownTimeoutMs", 60000)))
        else:
            win32serviceutil.ServiceFramework.SvcOtherEx(self, control, event_type, data)

    def _request_stop(self, reason, wait_hint_ms):
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=wait_hint_ms)
        log.info("%s stopping (%s)", self._svc_name_, reason)
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._stop_event.set)

    # Main thread.
    def SvcRun(self):
        self.ReportServiceStatus(win32service.SERVICE_RUNNING)
        self.exit_code = self.SvcDoRun()
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
        if self.exit_code:
            # Recovery actions fire only on a stop with an error code.
            raise ServiceCrashed("the pyWATS client ended with exit code %d" % self.exit_code)

    def SvcDoRun(self):
        try:
            self._setup()
            client = self.client_factory(str(self.option("InstanceId", "default")))
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._lock:
                self._loop, self._stop_event = loop, asyncio.Event()
                if self._stop_reason is not None:
                    self._stop_event.set()
            servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, EVENT_STARTED,
                                  ("%s started (pid %d)" % (self._svc_name_, os.getpid()), ""))
            try:
                loop.run_until_complete(self._supervise(client))
            finally:
                with self._lock:
                    self._loop = None
                loop.close()
        except Exception:  # noqa: BLE001 - a service must report, not vanish
            text = traceback.format_exc()
            log.error("The pyWATS client crashed:\n%s", text)
            servicemanager.LogMsg(servicemanager.EVENTLOG_ERROR_TYPE, EVENT_CRASHED,
                                  ("%s crashed:\n%s" % (self._svc_name_, text), ""))
            return 1
        servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, EVENT_STOPPED,
                              ("%s stopped (%s)" % (self._svc_name_, self._stop_reason), ""))
        return 0

    async def _supervise(self, client):
        run = asyncio.ensure_future(client.run())
        stop = asyncio.ensure_future(self._stop_event.wait())
        await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not stop.done():
            # Upstream's run() returns after a failed start instead of raising.
            stop.cancel()
            run.result()
            raise RuntimeError("the client's service returned without being asked to stop")
        client.request_shutdown()
        timeout = int(self.option("StopTimeoutSec", 30))
        try:
            await asyncio.wait_for(asyncio.shield(run), timeout)
        except asyncio.TimeoutError:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            servicemanager.LogMsg(servicemanager.EVENTLOG_WARNING_TYPE, EVENT_SLOW_STOP,
                                  ("%s did not stop within %d s; cancelled" % (self._svc_name_, timeout), ""))

    def _setup(self):
        late = []
        for line in self.startup_environment(self._svc_name_):
            key, sep, value = line.partition("=")
            if sep and os.environ.get(key) != value:
                late.append(key)
                os.environ[key] = value
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            sys.dont_write_bytecode = True
        for line in self.option("Environment", []):
            key, sep, value = line.partition("=")
            if sep:
                os.environ[key] = value
        os.chdir(self.option("AppDirectory", os.getcwd()))
        log_file = self.option("LogFile", "")
        if log_file:
            # The role creates it; one deleted by hand must not stop the service for good.
            os.makedirs(os.path.dirname(log_file), exist_ok=True)
            # Appends, never truncates: a crash's traceback survives the restart.
            handler = logging.handlers.RotatingFileHandler(
                log_file, maxBytes=int(self.option("LogRotateBytes", 10485760)),
                backupCount=int(self.option("LogBackups", 5)), encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logging.getLogger().addHandler(handler)
            logging.getLogger().setLevel(logging.INFO)
            sys.stdout, sys.stderr = _LogWriter(logging.INFO), _LogWriter(logging.ERROR)
        if late:
            text = ("%s: the service control manager did not set %s before Python started; "
                    "set now, they reach the client but not the interpreter's start-up"
                    % (self._svc_name_, ", ".join(sorted(late))))
            log.warning("%s", text)
            servicemanager.LogMsg(servicemanager.EVENTLOG_WARNING_TYPE, EVENT_STARTUP_ENVIRONMENT, (text, ""))


if __name__ == "__main__":
    if sys.argv[1:] == ["runtime"]:
        print(json.dumps(host_runtime_files()))
    else:
        sys.exit("usage: pywats_service_host.py runtime")
