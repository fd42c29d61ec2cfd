#!/usr/bin/env python
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark the role on the local container fleet. Run it through benchmarks/run.sh.

Measures, in one run and on this machine:
  * the raw upstream install of one station (benchmarks/baseline.sh) as the baseline;
  * the role's first converge of 1 station and of N stations at once (index installs,
    cold pip cache), then a no-op re-run of each fleet (changed=0 is asserted);
  * bytes and requests each station fetched from the package index (pip --log),
    for index installs and for wheelhouse installs (plus the controller's one
    download that builds the wheelhouse);
  * module runs and round trips per station of each play, from its connection log
    (-vvv lines in <tag>.conn.log), and CPU seconds per station (controller + rest);
  * per station after the settle time: RSS of the client, venv size, processes
    in the unit's cgroup.
Every server address is 127.0.0.1 (the WATS stand-in); the stations reach only
the package index. Standard library and the repo venv's PyYAML only.
"""
import argparse
import ast
import concurrent.futures
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RESULTS = os.path.join(REPO, "benchmarks", "results")
IMAGE = os.environ.get("PYWATS_BENCH_IMAGE", "pywats-test/debian:12")
PREFIX = "pywats-bench-"
LABEL = "pywats-bench-pid"
SERVICE = "pywats-client"
VENV = "/opt/pywats/venv"
STATION_PIP_LOG = "/var/log/pywats-bench-pip.log"
CLIENT_VERSION = "0.6.0rc1"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
MIB = 1024.0 * 1024.0

# urllib3's debug line in pip's --log: host, method, path, status, Content-Length.
HTTP_LINE = re.compile(r'(https?://[^\s"]+) "(GET|HEAD|POST) (\S+) HTTP/[\d.]+" (\d{3}) (\d+|None)')
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.M)
PROFILE_LINE = re.compile(r"^(.+?) -+ (\d+\.\d+)s\s*$")


class BenchError(RuntimeError):
    """The benchmark itself broke: a station not healthy, a re-run that changed something."""


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def run(cmd, check=True, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    res = subprocess.run(cmd, check=False, **kw)
    if check and res.returncode != 0:
        detail = (res.stderr or res.stdout or "")[-2000:]
        raise BenchError("%s failed (rc=%d): %s" % (" ".join(cmd[:4]), res.returncode, detail))
    return res


def run_group(cmd, **kw):
    """Run cmd in a process group of its own; on an interruption end the whole group, so no
    ansible-playbook fork is left behind."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)  # pylint: disable=consider-using-with
    try:
        return proc.wait()
    except BaseException:
        # SIGTERM lets ansible-playbook stop its forks; SIGKILL then ends whatever is left.
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        raise


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_ports(start, count, avoid=(), last=None):
    """count consecutive free TCP ports from start on (host networking: shared by all stations);
    with last, any count free ports in start..last."""
    if last is not None:
        found = [p for p in range(start, last + 1) if p not in avoid and port_free(p)][:count]
        if len(found) < count:
            raise BenchError("only %d of %d ports free in %d-%d (--ports)" % (len(found), count, start, last))
        return found
    port = start
    while port < 65000:
        block = list(range(port, port + count))
        if not set(block) & set(avoid) and all(port_free(p) for p in block):
            return block
        port += count
    raise BenchError("no %d free consecutive ports from %d" % (count, start))


def health(port, timeout=3):
    try:
        with OPENER.open("http://127.0.0.1:%d/health" % port, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


# --- containers ----------------------------------------------------------------

def docker_names(owner_label=None):
    flt = ["--filter", "name=^/" + PREFIX]
    if owner_label:
        flt += ["--filter", "label=%s=%s" % (LABEL, owner_label)]
    res = run(["docker", "ps", "-a", "--format", '{{.Names}} {{.Label "%s"}}' % LABEL] + flt, check=False)
    out = []
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts:
            out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def clear_stale(owner):
    """Remove containers of earlier benchmark runs that died without cleaning up; live runs keep theirs.
    A container without the run label was not made by a benchmark run and is left alone, whatever its name."""
    for name, pid in docker_names():
        if not pid.isdigit():
            continue
        alive = pid != owner and os.path.exists("/proc/%s" % pid)
        if not alive:
            run(["docker", "rm", "-f", name], check=False)


def remove(names):
    if names:
        run(["docker", "rm", "-f"] + list(names), check=False)


def start_station(name, owner):
    # The flags that let systemd run as PID 1 here (see /work/shared/TESTGROUND.md);
    # no pip cache is mounted: each station starts with an empty /root/.cache/pip.
    run(["docker", "run", "-d", "--name", name, "--hostname", name, "--label", "%s=%s" % (LABEL, owner),
         "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--network", "host",
         "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run",
         "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--stop-signal", "SIGRTMIN+3", IMAGE, "/lib/systemd/systemd"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = run(["docker", "exec", name, "systemctl", "is-system-running", "--wait"], check=False)
        if res.stdout.strip() in ("running", "degraded"):
            return name
        time.sleep(0.5)
    raise BenchError("systemd in %s did not come up" % name)


def start_stations(names, owner):
    workers = min(8, len(names))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda n: start_station(n, owner), names))


def dexec(name, script, check=True):
    return run(["docker", "exec", name, "sh", "-c", script], check=check)


# --- measurements --------------------------------------------------------------

def parse_pip_log(text):
    """Requests and body bytes pip fetched over HTTP, from urllib3's lines in pip --log."""
    reqs, total, unknown, hosts = 0, 0, 0, {}
    for m in HTTP_LINE.finditer(text):
        reqs += 1
        host = re.sub(r":\d+$", "", m.group(1).split("://", 1)[1])
        hosts[host] = hosts.get(host, 0) + 1
        if m.group(5) == "None":
            unknown += 1
        else:
            total += int(m.group(5))
    return {"requests": reqs, "bytes": total, "responses_without_length": unknown, "by_host": hosts}


def station_fetch(name):
    res = dexec(name, "cat %s 2>/dev/null || true" % STATION_PIP_LOG)
    out = parse_pip_log(res.stdout)
    # A wheelhouse install shows 0 requests; the log proves that pip ran and fetched nothing.
    out["pip_ran"] = "Successfully installed" in res.stdout or "Requirement already satisfied" in res.stdout
    return out


METRICS_SH = r"""
svc=%(svc)s
pid=$(systemctl show -p MainPID --value "$svc")
cg=$(systemctl show -p ControlGroup --value "$svc")
echo "pid=$pid"
echo "active=$(systemctl is-active "$svc")"
echo "rss_kb=$(awk '/^VmRSS:/{print $2}' /proc/$pid/status 2>/dev/null)"
echo "age_s=$(( $(cut -d' ' -f1 /proc/uptime | cut -d. -f1) - $(awk '{print int($22/'"$(getconf CLK_TCK)"')}' /proc/$pid/stat 2>/dev/null || echo 0) ))"
echo "venv_bytes=$(du -sb %(venv)s 2>/dev/null | cut -f1)"
for f in /sys/fs/cgroup/systemd$cg/cgroup.procs /sys/fs/cgroup/unified$cg/cgroup.procs /sys/fs/cgroup$cg/cgroup.procs; do
  if [ -r "$f" ]; then echo "cgroup_procs=$(wc -l < "$f")"; break; fi
done
echo "tasks=$(systemctl show -p TasksCurrent --value "$svc")"
"""


def station_metrics(name, port, service=SERVICE, venv=VENV):
    res = dexec(name, METRICS_SH % {"svc": service, "venv": venv}, check=False)
    vals = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)

    def num(key):
        v = vals.get(key, "").strip()
        return int(v) if v.isdigit() else None

    return {"station": name, "health_port": port, "health": health(port), "active": vals.get("active"),
            "main_pid": num("pid"), "running_s": num("age_s"), "rss_kib": num("rss_kb"),
            "venv_bytes": num("venv_bytes"), "cgroup_procs": num("cgroup_procs"), "tasks": num("tasks")}


