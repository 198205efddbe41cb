#!/usr/bin/env python3
"""Phoenix's HTTP endpoint under load (issue 12's benchmark; docs/benchmarks.md).

    sudo python3 contrib/bench/scrape.py [--phoenix target/release/phoenix] [--scrapes 200]
                                         [--kills 30] [--sizes 1,100,1000]

1. Time to scrape /metrics with 1, 100 and 1000 services (each a `bsvc pause`), one new
   connection per scrape as Prometheus makes it: wall time from connect to the last byte,
   and Phoenix's own CPU time per scrape (utime + stime from /proc/PID/stat, before and
   after all the scrapes).
2. Restart latency of a SIGKILLed service (100 other services running) while /metrics is
   scraped 100 times a second, against the same with no scraping: kills alternate between
   the two conditions (idle, scraped, idle, scraped, ...) in one run, so both see the same
   machine. The latency is from the kill to the new instance's first instruction (bsvc
   stamps CLOCK_MONOTONIC first thing).

Phoenix runs as PID 1 of its own PID namespace (unshare), as in a container. Python 3
standard library only; gcc builds bsvc from contrib/bench/helpers/.
"""
import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def log(text):
    print(f"[scrape] {text}", file=sys.stderr, flush=True)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for(condition, timeout, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=5):
    """(status, body bytes) of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def read_starts(path):
    try:
        with open(path) as f:
            return [int(line.split()[0]) for line in f if line.split() and line.split()[0].isdigit()]
    except OSError:
        return []


def pid_of_stamp(path, parent):
    """The host pid of the child of `parent` (Phoenix) running with `path` as its stamp file
    (the pid bsvc writes is the namespace's)."""
    try:
        with open(f"/proc/{parent}/task/{parent}/children") as f:
            children = f.read().split()
    except OSError:
        return None
    for pid in children:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if path.encode() in f.read().split(b"\0"):
                    return int(pid)
        except OSError:
            continue
    return None


class Phoenix:
    """Phoenix as PID 1 of a new PID namespace over `services` (name → argv)."""

    def __init__(self, binary, root, services, port):
        self.root = root
        self.port = port
        units = os.path.join(root, "services.d")
        os.makedirs(units, exist_ok=True)
        for name, argv in services.items():
            words = ", ".join(f'"{w}"' for w in argv)
            with open(os.path.join(units, f"{name}.toml"), "w") as f:
                f.write(f"command = [{words}]\n[restart]\ndelay = \"0s\"\nmax-failures = 1000\n")
        config = os.path.join(root, "phoenix.toml")
        with open(config, "w") as f:
            f.write(f'runtime-dir = "{root}/run"\nstate-dir = "{root}/state"\n'
                    f'[http]\nlisten = "127.0.0.1:{port}"\n')
        self.stderr = open(os.path.join(root, "phoenix.stderr"), "w")
        self.process = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
             binary, "--services", units, "-c", config],
            stdout=subprocess.DEVNULL, stderr=self.stderr, start_new_session=True)
        self.pid = None

    def wait_ready(self, timeout):
        def ready():
            try:
                return get(self.port, "/ready", timeout=1)[0] == 200
            except OSError:
                return False
        if not wait_for(ready, timeout, 0.05):
            raise SystemExit(f"Phoenix not ready within {timeout} s; see {self.root}/phoenix.stderr")
        # The namespace's PID 1, as the host sees it: unshare's only child.
        children = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        self.pid = wait_for(lambda: (open(children).read().split() or [None])[0], 5)

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self.stderr.close()


def build_bsvc(tmp):
    binary = os.path.join(tmp, "bsvc")
    subprocess.run(["gcc", "-O2", "-o", binary, os.path.join(HERE, "helpers", "bsvc.c")], check=True)
    return binary


