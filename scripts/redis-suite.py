#!/usr/bin/env python3
"""Runs Redis 7.0.15's own test suite against redis-playground-server, unit by unit.

Each unit gets a fresh server on a free loopback port and runs in the suite's external mode
(`tclsh tests/test_helper.tcl --host 127.0.0.1 --port P --single unit/...`). A test that makes
no progress for --test-timeout seconds is a hang: the suite's own watchdog names it, the unit
is recorded as hanging on it and run again with that test skipped, so one hang costs one test,
not the rest of its unit. Every unit also has a hard --unit-timeout after which its processes
are killed.

Prints a table (unit, passed, failed, ignored, hung) and writes every test's result to
--results (`unit<TAB>status<TAB>test name`, status ok/err/hung).

The ratchet: --ratchet FILE lists `unit<TAB>test name` lines that must pass; the run fails and
names every listed test that did not. With --update the suite runs --runs times and FILE is
rewritten with the tests that passed in every run.

    scripts/redis-suite.py --server target/debug/redis-playground-server \\
        [--suite .cache/redis-7.0.15] [--units unit/type/list,unit/expire] [--jobs 2] \\
        [--results target/redis-suite/results.tsv] [--ratchet tests/redis-suite/passing.txt] \\
        [--update] [--runs 3]
"""
import argparse
import os
import re
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# The tags denied in external mode: they need a process the suite starts itself, replication,
# saving, or counters the suite resets. (Real Redis 7.0.15 also needs needs:debug denied there;
# the server here runs with DEBUG enabled, and those tests pass.) needs:config-maxmemory is
# allowed: its 11 tests (OOM in scripts, functions and MULTI, RESTORE's LRU/LFU, `evicted`
# events) pass since maxmemory is enforced, and each puts maxmemory back to 0.
DENIED_TAGS = [
    "needs:repl",
    "needs:save",
    "needs:pfdebug",
    "needs:config-resetstat",
    "needs:reset",
    "needs:latency",
    "needs:local-process",
]

# Normal mode: the suite starts the server itself, so only replication (several servers linked
# to each other) is out of reach.
DENIED_TAGS_NORMAL = ["needs:repl", "repl"]

# The units normal mode runs when none are named (its ratchet's units): those that need no
# replication and run in seconds, so `make test` stays short. The others run with
# REDIS_UNITS (geo, hyperloglog, list-3, set, stream, maxmemory, pubsub
# ...), each taking a minute or more or hanging somewhere.
NORMAL_UNITS = {
    "integration/aof",
    "integration/convert-ziplist-hash-on-load",
    "integration/convert-ziplist-zset-on-load",
    "integration/rdb",
    "integration/redis-benchmark",
    "integration/redis-cli",
    "unit/acl",
    "unit/acl-v2",
    "unit/auth",
    "unit/bitfield",
    "unit/bitops",
    "unit/client-eviction",
    "unit/cluster/announced-endpoints",
    "unit/cluster/links",
    "unit/cluster/misc",
    "unit/dump",
    "unit/expire",
    "unit/functions",
    "unit/info",
    "unit/info-command",
    "unit/introspection",
    "unit/introspection-2",
    "unit/keyspace",
    "unit/latency-monitor",
    "unit/lazyfree",
    "unit/limits",
    "unit/memefficiency",
    "unit/multi",
    "unit/networking",
    "unit/obuf-limits",
    "unit/oom-score-adj",
    "unit/other",
    "unit/pause",
    "unit/protocol",
    "unit/pubsubshard",
    "unit/quit",
    "unit/scan",
    "unit/scripting",
    "unit/shutdown",
    "unit/slowlog",
    "unit/sort",
    "unit/tracking",
    "unit/type/hash",
    "unit/type/incr",
    "unit/type/list",
    "unit/type/list-2",
    "unit/type/stream-cgroups",
    "unit/type/string",
    "unit/type/zset",
    "unit/violations",
}

# Files under tests/unit that are helpers sourced by units, not units themselves.
NOT_UNITS = {"unit/type/list-common"}
# Units that load modules built from Redis's own C sources (MODULE LOAD tests/modules/*.so):
# nothing a re-implementation can serve.
NOT_EXTERNAL = ("unit/moduleapi/",)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
OK = re.compile(r"^\[ok\]: (.*) \(\d+ ms\)$")
ERR = re.compile(r"^\[err\]: (.*)$")
IGNORE = re.compile(r"^\[ignore\]: (.*)$")
IN_PROGRESS = re.compile(r"^\S+ => \(IN PROGRESS\) (.*)$")
EXCEPTION = re.compile(r"^\[exception\]: (.*)$")


