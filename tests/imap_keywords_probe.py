"""Keywords in FLAGS / PERMANENTFLAGS (RFC 3501 7.2.6, RFC 9051 7.3.5) over
a real `loft daemon`, with raw sockets so the order of responses shows.
Every response of every session goes through one checker (imaptest's rule):
a FETCH naming a keyword the session's last FLAGS did not list fails.
Prints PASS/FAIL lines for tests/imap_keywords_flags.t.

usage: imap_keywords_probe.py PORT USER PASSWORD LOFT MAILRC NOTMUCH"""
import re
import socket
import subprocess
import sys

PORT, USER, PW, LOFT, RC, NOTMUCH = sys.argv[1:7]
FAILS = []


def check(cond, name):
    print(("PASS " if cond else "FAIL ") + name, flush=True)
    if not cond:
        FAILS.append(name)


class Session:
    """One connection; lines() of responses, each checked as it arrives."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", int(PORT)), timeout=20)
        self.buf = b""
        self.flags = None  # the last FLAGS, lower case
        self.n = 0
        self.violations = []
        self.readline()
        self.cmd("LOGIN %s %s" % (USER, PW))

    def readline(self):
        """One response line, literals folded in as their text."""
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(self.name + ": connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self.buf += self.sock.recv(65536)
            line += b" " + self.buf[:n]
            self.buf = self.buf[n:]
            line += self.readline().encode("latin-1")
        text = line.decode("latin-1")
        self.observe(text)
        return text

    def observe(self, line):
        m = re.match(r"\* FLAGS \((.*)\)$", line)
        if m:
            self.flags = set(m.group(1).lower().split())
            return
        m = re.match(r"\* \d+ FETCH \(.*FLAGS \(([^)]*)\)", line)
        if m:
            for f in m.group(1).split():
                if not f.startswith("\\") and (self.flags is None or f.lower() not in self.flags):
                    self.violations.append("%s: keyword %s used without being in FLAGS: %s"
                                           % (self.name, f, line))

    def send(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")

    def cmd(self, text):
        """Sends a tagged command; its untagged lines and its tagged line."""
        self.n += 1
        tag = "t%d" % self.n
        self.send("%s %s" % (tag, text))
        out = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return out, line[len(tag) + 1:]
            out.append(line)

    def until(self, pattern):
        """Lines up to and with the first matching pattern (IDLE)."""
        out = []
        while True:
            line = self.readline()
            out.append(line)
            if re.search(pattern, line):
                return out


def first(lines, pattern):
    """Index of the first line matching pattern, or None."""
    for i, line in enumerate(lines):
        if re.search(pattern, line):
            return i
    return None


def before(lines, a, b):
    """Whether a line matching a comes before the first matching b."""
    i, j = first(lines, a), first(lines, b)
    return i is not None and j is not None and i < j


def loft(*args):
    return subprocess.run([LOFT, "-F", RC] + list(args), capture_output=True, text=True)


# 1. A keyword set before SELECT is listed by SELECT.
a = Session("A")
a.cmd("SELECT INBOX")
out, st = a.cmd("STORE 1 +FLAGS (Existing)")
check(st.startswith("OK"), "STORE +FLAGS (Existing) is OK")
check(before(out, r"^\* FLAGS \(.*Existing", r"^\* 1 FETCH"),
      "a new keyword: * FLAGS naming it comes before the STORE's FETCH")
check(first(out, r"PERMANENTFLAGS \(.*Existing.*\\\*\)") is not None,
      "and a PERMANENTFLAGS naming it, with \\*")
a.cmd("LOGOUT")

a = Session("A")
out, st = a.cmd("SELECT INBOX")
check(first(out, r"^\* FLAGS \(\\Answered .*\bExisting\b") is not None,
      "SELECT lists a keyword already in the mailbox in FLAGS")
check(first(out, r"^\* OK \[PERMANENTFLAGS \(.*\bExisting\b.*\\\*\)\]") is not None,
      "and in PERMANENTFLAGS, with \\*")
b = Session("B")
out, st = b.cmd("EXAMINE INBOX")
check(first(out, r"^\* FLAGS \(.*\bExisting\b") is not None, "EXAMINE lists it in FLAGS too")
check(first(out, r"^\* OK \[PERMANENTFLAGS \(\)\]") is not None,
      "EXAMINE: PERMANENTFLAGS () (read-only)")
b.cmd("SELECT INBOX")

# 2. STORE of a new keyword: FLAGS first, here and in an idling session.
b.send("idle1 IDLE")
check(b.readline().startswith("+ "), "session B idles")
out, st = a.cmd("STORE 2 +FLAGS (NewKw)")
check(before(out, r"^\* FLAGS \(.*\bNewKw\b", r"^\* 2 FETCH .*NewKw"),
      "STORE +FLAGS (NewKw): * FLAGS before the FETCH")
got = b.until(r"^\* 2 FETCH .*NewKw")
check(before(got, r"^\* FLAGS \(.*\bNewKw\b", r"^\* 2 FETCH"),
      "the idling session gets FLAGS, then the FETCH")
b.send("DONE")
b.until(r"^idle1 OK")

# 3. The same keyword in another case: no new FLAGS, the announced spelling.
out, st = a.cmd("STORE 3 +FLAGS (NEWKW)")
check(first(out, r"^\* FLAGS") is None, "STORE +FLAGS (NEWKW) after NewKw: no new FLAGS")
check(first(out, r"^\* 3 FETCH .*\bNewKw\b") is not None,
      "and the message gets the announced spelling NewKw")
out, st = a.cmd("STORE 3 -FLAGS (newkw)")
check(first(out, r"^\* 3 FETCH .*NewKw") is None, "STORE -FLAGS (newkw) removes NewKw")
out, st = a.cmd("STORE 3 +FLAGS.SILENT (SilentKw)")
check(first(out, r"^\* FLAGS \(.*\bSilentKw\b") is not None,
      "STORE +FLAGS.SILENT of a new keyword still sends FLAGS")

# 4. Invalid keywords: BAD.
for kw in ["a%b", "a*b", "\\Bogus", '"quoted"', "a{b"]:
    out, st = a.cmd("STORE 1 +FLAGS (%s)" % kw)
    check(st.startswith("BAD"), "STORE +FLAGS (%s) is answered BAD (%s)" % (kw, st))

# 5. APPEND with a keyword, seen by the session and by an idler.
b.send("idle2 IDLE")
b.readline()
msg = "From: x@example.org\r\nSubject: appended\r\nMessage-ID: <app@example.org>\r\n\r\nbody\r\n"
a.send("t99 APPEND INBOX (AppKw \\Seen) {%d}" % len(msg))
check(a.readline().startswith("+"), "APPEND: continuation")
a.sock.sendall(msg.encode() + b"\r\n")
got = a.until(r"^t99 ")
check(got[-1].startswith("t99 OK"), "APPEND INBOX (AppKw) is OK")
got = b.until(r"EXISTS")
check(before(got, r"^\* FLAGS \(.*\bAppKw\b", r"^\* 4 EXISTS"),
      "an idling session gets FLAGS (AppKw) with the appended message, before EXISTS")
b.send("DONE")
got += b.until(r"^idle2 OK")
out, st = b.cmd("FETCH 4 FLAGS")
check(before(got + out, r"^\* FLAGS \(.*\bAppKw\b", r"^\* 4 FETCH .*AppKw"),
      "and before the FETCH that shows it")
out, st = a.cmd("FETCH 1:* (UID FLAGS)")
check(first(out, r"^\* 4 FETCH .*AppKw") is not None and "appkw" in (a.flags or set()),
      "the appending session's FLAGS names AppKw when its FETCH shows it")

# 6. COPY into the selected mailbox from another one.
a.cmd('CREATE Other')
a.send("t98 APPEND Other (CopyKw) {%d}" % len(msg.replace("app@", "copy@")))
a.readline()
a.sock.sendall(msg.replace("app@", "copy@").encode() + b"\r\n")
a.until(r"^t98 ")
c = Session("C")
c.cmd("SELECT Other")
c.cmd("COPY 1 INBOX")
c.cmd("LOGOUT")
out, st = b.cmd("NOOP")
out2, st = b.cmd("FETCH 5 FLAGS")
check(before(out + out2, r"^\* FLAGS \(.*\bCopyKw\b", r"^\* 5 FETCH .*CopyKw"),
      "a message COPYed in with CopyKw: FLAGS before its FETCH")

# 7. notmuch tag, then loft index / loft tag: the idler hears FLAGS + FETCH.
b.send("idle3 IDLE")
b.readline()
env = {"NOTMUCH_CONFIG": NOTMUCH}
import os
env.update({k: v for k, v in os.environ.items() if k != "NOTMUCH_CONFIG"})
r = subprocess.run(["notmuch", "tag", "+nmkw", "--", "id:m2@example.org"], env=env,
                   capture_output=True, text=True)
check(r.returncode == 0, "notmuch tag +nmkw (%s)" % r.stderr.strip())
r = loft("index")
check(r.returncode == 0, "loft index (%s)" % r.stderr.strip())
got = b.until(r"^\* 2 FETCH .*nmkw")
check(before(got, r"^\* FLAGS \(.*\bnmkw\b", r"^\* 2 FETCH"),
      "notmuch tag + loft index reach the idler as FLAGS, then FETCH")
r = loft("tag", "+lofttagkw", "--", "id:m3@example.org")
check(r.returncode == 0, "loft tag +lofttagkw (%s)" % r.stderr.strip())
got = b.until(r"^\* 3 FETCH .*lofttagkw")
check(before(got, r"^\* FLAGS \(.*\blofttagkw\b", r"^\* 3 FETCH"),
      "loft tag reaches the idler as FLAGS, then FETCH")
# 8. loft deliver with Sieve addflag: EXISTS, and FLAGS before the FETCH.
sieve_msg = "From: x@example.org\nSubject: by sieve\nMessage-ID: <sv@example.org>\n\nbody\n"
r = subprocess.run([LOFT, "-F", RC, "deliver"], input=sieve_msg, capture_output=True, text=True)
check(r.returncode == 0, "loft deliver through Sieve addflag (%s)" % r.stderr.strip())
got = b.until(r"^\* 6 EXISTS")
b.send("DONE")
got += b.until(r"^idle3 OK")
out, st = b.cmd("FETCH 6 FLAGS")
check(before(got + out, r"^\* FLAGS \(.*\bSieveKw\b", r"^\* 6 FETCH .*SieveKw"),
      "a message given SieveKw by Sieve: the idler gets FLAGS before its FETCH")

# 9. QRESYNC SELECT: the FETCHes of the resync come after FLAGS naming
# their keywords (the SELECT's own FLAGS does).
d = Session("D")
d.cmd("ENABLE QRESYNC")
out, st = d.cmd("SELECT INBOX")
uv = re.search(r"UIDVALIDITY (\d+)", " ".join(out)).group(1)
d.cmd("LOGOUT")
a.cmd("STORE 1 +FLAGS (QrKw)")
d = Session("D")
d.cmd("ENABLE QRESYNC")
out, st = d.cmd("SELECT INBOX (QRESYNC (%s 1))" % uv)
check(before(out, r"^\* FLAGS \(.*\bQrKw\b", r"^\* 1 FETCH .*QrKw"),
      "QRESYNC SELECT: FLAGS names the keyword before the resync FETCH")

for s in (a, b, d):
    s.cmd("LOGOUT")
viol = a.violations + b.violations + c.violations + d.violations
for v in viol:
    print("# " + v)
check(not viol, "no FETCH in any session named a keyword not yet in FLAGS (imaptest's rule)")
sys.exit(0)
