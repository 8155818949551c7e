#!/usr/bin/env python3
"""IMAP measurements for bench/imap.sh, the same for loft and Dovecot.

  imap_bench.py idle HOST PORT USER PASS ROUNDS MAILDIR [DELIVER...]
      one connection IDLEs on INBOX; prints three latencies (ms) to EXISTS:
        append  APPEND on a second connection (from the command sent)
        drop    a file renamed into MAILDIR/new/ (from the rename), as any MDA
        deliver DELIVER... fed a message on stdin (from its start), if given
  imap_bench.py append HOST PORT USER PASS COUNT
      APPENDs COUNT messages over one connection; prints messages/s

Output: lines "NAME median_ms p99_ms" (idle) or "append MSGS_PER_S".
"""
import imaplib, os, socket, statistics, subprocess, sys, time


def msg(i, tag):
    return ("From: bench@example.org\r\nTo: me@example.org\r\nSubject: %s %d\r\n"
            "Message-ID: <%s%d.%d@bench.example>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
            "body of message %d\r\n" % (tag, i, tag, i, os.getpid(), i)).encode()


def login(host, port, user, pw):
    m = imaplib.IMAP4(host, port)
    m.login(user, pw)
    return m


def wait_line(f, pred):
    while True:
        l = f.readline()
        if not l:
            raise EOFError("connection closed")
        if pred(l):
            return l


def stats(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def idle(host, port, user, pw, rounds, maildir, deliver):
    a = login(host, port, user, pw)
    typ, d = a.select("INBOX")
    count = int(d[0])
    b = login(host, port, user, pw)
    s, f = a.sock, a.file
    s.settimeout(30)
    res = {"append": [], "drop": [], "deliver": []}
    kinds = ["append", "drop"] + (["deliver"] if deliver else [])
    n = 0
    for kind in kinds:
        for i in range(rounds):
            n += 1
            s.sendall(b"i%d IDLE\r\n" % n)
            wait_line(f, lambda l: l.startswith(b"+"))
            body = msg(n, kind)
            if kind == "append":
                t0 = time.monotonic()
                b.append("INBOX", None, None, body)
            elif kind == "drop":
                tmp = os.path.join(maildir, "tmp", "bench.%d.%d" % (os.getpid(), n))
                with open(tmp, "wb") as fh:
                    fh.write(body)
                    fh.flush()
                    os.fsync(fh.fileno())
                new = os.path.join(maildir, "new", "%d.bench%d_%d.host" % (time.time(), os.getpid(), n))
                os.rename(tmp, new)
                t0 = time.monotonic()
            else:
                t0 = time.monotonic()
                p = subprocess.run(deliver, input=body.replace(b"\r\n", b"\n"))
            want = b"* %d EXISTS" % (count + 1)
            wait_line(f, lambda l: l.startswith(want))
            t1 = time.monotonic()
            count += 1
            res[kind].append((t1 - t0) * 1000)
            s.sendall(b"DONE\r\n")
            wait_line(f, lambda l: l.startswith(b"i%d " % n))
    for kind in kinds:
        med, p99 = stats(res[kind])
        print("%s %.1f %.1f" % (kind, med, p99))
    a.logout()
    b.logout()


def append(host, port, user, pw, count):
    m = login(host, port, user, pw)
    t0 = time.monotonic()
    for i in range(count):
        typ, _ = m.append("INBOX", None, None, msg(i, "append"))
        if typ != "OK":
            sys.exit("APPEND %d: %s" % (i, typ))
    el = time.monotonic() - t0
    print("append %.0f" % (count / el))
    m.logout()


if sys.argv[1] == "idle":
    a = sys.argv[2:]
    idle(a[0], int(a[1]), a[2], a[3], int(a[4]), a[5], a[6:])
else:
    a = sys.argv[2:]
    append(a[0], int(a[1]), a[2], a[3], int(a[4]))
