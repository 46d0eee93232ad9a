#!/usr/bin/env python3
"""Records what a real Redis 7.0 cluster answers, for the page's cluster test to compare with.

Starts six redis-server nodes (cluster-enabled yes) on free loopback ports, joins them with
`redis-cli --cluster create ... --cluster-replicas 1` (3 primaries, 3 replicas: the shape of
the page's one-click cluster), then runs the steps below on them: CLUSTER commands and other
commands through `redis-cli --no-raw` (the text redis-cli prints), and interactive sessions of
`redis-cli -c` through a pseudo-terminal (its `-> Redirected to slot [N] located at ...`
lines). Node IDs and ports differ from the page's: each step's command names nodes by label
(P0, P1, P2: the primaries by their first slot; R0, R1, R2: their replicas), and the fixture
keeps every node's ID and port, so the test rewrites both outputs to labels before comparing.

Writes tests/e2e/cluster.fixture.json. Run it again after changing the steps:
    python3 scripts/cluster-fixture.py
"""

import json
import os
import pty
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "e2e", "cluster.fixture.json")

# ("cmd", node, template) runs one command with redis-cli --no-raw on that node;
# ("session", node, [lines]) types lines into an interactive `redis-cli -c` started on it.
# Templates name nodes as {P0} (its ID) and {P0.port}.
STEPS = [
    ("cmd", "P0", "CLUSTER INFO"),
    ("cmd", "P0", "CLUSTER NODES"),
    ("cmd", "R0", "CLUSTER NODES"),
    ("cmd", "P0", "CLUSTER SLOTS"),
    ("cmd", "P0", "CLUSTER SHARDS"),
    ("cmd", "P0", "CLUSTER REPLICAS {P0}"),
    ("cmd", "P0", "CLUSTER KEYSLOT foo"),
    ("cmd", "P0", "CLUSTER KEYSLOT {user1000}.following"),
    ("cmd", "P0", "GET foo"),
    ("cmd", "P0", "MGET foo hello"),
    ("cmd", "R0", "GET hello"),
    ("cmd", "R0", "CLUSTER INFO"),
    ("session", "P0", [
        "set foo bar",
        "get foo",
        "set hello world",
        "3 incr {foo}n",
        "cluster countkeysinslot 12182",
        "mget foo {foo}n",
    ]),
    # READONLY on a replica serves reads of its primary's slots; a redirection is a new
    # connection, without it.
    ("session", "R0", [
        "readonly",
        "get hello",
        "get foo",
        "get foo",
        "get hello",
    ]),
    # A migration of slot 3300 ("b") from P0 to P1, as redis-cli --cluster reshard makes one.
    ("cmd", "P0", "SET {b}old 1"),
    ("cmd", "P1", "CLUSTER SETSLOT 3300 IMPORTING {P0}"),
    ("cmd", "P0", "CLUSTER SETSLOT 3300 MIGRATING {P1}"),
    ("cmd", "P0", "CLUSTER GETKEYSINSLOT 3300 10"),
    ("session", "P0", [
        "set b 1",
        "get b",
        "get {b}old",
    ]),
    ("cmd", "P0", "MIGRATE 127.0.0.1 {P1.port} \"\" 0 5000 KEYS {b}old"),
    ("cmd", "P0", "GET {b}old"),
    ("cmd", "P1", "GET {b}old"),
    ("cmd", "P1", "CLUSTER SETSLOT 3300 NODE {P1}"),
    ("cmd", "P0", "CLUSTER SETSLOT 3300 NODE {P1}"),
    ("cmd", "P0", "CLUSTER COUNTKEYSINSLOT 3300"),
    ("cmd", "P1", "CLUSTER COUNTKEYSINSLOT 3300"),
    ("session", "P0", [
        "get {b}old",
        "cluster keyslot b",
    ]),
]


def free_port():
    """A port free for the node and its bus (port + 10000)."""
    while True:
        p = random.randint(20000, 30000)
        ok = True
        for q in (p, p + 10000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
        if ok:
            return p


def cli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), "--no-raw", *args],
                       capture_output=True, text=True, timeout=30)
    return r.stdout


