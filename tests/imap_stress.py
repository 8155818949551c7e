#!/usr/bin/env python3
"""An imaptest-style compliance and stress check of an IMAP server
(tests/imap_stress.t; also run against a private Dovecot to check the
checker).  Standard library only; raw sockets and its own response reader,
so every untagged line is seen.

  imap_stress.py [-n CLIENTS] [-s SECONDS] [--seed N] [--messages M]
                 HOST PORT USER PASS

Seeds INBOX with M messages (MULTIAPPEND), then N clients run random
commands on INBOX for SECONDS (SELECT, FETCH, STORE, SEARCH, EXPUNGE,
APPEND, COPY, MOVE, IDLE, NOOP, STATUS, CHECK; by sequence number and by
UID; some clients plain, some with CONDSTORE, some with QRESYNC), each with
a model of its session checked against every untagged response, and one
more client sends malformed input.  The seed is printed first: the same
seed gives the same commands (the interleaving differs).  Prints one
"PASS name" or "FAIL name" line per rule and the first violations of each
below it; exits 0 when the run completed (failed rules or not), 2 when it
could not set up.

Rules (the names of the PASS/FAIL lines):
  tagged    every command gets its tagged reply, OK unless a message it
            names was expunged meanwhile (then NO is allowed); no BAD to
            a valid command; nothing waits longer than the deadline
  bye       no BYE and no dropped connection in the stress sessions
  exists    EXISTS never decreases without EXPUNGE or VANISHED; RECENT
            never exceeds EXISTS
  seqnums   FETCH and SEARCH name only existing sequence numbers; a FETCH's
            UID matches the session's sequence-number map (which EXPUNGE
            shifts)
  window    no EXPUNGE or VANISHED while a FETCH, STORE or SEARCH by
            sequence number runs (RFC 3501 7.4.1)
  uids      UIDs ascend with sequence numbers, a new message's UID is above
            every UID the session saw, an expunged UID never comes back,
            UIDNEXT above every UID seen and never smaller, UIDVALIDITY fixed
  ownstore  a STORE's FETCH shows its change, and a later FETCH FLAGS shows
            it too while no other session wrote that message's flags
  recent    \\Recent shown to at most one session per message
  modseq    one MODSEQ is one set of flags, a message's MODSEQ never goes
            back, HIGHESTMODSEQ at SELECT and STATUS at least every MODSEQ
            seen before
  vanished  VANISHED instead of EXPUNGE once QRESYNC is enabled, EXPUNGE
            before it
  uidplus   APPENDUID and COPYUID name new UIDs, which a UID FETCH finds
  body      BODY[] is byte for byte what was appended, RFC822.SIZE its size
  keywords  a FETCH names only keywords the session's FLAGS listed
  fuzz      malformed input is answered BAD or NO (or BYE, for a literal
            too large to read) and the session answers a NOOP after it
"""
import argparse, hashlib, os, random, re, sys, threading, time

from imap_stress_fuzz import Fuzzer
from imap_stress_wire import DEADLINE, Conn, Dropped, Hang, fmt_set, parse_set, tokenize

FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "kwstress1", "kwstress2"]
RULES = ["tagged", "bye", "exists", "seqnums", "window", "uids", "ownstore", "recent",
         "modseq", "vanished", "uidplus", "body", "keywords", "fuzz"]
TAGGED_RE = re.compile(rb"^(\S+) (OK|NO|BAD)\b ?(.*)$", re.S)
CODE_RE = re.compile(rb"\[([A-Z-]+)(?: ([^\]]*))?\]")


class World:
    """What every client knows: message contents, flag writes, expunges,
    MODSEQs, UIDs given out; and the violations found."""

    def __init__(self):
        self.lock = threading.RLock()
        self.content = {}       # (folder, uid) -> sha1 of the CRLF text
        self.size = {}
        self.writes = {}        # (folder, uid) -> [[client, t_sent, t_done]]
        self.expunged = {}      # (folder, uid) -> time first reported
        self.modseq_flags = {}  # (folder, uid, modseq) -> frozenset
        self.max_modseq = {}    # folder -> highest MODSEQ seen
        self.max_uid = {}       # folder -> highest UID seen
        self.recent = {}        # (folder, uid) -> session that saw \Recent
        self.errors = {r: [] for r in RULES}
        self.checks = {r: 0 for r in RULES}
        self.commands = 0

    def err(self, rule, who, text):
        with self.lock:
            self.errors[rule].append("%s: %s" % (who, text))

    def check(self, rule, cond, who, text):
        with self.lock:
            self.checks[rule] += 1
        if not cond:
            self.err(rule, who, text)
        return cond

    def saw_uid(self, folder, uid):
        with self.lock:
            if uid > self.max_uid.get(folder, 0):
                self.max_uid[folder] = uid

    def saw_modseq(self, folder, modseq):
        with self.lock:
            if modseq > self.max_modseq.get(folder, 0):
                self.max_modseq[folder] = modseq

    def write_start(self, folder, uids, who):
        rec = [who, time.monotonic(), float("inf")]
        with self.lock:
            for u in uids:
                self.writes.setdefault((folder, u), []).append(rec)
        return rec

    def others_wrote(self, folder, uid, who, since, until):
        with self.lock:
            for w in self.writes.get((folder, uid), ()):
                if w[0] != who and w[2] > since and w[1] < until:
                    return True
        return False

    def gone(self, folder, uid):
        with self.lock:
            return (folder, uid) in self.expunged


