#!/usr/bin/env python3
"""Phoenix benchmarks, side by side with its peers.

Run through `contrib/bench/run`, which installs the peers and builds Phoenix first.
Python 3 standard library only.  Every process a scenario starts runs inside its own PID
namespace (`unshare --pid --fork --kill-child --mount-proc`), with the init under test as
its PID 1, so stopping a scenario (SIGKILL to that PID 1) removes every process it made.
Everything written goes under one temporary directory.  See docs/benchmarks.md.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import random
import resource
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NS_PER_MS = 1_000_000


def now_ns():
    """CLOCK_MONOTONIC, the clock the services stamp themselves with."""
    return time.monotonic_ns()


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class NA(Exception):
    """A measurement that could not be made; the message says why."""


# --------------------------------------------------------------------------------------
# Settings: one place for every repetition count and time limit.
# --------------------------------------------------------------------------------------

class Settings:
    def __init__(self, quick):
        self.quick = quick
        self.floor_runs = 200 if quick else 1000
        self.floor_init_runs = 50 if quick else 200
        self.restart_reps = 8 if quick else 40
        self.restart_min_age_s = 1.6          # the service has run > 1.5 s when killed
        self.restart_timeout_s = 10.0
        self.restart_seed = 1                 # the kill order of every round, reproducible
        self.idle_windows = 3 if quick else 6
        self.idle_window_s = 3.0 if quick else 5.0
        self.idle_settle_s = 1.0 if quick else 2.0
        self.strace_s = 3.0 if quick else 10.0
        self.memory_sizes = [1, 100, 1000]
        self.memory_samples = 3
        self.up_timeout_s = 30.0
        self.up_timeout_1000_s = 120.0
        self.startup_reps = 3 if quick else 5
        self.startup_services = 100
        self.storm_reps = 1 if quick else 3
        self.storm_orphans = 2000
        self.shutdown_reps = 3 if quick else 5
        self.shutdown_cap_s = 10.0 if quick else 20.0
        self.stop_timeout_s = 5               # configured stop timeout where a peer has one
        self.crash_window_s = 10.0 if quick else 20.0
        self.probe_services = 100
        self.probe_windows = 3 if quick else 6
        self.probe_window_s = 5 if quick else 10     # whole seconds: the sidecar's rounds
        self.probe_up_timeout_s = 30.0                # until every service is healthy
        self.hang_reps = 3 if quick else 10
        self.hang_watchdog = "1s"
        self.hang_ping_ms = 200
        self.hang_stop_timeout_s = 0.2


# --------------------------------------------------------------------------------------
# /proc helpers (host view: the benchmark itself stays in the root PID namespace)
# --------------------------------------------------------------------------------------

def proc_ppids():
    """pid -> ppid for every process on the machine."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rfind(b")") + 2:].split()
        out[int(entry)] = int(rest[1])
    return out


def descendants(root):
    """root and every process below it."""
    ppids = proc_ppids()
    children = {}
    for pid, ppid in ppids.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid not in ppids:
            continue
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def ctxt_switches(pid):
    """voluntary + nonvoluntary context switches of one process (all its threads)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
    except OSError:
        return None
    return total


def rss_pss_kib(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        return None
    return rss, pss


def pidfd_wait(pid, timeout_s):
    """Wait until pid (any process, not only a child) has exited; return the time, or
    None on timeout.  Falls back to polling /proc where pidfd_open is missing."""
    deadline = time.monotonic() + timeout_s
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if poller.poll(left * 1000):
                    return now_ns()
        finally:
            os.close(fd)
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                data = f.read()
            if data[data.rfind(b")") + 2:data.rfind(b")") + 3] in (b"Z", b"X"):
                return now_ns()
        except OSError:
            return now_ns()
        time.sleep(0.001)
    return None


class ExitWatch:
    """Watch several processes (not our children) and note when each one exits."""

    def __init__(self, pids):
        self.fds = {}
        for pid in pids:
            try:
                self.fds[os.pidfd_open(pid)] = pid
            except ProcessLookupError:
                self.fds[None] = pid
        self.done = {}

    def wait(self, timeout_s, until_all=True):
        deadline = time.monotonic() + timeout_s
        poller = select.poll()
        for fd, pid in self.fds.items():
            if fd is None:
                self.done[pid] = now_ns()
            else:
                poller.register(fd, select.POLLIN)
        try:
            while len(self.done) < len(self.fds):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for fd, _ in poller.poll(left * 1000):
                    self.done.setdefault(self.fds[fd], now_ns())
                    poller.unregister(fd)
        finally:
            for fd in self.fds:
                if fd is not None:
                    os.close(fd)
        return self.done


def read_stamps(path):
    """Start stamps (ns) written by bsvc, and the TERM stamps."""
    starts, terms = [], []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if parts[0] == "T" and len(parts) >= 2:
                    terms.append(int(parts[1]))
                elif len(parts) >= 2 and parts[0].isdigit():
                    starts.append(int(parts[0]))
    except OSError:
        pass
    return starts, terms


# --------------------------------------------------------------------------------------
# The helper programs (C sources in contrib/bench/helpers, compiled at run time)
# --------------------------------------------------------------------------------------

class Helpers:
    def __init__(self, bindir):
        self.bindir = bindir
        os.makedirs(bindir, exist_ok=True)
        cc = shutil.which("gcc") or shutil.which("cc")
        if not cc:
            raise SystemExit("bench: a C compiler (gcc) is needed to build the helper programs")
        for name in ("noop", "floor", "bsvc", "hsrv"):
            src = os.path.join(HERE, "helpers", f"{name}.c")
            out = os.path.join(bindir, name)
            cmd = [cc, "-static", "-O2", "-o", out, src]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                # a machine without static libc still gets a (slightly slower) helper
                res = subprocess.run([cc, "-O2", "-o", out, src], capture_output=True, text=True)
                if res.returncode != 0:
                    raise SystemExit(f"bench: cannot compile {src}:\n{res.stderr}")
                log(f"note: {name} built dynamically (no static libc)")
        self.noop = os.path.join(bindir, "noop")
        self.floor = os.path.join(bindir, "floor")
        self.bsvc = os.path.join(bindir, "bsvc")
        self.hsrv = os.path.join(bindir, "hsrv")
        self.exes = {os.path.realpath(p) for p in (self.noop, self.floor, self.bsvc, self.hsrv)}


# --------------------------------------------------------------------------------------
# One init under test, run as PID 1 of a fresh PID namespace
# --------------------------------------------------------------------------------------

LIVE_RUNS = set()


def raise_limits():
    """Run in the child before exec: enough descriptors for 1000 services everywhere."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard) if hard != resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        pass


