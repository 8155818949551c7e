#!/usr/bin/env python3
"""Pipelined APPENDs as one store batch (tests/imap_append_pipe.t):
sessions are `loft imapd` processes on one store.  Prints PASS/FAIL lines.
Usage: imap_append_pipe.py "LOFT -F MAILRC imapd" TRACEFILE"""
import os, re, signal, sys, time

from imapd_pipe import Session, bad_exits, check, ids, setup, status

IMAPD, TRACE = sys.argv[1], sys.argv[2]
setup(IMAPD, TRACE + ".err")     # the sessions' stderr (ASan reports)


def msg(tag, i):
    return ("From: t@example.org\r\nSubject: %s %d\r\nMessage-ID: <%s.%d@example.org>\r\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody %s %d\r\n" % (tag, i, tag, i, tag, i)).encode()


def append(tag, m, box=b"INBOX", extra=b""):
    """One APPEND with a LITERAL+ literal, as mbsync sends it."""
    return b"%s APPEND %s%s {%d+}\r\n%s\r\n" % (tag, box, extra, len(m), m)


def appenduid(reply):
    m = re.match(rb"\S+ OK \[APPENDUID \d+ (\d+)\]", reply or b"")
    return int(m.group(1)) if m else None


def begins():
    if not os.path.exists(TRACE):
        return []
    return [l.strip() for l in open(TRACE) if l.strip().endswith(":begin")]


# --- 50 pipelined APPENDs: one batch, 50 OKs in order ---------------------
N = 50
before, uidnext = status()
obs = Session()
r, lines = obs.cmd(b"SELECT INBOX")
obs.send(b"i IDLE\r\n")
idling = (obs.line() or b"").startswith(b"+")
a = Session(env={"LOFT_CRASH_TRACE": TRACE})
tags = [b"p%d" % i for i in range(N)]
a.send(b"".join(append(tags[i], msg("p", i), extra=b" (\\Seen)" if i % 2 else b"") for i in range(N)))
got, _ = a.replies(tags)
a.close()
check([l.split(b" ", 1)[0] for l in got] == tags, "%d pipelined APPENDs: %d tagged replies, in order" % (N, N),
      got[:3])
uids = [appenduid(l) for l in got]
check(None not in uids and uids == list(range(uidnext, uidnext + N)),
      "each OK [APPENDUID] its own UID, increasing from the old UIDNEXT %d" % uidnext, uids[:5])
found = ids()
check([found.get(u) for u in uids] == ["p.%d@example.org" % i for i in range(N)],
      "UID FETCH shows each message under the UID its APPENDUID gave")
check(status() == (before + N, uidnext + N), "STATUS: %d more messages" % N, status())
check(len(begins()) == 1, "one state transaction for the %d commands" % N, begins())
exists = []
deadline = time.time() + 20
while idling and (not exists or exists[-1] != before + N) and time.time() < deadline:
    l = obs.line(max(0, deadline - time.time()))
    if l is None:
        break
    m = re.match(rb"\* (\d+) EXISTS", l)
    if m:
        exists.append(int(m.group(1)))
obs.send(b"DONE\r\n")
obs.tagged(b"i")
obs.close()
check(idling and exists == [before + N], "an idling session is told once: * %d EXISTS" % (before + N), exists)

# --- more than the session reads at once (16 KB): still one batch --------
# (one write into the pipe: all of it is there when the first is read)
M = 200
before, uidnext = status()
open(TRACE, "w").close()
a = Session(env={"LOFT_CRASH_TRACE": TRACE})
data = b"".join(append(b"q%d" % i, msg("q", i)) for i in range(M))
a.send(data)
got, _ = a.replies([b"q%d" % i for i in range(M)])
a.close()
check([appenduid(l) for l in got] == list(range(uidnext, uidnext + M)) and len(begins()) == 1,
      "%d pipelined APPENDs (%d bytes sent at once): %d OKs in order, one state transaction"
      % (M, len(data), M), (len(got), begins()))

# --- refused ones in the middle get their own reply -----------------------
before, uidnext = status()
open(TRACE, "w").close()
a = Session(env={"LOFT_CRASH_TRACE": TRACE})
cmds = [append(b"r0", msg("r", 0)), append(b"r1", msg("r", 1)),
        append(b"r2", msg("r", 2), extra=b' "32-Foo-2024 00:00:00 +0000"'),
        b"r3 APPEND INBOX {0+}\r\n\r\n",
        append(b"r4", msg("r", 4), extra=b" (\\Bogus)"),
        append(b"r5", msg("r", 5)), append(b"r6", msg("r", 6))]