def all_units(suite):
    units = []
    base = os.path.join(suite, "tests")
    for root, _dirs, files in os.walk(os.path.join(base, "unit")):
        for f in files:
            if f.endswith(".tcl"):
                rel = os.path.relpath(os.path.join(root, f), base)[: -len(".tcl")]
                if rel not in NOT_UNITS and not rel.startswith(NOT_EXTERNAL):
                    units.append(rel)
    return sorted(units)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# Process groups of the servers and suites running now, ended if the runner itself is stopped.
ACTIVE = set()
ACTIVE_LOCK = threading.Lock()


def spawn(cmd, **kw):
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)
    with ACTIVE_LOCK:
        ACTIVE.add(proc)
    return proc


def stop_all(signum, _frame):
    with ACTIVE_LOCK:
        for proc in list(ACTIVE):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    sys.exit(128 + signum)


def kill_group(proc):
    """Ends a process we started in its own session, with everything it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    with ACTIVE_LOCK:
        ACTIVE.discard(proc)


class UnitResult:
    def __init__(self, unit):
        self.unit = unit
        self.tests = []  # (name, status) in the order they ran
        self.ignored = 0
        self.notes = []

    def count(self, status):
        return sum(1 for _, s in self.tests if s == status)


def parse_output(text):
    """The results test_helper printed: (tests, ignored, hung test or None, unit-level errors)."""
    tests, ignored, hung, problems = [], 0, None, []
    for raw in text.splitlines():
        line = ANSI.sub("", raw).rstrip("\r")
        m = OK.match(line)
        if m:
            tests.append((m.group(1), "ok"))
            continue
        m = ERR.match(line)
        if m:
            body = m.group(1)
            # A failed test reads "<name> in tests/unit/<file>.tcl"; anything else is an error
            # outside any test (it ends the unit's current server block).
            t = re.match(r"^(.*) in tests/\S+\.tcl$", body)
            if t:
                tests.append((t.group(1), "err"))
            else:
                problems.append(body)
            continue
        if IGNORE.match(line):
            ignored += 1
            continue
        m = IN_PROGRESS.match(line)
        if m:
            hung = m.group(1)
            continue
        m = EXCEPTION.match(line)
        if m:
            problems.append(m.group(1))
    return tests, ignored, hung, problems


def run_once(args, unit, slot, skips, log):
    if args.normal:
        return run_once_normal(args, unit, slot, skips, log)
    port = free_port()
    server_log = open(log + ".server", "ab")
    # A directory of its own: DEBUG RELOAD and SAVE write dump.rdb there, not in the checkout.
    data_dir = tempfile.mkdtemp(prefix="redis-suite-")
    server = spawn(
        [args.server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--enable-debug-command", "yes", "--dir", data_dir],
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_listening(port, server):
            return [], 0, None, ["the server did not start"], False
        cmd = suite_command(args, unit, slot, skips)
        cmd[2:2] = ["--host", "127.0.0.1", "--port", str(port)]
        tests, ignored, hung, problems, timed_out = run_suite_process(
            args, unit, cmd, args.suite, log
        )
        if server.poll() is not None:
            problems.append(f"the server exited with status {server.returncode}")
        return tests, ignored, hung, problems, timed_out
    finally:
        kill_group(server)
        server_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def suite_command(args, unit, slot, skips):
    """test_helper's arguments shared by both modes: one unit, its watchdog, a port range of
    its own, the denied tags and the tests to skip."""
    cmd = ["tclsh", "tests/test_helper.tcl", "--single", unit, "--clients", "1", "--durable"]
    # The engine's DEBUG DIGEST is redis-server's, so normal mode compares digests; external
    # mode keeps the flags its ratchet was built with.
    cmd += ["--ignore-encoding"] if args.normal else ["--ignore-encoding", "--ignore-digest"]
    # The suite's own listening port and (in normal mode) its servers' ports come from a range
    # after --baseport; runs that share the machine (other units, other checkouts) must not
    # pick the same range.
    jobs = max(1, min(args.jobs, 80))
    base = 21200 + (random.randrange(80 // jobs) * jobs + slot % jobs) * 100
    cmd += ["--timeout", str(args.test_timeout), "--baseport", str(base), "--portcount", "90"]
    for tag in args.deny:
        cmd += ["--tags", "-" + tag]
    for s in skips:
        cmd += ["--skiptest", s]
    return cmd


def run_suite_process(args, unit, cmd, cwd, log):
    """Runs test_helper with a hard timeout; the parsed output and whether it was killed."""
    env = dict(os.environ, TERM="dumb")
    suite = spawn(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    timed_out = False
    try:
        out, _ = suite.communicate(timeout=args.unit_timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(suite)
        out, _ = suite.communicate()
    with ACTIVE_LOCK:
        ACTIVE.discard(suite)
    text = out.decode("utf-8", "replace")
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"### {' '.join(cmd)}\n{text}\n")
    tests, ignored, hung, problems = parse_output(text)
    if not tests and "couldn't open socket: address already in use" in text:
        problems.append("the suite's own port was taken: address already in use")
    if not timed_out and hung is None and f"done]: {unit}" not in text:
        last = [ln for ln in text.splitlines() if ln.strip()][-1:] or ["no output"]
        problems.append(f"the suite stopped (exit {suite.returncode}): {last[0]}")
    return tests, ignored, hung, problems, timed_out


def normal_suite(args, slot):
    """A scratch copy of the suite whose src/redis-server is the native server (and
    src/redis-cli and the other tools the real ones), one per job slot since test_helper
    clears tests/tmp when it starts: in normal mode the suite starts its servers from there."""
    dest = os.path.join(args.scratch, f"suite-{slot}")
    if os.path.isdir(dest):
        return dest
    shutil.copytree(args.suite, dest, symlinks=True)
    src = os.path.join(dest, "src")
    os.makedirs(src, exist_ok=True)
    links = {"redis-server": args.server}
    for tool in ("redis-cli", "redis-benchmark", "redis-check-aof", "redis-check-rdb"):
        path = shutil.which(tool)
        if path:
            links[tool] = path
    for name, target in links.items():
        os.symlink(target, os.path.join(src, name))
    return dest


def run_once_normal(args, unit, slot, skips, log):
    """Normal mode: the suite starts (and stops) the native server itself for every
    `start_server` block, with its own config files and overrides."""
    suite_dir = normal_suite(args, slot)
    cmd = suite_command(args, unit, slot, skips)
    result = run_suite_process(args, unit, cmd, suite_dir, log)
    # What the unit's servers wrote (data directories, logs) goes with it.
    tmp = os.path.join(suite_dir, "tests", "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp, exist_ok=True)
    return result


def run_unit(args, unit, slot):
    known = [n for u, n in args.known_hangs if u == unit]
    log = os.path.join(args.logs, unit.replace("/", "_") + ".log")
    for path in (log, log + ".server"):
        if os.path.exists(path):
            os.remove(path)
    result = UnitResult(unit)
    hung = []
    started = time.monotonic()
    port_retries = 3
    while True:
        tests, ignored, hang, problems, timed_out = run_once(args, unit, slot, known + hung, log)
        if hang is not None and hang not in hung and len(hung) < args.max_hangs:
            hung.append(hang)
            continue
        # The suite's own port was free when it looked and taken when it listened (another
        # run on the machine): nothing ran, so run it again.
        if not tests and port_retries and any("address already in use" in p for p in problems):
            port_retries -= 1
            continue
        break
    seen = set(hung) | set(known)
    result.tests = [(h, "hung") for h in hung] + [(k, "known-hang") for k in known]
    result.tests += [(n, s) for n, s in tests if n not in seen]
    result.ignored = ignored
    if hang is not None and hang not in seen:
        result.tests.append((hang, "hung"))
    if timed_out:
        result.notes.append(f"killed after {args.unit_timeout}s")
    for p in problems:
        first = p.splitlines()[0] if p else p
        result.notes.append(first[:120])
    result.seconds = time.monotonic() - started
    return result


def run_suite(args, units):
    results = {}
    lock = threading.Lock()
    slots = list(range(args.jobs))

    def work(unit):
        with lock:
            slot = slots.pop()
        try:
            r = run_unit(args, unit, slot)
        finally:
            with lock:
                slots.append(slot)
        with lock:
            results[unit] = r
            if not args.quiet:
                print(
                    f"  {unit}: {r.count('ok')} passed, {r.count('err')} failed, "
                    f"{r.count('hung')} hung ({r.seconds:.0f}s)",
                    flush=True,
                )
        return r

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(work, units))
    return [results[u] for u in units]


def print_table(results):
    """`ignored`: denied by a tag or not for external servers; `hung`: hung in this run, or
    skipped as a known hang (the number after the +)."""
    w = max([len("unit")] + [len(r.unit) for r in results])
    print(f"{'unit':<{w}}  {'passed':>6}  {'failed':>6}  {'ignored':>7}  {'hung':>6}  notes")
    tot = [0, 0, 0, 0, 0]
    for r in results:
        row = [r.count("ok"), r.count("err"), r.ignored, r.count("hung"), r.count("known-hang")]
        tot = [a + b for a, b in zip(tot, row)]
        note = "; ".join(r.notes)
        hung = f"{row[3]}+{row[4]}" if row[4] else str(row[3])
        print(f"{r.unit:<{w}}  {row[0]:>6}  {row[1]:>6}  {row[2]:>7}  {hung:>6}  {note}")
    hung = f"{tot[3]}+{tot[4]}" if tot[4] else str(tot[3])
    print(f"{'total':<{w}}  {tot[0]:>6}  {tot[1]:>6}  {tot[2]:>7}  {hung:>6}")


def statuses(results):
    """(unit, name) -> status; a name that runs several times passes only if every run passed."""
    out = {}
    for r in results:
        for name, status in r.tests:
            key = (r.unit, name)
            if out.get(key, "ok") == "ok":
                out[key] = status
    return out


def write_results(path, results):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in results:
            for name, status in r.tests:
                f.write(f"{r.unit}\t{status}\t{one_line(name)}\n")


def one_line(name):
    return name.replace("\t", " ").replace("\n", " ")


def read_list(path):
    listed = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    unit, _, name = line.partition("\t")
                    listed.append((unit, name))
    return listed


RATCHET_HEADER = (
    "# Tests of Redis 7.0.15's own suite that pass against redis-playground-server and must keep\n"
    "# passing (`make {check}` checks them; `make {check}-update` rewrites the lines of the\n"
    "# units it runs with the tests that passed in every one of several runs; REDIS_UNITS picks\n"
    "# the units). One `unit<TAB>test name` per line.\n"
)


HANGS_HEADER = (
    "# Tests of Redis 7.0.15's own suite that hang against redis-playground-server (each one a\n"
    "# bug to fix): `make {check}` skips them rather than wait out the watchdog on each;\n"
    "# `make {check}-update` finds them afresh. One `unit<TAB>test name` per line.\n"
)


def check_target(args):
    """The make target that checks this mode's ratchet."""
    return "test-redis-normal" if args.normal else "test-redis"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True)
    p.add_argument("--suite", default=".cache/redis-7.0.15")
    p.add_argument("--units", default="", help="comma separated; default: every unit")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument(
        "--test-timeout",
        type=int,
        default=60,
        help="seconds without progress (the slowest passing tests take 10-15 s on a quiet machine)",
    )
    p.add_argument("--unit-timeout", type=int, default=600)
    p.add_argument("--max-hangs", type=int, default=10, help="reruns of a unit past hung tests")
    p.add_argument("--results", default="target/redis-suite/results.tsv")
    p.add_argument("--ratchet", default="")
    p.add_argument("--update", action="store_true")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--hangs",
        default="",
        help="file of known hangs (unit<TAB>test): skipped up front, rewritten by --update",
    )
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--normal",
        action="store_true",
        help="normal mode: the suite starts the server itself (as src/redis-server) for every "
        "start_server block, so units an external server cannot serve run too",
    )
    p.add_argument(
        "--deny",
        default=None,
        help="comma separated tags whose tests are not run (default, external mode: "
        + ",".join(DENIED_TAGS)
        + "; normal mode: "
        + ",".join(DENIED_TAGS_NORMAL)
        + ")",
    )
    args = p.parse_args()
    if args.deny is None:
        args.deny = ",".join(DENIED_TAGS_NORMAL if args.normal else DENIED_TAGS)
    args.deny = [t for t in args.deny.split(",") if t]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop_all)
    args.server = os.path.abspath(args.server)
    logs = "logs-normal" if args.normal else "logs"
    args.logs = os.path.abspath(os.path.join(os.path.dirname(args.results) or ".", logs))
    os.makedirs(args.logs, exist_ok=True)
    args.scratch = tempfile.mkdtemp(prefix="redis-suite-normal-")
    try:
        return check(args)
    finally:
        shutil.rmtree(args.scratch, ignore_errors=True)


