#!/usr/bin/env python3
"""Hostile SMTP clients for tests/daemon_limits.t (all on 127.0.0.x).

usage: smtp_flood.py MODE ARGS...; prints one result line, times in seconds.
  idle PORT N [SRC]     opens N connections (from source address SRC, default
                        127.0.0.1), reads each greeting, prints
                        "HELD n opened m greeted" and holds them until stdin
                        closes; then prints "ALIVE k" (connections the server
                        had not closed) and exits
  trickle PORT DELAY    EHLO, then "NOOP\\r\\n" one byte every DELAY s; prints
                        "CLOSED t REPLY" when the server hangs up (REPLY its
                        last line) or "OPEN t" after 60 s
  datatrickle PORT USER PW DELAY   AUTH PLAIN (loopback), MAIL, RCPT, DATA,
                        then one byte of message every DELAY s; as trickle
  noop PORT DELAY       EHLO, then NOOP every DELAY s; as trickle
  owner PORT USER PW    EHLO, AUTH PLAIN, one message; prints
                        "SENT t REPLY" or "FAILED t REPLY"
"""
import base64
import socket
import sys
import time

T0 = time.monotonic()


def elapsed():
    return "%.1f" % (time.monotonic() - T0)


def connect(port, src="127.0.0.1", timeout=10):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


class Peer:
    def __init__(self, port):
        self.s = connect(port, timeout=70)
        self.buf = b""
        self.last = ""

    def reply(self):
        """One reply's last line, or None when the server hung up."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(4096)
                if not chunk:
                    return None
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            self.last = line.decode("utf-8", "replace")
            if len(line) < 4 or line[3:4] != b"-":
                return self.last

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def login(self, user, pw):
        self.reply()
        self.cmd("EHLO flood.test")
        plain = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
        return self.cmd("AUTH PLAIN " + plain)


def dribble(p, data, delay):
    """Sends data one byte every delay s until the server hangs up; the
    time printed is when its last reply (or the hang-up) was first seen."""
    seen = None
    try:
        for i in range(60 * 100):
            p.s.sendall(data[i % len(data):i % len(data) + 1])
            time.sleep(delay)
            p.s.setblocking(False)
            try:
                chunk = p.s.recv(4096)
            except BlockingIOError:
                chunk = b"-"
            p.s.setblocking(True)
            if chunk == b"":
                break
            if chunk != b"-":
                seen = seen or elapsed()
                p.buf += chunk
                p.last = p.buf.decode("utf-8", "replace").strip().split("\r\n")[-1]
            if time.monotonic() - T0 > 60:
                print("OPEN", elapsed())
                return
    except OSError:
        pass
    print("CLOSED", seen or elapsed(), p.last)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "idle":
        n, src = int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
        held, greeted = [], 0
        for _ in range(n):
            try:
                s = connect(port, src, timeout=2)
                held.append(s)
                if s.recv(200).startswith(b"220"):
                    greeted += 1
            except OSError:
                pass
        print("HELD", len(held), "opened", greeted, "greeted", flush=True)
        sys.stdin.read()
        alive = 0
        for s in held:
            s.setblocking(False)
            try:
                while s.recv(4096) != b"":
                    pass
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        print("ALIVE", alive, flush=True)
    elif mode == "trickle":
        p = Peer(port)
        p.reply()
        p.cmd("EHLO flood.test")
        dribble(p, b"NOOP\r\n", float(sys.argv[3]))
    elif mode == "datatrickle":
        p = Peer(port)
        p.login(sys.argv[3], sys.argv[4])
        p.cmd("MAIL FROM:<a@example.org>")
        p.cmd("RCPT TO:<me@example.org>")
        p.cmd("DATA")
        dribble(p, b"Subject: trickle\r\n\r\nslow\r\n", float(sys.argv[5]))
    elif mode == "noop":
        p = Peer(port)
        p.reply()
        p.cmd("EHLO flood.test")
        while time.monotonic() - T0 < 60:
            try:
                if p.cmd("NOOP") is None or p.last.startswith("421"):
                    break
            except OSError:
                break
            time.sleep(float(sys.argv[3]))
        else:
            print("OPEN", elapsed())
            return
        print("CLOSED", elapsed(), p.last)
    elif mode == "owner":
        try:
            p = Peer(port)
            r = p.login(sys.argv[3], sys.argv[4])
            if r is None or not r.startswith("235"):
                raise OSError("AUTH: %s" % r)
            p.cmd("MAIL FROM:<a@example.org>")
            p.cmd("RCPT TO:<me@example.org>")
            p.cmd("DATA")
            r = p.cmd("Subject: owner during a flood\r\n\r\nstill in\r\n.")
            p.cmd("QUIT")
            print("SENT" if r and r.startswith("250") else "FAILED", elapsed(), r)
        except OSError as e:
            print("FAILED", elapsed(), p.last if "p" in locals() else "", e)
    else:
        sys.exit("unknown mode " + mode)


main()
