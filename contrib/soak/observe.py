"""What the soak sees from outside: the process table under Phoenix (from the host's
/proc), Phoenix's own RSS and descriptors, and control requests over the socket, timed."""

import json
import os
import socket
import time


def read(path):
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def stat(pid):
    """(state, ppid, pgrp, starttime) of `pid`, or None when it is gone."""
    text = read(f"/proc/{pid}/stat")
    if text is None:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None


def argv0(pid):
    text = read(f"/proc/{pid}/cmdline")
    if not text:
        return ""
    return text.split(b"\0")[0].decode(errors="replace")


def processes_under(root):
    """{pid: (state, ppid, pgrp, starttime)} of every descendant of `root`."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = stat(int(entry))
            if found is not None:
                table[int(entry)] = found
    under = {}
    children = {}
    for pid, (_, ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        under[pid] = table[pid]
        stack.extend(children.get(pid, []))
    return under


def children_of(pid):
    text = read(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in text.split()] if text else []


def rss_kib(pid):
    text = read(f"/proc/{pid}/status") or b""
    for line in text.splitlines():
        if line.startswith(b"VmRSS:"):
            return int(line.split()[1])
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def is_alive(pid):
    found = stat(pid)
    return found is not None and found[0] not in ("Z", "X")


class Control:
    """One request per connection, as phoenixctl does; every request timed."""

    def __init__(self, path):
        self.path = path
        self.latencies = []
        self.failures = []

    def request(self, body, timeout=5.0):
        line = json.dumps({"v": 1, "request": body}).encode() + b"\n"
        started = time.monotonic()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(timeout)
                client.connect(self.path)
                client.sendall(line)
                reply = b""
                while not reply.endswith(b"\n"):
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
            elapsed = time.monotonic() - started
            self.latencies.append(elapsed)
            return json.loads(reply)["reply"]
        except (OSError, ValueError, KeyError) as error:
            self.failures.append(f"{body.get('command')}: {error!r}")
            return None

    def status(self):
        reply = self.request({"command": "status"})
        if reply is None or reply.get("reply") != "status":
            return None
        return {service["name"]: service for service in reply["services"]}


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]


def namespace_pid(pid):
    """`pid`'s number inside its own (innermost) PID namespace."""
    text = read(f"/proc/{pid}/status") or b""
    for line in text.splitlines():
        if line.startswith(b"NSpid:"):
            return int(line.split()[-1])
    return None


def namespace_map(pid1):
    """{pid inside the namespace: host pid} of every process under Phoenix. Status replies
    carry the namespace's pids; signals from here need the host's."""
    found = {}
    for host in processes_under(pid1):
        inside = namespace_pid(host)
        if inside is not None:
            found[inside] = host
    return found


def signal_if_alive(pid, number):
    try:
        os.kill(pid, number)
    except OSError:
        pass