class Pid1Run:
    """`unshare --pid --fork --kill-child --mount-proc ARGV`: ARGV becomes PID 1."""

    def __init__(self, bench, argv, label, cwd=None):
        self.bench = bench
        self.argv = argv
        self.label = label
        self.cwd = cwd
        self.proc = None
        self.init = None
        self.t_exec = None
        self.logpath = None

    def __enter__(self):
        return self  # started already by start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.logpath = self.bench.path("logs", f"{self.label}.{self.bench.next_id()}.log")
        os.makedirs(os.path.dirname(self.logpath), exist_ok=True)
        logf = open(self.logpath, "wb")
        cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"] + self.argv
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        self.t_exec = now_ns()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     cwd=self.cwd, env=env, start_new_session=True,
                                     preexec_fn=raise_limits)
        logf.close()
        LIVE_RUNS.add(self)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            kids = [p for p, pp in proc_ppids().items() if pp == self.proc.pid]
            if kids:
                self.init = kids[0]
                # wait until unshare's child has exec'd the init
                unshare = os.path.realpath(shutil.which("unshare"))
                while time.monotonic() < deadline:
                    exe = exe_of(self.init)
                    if exe is None or os.path.realpath(exe) != unshare:
                        break
                    time.sleep(0.0005)
                return self
            if self.proc.poll() is not None:
                raise NA(f"exited at once with status {self.proc.returncode}{self.log_tail()}")
            time.sleep(0.0005)
        self.stop()
        raise NA("PID namespace did not start")

    def log_tail(self):
        try:
            with open(self.logpath, "rb") as f:
                data = f.read()[-300:].decode(errors="replace").strip()
        except OSError:
            return ""
        return f": {data.splitlines()[-1][:160]}" if data else ""

    def alive(self):
        return self.proc.poll() is None and os.path.exists(f"/proc/{self.init}")

    def check_alive(self):
        if not self.alive():
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            raise NA(f"init exited (status {code}){self.log_tail()}")

    def wait(self, cond, timeout_s, step_s=0.002):
        """wait_for(cond), but give up at once (NA) when PID 1 has exited."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = cond()
            if value:
                return value
            if not self.alive():
                value = cond()  # it may have finished just before PID 1 exited
                if value:
                    return value
                self.check_alive()
            if time.monotonic() >= deadline:
                return None
            time.sleep(step_s)

    def tree(self):
        return descendants(self.init) if self.init else []

    def supervisor_pids(self):
        """Every process of the namespace that is not one of our helper programs."""
        out = []
        for pid in self.tree():
            exe = exe_of(pid)
            if exe is not None and os.path.realpath(exe) in self.bench.helpers.exes:
                continue
            out.append(pid)
        return out

    def service_pids(self):
        bsvc = os.path.realpath(self.bench.helpers.bsvc)
        return [p for p in self.tree() if (exe_of(p) and os.path.realpath(exe_of(p)) == bsvc)]

    def stop(self):
        """SIGKILL to PID 1 ends the namespace (the kernel kills everything in it); unshare
        then reaps it and exits.  Nothing is left behind, not even a zombie."""
        if self.proc is None:
            return
        if self.init:
            try:
                os.kill(self.init, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        LIVE_RUNS.discard(self)
        self.proc = None


def wait_for(cond, timeout_s, step_s=0.002):
    deadline = time.monotonic() + timeout_s
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(step_s)


# --------------------------------------------------------------------------------------
# Services and peers.  One class per supervisor: how it is started and configured.
# --------------------------------------------------------------------------------------

class Service:
    """One supervised service: `bsvc [--notify-fd N] MODE STAMP ARGS...`."""

    def __init__(self, name, bench, mode, stamp, args=(), tuned=True, notify_fd=None, phoenix=()):
        self.name = name
        self.phoenix = list(phoenix)  # extra TOML lines ([health], [watchdog]) for Phoenix
        self.mode = mode
        self.stamp = stamp
        self.args = list(args)
        self.tuned = tuned          # restart delay zero etc. where the peer allows it
        self.notify_fd = notify_fd
        self.bsvc = bench.helpers.bsvc
        self.stop_timeout_s = bench.settings.stop_timeout_s

    def words(self):
        pre = ["--notify-fd", str(self.notify_fd)] if self.notify_fd is not None else []
        return pre + [self.mode, self.stamp] + self.args

    def argv(self):
        return [self.bsvc] + self.words()


class Peer:
    name = "?"
    kind = "init"           # "init": runs one child; "supervisor": runs service units
    binary = None
    install_hint = ""

    def __init__(self, bench):
        self.bench = bench

    def path(self):
        return shutil.which(self.binary) if self.binary else None

    def unavailable(self):
        """None when usable, else the reason it is not."""
        if not self.path():
            return f"{self.binary} not installed{self.install_hint}"
        return None

    def version(self):
        return ""

    def is_phoenix(self):
        return False


class SingleChildInit(Peer):
    """tini, dumb-init, catatonit, Phoenix in tini mode: `INIT [flags] -- CHILD...`."""
    kind = "init"

    def command(self, child, group=False):
        raise NotImplementedError


class Tini(SingleChildInit):
    name = "tini"
    binary = "tini"

    def command(self, child, group=False):
        return [self.path()] + (["-g"] if group else []) + ["--"] + child

    def version(self):
        return subprocess.run([self.path(), "--version"], capture_output=True, text=True).stdout.strip()


class DumbInit(SingleChildInit):
    name = "dumb-init"
    binary = "dumb-init"

    def command(self, child, group=False):
        # dumb-init signals the child's whole session by default; -c: the child only
        return [self.path()] + ([] if group else ["--single-child"]) + ["--"] + child

    def version(self):
        res = subprocess.run([self.path(), "--version"], capture_output=True, text=True)
        return (res.stdout + res.stderr).strip()


class Catatonit(SingleChildInit):
    name = "catatonit"
    binary = "catatonit"

    def command(self, child, group=False):
        return [self.path()] + (["-g"] if group else []) + ["--"] + child

    def version(self):
        res = subprocess.run([self.path(), "--version"], capture_output=True, text=True)
        return (res.stdout + res.stderr).strip()


class PhoenixTini(SingleChildInit):
    """Phoenix as a drop-in for tini: `phoenix [-g] -- CMD` (DESIGN.md §3)."""
    name = "phoenix (tini mode)"

    def path(self):
        return self.bench.phoenix

    def unavailable(self):
        return self.bench.phoenix_problem()

    def is_phoenix(self):
        return True

    def command(self, child, group=False):
        return [self.path()] + (["-g"] if group else []) + ["--"] + child

    def version(self):
        return phoenix_version(self.bench)


class Supervisor(Peer):
    """A supervisor of many services.  `command(root, services)` writes its configuration
    under root and returns the argv that starts it."""
    kind = "supervisor"
    # how this peer's configuration expresses the scenario knobs, for the report
    notes = ""

    def command(self, root, services):
        raise NotImplementedError


def s6_like_service_dir(svc_dir, svc):
    """An s6/runit service directory whose `run` is bsvc itself (a symlink): no shell
    between the supervisor and the service.  bsvc reads its arguments from ./bsvc.args."""
    os.makedirs(svc_dir, exist_ok=True)
    with open(os.path.join(svc_dir, "bsvc.args"), "w") as f:
        f.write("\n".join(svc.words()) + "\n")
    os.symlink(svc.bsvc, os.path.join(svc_dir, "run"))


class S6(Supervisor):
    """s6-svscan over a scan directory; one s6-supervise per service."""
    name = "s6"
    binary = "s6-svscan"
    notes = "no restart delay exists (1 s throttle after a run shorter than 1 s); timeout-kill = stop timeout"

    def __init__(self, bench, readiness=False):
        super().__init__(bench)
        self.readiness = readiness
        if readiness:
            self.name = "s6 (notification-fd)"

    def command(self, root, services):
        scan = os.path.join(root, "scan")
        os.makedirs(os.path.join(scan, ".s6-svscan"), exist_ok=True)
        for svc in services:
            if self.readiness:
                svc.notify_fd = 3
            d = os.path.join(scan, svc.name)
            s6_like_service_dir(d, svc)
            with open(os.path.join(d, "timeout-kill"), "w") as f:
                f.write(f"{svc.stop_timeout_s * 1000}\n")
            if self.readiness:
                with open(os.path.join(d, "notification-fd"), "w") as f:
                    f.write("3\n")
        return [self.path(), "-c", str(max(1000, 2 * len(services) + 10)), scan]

    def version(self):
        return dpkg_version("s6")


class Runit(Supervisor):
    """runsvdir over a service directory; one runsv per service."""
    name = "runit"
    binary = "runsvdir"
    notes = "no restart delay exists (1 s throttle after a run shorter than 1 s); no stop timeout"

    def command(self, root, services):
        sv = os.path.join(root, "service")
        os.makedirs(sv, exist_ok=True)
        for svc in services:
            s6_like_service_dir(os.path.join(sv, svc.name), svc)
        return [self.path(), sv]

    def version(self):
        return dpkg_version("runit")


class Supervisord(Supervisor):
    """supervisord with one [program:x] section per service."""
    name = "supervisord"
    binary = "supervisord"
    notes = "autorestart=true, startsecs=0, startretries=3, stopwaitsecs = stop timeout; crash loop: defaults"

    def command(self, root, services):
        conf = os.path.join(root, "supervisord.conf")
        lines = [
            "[supervisord]",
            "nodaemon=true",
            "user=root",
            f"logfile={os.path.join(root, 'supervisord.log')}",
            f"pidfile={os.path.join(root, 'supervisord.pid')}",
            f"childlogdir={root}",
            "minfds=4096",
            "",
        ]
        for svc in services:
            lines += [
                f"[program:{svc.name}]",
                f"command={shlex.join(svc.argv())}",
                "autostart=true",
                "autorestart=true",
                "stdout_logfile=NONE",
                "redirect_stderr=true",
                f"stopwaitsecs={svc.stop_timeout_s}",
            ]
            if svc.tuned:
                lines += ["startsecs=0", "startretries=3"]
            lines.append("")
        with open(conf, "w") as f:
            f.write("\n".join(lines))
        return [self.path(), "--nodaemon", "-c", conf]

    def version(self):
        res = subprocess.run([self.path(), "--version"], capture_output=True, text=True)
        return res.stdout.strip()


class Horust(Supervisor):
    """Horust with one service TOML per service."""
    name = "horust"
    binary = "horust"
    install_hint = " (cargo install horust --locked failed or was skipped)"
    notes = 'strategy = "always", backoff = "0s"; termination wait = stop timeout'

    def path(self):
        found = shutil.which("horust")
        if found:
            return found
        cargo_bin = os.path.expanduser("~/.cargo/bin/horust")
        return cargo_bin if os.access(cargo_bin, os.X_OK) else None

    def command(self, root, services):
        d = os.path.join(root, "horust")
        os.makedirs(d, exist_ok=True)
        for svc in services:
            body = [f"command = {toml_str(shlex.join(svc.argv()))}", "[restart]", 'strategy = "always"']
            if svc.tuned:
                body.append('backoff = "0s"')
            body += ["[termination]", f'wait = "{svc.stop_timeout_s}s"']
            with open(os.path.join(d, f"{svc.name}.toml"), "w") as f:
                f.write("\n".join(body) + "\n")
        uds = os.path.join(root, "horust-uds")
        os.makedirs(uds, exist_ok=True)
        return [self.path(), "--services-path", d, "--uds-folder-path", uds]

    def version(self):
        res = subprocess.run([self.path(), "--version"], capture_output=True, text=True)
        return (res.stdout or "horust").strip()


class PhoenixServices(Supervisor):
    """Phoenix in services mode: `phoenix --services DIR`, one NAME.toml per service
    (DESIGN.md §4)."""
    name = "phoenix"
    notes = '[restart] delay = "0s", max-failures = 1000; [stop] timeout = stop timeout; crash loop: defaults'

    def path(self):
        return self.bench.phoenix

    def unavailable(self):
        return self.bench.phoenix_problem()

    def is_phoenix(self):
        return True

    def command(self, root, services):
        d = os.path.join(root, "services.d")
        os.makedirs(d, exist_ok=True)
        for svc in services:
            body = ["command = [" + ", ".join(toml_str(w) for w in svc.argv()) + "]"]
            if svc.tuned:
                # no delay, and a budget no scenario can exhaust (s6 and runit have none):
                # the restart scenario kills the same service 20 times in under a minute
                body += ["", "[restart]", 'delay = "0s"', "max-failures = 1000"]
            body += ["", "[stop]", f'timeout = "{svc.stop_timeout_s}s"']
            body += [""] + svc.phoenix if svc.phoenix else []
            with open(os.path.join(d, f"{svc.name}.toml"), "w") as f:
                f.write("\n".join(body) + "\n")
        # keep the runtime and state directories (control socket, circuit-breaker state)
        # inside this run, so runs cannot see each other or a Phoenix on the machine
        conf = os.path.join(root, "phoenix.toml")
        with open(conf, "w") as f:
            f.write(f"runtime-dir = {toml_str(os.path.join(root, 'run'))}\n"
                    f"state-dir = {toml_str(os.path.join(root, 'state'))}\n")
        return [self.path(), "--config", conf, "--services", d]

    def version(self):
        return phoenix_version(self.bench)


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else ("es" if word.endswith("s") else "s"))


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dpkg_version(pkg):
    res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return f"{pkg} {res.stdout.strip()}" if res.returncode == 0 else ""


def phoenix_version(bench):
    if not bench.phoenix:
        return ""
    try:
        res = subprocess.run([bench.phoenix, "--version"], capture_output=True, text=True, timeout=5)
        return (res.stdout.strip() or "phoenix (no --version output)")[:80]
    except (OSError, subprocess.TimeoutExpired):
        return ""


class PhoenixBaseline(PhoenixServices):
    """A second Phoenix build (`--baseline PATH`, say the one before a change), run beside
    the first in the same scenario so a change is measured A/B in one run."""
    name = "phoenix (baseline)"

    def path(self):
        return self.bench.baseline

    def unavailable(self):
        if not self.bench.baseline:
            return "no --baseline given"
        return None if os.access(self.bench.baseline, os.X_OK) else f"{self.bench.baseline}: not executable"

    def is_phoenix(self):
        return False

    def version(self):
        return self.bench.baseline or ""


PEER_CLASSES = [PhoenixServices, PhoenixBaseline, PhoenixTini, Tini, DumbInit, Catatonit, S6, Runit, Supervisord, Horust]
PEER_NAMES = ["phoenix", "baseline", "tini", "dumb-init", "catatonit", "s6", "runit", "supervisord", "horust"]


def peer_key(peer):
    if isinstance(peer, PhoenixBaseline):
        return "baseline"
    return "phoenix" if peer.is_phoenix() else peer.name.split()[0]


# --------------------------------------------------------------------------------------
# Results and tables
# --------------------------------------------------------------------------------------

def quantile(values, q):
    s = sorted(values)
    if not s:
        return None
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class Row:
    def __init__(self, peer, case="", values=None, na=None, censored=False, note=""):
        self.peer = peer            # a Peer
        self.case = case
        self.values = values or []
        self.na = na
        self.censored = censored    # values are lower bounds (hit the time cap)
        self.note = note

    def median(self):
        return quantile(self.values, 0.5) if self.values and not self.na else None


class Table:
    def __init__(self, key, title, unit, how="", digits=2, columns=None):
        self.key = key
        self.title = title
        self.unit = unit
        self.how = how
        self.digits = digits
        self.rows = []
        self.columns = columns      # custom tables: (header list, function row -> cells)

    def add(self, row):
        self.rows.append(row)
        return row

    def reference(self, row):
        """The Phoenix row a ratio is taken against: same case, same kind if possible."""
        cands = [r for r in self.rows if r.peer.is_phoenix() and r.case == row.case and r.median() is not None]
        same = [r for r in cands if r.peer.kind == row.peer.kind]
        pick = same or cands
        return pick[0] if pick else None

    def fmt(self, v):
        if v is None:
            return "—"
        if abs(v) >= 1000 or self.digits == 0:
            return f"{v:,.0f}"
        return f"{v:.{self.digits}f}"

    def render(self):
        out = [f"### {self.title}", ""]
        if self.how:
            out += [self.how, ""]
        if self.columns:
            headers, cells = self.columns
            out.append("| " + " | ".join(headers) + " |")
            out.append("|" + "---|" * len(headers))
            for r in self.rows:
                out.append("| " + " | ".join(cells(r)) + " |")
            out.append("")
            return "\n".join(out)
        has_case = any(r.case for r in self.rows)
        headers = ["supervisor"] + (["case"] if has_case else []) + \
            [f"median ({self.unit})", f"p90 ({self.unit})", "n", "× Phoenix", "note"]
        out.append("| " + " | ".join(headers) + " |")
        out.append("|" + "---|" * len(headers))
        for r in self.rows:
            cells = [r.peer.name] + ([r.case] if has_case else [])
            if r.na:
                cells += [f"n/a ({r.na})", "", "", "", r.note]
            else:
                pre = "≥ " if r.censored else ""
                med = r.median()
                p90 = quantile(r.values, 0.9)
                ref = self.reference(r)
                ratio = "—"
                if ref is not None and med is not None:
                    refm = ref.median()
                    if ref is r:
                        ratio = "1"
                    elif refm:
                        ratio = f"{med / refm:.2f}"
                    elif med == 0:
                        ratio = "1"
                    else:
                        ratio = "∞"
                cells += [pre + self.fmt(med), pre + self.fmt(p90), str(len(r.values)), ratio, r.note]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        return "\n".join(out)

    def to_json(self):
        return {
            "key": self.key, "title": self.title, "unit": self.unit,
            "rows": [{"peer": r.peer.name, "case": r.case, "values": r.values, "na": r.na,
                      "censored": r.censored, "note": r.note} for r in self.rows],
        }


# --------------------------------------------------------------------------------------
# The benchmark: shared state and scenario driver
# --------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.settings = Settings(args.quick)
        wanted = set(args.peers.split(",")) if args.peers else set(PEER_NAMES)
        if args.baseline:
            wanted.add("baseline")
        else:
            wanted.discard("baseline")
        unknown = wanted - set(PEER_NAMES)
        if unknown:
            raise SystemExit(f"bench: unknown peer(s) {', '.join(sorted(unknown))}; known: {', '.join(PEER_NAMES)}")
        self.tmp = tempfile.mkdtemp(prefix="phoenix-bench-")
        self._id = 0
        self.helpers = Helpers(self.path("bin"))
        self.phoenix = args.phoenix or os.path.join(REPO, "target", "release", "phoenix")
        self.baseline = args.baseline or None
        if not os.access(self.phoenix, os.X_OK):
            self.phoenix = None
        self.phoenix_build_failed = os.environ.get("BENCH_PHOENIX_BUILD") == "failed"
        self.peers = []
        for cls in PEER_CLASSES:
            peer = cls(self)
            if peer_key(peer) in wanted:
                self.peers.append(peer)
        self.tables = []

    def phoenix_problem(self):
        if self.phoenix_build_failed:
            return "cargo build --release failed"
        if not self.phoenix:
            return "target/release/phoenix not built"
        return None

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def next_id(self):
        self._id += 1
        return self._id

    def workdir(self, label):
        d = self.path("runs", f"{self.next_id():04d}-{label.replace(' ', '_').replace('(', '').replace(')', '')}")
        os.makedirs(d)
        return d

    def inits(self):
        return [p for p in self.peers if p.kind == "init"]

    def supervisors(self):
        return [p for p in self.peers if p.kind == "supervisor"]

    def usable(self, peers):
        """(peer, None) for usable peers and (peer, reason) for the others."""
        return [(p, p.unavailable()) for p in peers]

    # -- starting a configuration --------------------------------------------------------

    def start_services(self, peer, label, services):
        """Write the peer's configuration for services, start it as PID 1, return the run."""
        root = self.workdir(f"{peer.name}-{label}")
        argv = peer.command(root, services)
        run = Pid1Run(self, argv, f"{peer.name}-{label}".replace(" ", "_"), cwd=root)
        run.start()
        return run

    def start_single(self, peer, label, child, group=False):
        root = self.workdir(f"{peer.name}-{label}")
        run = Pid1Run(self, peer.command(child, group=group), f"{peer.name}-{label}".replace(" ", "_"), cwd=root)
        run.start()
        return run

    def wait_up(self, run, stamps, timeout_s):
        """Wait until every stamp file has a start stamp; NA if not."""
        def all_up():
            return all(os.path.exists(s) and os.path.getsize(s) > 0 for s in stamps)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all_up():
                return
            run.check_alive()
            time.sleep(0.005)
        n = sum(1 for s in stamps if os.path.exists(s))
        raise NA(f"only {n}/{len(stamps)} services up after {timeout_s:.0f} s")


