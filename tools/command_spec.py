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


GROUP_CATEGORY = {
    "generic": "keyspace", "string": "string", "list": "list", "hash": "hash", "set": "set",
    "sorted_set": "sortedset", "stream": "stream", "bitmap": "bitmap",
    "hyperloglog": "hyperloglog", "geo": "geo", "pubsub": "pubsub",
    "connection": "connection", "transactions": "transaction", "scripting": "scripting",
}


def implied(flags, group, container):
    """The categories CommandSpec::acl_categories derives without .acl(...) extras."""
    cats = set()
    if not container and group in GROUP_CATEGORY:
        cats.add(GROUP_CATEGORY[group])
    for flag, cat in [("write", "write"), ("admin", "admin"), ("admin", "dangerous"),
                      ("pubsub", "pubsub"), ("fast", "fast"), ("blocking", "blocking")]:
        if flag in flags:
            cats.add(cat)
    if "readonly" in flags:
        cats.add("read")
    if "fast" not in flags:
        cats.add("slow")
    return cats


def show(info, group, indent=""):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    print('%s%s (group %s): CommandSpec::new("%s", %d, "%s", (%d, %d, %d), ...)' % (
        indent, name, group, name.split("|")[-1], arity, " ".join(flags), first, last, step))
    have = set(a.lstrip("@") for a in acl)
    want = implied(flags, group, bool(subs))
    if "scripting" in have:
        want.discard("read")
    extras = sorted(have - want) + ["-" + c for c in sorted(want - have)]
    if extras:
        print('%s    .acl("%s")' % (indent, " ".join(extras)))
    if tips:
        print('%s    .tips("%s")' % (indent, " ".join(tips)))
    if specs:
        print("%s    .key_specs(&[%s])" % (indent, ", ".join('"%s"' % spec_text(s) for s in specs)))
    for s in sorted(subs or [], key=lambda s: s[0]):
        show(s, group, indent + "    ")


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    r = Reader(sock)
    for name in sys.argv[2:]:
        sock.sendall(enc(["COMMAND", "INFO", name]))
        info = r.read()[0]
        sock.sendall(enc(["COMMAND", "DOCS", name]))
        docs = r.read()
        group = "?"
        if docs:
            d = dict(zip(docs[1][0::2], docs[1][1::2]))
            group = d.get("group", "?")
        if info is None:
            print("%s: unknown" % name)
        else:
            show(info, group)


main()