def cpu_times():
    with open("/proc/stat", encoding="ascii") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    return vals[3] + vals[4], sum(vals)


def ancestors(pid):
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            with open("/proc/%d/stat" % pid, encoding="utf-8", errors="replace") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return seen


FOREIGN = re.compile(r"ansible-playbook|molecule|pytest|pip (install|download)|apt-get|dpkg|debootstrap|docker build")


def own_container_ids(owner):
    res = run(["docker", "ps", "-q", "--no-trunc", "--filter", "label=%s=%s" % (LABEL, owner)], check=False)
    return [line.strip() for line in res.stdout.splitlines() if line.strip()]


def foreign_snapshot(owner, containers=()):
    """{pid: (job, CPU ticks)} of heavy jobs on this machine that are not ours: neither started
    by this run nor running inside one of its containers (apt, pip in our stations)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
            m = FOREIGN.search(cmd)
            if not m or "docker exec" in cmd or int(owner) in ancestors(int(entry)):
                continue
            if containers:
                with open("/proc/%s/cgroup" % entry, encoding="utf-8", errors="replace") as fh:
                    cgroup = fh.read()
                if any(cid in cgroup for cid in containers):
                    continue
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            found[int(entry)] = (m.group(0), int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            continue
    return found


def foreign_active(before, after):
    """Jobs that used CPU between two snapshots (an idle leftover process does not count)."""
    return sorted({job for pid, (job, ticks) in after.items()
                   if pid not in before or ticks > before[pid][1]})


class Phase:
    """Wall time plus what else the machine was doing meanwhile."""

    def __init__(self, owner):
        self.owner = owner

    def _sample(self):
        before = self.snap0
        while not self.stop.wait(5):
            after = foreign_snapshot(self.owner, self.containers)
            self.foreign.update(foreign_active(before, after))
            before = after

    def __enter__(self):
        self.foreign = set()
        self.containers = own_container_ids(self.owner)
        self.snap0 = foreign_snapshot(self.owner, self.containers)
        self.stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        self.load0 = os.getloadavg()[0]
        self.cpu0 = cpu_times()
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        self.stop.set()
        self.sampler.join()
        idle, total = cpu_times()
        busy = 1.0 - (idle - self.cpu0[0]) / float(max(1, total - self.cpu0[1]))
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of what we started and waited for: ansible-playbook, its forks and the
        # docker CLI processes they run. The rest of the host's busy time is dockerd, the
        # containers (apt, pip, modules, the client) and anything else on the machine.
        ours = (ru.ru_utime + ru.ru_stime) - (self.children0.ru_utime + self.children0.ru_stime)
        host = busy * self.wall * (os.cpu_count() or 1)
        self.info = {"loadavg_1m_start": round(self.load0, 2), "loadavg_1m_end": round(os.getloadavg()[0], 2),
                     "host_cpu_busy": round(busy, 2), "host_cpu_s": round(host, 1),
                     "controller_cpu_s": round(ours, 1), "other_cpu_s": round(max(0.0, host - ours), 1),
                     "foreign_jobs": sorted(self.foreign)}
        return False


def parse_recap(text):
    hosts = {}
    for m in RECAP.finditer(text):
        keys = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        hosts[m.group(1)] = dict(zip(keys, (int(g) for g in m.groups()[1:])))
    return hosts


def parse_profile(text, limit=10):
    """Top tasks from ansible.posix.profile_tasks' closing summary."""
    tail = text.rsplit("=" * 20, 1)
    if len(tail) < 2:
        return []
    out = []
    for line in tail[1].splitlines():
        m = PROFILE_LINE.match(line.strip())
        if m:
            out.append({"task": m.group(1).strip(), "seconds": float(m.group(2))})
    return sorted(out, key=lambda t: -t["seconds"])[:limit]


# --- connection log --------------------------------------------------------------
# ansible-playbook runs with ANSIBLE_LOG_PATH and ANSIBLE_LOG_VERBOSITY=3: the -vvv lines of the
# connection plugin go to that file only (ansible-core 2.19 prints nothing more on the terminal).
# The docker connection logs every command it runs in a station as
#   <host> EXEC ['/usr/local/bin/docker', b'exec', b'-i', 'NAME', '/bin/sh', '-c', "/bin/sh -c '... && sleep 0'"]
# the local connection (a task delegated to the controller) as `<host> EXEC /bin/sh -c '...'`, and
# every file sent or fetched as `<host> PUT SRC TO DEST` / `<host> FETCH SRC TO DEST`.

LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ p=\d+ u=\S* n=\S+(?: [A-Z]+)?\s*\|\s?(.*)$")
LOG_TASK = re.compile(r"^(TASK|RUNNING HANDLER) \[(.*)\](?: \**)?\s*$")
LOG_CONN = re.compile(r"^<([^>]+)> (EXEC|PUT|FETCH) (.*)$")
BECOME_ECHO = re.compile(r"^echo BECOME-SUCCESS-\w+ ?; ?")
PYTHON = re.compile(r"^python[0-9.]*$")
MODULE_KINDS = ("module", "module_file", "script_interpreter")
ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
WRAPPERS = ("sh", "bash", "dash", "zsh", "ksh", "su", "sudo", "doas", "ksu", "pbrun", "pfexec", "machinectl")


def _shell_words(cmd):
    try:
        return shlex.split(cmd)
    except ValueError:
        return cmd.split()


def _innermost(cmd):
    """The command a `sh -c '...'` (or `su/sudo ... sh -c '...'`) wrapper runs, without
    Ansible's ` && sleep 0` tail and become's `echo BECOME-SUCCESS-... ;` head."""
    for _depth in range(8):  # sh -c inside su -c inside sh -c: a few levels at most
        cmd = cmd.strip()
        if cmd.endswith("&& sleep 0"):
            cmd = cmd[:-len("&& sleep 0")].strip()
        cmd = BECOME_ECHO.sub("", cmd)
        words = _shell_words(cmd)
        if not words or os.path.basename(words[0]) not in WRAPPERS or "-c" not in words[1:-1]:
            return cmd
        cmd = words[words.index("-c", 1) + 1]
    return cmd