def flagset(items):
    return frozenset(f.decode().lower() for f in items if f.decode().lower() != "\\recent")


class Client(threading.Thread):
    """A stress client: random commands, every response checked against
    the model of its session (seqs[i] the UID of message i+1, None while
    unknown; unknown ones are always the newest)."""

    def __init__(self, world, args, cid, seed, mode):
        super().__init__(daemon=True)
        self.w, self.args, self.cid = world, args, cid
        self.rng = random.Random(seed)
        self.mode = mode            # plain, condstore or qresync
        self.name_ = "client%d(%s)" % (cid, mode)
        self.conn = None
        self.folder = None
        self.session = 0
        self.seqs = []
        self.flags = {}             # uid -> frozenset last seen
        self.modseq = {}            # uid -> last MODSEQ seen
        self.maxuid = 0             # highest UID this session saw
        self.uidnext = 0
        self.uidvalidity = {}
        self.kwflags = set()        # keywords of the last FLAGS
        self.expect = {}            # uid -> (flags, t_sent) after own STORE
        self.cur = None             # the command running: (name, by_seq)
        self.untagged = []
        self.stopped = False
        self.done = 0
        self.last_fetch = []        # (seq, uid, items) of this command's FETCHes
        self.folder_mode = "select"
        self.seen_uid_at_send = self.seen_modseq_at_send = 0
        self.select_hms = 0         # HIGHESTMODSEQ of the last SELECT
        self.gone_here = set()      # UIDs this session saw expunged
        self.appended = set()
        self.copyuid = None

    # ---- low level ----

    def connect(self):
        trace = open("%s/client%d" % (self.args.trace, self.cid), "wb") if self.args.trace else None
        self.conn = Conn(self.args.host, self.args.port, trace)
        self.conn.read_response()
        self.tag = 0
        r = self.cmd("LOGIN", '"%s" "%s"' % (self.args.user, self.args.password))
        if r[0] != "OK":
            raise RuntimeError("login refused: %r" % (r,))
        if self.mode != "plain":
            r = self.cmd("ENABLE", self.mode.upper())
            if r[0] != "OK":
                raise RuntimeError("ENABLE %s: %r" % (self.mode, r))

    def cmd(self, name, rest="", by_seq=False, literals=(), allow_no=False, check=True):
        """Runs a command; returns (status, text bytes, untagged list)."""
        self.tag += 1
        tag = b"c%dt%d" % (self.cid, self.tag)
        self.cur = (name, by_seq)
        self.untagged = []
        self.sent = time.monotonic()
        line = tag + b" " + name.encode() + (b" " + rest.encode() if rest else b"")
        if literals:
            # LITERAL+ (both servers have it): one write, no waiting.
            parts = [line]
            for flags, data in literals:
                parts.append(b" " + flags.encode() + b" {%d+}\r\n" % len(data) + data)
            self.conn.send(b"".join(parts) + b"\r\n")
        else:
            self.conn.send(line + b"\r\n")
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                text, lits = self.conn.read_response(deadline)
            except Hang as e:
                self.w.err("tagged", self.name_, "%s %s: %s" % (name, rest[:60], e))
                raise
            if text.startswith(b"* "):
                self.untagged.append((text, lits))
                self.on_untagged(text[2:], lits)
                continue
            if text.startswith(b"+"):
                if name == "IDLE":
                    return ("+", text, self.untagged)
                continue
            m = TAGGED_RE.match(text)
            if not m or m.group(1) != tag:
                self.w.err("tagged", self.name_, "%s: reply with a foreign tag: %r" % (name, text[:120]))
                continue
            status = m.group(2).decode()
            self.w.commands += 1
            self.done += 1
            if check:
                ok = status == "OK" or (status == "NO" and allow_no)
                self.w.check("tagged", ok, self.name_, "%s %s -> %r" % (name, rest[:80], text[:160]))
            self.cur = None
            return (status, m.group(3), self.untagged)

    # ---- the model ----

    def known(self):
        return [u for u in self.seqs if u > 0]

    def unknown(self):
        return any(u < 0 for u in self.seqs)

    def set_seq_uid(self, seq, uid, ctx):
        old = self.seqs[seq - 1]
        if old > 0:
            self.w.check("seqnums", old == uid, self.name_,
                         "%s: message %d has UID %d, the session knew it as UID %d" % (ctx, seq, uid, old))
            return
        before = [u for u in self.seqs[:seq - 1] if u > 0]
        after = [u for u in self.seqs[seq:] if u > 0]
        ok = (not before or before[-1] < uid) and (not after or uid < after[0])
        self.w.check("uids", ok, self.name_, "%s: UID %d at message %d is out of order" % (ctx, uid, seq))
        # An unknown slot is -1 - the highest UID the session knew when
        # EXISTS announced it: a new message's UID is above that.
        self.w.check("uids", uid > -1 - old, self.name_,
                     "%s: new message %d has UID %d, not above %d already seen" % (ctx, seq, uid, -1 - old))
        self.w.check("uids", uid not in self.gone_here, self.name_,
                     "%s: UID %d was expunged and came back as message %d" % (ctx, uid, seq))
        self.seqs[seq - 1] = uid
        self.maxuid = max(self.maxuid, uid)
        self.w.saw_uid(self.folder, uid)

    def remove_seq(self, seq):
        uid = self.seqs.pop(seq - 1)
        if uid > 0:
            self.gone_here.add(uid)
            with self.w.lock:
                self.w.expunged.setdefault((self.folder, uid), time.monotonic())
            self.flags.pop(uid, None)
            self.expect.pop(uid, None)

    def on_untagged(self, t, lits):
        who = self.name_
        m = re.match(rb"(\d+) (EXISTS|EXPUNGE|RECENT|FETCH)\b ?(.*)$", t, re.S)
        if m:
            n, kind, rest = int(m.group(1)), m.group(2), m.group(3)
            if kind == b"EXISTS":
                self.w.check("exists", n >= len(self.seqs), who,
                             "EXISTS %d below the %d messages the session has" % (n, len(self.seqs)))
                self.seqs.extend([-1 - self.maxuid] * (n - len(self.seqs)))
            elif kind == b"RECENT":
                self.w.check("exists", n <= len(self.seqs), who, "RECENT %d above EXISTS %d" % (n, len(self.seqs)))
            elif kind == b"EXPUNGE":
                self.w.check("vanished", self.mode != "qresync", who, "EXPUNGE %d after ENABLE QRESYNC" % n)
                self.check_window("EXPUNGE %d" % n)
                if self.w.check("seqnums", 1 <= n <= len(self.seqs), who,
                                "EXPUNGE %d of %d messages" % (n, len(self.seqs))):
                    self.remove_seq(n)
            else:
                self.on_fetch(n, rest, lits)
            return
        if t.startswith(b"VANISHED "):
            rest = t[9:]
            if rest.startswith(b"(EARLIER) "):
                return          # only after SELECT (QRESYNC) / UID FETCH (VANISHED)
            self.w.check("vanished", self.mode == "qresync", who, "VANISHED without QRESYNC")
            self.check_window("VANISHED %s" % rest[:40].decode())
            for uid in parse_set(rest.decode()):
                if uid in self.seqs:
                    self.remove_seq(self.seqs.index(uid) + 1)
                else:
                    # One of the messages whose UID the session has not
                    # learnt, between the known UIDs below and above it
                    # (a UID FETCH leaves out a message expunged but not
                    # yet reported).  The last of them: the others keep
                    # the lower floors, so no check is made too strict.
                    slots, below = [], 0
                    for i, u in enumerate(self.seqs):
                        if u > uid:
                            break
                        if u > 0:
                            below, slots = u, []
                        elif uid > -1 - u:
                            slots.append(i)
                    if self.w.check("vanished", slots != [], who, "VANISHED %d, not in the session" % uid):
                        self.remove_seq(slots[-1] + 1)
                    with self.w.lock:
                        self.w.expunged.setdefault((self.folder, uid), time.monotonic())
            return
        if t.startswith(b"SEARCH") and self.cur and self.cur[0] in ("SEARCH", "UID SEARCH"):
            self.on_search([int(x) for x in t[6:].split()])
            return
        if t.startswith(b"FLAGS "):
            try:
                fl = tokenize(t[6:], lits)[0]
                self.kwflags = {f.decode().lower() for f in fl if not f.startswith(b"\\")}
            except (ValueError, IndexError):
                self.w.err("keywords", who, "bad FLAGS %r" % t[:100])
            return
        if t.startswith(b"BYE"):
            if self.cur is None or self.cur[0] != "LOGOUT":
                self.w.err("bye", who, "%r" % t[:120])
            return
        if t.startswith(b"OK ["):
            self.on_code(t[3:])

    def on_code(self, t):
        who = self.name_
        m = CODE_RE.match(t)
        if not m:
            return
        code, arg = m.group(1), (m.group(2) or b"").decode()
        if code == b"UIDNEXT":
            v = int(arg)
            self.w.check("uids", v >= self.uidnext, who, "UIDNEXT %d below %d given before" % (v, self.uidnext))
            self.uidnext = max(v, self.uidnext)
            self.w.check("uids", v > self.seen_uid_at_send, who,
                         "UIDNEXT %d not above UID %d seen before the command" % (v, self.seen_uid_at_send))
        elif code == b"UIDVALIDITY":
            old = self.uidvalidity.setdefault(self.folder, int(arg))
            self.w.check("uids", old == int(arg), who, "UIDVALIDITY %s, was %d" % (arg, old))
        elif code == b"HIGHESTMODSEQ":
            v = int(arg)
            self.w.check("modseq", v >= self.seen_modseq_at_send, who,
                         "HIGHESTMODSEQ %d below MODSEQ %d seen before the command" % (v, self.seen_modseq_at_send))
            if self.cur and self.cur[0] == "SELECT":
                self.select_hms = v
        elif code == b"COPYUID" and self.cur and self.cur[0] in ("MOVE", "UID MOVE"):
            self.copyuid = arg

    def check_window(self, what):
        if self.cur is not None:
            name, by_seq = self.cur
            self.w.check("window", not by_seq, self.name_, "%s during %s by sequence number" % (what, name))
            # RFC 3501 6.4.2: CLOSE expunges with no EXPUNGE response.
            self.w.check("window", name != "CLOSE", self.name_, "%s during CLOSE" % what)

    def on_fetch(self, seq, rest, lits):
        who = self.name_
        if not self.w.check("seqnums", 1 <= seq <= len(self.seqs), who,
                            "FETCH %d of %d messages (%r)" % (seq, len(self.seqs), rest[:80])):
            return
        try:
            items = tokenize(rest, lits)[0]
        except (ValueError, IndexError) as e:
            self.w.err("seqnums", who, "unparsable FETCH: %s" % e)
            return
        d = {}
        for i in range(0, len(items) - 1, 2):
            d[items[i].upper() if isinstance(items[i], bytes) else items[i]] = items[i + 1]
        # RFC 7162: once CONDSTORE is enabled every unsolicited FETCH
        # has MODSEQ (a FETCH command's \Seen need not: Dovecot leaves it
        # out); once QRESYNC is, every FETCH has UID.
        fetching = self.cur is not None and self.cur[0] in ("FETCH", "UID FETCH")
        if self.mode != "plain" and b"FLAGS" in d and not fetching:
            self.w.check("modseq", b"MODSEQ" in d, who, "FETCH %d with FLAGS, no MODSEQ: %r" % (seq, rest[:80]))
        if self.mode == "qresync":
            self.w.check("uids", b"UID" in d, who, "FETCH %d without UID after ENABLE QRESYNC: %r" % (seq, rest[:80]))
        uid = None
        if b"UID" in d:
            uid = int(d[b"UID"])
            self.set_seq_uid(seq, uid, "FETCH")
        else:
            uid = self.seqs[seq - 1]
        self.last_fetch.append((seq, uid, d))
        if uid < 0:
            return
        if b"FLAGS" in d:
            fl = d[b"FLAGS"]
            fs = flagset(fl)
            kws = {f for f in fs if not f.startswith("\\")}
            self.w.check("keywords", kws <= self.kwflags, who,
                         "UID %d: keywords %s not in FLAGS %s" % (uid, sorted(kws - self.kwflags), sorted(self.kwflags)))
            if any(f.lower() == b"\\recent" for f in fl) and self.folder_mode == "select":
                with self.w.lock:
                    owner = self.w.recent.setdefault((self.folder, uid), (self.cid, self.session))
                self.w.check("recent", owner == (self.cid, self.session), who,
                             "UID %d \\Recent here and in client%d's session %d" % (uid, owner[0], owner[1]))
            self.flags[uid] = fs
            exp = self.expect.get(uid)
            if exp is not None and not self.w.others_wrote(self.folder, uid, self.cid, exp[1], time.monotonic()):
                self.w.check("ownstore", fs == exp[0], who,
                             "UID %d: FETCH FLAGS %s, own STORE left %s and no one else wrote" %
                             (uid, sorted(fs), sorted(exp[0])))
        if b"MODSEQ" in d:
            ms = int(d[b"MODSEQ"][0])
            self.w.saw_modseq(self.folder, ms)
            old = self.modseq.get(uid, 0)
            self.w.check("modseq", ms >= old, who, "UID %d: MODSEQ %d after %d" % (uid, ms, old))
            self.modseq[uid] = max(old, ms)
            if b"FLAGS" in d:
                key = (self.folder, uid, ms)
                with self.w.lock:
                    was = self.w.modseq_flags.setdefault(key, self.flags[uid])
                self.w.check("modseq", was == self.flags[uid], who,
                             "UID %d MODSEQ %d: flags %s, elsewhere %s" % (uid, ms, sorted(self.flags[uid]), sorted(was)))
        body = d.get(b"BODY[]", d.get(b"RFC822"))
        if body is not None:
            key = (self.folder, uid)
            with self.w.lock:
                want = self.w.content.get(key)
            if want is not None:
                self.w.check("body", hashlib.sha1(body).hexdigest() == want, who,
                             "UID %d: BODY[] (%d bytes) is not what was appended" % (uid, len(body)))
            if b"RFC822.SIZE" in d:
                self.w.check("body", int(d[b"RFC822.SIZE"]) == len(body), who,
                             "UID %d: RFC822.SIZE %s, BODY[] %d bytes" % (uid, d[b"RFC822.SIZE"].decode(), len(body)))

    # ---- commands ----

    def snapshot_seen(self):
        with self.w.lock:
            self.seen_uid_at_send = self.w.max_uid.get(self.folder, 0)
            self.seen_modseq_at_send = self.w.max_modseq.get(self.folder, 0)

    def new_session(self):
        self.session += 1
        self.seqs, self.flags, self.modseq, self.expect = [], {}, {}, {}
        self.maxuid = self.uidnext = self.select_hms = 0
        self.gone_here = set()
        self.last_fetch = []
        self.snapshot_seen()

    def select(self, folder):
        self.folder = folder
        self.folder_mode = "select"
        self.new_session()
        extra = " (CONDSTORE)" if self.mode == "condstore" and self.rng.random() < 0.5 else ""
        st, text, _ = self.cmd("SELECT", folder + extra)
        if st != "OK":
            return False
        self.fill("1:*")
        return True

    def fill(self, seqset, by_uid=False):
        items = "(UID FLAGS%s)" % (" MODSEQ" if self.mode != "plain" else "")
        if by_uid:
            self.cmd("UID FETCH", "%s %s" % (seqset, items), allow_no=True)
        elif self.seqs:
            self.cmd("FETCH", "%s %s" % (seqset, items), by_seq=True, allow_no=True)

    def fill_unknown(self):
        if self.unknown():
            first = min(i for i, u in enumerate(self.seqs) if u < 0)
            if all(u < 0 for u in self.seqs[first:]):
                self.fill("%d:*" % (self.maxuid + 1), by_uid=True)
            else:
                self.fill("%d:*" % (first + 1))

    def pick_seqs(self, k):
        n = len(self.seqs)
        if n == 0:
            return []
        return sorted(self.rng.sample(range(1, n + 1), min(k, n)))

    def expunged_meanwhile(self, uid):
        """After a UID FETCH found nothing: whether the message was
        expunged behind the session (a NOOP then reports it)."""
        # The file may go a moment before the expunge is committed and
        # announced: a few NOOPs, 2 s in all.
        for _ in range(10):
            self.cmd("NOOP")
            if uid not in self.seqs:
                return True
            time.sleep(0.2)
        return False

    def touched_gone(self, uids):
        """After a NO: whether one of uids was expunged meanwhile."""
        if any(self.w.gone(self.folder, u) for u in uids if u > 0):
            return True
        for _ in range(10):
            self.cmd("NOOP")
            if any(u not in self.seqs for u in uids):
                return True
            time.sleep(0.2)
        return False

    def op_fetch_flags(self):
        if not self.seqs:
            return
        a = self.rng.randint(1, len(self.seqs))
        b = min(len(self.seqs), a + self.rng.randint(0, 30))
        items = "(UID FLAGS%s)" % (" MODSEQ" if self.mode != "plain" else "")
        self.last_fetch = []
        st, _, _ = self.cmd("FETCH", "%d:%d %s" % (a, b, items), by_seq=True, allow_no=True)
        if st == "OK":
            missing = [s for s in range(a, b + 1) if s not in {e[0] for e in self.last_fetch} and s <= len(self.seqs)]
            self.w.check("seqnums", not missing, self.name_, "FETCH %d:%d OK without messages %s" % (a, b, missing[:5]))

    def op_uid_fetch_flags(self):
        k = self.known()
        if not k:
            return
        u = self.rng.choice(k)
        items = "(FLAGS%s)" % (" MODSEQ" if self.mode != "plain" else "")
        self.cmd("UID FETCH", "%d:%d %s" % (u, u + self.rng.randint(0, 20), items), allow_no=True)

    def op_fetch_body(self, peek=True):
        k = self.known()
        if not k:
            return
        u = self.rng.choice(k)
        rec = None if peek else self.w.write_start(self.folder, [u], self.cid)
        if not peek:
            self.expect.pop(u, None)
        self.last_fetch = []
        sec = "BODY.PEEK[]" if peek else "BODY[]"
        st, _, _ = self.cmd("UID FETCH", "%d (UID RFC822.SIZE %s)" % (u, sec), allow_no=True)
        if rec:
            rec[2] = time.monotonic()
        got = [e for e in self.last_fetch if e[1] == u]
        # RFC 3501 6.4.5: BODY[] sets \Seen; FLAGS, when sent, show it.
        for e in got:
            if not peek and b"FLAGS" in e[2] and not self.w.others_wrote(self.folder, u, self.cid, rec[1], rec[2]):
                self.w.check("ownstore", "\\seen" in flagset(e[2][b"FLAGS"]), self.name_,
                             "UID FETCH %d BODY[]: FLAGS %r without \\Seen" % (u, e[2][b"FLAGS"]))
        self.w.check("uidplus" if u in self.appended else "tagged", got or self.expunged_meanwhile(u), self.name_,
                     "UID FETCH %d: no FETCH for a message not expunged" % u)

    def op_store(self, by_uid):
        seqs = self.pick_seqs(self.rng.randint(1, 4))
        if not seqs:
            return
        uids = [self.seqs[s - 1] for s in seqs]
        if min(uids) < 0:
            return
        op = self.rng.choice(["", "+", "-"])
        fl = self.rng.sample(FLAGS, self.rng.randint(0 if op == "" else 1, 3))
        silent = self.rng.random() < 0.15
        target = ",".join(str(u) for u in uids) if by_uid else ",".join(str(s) for s in seqs)
        mod = ""
        if self.mode != "plain" and self.rng.random() < 0.15:
            mod = " (UNCHANGEDSINCE %d)" % max(1, max(self.modseq.get(u, 1) for u in uids))
        for u in uids:     # this STORE's own FETCH is not checked against the last
            self.expect.pop(u, None)
        rec = self.w.write_start(self.folder, uids, self.cid)
        self.last_fetch = []
        name = "UID STORE" if by_uid else "STORE"
        st, text, _ = self.cmd(name, "%s%s %sFLAGS%s (%s)" % (target, mod, op, ".SILENT" if silent else "", " ".join(fl)),
                               by_seq=not by_uid, allow_no=True)
        rec[2] = time.monotonic()
        if st != "OK" or mod or b"MODIFIED" in text:
            for u in uids:
                self.expect.pop(u, None)
            if st == "NO":
                self.w.check("tagged", self.touched_gone(uids), self.name_,
                             "%s NO without an expunged message: %r" % (name, text[:100]))
            return
        want = flagset(f.encode() for f in fl)
        got = {e[1]: e[2] for e in self.last_fetch}
        for u in uids:
            if self.w.gone(self.folder, u) or u not in self.seqs:
                continue
            others = self.w.others_wrote(self.folder, u, self.cid, rec[1], rec[2])
            d = got.get(u)
            if silent:
                self.expect.pop(u, None)
                continue
            if d is None or b"FLAGS" not in d:
                # Dovecot sends none when the flags stay the same: allowed
                # (RFC 3501 6.4.6 "SHOULD").
                self.expect.pop(u, None)
                continue
            fs = flagset(d[b"FLAGS"])
            ok = (fs == want if op == "" else want <= fs if op == "+" else not (want & fs))
            # A STORE racing another session's EXPUNGE of the message may
            # change nothing and show the old flags (RFC 2180 4.2.1).
            if not others and not ok and self.expunged_meanwhile(u):
                self.expect.pop(u, None)
            elif not others:
                self.w.check("ownstore", ok, self.name_, "%s %sFLAGS %s on UID %d: FETCH says %s" %
                             (name, op, sorted(want), u, sorted(fs)))
                self.expect[u] = (fs, rec[1])
            else:
                self.expect.pop(u, None)

    def op_search(self, by_uid):
        crit = self.rng.choice(["ALL", "FLAGGED", "UNSEEN", "KEYWORD kwstress1", "NOT DELETED", "1:10"])
        name = "UID SEARCH" if by_uid else "SEARCH"
        self.cmd(name, crit, by_seq=not by_uid, allow_no=False)

    def on_search(self, nums):
        """Checked against the session as it is when the line comes (an
        EXPUNGE after it in the same reply changes it)."""
        for x in nums:
            if self.cur[0] == "UID SEARCH":
                ok = x in self.seqs or any(u < 0 and x > -1 - u for u in self.seqs)
                self.w.check("seqnums", ok, self.name_, "UID SEARCH: UID %d not in the session" % x)
            else:
                self.w.check("seqnums", 1 <= x <= len(self.seqs), self.name_,
                             "SEARCH: message %d of %d" % (x, len(self.seqs)))

    def op_append(self):
        n = 1 if self.rng.random() < 0.7 else self.rng.randint(2, 4)
        msgs = []
        for _ in range(n):
            fl = self.rng.sample(FLAGS[:4], self.rng.randint(0, 2))
            msgs.append(("(%s)" % " ".join(fl), make_message(self.rng, self.cid)))
        self.snapshot_seen()
        st, text, _ = self.cmd("APPEND", self.folder, literals=msgs)
        if st != "OK":
            return
        m = re.search(rb"\[APPENDUID (\d+) ([\d:,]+)\]", text)
        if not self.w.check("uidplus", m is not None, self.name_, "APPEND OK without APPENDUID: %r" % text[:100]):
            return
        uids = parse_set(m.group(2).decode())
        self.w.check("uidplus", len(uids) == n, self.name_, "APPENDUID %s for %d messages" % (m.group(2), n))
        self.w.check("uids", int(m.group(1)) == self.uidvalidity.get(self.folder), self.name_,
                     "APPENDUID's UIDVALIDITY %s" % m.group(1).decode())
        for u, (_, data) in zip(uids, msgs):
            self.w.check("uidplus", u > self.seen_uid_at_send, self.name_,
                         "APPENDUID %d not above UID %d seen before the APPEND" % (u, self.seen_uid_at_send))
            with self.w.lock:
                self.w.content[(self.folder, u)] = hashlib.sha1(data).hexdigest()
            self.w.saw_uid(self.folder, u)
            self.appended.add(u)
        self.fill_unknown()
        if self.rng.random() < 0.5:
            self.last_fetch = []
            u = uids[-1]
            self.cmd("UID FETCH", "%d (UID RFC822.SIZE BODY.PEEK[])" % u, allow_no=True)
            got = [e for e in self.last_fetch if e[1] == u]
            self.w.check("uidplus", got or self.expunged_meanwhile(u), self.name_,
                         "APPENDUID %d: UID FETCH finds nothing" % u)

    def op_expunge(self, by_uid):
        seqs = self.pick_seqs(self.rng.randint(1, 3))
        uids = [self.seqs[s - 1] for s in seqs if self.seqs[s - 1] > 0]
        if not uids:
            return
        for u in uids:
            self.expect.pop(u, None)
        rec = self.w.write_start(self.folder, uids, self.cid)
        self.cmd("UID STORE", "%s +FLAGS.SILENT (\\Deleted)" % ",".join(map(str, uids)), allow_no=True)
        rec[2] = time.monotonic()
        if by_uid:
            self.cmd("UID EXPUNGE", ",".join(map(str, uids)))
        else:
            self.cmd("EXPUNGE")
        left = [u for u in uids if u in self.seqs]
        # Set back by another STORE meanwhile, or answered OK and kept.
        for u in left:
            self.w.check("tagged", self.w.others_wrote(self.folder, u, self.cid, rec[1], time.monotonic()),
                         self.name_, "UID %d marked \\Deleted and expunged is still there" % u)

    def op_copy(self, by_uid, move, dest):
        seqs = self.pick_seqs(self.rng.randint(1, 3))
        uids = [self.seqs[s - 1] for s in seqs]
        if not seqs or min(uids) < 0:
            return
        name = ("UID " if by_uid else "") + ("MOVE" if move else "COPY")
        target = ",".join(map(str, uids if by_uid else seqs))
        self.copyuid = None
        with self.w.lock:
            before = self.w.max_uid.get(dest, 0)
        # (COPY is not in RFC 3501 7.4.1's list: EXPUNGE may come.)
        st, text, _ = self.cmd(name, "%s %s" % (target, dest), allow_no=True)
        if st == "NO":
            self.w.check("tagged", self.touched_gone(uids), self.name_, "%s NO: %r" % (name, text[:100]))
        m = re.search(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", text)
        arg = None
        if move and self.copyuid:
            arg = self.copyuid
        elif m:
            arg = b" ".join(m.groups()).decode()
        if st == "OK" and not self.w.check("uidplus", arg is not None, self.name_, "%s OK without COPYUID" % name):
            return
        if arg is None:
            return
        _, src, dst = arg.split()
        src, dst = parse_set(src), parse_set(dst)
        self.w.check("uidplus", len(src) == len(dst) and set(src) <= set(uids), self.name_,
                     "%s %s: COPYUID %s" % (name, uids, arg))
        for s_, d_ in zip(src, dst):
            self.w.check("uidplus", d_ > before, self.name_, "%s: COPYUID gives UID %d, %s had %d" % (name, d_, dest, before))
            with self.w.lock:
                c = self.w.content.get((self.folder, s_))
                if c is not None:
                    self.w.content[(dest, d_)] = c
            self.w.saw_uid(dest, d_)
        if move:
            for u in src:
                self.w.check("uidplus", u not in self.seqs, self.name_, "MOVE: UID %d still in the session" % u)
        if dest == self.folder:
            self.fill_unknown()
            for d_ in dst[:1]:
                self.last_fetch = []
                self.cmd("UID FETCH", "%d (UID BODY.PEEK[])" % d_, allow_no=True)
                got = [e for e in self.last_fetch if e[1] == d_]
                self.w.check("uidplus", got or self.expunged_meanwhile(d_), self.name_, "COPYUID %d: UID FETCH finds nothing" % d_)

    def op_idle(self):
        st, text, _ = self.cmd("IDLE")
        if st != "+":
            self.w.err("tagged", self.name_, "IDLE: %r" % text[:100])
            return
        self.cur = ("IDLE", False)
        end = time.monotonic() + self.rng.uniform(0.05, 0.4)
        while time.monotonic() < end:
            try:
                text, lits = self.conn.read_response(end)
            except Hang:
                break
            if text.startswith(b"* "):
                self.on_untagged(text[2:], lits)
        self.cmd_continue(b"DONE\r\n", "IDLE")

    def cmd_continue(self, data, name):
        """Sends the rest of a command already started and reads its reply."""
        tag = b"c%dt%d" % (self.cid, self.tag)
        self.conn.send(data)
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                text, lits = self.conn.read_response(deadline)
            except Hang as e:
                self.w.err("tagged", self.name_, "%s: %s" % (name, e))
                raise
            if text.startswith(b"* "):
                self.on_untagged(text[2:], lits)
                continue
            self.cur = None
            self.w.commands += 1
            self.w.check("tagged", text.startswith(tag + b" OK"), self.name_, "%s -> %r" % (name, text[:100]))
            return

    def op_status(self):
        items = "(MESSAGES UIDNEXT UIDVALIDITY%s)" % (" HIGHESTMODSEQ" if self.mode != "plain" else "")
        # Not the selected mailbox: its STATUS may be the session's view,
        # behind what others saw (RFC 3501 6.3.10; Dovecot does that).
        folder = "Other" if self.folder == "INBOX" else "INBOX"
        with self.w.lock:
            maxu = self.w.max_uid.get(folder, 0)
            maxm = self.w.max_modseq.get(folder, 0)
        st, _, unt = self.cmd("STATUS", "%s %s" % (folder, items))
        for text, lits in unt:
            m = re.match(rb"\* STATUS \S+ \((.*)\)$", text)
            if not m:
                continue
            p = m.group(1).split()
            d = {p[i]: int(p[i + 1]) for i in range(0, len(p) - 1, 2)}
            if b"UIDNEXT" in d:
                self.w.check("uids", d[b"UIDNEXT"] > maxu, self.name_,
                             "STATUS %s UIDNEXT %d, UID %d seen before" % (folder, d[b"UIDNEXT"], maxu))
            if b"HIGHESTMODSEQ" in d:
                self.w.check("modseq", d[b"HIGHESTMODSEQ"] >= maxm, self.name_,
                             "STATUS %s HIGHESTMODSEQ %d, MODSEQ %d seen before" % (folder, d[b"HIGHESTMODSEQ"], maxm))

    def op_visit_other(self):
        """SELECT Other, check some bodies there, move them back."""
        home = self.folder
        if not self.select("Other"):
            return
        k = self.known()
        if k:
            for u in self.rng.sample(k, min(3, len(k))):
                self.last_fetch = []
                self.cmd("UID FETCH", "%d (UID RFC822.SIZE BODY.PEEK[])" % u, allow_no=True)
            self.op_copy(True, True, home)
        self.select(home)

    def op_reselect(self):
        """SELECT again; with QRESYNC, VANISHED (EARLIER) must name every
        UID the session knew that is gone."""
        if self.rng.random() < 0.2:
            # (its expunges are not seen: for the others, they are)
            self.cmd("CLOSE")
            self.select(self.folder)
            return
        if self.mode == "qresync" and self.rng.random() < 0.7 and self.select_hms:
            old = set(self.known())
            # Not the highest MODSEQ seen: an expunge not yet reported
            # may be older than a flag change that was.
            hm = self.select_hms
            folder = self.folder
            uv = self.uidvalidity[folder]
            self.new_session()
            known = fmt_set(sorted(old)) or "1"
            st, _, unt = self.cmd("SELECT", "%s (QRESYNC (%d %d %s))" % (folder, uv, hm, known))
            vanished = set()
            for text, _ in unt:
                if text.startswith(b"* VANISHED (EARLIER) "):
                    vanished |= set(parse_set(text[21:].decode()))
            self.fill("1:*")
            now = set(self.known())
            missing = sorted((old - now) - vanished)
            self.w.check("vanished", not missing, self.name_,
                         "SELECT (QRESYNC) left out of VANISHED (EARLIER): %s" % missing[:10])
            return
        self.select(self.folder)

    def run(self):
        try:
            self.connect()
            self.appended = set()
            self.select("INBOX")
            ops = [(self.op_fetch_flags, 10), (self.op_uid_fetch_flags, 8), (self.op_fetch_body, 6),
                   (lambda: self.op_fetch_body(False), 1),
                   (lambda: self.op_store(False), 8), (lambda: self.op_store(True), 8),
                   (lambda: self.op_search(False), 3), (lambda: self.op_search(True), 3),
                   (self.op_append, 5), (lambda: self.op_expunge(False), 2), (lambda: self.op_expunge(True), 2),
                   (lambda: self.op_copy(False, False, "INBOX"), 1), (lambda: self.op_copy(True, False, "Other"), 1),
                   (lambda: self.op_copy(False, True, "Other"), 1), (lambda: self.op_copy(True, True, "Other"), 1),
                   (self.op_visit_other, 1), (self.op_idle, 3), (lambda: self.cmd("NOOP"), 5),
                   (lambda: self.cmd("CHECK"), 1), (self.op_status, 1), (self.op_reselect, 1)]
            fns, weights = zip(*ops)
            while not self.stopped:
                fn = self.rng.choices(fns, weights)[0]
                self.last_fetch = []
                fn()
                self.fill_unknown()
            self.cmd("LOGOUT")
        except (Hang, Dropped) as e:
            if not isinstance(e, Hang):
                self.w.err("bye", self.name_, "%s (during %s)" % (e, self.cur and self.cur[0]))
        except Exception as e:     # a checker bug is a failure too
            import traceback
            self.w.err("tagged", self.name_, "checker error: %s" % traceback.format_exc(limit=3))
        finally:
            if self.conn:
                self.conn.close()


def make_message(rng, cid):
    n = rng.randint(0, 1 << 30)
    body = "".join(rng.choice("abcdefghij \r\n") for _ in range(rng.randint(10, 300)))
    body = body.replace("\r\n", "\n").replace("\r", "").replace("\n", "\r\n")
    return ("From: c%d@example.org\r\nTo: me@example.org\r\nSubject: stress %d\r\n"
            "Message-ID: <s%d.%d@example.org>\r\n\r\n%s\r\n" % (cid, n, cid, n, body)).encode()


def setup(args, rng, world):
    c = Client(world, args, 0, 0, "plain")
    c.connect()
    c.cmd("CREATE", "Other", check=False)
    c.select("INBOX")
    st, _, _ = c.cmd("UID FETCH", "1:* (UID)")
    if c.seqs:
        c.cmd("STORE", "1:* +FLAGS.SILENT (\\Deleted)", by_seq=True)
        c.cmd("EXPUNGE")
    c.appended = set()
    for b in range(0, args.messages, 25):
        msgs = [("(%s)" % " ".join(rng.sample(FLAGS[:4], rng.randint(0, 2))), make_message(rng, 0))
                for _ in range(min(25, args.messages - b))]
        st, text, _ = c.cmd("APPEND", "INBOX", literals=msgs)
        m = re.search(rb"\[APPENDUID (\d+) ([\d:,]+)\]", text)
        if st != "OK" or not m:
            raise RuntimeError("seed APPEND: %r" % text[:200])
        for u, (_, data) in zip(parse_set(m.group(2).decode()), msgs):
            world.content[("INBOX", u)] = hashlib.sha1(data).hexdigest()
            world.saw_uid("INBOX", u)
    c.cmd("LOGOUT")
    c.conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=6)
    ap.add_argument("-s", "--seconds", type=float, default=15)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--trace", metavar="DIR", help="each client's transcript in DIR/clientN")
    ap.add_argument("--fuzz-once", action="store_true", help="one round of malformed input only")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    print("seed %d (replay: --seed %d -n %d)" % (seed, seed, args.n), flush=True)
    rng = random.Random(seed)
    world = World()
    try:
        setup(args, rng, world)
    except Exception as e:
        print("setup failed: %s" % e)
        return 2
    modes = ["plain", "condstore", "qresync"]
    clients = [Client(world, args, i + 1, rng.randrange(1 << 31), modes[i % 3]) for i in range(args.n)]
    fuzz = Fuzzer(world, args, random.Random(rng.randrange(1 << 31)))
    start = time.monotonic()
    for t in clients + [fuzz]:
        t.start()
    time.sleep(args.seconds)
    for t in clients + [fuzz]:
        t.stopped = True
    for t in clients + [fuzz]:
        t.join(DEADLINE * 3)
        if t.is_alive():
            world.err("tagged", getattr(t, "name_", "fuzz"), "still running %.0f s after the end" % (DEADLINE * 3))
    took = time.monotonic() - start
    print("commands %d in %.1f s by %d clients (%s); checks %d" %
          (world.commands, took, args.n, ", ".join("%s %d" % (c.name_, c.done) for c in clients),
           sum(world.checks.values())))
    for r in RULES:
        errs = world.errors[r]
        print("%s %s (%d checks, %d violations)" % ("FAIL" if errs else "PASS", r, world.checks[r], len(errs)))
        for e in errs[:int(os.environ.get("IMAP_STRESS_SHOW", "8"))]:
            print("  %s" % e)
    if any(world.errors.values()):
        print("seed %d: replay with --seed %d -n %d" % (seed, seed, args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
