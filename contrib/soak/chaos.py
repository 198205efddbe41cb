"""The soak's driver: random faults while the chaos lasts, then calm (everything resumed,
units put back, stopped services started), then the end-of-run checks that need its own
records (who was due up by when, which deaths it saw)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import observe
import services

VERBS = ["status", "status NAME", "restart NAME", "stop NAME", "start NAME", "reset NAME",
         "signal NAME HUP", "events", "incidents", "incidents NAME", "check"]
UP = ("running",)


class Driver:
    def __init__(self, rng, directory, units, pid1, control, phoenixctl, port, violations):
        self.rng = rng
        self.directory = directory
        self.units = units
        self.pid1 = pid1
        self.control = control
        self.phoenixctl = phoenixctl
        self.port = port
        self.violations = violations
        self.faults = {}
        self.stopped_processes = {}  # pid -> when to SIGCONT
        self.stopped_services = set()
        self.edited = set()
        self.generation = 0
        self.killed_mains = {}  # name -> {pid}
        self.deaths_seen = 0
        self.exit_events = 0
        self.last_status = {}
        self.hosts = {}  # pid inside the namespace -> host pid, for every process under PID 1

    def count(self, kind):
        self.faults[kind] = self.faults.get(kind, 0) + 1

    def run_for(self, seconds, observer):
        actions = [(self.kill_main, 25), (self.kill_child, 10), (self.stop_process, 10),
                   (self.verb, 20), (self.reload, 5), (self.scrape, 15), (self.flood, 3)]
        weighted = [action for action, weight in actions for _ in range(weight)]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not observer.stopping.is_set():
            self.resume_due(time.monotonic())
            status = self.control.status()
            if status is not None:
                self.last_status = status
            self.hosts = observe.namespace_map(self.pid1)
            self.rng.choice(weighted)()
            time.sleep(self.rng.uniform(0.05, 0.4))

    def service_pids(self):
        """(name, pid inside, host pid) of every service with a live program."""
        return [(name, service["pid"], self.hosts[service["pid"]])
                for name, service in self.last_status.items()
                if service.get("pid") in self.hosts]

    def signal(self, host_pid, number):
        """Signals only a process under this soak's PID 1, never one of the host's."""
        if host_pid != self.pid1 and host_pid not in self.hosts.values():
            return False
        return signal_quietly(host_pid, number)

    def kill_main(self):
        found = self.service_pids()
        if found:
            name, inside, host = self.rng.choice(found)
            if self.signal(host, signal.SIGKILL):
                self.killed_mains.setdefault(name, set()).add(inside)
                self.count("sigkill-service")

    def kill_child(self):
        found = [child for _, _, host in self.service_pids() for child in observe.children_of(host)]
        if found:
            if self.signal(self.rng.choice(found), signal.SIGKILL):
                self.count("sigkill-child")

    def stop_process(self):
        found = self.service_pids()
        if not found:
            return
        _, _, pid = self.rng.choice(found)
        children = observe.children_of(pid)
        target = self.rng.choice(children) if children and self.rng.random() < 0.4 else pid
        if self.signal(target, signal.SIGSTOP):
            self.stopped_processes[target] = time.monotonic() + self.rng.uniform(0.5, 4.0)
            self.count("sigstop")

    def resume_due(self, now):
        for pid, due in list(self.stopped_processes.items()):
            if due <= now:
                self.signal(pid, signal.SIGCONT)
                del self.stopped_processes[pid]

    def verb(self):
        verb = self.rng.choice(VERBS)
        name = self.rng.choice(sorted(self.units))
        args = verb.replace("NAME", name).split()
        if args[0] == "stop":
            self.stopped_services.add(name)
        elif args[0] in ("start", "restart"):
            self.stopped_services.discard(name)
        self.ctl(args)
        self.count(f"phoenixctl-{args[0]}")

    def ctl(self, args):
        socket_path = f"{self.directory}/run/control.sock"
        try:
            done = subprocess.run([self.phoenixctl, "--socket", socket_path, *args],
                                  capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            self.violations.append(f"phoenixctl {' '.join(args)}: no answer within 30s")
            return None
        if done.returncode == 3:
            self.violations.append(f"phoenixctl {' '.join(args)}: Phoenix not reachable")
        return done

    def reload(self):
        names = [name for name, (kind, _, _) in self.units.items() if kind in ("steady", "parent")]
        name = self.rng.choice(names)
        kind = self.units[name][0]
        path = os.path.join(self.directory, "services.d", f"{name}.toml")
        self.generation += 1
        if self.rng.random() < 0.3:
            text = self.rng.choice(services.INVALID)
            self.count("reload-invalid-unit")
        else:
            text = services.edited(name, kind, self.directory, self.generation)
            self.count("reload-edited-unit")
        with open(path, "w") as file:
            file.write(text)
        self.edited.add(name)
        signal_quietly(self.pid1, signal.SIGHUP)

    def scrape(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as reply:
                body = reply.read()
            if reply.status != 200 or b"phoenix_" not in body:
                self.violations.append(f"/metrics answered {reply.status} without phoenix_ metrics")
        except OSError as error:
            self.violations.append(f"/metrics unanswered: {error!r}")
        self.count("metrics-scrape")

    def flood(self):
        """64 connections at once: garbage, half lines, and requests never read."""
        path = f"{self.directory}/run/control.sock"
        clients = []
        for index in range(64):
            try:
                client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                client.setblocking(False)
                client.connect(path)
                payload = [b"\xff\xfe garbage\n", b'{"v":1,"request":', b'{"v":1,"request":{"command":"status"}}\n' * 8]
                client.send(payload[index % 3])
                clients.append(client)
            except OSError:
                pass
        time.sleep(self.rng.uniform(0.2, 1.0))
        for client in clients:
            client.close()
        self.count("control-flood")

    def calm_down(self):
        """Everything the chaos left stopped, edited or broken is put back."""
        self.hosts = observe.namespace_map(self.pid1)
        for pid in list(self.stopped_processes):
            self.signal(pid, signal.SIGCONT)
        self.stopped_processes.clear()
        for name in self.edited:
            with open(os.path.join(self.directory, "services.d", f"{name}.toml"), "w") as file:
                file.write(self.units[name][1])
        signal_quietly(self.pid1, signal.SIGHUP)
        time.sleep(0.5)
        for name in sorted(self.stopped_services):
            self.ctl(["start", name])

    def wait_until_up(self, chaos_end):
        """Each service with a bound is running again by then, counted from the calm."""
        calm = time.monotonic()
        pending = {name: calm + bound for name, (_, _, bound) in self.units.items() if bound}
        while pending:
            status = self.control.status() or {}
            now = time.monotonic()
            for name in list(pending):
                service = status.get(name, {})
                if service.get("state") in UP and service.get("ready") is not False:
                    del pending[name]
            if all(deadline < now for deadline in pending.values()):
                break
            time.sleep(0.25)
        status = self.control.status() or {}
        return [f"{name}: not running {bound:.0f}s after the chaos stopped "
                f"(state {status.get(name, {}).get('state')}, circuit {status.get(name, {}).get('circuit')})"
                for name, bound in ((n, self.units[n][2]) for n in pending)]

    def check_deaths(self, main_pids):
        """Every main pid seen (sampled or killed) that is gone is a death with its event."""
        status = self.control.status() or {}
        events = read_events(os.path.join(self.directory, "state"))
        problems = []
        for name in sorted(self.units):
            seen = set(main_pids.get(name, set())) | self.killed_mains.get(name, set())
            current = status.get(name, {}).get("pid")
            alive = observe.namespace_map(self.pid1)
            dead = {pid for pid in seen if pid != current and pid not in alive}
            exits = [event for event in events if event.get("service") == name and event.get("exit")]
            killed = [event for event in exits if "SIGKILL" in event["exit"]]
            self.deaths_seen += len(dead)
            self.exit_events += len(exits)
            if len(exits) < len(dead):
                problems.append(f"{name}: {len(dead)} deaths seen, {len(exits)} exit events")
            mains = {pid for pid in self.killed_mains.get(name, set()) if pid != current}
            if len(killed) < len(mains):
                problems.append(f"{name}: {len(mains)} main pids SIGKILLed, {len(killed)} SIGKILL events")
        return problems


def read_events(state):
    events = []
    for name in ("events.jsonl.1", "events.jsonl"):
        try:
            with open(os.path.join(state, name), "rb") as file:
                for line in file:
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
    return events


def signal_quietly(pid, number):
    try:
        os.kill(pid, number)
        return True
    except OSError:
        return False