def classify_exec(rest):
    """What one EXEC line ran. rest: the text after `<host> EXEC `. Returns one of
    module (a pipelined module run: the interpreter alone, the module on stdin),
    module_file (a python running a file from an ansible-tmp dir: a module without pipelining,
    or ansible.builtin.script with a python as its executable),
    script_interpreter (ansible.builtin.script with `executable`: an interpreter running the script),
    script (a file from an ansible-tmp dir run directly), home (`echo ~`), tmpdir (mkdir of the
    ansible-tmp dir), chmod, rm, other. The first three are module runs: an interpreter start."""
    rest = rest.strip()
    if rest.startswith("["):
        try:
            argv = ast.literal_eval(rest)
            cmd = argv[-1].decode("utf-8", "replace") if isinstance(argv[-1], bytes) else str(argv[-1])
        except (ValueError, SyntaxError, IndexError, TypeError):
            cmd = rest
    else:
        cmd = rest
    cmd = _innermost(cmd)
    words = _shell_words(cmd)
    # A task's `environment:` comes first as VAR=value words (or through env).
    while words and (ENV_WORD.match(words[0]) or os.path.basename(words[0]) == "env"):
        words = words[1:]
    if not words:
        return "other"
    first = os.path.basename(words[0])
    if PYTHON.match(first):
        if len(words) == 1:
            return "module"
        if "ansible-tmp-" in words[1]:
            return "module_file"
    if len(words) >= 2 and "ansible-tmp-" in words[1] and "ansible-tmp-" not in words[0]:
        return "script_interpreter"
    if "ansible-tmp-" in words[0]:
        return "script"
    if cmd.startswith("echo ~"):
        return "home"
    if cmd.startswith("( umask") and "mkdir" in cmd:
        return "tmpdir"
    if first in ("chmod", "rm"):
        return first
    return "other"


def parse_connection_log(text, hosts=None):
    """Per host, from an ansible log written at ANSIBLE_LOG_VERBOSITY=3: EXEC, PUT and FETCH lines
    (round_trips = all three), module runs (interpreter starts that run a module or a script, see
    classify_exec) and the tasks that made them ({task: count}, from the TASK / RUNNING HANDLER
    lines before them; with the linear strategy each task's lines follow its banner).
    hosts: count only these (a task delegated to the controller logs as <localhost>)."""
    out = {}
    task = None
    for line in text.splitlines():
        m = LOG_PREFIX.match(line)
        if not m:
            continue
        msg = m.group(1)
        t = LOG_TASK.match(msg)
        if t:
            task = ("handler: " if t.group(1) == "RUNNING HANDLER" else "") + t.group(2)
            continue
        c = LOG_CONN.match(msg)
        if not c:
            continue
        host, what, rest = c.groups()
        if hosts is not None and host not in hosts:
            continue
        h = out.setdefault(host, {"exec": 0, "put": 0, "fetch": 0, "round_trips": 0, "module_runs": 0,
                                  "kinds": {}, "module_runs_by_task": {}})
        h[what.lower()] += 1
        h["round_trips"] += 1
        if what == "EXEC":
            kind = classify_exec(rest)
            h["kinds"][kind] = h["kinds"].get(kind, 0) + 1
            if kind in MODULE_KINDS:
                h["module_runs"] += 1
                name = task or "(before the first task)"
                h["module_runs_by_task"][name] = h["module_runs_by_task"].get(name, 0) + 1
    return out


def summarize_stations(metrics):
    def agg(key, scale=1.0):
        vals = [m[key] / scale for m in metrics if m.get(key) is not None]
        if not vals:
            return None
        return {"mean": round(statistics.mean(vals), 1), "min": round(min(vals), 1), "max": round(max(vals), 1)}
    return {"rss_mib": agg("rss_kib", 1024.0), "venv_mib": agg("venv_bytes", MIB),
            "cgroup_procs": agg("cgroup_procs"), "tasks": agg("tasks"),
            "running_s": agg("running_s")}


def _agg(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"mean": round(statistics.mean(vals), 1), "min": min(vals), "max": max(vals)}


def summarize_connection(text, names, logfile):
    """Module runs and round trips per station of one play, from its connection log."""
    parsed = parse_connection_log(text, hosts=set(names))
    missing = [n for n in names if not parsed.get(n, {}).get("exec")]
    per = {key: _agg([parsed[n][key] for n in names if n in parsed])
           for key in ("module_runs", "round_trips", "exec", "put", "fetch")}
    return {"log": os.path.relpath(logfile, REPO), "per_station": per, "by_station": parsed,
            "stations_without_lines": missing}


def cpu_per_station(machine, n):
    """CPU seconds per station of one step: controller (ansible-playbook, forks, docker CLI) and other."""
    if not machine or "controller_cpu_s" not in machine:
        return None
    return {"controller": round(machine["controller_cpu_s"] / n, 1), "other": round(machine["other_cpu_s"] / n, 1)}


def shared_with(*machines):
    """Other heavy jobs that ran during any of these steps."""
    return sorted({job for m in machines if m for job in m.get("foreign_jobs", ())})


def summarize_fetch(fetches):
    n = len(fetches)
    reqs = sum(f["requests"] for f in fetches)
    byts = sum(f["bytes"] for f in fetches)
    return {"per_station": {"requests": round(reqs / n, 1) if n else 0, "bytes": int(byts / n) if n else 0,
                            "min_bytes": min((f["bytes"] for f in fetches), default=0),
                            "max_bytes": max((f["bytes"] for f in fetches), default=0)},
            "fleet": {"requests": reqs, "bytes": byts},
            "responses_without_length": sum(f["responses_without_length"] for f in fetches),
            "stations_where_pip_ran": sum(1 for f in fetches if f.get("pip_ran"))}


