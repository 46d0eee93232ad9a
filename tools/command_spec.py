#!/usr/bin/env python3
"""Prints the facts of COMMAND INFO for the given commands, from a running redis-server, in the
form CommandSpec entries take (arity, flags, key positions, ACL categories, tips, key specs).

    tools/command_spec.py PORT get set zunionstore ...
"""
import socket
import sys


def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def read(self):
        l = self.line()
        t, rest = l[:1], l[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            s, self.buf = self.buf[:n], self.buf[n + 2:]
            return s.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(l)


def spec_text(ks):
    d = dict(zip(ks[0::2], ks[1::2]))
    flags = " ".join(d["flags"])
    b = dict(zip(d["begin_search"][0::2], d["begin_search"][1::2]))
    bs = dict(zip(b["spec"][0::2], b["spec"][1::2]))
    if b["type"] == "index":
        begin = "index %d" % bs["index"]
    elif b["type"] == "keyword":
        begin = "keyword %s %d" % (bs["keyword"], bs["startfrom"])
    else:
        begin = "unknown"
    f = dict(zip(d["find_keys"][0::2], d["find_keys"][1::2]))
    fs = dict(zip(f["spec"][0::2], f["spec"][1::2]))
    if f["type"] == "range":
        find = "range %d %d %d" % (fs["lastkey"], fs["keystep"], fs["limit"])
    elif f["type"] == "keynum":
        find = "keynum %d %d %d" % (fs["keynumidx"], fs["firstkey"], fs["keystep"])
    else:
        find = "unknown"
    text = "%s / %s / %s" % (flags, begin, find)
    if "notes" in d:
        text += " / " + d["notes"]
    return text


def show(info, indent=""):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    print('%s%s: CommandSpec::new("%s", %d, "%s", (%d, %d, %d), ...)' % (
        indent, name, name.split("|")[-1], arity, " ".join(flags), first, last, step))
    print("%s    acl (all): %s" % (indent, " ".join(a.lstrip("@") for a in acl)))
    if tips:
        print('%s    .tips("%s")' % (indent, " ".join(tips)))
    if specs:
        print("%s    .key_specs(&[%s])" % (indent, ", ".join('"%s"' % spec_text(s) for s in specs)))
    for s in sorted(subs or [], key=lambda s: s[0]):
        show(s, indent + "    ")


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    r = Reader(sock)
    for name in sys.argv[2:]:
        sock.sendall(enc(["COMMAND", "INFO", name]))
        info = r.read()[0]
        if info is None:
            print("%s: unknown" % name)
        else:
            show(info)


main()