def measure(table, peer, case, fn, note=""):
    """Run fn() -> (values, censored, note) for one row; any failure becomes n/a."""
    problem = peer.unavailable()
    if problem:
        table.add(Row(peer, case, na=problem))
        return
    try:
        values, censored, extra = fn()
        table.add(Row(peer, case, values=values, censored=censored, note=" ".join(x for x in (note, extra) if x)))
    except NA as e:
        table.add(Row(peer, case, na=str(e)))
        log(f"{table.key} {peer.name} {case}: n/a ({e})")
    except Exception as e:  # a bug in a scenario must not end the whole run
        table.add(Row(peer, case, na=f"harness error: {type(e).__name__}: {e}"))
        log(f"{table.key} {peer.name} {case}: harness error\n{traceback.format_exc()}")


# --------------------------------------------------------------------------------------
# Scenario 1: the floor
# --------------------------------------------------------------------------------------

class FloorPeer(Peer):
    name = "fork+exec+wait (floor)"
    kind = "floor"

    def unavailable(self):
        return None


def scenario_floor(b):
    s = b.settings
    t = Table("1", "1. Floor: fork + exec + wait of a static no-op program", "µs",
              how=f"`floor` (C) times fork + execv + waitpid of a static no-op program "
                  f"({s.floor_runs} runs), and of each init running that program as its only "
                  f"child ({s.floor_init_runs} runs; not as PID 1). × Phoenix compares with "
                  f"Phoenix's tini mode.")

    def run_floor(argv, runs):
        out = b.path("floor.out")
        subprocess.run([b.helpers.floor, out, str(runs)] + argv, check=True, timeout=300)
        values, bad = [], 0
        with open(out) as f:
            for line in f:
                ns, status = line.split()
                values.append(int(ns) / 1000)
                bad += status != "0"
        return values, bad

    # Check each init first: it must really run its child and pass its exit status on.
    floor_peer = FloorPeer(b)
    contenders = [(floor_peer, [b.helpers.noop], s.floor_runs)]
    problems = {}
    for peer in b.inits():
        problem = peer.unavailable()
        if not problem:
            stamp = b.path(f"floor-check-{b.next_id()}")
            try:
                check = subprocess.run(peer.command([b.helpers.bsvc, "exit", stamp, "7"]),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
                if not os.path.exists(stamp):
                    problem = f"did not run its child (exit status {check.returncode})"
                elif check.returncode != 7:
                    problem = f"child exited 7, init exited {check.returncode}"
            except subprocess.TimeoutExpired:
                problem = "did not exit within 20 s after its child"
        if problem:
            problems[peer] = problem
        else:
            contenders.append((peer, peer.command([b.helpers.noop]), s.floor_init_runs))

    # Interleave: rounds of 10 runs per contender, so drift on a shared machine hits all alike.
    results = {peer: [] for peer, _, _ in contenders}
    bad = {peer: 0 for peer, _, _ in contenders}
    rounds = max(1, s.floor_init_runs // 10)
    for i in range(rounds):
        for peer, argv, runs in contenders:
            per_round = runs // rounds + (1 if i < runs % rounds else 0)
            try:
                vals, nbad = run_floor(argv, per_round)
            except (subprocess.SubprocessError, OSError) as e:
                problems[peer] = f"floor failed: {e}"
                continue
            results[peer] += vals
            bad[peer] += nbad

    for peer in [floor_peer] + b.inits():
        def one(peer=peer):
            if peer in problems:
                raise NA(problems[peer])
            if bad[peer]:
                raise NA(f"{bad[peer]} runs exited non-zero")
            return results[peer], False, ""
        measure(t, peer, "", one)
    return [t]


# --------------------------------------------------------------------------------------
# Scenario 2: restart latency
# --------------------------------------------------------------------------------------

def restart_peers(b):
    peers = list(b.supervisors())
    if any(isinstance(p, S6) for p in peers):
        peers.insert(peers.index(next(p for p in peers if isinstance(p, S6))) + 1, S6(b, readiness=True))
    return peers


def kill_and_time(run, stamp, s):
    """SIGKILL the one service of `run` once it has run long enough; the ms from the kill
    to the new instance's first stamp, or None when no restart came."""
    starts, _ = read_stamps(stamp)
    age = (now_ns() - starts[-1]) / 1e9
    if age < s.restart_min_age_s:
        time.sleep(s.restart_min_age_s - age)
    pids = wait_for(run.service_pids, 5)
    if not pids:
        raise NA("service process not found")
    before = len(starts)
    t_kill = now_ns()
    os.kill(pids[0], signal.SIGKILL)
    if not run.wait(lambda: len(read_stamps(stamp)[0]) > before, s.restart_timeout_s, 0.0005):
        run.check_alive()
        return None
    value = (read_stamps(stamp)[0][before] - t_kill) / NS_PER_MS
    # let the new instance be seen as a process before its next kill
    wait_for(lambda: run.service_pids() and run.service_pids()[0] != pids[0], 5)
    return value


def scenario_restart(b):
    """Every supervisor live at once, one service each; each round kills every supervisor's
    service once, in a new random order, so a slow moment of the machine falls on all of
    them alike instead of on whichever ran in that minute."""
    s = b.settings
    t = Table("2", "2. Restart latency after SIGKILL (interleaved)", "ms",
              how=f"Every supervisor runs at the same time, one service each (PID 1 of its own "
                  f"namespace). Each of {s.restart_reps} rounds SIGKILLs every supervisor's "
                  f"service once, in a new random order; a service is killed only after it has "
                  f"run ≥ {s.restart_min_age_s} s. The value is the time from the kill to the new "
                  f"instance's first instruction (it stamps CLOCK_MONOTONIC first thing). Restart "
                  f"delay zero where the supervisor has one. The note gives p10 and the spread.",
              digits=3)
    peers = restart_peers(b)
    live, values, misses = [], {}, {}
    rng = random.Random(s.restart_seed)
    with contextlib.ExitStack() as stack:
        for peer in peers:
            problem = peer.unavailable()
            if problem:
                t.add(Row(peer, na=problem))
                continue
            try:
                stamp = b.path(f"restart-{b.next_id()}.stamp")
                run = stack.enter_context(b.start_services(peer, "restart", [Service("svc", b, "pause", stamp)]))
                b.wait_up(run, [stamp], s.up_timeout_s)
                live.append((peer, run, stamp))
                values[peer.name], misses[peer.name] = [], 0
            except NA as e:
                t.add(Row(peer, na=str(e)))
        failed = {}
        for _ in range(s.restart_reps):
            order = [entry for entry in live if entry[0].name not in failed]
            rng.shuffle(order)
            for peer, run, stamp in order:
                try:
                    value = kill_and_time(run, stamp, s)
                except NA as e:
                    failed[peer.name] = str(e)
                    continue
                if value is None:
                    misses[peer.name] += 1
                    if misses[peer.name] >= 2:
                        failed[peer.name] = f"no restart within {s.restart_timeout_s:.0f} s"
                    continue
                values[peer.name].append(value)
        for peer, _, _ in live:
            if peer.name in failed:
                t.add(Row(peer, na=failed[peer.name]))
                continue
            v = values[peer.name]
            note = f"p10 {quantile(v, 0.1):.3f}, p90−p10 {quantile(v, 0.9) - quantile(v, 0.1):.3f}"
            if misses[peer.name]:
                note += f"; {misses[peer.name]} kills not followed by a restart"
            t.add(Row(peer, values=v, note=note))
    return [t, pairwise_table(t)]


def pairwise_table(t):
    """Each pair's ratio of medians, row over column, from one interleaved run."""
    rows = [r for r in t.rows if r.median()]
    pairs = Table("2b", "2b. Restart latency, pair by pair: median of the row ÷ median of the column",
                  "", how="From the same interleaved run as table 2; below 1: the row restarts faster.")
    headers = ["supervisor"] + [r.peer.name for r in rows]

    def cells(row):
        return [row.peer.name] + [f"{row.median() / other.median():.2f}" for other in rows]
    pairs.columns = (headers, cells)
    pairs.rows = rows
    return pairs


# --------------------------------------------------------------------------------------
# Scenario 3: idle cost
# --------------------------------------------------------------------------------------

def strace_count(pids, seconds, out):
    """System calls made by pids (and their threads/children) during `seconds`."""
    if not shutil.which("strace"):
        raise NA("strace not installed")
    cmd = ["strace", "-c", "-f", "-q", "-o", out]
    for p in pids:
        cmd += ["-p", str(p)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(seconds)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    total = 0
    try:
        with open(out) as f:
            for line in f:
                parts = line.split()
                if parts and parts[-1] == "total":
                    nums = [p for p in parts[:-1] if p.replace(".", "").isdigit()]
                    # columns: % time, seconds, usecs/call, calls, [errors]
                    total = int(nums[3]) if len(nums) >= 4 else 0
    except OSError:
        raise NA("strace wrote no summary")
    return total


# One exec health probe a second (`true`), for the idle row that shows a probe's wake-ups.
IDLE_PROBE = ("[health]", 'check = "exec"', 'command = ["true"]', 'interval = "1s"')


def scenario_idle(b):
    s = b.settings
    window_total = s.idle_windows * s.idle_window_s
    t = Table("3a", "3a. Idle cost: context switches per minute of the supervisor's processes", "/min",
              how=f"Services that only sleep; after all are up and {s.idle_settle_s:.0f} s of settling, "
                  f"voluntary + nonvoluntary context switches (all threads, /proc/PID/task/*/status) "
                  f"of every process that is not a service, over {s.idle_windows} windows of "
                  f"{s.idle_window_s:.0f} s, scaled to a minute.", digits=1)
    t2 = Table("3b", "3b. Idle cost: system calls per second (strace -c -f)", "/s",
               how=f"strace -c -f attached to the same processes for {s.strace_s:.0f} s (attaching "
                   f"itself may add a call or two).", digits=2)

    def one(peer, n, health=()):
        stamps = [b.path(f"idle-{b.next_id()}-{i}.stamp") for i in range(n)]
        if peer.kind == "init":
            run = b.start_single(peer, "idle", [b.helpers.bsvc, "pause", stamps[0]])
        else:
            services = [Service(f"svc{i:04d}", b, "pause", st, phoenix=health) for i, st in enumerate(stamps)]
            run = b.start_services(peer, f"idle{n}", services)
        with run:
            b.wait_up(run, stamps, s.up_timeout_s)
            time.sleep(s.idle_settle_s)
            run.check_alive()
            pids = run.supervisor_pids()
            if not pids:
                raise NA("no supervisor process found")
            rates = []
            last = sum(ctxt_switches(p) or 0 for p in pids)
            for _ in range(s.idle_windows):
                time.sleep(s.idle_window_s)
                cur = sum(ctxt_switches(p) or 0 for p in pids)
                rates.append((cur - last) * 60.0 / s.idle_window_s)
                last = cur
            run.check_alive()
            note = plural(len(pids), "process")
            try:
                calls = strace_count(pids, s.strace_s, b.path(f"strace-{b.next_id()}.txt"))
                strace_result = ([calls / s.strace_s], False, note)
            except NA as e:
                strace_result = NA(str(e))
            return (rates, False, note), strace_result

    for peer in b.peers:
        counts = [(1, ())] if peer.kind == "init" else [(1, ()), (100, ())]
        if isinstance(peer, PhoenixServices) and peer.is_phoenix():
            # The cost of a probe timer: what an otherwise idle Phoenix wakes for.
            counts.append((1, IDLE_PROBE))
        for n, health in counts:
            case = f"{n} service" + ("s" if n > 1 else "")
            if health:
                case += ", exec health probe every 1 s"
            results = {}

            def ctxt(peer=peer, n=n, health=health):
                results["idle"] = one(peer, n, health)
                return results["idle"][0]
            measure(t, peer, case, ctxt)

            def calls():
                if "idle" not in results:
                    raise NA("see 3a")
                r = results["idle"][1]
                if isinstance(r, NA):
                    raise r
                return r
            measure(t2, peer, case, calls)
    log(f"(idle windows: {window_total:.0f} s each)")
    return [t, t2]


# --------------------------------------------------------------------------------------
# Scenario 4: memory
# --------------------------------------------------------------------------------------

def scenario_memory(b):
    s = b.settings
    tp = Table("4a", "4a. Memory: PSS of the supervisor's processes", "MiB",
               how="Sum of Pss from /proc/PID/smaps_rollup over every process that is not a service, "
                   f"idle, {s.memory_samples} samples 0.5 s apart.", digits=2)
    tr = Table("4b", "4b. Memory: RSS of the supervisor's processes", "MiB",
               how="Sum of Rss over the same processes (shared pages counted once per process).", digits=2)

    for peer in b.peers:
        sizes = [1] if peer.kind == "init" else s.memory_sizes
        for n in sizes:
            case = f"{n} service" + ("s" if n > 1 else "")
            results = {}

            def pss(peer=peer, n=n):
                stamps = [b.path(f"mem-{b.next_id()}-{i}.stamp") for i in range(n)]
                if peer.kind == "init":
                    run = b.start_single(peer, "mem", [b.helpers.bsvc, "pause", stamps[0]])
                else:
                    services = [Service(f"svc{i:04d}", b, "pause", st) for i, st in enumerate(stamps)]
                    run = b.start_services(peer, f"mem{n}", services)
                with run:
                    b.wait_up(run, stamps, s.up_timeout_1000_s if n >= 1000 else s.up_timeout_s)
                    time.sleep(1.0)
                    ps, rs = [], []
                    pids = run.supervisor_pids()
                    for i in range(s.memory_samples):
                        if i:
                            time.sleep(0.5)
                        run.check_alive()
                        vals = [rss_pss_kib(p) for p in pids]
                        vals = [v for v in vals if v]
                        rs.append(sum(v[0] for v in vals) / 1024)
                        ps.append(sum(v[1] for v in vals) / 1024)
                    note = plural(len(pids), "process")
                    results["rss"] = (rs, False, note)
                    return ps, False, note
            measure(tp, peer, case, pss)

            def rss():
                if "rss" not in results:
                    raise NA("see 4a")
                return results["rss"]
            measure(tr, peer, case, rss)
    return [tp, tr]


# --------------------------------------------------------------------------------------
# Scenario 5: start-up
# --------------------------------------------------------------------------------------

def scenario_startup(b):
    s = b.settings
    n = s.startup_services
    t = Table("5", f"5. Start-up: exec to all {n} services running", "ms",
              how=f"Time from just before exec of `unshare … SUPERVISOR` to the latest first-instruction "
                  f"stamp of {n} services (each stamps its own file); {plural(s.startup_reps, 'run')}.", digits=1)
    for peer in b.supervisors():
        def one(peer=peer):
            values = []
            for _ in range(s.startup_reps):
                stamps = [b.path(f"up-{b.next_id()}-{i}.stamp") for i in range(n)]
                services = [Service(f"svc{i:04d}", b, "pause", st) for i, st in enumerate(stamps)]
                run = b.start_services(peer, "startup", services)
                with run:
                    b.wait_up(run, stamps, s.up_timeout_s)
                    latest = max(read_stamps(st)[0][0] for st in stamps)
                    values.append((latest - run.t_exec) / NS_PER_MS)
            return values, False, ""
        measure(t, peer, "", one)
    return [t]


# --------------------------------------------------------------------------------------
# Scenario 6: reap storm
# --------------------------------------------------------------------------------------

def scenario_storm(b):
    s = b.settings
    n = s.storm_orphans
    t = Table("6a", f"6a. Reap storm as PID 1: {n} orphans exit at once, time until all are reaped", "ms",
              how=f"A child (for supervisors: a service) creates {n} double-forked orphans blocked on a "
                  f"pipe, closes it so all exit at once, and polls kill(pid, 0) until every one is gone "
                  f"(reaped), at most 30 s; {plural(s.storm_reps, 'run')}.", digits=1)
    tz = Table("6b", "6b. Reap storm: zombies left when the clock stopped", "zombies",
               how="Orphans still present (as zombies) when the 30 s cap ended the wait; 0 when all were reaped.",
               digits=0)

    for peer in b.peers:
        results = {}

        def one(peer=peer):
            times, zombies, censored = [], [], False
            for _ in range(s.storm_reps):
                stamp = b.path(f"storm-{b.next_id()}.stamp")
                result = b.path(f"storm-{b.next_id()}.result")
                if peer.kind == "init":
                    run = b.start_single(peer, "storm", [b.helpers.bsvc, "storm", stamp, str(n), result])
                else:
                    svc = Service("storm", b, "storm", stamp, [str(n), result, "pause"])
                    run = b.start_services(peer, "storm", [svc])
                with run:
                    got = run.wait(lambda: os.path.exists(result), 60, 0.01)
                    if not got and not os.path.exists(result):
                        raise NA("storm did not finish in 60 s")
                    with open(result) as f:
                        cleared, left, zomb = (int(x) for x in f.read().split())
                    times.append(cleared / NS_PER_MS)
                    zombies.append(zomb)
                    censored = censored or left > 0
            results["z"] = (zombies, False, "")
            return times, censored, "cap hit: not all reaped" if censored else ""
        measure(t, peer, "", one)

        def z():
            if "z" not in results:
                raise NA("see 6a")
            return results["z"]
        measure(tz, peer, "", z)
    return [t, tz]


# --------------------------------------------------------------------------------------
# Scenario 7: shutdown
# --------------------------------------------------------------------------------------

def scenario_shutdown(b):
    s = b.settings
    cap = s.shutdown_cap_s
    ta = Table("7a", "7a. Shutdown as PID 1: SIGTERM to the init's exit, 10 services", "ms",
               how=f"Ten services that die at once on SIGTERM (for single-child inits: one child that "
                   f"forked 10 more in its process group, and the init's group-signalling flag); SIGTERM "
                   f"to PID 1, time until PID 1 has exited (capped at {cap:.0f} s); {plural(s.shutdown_reps, 'run')}. "
                   f"'graceful' counts services that received SIGTERM before dying (the rest were "
                   f"SIGKILLed, e.g. by the kernel when PID 1 exited); single-child inits count 11 processes, "
                   f"the launcher and its 10 children.", digits=2)
    tb = Table("7b", "7b. Shutdown with one service that ignores SIGTERM", "s",
               how=f"One service ignores SIGTERM; stop timeout configured to {s.stop_timeout_s} s where "
                   f"the supervisor has one. SIGTERM to PID 1; when is the service killed, when does "
                   f"PID 1 exit (cap {cap:.0f} s).",
               columns=(["supervisor", "service killed after", "PID 1 exited after", "note"], None))

    def fmt_s(v):
        return f"≥ {cap:.0f} s (still alive; SIGKILLed by the harness)" if v is None else f"{v:.2f} s"

    tb.columns = (tb.columns[0], lambda r: [r.peer.name] + (
        [f"n/a ({r.na})", "", r.note] if r.na else [fmt_s(r.values[0]), fmt_s(r.values[1]), r.note]))

    for peer in b.peers:
        def coop(peer=peer):
            values, graceful, censored = [], [], False
            # single-child inits: the launcher and its 10 children all get the signal
            total = 11 if peer.kind == "init" else 10
            for _ in range(s.shutdown_reps):
                stamp = b.path(f"down-{b.next_id()}.stamp")
                if peer.kind == "init":
                    run = b.start_single(peer, "shutdown", [b.helpers.bsvc, "group10", stamp], group=True)
                    stamps = [stamp]
                else:
                    stamps = [b.path(f"down-{b.next_id()}-{i}.stamp") for i in range(10)]
                    services = [Service(f"svc{i:02d}", b, "pause", st) for i, st in enumerate(stamps)]
                    run = b.start_services(peer, "shutdown", services)
                with run:
                    b.wait_up(run, stamps, s.up_timeout_s)
                    if not wait_for(lambda: len(run.service_pids()) >= 10, 5):
                        raise NA("services not all running")
                    time.sleep(0.3)
                    run.check_alive()
                    t0 = now_ns()
                    os.kill(run.init, signal.SIGTERM)
                    t1 = pidfd_wait(run.init, cap)
                    if t1 is None:
                        censored = True
                        values.append(cap * 1000)
                    else:
                        values.append((t1 - t0) / NS_PER_MS)
                    graceful.append(sum(len(read_stamps(st)[1]) for st in stamps))
            span = f"{min(graceful)}–{max(graceful)}" if min(graceful) != max(graceful) else f"{graceful[0]}"
            return values, censored, f"graceful: {span}/{total}"
        measure(ta, peer, "", coop)

        def stubborn(peer=peer):
            stamp = b.path(f"stubborn-{b.next_id()}.stamp")
            if peer.kind == "init":
                run = b.start_single(peer, "stubborn", [b.helpers.bsvc, "ignore-term", stamp])
            else:
                run = b.start_services(peer, "stubborn", [Service("stubborn", b, "ignore-term", stamp)])
            with run:
                b.wait_up(run, [stamp], s.up_timeout_s)
                pids = wait_for(run.service_pids, 5)
                if not pids:
                    raise NA("service process not found")
                time.sleep(0.3)
                run.check_alive()
                watch = ExitWatch([pids[0], run.init])
                t0 = now_ns()
                os.kill(run.init, signal.SIGTERM)
                done = watch.wait(cap)
                t_svc, t_init = done.get(pids[0]), done.get(run.init)
                return [None if t_svc is None else (t_svc - t0) / 1e9,
                        None if t_init is None else (t_init - t0) / 1e9], False, ""
        measure_stubborn(tb, peer, stubborn, s)
    return [ta, tb]


def measure_stubborn(table, peer, fn, s):
    """Like measure(), but the service's death is watched in its own thread-free way: we
    poll both the service and PID 1 so each gets its own time."""
    problem = peer.unavailable()
    if problem:
        table.add(Row(peer, na=problem))
        return
    try:
        values, _, note = fn()
        table.add(Row(peer, values=values, note=note))
    except NA as e:
        table.add(Row(peer, na=str(e)))
        log(f"{table.key} {peer.name}: n/a ({e})")
    except Exception as e:
        table.add(Row(peer, na=f"harness error: {type(e).__name__}: {e}"))
        log(f"{table.key} {peer.name}: harness error\n{traceback.format_exc()}")


# --------------------------------------------------------------------------------------
# Scenario 8: crash loop
# --------------------------------------------------------------------------------------

def phoenixctl_state(peer, run, name):
    """What `phoenixctl status NAME --json` says at the end of the window."""
    ctl = os.path.join(os.path.dirname(peer.path()), "phoenixctl")
    socket = os.path.join(run.cwd, "run", "control.sock")
    try:
        out = subprocess.run([ctl, "--socket", socket, "--json", "status", name],
                             capture_output=True, text=True, timeout=10)
        status = json.loads(out.stdout)
        if isinstance(status, list):
            status = status[0]
        return (f"phoenixctl status: {status['state']}, circuit {status['circuit']}, "
                f"{status['failures_in_window']} failures in the window")
    except (OSError, ValueError, KeyError, IndexError, subprocess.SubprocessError) as error:
        return f"phoenixctl status failed: {error}"

def scenario_crashloop(b):
    s = b.settings
    w = s.crash_window_s

    def cells(r):
        if r.na:
            return [r.peer.name, f"n/a ({r.na})", "", "", "", r.note]
        starts, last_q, gap, verdict = r.values
        return [r.peer.name, str(starts), str(last_q), f"{gap:.2f} s", verdict, r.note]

    t = Table("8", f"8. Crash loop: a service that exits 1 at once, watched for {w:.0f} s", "",
              how="The supervisor's default restart settings (no tuning). Starts are counted from the "
                  "service's own stamps; 'last quarter' counts starts in the last quarter of the window.",
              columns=(["supervisor", f"starts in {w:.0f} s", "starts in last quarter", "longest gap",
                        "behaviour", "note"], cells))
    for peer in b.supervisors():
        def one(peer=peer):
            stamp = b.path(f"crash-{b.next_id()}.stamp")
            svc = Service("crasher", b, "fail", stamp, tuned=False)
            with b.start_services(peer, "crash", [svc]) as run:
                t0 = run.t_exec
                t_end = t0 + int(w * 1e9)
                exited_at = None
                while now_ns() < t_end:
                    if not run.alive():
                        exited_at = now_ns()
                        break
                    time.sleep(0.05)
                starts = [x for x in read_stamps(stamp)[0] if x <= t_end]
                if not starts:
                    if exited_at is not None:
                        raise NA(f"PID 1 exited after {(exited_at - t0) / 1e9:.2f} s (status "
                                 f"{run.proc.poll()}) without starting the service")
                    raise NA("the service never started")
                edges = [t0] + starts + [exited_at or t_end]
                gaps = [(b2 - a) / 1e9 for a, b2 in zip(edges, edges[1:])]
                last_q = sum(1 for x in starts if x >= t_end - int(w * 1e9 / 4))
                tail_gap = ((exited_at or t_end) - starts[-1]) / 1e9
                inner = [(b2 - a) / 1e9 for a, b2 in zip(starts, starts[1:])]
                backs_off = len(inner) >= 3 and inner[-1] > 2 * max(inner[0], 0.01) and inner[-1] >= 0.2
                gave_up = last_q == 0 and tail_gap > w / 4
                if exited_at is not None:
                    verdict = (f"escalates: PID 1 exited {(exited_at - starts[-1]) / 1e9:.2f} s after "
                               f"start {len(starts)} (status {run.proc.poll()})")
                elif backs_off and gave_up:
                    verdict = (f"backs off (gaps {inner[0]:.2f} s → {inner[-1]:.2f} s), then no start "
                               f"in the last {tail_gap:.1f} s")
                elif gave_up:
                    verdict = f"gives up: no start in the last {tail_gap:.1f} s"
                elif backs_off:
                    verdict = f"backs off (gaps {inner[0]:.2f} s → {inner[-1]:.2f} s)"
                else:
                    verdict = f"restarts steadily ({len(starts) / w:.1f}/s)"
                shown = ", ".join(f"{g:.2f}" for g in inner[:8]) + (", …" if len(inner) > 8 else "")
                note = f"gaps between starts (s): {shown}" if inner else ""
                if peer.is_phoenix() and exited_at is None:
                    note += "; " + phoenixctl_state(peer, run, "crasher")
                return [len(starts), last_q, max(gaps), verdict], False, note
        measure(t, peer, "", one)
    return [t]


# --------------------------------------------------------------------------------------
# Scenario 9: the cost of health probes
# --------------------------------------------------------------------------------------

def stat_cpu_ms(pid):
    """(utime + stime, cutime + cstime) of pid in ms, from /proc/PID/stat (clock ticks)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rfind(b")") + 2:].split()
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * tick_ms, (int(fields[13]) + int(fields[14])) * tick_ms


def sched_cpu_ms(pid):
    """utime + stime at ns precision (/proc/PID/schedstat: time spent on a CPU), or None
    where the kernel does not keep it."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            ns = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return ns / NS_PER_MS if ns else None


def fork_counter(init):
    """count() -> pids handed out so far in init's PID namespace (its last pid, read by a
    `cat` run inside it through nsenter), less the pids the readers took themselves."""
    reads = [0]

    def count():
        res = subprocess.run(["nsenter", "-t", str(init), "-p", "cat", "/proc/sys/kernel/ns_last_pid"],
                             capture_output=True, text=True, timeout=10)
        if res.returncode != 0:
            raise NA(f"nsenter failed: {res.stderr.strip()[:80]}")
        reads[0] += 1
        return int(res.stdout) - reads[0]
    return count


class HttpServer:
    """hsrv as PID 1 of its own namespace, on 127.0.0.1 at a port the kernel chose."""

    def __init__(self, b):
        self.portfile = b.path(f"hsrv-{b.next_id()}.port")
        self.run = Pid1Run(b, [b.helpers.hsrv, self.portfile], "hsrv").start()
        if not self.run.wait(lambda: os.path.exists(self.portfile), 5):
            self.run.stop()
            raise NA("the HTTP server did not start")
        with open(self.portfile) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}/healthz"

    def count(self):
        """Requests answered so far (`GET /count` itself is not counted)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/count")
            return int(conn.getresponse().read())
        finally:
            conn.close()


class Sidecar(Peer):
    """A shell loop doing the probes for a supervisor that has no health checks."""
    kind = "sidecar"

    def __init__(self, bench, name, needs):
        super().__init__(bench)
        self.name = name
        self.needs = needs

    def unavailable(self):
        missing = [n for n in self.needs if not shutil.which(n)]
        return f"{', '.join(missing)} not installed" if missing else None


def run_sidecar(b, script, timeout_s):
    """`bash -c SCRIPT` as PID 1 of its own namespace, to its end: (CPU ms of unshare, bash
    and every process bash waited for, from wait4's rusage; wall ms)."""
    argv = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "bash", "-c", script]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    logpath = b.path("logs", f"sidecar.{b.next_id()}.log")
    os.makedirs(os.path.dirname(logpath), exist_ok=True)
    acts = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, logpath, os.O_WRONLY | os.O_CREAT, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2)]
    t0 = now_ns()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=acts, setsid=True)
    t1 = None
    try:
        t1 = pidfd_wait(pid, timeout_s)
    finally:
        if t1 is None:  # timed out or interrupted: end the loop and all it started
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status, ru = os.wait4(pid, 0)
    if t1 is None:
        raise NA(f"the loop did not finish within {timeout_s:.0f} s")
    if status != 0:
        raise NA(f"the loop failed (wait status {status})")
    return (ru.ru_utime + ru.ru_stime) * 1000, (t1 - t0) / NS_PER_MS