def words(line):
    """Splits a template line as redis-cli would (only "" quoting is used here)."""
    out = []
    for w in line.split(" "):
        out.append("" if w == '""' else w)
    return out


def session(port, lines):
    """Types lines into an interactive `redis-cli -c -p port` (TERM=dumb: no line editing
    escapes) and returns what it printed, the prompts and the echoed lines included."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "dumb"
        os.execvp("redis-cli", ["redis-cli", "-c", "-p", str(port)])
    out = b""

    def pump(seconds):
        nonlocal out
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return

    pump(0.5)
    for line in lines:
        os.write(fd, line.encode() + b"\r")
        pump(0.5)
    os.write(fd, b"quit\r")
    pump(0.5)
    os.waitpid(pid, 0)
    text = out.decode().replace("\r\n", "\n").replace("\r", "")
    # The last line is the prompt and "quit".
    return text[: text.rfind("\n", 0, text.rfind("quit")) + 1] if "quit" in text else text


def main():
    tmp = tempfile.mkdtemp(prefix="rp-cluster-")
    ports = []
    procs = []
    try:
        for _ in range(6):
            p = free_port()
            while p in ports:
                p = free_port()
            d = os.path.join(tmp, str(p))
            os.mkdir(d)
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(p), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--cluster-enabled", "yes", "--dir", d,
                 "--cluster-config-file", "nodes.conf", "--logfile", os.path.join(d, "log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            ports.append(p)
        for p in ports:
            for _ in range(100):
                if cli(p, "PING").strip() == "PONG":
                    break
                time.sleep(0.05)
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                        "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        for _ in range(200):
            ok = all("cluster_state:ok" in cli(p, "CLUSTER", "INFO") for p in ports)
            synced = all("master_link_status:up" in cli(p, "INFO", "replication")
                         for p in ports if "role:slave" in cli(p, "INFO", "replication"))
            if ok and synced:
                break
            time.sleep(0.1)
        nodes = {}
        for line in cli(ports[0], "CLUSTER", "NODES").strip().split("\n"):
            f = line.split(" ")
            port = int(f[1].split(":")[1].split("@")[0])
            slots = [int(s.split("-")[0]) for s in f[8:] if s[0].isdigit()]
            nodes[f[0]] = {"port": port, "master": None if f[3] == "-" else f[3],
                           "first": min(slots) if slots else None}
        primaries = sorted((n for n in nodes.values() if n["master"] is None), key=lambda n: n["first"])
        ids = {}
        for i, n in enumerate(primaries):
            nid = next(k for k, v in nodes.items() if v is n)
            ids[f"P{i}"] = nid
            for k, v in nodes.items():
                if v["master"] == nid:
                    ids[f"R{i}"] = k
        port_of = {label: nodes[nid]["port"] for label, nid in ids.items()}

        def fill(t):
            for label in ids:
                t = t.replace("{%s.port}" % label, str(port_of[label])).replace("{%s}" % label, ids[label])
            return t

        steps = []
        for kind, node, what in STEPS:
            if kind == "cmd":
                out = cli(port_of[node], *words(fill(what)))
                steps.append({"kind": kind, "node": node, "line": what, "out": out})
            else:
                out = session(port_of[node], [fill(l) for l in what])
                steps.append({"kind": kind, "node": node, "lines": what, "out": out})
            time.sleep(0.2)
        fixture = {
            "about": "Recorded by scripts/cluster-fixture.py from redis-server "
                     + cli(ports[0], "INFO", "server").split("redis_version:")[1].split()[0]
                     + ": a 3-primary, 3-replica cluster made by redis-cli --cluster create.",
            "nodes": {label: {"id": ids[label], "port": port_of[label]} for label in sorted(ids)},
            "steps": steps,
        }
        with open(OUT, "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        print(f"wrote {OUT}: {len(steps)} steps")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
