#!/usr/bin/env python3
"""Real IMAP clients against `loft daemon`'s listeners, for
tests/imap_daemon.t.  Prints PASS/FAIL lines (and '#' diagnostics).

Usage: imap_daemon_probe.py SUITE PORT ARGS...
  login  PORT IMAPS_PORT CERT USER PASS   STARTTLS, implicit TLS, LOGIN,
                                          AUTHENTICATE PLAIN/LOGIN, SASL-IR
  fail   PORT CERT USER DELAY MAX         wrong passwords: delayed, counted,
                                          the session closed after MAX
  revoke PORT USER PASS LOFT...           `loft passwd --remove` ends a session
  crowd  PORT USER PASS N                 N idle unauthenticated connections
                                          do not keep a device out
  idle   PORT USER PASS ROUNDS LOFT...    `loft deliver` -> EXISTS while idling
  autologout PORT USER PASS SECONDS       an idle IDLE ends only after it
  unauth PORT CERT USER1 PASS1 USER2 PASS2 LOFT...
                                          UNAUTHENTICATE (RFC 8437), then a
                                          login as another device
  unauth_evict PORT USER PASS CAP         a connection logged out by
                                          UNAUTHENTICATE is evictable again
"""
import base64, imaplib, socket, ssl, statistics, subprocess, sys, time

fails = 0


def check(cond, name):
    global fails
    print(("PASS " if cond else "FAIL ") + name, flush=True)
    if not cond:
        fails += 1


def tls_ctx(cert):
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False  # the generated certificate names the host
    return ctx


def raw_cmd(sock_file, sock, line):
    """Sends one tagged line, returns the lines up to its tagged reply."""
    tag = line.split(b" ", 1)[0]
    sock.sendall(line + b"\r\n")
    out = []
    while True:
        l = sock_file.readline()
        if not l:
            return out
        out.append(l)
        if l.startswith(tag + b" "):
            return out


def suite_login(port, sport, cert, user, pw):
    m = imaplib.IMAP4("127.0.0.1", port)
    caps = m.capabilities
    check("STARTTLS" in caps, "plain connection offers STARTTLS")
    check("AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps,
          "loopback peer: AUTH=PLAIN offered before TLS")
    m.starttls(tls_ctx(cert))
    check("STARTTLS" not in m.capabilities, "after STARTTLS it is no longer offered")
    typ, d = m.login(user, pw)
    check(typ == "OK", "STARTTLS + LOGIN with the device's login")
    typ, d = m.select("INBOX")
    check(typ == "OK", "SELECT INBOX after login")
    m.logout()

    m = imaplib.IMAP4_SSL("127.0.0.1", sport, ssl_context=tls_ctx(cert))
    check(m.welcome.startswith(b"* OK"), "imaps_listen: implicit TLS greeting")
    typ, d = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, pw)).encode())
    check(typ == "OK", "implicit TLS + AUTHENTICATE PLAIN")
    typ, d = m.list()
    check(typ == "OK" and any(b"INBOX" in l for l in d), "LIST over implicit TLS")
    m.logout()

    # SASL-IR and AUTHENTICATE LOGIN over raw TLS (imaplib never sends an
    # initial response).
    s = tls_ctx(cert).wrap_socket(socket.create_connection(("127.0.0.1", sport)))
    f = s.makefile("rb")
    f.readline()
    ir = base64.b64encode(("\0%s\0%s" % (user, pw)).encode())
    r = raw_cmd(f, s, b"a1 AUTHENTICATE PLAIN " + ir)
    check(r and r[-1].startswith(b"a1 OK"), "AUTHENTICATE PLAIN with SASL-IR")
    s.close()
    s = tls_ctx(cert).wrap_socket(socket.create_connection(("127.0.0.1", sport)))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a1 AUTHENTICATE LOGIN\r\n")
    ok = f.readline().startswith(b"+ ")
    s.sendall(base64.b64encode(user.encode()) + b"\r\n")
    ok = ok and f.readline().startswith(b"+ ")
    s.sendall(base64.b64encode(pw.encode()) + b"\r\n")
    l = f.readline()
    check(ok and l.startswith(b"a1 OK"), "AUTHENTICATE LOGIN")
    s.close()