def healthy_count(run):
    with open(run.logpath, errors="replace") as f:
        return sum(1 for line in f if "→ healthy" in line)


def trouble_note(run):
    """What went wrong during the windows, if anything: health changes, restarts."""
    with open(run.logpath, errors="replace") as f:
        bad = sum(1 for line in f if "→ unhealthy" in line or "→ degraded" in line)
    restarts = sum(len(read_stamps(st)[0]) - 1 for st in run.stamps)
    return ((f"; {bad} changes to degraded or unhealthy in Phoenix's log" if bad else "")
            + (f"; {restarts} service restarts" if restarts else ""))


def probe_services(b, label, health):
    """Phoenix with probe_services pausing services, each with these [health] lines;
    returns the run once every service is healthy (or, without [health], up)."""
    s = b.settings
    stamps = [b.path(f"{label}-{b.next_id()}-{i}.stamp") for i in range(s.probe_services)]
    extra = ["[health]"] + health if health else []
    services = [Service(f"svc{i:03d}", b, "pause", st, phoenix=extra) for i, st in enumerate(stamps)]
    run = b.start_services(PhoenixServices(b), label, services)
    run.stamps = stamps
    try:
        b.wait_up(run, stamps, s.up_timeout_s)
        if health and not run.wait(lambda: healthy_count(run) >= len(services), s.probe_up_timeout_s, 0.05):
            raise NA(f"{healthy_count(run)}/{len(services)} services healthy after {s.probe_up_timeout_s:.0f} s")
    except BaseException:
        run.stop()
        raise
    return run


