#!/usr/bin/env python3
"""Many IMAP sessions on one folder at once (tests/imap_many.t): two idling,
one polling with NOOP, one setting flags, one expunging, while `loft
deliver` delivers messages.  Each session keeps the view of the folder that
its untagged EXISTS / EXPUNGE / FETCH responses give it; at the end every
view must equal the folder as a new session sees it, and no two sessions may
ever name two different messages with one UID.  Prints PASS/FAIL lines.
Usage: imap_many.py "LOFT -F MAILRC imapd" "LOFT -F MAILRC deliver" [N]"""
import os, random, re, select, shlex, subprocess, sys, threading, time

IMAPD, DELIVER = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 50
errors = []
uid_mid = {}            # UID -> Message-ID, as first seen by any session
lock = threading.Lock()


def error(msg):
    with lock:
        errors.append(msg)


class Session:
    """A raw IMAP client over `loft imapd`'s stdin/stdout with a model of
    the selected folder: a list of [uid, flags, message-id] by sequence."""

    def __init__(self, name):
        self.name = name
        # IMAP_MANY_TRACE=DIR: each session's conversation in DIR/NAME and
        # the server's stderr in DIR/NAME.err
        tdir = os.environ.get("IMAP_MANY_TRACE")
        err = open(os.path.join(tdir, name + ".err"), "wb") if tdir else subprocess.DEVNULL
        self.p = subprocess.Popen(shlex.split(IMAPD), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err)
        self.fd = self.p.stdout.fileno()
        self.buf = b""
        self.tag = 0
        self.model = []
        self.seq_cmd = False    # a sequence-number command runs: no EXPUNGE
        self.idle_exists = 0    # EXISTS received while idling
        self.trace = open(os.path.join(tdir, name), "wb") if tdir else None
        self.read_line(10)      # the PREAUTH greeting

    def fill(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        data = os.read(self.fd, 65536)
        if not data:
            raise EOFError(self.name + ": connection closed")
        self.buf += data
        return True

    def read_line(self, timeout=30):
        """One response line with its literals inlined, or None on timeout."""
        out = b""
        deadline = time.time() + timeout
        while True:
            while b"\r\n" not in self.buf:
                if not self.fill(max(0, deadline - time.time())):
                    if out or self.buf:
                        raise TimeoutError(self.name + ": response cut: " + repr(out + self.buf))
                    return None
            line, self.buf = self.buf.split(b"\r\n", 1)
            if self.trace:
                self.trace.write(b"S: %.3f " % time.time() + line + b"\n")
            out += line
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                if not self.fill(max(0, deadline - time.time())):
                    raise TimeoutError(self.name + ": literal cut")
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]

    def send(self, line):
        if self.trace:
            self.trace.write(b"C: %.3f " % time.time() + line + b"\n")
        self.p.stdin.write(line + b"\r\n")
        self.p.stdin.flush()

    def untagged(self, line):
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE|FETCH)(.*)", line, re.S)
        if not m:
            return
        n, what, rest = int(m.group(1)), m.group(2), m.group(3)
        if what == b"EXISTS":
            if n < len(self.model):
                error("%s: EXISTS %d below the %d messages it knows" % (self.name, n, len(self.model)))
            while len(self.model) < n:
                self.model.append([None, None, None])
        elif what == b"EXPUNGE":
            if self.seq_cmd:
                error("%s: EXPUNGE during a sequence-number command" % self.name)
            if not 1 <= n <= len(self.model):
                error("%s: EXPUNGE %d of %d messages" % (self.name, n, len(self.model)))
            else:
                del self.model[n - 1]
        else:
            if not 1 <= n <= len(self.model):
                error("%s: FETCH %d of %d messages" % (self.name, n, len(self.model)))
                return
            rec = self.model[n - 1]
            u = re.search(rb"UID (\d+)", rest)
            if u:
                u = int(u.group(1))
                if rec[0] is None:
                    rec[0] = u
                elif rec[0] != u:
                    error("%s: FETCH %d says UID %d, known as %d" % (self.name, n, u, rec[0]))
            f = re.search(rb"FLAGS \(([^)]*)\)", rest)
            if f:
                rec[1] = " ".join(sorted(x for x in f.group(1).decode().split() if x != "\\Recent"))
            mid = re.search(rb"MESSAGE-ID: *<([^>]*)>", rest, re.I)
            if mid:
                rec[2] = mid.group(1).decode()
                with lock:
                    if rec[0] is not None and uid_mid.setdefault(rec[0], rec[2]) != rec[2]:
                        errors.append("%s: UID %d is %s, another session saw %s"
                                      % (self.name, rec[0], rec[2], uid_mid[rec[0]]))

    def cmd(self, text, seq=False, learn=True, may_fail=False):
        """Runs one command; untagged responses update the model.  A NO or
        BAD is an error unless may_fail; then learns new messages."""
        self.tag += 1
        tag = b"t%d" % self.tag
        self.seq_cmd = seq
        self.send(tag + b" " + text.encode())
        while True:
            line = self.read_line()
            if line is None:
                raise TimeoutError("%s: no reply to %s" % (self.name, text))
            if line.startswith(tag + b" "):
                self.seq_cmd = False
                if not may_fail and not line.startswith(tag + b" OK"):
                    error("%s: %s -> %s" % (self.name, text, line.decode(errors="replace")))
                if learn:
                    self.learn_new()
                return line
            self.untagged(line)

    def learn_new(self):
        """FETCH what it does not know yet (messages announced by EXISTS)."""
        for _ in range(50):
            lo = next((i for i, r in enumerate(self.model) if r[0] is None or r[2] is None), None)
            if lo is None:
                return
            line = self.cmd("FETCH %d:%d (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
                            % (lo + 1, len(self.model)), seq=True, learn=False, may_fail=True)
            if b" NO " in line:
                # Expunged by another session and not reported yet (RFC
                # 2180 4.1.2): a NOOP brings the EXPUNGE, then try again.
                self.cmd("NOOP", learn=False)
            elif b" OK " not in line:
                error("%s: FETCH -> %s" % (self.name, line.decode(errors="replace")))
        error("%s: cannot learn its new messages (FETCH of what EXISTS announced keeps failing)" % self.name)

    def select(self):
        self.cmd("SELECT INBOX")

    def idle(self, secs):
        """IDLE for up to secs or until something arrives, then DONE."""
        self.tag += 1
        tag = b"t%d" % self.tag
        self.send(tag + b" IDLE")
        while True:
            line = self.read_line()
            if line.startswith(b"+"):
                break
            self.untagged(line)
        end = time.time() + secs
        while time.time() < end:
            line = self.read_line(max(0.01, end - time.time()))
            if line is None:
                break
            if re.match(rb"\* \d+ EXISTS", line):
                self.idle_exists += 1
            self.untagged(line)
        self.send(b"DONE")
        while True:
            line = self.read_line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    error("%s: IDLE -> %s" % (self.name, line.decode()))
                break
            self.untagged(line)
        self.learn_new()

    def view(self):
        return [(r[0], r[1]) for r in self.model]

    def close(self):
        try:
            self.cmd("LOGOUT")
        except Exception:
            pass
        self.p.stdin.close()
        self.p.wait(10)


