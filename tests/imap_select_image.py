#!/usr/bin/env python3
"""The IMAP side of tests/imap_select_image.t: PASS/FAIL lines (probe_py).
usage: imap_select_image.py PORT MODEL-FILE STEP (create, first, change, reopen)"""
import json, re, socket, sys
port, model_file, step = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class S:
    def __init__(s):
        s.c = socket.create_connection(("127.0.0.1", port)); s.buf = b""; s.n = 0; s.line()
        s.cmd("LOGIN phone inbox-password-1"); s.cmd("ENABLE QRESYNC")
    def line(s):
        while b"\r\n" not in s.buf:
            d = s.c.recv(65536)
            if not d: raise EOFError
            s.buf += d
        l, s.buf = s.buf.split(b"\r\n", 1)
        return l.decode()
    def cmd(s, text, lit=None):
        s.n += 1; tag = "t%d" % s.n
        if lit is None:
            s.c.sendall(("%s %s\r\n" % (tag, text)).encode())
        else:
            s.c.sendall(("%s %s {%d+}\r\n" % (tag, text, len(lit))).encode() + lit + b"\r\n")
        out = []
        while True:
            l = s.line(); out.append(l)
            if l.startswith(tag + " "):
                if not l.startswith(tag + " OK"): raise RuntimeError(l)
                return out
def check(cond, name):
    print(("PASS " if cond else "FAIL ") + name)
def flags_of(lines):
    got = {}
    for l in lines:
        u, f, ms = (re.search(r, l) for r in (r"UID (\d+)", r"FLAGS \(([^)]*)\)", r"MODSEQ \((\d+)\)"))
        if l.startswith("* ") and " FETCH " in l and u and f and ms:
            got[int(u.group(1))] = (" ".join(sorted(f.group(1).split())), int(ms.group(1)))
    return got
def code(lines, name):
    for l in lines:
        m = re.search(r"\[%s (\d+)\]" % name, l)
        if m: return int(m.group(1))

if step == "create":
    s = S(); s.cmd("SELECT INBOX"); s.cmd("LOGOUT")
    print("PASS a first session builds the folder's state (a scan)")
elif step == "first":
    s = S()
    sel = s.cmd("SELECT INBOX")
    exists = [int(l.split()[1]) for l in sel if l.endswith(" EXISTS")][0]
    check(exists == 3000, "the first SELECT: 3000 EXISTS")
    msgs = flags_of(s.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)"))
    check(len(msgs) == 3000, "the first session's FETCH of every message")
    json.dump({"uv": code(sel, "UIDVALIDITY"), "ms": code(sel, "HIGHESTMODSEQ"),
               "next": code(sel, "UIDNEXT"), "msgs": msgs}, open(model_file, "w"))
    s.cmd("LOGOUT")
elif step == "change":
    m = json.load(open(model_file)); s = S(); s.cmd("SELECT INBOX")
    for i in range(2):
        s.cmd("APPEND INBOX (\\Flagged)", b"From: x@example.org\r\nSubject: new %d\r\n\r\nnew\r\n" % i)
    s.cmd("UID STORE 5,50,500 +FLAGS.SILENT (\\Answered)")
    s.cmd("UID STORE 7 +FLAGS.SILENT (work)")
    s.cmd("UID STORE 10,20 +FLAGS.SILENT (\\Deleted)")
    s.cmd("UID EXPUNGE 10,20")
    s.cmd("LOGOUT")
    print("PASS changes made in another session")
elif step == "reopen":
    m = json.load(open(model_file)); s = S()
    sel = s.cmd("SELECT INBOX (QRESYNC (%d %d 1:%d))" % (m["uv"], m["ms"], m["next"] - 1))
    after = flags_of(s.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)"))
    old = {int(k): tuple(v) for k, v in m["msgs"].items()}
    gone = sorted(set(old) - set(after)); new = sorted(set(after) - set(old))
    changed = sorted(u for u in after if u in old and after[u] != old[u])
    check(gone == [10, 20], "two UIDs expunged: %s" % gone)
    check(len(new) == 3, "three new UIDs (two APPENDs, a delivery): %s" % new)
    check(changed == [5, 7, 50, 500], "four messages changed: %s" % changed)
    check(all(after[u][1] > m["ms"] for u in new + changed), "each with a MODSEQ above the old HIGHESTMODSEQ")
    check("work" in after[7][0].split(), "the keyword on UID 7: %s" % (after[7],))
    check("* 3001 EXISTS" in sel, "SELECT (QRESYNC): 3001 EXISTS")
    check(code(sel, "UIDNEXT") == max(after) + 1, "UIDNEXT %s" % code(sel, "UIDNEXT"))
    check(code(sel, "HIGHESTMODSEQ") == max(v[1] for v in after.values()), "HIGHESTMODSEQ %s" % code(sel, "HIGHESTMODSEQ"))
    check("* VANISHED (EARLIER) 10,20" in sel, "VANISHED (EARLIER) 10,20")
    fetched = flags_of(sel)
    check(sorted(fetched) == sorted(new + changed), "a FETCH for each new or changed message, no other: %s" % sorted(fetched))
    check(all(fetched[u] == after[u] for u in fetched), "with the flags and MODSEQ the folder has")
    check(sel.index("* VANISHED (EARLIER) 10,20") < min(i for i, l in enumerate(sel) if "FETCH" in l),
          "VANISHED before the FETCHes")
    s.cmd("LOGOUT")