a.send(b"".join(cmds))
got, _ = a.replies([b"r%d" % i for i in range(7)])
kinds = [l.split(b" ")[1] if len(l.split(b" ")) > 1 else b"" for l in got]
check(kinds == [b"OK", b"OK", b"BAD", b"NO", b"BAD", b"OK", b"OK"],
      "bad date, empty message, bad flag in the middle: BAD, NO, BAD; the others OK", got)
check([appenduid(got[i]) for i in (0, 1, 5, 6)] == list(range(uidnext, uidnext + 4)),
      "the 4 stored get consecutive UIDs", got)
check(len(begins()) == 1, "still one state transaction", begins())
# Too big: a synchronising literal over the limit is refused before its
# data; the pipelined ones before it were stored and answered first, the
# ones after it are stored.
a.send(append(b"t0", msg("t", 0)) + append(b"t1", msg("t", 1)) + b"t2 APPEND INBOX {%d}\r\n" % (100 << 20))
got, _ = a.replies([b"t0", b"t1", b"t2"])
ok = [l.split(b" ")[:2] for l in got] == [[b"t0", b"OK"], [b"t1", b"OK"], [b"t2", b"NO"]] and \
    b"[TOOBIG]" in got[2]
a.send(append(b"t3", msg("t", 3)) + append(b"t4", msg("t", 4)))
got2, _ = a.replies([b"t3", b"t4"])
check(ok and [l.split(b" ")[1] for l in got2] == [b"OK", b"OK"],
      "a message over the size limit in the middle: NO [TOOBIG], the others OK", got + got2)
# LITERAL+ over the limit: the data follows anyway, so the session ends
# (RFC 7888 4), but what came before it is stored and acknowledged.
a.send(append(b"u0", msg("u", 0)) + b"u1 APPEND INBOX {%d+}\r\n" % (100 << 20))
got, _ = a.replies([b"u0", b"u1"])
a.p.stdin.close()
a.p.wait(10)
check(len(got) == 2 and got[0].startswith(b"u0 OK") and got[1].startswith(b"u1 NO [TOOBIG]"),
      "LITERAL+ over the limit after a pipelined APPEND: that one OK, then NO [TOOBIG] and BYE", got)
found = ids()
want = ["r.0", "r.1", "r.5", "r.6", "t.0", "t.1", "t.3", "t.4", "u.0"]
check(sorted(v[:3] for u, v in found.items() if u >= uidnext) == want,
      "the folder holds exactly the accepted ones", sorted(v for u, v in found.items() if u >= uidnext))

# --- another mailbox or command in between keeps the order ----------------
s = Session()
s.cmd(b"CREATE Other")
s.close()
before, uidnext = status()
obefore, ouidnext = status(b"Other")
a = Session()
cmds = [append(b"o0", msg("o", 0)), append(b"o1", msg("o", 1)), append(b"o2", msg("o", 2), b"Other"),
        append(b"o3", msg("o", 3)), b"o4 STATUS INBOX (MESSAGES)\r\n", append(b"o5", msg("o", 5)),
        append(b"o6", msg("o", 6), b"Other")]
a.send(b"".join(cmds))
got, lines = a.replies([b"o%d" % i for i in range(7)])
a.close()
st = [int(m.group(1)) for m in (re.search(rb"MESSAGES (\d+)", l) for l in lines) if m]
check([l.split(b" ")[:2] for l in got] == [[b"o%d" % i, b"OK"] for i in range(7)],
      "APPENDs to two mailboxes and a STATUS pipelined: all OK, in order", got)
check(st == [before + 3], "STATUS in the middle sees the 3 APPENDs before it, not the one after", st)
check([appenduid(got[i]) for i in (0, 1, 3, 5)] == list(range(uidnext, uidnext + 4)) and
      [appenduid(got[i]) for i in (2, 6)] == [ouidnext, ouidnext + 1],
      "INBOX and Other each get their UIDs in command order", got)
found, ofound = ids(), ids(b"Other")
check([found.get(uidnext + k) for k in range(4)] == ["o.%d@example.org" % i for i in (0, 1, 3, 5)] and
      [ofound.get(ouidnext + k) for k in range(2)] == ["o.2@example.org", "o.6@example.org"],
      "each message in its mailbox under its UID")

# --- synchronising literals: one at a time, as before ---------------------
before, uidnext = status()
a = Session()
res = []
for i in range(3):
    m = msg("s", i)
    a.send(b"s%d APPEND INBOX {%d}\r\n" % (i, len(m)))
    cont = a.line()
    a.send(m + b"\r\n")
    r, _ = a.tagged(b"s%d" % i)
    res.append((cont or b"").startswith(b"+") and appenduid(r) == uidnext + i)
