#!/usr/bin/env python3
"""Concurrent IMAP clients with a checking model of INBOX (bench/imap_stress.sh,
tests/imap_stress.t); the same mix for loft and Dovecot.

  imap_stress.py [-n CLIENTS] [-s SECONDS] [--seed N] tcp HOST PORT USER PASS
  imap_stress.py [-n CLIENTS] [-s SECONDS] [--seed N] cmd PROGRAM ARGS...
      (cmd: each client runs PROGRAM, a pre-authenticated session on its
      stdin/stdout such as `loft imapd`)

Each client loops until the time is up over SELECT, FETCH of flags (by UID
and by sequence number), of envelopes and of whole bodies, STORE (FLAGS,
+FLAGS, -FLAGS), APPEND and UID EXPUNGE, all on INBOX.  The checks are
sound under concurrency because every client owns a disjoint set of UIDs (the
initial ones split round-robin, plus those it appends) and is the only one to
STORE to or expunge them; all clients read everything:
  - every tagged reply is OK; no BYE, no dropped connection;
  - the flags of an owned UID in any FETCH equal what its owner last set
    (\\Recent aside);
  - a UID keeps one envelope and one body (hash) for everyone, and
    RFC822.SIZE is the length of BODY[];
  - every APPENDUID is new and fetched back at once with the Message-ID,
    flags and exact bytes that were appended;
  - an expunged UID is reported EXPUNGEd to its owner and never fetched by
    it again;
  - FETCH sequence numbers never exceed the session's EXISTS count, and
    sequence numbers and UIDs rise together within one reply;
  - UIDVALIDITY never changes and UIDNEXT is above every appended UID;
  - at the end every owned UID is still there, and every UID ever fetched was
    there at the start, an APPENDUID or expunged by its owner: a UID from
    nowhere is a "phantom" (an error, also counted apart).
A FETCH that meets a message another client has just expunged may be
answered NO ("no longer exist", EXPUNGEISSUED) or with an empty ENVELOPE or
BODY[] (RFC 2180 section 4.1): those are counted as races, not errors, and an
empty answer is an error unless its UID was expunged during the run.
Prints "ops NAME runs/commands/mean-time..." and "cmds N seconds S cmds_per_s X
errors E races R phantoms P", and the first errors on stderr; exits 0 when the run
completed (errors or not), 1 on setup failure.
"""
import argparse, hashlib, random, re, socket, subprocess, sys, threading, time

FLAGS = [b"\\Seen", b"\\Answered", b"\\Flagged", b"\\Draft"]
LIT_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")
MARK = b"\x00"


class ImapError(Exception):
    pass


def tokenize(buf, lits):
    """Parses response text (literals replaced by MARK n MARK) into nested
    lists of bytes; NIL is None."""
    pos, n = 0, len(buf)
    stack = [[]]
    while pos < n:
        c = buf[pos:pos + 1]
        if c == b" ":
            pos += 1
        elif c == b"(":
            stack.append([])
            pos += 1
        elif c == b")":
            lst = stack.pop()
            stack[-1].append(lst)
            pos += 1
        elif c == b'"':
            out = bytearray()
            pos += 1
            while buf[pos:pos + 1] != b'"':
                if buf[pos:pos + 1] == b"\\":
                    pos += 1
                out += buf[pos:pos + 1]
                pos += 1
            stack[-1].append(bytes(out))
            pos += 1
        elif c == MARK:
            end = buf.index(MARK, pos + 1)
            stack[-1].append(lits[int(buf[pos + 1:end])])
            pos = end + 1
        else:
            end = pos
            while end < n and buf[end:end + 1] not in (b" ", b"(", b")", b'"', MARK):
                end += 1
            atom = buf[pos:end]
            stack[-1].append(None if atom == b"NIL" else atom)
            pos = end
    return stack[0]


