"""Two `loft imapd` sessions on one store: what one changes reaches the other
as untagged updates from the store's change lists, at the points RFC 3501
allows.  Prints PASS/FAIL lines (tests/imap_backend.t turns them into TAP)."""
import re
import subprocess
import sys

IMAPD = sys.argv[1].split()
MODE = sys.argv[2] if len(sys.argv) > 2 else "sessions"


class Session:
    def __init__(self):
        self.p = subprocess.Popen(IMAPD, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.n = 0
        self.p.stdout.readline()  # * PREAUTH

    def cmd(self, text, literal=None):
        self.n += 1
        tag = "t%d" % self.n
        if literal is None:
            self.p.stdin.write(("%s %s\r\n" % (tag, text)).encode())
        else:
            self.p.stdin.write(("%s %s {%d+}\r\n" % (tag, text, len(literal))).encode() + literal + b"\r\n")
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline().decode(errors="replace")
            if not line:
                raise RuntimeError("session ended during " + text)
            if line.startswith(tag + " "):
                return [l.rstrip("\r\n") for l in lines], line.rstrip("\r\n")
            lines.append(line)

    def close(self):
        self.cmd("LOGOUT")
        self.p.wait(timeout=10)


def check(cond, name):
    print(("PASS " if cond else "FAIL ") + name, flush=True)


def msg(i):
    return b"From: a@example.org\r\nSubject: m%d\r\nMessage-ID: <m%d@x>\r\n\r\nbody %d\r\n" % (i, i, i)


def literal_of(session, text):
    """The untagged lines' first literal, read raw: (data, tagged line)."""
    session.n += 1
    tag = "t%d" % session.n
    session.p.stdin.write(("%s %s\r\n" % (tag, text)).encode())
    session.p.stdin.flush()
    data = None
    while True:
        line = session.p.stdout.readline()
        if not line:
            raise RuntimeError("session ended during " + text)
        m = re.search(rb"\{(\d+)\}\r\n$", line)
        if m and data is None:
            data = session.p.stdout.read(int(m.group(1)))
        if line.startswith(tag.encode() + b" "):
            return data, line.decode().rstrip("\r\n")


if MODE == "big":
    # The message as FETCH must send it: bare LFs made CRLF.
    crlf = open(sys.argv[3], "rb").read().replace(b"\n", b"\r\n")
    hl = crlf.index(b"\r\n\r\n") + 4
    s = Session()
    s.cmd("SELECT INBOX")
    u, t = s.cmd("FETCH 1 (RFC822.SIZE)")
    check(any("RFC822.SIZE %d" % len(crlf) in l for l in u), "RFC822.SIZE of a 40 MB LF message counts CRLFs")
    for item, want in (("BODY.PEEK[]<0.4096>", crlf[:4096]),
                       ("BODY.PEEK[]<1000001.777>", crlf[1000001:1000778]),
                       ("BODY.PEEK[TEXT]<10.20>", crlf[hl + 10:hl + 30]),
                       ("BODY.PEEK[HEADER]", crlf[:hl]),
                       ("BODY.PEEK[]<%d.100>" % (len(crlf) - 10), crlf[-10:])):
        data, t = literal_of(s, "FETCH 1 (%s)" % item)
        check(data == want and t.split()[1] == "OK", "%s: %d bytes as expected" % (item, len(want)))
    data, t = literal_of(s, "FETCH 1 (BODY.PEEK[])")
    check(data == crlf, "BODY.PEEK[] of it whole, in CRLF form")
    s.close()
    sys.exit(0)

a, b = Session(), Session()
for i in range(1, 6):
    b.cmd("APPEND INBOX", msg(i))
u, t = a.cmd("SELECT INBOX")
check("* 5 EXISTS" in u and "OK" in t, "A selects INBOX with 5 messages")
b.cmd("SELECT INBOX")

u, t = b.cmd("STORE 2 +FLAGS.SILENT (\\Flagged $Work)")
u, t = a.cmd("NOOP")
check(any(re.match(r"\* 2 FETCH \(FLAGS \(.*\\Flagged.*\)\)", l) and "$Work" in l for l in u),
      "a flag and keyword change by B reaches A's NOOP as FETCH FLAGS")
u, t = a.cmd("NOOP")
check(u == [], "a second NOOP with nothing changed sends nothing")

b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
b.cmd("EXPUNGE")
u, t = a.cmd("FETCH 1:* (FLAGS)")
check(not any("EXPUNGE" in l for l in u), "no EXPUNGE during FETCH (sequence numbers)")
# The first FETCH synced A after it (no EXPUNGE allowed): message 1 is a
# ghost now, still numbered 1.
u, t = a.cmd("FETCH 1:* (FLAGS)")
check(not any("EXPUNGE" in l for l in u), "nor during the next one")
check(len([l for l in u if " FETCH " in l]) == 4, "the expunged message is not fetched (4 of 5): %s %s" % (u, t))
u, t = a.cmd("NOOP")
check("* 1 EXPUNGE" in u, "B's expunge reaches A's NOOP as * 1 EXPUNGE")

b.cmd("APPEND INBOX", msg(6))
u, t = a.cmd("NOOP")
check("* 5 EXISTS" in u, "B's append reaches A as * 5 EXISTS")
u, t = a.cmd("UID FETCH 1:* (UID)")
uids = [int(m.group(1)) for l in u for m in [re.search(r"UID (\d+)", l)] if m]
check(uids == [2, 3, 4, 5, 6], "A's view has UIDs 2..6 (%s)" % uids)

# COPY/MOVE/STATUS errors: the one mapping of store errors.
u, t = a.cmd("COPY 1 Nowhere")
check(t.split(" ", 2)[1:2] == ["NO"] and "[TRYCREATE]" in t, "COPY to a missing folder: NO [TRYCREATE] (%s)" % t)
u, t = a.cmd("UID MOVE 2 Nowhere")
check("NO [TRYCREATE]" in t, "MOVE to a missing folder: NO [TRYCREATE]")
u, t = a.cmd("STATUS Nowhere (MESSAGES)")
check("NO [NONEXISTENT]" in t, "STATUS of a missing folder: NO [NONEXISTENT]")
u, t = a.cmd("UID COPY 2:3 Trash")
m = re.search(r"\[COPYUID (\d+) (\S+) (\S+)\]", t)
check(m is not None and m.group(2) == "2:3", "COPY of a UID set answers COPYUID (%s)" % t)
u, t = b.cmd("STATUS Trash (MESSAGES UIDNEXT UIDVALIDITY)")
check(m is not None and ("UIDVALIDITY %s" % m.group(1)) in " ".join(u) and "MESSAGES 2" in " ".join(u),
      "STATUS of the target agrees with COPYUID's UIDVALIDITY and count")
u, t = a.cmd("APPEND Trash", msg(7))
check(m is not None and re.search(r"\[APPENDUID %s \d+\]" % m.group(1), t) is not None,
      "APPENDUID to an unselected folder carries its UIDVALIDITY (%s)" % t)

a.close()
b.close()