a.close()
check(res == [True] * 3, "synchronising literals: + then OK [APPENDUID], one at a time", res)

# --- lines that do not parse in between: BAD in their turn ---------------
# (the parser's own errors, and a synchronising literal after the group,
# which gets its "+" once the group is answered)
before, uidnext = status()
a = Session()
m = msg("g", 6)
a.send(append(b"g0", msg("g", 0)) + b"g1 APPEND INBOX (\\Seen\r\n" + append(b"g2", msg("g", 2)) +
       b"g3 FOO)\r\n" + append(b"g4", msg("g", 4)) + b"g5 APPEND INBOX {%d}\r\n" % len(m))
got, lines = a.replies([b"g0", b"g1", b"g2", b"g3", b"g4"])
cont = a.line()
a.send(m + b"\r\n")
r, _ = a.tagged(b"g5")
a.close()
check([l.split(b" ")[:2] for l in got] == [[b"g0", b"OK"], [b"g1", b"BAD"], [b"g2", b"OK"], [b"g3", b"BAD"],
                                            [b"g4", b"OK"]] and (cont or b"").startswith(b"+") and
      appenduid(r) == uidnext + 3 and [appenduid(got[i]) for i in (0, 2, 4)] == [uidnext, uidnext + 1, uidnext + 2],
      "unparsable lines between pipelined APPENDs: BAD in order, the APPENDs OK, then a synchronising one",
      got + [cont, r])

# --- kill -9 during a group -----------------------------------------------
# From outside, while the replies come: every acknowledged message is in
# the folder under its APPENDUID.
before, uidnext = status()
a = Session()
K = 400
tags = [b"k%d" % i for i in range(K)]
data = b"".join(append(tags[i], msg("k", i)) for i in range(K))
import threading
w = threading.Thread(target=lambda: (a.p.stdin.write(data), a.p.stdin.flush()) if True else None)
w.daemon = True
w.start()
acked = []
while len(acked) < K // 4:
    l = a.line(60)
    if l is None:
        break
    if l.startswith(b"k"):
        acked.append(l)
a.p.kill()
a.p.wait()
w.join(10)
found = ids()
lost = [l for l in acked if appenduid(l) is None or
        found.get(appenduid(l)) != "k.%s@example.org" % l.split(b" ")[0][1:].decode()]
check(len(acked) >= K // 4 and not lost,
      "kill -9 after %d of %d acknowledged: each in the folder under its APPENDUID" % (len(acked), K), lost[:3])
# At each step of the batch: what was acknowledged before stays, nothing
# of the group is acknowledged, the next APPEND gets a new UID.
for point in ("batch:after-rename#5", "batch:after-publish#2", "batch:after-commit#2"):
    before, uidnext = status()
    old = ids()
    tag = "c" + re.sub(r"\W", "", point)
    a = Session(env={"LOFT_CRASH_AT": point})
    a.send(b"".join(append(b"a%d" % i, msg(tag + "a", i)) for i in range(3)))
    first, _ = a.replies([b"a0", b"a1", b"a2"])
    try:
        a.send(b"".join(append(b"b%d" % i, msg(tag + "b", i)) for i in range(4)))
    except BrokenPipeError:
        pass
    second, _ = a.replies([b"b0", b"b1", b"b2", b"b3"], 20)
    rc = a.p.wait(20)
    after = ids()
    problems = []
    if rc != -signal.SIGKILL:
        problems.append("not killed (exit %s)" % rc)
    if len(first) != 3 or any(after.get(appenduid(l)) != "%sa.%d@example.org" % (tag, i)
                              for i, l in enumerate(first)):
        problems.append("acknowledged group: %r" % first)
    if second:
        problems.append("acknowledged before the crash: %r" % second)
    if any(old[u] != after.get(u) for u in old) or [u for u in after if u not in old and u < uidnext]:
        problems.append("old messages or UIDs changed")
    s = Session()
    r, _ = s.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(msg("n", 0)), msg("n", 0)))
    s.close()
    if appenduid(r) is None or appenduid(r) <= max(after):
        problems.append("the next APPEND: %r" % r)
    check(not problems, "kill -9 at %s in the 2nd group: the 1st group kept, the 2nd not acknowledged" % point,
          "; ".join(problems))

check(not bad_exits, "every session ended with status 0", bad_exits)
if bad_exits:
    sys.stdout.write(open(ERRLOG, errors="replace").read()[-3000:])