def phoenix_windows(b, run, count):
    """Phoenix's CPU over probe_windows windows, per 1000 probes of that window: PID 1
    alone, and PID 1 with the children it reaped; and the totals over all windows."""
    s = b.settings
    alone, with_kids = [], []
    tot = {"probes": 0, "own": 0.0, "kids": 0.0, "s": s.probe_windows * s.probe_window_s}
    for _ in range(s.probe_windows):
        c0, t0, (o0, k0) = count(), sched_cpu_ms(run.init), stat_cpu_ms(run.init)
        time.sleep(s.probe_window_s)
        run.check_alive()
        c1, t1, (o1, k1) = count(), sched_cpu_ms(run.init), stat_cpu_ms(run.init)
        n = c1 - c0
        if n <= 0:
            raise NA("no probe in a window")
        own = t1 - t0 if t0 is not None and t1 is not None else o1 - o0
        alone.append(own * 1000 / n)
        with_kids.append((own + k1 - k0) * 1000 / n)
        tot["probes"] += n
        tot["own"] += o1 - o0
        tot["kids"] += k1 - k0
    return alone, with_kids, tot


def baseline_note(b):
    """Phoenix's CPU with the same services and no [health], over the same time."""
    s = b.settings
    total = s.probe_windows * s.probe_window_s
    try:
        with probe_services(b, "probes-none", []) as run:
            o0, _ = stat_cpu_ms(run.init)
            time.sleep(total)
            run.check_alive()
            return f"without [health], PID 1 used {stat_cpu_ms(run.init)[0] - o0:.0f} ms in {total} s"
    except NA as e:
        return f"without [health]: n/a ({e})"