def suite_fail(port, cert, user, delay, maxf):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.starttls(tls_ctx(cert))
    times = []
    closed = False
    for i in range(maxf):
        t = time.monotonic()
        try:
            m.login(user, "wrong-password-%d" % i)
            check(False, "a wrong password is refused")
        except imaplib.IMAP4.abort:
            closed = True
        except imaplib.IMAP4.error as e:
            check(b"AUTHENTICATIONFAILED" in str(e).encode() or "AUTHENTICATIONFAILED" in str(e),
                  "wrong password %d: NO [AUTHENTICATIONFAILED]" % (i + 1))
        times.append(time.monotonic() - t)
    print("# failure replies took " + ", ".join("%.2f s" % x for x in times))
    check(all(times[i] >= delay * (i + 1) * 0.9 for i in range(len(times))),
          "each failure is delayed by the delay times the failures so far")
    try:
        m.noop()
        gone = False
    except (imaplib.IMAP4.abort, OSError):
        gone = True
    check(gone or closed, "the session is closed after %d failures" % maxf)


def suite_revoke(port, user, pw, loft):
    m = imaplib.IMAP4("127.0.0.1", port)
    typ, _ = m.login(user, pw)
    m.select("INBOX")
    check(typ == "OK", "the device logs in (loopback)")
    out = subprocess.run(loft + ["passwd", "--remove", user], capture_output=True, text=True)
    check(out.returncode == 0 and "ended 1 open IMAP session" in out.stdout,
          "loft passwd --remove says it ended the open session")
    try:
        m.sock.settimeout(5)
        m.noop()
        gone = False
    except (imaplib.IMAP4.abort, OSError):
        gone = True
    check(gone, "the device's open session is ended")
    m2 = imaplib.IMAP4("127.0.0.1", port)
    try:
        m2.login(user, pw)
        check(False, "the removed login no longer logs in")
    except imaplib.IMAP4.error:
        check(True, "the removed login no longer logs in")


def suite_crowd(port, user, pw, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    greeted = 0
    for s in socks:
        s.settimeout(5)
        try:
            if s.recv(100).startswith(b"* OK"):
                greeted += 1
        except OSError:
            pass
    print("# %d of %d idle connections got a greeting" % (greeted, n))
    m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    typ, _ = m.login(user, pw)
    check(typ == "OK", "%d idle unauthenticated connections do not keep the device out" % n)
    typ, _ = m.select("INBOX")
    check(typ == "OK", "and it works (SELECT)")
    m.logout()
    for s in socks:
        s.close()


def read_until(f, pred, timeout_s, sock):
    sock.settimeout(timeout_s)
    while True:
        l = f.readline()
        if not l:
            return None
        if pred(l):
            return l


def suite_idle(port, user, pw, rounds, loft):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, pw)
    typ, d = m.select("INBOX")
    count = int(d[0])
    s, f = m.sock, m.file
    lat, run = [], []
    for i in range(rounds):
        s.sendall(b"i%d IDLE\r\n" % i)
        l = read_until(f, lambda x: x.startswith(b"+"), 5, s)
        if l is None:
            check(False, "IDLE answers +")
            return
        msg = ("From: a@example.org\nSubject: idle %d\nMessage-ID: <idle%d@example.org>\n\nbody\n"
               % (i, i)).encode()
        t0 = time.monotonic()
        p = subprocess.Popen(loft + ["deliver"], stdin=subprocess.PIPE)
        p.stdin.write(msg)
        p.stdin.close()
        want = b"* %d EXISTS" % (count + 1)
        l = read_until(f, lambda x: x.startswith(want), 10, s)
        t1 = time.monotonic()
        p.wait()
        t2 = time.monotonic()
        if l is None:
            check(False, "round %d: EXISTS arrives" % i)
            return
        count += 1
        lat.append((t1 - t0) * 1000)
        run.append((t2 - t0) * 1000)
        t3 = time.monotonic()
        s.sendall(b"DONE\r\n")
        l = read_until(f, lambda x: x.startswith(b"i%d " % i), 5, s)
        if i == 0:
            check(l is not None and l.startswith(b"i0 OK"), "DONE ends IDLE with OK")
            print("# DONE answered in %.1f ms" % ((time.monotonic() - t3) * 1000))
    lat.sort()
    med = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("# IDLE push, loft deliver start -> EXISTS over %d rounds: median %.1f ms, p99 %.1f ms, "
          "max %.1f ms (loft deliver itself runs %.1f ms median)"
          % (rounds, med, p99, lat[-1], statistics.median(run)))
    check(len(lat) == rounds, "every one of %d deliveries reaches the idling session" % rounds)
    check(p99 < 1000, "each within 1 s (p99 %.1f ms)" % p99)
    m.logout()


def suite_autologout(port, user, pw, secs):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, pw)
    m.select("INBOX")
    s, f = m.sock, m.file
    s.sendall(b"a1 IDLE\r\n")
    read_until(f, lambda x: x.startswith(b"+"), 5, s)
    t = time.monotonic()
    l = read_until(f, lambda x: x.startswith(b"* BYE"), secs + 30, s)
    el = time.monotonic() - t
    print("# the idle session got BYE after %.1f s (imap_autologout=%d s)" % (el, secs))
    check(l is not None and el >= secs * 0.95, "an idling session is logged out only after imap_autologout")
    check(el < secs + 10, "and then soon")


