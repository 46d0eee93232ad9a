#!/usr/bin/env python3
"""Opens N idle connections to a server on 127.0.0.1:PORT and prints how much its resident
memory grew per connection (bytes), after checking that a sample of them answers PING and that
INFO clients counts them all. Used by scripts/bench.sh; prints `skip: why` when this process
may not open that many descriptors.

    idle-conns.py PORT PID [N]
"""
import resource
import socket
import sys
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def call(sock, line):
    sock.sendall(line)
    got = b""
    while not got.endswith(b"\r\n") or (got.startswith(b"$") and got.count(b"\r\n") < 2):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 64:
        print(f"skip: the open file limit ({hard}) is below {n + 64}")
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
    before = rss_kb(pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        socks.append(s)
    for s in socks[:: max(1, n // 20)]:
        if call(s, b"PING\r\n") != b"+PONG\r\n":
            print("fail: a connection did not answer PING")
            return
    info = call(socks[-1], b"INFO clients\r\n").decode(errors="replace")
    clients = next((l.split(":")[1] for l in info.split("\r\n") if l.startswith("connected_clients:")), "?")
    if clients.strip() != str(n):
        print(f"fail: connected_clients is {clients.strip()}, not {n}")
        return
    # Let both allocators return what the accepts freed (as bench-memory.sh does).
    time.sleep(2)
    grown = rss_kb(pid) - before
    print(f"{grown * 1024 // n}")
    for s in socks:
        s.close()


main()
