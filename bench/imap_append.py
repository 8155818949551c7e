#!/usr/bin/env python3
"""APPEND throughput for bench/imap_append.sh, the same client for loft and Dovecot.

  imap_append.py HOST PORT USER PASS FOLDER COUNT multi|single|pipe

Over one connection (a raw socket, LITERAL+ literals, as both servers offer):
  multi   COUNT messages in one MULTIAPPEND (RFC 3502), timed from the
          command's first byte to its tagged OK;
  single  COUNT APPENDs, one after the other, each waiting for its OK,
          timed from the first command to the last OK;
  pipe    COUNT APPENDs all sent at once (from a thread, mbsync's way),
          the answers read as they come, timed from the first byte to
          the last OK.
Prints the seconds; exits 1 when an answer is not OK or the folder does not
hold COUNT more messages afterwards.
"""
import os, socket, sys, threading, time


def msg(i, tag):
    return ("From: bench@example.org\r\nTo: me@example.org\r\nSubject: %s %d\r\n"
            "Message-ID: <%s%d.%d@bench.example>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
            "body of message %d\r\n" % (tag, i, tag, i, os.getpid(), i)).encode()


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), 10)
        self.s.settimeout(600)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.f.readline()

    def send(self, data):
        self.n += 1
        tag = b"b%d" % self.n
        self.s.sendall(tag + b" " + data + b"\r\n")
        return tag

    def done(self, tag):
        """Reads up to tag's reply; returns it and the untagged lines."""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed")
            if line.startswith(tag + b" "):
                return line, lines
            lines.append(line)

    def cmd(self, data):
        line, lines = self.done(self.send(data))
        if not line.split(b" ", 2)[1] == b"OK":
            raise RuntimeError("%r: %r" % (data[:60], line))
        return lines


def count(c, folder):
    for l in c.cmd(b"STATUS " + folder + b" (MESSAGES)"):
        if b"MESSAGES" in l:
            return int(l.rsplit(b"MESSAGES ", 1)[1].split(b")")[0])
    raise RuntimeError("no STATUS answer")


def main(host, port, user, pw, folder, n, mode):
    folder = folder.encode()
    c = Conn(host, int(port))
    c.cmd(b"LOGIN %s %s" % (user.encode(), pw.encode()))
    before = count(c, folder)
    tag = "%s%d" % (mode, before)
    if mode == "multi":
        parts = [b"APPEND " + folder]
        for i in range(n):
            m = msg(i, tag)
            parts += [b" (\\Seen) {%d+}\r\n" % len(m), m]
        data = b"".join(parts)
        t0 = time.monotonic()
        line, _ = c.done(c.send(data))
        t1 = time.monotonic()
        if not line.split(b" ", 2)[1] == b"OK":
            raise RuntimeError("MULTIAPPEND: %r" % line)
    elif mode == "pipe":
        tags = [b"b%d" % (c.n + 1 + i) for i in range(n)]
        c.n += n
        data = b"".join(b"%s APPEND %s {%d+}\r\n%s\r\n" % (t, folder, len(m), m)
                        for t, m in ((tags[i], msg(i, tag)) for i in range(n)))
        t0 = time.monotonic()
        w = threading.Thread(target=c.s.sendall, args=(data,))
        w.start()
        for t in tags:
            line, _ = c.done(t)
            if not line.split(b" ", 2)[1] == b"OK":
                raise RuntimeError("pipelined APPEND: %r" % line)
        t1 = time.monotonic()
        w.join()
    else:
        t0 = time.monotonic()
        for i in range(n):
            m = msg(i, tag)
            c.cmd(b"APPEND %s {%d+}\r\n%s" % (folder, len(m), m))
        t1 = time.monotonic()
    print("%.3f" % (t1 - t0))
    after = count(c, folder)
    c.cmd(b"LOGOUT")
    if after - before != n:
        print("expected %d more messages, found %d" % (n, after - before), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    sys.exit(main(a[0], a[1], a[2], a[3], a[4], int(a[5]), a[6]))