class Model:
    """What every client has learned about the folder, shared."""

    def __init__(self):
        self.lock = threading.Lock()
        self.env = {}       # uid -> repr of its ENVELOPE
        self.body = {}      # uid -> sha256 of BODY[]
        self.size = {}      # uid -> RFC822.SIZE
        self.appended = set()
        self.uids = []      # every UID known to exist at some point
        self.max_appended = 0
        self.expunged = set()
        self.seen = set()    # every UID in a FETCH reply
        self.mid = {}        # uid -> Message-ID of its ENVELOPE
        self.appended_mid = {}  # APPENDUID -> the Message-ID appended
        self.vanishing = {}  # uid -> who saw it answered empty (RFC 2180 4.1)
        self.races = 0       # FETCHes answered NO: messages no longer exist
        self.phantoms = 0    # errors about UIDs that came from nowhere
        self.uidvalidity = None
        self.errors = []

    def error(self, who, what):
        with self.lock:
            self.errors.append("client %s: %s" % (who, what))

    def same(self, table, uid, value, who, what):
        with self.lock:
            old = table.setdefault(uid, value)
        if old != value:
            self.error(who, "UID %d: %s differs from an earlier reply: %.300s then %.300s" % (uid, what, old, value))


class Client:
    def __init__(self, idx, args, model, rng):
        self.idx, self.args, self.model, self.rng = idx, args, model, rng
        self.tagn = 0
        self.exists = 0
        self.own = {}        # uid -> set of flags this client last set
        self.gone = set()    # UIDs this client expunged
        self.cmds = 0
        self.stats = {}      # op -> [times run, commands, seconds]
        self.proc = None
        if args.mode == "tcp":
            self.sock = socket.create_connection((args.target[0], int(args.target[1])), 30)
            self.sock.settimeout(60)
            self.rfile = self.sock.makefile("rb")
            self.send = self.sock.sendall
        else:
            self.proc = subprocess.Popen(args.target, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self.rfile = self.proc.stdout
            self.send = self._pipe_send
        if not self.rfile.readline().startswith(b"* "):
            raise ImapError("no greeting")
        if args.mode == "tcp":
            self.cmd(b'LOGIN "%s" "%s"' % (args.target[2].encode(), args.target[3].encode()))

    def _pipe_send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close(self):
        try:
            self.cmd(b"LOGOUT")
        except Exception:
            pass
        if self.proc:
            self.proc.stdin.close()
            self.proc.wait(10)
        else:
            self.sock.close()

    def err(self, what):
        self.model.error(self.idx, what)

    def read_response(self):
        """One response: (text with literal marks, [literals])."""
        parts, lits = [], []
        while True:
            line = self.rfile.readline()
            if not line:
                raise ImapError("connection closed")
            m = LIT_RE.search(line)
            if not m:
                parts.append(line.rstrip(b"\r\n"))
                return b"".join(parts), lits
            parts.append(line[:m.start()] + MARK + str(len(lits)).encode() + MARK)
            data = self.rfile.read(int(m.group(1)))
            if len(data) != int(m.group(1)):
                raise ImapError("connection closed in a literal")
            lits.append(data)

    def cmd(self, line, literal=None):
        """Sends one command; returns (the FETCH items of the reply as dicts,
        the tagged text, whether an EXPUNGE came).  A reply other than OK
        raises ImapError."""
        self.tagn += 1
        tag = b"c%d" % self.tagn
        if literal is None:
            self.send(tag + b" " + line + b"\r\n")
        else:
            self.send(tag + b" " + line + b" {%d}\r\n" % len(literal))
        fetches, expunged, codes = [], False, []
        while True:
            text, lits = self.read_response()
            if text.startswith(b"+") and literal is not None:
                self.send(literal + b"\r\n")
                literal = None
                continue
            if text.startswith(tag + b" "):
                break
            if not text.startswith(b"* "):
                raise ImapError("unexpected line %r" % text[:80])
            w = text.split(b" ", 3)
            if w[1] == b"BYE":
                raise ImapError("BYE: %r" % text[:120])
            if len(w) > 2 and w[2] == b"EXISTS":
                self.exists = int(w[1])
            elif len(w) > 2 and w[2] == b"EXPUNGE":
                self.exists -= 1
                expunged = True
            elif len(w) > 3 and w[2] == b"FETCH":
                seq = int(w[1])
                if seq > self.exists or seq < 1:
                    self.err("FETCH for sequence %d with %d EXISTS after %r" % (seq, self.exists, line[:60]))
                items = tokenize(w[3], lits)[0]
                d = dict(zip(items[0::2], items[1::2]))
                d[b"SEQ"] = seq
                fetches.append(d)
                self.check(d, line)
            elif w[1] in (b"OK", b"NO", b"BAD"):
                codes.append(text)
        self.cmds += 1
        status = text.split(b" ", 2)[1:]
        if status[0] == b"NO" and line.startswith((b"FETCH ", b"UID FETCH ")) \
                and re.search(rb"EXPUNGEISSUED|no longer exist", text, re.I):
            with self.model.lock:
                self.model.races += 1
        elif status[0] != b"OK":
            raise ImapError("%r -> %r" % (line[:60], text[:200]))
        return fetches, text, expunged, codes

    def check(self, d, line):
        if b"UID" not in d:
            return
        uid = int(d[b"UID"])
        m, what = self.model, line[:60]
        with m.lock:
            m.seen.add(uid)
        if uid in self.gone:
            self.err("UID %d fetched after its EXPUNGE (%r)" % (uid, what))
        if b"FLAGS" in d and uid in self.own:
            got = set(d[b"FLAGS"]) - {b"\\Recent"}
            if got != self.own[uid]:
                self.err("UID %d FLAGS %s, set %s (%r)" % (uid, sorted(got), sorted(self.own[uid]), what))
        if d.get(b"ENVELOPE") == [None] * 10 or d.get(b"BODY[]", b"x") in (None, b""):
            with m.lock:
                m.vanishing.setdefault(uid, "%s: %r -> %.200r" % (self.idx, line[:60], d))
            return
        if b"ENVELOPE" in d:
            m.mid[uid] = d[b"ENVELOPE"][9]
            m.same(m.env, uid, repr(d[b"ENVELOPE"]), self.idx, "ENVELOPE")
        if b"BODY[]" in d:
            body = d[b"BODY[]"] or b""
            m.same(m.body, uid, hashlib.sha256(body).hexdigest(), self.idx, "BODY[]")
            if b"RFC822.SIZE" in d and int(d[b"RFC822.SIZE"]) != len(body):
                self.err("UID %d RFC822.SIZE %s but BODY[] has %d bytes" % (uid, d[b"RFC822.SIZE"], len(body)))
        if b"RFC822.SIZE" in d:
            m.same(m.size, uid, int(d[b"RFC822.SIZE"]), self.idx, "RFC822.SIZE")

    def uid_order(self, fetches, line):
        pairs = sorted(set((d[b"SEQ"], int(d[b"UID"])) for d in fetches if b"UID" in d))
        uids = [u for _, u in pairs]
        if uids != sorted(set(uids)):
            self.err("sequence numbers and UIDs out of order in %r: %s" % (line[:60], pairs[:20]))

    def select(self):
        before = self.model.max_appended
        self.exists = 0
        _, _, _, codes = self.cmd(b"SELECT INBOX")
        for c in codes:
            m = re.search(rb"\[UIDVALIDITY (\d+)\]", c)
            if m:
                with self.model.lock:
                    if self.model.uidvalidity is None:
                        self.model.uidvalidity = m.group(1)
                    elif self.model.uidvalidity != m.group(1):
                        self.err("UIDVALIDITY changed to %s" % m.group(1).decode())
            m = re.search(rb"\[UIDNEXT (\d+)\]", c)
            if m and int(m.group(1)) <= before:
                self.err("UIDNEXT %s not above appended UID %d" % (m.group(1).decode(), before))

    def any_uid(self):
        u = self.model.uids
        return u[self.rng.randrange(len(u))] if u else 1

    def op_fetch_flags(self):
        if self.rng.random() < 0.5 or self.exists < 1:
            a = self.any_uid()
            line = b"UID FETCH %d:%d (FLAGS)" % (a, a + 100)
            f, _, x, _ = self.cmd(line)
        else:
            a = self.rng.randint(1, self.exists)
            line = b"FETCH %d:%d (UID FLAGS)" % (a, min(self.exists, a + 100))
            f, _, x, _ = self.cmd(line)
        if not x:
            self.uid_order(f, line)

    def op_fetch_envelope(self):
        a = self.any_uid()
        line = b"UID FETCH %d:%d (ENVELOPE)" % (a, a + 20)
        f, _, x, _ = self.cmd(line)
        if not x:
            self.uid_order(f, line)

    def op_fetch_body(self):
        a = self.any_uid()
        self.cmd(b"UID FETCH %d:%d (RFC822.SIZE BODY.PEEK[])" % (a, a + 2))

    def op_store(self):
        if not self.own:
            return
        uid = self.rng.choice(list(self.own))
        pick = set(f for f in FLAGS if self.rng.random() < 0.4)
        kind = self.rng.choice([b"FLAGS", b"+FLAGS", b"-FLAGS"])
        cur = self.own[uid]
        self.own[uid] = pick if kind == b"FLAGS" else cur | pick if kind == b"+FLAGS" else cur - pick
        self.cmd(b"UID STORE %d %s (%s)" % (uid, kind, b" ".join(sorted(pick))))
        if self.rng.random() < 0.5:
            f, _, _, _ = self.cmd(b"UID FETCH %d (FLAGS)" % uid)
            if not any(int(d.get(b"UID", 0)) == uid for d in f):
                self.err("UID %d missing from FETCH after STORE" % uid)

    def op_append(self):
        mid = b"<stress.%d.%d.%d@bench.example>" % (self.idx, self.tagn, self.rng.randrange(1 << 30))
        size = self.rng.choice([200, 2000, 20000])
        body = (b"From: stress@example.org\r\nTo: me@example.org\r\nSubject: stress %d\r\n"
                b"Message-ID: %s\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n" % (self.tagn, mid))
        body += (b"x" * 70 + b"\r\n") * (size // 72)
        flags = set(f for f in FLAGS if self.rng.random() < 0.3)
        _, text, _, _ = self.cmd(b"APPEND INBOX (%s)" % b" ".join(sorted(flags)), body)
        m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", text)
        if not m:
            self.err("APPEND reply without APPENDUID: %r" % text[:100])
            return
        uid = int(m.group(2))
        with self.model.lock:
            dup = uid in self.model.appended
            self.model.appended.add(uid)
            self.model.appended_mid[uid] = mid
            self.model.uids.append(uid)
            self.model.max_appended = max(self.model.max_appended, uid)
        if dup:
            self.err("APPENDUID %d given twice" % uid)
        self.own[uid] = flags
        self.model.same(self.model.body, uid, hashlib.sha256(body).hexdigest(), self.idx, "BODY[] (appended)")
        f, _, _, _ = self.cmd(b"UID FETCH %d (FLAGS ENVELOPE)" % uid)
        got = [d for d in f if int(d.get(b"UID", 0)) == uid and b"ENVELOPE" in d]
        if not got:
            self.err("APPENDUID %d not fetched back" % uid)
        elif got[0][b"ENVELOPE"][9] != mid:
            self.err("APPENDUID %d has Message-ID %r, appended %r" % (uid, got[0][b"ENVELOPE"][9], mid))

    def op_expunge(self):
        if len(self.own) < 5:
            return
        uid = self.rng.choice(list(self.own))
        self.own[uid] |= {b"\\Deleted"}
        self.cmd(b"UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid)
        _, _, x, _ = self.cmd(b"UID EXPUNGE %d" % uid)
        del self.own[uid]
        self.gone.add(uid)
        with self.model.lock:
            self.model.expunged.add(uid)
        if not x:
            self.err("UID EXPUNGE %d: no EXPUNGE response" % uid)
        f, _, _, _ = self.cmd(b"UID FETCH %d (FLAGS)" % uid)
        if any(int(d.get(b"UID", 0)) == uid for d in f):
            self.err("UID %d still fetched after UID EXPUNGE" % uid)

    OPS = [("select", 3), ("fetch_flags", 20), ("fetch_envelope", 15), ("fetch_body", 15),
           ("store", 25), ("append", 10), ("expunge", 10)]

    def run(self, deadline):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        self.select()
        while time.monotonic() < deadline:
            op = self.rng.choices(names, weights)[0]
            t, n = time.monotonic(), self.cmds
            if op == "select":
                self.select()
            else:
                getattr(self, "op_" + op)()
            st = self.stats.setdefault(op, [0, 0, 0.0])
            st[0] += 1
            st[1] += self.cmds - n
            st[2] += time.monotonic() - t


def worker(c, deadline):
    try:
        c.run(deadline)
    except Exception as e:
        c.err("%s: %s" % (type(e).__name__, e))
    finally:
        try:
            c.close()
        except Exception:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("-s", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("mode", choices=["tcp", "cmd"])
    ap.add_argument("target", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    model = Model()
    try:
        setup = Client("setup", args, model, random.Random(args.seed))
        setup.select()
        f, _, _, _ = setup.cmd(b"UID FETCH 1:* (FLAGS)")
        setup.close()
    except (OSError, ImapError) as e:
        sys.exit("imap_stress: setup: %s" % e)
    initial = sorted((int(d[b"UID"]), set(d[b"FLAGS"]) - {b"\\Recent"}) for d in f)
    model.uids = [u for u, _ in initial]
    clients = []
    try:
        for i in range(args.n):
            clients.append(Client(i, args, model, random.Random(args.seed * 1000 + i)))
    except (OSError, ImapError) as e:
        sys.exit("imap_stress: connecting client %d: %s" % (len(clients), e))
    for k, (uid, flags) in enumerate(initial):
        clients[k % args.n].own[uid] = flags
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c, t0 + args.s)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    el = time.monotonic() - t0
    n = sum(c.cmds for c in clients)
    # At the end every UID a client owns is still there, and a UID answered
    # empty was expunged or is there in full.
    owned = {u: c.idx for c in clients for u in c.own}
    try:
        c = Client("final", args, model, random.Random(0))
        c.select()
        f, _, _, _ = c.cmd(b"UID FETCH 1:* (UID ENVELOPE)")
        c.close()
    except (OSError, ImapError) as e:
        model.error("final", "%s: %s" % (type(e).__name__, e))
        f = []
    now = {int(d[b"UID"]): d.get(b"ENVELOPE") for d in f if b"UID" in d}
    for uid in sorted(set(owned) - set(now)) if f else []:
        model.error(owned[uid], "UID %d is gone at the end, never expunged" % uid)
    phantom = sorted(model.seen - set(owned) - model.expunged - model.appended - set(model.uids))
    model.phantoms = len(phantom) + sum(1 for u in model.vanishing if u not in model.expunged)
    mids = {mid: u for u, mid in model.appended_mid.items()}
    for u in phantom:
        model.error("all", "UID %d was neither there at the start nor an APPENDUID (%s)" %
                    (u, "Message-ID of APPENDUID %d" % mids[model.mid[u]] if model.mid.get(u) in mids
                     else "its Message-ID not seen"))
    for uid in sorted(model.vanishing):
        if uid not in model.expunged:
            model.error(model.vanishing[uid], "UID %d answered with an empty ENVELOPE or BODY[] but never "
                        "expunged; at the end: %.150r" % (uid, now.get(uid, "not in the folder")))
    for e in model.errors[:20]:
        print("imap_stress: " + e, file=sys.stderr)
    ops = {}
    for c in clients:
        for op, (k, cmds, sec) in c.stats.items():
            o = ops.setdefault(op, [0, 0, 0.0])
            o[0] += k
            o[1] += cmds
            o[2] += sec
    print("ops " + " ".join("%s %d/%d/%.1fms" % (op, k, cmds, 1000 * sec / max(k, 1))
                            for op, (k, cmds, sec) in sorted(ops.items())))
    print("cmds %d seconds %.1f cmds_per_s %.0f errors %d races %d phantoms %d" %
          (n, el, n / el, len(model.errors), model.races + len(model.vanishing), model.phantoms))


if __name__ == "__main__":
    main()
