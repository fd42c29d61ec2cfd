#!/usr/bin/env python
"""Print the local fleet's health and the reports the WATS stand-in received,
or drop a sample report into a station's watch folder.

  fleet-report.py --standin URL --inventory FILE [--wait-reports N | --wait-serials SN,SN,...]
  fleet-report.py --drop-report STATION [--watch-folder PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, REPO)
from tests.standin import client as standin  # noqa: E402

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def health(port):
    try:
        with OPENER.open("http://127.0.0.1:%d/health" % port, timeout=3) as resp:
            return str(resp.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except OSError as exc:
        return "down (%s)" % exc.__class__.__name__


def service_state(station):
    res = subprocess.run(["docker", "exec", station, "systemctl", "is-active", "pywats-client"],
                         capture_output=True, text=True, check=False)
    return res.stdout.strip() or res.stderr.strip()


def drop_report(station, folder):
    with open(os.path.join(REPO, "tests", "data", "report-wsjf.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report.update({"id": str(uuid.uuid4()), "sn": "SN-%s-%s" % (station, uuid.uuid4().hex[:6]),
                   "machineName": station, "start": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())})
    name = report["sn"] + ".json"
    # Write, then rename, so the client never reads a half-written file.
    script = 'cat > "$1/.$2.part" && chown pywats: "$1/.$2.part" && mv "$1/.$2.part" "$1/$2"'
    subprocess.run(["docker", "exec", "-i", station, "sh", "-c", script, "sh", folder, name],
                   input=json.dumps(report), text=True, check=True)
    print(report["sn"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--standin")
    ap.add_argument("--inventory")
    ap.add_argument("--wait-reports", type=int, default=0)
    ap.add_argument("--wait-serials", default="",
                    help="comma-separated serial numbers of the reports dropped in this run: wait for "
                         "exactly these, list only these, fail naming any that did not arrive")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--drop-report")
    ap.add_argument("--watch-folder", default="/srv/pywats/inbox/wsjf")
    args = ap.parse_args()

    if args.drop_report:
        drop_report(args.drop_report, args.watch_folder)
        return 0

    with open(args.inventory, encoding="utf-8") as fh:
        hosts = yaml.safe_load(fh)["pywats_stations"]["hosts"]

    serials = [sn for sn in args.wait_serials.split(",") if sn]

    def received():
        reports = standin.reports(args.standin)
        return [r for r in reports if r.get("serialNumber") in serials] if serials else reports

    def missing(got):
        seen = {r.get("serialNumber") for r in got}
        return [sn for sn in serials if sn not in seen]

    got = received()
    deadline = time.monotonic() + args.timeout
    while (missing(got) if serials else len(got) < args.wait_reports) and time.monotonic() < deadline:
        time.sleep(1)
        got = received()

    print("\n%-20s %-10s %-12s %s" % ("station", "service", "GET /health", "health port"))
    for name, hv in hosts.items():
        port = int(hv["pywats_client_health_port"])
        print("%-20s %-10s %-12s %d" % (name, service_state(name), health(port), port))

    if serials:
        print("\nReports of this run received by the WATS stand-in at %s: %d of %d"
              % (args.standin, len(got), len(serials)))
    else:
        print("\nReports received by the WATS stand-in at %s: %d" % (args.standin, len(got)))
    print("%-22s %-34s %-14s %s" % ("received", "serial number", "part number", "server id"))
    for r in got:
        print("%-22s %-34s %-14s %s" % (r.get("received", "")[:19], r.get("serialNumber"),
                                        r.get("partNumber"), r.get("id")))
    if serials and missing(got):
        print("\nnot received within %d s: %s" % (args.timeout, ", ".join(missing(got))), file=sys.stderr)
        return 1
    if len(got) < args.wait_reports:
        print("\nexpected %d reports, got %d" % (args.wait_reports, len(got)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