# --- the benchmark ------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        # run.sh passes its own pid and temp dir so that its trap can clean up after a crash too.
        self.owner = os.environ.get("PYWATS_BENCH_OWNER") or str(os.getpid())
        self.tmp = os.environ.get("PYWATS_BENCH_TMP") or tempfile.mkdtemp(prefix="pywats-bench.")
        # Names and ports of their own, so that two runs on one machine (parallel CI jobs) do not
        # collide: a block of 52 ports in 20000-29879, below the kernel's ephemeral range.
        self.port_base = 20000 + (int(self.owner) % 190) * 52
        self.port_last = None
        if args.ports:
            self.port_base, self.port_last = args.ports
        self.stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.logdir = os.path.join(RESULTS, self.stamp + ".logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.live = []
        self.standin_port = None
        self.standin_dir = os.path.join(self.tmp, "standin")
        self.token_file = os.path.join(self.tmp, "token")
        self.result = {"meta": {}, "baseline": None, "index": {}, "wheelhouse": {"build": None, "deploys": {}},
                       "status": "running"}
        self.env = dict(os.environ)
        self.env.update({"ANSIBLE_COLLECTIONS_PATH": args.collections_path,
                         "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                         "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "25",
                         "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                         "ANSIBLE_RETRY_FILES_ENABLED": "0",
                         "ANSIBLE_LOCAL_TEMP": os.path.join(self.tmp, "ansible-local")})

    # -- plumbing
    def cleanup(self):
        remove([name for name, _owner in docker_names(self.owner)])
        self.live = []
        if self.standin_port:
            run([os.path.join(REPO, "scripts", "standin.sh"), "stop", str(self.standin_port), self.standin_dir],
                check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_standin(self):
        self.standin_port = free_ports(self.port_base, 1, last=self.port_last)[0]
        with open(os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write("bench-" + os.urandom(8).hex())
        run([os.path.join(REPO, "scripts", "standin.sh"), "start", str(self.standin_port), self.standin_dir,
             self.token_file])
        self.server_url = "http://127.0.0.1:%d" % self.standin_port
        log("WATS stand-in on %s" % self.server_url)

    def inventory(self, tag, names, ports, source):
        """A generated inventory in the temp dir: the local fleet's settings, our stations and ports."""
        inv = os.path.join(self.tmp, "inv-" + tag)
        os.makedirs(os.path.join(inv, "group_vars"), exist_ok=True)
        with open(os.path.join(REPO, "inventories", "local", "group_vars", "pywats_stations.yml"),
                  encoding="utf-8") as fh:
            gv = yaml.safe_load(fh)
        gv.update({
            "pywats_local_standin_port": self.standin_port,
            "pywats_client_server_url": self.server_url,
            "pywats_client_api_token": "{{ lookup('ansible.builtin.file', %r) }}" % self.token_file,
            "pywats_client_purpose": "Benchmark",
            # pip writes its debug log here; only with -q or -v does it include urllib3's line per
            # HTTP request (pip logs vendored libraries at DEBUG unless its own level is INFO).
            "pywats_client_pip_extra_args": "--log %s -q" % STATION_PIP_LOG,
            "pywats_client_install_source": source,
        })
        if source == "wheelhouse":
            gv["pywats_client_wheelhouse_dir"] = self.wheelhouse_dir
        with open(os.path.join(inv, "group_vars", "pywats_stations.yml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(gv, fh, sort_keys=False)
        hosts = {n: {"pywats_client_health_port": p, "pywats_client_location": "Bench"} for n, p in zip(names, ports)}
        with open(os.path.join(inv, "hosts.yml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump({"pywats_stations": {"hosts": hosts}}, fh, sort_keys=False)
        return inv

    def wait_quiet(self):
        """With --wait-quiet, hold a timed step until no foreign heavy job runs (or the limit passes)."""
        if self.args.wait_quiet <= 0:
            return 0.0
        start = time.monotonic()
        deadline = start + self.args.wait_quiet
        told = False
        containers = own_container_ids(self.owner)
        before = foreign_snapshot(self.owner, containers)
        while time.monotonic() < deadline:
            time.sleep(3)
            after = foreign_snapshot(self.owner, containers)
            jobs = foreign_active(before, after)
            before = after
            if not jobs:
                return time.monotonic() - start
            if not told:
                log("waiting up to %d s for other jobs to end: %s" % (self.args.wait_quiet, ", ".join(jobs)))
                told = True
        return time.monotonic() - start

    def playbook(self, tag, cmd, forks=None):
        """Run one play; its output goes to <tag>.log, its -vvv lines (the connection's EXEC, PUT and
        FETCH lines among them) to <tag>.conn.log only: ansible-core >= 2.17 logs at
        ANSIBLE_LOG_VERBOSITY without printing more on the terminal."""
        logfile = os.path.join(self.logdir, tag + ".log")
        self.last_connlog = os.path.join(self.logdir, tag + ".conn.log")
        env = dict(self.env, ANSIBLE_LOG_PATH=self.last_connlog, ANSIBLE_LOG_VERBOSITY="3")
        full = ["ansible-playbook"] + (["-f", str(forks)] if forks else []) + cmd
        waited = self.wait_quiet()
        with Phase(self.owner) as phase, open(logfile, "w", encoding="utf-8") as fh:
            rc = run_group(full, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.last_phase = self.report_shared(tag, phase.info, waited)
        with open(logfile, encoding="utf-8") as fh:
            text = fh.read()
        return rc, phase.wall, text, logfile

    def report_shared(self, step, info, waited):
        info["waited_quiet_s"] = round(waited, 1)
        if info["foreign_jobs"]:
            log("%s shared the machine with other heavy jobs (%s)%s" % (
                step, ", ".join(info["foreign_jobs"]),
                " after waiting %.0f s for quiet" % waited if self.args.wait_quiet > 0 else ""))
        return info

    def connection(self, names):
        """Module runs and round trips per station of the last play, from its connection log."""
        try:
            with open(self.last_connlog, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            text = ""
        summary = summarize_connection(text, names, self.last_connlog)
        if summary["stations_without_lines"]:
            log("no connection lines for %s in %s (ANSIBLE_LOG_VERBOSITY needs ansible-core >= 2.17)"
                % (", ".join(summary["stations_without_lines"]), summary["log"]))
        return summary

    def fail_with_log(self, what, logfile, text):
        print("\n".join(text.splitlines()[-60:]), file=sys.stderr)
        raise BenchError("%s failed; full log: %s" % (what, logfile))

    def meta(self):
        commit = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
        dirty = bool(run(["git", "-C", REPO, "status", "--porcelain"], check=False).stdout.strip())
        ansible_v = run(["ansible", "--version"], check=False, env=self.env).stdout.splitlines()[:1]
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem_kb = int(fh.readline().split()[1])
        self.result["meta"] = {
            "timestamp": self.stamp, "quick": self.args.quick, "stations": self.stations,
            "settle_s": self.args.settle, "cpus": os.cpu_count(), "mem_gib": round(mem_kb / 1048576.0, 1),
            "kernel": platform.release(), "image": IMAGE, "ansible": ansible_v[0] if ansible_v else "",
            "commit": commit + ("+dirty" if dirty else ""), "client_version": CLIENT_VERSION,
            "collections_path": self.args.collections_path,
            "wait_quiet_s": self.args.wait_quiet, "allow_shared": self.args.allow_shared,
            "max_noop_module_runs": self.args.max_noop_module_runs,
            "connection": ("module runs (interpreter starts that run a module or a script) and round trips (every "
                           "EXEC, PUT and FETCH line) per station, from each play's connection log "
                           "(<tag>.conn.log, ANSIBLE_LOG_VERBOSITY=3); the baseline is 1 docker exec"),
            "pip_cache": ("cold: every station is a fresh container with an empty /root/.cache/pip and no "
                          "shared cache mounted; the controller's wheelhouse build uses an empty PIP_CACHE_DIR"),
            "timing": ("wall time of the ansible-playbook process (or of docker exec baseline.sh), from start "
                       "to exit; containers are created and systemd is up before the clock starts"),
            "index_fetch": ("HTTP requests and response bodies (Content-Length, compressed as sent) from "
                            "urllib3's lines in pip --log; plus the role's preflight probe, one GET of the "
                            "index's /simple/pywats-api/ page per station (index installs only)"),
        }

    # -- steps
    def baseline(self):
        name = "%s%s-baseline" % (PREFIX, self.owner)
        port = free_ports(self.port_base + 1, 1, avoid=[self.standin_port], last=self.port_last)[0]
        log("baseline: raw upstream install of 1 station (%s, health port %d)" % (name, port))
        self.live.append(name)
        start_station(name, self.owner)
        run(["docker", "cp", os.path.join(REPO, "benchmarks", "baseline.sh"), name + ":/usr/local/sbin/baseline.sh"])
        run(["docker", "cp", self.token_file, name + ":/root/pywats-token"])
        logfile = os.path.join(self.logdir, "baseline.log")
        waited = self.wait_quiet()
        # sh -x: the trace ("+ cmd" lines in the log) counts the commands the script runs.
        with Phase(self.owner) as phase, open(logfile, "w", encoding="utf-8") as fh:
            rc = run_group(["docker", "exec", name, "sh", "-x", "/usr/local/sbin/baseline.sh", self.server_url,
                            "/root/pywats-token", str(port), STATION_PIP_LOG], stdout=fh, stderr=subprocess.STDOUT)
        wall = phase.wall
        with open(logfile, encoding="utf-8") as fh:
            text = fh.read()
        if rc != 0 or health(port) != 200:
            self.fail_with_log("baseline.sh", logfile, text)
        machine = self.report_shared("baseline", phase.info, waited)
        self.result["baseline"] = {"wall_s": round(wall, 1), "index_fetch": summarize_fetch([station_fetch(name)]),
                                   "station": None, "machine": machine,
                                   "connection": {"round_trips": 1, "docker_exec": 1,
                                                  "shell_commands": len(re.findall(r"^\+ ", text, re.M))},
                                   "cpu_per_station_s": cpu_per_station(machine, 1)}
        log("baseline: healthy after %.1f s; measured after the 1-station series (its idle client costs "
            "< 0.1%% of a core)" % wall)
        self.baseline_station = (name, port, time.monotonic())

    def finish_baseline(self):
        """Measure the baseline station once it has run for the settle time, then remove it."""
        if not getattr(self, "baseline_station", None):
            return
        name, port, healthy_at = self.baseline_station
        wait = self.args.settle - (time.monotonic() - healthy_at)
        if wait > 0:
            time.sleep(wait)
        metrics = station_metrics(name, port, service="pywats-baseline", venv="/opt/pywats-baseline/venv")
        self.result["baseline"]["station"] = metrics
        remove([name])
        self.live.remove(name)
        self.baseline_station = None
        if metrics["health"] != 200:
            raise BenchError("baseline station not healthy after settling (GET /health: %s)" % metrics["health"])

    def series(self, n, source):
        names = ["%s%s-s%02d" % (PREFIX, self.owner, i) for i in range(1, n + 1)]
        ports = free_ports(self.port_base + 2, n, avoid=[self.standin_port], last=self.port_last)
        tag = "%s-%d" % (source, n)
        log("%s: starting %d station container(s)" % (tag, n))
        self.live.extend(names)
        start_stations(names, self.owner)
        inv = self.inventory(tag, names, ports, source)
        log("%s: first converge of %d station(s), forks %d" % (tag, n, n))
        rc, wall, text, logfile = self.playbook(tag + "-converge", ["-i", inv, "virinco.pywats.deploy"], forks=n)
        converged_at = time.monotonic()
        phase1 = self.last_phase
        recap = parse_recap(text)
        if rc != 0 or len(recap) != n or any(h["failed"] or h["unreachable"] for h in recap.values()):
            self.fail_with_log("first converge of %s" % tag, logfile, text)
        entry = {
            "stations": n, "forks": n, "install_source": source,
            "first_converge": {"wall_s": round(wall, 1), "per_station_s": round(wall / n, 1),
                               "changed": sum(h["changed"] for h in recap.values()),
                               "top_tasks": parse_profile(text), "log": os.path.relpath(logfile, REPO),
                               "machine": phase1, "cpu_per_station_s": cpu_per_station(phase1, n),
                               "connection": self.connection(names)},
            "rerun": None,
        }
        if source == "index":
            self.result["index"][str(n)] = entry
        else:
            self.result["wheelhouse"]["deploys"][str(n)] = entry
        if n in self.args.rerun_stations or source != "index":
            self.rerun(tag, inv, names, wall, entry)
        else:
            log("%s: first converge %.1f s" % (tag, wall))
        fetches = [station_fetch(s) for s in names]
        summary = summarize_fetch(fetches)
        if source == "index":
            # The preflight's package_index check: one GET of the client's simple page per station.
            summary["preflight_probe"] = {"requests_per_station": 1, "bytes_per_station": self.probe_bytes}
            summary["per_station"]["requests_total"] = summary["per_station"]["requests"] + 1
            summary["per_station"]["bytes_total"] = summary["per_station"]["bytes"] + self.probe_bytes
            summary["fleet"]["requests_total"] = summary["fleet"]["requests"] + n
            summary["fleet"]["bytes_total"] = summary["fleet"]["bytes"] + n * self.probe_bytes
        else:
            summary["controller_once"] = self.result["wheelhouse"]["build"]["index_fetch"]
            summary["copied_to_each_station_bytes"] = self.result["wheelhouse"]["build"]["station_wheels_bytes"]
        entry["index_fetch"] = summary
        wait = self.args.settle - (time.monotonic() - converged_at)
        if wait > 0:
            log("%s: settling %.0f s more before measuring" % (tag, wait))
            time.sleep(wait)
        metrics = [station_metrics(s, p) for s, p in zip(names, ports)]
        entry["per_station"] = summarize_stations(metrics)
        entry["stations_detail"] = metrics
        bad = [m["station"] for m in metrics if m["health"] != 200 or m["active"] != "active"]
        if bad:
            raise BenchError("%s: not healthy after settling: %s" % (tag, ", ".join(bad)))
        remove(names)
        for s in names:
            self.live.remove(s)

    def rerun(self, tag, inv, names, first_wall, entry):
        n = len(names)
        conn1 = entry["first_converge"]["connection"]["per_station"]
        log("%s: first converge %.1f s, %s module runs / %s round trips per station; no-op re-run"
            % (tag, first_wall, fmt(conn1["module_runs"] and conn1["module_runs"]["mean"], "%g"),
               fmt(conn1["round_trips"] and conn1["round_trips"]["mean"], "%g")))
        rc, wall, text, logfile = self.playbook(tag + "-rerun", ["-i", inv, "virinco.pywats.deploy"], forks=n)
        recap = parse_recap(text)
        changed = sum(h["changed"] for h in recap.values())
        entry["rerun"] = {"wall_s": round(wall, 1), "share_of_first": round(wall / first_wall, 3), "changed": changed,
                          "changed_by_host": {k: v["changed"] for k, v in recap.items() if v["changed"]},
                          "top_tasks": parse_profile(text), "log": os.path.relpath(logfile, REPO),
                          "machine": self.last_phase, "cpu_per_station_s": cpu_per_station(self.last_phase, n),
                          "connection": self.connection(names)}
        if rc != 0 or len(recap) != n or any(h["failed"] or h["unreachable"] for h in recap.values()):
            self.fail_with_log("re-run of %s" % tag, logfile, text)
        if changed != 0:
            raise BenchError("the no-op re-run of %s reported changed=%d (%s); log: %s"
                             % (tag, changed, entry["rerun"]["changed_by_host"], logfile))
        conn = entry["rerun"]["connection"]
        self.check_noop_module_runs(tag, conn)
        per = conn["per_station"]
        log("%s: re-run %.1f s, changed=0, %s module runs / %s round trips per station"
            % (tag, wall, fmt(per["module_runs"] and per["module_runs"]["mean"], "%g"),
               fmt(per["round_trips"] and per["round_trips"]["mean"], "%g")))

    def check_noop_module_runs(self, tag, conn):
        """--max-noop-module-runs N: no station's no-op re-run may start more than N modules."""
        limit = self.args.max_noop_module_runs
        if not limit:
            return
        if conn["stations_without_lines"]:
            raise BenchError("--max-noop-module-runs: the connection log of the re-run of %s has no lines for %s; "
                             "log: %s" % (tag, ", ".join(conn["stations_without_lines"]), conn["log"]))
        over = sorted(((h, d) for h, d in conn["by_station"].items() if d["module_runs"] > limit),
                      key=lambda hd: -hd[1]["module_runs"])
        if over:
            host, worst = over[0]
            tasks = "; ".join("%s: %d" % (t.replace("virinco.pywats.pywats_client : ", ""), c)
                              for t, c in worst["module_runs_by_task"].items())
            raise BenchError("the no-op re-run of %s made %d module runs on %s, more than --max-noop-module-runs %d "
                             "(%d of %d stations over); the tasks that made them: %s; log: %s"
                             % (tag, worst["module_runs"], host, limit, len(over), len(conn["by_station"]),
                                tasks, conn["log"]))

    def probe_index_page(self):
        """Size of what the preflight's index probe reads (it stops at 64 KiB)."""
        req = urllib.request.Request("https://pypi.org/simple/pywats-api/", headers={"Accept": "text/html"})
        cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
        context = ssl.create_default_context(cafile=cafile if cafile and os.path.isfile(cafile) else None)
        try:
            with urllib.request.urlopen(req, timeout=30, context=context) as resp:
                self.probe_bytes = len(resp.read(65536))
        except OSError as exc:
            log("could not size the index page (%s); counting the probe as 0 bytes" % exc)
            self.probe_bytes = 0

    def wheelhouse_build(self):
        self.wheelhouse_dir = os.path.join(self.tmp, "wheelhouse")
        piplog = os.path.join(self.tmp, "wheelhouse-pip.log")
        cache = os.path.join(self.tmp, "controller-pip-cache")
        saved = dict(self.env)
        # The controller's own pip config points at local mirrors and find-links; ignore it so the
        # count is what a controller fetches from the package index.
        for key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_NO_INDEX"):
            self.env.pop(key, None)
        self.env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": cache, "PIP_LOG": piplog,
                         "PIP_VERBOSE": "1"})
        log("wheelhouse: building on the controller (Python 3.11 target, empty pip cache)")
        try:
            rc, wall, text, logfile = self.playbook("wheelhouse-build", [
                "playbooks/wheelhouse.yml", "-e", "pywats_client_wheelhouse_dir=" + self.wheelhouse_dir,
                "-e", json.dumps({"pywats_client_wheelhouse_targets": [{"python": "3.11"}]})])
        finally:
            self.env = saved
        if rc != 0:
            self.fail_with_log("wheelhouse build", logfile, text)
        with open(piplog, encoding="utf-8", errors="replace") as fh:
            fetch = parse_pip_log(fh.read())
        wheels = [f for f in os.listdir(self.wheelhouse_dir) if f.endswith(".whl")]
        station_wheels = [f for f in wheels if re.search(r"(-any|-(manylinux|musllinux|linux)[0-9a-z_.]*_x86_64)\.whl$", f)]
        size = sum(os.path.getsize(os.path.join(self.wheelhouse_dir, f)) for f in wheels)
        self.result["wheelhouse"]["build"] = {
            "wall_s": round(wall, 1), "wheels": len(wheels), "wheelhouse_bytes": size,
            "station_wheels_bytes": sum(os.path.getsize(os.path.join(self.wheelhouse_dir, f)) for f in station_wheels),
            "index_fetch": {"requests": fetch["requests"], "bytes": fetch["bytes"],
                            "responses_without_length": fetch["responses_without_length"]},
            "machine": self.last_phase}
        log("wheelhouse: %d wheels, %.1f MiB, built in %.1f s" % (len(wheels), size / MIB, wall))

    def execute(self):
        self.stations = self.args.stations
        try:
            self.meta()
            clear_stale(self.owner)
            self.start_standin()
            self.probe_index_page()
            self.baseline()
            for n in self.stations:
                self.series(n, "index")
                self.finish_baseline()
            if self.args.wheelhouse_stations:
                self.wheelhouse_build()
                for n in self.args.wheelhouse_stations:
                    self.series(n, "wheelhouse")
            self.result["status"] = "ok"
        except BenchError as exc:
            self.result["status"] = "failed"
            self.result["error"] = str(exc)
            raise
        except BaseException as exc:
            self.result["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.result["error"] = repr(exc)
            raise
        finally:
            self.write()

    def write(self):
        self.derive()
        path = os.path.join(RESULTS, self.stamp + ".json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.result, fh, indent=2)
        self.result_path = path

    def derive(self):
        """Ratios between steps. A ratio whose steps shared the machine with other heavy jobs is noted
        in ratio_notes and, unless --allow-shared (implied by --quick), withheld (null)."""
        one = self.result["index"].get("1") or self.result["index"].get(str(min(self.stations)))
        base = self.result["baseline"]
        bm = base and base.get("machine")

        def judge(holder, key, value, *machines):
            notes = holder.setdefault("ratio_notes", {})
            jobs = shared_with(*machines)
            if not jobs:
                notes.pop(key, None)
                return value
            notes[key] = {"shared_with": jobs, "withheld": not self.args.allow_shared}
            return value if self.args.allow_shared else None

        for group in (self.result["index"], self.result["wheelhouse"]["deploys"]):
            ref = group.get("1")
            for entry in group.values():
                fc, rr = entry["first_converge"], entry.get("rerun")
                if ref:
                    entry["ratio_vs_1_station"] = judge(
                        entry, "ratio_vs_1_station", round(fc["wall_s"] / ref["first_converge"]["wall_s"], 2),
                        fc.get("machine"), ref["first_converge"].get("machine"))
                if base:
                    entry["ratio_vs_baseline"] = judge(entry, "ratio_vs_baseline",
                                                       round(fc["wall_s"] / base["wall_s"], 2), fc.get("machine"), bm)
                if rr:
                    rr["share_of_first"] = judge(entry, "rerun_share_of_first", round(rr["wall_s"] / fc["wall_s"], 3),
                                                 rr.get("machine"), fc.get("machine"))
        if one and base:
            self.result["ours_over_baseline"] = judge(self.result, "ours_over_baseline",
                                                      round(one["first_converge"]["wall_s"] / base["wall_s"], 2),
                                                      one["first_converge"].get("machine"), bm)


# --- output --------------------------------------------------------------------

def fmt(v, spec="%.1f", none="-"):
    return none if v is None else spec % v


def _rows(res):
    rows = [("index", k, v) for k, v in sorted(res["index"].items(), key=lambda kv: int(kv[0]))]
    rows += [("wheelhouse", k, v) for k, v in sorted(res["wheelhouse"]["deploys"].items(), key=lambda kv: int(kv[0]))]
    return rows


def _busy(machine):
    """'62%' host CPU busy during the step; '*' when other heavy jobs ran during it."""
    if not machine:
        return "-"
    return "%.0f%%%s" % (machine["host_cpu_busy"] * 100, "*" if machine["foreign_jobs"] else "")


def _mib(n):
    return n / MIB


def _ratio(holder, key, value, spec):
    """A derived ratio: 'shared' when withheld, marked * when one of its steps shared the machine."""
    note = (holder.get("ratio_notes") or {}).get(key)
    if note and note["withheld"]:
        return "shared"
    return fmt(value, spec) + ("*" if note and value is not None else "")


def _shared_steps(res):
    steps = []
    if res.get("baseline") and shared_with(res["baseline"].get("machine")):
        steps.append(("baseline", shared_with(res["baseline"]["machine"])))
    wb = res["wheelhouse"].get("build")
    if wb and shared_with(wb.get("machine")):
        steps.append(("wheelhouse build", shared_with(wb["machine"])))
    for source, k, e in _rows(res):
        for what, step in (("first converge", e["first_converge"]), ("re-run", e.get("rerun"))):
            if step and shared_with(step.get("machine")):
                steps.append(("%s-%s %s" % (source, k, what), shared_with(step["machine"])))
    return steps


def _spread(a):
    if not a:
        return "-"
    if a["min"] == a["max"]:
        return "%g" % a["mean"]
    return "%g [%g-%g]" % (a["mean"], a["min"], a["max"])


def _cpu(c):
    return "-" if not c else "%.1f+%.1f" % (c["controller"], c["other"])


def table(res):
    out = []
    m = res["meta"]
    rows = _rows(res)
    b = res.get("baseline")
    out.append("")
    out.append("pyWATS client benchmark %s  (%s CPUs, %s GiB RAM, %s, commit %s%s)"
               % (m["timestamp"], m["cpus"], m["mem_gib"], m["image"], m["commit"], ", QUICK" if m["quick"] else ""))
    out.append("pip cache: " + m["pip_cache"])
    out.append("")
    out.append("First converge and no-op re-run (forks = stations; wall time of the whole play)")
    fmt_row = "%-24s %7s %9s %7s %8s %8s %9s %7s %6s %6s"
    hdr = fmt_row % ("run", "wall s", "s/station", "x 1 stn", "x baseln", "rerun s", "rerun/1st", "changed",
                     "cpu", "cpu rr")
    out += [hdr, "-" * len(hdr)]
    if b:
        out.append(fmt_row % ("baseline (baseline.sh)", "%.1f" % b["wall_s"], "%.1f" % b["wall_s"], "-", "1.00",
                              "-", "-", "-", _busy(b.get("machine")), "-"))
    for source, k, e in rows:
        fc, rr = e["first_converge"], e.get("rerun") or {}
        out.append(fmt_row % (
            "%s, %s station%s" % (source, k, "" if k == "1" else "s"), "%.1f" % fc["wall_s"],
            "%.1f" % fc["per_station_s"], _ratio(e, "ratio_vs_1_station", e.get("ratio_vs_1_station"), "%.2f"),
            _ratio(e, "ratio_vs_baseline", e.get("ratio_vs_baseline"), "%.2f"), fmt(rr.get("wall_s")),
            _ratio(e, "rerun_share_of_first", rr.get("share_of_first") and rr["share_of_first"] * 100, "%.0f%%")
            if rr else "-", fmt(rr.get("changed"), "%d"), _busy(fc.get("machine")), _busy(rr.get("machine"))))
    if "ours_over_baseline" in res:
        out.append("ours / baseline (1 station, index install): %s"
                   % _ratio(res, "ours_over_baseline", res["ours_over_baseline"], "%.2f"))
    out.append("cpu: host CPU busy during the first converge (cpu rr: the re-run), all %s cores; * = other "
               "ansible/pytest/pip jobs ran on this machine during the step (sampled every 5 s), so that time is not comparable" % m["cpus"])
    shared = _shared_steps(res)
    if shared:
        out.append("steps that shared the machine with other heavy jobs%s: %s" % (
            " (after waiting up to %s s for quiet)" % m["wait_quiet_s"] if m.get("wait_quiet_s") else "",
            "; ".join("%s (%s)" % (step, ", ".join(jobs)) for step, jobs in shared)))
        if m.get("allow_shared"):
            out.append("ratios marked * compare such a step: indications only")
        else:
            out.append("shared = ratio withheld: a step it compares shared the machine with other heavy jobs, so "
                       "its time says as much about them as about the role (--allow-shared prints it, marked *)")
    out.append("")
    out.append("Cost per station: module runs and round trips (EXEC + PUT + FETCH) from the connection log (-vvv); "
               "CPU seconds controller + other")
    fmt_row = "%-24s %12s %12s %14s %12s %12s %14s"
    hdr = fmt_row % ("run", "1st modules", "1st trips", "1st CPU-s c+o", "rr modules", "rr trips", "rr CPU-s c+o")
    out += [hdr, "-" * len(hdr)]
    if b:
        bc = b.get("connection") or {}
        out.append(fmt_row % ("baseline (baseline.sh)", "-", fmt(bc.get("round_trips"), "%d"),
                              _cpu(b.get("cpu_per_station_s")), "-", "-", "-"))
    for source, k, e in rows:
        fc, rr = e["first_converge"], e.get("rerun") or {}
        c1, c2 = (fc.get("connection") or {}).get("per_station", {}), (rr.get("connection") or {}).get("per_station", {})
        out.append(fmt_row % (
            "%s, %s station%s" % (source, k, "" if k == "1" else "s"),
            _spread(c1.get("module_runs")), _spread(c1.get("round_trips")), _cpu(fc.get("cpu_per_station_s")),
            _spread(c2.get("module_runs")), _spread(c2.get("round_trips")), _cpu(rr.get("cpu_per_station_s"))))
    out.append("modules: interpreter starts that run a module or a script (pipelined python3, python on a file in "
               "an ansible-tmp dir, script with an interpreter); trips: every docker exec and file copy")
    if b and b.get("connection"):
        out.append("baseline: 1 docker exec running baseline.sh, which runs %s shell commands (sh -x trace)"
                   % fmt(b["connection"].get("shell_commands"), "%d"))
    out.append("CPU-s c+o: c = controller (ansible-playbook, forks, docker CLI), o = the rest of the host "
               "(dockerd, apt, pip, modules in the stations, and any other job on the machine)")
    out.append("")
    out.append("Package index traffic: requests / MiB (HTTP bodies as sent)")
    fmt_row = "%-24s %16s %16s %20s %8s"
    hdr = fmt_row % ("run", "per station", "per fleet", "controller, once", "pip ran")
    out += [hdr, "-" * len(hdr)]
    if b:
        f = b["index_fetch"]
        out.append(fmt_row % ("baseline", "%d / %.1f" % (f["per_station"]["requests"], _mib(f["per_station"]["bytes"])),
                              "%d / %.1f" % (f["fleet"]["requests"], _mib(f["fleet"]["bytes"])), "-",
                              "%d/1" % f["stations_where_pip_ran"]))
    wb = res["wheelhouse"].get("build")
    for source, k, e in rows:
        f = e.get("index_fetch")
        if not f:
            continue
        ps, fl = f["per_station"], f["fleet"]
        ctrl = f.get("controller_once")
        out.append(fmt_row % (
            "%s, %s" % (source, k),
            "%d / %.1f" % (ps.get("requests_total", ps["requests"]), _mib(ps.get("bytes_total", ps["bytes"]))),
            "%d / %.1f" % (fl.get("requests_total", fl["requests"]) + (ctrl["requests"] if ctrl else 0),
                           _mib(fl.get("bytes_total", fl["bytes"]) + (ctrl["bytes"] if ctrl else 0))),
            "%d / %.1f" % (ctrl["requests"], _mib(ctrl["bytes"])) if ctrl else "-",
            "%d/%s" % (f["stations_where_pip_ran"], k)))
    if wb:
        out.append("wheelhouse fleets of any size: the controller's one download is the fleet's whole index "
                   "traffic; the stations get %.1f MiB each from the controller instead" % _mib(wb["station_wheels_bytes"]))
        out.append("wheelhouse build: %.1f s, %d wheels, %.1f MiB (Python 3.11 target, controller pip config ignored)"
                   % (wb["wall_s"], wb["wheels"], _mib(wb["wheelhouse_bytes"])))
    out.append("index rows include the role's preflight probe: 1 GET of /simple/pywats-api/ per station")
    out.append("")
    out.append("Per station after %d s of running (mean [min-max])" % m["settle_s"])
    fmt_row = "%-24s %20s %20s %14s %14s"
    hdr = fmt_row % ("run", "client RSS MiB", "venv MiB (du)", "cgroup procs", "threads")
    out += [hdr, "-" * len(hdr)]

    def rng(a):
        if not a:
            return "-"
        if a["min"] == a["max"]:
            return "%g" % a["mean"]
        return "%.1f [%g-%g]" % (a["mean"], a["min"], a["max"])
    if b and b.get("station"):
        st = b["station"]
        out.append(fmt_row % ("baseline", fmt(st["rss_kib"] and st["rss_kib"] / 1024.0),
                              fmt(st["venv_bytes"] and _mib(st["venv_bytes"])),
                              fmt(st["cgroup_procs"], "%d"), fmt(st["tasks"], "%d")))
    for source, k, e in rows:
        p = e.get("per_station")
        if p:
            out.append(fmt_row % ("%s, %s" % (source, k), rng(p["rss_mib"]), rng(p["venv_mib"]),
                                  rng(p["cgroup_procs"]), rng(p["tasks"])))

    def top(title, tasks, count):
        if tasks:
            out.append(title)
            for t in tasks[:count]:
                out.append("  %7.2fs  %s" % (t["seconds"], t["task"].replace("virinco.pywats.pywats_client : ", "")))
    one = res["index"].get("1")
    big = max(res["index"], key=int, default=None)
    out.append("")
    if one:
        top("Slowest tasks, first converge of 1 station (ansible.posix.profile_tasks)",
            one["first_converge"]["top_tasks"], 10)
        top("Slowest tasks, no-op re-run of 1 station", (one["rerun"] or {}).get("top_tasks"), 5)
    if big and big != "1":
        top("Slowest tasks, first converge of %s stations" % big, res["index"][big]["first_converge"]["top_tasks"], 10)
        top("Slowest tasks, no-op re-run of %s stations" % big, (res["index"][big]["rerun"] or {}).get("top_tasks"), 5)
    wh = res["wheelhouse"]["deploys"].get("1")
    if wh:
        top("Slowest tasks, first converge of 1 station from the wheelhouse", wh["first_converge"]["top_tasks"], 5)
    if res.get("status") != "ok":
        out.append("")
        out.append("STATUS: %s: %s" % (res.get("status"), res.get("error", "")))
    out.append("")
    return "\n".join(out)


def stations_arg(text):
    try:
        vals = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of station counts, e.g. 1,5,10,20")
    if not vals or vals[0] < 1 or vals[-1] > 50:
        raise argparse.ArgumentTypeError("station counts must be 1-50")
    return vals


def ports_arg(text):
    if isinstance(text, tuple):
        return text
    m = re.fullmatch(r"(\d+)-(\d+)", text.strip())
    if not m or not 1024 <= int(m.group(1)) < int(m.group(2)) <= 65535:
        raise argparse.ArgumentTypeError("--ports wants LO-HI with 1024 <= LO < HI <= 65535, got %r" % text)
    return int(m.group(1)), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--stations", type=stations_arg, default=None,
                    help="fleet sizes for index installs (default 1,5,10,20; --quick: 1,2)")
    ap.add_argument("--ports", type=ports_arg, default=os.environ.get("PYWATS_BENCH_PORTS") or None,
                    help="LO-HI: take the stand-in's and the stations' loopback ports from this range only "
                         "(default: a block of its own in 20000-29879; env PYWATS_BENCH_PORTS)")
    ap.add_argument("--rerun-stations", type=stations_arg, default=None,
                    help="fleet sizes that get the no-op re-run (default: every size)")
    ap.add_argument("--wheelhouse-stations", type=stations_arg, default=None,
                    help="fleet sizes for wheelhouse installs (default: 1 and the largest fleet size; --quick: 1)")
    ap.add_argument("--no-wheelhouse", action="store_true", help="skip the wheelhouse build and deploys")
    ap.add_argument("--quick", action="store_true", help="1 and 2 stations, 15 s settle time (for CI)")
    ap.add_argument("--collections-path", default=os.path.join(REPO, ".collections"),
                    help="where virinco.pywats is found (default: this checkout, through .collections)")
    ap.add_argument("--wait-quiet", type=int, default=None, metavar="S",
                    help="before each timed step, wait up to S seconds until no other ansible/pytest/pip job runs "
                         "(default 600; --quick: 0)")
    ap.add_argument("--allow-shared", action="store_true",
                    help="print ratios of steps that shared the machine with other heavy jobs (marked *); "
                         "--quick implies it")
    ap.add_argument("--max-noop-module-runs", type=int, default=0, metavar="N",
                    help="fail (exit 1) when a station's no-op re-run starts more than N modules (default 0: off)")
    ap.add_argument("--settle", type=float, default=None, help="seconds a station runs before it is measured")
    args = ap.parse_args()
    if args.stations is None:
        args.stations = [1, 2] if args.quick else [1, 5, 10, 20]
    if 1 not in args.stations:
        args.stations = [1] + args.stations
    if args.rerun_stations is None:
        args.rerun_stations = args.stations
    if args.settle is None:
        args.settle = 15 if args.quick else 60
    if args.wait_quiet is None:
        args.wait_quiet = 0 if args.quick else 600
    if args.quick:
        args.allow_shared = True
    if args.max_noop_module_runs < 0:
        ap.error("--max-noop-module-runs wants N >= 0")
    if args.no_wheelhouse:
        args.wheelhouse_stations = []
    elif args.wheelhouse_stations is None:
        args.wheelhouse_stations = [1] if args.quick else sorted({1, max(args.stations)})

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    rc = 0
    try:
        bench.execute()
    except BenchError as exc:
        print("\nbenchmark FAILED: %s" % exc, file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        print("\nbenchmark interrupted", file=sys.stderr)
        rc = 130
    except Exception:  # a bug in the benchmark is a broken benchmark too
        traceback.print_exc()
        rc = 1
    finally:
        log("removing the benchmark's containers and stopping the stand-in")
        bench.cleanup()
    try:
        print(table(bench.result))
    except Exception:  # a partial result after a failure may lack rows the table expects
        traceback.print_exc()
        rc = rc or 1
    if getattr(bench, "result_path", None):
        print("results: %s" % os.path.relpath(bench.result_path, REPO))
    print("logs:    %s" % os.path.relpath(bench.logdir, REPO))
    return rc


if __name__ == "__main__":
    sys.exit(main())
