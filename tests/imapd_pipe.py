"""Raw `loft imapd` sessions on stdin/stdout, line by line, for the tests
that need every untagged line and exact command timing
(tests/imap_multiappend.py, tests/imap_append_pipe.py).  Call setup()
first with the imapd command and the file the sessions' stderr (ASan
reports) goes to."""
import os, re, resource, select, shlex, signal, subprocess, sys, time

IMAPD = ERRLOG = None
bad_exits = []                  # statuses of sessions that did not end with 0


def setup(imapd, errlog):
    global IMAPD, ERRLOG
    IMAPD, ERRLOG = imapd, errlog


def check(cond, name, detail=""):
    print("%s %s%s" % ("PASS" if cond else "FAIL", name, "" if cond or not detail else ": " + str(detail)))
    sys.stdout.flush()


class Session:
    """A raw client on `loft imapd`'s stdin/stdout; fsize: a file-size
    limit for the session (a write past it fails with EFBIG)."""

    def __init__(self, env=None, fsize=None):
        def limit():
            # A write past the limit fails (EFBIG) instead of killing.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        self.p = subprocess.Popen(shlex.split(IMAPD), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(ERRLOG, "ab"), env=dict(os.environ, **(env or {})),
                                  preexec_fn=limit if fsize else None)
        self.fd = self.p.stdout.fileno()
        self.buf = b""
        self.n = 0
        self.line(10)

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def line(self, timeout=30):
        """The next response line, None on timeout or end of stream."""
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            r, _, _ = select.select([self.fd], [], [], max(0, deadline - time.time()))
            if not r:
                return None
            data = os.read(self.fd, 65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def tagged(self, tag, timeout=60):
        """(tagged reply, untagged lines before it)."""
        lines = []
        while True:
            l = self.line(timeout)
            if l is None or l.startswith(tag + b" "):
                return l, lines
            lines.append(l)

    def replies(self, tags, timeout=60):
        """The tagged replies to tags, in the order they came, and the
        untagged lines."""
        got, lines = [], []
        while len(got) < len(tags):
            l = self.line(timeout)
            if l is None:
                break
            (got if l.split(b" ", 1)[0] in tags else lines).append(l)
        return got, lines

    def cmd(self, text, timeout=60):
        self.n += 1
        tag = b"c%d" % self.n
        self.send(tag + b" " + text + b"\r\n")
        return self.tagged(tag, timeout)

    def multiappend(self, msgs, flags=b""):
        """One MULTIAPPEND to INBOX with LITERAL+ literals; (reply, untagged)."""
        self.n += 1
        tag = b"c%d" % self.n
        parts = [tag, b" APPEND INBOX"]
        for m in msgs:
            parts += [b" " + flags if flags else b"", b" {%d+}\r\n" % len(m), m]
        self.send(b"".join(parts) + b"\r\n")
        return self.tagged(tag)

    def close(self):
        try:
            self.cmd(b"LOGOUT", 10)
        except (BrokenPipeError, OSError):
            pass
        if self.p.wait(10) != 0:
            bad_exits.append(self.p.returncode)


def status(box=b"INBOX"):
    """(MESSAGES, UIDNEXT) of box, as a new session sees them."""
    s = Session()
    r, lines = s.cmd(b"STATUS " + box + b" (MESSAGES UIDNEXT)")
    s.close()
    m = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+)", b" ".join(lines))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def ids(box=b"INBOX"):
    """UID -> Message-ID of every message in box, as a new session sees it."""
    s = Session()
    s.cmd(b"EXAMINE " + box)
    r, lines = s.cmd(b"UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    s.close()
    out, uid = {}, None
    for l in lines:
        m = re.search(rb"UID (\d+)", l)
        if m and b"FETCH" in l:
            uid = int(m.group(1))
        m = re.match(rb"Message-ID: <([^>]*)>", l, re.I)
        if m and uid is not None:
            out[uid] = m.group(1).decode()
    return out