def sidecar_windows(b, script, count):
    """The sidecar once per window (probe_window_s rounds): CPU ms per 1000 probes, the
    probes counted by count() around it or, without count, as rounds × services."""
    s = b.settings
    values, probes, wall = [], 0, 0.0
    for _ in range(s.probe_windows):
        before = count() if count else 0
        cpu, ms = run_sidecar(b, script, 20 * s.probe_window_s + 60)
        n = count() - before if count else s.probe_window_s * s.probe_services
        if n <= 0:
            raise NA("no request reached the server")
        values.append(cpu * 1000 / n)
        probes += n
        wall += ms / 1000
    return values, False, f"{probes} probes in {wall:.0f} s ({probes / wall:.0f}/s)"


def sidecar_script(b, command):
    s = b.settings
    return (f"for ((r = 0; r < {s.probe_window_s}; r++)); do for ((i = 0; i < {s.probe_services}; "
            f"i++)); do {command}; done; sleep 1; done")


def probes_how(b, check):
    s = b.settings
    return (f"{s.probe_services} services (`bsvc pause`) under Phoenix, each with `[health] check = "
            f"\"{check}\"`, `interval = \"1s\"` (from the end of one probe to the start of the next; "
            f"other keys default). Once every service is healthy: {s.probe_windows} windows of "
            f"{s.probe_window_s} s. Values are CPU time per 1000 probes in each window. Phoenix: PID 1's "
            f"utime + stime at ns precision from /proc/PID/schedstat (the note gives the "
            f"/proc/PID/stat total, in 10 ms ticks). Sidecar: a bash loop, PID 1 of its own namespace, "
            f"{s.probe_window_s} rounds per window of {s.probe_services} probes then `sleep 1`; its CPU "
            f"is wait4's rusage of the whole tree (unshare, bash, every probe and `sleep`).")


