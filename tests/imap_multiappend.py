#!/usr/bin/env python3
"""MULTIAPPEND (RFC 3502) as one store batch (tests/imap_multiappend.t):
sessions are `loft imapd` processes on one store, one idling on INBOX as
an observer.  Prints PASS/FAIL lines.
Usage: imap_multiappend.py "LOFT -F MAILRC imapd" MAILDIR TRACEFILE"""
import os, re, shlex, signal, subprocess, sys, time

from imapd_pipe import Session, bad_exits, check, ids, setup, status

IMAPD, MAILDIR, TRACE = sys.argv[1], sys.argv[2], sys.argv[3]
N = 40
setup(IMAPD, TRACE + ".err")     # the sessions' stderr (ASan reports)


def msg(tag, i, size=0):
    body = "body %s %d\r\n" % (tag, i)
    if size:
        body += ("x" * 76 + "\r\n") * (size // 78 + 1)
    return ("From: t@example.org\r\nSubject: %s %d\r\nMessage-ID: <%s.%d@example.org>\r\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n%s" % (tag, i, tag, i, body)).encode()


def on_disk(sub):
    return len([f for f in os.listdir(os.path.join(MAILDIR, sub)) if not f.startswith(".")])


class Observer:
    """A session idling on INBOX, counting what it is told."""

    def __init__(self):
        self.s = Session()
        r, lines = self.s.cmd(b"SELECT INBOX")
        self.count = int(re.search(rb"\* (\d+) EXISTS", b"\n".join(lines)).group(1))
        self.s.send(b"i IDLE\r\n")
        l = self.s.line()
        assert l and l.startswith(b"+"), l
        self.exists, self.expunges = [], 0

    def take(self, l):
        m = re.match(rb"\* (\d+) EXISTS", l)
        if m:
            self.exists.append(int(m.group(1)))
        elif re.match(rb"\* \d+ EXPUNGE", l):
            self.expunges += 1

    def until(self, count, timeout=20):
        """Reads until told of count messages, then ends the IDLE."""
        deadline = time.time() + timeout
        while (not self.exists or self.exists[-1] != count) and time.time() < deadline:
            l = self.s.line(max(0, deadline - time.time()))
            if l is None:
                break
            self.take(l)
        self.s.send(b"DONE\r\n")
        r, lines = self.s.tagged(b"i")
        for l in lines:
            self.take(l)
        self.s.close()


# --- a MULTIAPPEND of N: one APPENDUID range, N distinct UIDs -------------
before, uidnext = status()
obs = Observer()
a = Session(env={"LOFT_CRASH_TRACE": TRACE})
msgs = [msg("m", i) for i in range(N)]
t0 = time.time()
r, _ = a.multiappend(msgs, b"(\\Seen $Work)")
a.close()
m = re.match(rb"c\d+ OK \[APPENDUID (\d+) (\d+):(\d+)\]", r or b"")
check(m is not None, "MULTIAPPEND of %d: OK with one APPENDUID range" % N, r)
lo, hi = (int(m.group(2)), int(m.group(3))) if m else (0, -1)
check(hi - lo + 1 == N and lo == uidnext, "the range is %d UIDs from the old UIDNEXT %d" % (N, uidnext),
      (lo, hi))
got = ids()
new = {u: i for u, i in got.items() if u >= lo}
check(sorted(new) == list(range(lo, hi + 1)), "%d distinct UIDs in the folder, the range's" % N,
      sorted(new))
check([new.get(u) for u in range(lo, hi + 1)] == ["m.%d@example.org" % i for i in range(N)],
      "the messages under their UIDs, in the order sent")
check(status() == (before + N, uidnext + N), "STATUS: %d more messages, UIDNEXT %d" % (N, uidnext + N),
      status())
s = Session()
s.cmd(b"EXAMINE INBOX")
r, lines = s.cmd(b"UID FETCH %d (FLAGS)" % hi)
s.close()
check(any(b"\\Seen" in l and b"$Work" in l for l in lines), "flags and keyword kept", lines)
check(on_disk("tmp") == 0 and on_disk("new") + on_disk("cur") == before + N,
      "on disk: %d files in new/ and cur/, none left in tmp/" % (before + N),
      (on_disk("tmp"), on_disk("new") + on_disk("cur")))
begins = [l.strip() for l in open(TRACE) if l.strip().endswith(":begin")]
check(len(begins) == 1, "one state transaction for the command", begins)
obs.until(before + N)
check(obs.exists == [before + N] and obs.expunges == 0,
      "an idling session is told once: * %d EXISTS" % (before + N), obs.exists)

def after_refusal(a, obs, m, before, uidnext):
    """After a refused MULTIAPPEND on session a: a single APPEND of m
    works, the idler obs was told of it alone, and the folder holds it
    alone, under the UID the refused command would have taken first."""
    r, _ = a.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(m), m))
    a.close()
    check(r is not None and b" OK " in r, "the session goes on: a single APPEND after it", r)
    obs.until(before + 1)
    check(obs.exists == [before + 1] and obs.expunges == 0,
          "the idling session saw only that APPEND", (obs.exists, obs.expunges))
    check(status() == (before + 1, uidnext + 1),
          "none of the refused command's messages added, no UID used", (status(), before, uidnext))