def check(args):
    units = [u for u in args.units.split(",") if u]
    if not units:
        units = sorted(NORMAL_UNITS) if args.normal else all_units(args.suite)
    # An update finds the hangs afresh; a check skips the known ones instead of waiting on them.
    args.known_hangs = read_list(args.hangs) if args.hangs and not args.update else []

    started = time.monotonic()
    runs = args.runs if args.update else 1
    passing, hangs = None, set()
    for i in range(runs):
        if runs > 1:
            print(f"run {i + 1} of {runs}", flush=True)
        results = run_suite(args, units)
        print_table(results)
        write_results(args.results, results)
        ok = {k for k, s in statuses(results).items() if s == "ok"}
        passing = ok if passing is None else passing & ok
        found = {(r.unit, one_line(n)) for r in results for n, s in r.tests if s == "hung"}
        hangs |= found
        if args.update:
            # Later runs skip what already hung instead of waiting on it again.
            args.known_hangs = sorted(set(args.known_hangs) | found)
    print(f"{time.monotonic() - started:.0f}s; per-test results in {args.results}")

    if not args.ratchet:
        return 0
    if args.update:
        os.makedirs(os.path.dirname(args.ratchet) or ".", exist_ok=True)
        # The units this update did not run keep what the list holds for them.
        ran = set(units)
        passing = set(passing) | {(u, n) for u, n in read_list(args.ratchet) if u not in ran}
        with open(args.ratchet, "w", encoding="utf-8") as f:
            f.write(RATCHET_HEADER.format(check=check_target(args)))
            for unit, name in sorted(passing):
                f.write(f"{unit}\t{one_line(name)}\n")
        print(f"{args.ratchet}: {len(passing)} tests (those of the units run passed in all {runs} runs)")
        if args.hangs:
            with open(args.hangs, "w", encoding="utf-8") as f:
                f.write(HANGS_HEADER.format(check=check_target(args)))
                for unit, name in sorted(hangs):
                    f.write(f"{unit}\t{name}\n")
            print(f"{args.hangs}: {len(hangs)} tests that hung")
        return 0
    listed = read_list(args.ratchet)
    got = statuses(results)
    lost = [(u, n) for u, n in listed if u in units and got.get((u, n)) != "ok"]
    fresh = sum(1 for k, s in got.items() if s == "ok" and k not in set(listed))
    if fresh:
        print(f"{fresh} passing tests are not in {args.ratchet} yet (make test-redis-update)")
    if lost:
        # Units with a listed test that did not pass run once more; a test passing then is
        # reported as flaky rather than failed. What the first run said of each failure is
        # printed and its log kept beside the retry's (UNIT.first.log), so a flaky test can be
        # understood from the CI log alone.
        again = sorted({u for u, _ in lost})
        for u in again:
            log = os.path.join(args.logs, u.replace("/", "_") + ".log")
            try:
                with open(log, errors="replace") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for i, line in enumerate(lines):
                if line.startswith(("[err]", "[exception]", "[TIMEOUT]")):
                    print("  " + "\n  ".join(lines[i : i + 6]))
            os.replace(log, log[: -len(".log")] + ".first.log")
        print(f"{len(lost)} listed tests did not pass; running {', '.join(again)} once more")
        retry = statuses(run_suite(args, again))
        flaky = [(u, n) for u, n in lost if retry.get((u, n)) == "ok"]
        for u, n in flaky:
            print(f"  flaky (passed on retry): {u}\t{n}")
        lost = [(u, n) for u, n in lost if (u, n) not in set(flaky)]
        for k, v in retry.items():
            if got.get(k) != "ok":
                got[k] = v
    if lost:
        print(f"FAILED: {len(lost)} of the {len(listed)} tests in {args.ratchet} did not pass:")
        for u, n in lost:
            print(f"  {u}\t{n}\t({got.get((u, n), 'did not run')})")
        return 1
    here = sum(1 for u, _ in listed if u in units)
    print(f"ratchet: all {here} listed tests of these units passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