def scenario_probes(b):
    s = b.settings
    th = Table("9a", f"9a. Health probes over http: CPU time per 1000 probes, {s.probe_services} services",
               "ms", how=probes_how(b, "http"), digits=2)
    tx = Table("9b", f"9b. Health probes by exec of `true`: CPU time per 1000 probes, "
                     f"{s.probe_services} services", "ms", how=probes_how(b, "exec"), digits=1)
    phoenix = next((p for p in b.supervisors() if p.is_phoenix()), None)
    base = baseline_note(b) if phoenix and not phoenix.unavailable() else ""
    probes_http(b, th, phoenix, base)
    probes_exec(b, tx, phoenix, base)
    return [th, tx]


def probes_http(b, t, phoenix, base):
    t.how += (" The server is `hsrv` (C, one thread, its own process and namespace) on 127.0.0.1; "
              "it counts the requests it answered, and its CPU is counted for neither side.")
    side = Sidecar(b, "sidecar: bash loop of curl", ["bash", "curl"])
    try:
        server = HttpServer(b)
    except NA as e:
        for peer in filter(None, [phoenix, side]):
            t.add(Row(peer, na=str(e)))
        return
    with server.run:
        if phoenix:
            def one():
                health = ['check = "http"', f'url = "{server.url}"', 'interval = "1s"']
                with probe_services(b, "probes-http", health) as run:
                    alone, _, tot = phoenix_windows(b, run, server.count)
                    return alone, False, (f"{tot['probes']} probes in {tot['s']} s; /proc/PID/stat: {tot['own']:.0f} ms, "
                                          f"children {tot['kids']:.0f} ms; {base}{trouble_note(run)}")
            measure(t, phoenix, "", one)
        script = sidecar_script(b, f"curl -s -o /dev/null {server.url}")
        measure(t, side, "", lambda: sidecar_windows(b, script, server.count),
                note="`curl -s -o /dev/null URL`;")


def probes_exec(b, t, phoenix, base):
    true = shutil.which("true") or "/bin/true"
    t.how += (f" Exec probes are counted as the pids handed out in Phoenix's PID namespace (its "
              f"ns_last_pid, read through nsenter, less the readers' own); the services do not fork. "
              f"`true` is {os.path.realpath(true)} for both. × Phoenix compares the sidecar with "
              f"Phoenix and its probe processes (+ cutime + cstime of the probes it reaped).")
    if phoenix:
        kids = {}

        def one():
            health = ['check = "exec"', 'command = ["true"]', 'interval = "1s"']
            with probe_services(b, "probes-exec", health) as run:
                alone, kids["values"], tot = phoenix_windows(b, run, fork_counter(run.init))
                return alone, False, (f"{tot['probes']} probes in {tot['s']} s; /proc/PID/stat: {tot['own']:.0f} ms; "
                                      f"{base}{trouble_note(run)}")
        measure(t, phoenix, "PID 1 only", one)

        def both():
            if "values" not in kids:
                raise NA("see the row above")
            return kids["values"], False, ""
        measure(t, phoenix, "with its probe processes", both)
    side = Sidecar(b, f"sidecar: bash loop of {true}", ["bash"])
    script = sidecar_script(b, true)
    measure(t, side, "with its probe processes", lambda: sidecar_windows(b, script, None),
            note=f"probes = rounds × {b.settings.probe_services};")