def scenario_scrape_time(args, tmp, bsvc):
    print("### Time to scrape /metrics\n")
    print(f"{args.scrapes} scrapes each, one connection per scrape; wall time from connect to the "
          "last byte (ms), and Phoenix's CPU time per scrape (ms, from /proc/PID/stat ticks).\n")
    print("| services | series lines | body KiB | median ms | p90 ms | max ms | Phoenix CPU ms/scrape |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        root = tempfile.mkdtemp(prefix=f"scrape-{size}-", dir=tmp)
        services = {f"s{i}": [bsvc, "pause", os.path.join(root, f"s{i}.stamp")] for i in range(size)}
        phoenix = Phoenix(args.phoenix, root, services, free_port())
        try:
            phoenix.wait_ready(120)
            status, body = get(phoenix.port, "/metrics")
            if status != 200:
                raise SystemExit(f"/metrics answered {status}")
            lines = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
            for _ in range(5):
                get(phoenix.port, "/metrics")
            ticks = cpu_ticks(phoenix.pid)
            times = []
            for _ in range(args.scrapes):
                started = time.perf_counter()
                get(phoenix.port, "/metrics")
                times.append((time.perf_counter() - started) * 1000)
            cpu_ms = (cpu_ticks(phoenix.pid) - ticks) * 1000 / os.sysconf("SC_CLK_TCK") / args.scrapes
            print(f"| {size} | {lines} | {len(body) / 1024:.1f} | {statistics.median(times):.2f} | "
                  f"{percentile(times, 90):.2f} | {max(times):.2f} | {cpu_ms:.2f} |", flush=True)
        finally:
            phoenix.stop()
    print()


def scraper(port, stop, counts):
    """GET /metrics 100 times a second until `stop` is set."""
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            get(port, "/metrics")
            counts[0] += 1
        except OSError:
            counts[1] += 1
        next_at += 0.01
        pause = next_at - time.monotonic()
        if pause > 0:
            stop.wait(pause)


def scenario_restart_while_scraped(args, tmp, bsvc):
    root = tempfile.mkdtemp(prefix="scraped-restart-", dir=tmp)
    stamp = os.path.join(root, "victim.stamp")
    services = {f"s{i}": [bsvc, "pause", os.path.join(root, f"s{i}.stamp")] for i in range(100)}
    services["victim"] = [bsvc, "pause", stamp]
    phoenix = Phoenix(args.phoenix, root, services, free_port())
    results = {"idle": [], "scraped": []}
    counts = [0, 0]
    try:
        phoenix.wait_ready(120)
        if not wait_for(lambda: read_starts(stamp), 10):
            raise SystemExit("the victim never started")
        for round_number in range(2 * args.kills):
            condition = "idle" if round_number % 2 == 0 else "scraped"
            stop = threading.Event()
            thread = None
            if condition == "scraped":
                thread = threading.Thread(target=scraper, args=(phoenix.port, stop, counts), daemon=True)
                thread.start()
            # The service has run past min-uptime (1 s), so the kill is a plain crash.
            starts = read_starts(stamp)
            age = (now_ns() - starts[-1]) / 1e9
            if age < 1.6:
                time.sleep(1.6 - age)
            pid = wait_for(lambda: pid_of_stamp(stamp, phoenix.pid), 5)
            before = len(read_starts(stamp))
            killed = now_ns()
            os.kill(pid, signal.SIGKILL)
            if not wait_for(lambda: len(read_starts(stamp)) > before, 10, 0.0005):
                raise SystemExit("no restart within 10 s")
            results[condition].append((read_starts(stamp)[before] - killed) / 1e6)
            stop.set()
            if thread:
                thread.join()
    finally:
        phoenix.stop()
    idle, scraped = results["idle"], results["scraped"]
    print("### Restart latency while /metrics is scraped 100 times a second\n")
    print(f"101 services; {args.kills} SIGKILLs per condition, alternating idle and scraped in one "
          f"run; {counts[0]} scrapes answered during the scraped kills, {counts[1]} failed.\n")
    print("| condition | median ms | p10 ms | p90 ms |")
    print("|---|---:|---:|---:|")
    for name, values in (("idle", idle), ("scraped 100/s", scraped)):
        print(f"| {name} | {statistics.median(values):.3f} | {percentile(values, 10):.3f} | "
              f"{percentile(values, 90):.3f} |")
    print(f"\nscraped / idle, medians: {statistics.median(scraped) / statistics.median(idle):.2f}\n",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phoenix", default=os.path.join(REPO, "target", "release", "phoenix"))
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--sizes", default="1,100,1000")
    args = parser.parse_args()
    args.sizes = [int(size) for size in args.sizes.split(",")]
    if os.geteuid() != 0:
        raise SystemExit("scrape: run as root (PID namespaces)")
    if not os.path.exists(args.phoenix):
        raise SystemExit(f"scrape: no Phoenix at {args.phoenix} (cargo build --release)")
    tmp = tempfile.mkdtemp(prefix="phoenix-scrape-")
    try:
        bsvc = build_bsvc(tmp)
        print(f"Phoenix {args.phoenix}; nproc {os.cpu_count()}; load average "
              f"{open('/proc/loadavg').read().split()[:3]}\n")
        scenario_scrape_time(args, tmp, bsvc)
        scenario_restart_while_scraped(args, tmp, bsvc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