stop = threading.Event()
deleted = set()          # Message-IDs the expunger marked \Deleted


def run(name, body):
    def wrap():
        try:
            body()
        except Exception as e:
            error("%s died: %r" % (name, e))
    t = threading.Thread(target=wrap, name=name)
    t.start()
    return t


sessions = {n: Session(n) for n in ("idle1", "idle2", "poll", "flagger", "expunger")}
for s in sessions.values():
    s.select()
initial = [r[2] for r in sessions["poll"].model]


def idler(s):
    while not stop.is_set():
        s.idle(0.5)


def poller(s):
    while not stop.is_set():
        s.cmd("NOOP")
        time.sleep(0.02)


def store(s, text):
    """A STORE on a message another session may have expunged meanwhile:
    NO is allowed then (RFC 2180 4.2.1), anything else is an error."""
    line = s.cmd(text, may_fail=True)
    if re.match(rb"t\d+ OK", line):
        return True
    if b" NO " not in line or b"SERVERBUG" in line:
        error("%s: %s -> %s" % (s.name, text, line.decode(errors="replace")))
    return False


def flagger(s):
    rnd = random.Random(1)
    while not stop.is_set():
        known = [r for r in s.model if r[0] is not None]
        if known:
            uid = rnd.choice(known)[0]
            op = rnd.choice(["+FLAGS (\\Flagged)", "-FLAGS (\\Flagged)", "+FLAGS ($Work \\Seen)", "-FLAGS ($Work)"])
            store(s, "UID STORE %d %s" % (uid, op))
        else:
            s.cmd("NOOP")
        time.sleep(0.01)