# --------------------------------------------------------------------------------------
# Scenario 10: hang detection
# --------------------------------------------------------------------------------------

def read_pings(path):
    """The times (ns) of the WATCHDOG=1 pings `bsvc watchdog` logged as "P" lines."""
    with open(path) as f:
        return [int(line.split()[1]) for line in f if line.startswith("P ")]


def hang_once(b, run, stamp, rng):
    """SIGSTOP the service at a random moment once it has run ≥ restart_min_age_s; (ms from
    the stop, ms from its last ping) to the new instance's first stamp, or None if none
    came within restart_timeout_s."""
    s = b.settings
    starts, _ = read_stamps(stamp)
    age = (now_ns() - starts[-1]) / 1e9
    # a random phase against the pings: the harness's own timing must not pick it
    time.sleep(max(0.0, s.restart_min_age_s - age) + rng.uniform(0, s.hang_ping_ms / 1000))
    pids = wait_for(run.service_pids, 5)
    if not pids:
        raise NA("service process not found")
    before = len(starts)
    t_stop = now_ns()
    os.kill(pids[0], signal.SIGSTOP)
    if not run.wait(lambda: len(read_stamps(stamp)[0]) > before, s.restart_timeout_s, 0.001):
        return None
    # let the new instance be seen as a process before the next round
    wait_for(lambda: run.service_pids() and run.service_pids()[0] != pids[0], 5)
    t_new = read_stamps(stamp)[0][before]
    last_ping = max(p for p in read_pings(stamp) if p < t_stop)
    return (t_new - t_stop) / NS_PER_MS, (t_new - last_ping) / NS_PER_MS


def hang_reasons(run):
    with open(run.logpath, errors="replace") as f:
        return sum(1 for line in f if "warn:" in line and "hung (" in line)


def hang_how(s):
    core = resource.getrlimit(resource.RLIMIT_CORE)[0]
    return (f"One service (`bsvc watchdog {s.hang_ping_ms}`: it sends `WATCHDOG=1` to $NOTIFY_SOCKET "
            f"itself every {s.hang_ping_ms} ms and stamps each ping) with `[watchdog] timeout = "
            f"\"{s.hang_watchdog}\"` (signal SIGABRT, the default), `[stop] timeout = "
            f"\"{s.hang_stop_timeout_s}s\"`, `[restart] delay = \"0s\"`. Once it has run ≥ "
            f"{s.restart_min_age_s} s, and after a further random 0–{s.hang_ping_ms} ms (so the stop falls "
            f"anywhere between two pings), the harness SIGSTOPs it. 'SIGSTOP → restart': from just before "
            f"kill(2) to the new instance's first-instruction stamp; 'last ping → restart': from the "
            f"service's stamp of its last ping before the stop (where the watchdog counts from) to the "
            f"same stamp; {plural(s.hang_reps, 'hang')}. RLIMIT_CORE is {core}"
            + (" (no core dump). " if core == 0 else " (a core dump may add to the time). ")
            + "No peer has hang detection: s6, runit, supervisord and Horust have no watchdog or "
              "heartbeat setting (systemd's WatchdogSec= has one, but systemd is not a peer here).")


def hang_phoenix(b, peer, since_ping):
    s = b.settings
    stamp = b.path(f"hang-{b.next_id()}.stamp")
    svc = Service("hung", b, "watchdog", stamp, [str(s.hang_ping_ms)],
                  phoenix=["[watchdog]", f'timeout = "{s.hang_watchdog}"'])
    svc.stop_timeout_s = s.hang_stop_timeout_s
    rng = random.Random(1)
    with b.start_services(peer, "hang", [svc]) as run:
        b.wait_up(run, [stamp], s.up_timeout_s)
        got = [v for v in (hang_once(b, run, stamp, rng) for _ in range(s.hang_reps)) if v]
        if not got:
            raise NA(f"no restart within {s.restart_timeout_s:.0f} s of a SIGSTOP")
        missed = s.hang_reps - len(got)
        since_ping.extend(v[1] for v in got)
        note = f"{hang_reasons(run)} hangs reported in Phoenix's log"
        return [v[0] for v in got], False, note + (f"; {missed} stops not followed by a restart" if missed else "")


def scenario_hang(b):
    s = b.settings
    t = Table("10", f"10. Hang: SIGSTOP to the restart, watchdog timeout {s.hang_watchdog}", "ms",
              how=hang_how(s), digits=1)
    for peer in b.supervisors():
        if not peer.is_phoenix():
            t.add(Row(peer, "SIGSTOP → restart", na="no hang detection"))
            continue
        since_ping = []
        measure(t, peer, "SIGSTOP → restart", lambda peer=peer, acc=since_ping: hang_phoenix(b, peer, acc))

        def ping():
            if not since_ping:
                raise NA("see the row above")
            return since_ping, False, ""
        measure(t, peer, "last ping → restart", ping)
    return [t]


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------

SCENARIOS = [
    ("floor", scenario_floor),
    ("restart", scenario_restart),
    ("idle", scenario_idle),
    ("memory", scenario_memory),
    ("startup", scenario_startup),
    ("storm", scenario_storm),
    ("shutdown", scenario_shutdown),
    ("crashloop", scenario_crashloop),
    ("probes", scenario_probes),
    ("hang", scenario_hang),
]
SCENARIO_ALIASES = {str(i + 1): name for i, (name, _) in enumerate(SCENARIOS)}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine_header(b, argv):
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    lines = [
        f"## Phoenix benchmark run, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        "- command: `" + os.environ.get("BENCH_COMMAND", "contrib/bench/bench.py" + "".join(
            " " + shlex.quote(a) for a in argv)) + "`",
        f"- machine: nproc {os.cpu_count()}, memory {mem_kib / 1024 / 1024:.1f} GiB, "
        f"kernel {platform.release()} ({platform.machine()})",
        f"- load average at start: {loadavg()}",
    ]
    versions = []
    for p in b.peers:
        if not p.unavailable():
            v = ""
            try:
                v = p.version()
            except Exception:
                pass
            versions.append(f"{p.name}: {v or 'installed'}")
        else:
            versions.append(f"{p.name}: n/a ({p.unavailable()})")
    lines.append("- peers: " + "; ".join(versions))
    lines.append("- supervisor settings: " + "; ".join(f"{p.name}: {p.notes}" for p in b.supervisors() if p.notes))
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="Phoenix side by side with tini, dumb-init, catatonit, "
                                             "s6, runit, supervisord and Horust.")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and shorter windows (~10 min)")
    ap.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                    help="run only this scenario (name or number; repeatable or comma-separated): "
                         + ", ".join(f"{i + 1}={n}" for i, (n, _) in enumerate(SCENARIOS)))
    ap.add_argument("--peers", default="", help="comma-separated subset of: " + ",".join(PEER_NAMES))
    ap.add_argument("--phoenix", default="", help="Phoenix binary (default: target/release/phoenix)")
    ap.add_argument("--baseline", default="", help="a second Phoenix binary to run beside the first "
                                                    "(peer 'baseline'; only with --baseline)")
    ap.add_argument("--output", default="", help="also write the markdown report to this file")
    ap.add_argument("--json", default="", help="also write raw results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, configs)")
    args = ap.parse_args()

    if os.geteuid() != 0:
        raise SystemExit("bench: run as root (PID namespaces, strace of other processes)")
    if not shutil.which("unshare"):
        raise SystemExit("bench: unshare (util-linux) is needed")

    selected = []
    for item in args.only:
        for name in item.split(","):
            name = SCENARIO_ALIASES.get(name.strip(), name.strip())
            if name not in dict(SCENARIOS):
                raise SystemExit(f"bench: unknown scenario {name}; known: {', '.join(n for n, _ in SCENARIOS)}")
            selected.append(name)
    b = Bench(args)
    log(f"temporary directory: {b.tmp}")

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    started = time.monotonic()
    out = [machine_header(b, sys.argv[1:])]
    print(out[0], flush=True)
    try:
        for name, fn in SCENARIOS:
            if selected and name not in selected:
                continue
            t0 = time.monotonic()
            log(f"scenario {name} ...")
            for table in fn(b):
                b.tables.append(table)
                text = table.render()
                out.append(text)
                print(text, flush=True)
            log(f"scenario {name} took {time.monotonic() - t0:.0f} s")
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
    finally:
        for run in list(LIVE_RUNS):
            run.stop()
        footer = (f"_Total time: {time.monotonic() - started:.0f} s; load average at the end: "
                  f"{loadavg()} (a busy machine inflates every number; compare ratios)._\n")
        out.append(footer)
        print(footer, flush=True)
        if args.output:
            with open(args.output, "w") as f:
                f.write("\n".join(out))
        if args.json:
            with open(args.json, "w") as f:
                json.dump([t.to_json() for t in b.tables], f, indent=1)
        if args.keep:
            log(f"kept {b.tmp}")
        else:
            shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