def suite_unauth(port, cert, user1, pw1, user2, pw2, loft):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.starttls(tls_ctx(cert))
    m.login(user1, pw1)
    typ, caps = m.capability()
    check(b"UNAUTHENTICATE" in caps[0], "CAPABILITY lists UNAUTHENTICATE once logged in")
    s, f = m.sock, m.file
    r = raw_cmd(f, s, b"u1 ENABLE UTF8=ACCEPT")
    check(b"* ENABLED UTF8=ACCEPT\r\n" in r, "ENABLE UTF8=ACCEPT as the first device")
    m.select("INBOX")
    r = raw_cmd(f, s, b"u2 UNAUTHENTICATE")
    check(r and r[-1].startswith(b"u2 OK") and not any(b"EXPUNGE" in l for l in r),
          "UNAUTHENTICATE in the selected state: OK")
    r = raw_cmd(f, s, b"u3 SELECT INBOX")
    check(r and r[-1].startswith(b"u3 BAD"), "then the session is not authenticated: SELECT is BAD")
    r = raw_cmd(f, s, b"u4 CAPABILITY")
    check(b"AUTH=PLAIN" in r[0] and b"STARTTLS" not in r[0] and b"UNAUTHENTICATE" not in r[0],
          "CAPABILITY: logins offered again, TLS still on, no UNAUTHENTICATE")
    out = subprocess.run(loft + ["passwd", "--remove", user1], capture_output=True, text=True)
    check(out.returncode == 0 and "ended 1" not in out.stdout,
          "loft passwd --remove of the first device ends no session (it logged out)")
    r = raw_cmd(f, s, b"u5 NOOP")
    check(r and r[-1].startswith(b"u5 OK"), "the logged-out connection is still there")
    r = raw_cmd(f, s, b'u6 LOGIN "%s" "%s"' % (user2.encode(), pw2.encode()))
    check(r and r[-1].startswith(b"u6 OK"), "a login as another device on the same connection")
    r = raw_cmd(f, s, b"u7 ENABLE UTF8=ACCEPT")
    check(b"* ENABLED UTF8=ACCEPT\r\n" in r, "what the first login ENABLEd was turned off (ENABLED again)")
    r = raw_cmd(f, s, b"u8 SELECT INBOX")
    check(r and r[-1].startswith(b"u8 OK"), "the session of the second device goes on")
    m.logout()


def suite_unauth_evict(port, user, pw, cap):
    """A connection logged out with UNAUTHENTICATE is evictable again: with
    cap-1 logged-in sessions beside it, a new client takes its slot."""
    a = imaplib.IMAP4("127.0.0.1", port)
    a.login(user, pw)
    r = raw_cmd(a.file, a.sock, b"e1 UNAUTHENTICATE")
    check(r and r[-1].startswith(b"e1 OK"), "UNAUTHENTICATE before the crowd")
    others = []
    for _ in range(cap - 1):
        m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
        m.login(user, pw)
        others.append(m)
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    greeting = s.recv(200)
    check(greeting.startswith(b"* OK"),
          "with %d logged-in sessions and one logged out, a new client is accepted" % (cap - 1))
    a.sock.settimeout(10)
    try:
        rest = a.sock.recv(200)
    except socket.timeout:
        rest = None
    except OSError:
        rest = b""
    check(rest is not None and (rest == b"" or rest.startswith(b"* BYE")),
          "the logged-out connection made room (closed)")
    s.close()
    for m in others:
        m.logout()


suite = sys.argv[1]
a = sys.argv[2:]
if suite == "login":
    suite_login(int(a[0]), int(a[1]), a[2], a[3], a[4])
elif suite == "fail":
    suite_fail(int(a[0]), a[1], a[2], float(a[3]), int(a[4]))
elif suite == "revoke":
    suite_revoke(int(a[0]), a[1], a[2], a[3:])
elif suite == "crowd":
    suite_crowd(int(a[0]), a[1], a[2], int(a[3]))
elif suite == "idle":
    suite_idle(int(a[0]), a[1], a[2], int(a[3]), a[4:])
elif suite == "autologout":
    suite_autologout(int(a[0]), a[1], a[2], int(a[3]))
elif suite == "unauth_evict":
    suite_unauth_evict(int(a[0]), a[1], a[2], int(a[3]))
elif suite == "unauth":
    suite_unauth(int(a[0]), a[1], a[2], a[3], a[4], a[5], a[6:])
else:
    sys.exit("unknown suite " + suite)
sys.exit(1 if fails else 0)
