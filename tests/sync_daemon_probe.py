#!/usr/bin/env python3
"""The clients of tests/sync_daemon.t and bench/sync_push.sh: imaplib on
the provider (a private Dovecot) and on loft's own IMAP server.

  sync_daemon_probe.py push LPORT DEVICE DPW PPORT USER PW ROUNDS PREFIX
      ROUNDS times: an IDLE on loft's INBOX, an APPEND of message
      <PREFIX.i@example.org> to the provider's INBOX, and the time until
      loft's IDLE says EXISTS.  Prints "ms N" per round, then
      "median M p99 P max X" (ms); exit 1 when an EXISTS did not come
      within 10 s.
  sync_daemon_probe.py flag LPORT DEVICE DPW PPORT USER PW MESSAGE-ID
      sets \\Flagged on MESSAGE-ID through loft's IMAP server and prints
      the ms until the provider shows it; exit 1 after 15 s without.
  sync_daemon_probe.py count LPORT DEVICE DPW
      the number of messages in loft's INBOX (SELECT)
"""
import imaplib
import statistics
import sys
import time


def login(port, user, pw):
    m = imaplib.IMAP4("127.0.0.1", int(port), timeout=15)
    m.login(user, pw)
    return m


def read_until(m, pred, timeout_s):
    m.sock.settimeout(timeout_s)
    try:
        while True:
            line = m.file.readline()
            if not line:
                return None
            if pred(line):
                return line
    except OSError:
        return None


def uid_of(m, msgid):
    typ, data = m.uid("SEARCH", None, "HEADER", "Message-ID", '"%s"' % msgid)
    uids = data[0].split() if typ == "OK" and data[0] else []
    return uids[0] if len(uids) == 1 else None


def push(lport, dev, dpw, pport, user, pw, rounds, prefix):
    loft = login(lport, dev, dpw)
    typ, d = loft.select("INBOX")
    count = int(d[0])
    prov = login(pport, user, pw)
    lat = []
    for i in range(int(rounds)):
        loft.sock.sendall(b"p%d IDLE\r\n" % i)
        if read_until(loft, lambda x: x.startswith(b"+"), 5) is None:
            sys.exit("loft's IDLE did not answer +")
        msg = ("From: push@example.org\r\nTo: ann@example.org\r\nSubject: %s %d\r\n"
               "Message-ID: <%s.%d@example.org>\r\n\r\npushed %d\r\n"
               % (prefix, i, prefix, i, i)).encode()
        t0 = time.monotonic()
        typ, _ = prov.append("INBOX", None, None, msg)
        if typ != "OK":
            sys.exit("APPEND on the provider failed")
        # The number may jump by more than one if another copy arrives:
        # any EXISTS above the old count is the news.
        line = read_until(loft, lambda x: x.startswith(b"* ") and x.rstrip().endswith(b"EXISTS")
                          and int(x.split()[1]) > count, 10)
        t1 = time.monotonic()
        if line is None:
            print("round %d: no EXISTS within 10 s" % i)
            sys.exit(1)
        count = int(line.split()[1])
        lat.append((t1 - t0) * 1000)
        print("ms %.1f" % lat[-1])
        loft.sock.sendall(b"DONE\r\n")
        read_until(loft, lambda x: x.startswith(b"p%d " % i), 5)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("median %.1f p99 %.1f max %.1f" % (statistics.median(lat), p99, lat[-1]))
    loft.logout()
    prov.logout()


def flag(lport, dev, dpw, pport, user, pw, msgid):
    loft = login(lport, dev, dpw)
    loft.select("INBOX")
    uid = uid_of(loft, msgid)
    if uid is None:
        sys.exit("%s is not in loft's INBOX" % msgid)
    prov = login(pport, user, pw)
    t0 = time.monotonic()
    typ, _ = loft.uid("STORE", uid, "+FLAGS", "(\\Flagged)")
    if typ != "OK":
        sys.exit("STORE on loft failed")
    while time.monotonic() - t0 < 15:
        prov.select("INBOX", readonly=True)
        puid = uid_of(prov, msgid)
        if puid is not None:
            typ, data = prov.uid("FETCH", puid, "(FLAGS)")
            if typ == "OK" and b"\\Flagged" in data[0]:
                print("%.1f" % ((time.monotonic() - t0) * 1000))
                return
        time.sleep(0.05)
    sys.exit("the flag did not reach the provider within 15 s")


def count(lport, dev, dpw):
    loft = login(lport, dev, dpw)
    typ, d = loft.select("INBOX", readonly=True)
    print(int(d[0]))
    loft.logout()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"push": push, "flag": flag, "count": count}[cmd](*args)


if __name__ == "__main__":
    main()
