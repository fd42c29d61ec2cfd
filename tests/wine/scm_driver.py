# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs under Wine with the station venv's python.exe and pywin32: registers the
service the way the role does on Windows (win_service calls CreateService /
ChangeServiceConfig, win_regedit writes the values) and drives it through the
service control manager. Prints one JSON document per call.

    scm_driver.py apply SPEC.json      register or update the service from the role's rendering
    scm_driver.py start NAME           StartService, then wait while START_PENDING
    scm_driver.py status NAME
    scm_driver.py stop NAME SECONDS    SERVICE_CONTROL_STOP, wait up to SECONDS for STOPPED
    scm_driver.py control NAME CODE    any control code (15: SERVICE_CONTROL_PRESHUTDOWN)
    scm_driver.py delete NAME
    scm_driver.py events SOURCE        what the Application event log holds from SOURCE
"""
import json
import sys
import time
import winreg

import pywintypes
import win32evtlog
import win32service as ws

TYPES = {"string": winreg.REG_SZ, "expandstring": winreg.REG_EXPAND_SZ, "dword": winreg.REG_DWORD,
         "multistring": winreg.REG_MULTI_SZ}


def status(handle):
    st = ws.QueryServiceStatus(handle)
    return {"state": st[1], "win32_exit_code": st[4], "service_exit_code": st[5]}


def open_service(name, access=ws.SERVICE_ALL_ACCESS):
    scm = ws.OpenSCManager(None, None, ws.SC_MANAGER_ALL_ACCESS)
    return ws.OpenService(scm, name, access)


def apply(spec):
    scm = ws.OpenSCManager(None, None, ws.SC_MANAGER_ALL_ACCESS)
    try:
        handle = ws.OpenService(scm, spec["name"], ws.SERVICE_ALL_ACCESS)
        ws.ChangeServiceConfig(handle, ws.SERVICE_WIN32_OWN_PROCESS, ws.SERVICE_DEMAND_START, ws.SERVICE_ERROR_NORMAL,
                               spec["binary"], None, 0, None, None, None, spec["display_name"])
    except pywintypes.error:
        handle = ws.CreateService(scm, spec["name"], spec["display_name"], ws.SERVICE_ALL_ACCESS,
                                  ws.SERVICE_WIN32_OWN_PROCESS, ws.SERVICE_DEMAND_START, ws.SERVICE_ERROR_NORMAL,
                                  spec["binary"], None, 0, None, None, None)
    key = "SYSTEM\\CurrentControlSet\\Services\\" + spec["name"]
    with winreg.CreateKey(winreg.HKEY_LOCAL_MACHINE, key + "\\PythonClass") as k:
        winreg.SetValueEx(k, "", 0, winreg.REG_SZ, spec["python_class"])
    with winreg.CreateKey(winreg.HKEY_LOCAL_MACHINE, key + "\\Parameters") as k:
        for p in spec["parameters"]:
            winreg.SetValueEx(k, p["name"], 0, TYPES[p["type"]], p["data"])
        winreg.SetValueEx(k, spec["env_value"], 0, winreg.REG_MULTI_SZ, spec["runtime_env"])
    with winreg.CreateKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
        if spec["startup_env"]:
            winreg.SetValueEx(k, "Environment", 0, winreg.REG_MULTI_SZ, spec["startup_env"])
    return {"config": list(ws.QueryServiceConfig(handle))}


def wait(handle, while_state, seconds):
    begin = time.monotonic()
    st = status(handle)
    while st["state"] in while_state and time.monotonic() - begin < seconds:
        time.sleep(0.2)
        st = status(handle)
    st["seconds"] = round(time.monotonic() - begin, 2)
    return st


def main(argv):
    cmd = argv[1]
    if cmd == "apply":
        with open(argv[2], encoding="utf-8") as fh:
            return apply(json.load(fh))
    if cmd == "events":
        log = win32evtlog.OpenEventLog(None, "Application")
        flags = win32evtlog.EVENTLOG_BACKWARDS_READ | win32evtlog.EVENTLOG_SEQUENTIAL_READ
        found = []
        try:
            while True:
                batch = win32evtlog.ReadEventLog(log, flags, 0)
                if not batch:
                    break
                found += [{"id": e.EventID & 0xFFFF, "type": e.EventType, "inserts": list(e.StringInserts or [])}
                          for e in batch if e.SourceName == argv[2]]
        except pywintypes.error as exc:
            return {"error": exc.strerror, "events": found}
        return {"events": found}
    handle = open_service(argv[2])
    if cmd == "status":
        return status(handle)
    if cmd == "start":
        try:
            ws.StartService(handle, None)
        except pywintypes.error as exc:
            return dict(status(handle), error=[exc.winerror, exc.strerror])
        return wait(handle, (ws.SERVICE_START_PENDING,), 60)
    if cmd == "stop":
        try:
            ws.ControlService(handle, ws.SERVICE_CONTROL_STOP)
        except pywintypes.error as exc:
            return dict(status(handle), error=[exc.winerror, exc.strerror])
        return wait(handle, (ws.SERVICE_RUNNING, ws.SERVICE_STOP_PENDING), float(argv[3]))
    if cmd == "control":
        try:
            ws.ControlService(handle, int(argv[3]))
        except pywintypes.error as exc:
            return dict(status(handle), error=[exc.winerror, exc.strerror])
        return wait(handle, (ws.SERVICE_RUNNING, ws.SERVICE_STOP_PENDING), 90)
    if cmd == "delete":
        ws.DeleteService(handle)
        return {"deleted": argv[2]}
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv)))