# --- the 3rd message refused: too big (sync literals) ---------------------
before, uidnext = status()
obs = Observer()
a = Session()
a.send(b"t1 APPEND INBOX {%d}\r\n" % len(msgs[0]))
ok1 = (a.line() or b"").startswith(b"+")
a.send(msgs[0] + b" {%d}\r\n" % len(msgs[1]))
ok2 = (a.line() or b"").startswith(b"+")
a.send(msgs[1] + b" {%d}\r\n" % (100 * 1024 * 1024))
r, _ = a.tagged(b"t1")
check(ok1 and ok2 and r is not None and r.startswith(b"t1 NO [TOOBIG]"),
      "3rd message over the size limit: NO [TOOBIG] before its data", r)
after_refusal(a, obs, msgs[2], before, uidnext)

# --- the 3rd message refused by the disk: none added ----------------------
before, uidnext = status()
files = on_disk("new") + on_disk("cur")
obs = Observer()
a = Session(fsize=1024 * 1024)
r, _ = a.multiappend([msg("d", 0), msg("d", 1), msg("d", 2, 2 * 1024 * 1024), msg("d", 3)])
check(r is not None and re.match(rb"c\d+ NO", r) is not None, "3rd message fails to write (EFBIG): NO", r)
after_refusal(a, obs, msgs[3], before, uidnext)
check(on_disk("new") + on_disk("cur") == files + 1 and on_disk("tmp") == 0,
      "on disk: only the later message, nothing in tmp/", (on_disk("new") + on_disk("cur"), on_disk("tmp")))
check(not any(i.startswith("d.") for i in ids().values()), "no d.* message in the folder")

# --- three sessions' MULTIAPPENDs at once, beside deliveries --------------
# Each command's APPENDUID range names exactly its messages, in order; no
# UID twice; the deliveries all there.
import threading
before, uidnext = status()
ranges, errs = {}, []


def writer(w):
    try:
        a = Session()
        for c in range(4):
            tag = "w%d-%d" % (w, c)
            r, _ = a.multiappend([msg(tag, i) for i in range(25)])
            m = re.match(rb"c\d+ OK \[APPENDUID \d+ (\d+):(\d+)\]", r or b"")
            if not m:
                errs.append("%s: %r" % (tag, r))
                continue
            ranges[tag] = (int(m.group(1)), int(m.group(2)))
        a.close()
    except Exception as e:
        errs.append("writer %d: %r" % (w, e))


threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
for t in threads:
    t.start()
deliver = IMAPD.rsplit(" imapd", 1)[0] + " deliver"
for i in range(10):
    subprocess.run(shlex.split(deliver), input=msg("dl", i).replace(b"\r\n", b"\n"), check=False)
for t in threads:
    t.join()
got = ids()
problems = list(errs)
for tag, (lo, hi) in sorted(ranges.items()):
    if [got.get(u) for u in range(lo, hi + 1)] != ["%s.%d@example.org" % (tag, i) for i in range(25)]:
        problems.append("%s: UIDs %d:%d do not hold its messages" % (tag, lo, hi))
mine = [i for i in got.values() if i.startswith(("w", "dl."))]
if len(set(mine)) != len(mine):
    problems.append("a message under two UIDs")
if sorted(i for i in got.values() if i.startswith("dl.")) != sorted("dl.%d@example.org" % i for i in range(10)):
    problems.append("deliveries: %s" % sorted(i for i in got.values() if i.startswith("dl.")))
check(not problems and len(ranges) == 12 and status()[0] == before + 310,
      "3 sessions x 4 MULTIAPPENDs of 25 beside 10 deliveries: each range its messages, none twice",
      "; ".join(problems) or (len(ranges), status(), before))

# --- kill -9 at each step of a MULTIAPPEND of 5 ---------------------------
# Killed before the renames: nothing visible (its files stay in tmp/ until
# an open cleans files that old).  Killed during or after them: the files
# renamed are complete and fsynced, and the next scan gives them UIDs as new
# messages, as for any file another program puts in the maildir (Dovecot's
# maildir does the same after a crash between its renames and its uidlist).
for point, want in (("batch:after-add#3", 0), ("batch:after-sync", 0), ("batch:begin", 0),
                    ("batch:after-rename#3", 3), ("batch:after-publish", 5),
                    ("batch:after-commit", 5)):
    before, uidnext = status()
    old = ids()
    tag = "k" + re.sub(r"\W", "", point)
    a = Session(env={"LOFT_CRASH_AT": point})
    try:
        a.multiappend([msg(tag, i) for i in range(5)])
    except BrokenPipeError:
        pass
    try:
        rc = a.p.wait(20)
    except subprocess.TimeoutExpired:
        a.p.kill()
        rc = a.p.wait()
    after = ids()
    got = sorted(i for i in after.values() if i.startswith(tag + "."))
    bad = [u for u in after if u not in old and u < uidnext]
    problems = []
    if rc != -signal.SIGKILL:
        problems.append("not killed (exit %s)" % rc)
    if got != ["%s.%d@example.org" % (tag, i) for i in range(want)]:
        problems.append("messages %s" % got)
    if bad:
        problems.append("UIDs below the old UIDNEXT: %s" % bad)
    if any(old[u] != after.get(u) for u in old):
        problems.append("a UID changed its message")
    s = Session()
    r, _ = s.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(msgs[4]), msgs[4]))
    s.close()
    m = re.search(rb"APPENDUID \d+ (\d+)", r or b"")
    if not m or int(m.group(1)) <= max(after):
        problems.append("the next APPEND: %r" % r)
    check(not problems, "kill -9 at %s: %d of 5 in the folder, UIDs new, the next APPEND above them"
          % (point, want), "; ".join(problems))

check(not bad_exits, "every session ended with status 0", bad_exits)
if bad_exits:
    sys.stdout.write(open(ERRLOG, errors="replace").read()[-3000:])