def expunger(s):
    rnd = random.Random(2)
    i = 0
    while not stop.is_set():
        known = [r for r in s.model if r[0] is not None and r[2] is not None]
        if known and rnd.random() < 0.3:
            r = rnd.choice(known)
            if store(s, "UID STORE %d +FLAGS.SILENT (\\Deleted)" % r[0]):
                with lock:
                    deleted.add(r[2])
        i += 1
        s.cmd("EXPUNGE" if i % 4 == 0 else "NOOP")
        time.sleep(0.02)


def deliverer(first, step):
    for i in range(first, N + 1, step):
        msg = "From: d@example.org\nSubject: many %d\nMessage-ID: <many%d@example.org>\n\nbody %d\n" % (i, i, i)
        r = subprocess.run(shlex.split(DELIVER), input=msg.encode())
        if r.returncode != 0:
            error("deliver %d exited %d" % (i, r.returncode))
        time.sleep(random.random() * 0.05)


threads = [run("idle1", lambda: idler(sessions["idle1"])),
           run("idle2", lambda: idler(sessions["idle2"])),
           run("poll", lambda: poller(sessions["poll"])),
           run("flagger", lambda: flagger(sessions["flagger"])),
           run("expunger", lambda: expunger(sessions["expunger"]))]
t0 = time.time()
d = [run("deliver%d" % k, lambda k=k: deliverer(k, 2)) for k in (1, 2)]
for t in d:
    t.join()
time.sleep(0.3)          # let the flagger and expunger act on the last ones
stop.set()
for t in threads:
    t.join(60)
print("deliveries of %d messages with 5 sessions took %.1f s" % (N, time.time() - t0))
s = sessions["expunger"]
s.cmd("EXPUNGE")
for s in sessions.values():
    s.cmd("NOOP")

# The truth: a new session's view.
truth = Session("checker")
truth.select()
want = truth.view()
for name, s in sessions.items():
    got = s.view()
    ok = got == want
    print(("PASS " if ok else "FAIL ") + "%s: its view (%d messages) equals the folder (%d)" % (name, len(got), len(want)))
    if not ok:
        for a, b in zip(got, want):
            if a != b:
                print("  first difference: session %r folder %r" % (a, b))
                break
mids = sorted(r[2] for r in truth.model)
expect = sorted(m for m in initial + ["many%d@example.org" % i for i in range(1, N + 1)]
                if m not in deleted)
print(("PASS " if mids == expect else "FAIL ") + "the folder holds the %d there before and the %d delivered, minus the %d expunged (%d)"
      % (len(initial), N, len(deleted), len(mids)))
uids = [r[0] for r in truth.model]
print(("PASS " if uids == sorted(set(uids)) else "FAIL ") + "UIDs strictly ascending")
for name in ("idle1", "idle2"):
    n = sessions[name].idle_exists
    print(("PASS " if n > 0 else "FAIL ") + "%s got EXISTS while idling (%d times)" % (name, n))
for e in errors[:20]:
    print("  error: " + e)
print(("PASS " if not errors else "FAIL ") + "no protocol error, no UID named two messages (%d errors)" % len(errors))
for s in list(sessions.values()) + [truth]:
    s.close()
