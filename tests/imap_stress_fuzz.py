"""The protocol-fuzz part of tests/imap_stress.py: malformed input, commands
in the wrong state, huge literals, deep parentheses, unbalanced quotes and
random garbage, sent while the stress clients run.  Each case must be
answered BAD or NO (a literal too large to skip: BYE) and the session must
answer a NOOP after it; its faults go to the world's "fuzz" rule.

One session is kept for many cases (a connection per case made the server's
per-address cap the thing tested); a new one is made only after a BYE or a
dropped connection."""
import threading, time

from imap_stress_wire import DEADLINE, Conn, Dropped, Hang

# (input, the answers allowed to its tag, separated by |).  "+" allowed: the
# server may take a literal that big (an APPEND); the case then hangs up.
SELECTED = [
    (b"a1 FROBNICATE\r\n", "BAD"),
    (b"\r\n", ""),
    (b"a4 SELECT \"INBOX\r\n", "BAD"),
    (b"a5 SELECT INBOX\"\r\n", "BAD|NO"),
    (b"a6 LIST \"\" " + b"(" * 500 + b"\r\n", "BAD"),
    (b"a7 SEARCH " + b"(" * 2000 + b"ALL" + b")" * 2000 + b"\r\n", "BAD|OK"),
    (b"a8 FETCH 1 " + b"(" * 300 + b"FLAGS" + b")" * 300 + b"\r\n", "BAD"),
    (b"a9 APPEND INBOX {99999999999}\r\n", "NO|BAD|+"),
    (b"a10 LOGIN {999999999}\r\n", "BAD|NO"),
    (b"a11 FETCH 0:4294967296 FLAGS\r\n", "BAD"),
    (b"a12 FETCH 1:* (BODY.PEEK[1.2.3.4.5.6.7.8.9.10]<0.99999999999>)\r\n", "BAD|OK|NO"),
    (b"a13 STORE 1 +FLAGS (\\Bogus)\r\n", "BAD|NO"),
    (b"a14 UID FETCH 1:* (FLAGS) (CHANGEDSINCE x)\r\n", "BAD"),
    (b"a15 SELECT INBOX (QRESYNC (1 2 3 4 5))\r\n", "BAD"),
    (b"a16 \x00\x01\x02\xff garbage\r\n", "BAD"),
    (b"a17 FETCH 1 BODY[HEADER.FIELDS (\r\n", "BAD"),
    (b"a18 IDLE\r\nNOT-DONE\r\nDONE\r\n", "OK|BAD"),
    (b"a19 AUTHENTICATE PLAIN\r\n*\r\n", "BAD|NO"),
    (b"a20 SEARCH CHARSET X-BOGUS ALL\r\n", "NO|BAD"),
    (b"a21 " + b"X" * 70000 + b"\r\n", "BAD"),
    (b"a22 UID EXPUNGE\r\n", "BAD"),
    (b"a23 ENABLE\r\n", "BAD|OK"),
    (b"a24 COPY 1:* \"\"\r\n", "NO|BAD"),
    (b"a25 APPEND INBOX (\\Seen) \"bad date\" {3}\r\nabc\r\n", "BAD|NO"),
    (b"a26 FETCH 1 (BODY[]<5.>)\r\n", "BAD"),
    (b"a27 STORE 1:* +FLAGS.SILENT (" + b"k" * 200 + b")\r\n", "BAD|NO"),
    # A SELECT that fails leaves no mailbox selected (RFC 3501 6.3.1).
    (b"a28 SELECT nosuch-folder\r\n", "NO"),
    (b"a29 FETCH 1 (FLAGS)\r\n", "BAD"),
]
# Logged in, nothing selected (after an UNSELECT).
AUTH = [
    (b"b1 FETCH 1 (FLAGS)\r\n", "BAD"),
    (b"b2 UID STORE 1 +FLAGS (\\Seen)\r\n", "BAD"),
    (b"b3 EXPUNGE\r\n", "BAD"),
    (b"b4 SELECT\r\n", "BAD"),
    (b"b5 IDLE\r\nDONE\r\n", "OK"),
]
# Not logged in.
PRE = [(b"p1 SELECT INBOX\r\n", "BAD|NO"), (b"p2 FETCH 1 FLAGS\r\n", "BAD"),
       (b"p3 LOGIN\r\n", "BAD"), (b"p4 CREATE x\r\n", "BAD|NO")]
# A non-synchronising literal too large to take: BYE, then the end.
BYE = b"y1 APPEND INBOX {999999999+}\r\nxx\r\n"


class Fuzzer(threading.Thread):
    def __init__(self, world, args, rng):
        super().__init__(daemon=True)
        self.w, self.args, self.rng = world, args, rng
        self.stopped = False
        self.conns = {}

    def session(self, kind):
        """The kept connection in state kind (selected, auth, pre)."""
        c = self.conns.get(kind)
        if c is not None:
            return c
        c = Conn(self.args.host, self.args.port)
        c.read_response()
        if kind != "pre":
            c.send(b"l LOGIN \"%s\" \"%s\"\r\n" % (self.args.user.encode(), self.args.password.encode()))
            self.wait_tag(c, b"l")
        if kind == "selected":
            c.send(b"s SELECT INBOX\r\n")
            self.wait_tag(c, b"s")
        self.conns[kind] = c
        return c

    def drop(self, kind):
        c = self.conns.pop(kind, None)
        if c is not None:
            c.close()

    def wait_tag(self, c, tag):
        deadline = time.monotonic() + DEADLINE
        while True:
            t, _ = c.read_response(deadline)
            if t.startswith(tag + b" "):
                return t.split(b" ")[1].decode()

    def one(self, data, want, kind):
        """Sends data and a NOOP behind it: data's tag must get an answer
        in want (an untagged or "*"-tagged BAD counts as BAD when the line
        was too garbled for its tag to be read), the NOOP an OK."""
        what = data[:50]
        time.sleep(0.005)      # malformed input beside the stress, not instead of it
        try:
            c = self.session(kind)
        except (Hang, Dropped) as e:
            self.w.err("fuzz", "fuzz", "cannot start a %s session: %s" % (kind, e))
            self.drop(kind)
            return
        tag = data.split(b" ")[0] if data[:1] not in b"\r\n" else None
        got, bad_line = None, False
        try:
            c.send(data + b"n NOOP\r\n")
            deadline = time.monotonic() + DEADLINE
            while True:
                t, _ = c.read_response(deadline)
                word = t.split(b" ")
                if tag is not None and word[0] == tag and len(word) > 1:
                    got = word[1].decode()
                elif word[0] == b"+" and b" BAD" not in t[:80] and data.endswith(b"}\r\n"):
                    # The literal was taken (an APPEND may be that big):
                    # nothing to do but hang up.
                    self.w.check("fuzz", "+" in want.split("|"), "fuzz", "%r -> %r" % (what, t[:80]))
                    self.drop(kind)
                    return
                elif word[0] in (b"*", b"+") and b" BAD" in t[:80]:
                    bad_line = True
                elif t.startswith(b"* BYE") and kind == "pre":
                    # Dovecot's login process ends after 3 BADs
                    self.w.check("fuzz", "BAD" in want.split("|"), "fuzz", "%r -> %r" % (what, t[:80]))
                    self.drop(kind)
                    return
                elif t.startswith(b"* BYE"):
                    self.w.err("fuzz", "fuzz", "%r -> %r (in a %s session)" % (what, t[:80], kind))
                    self.drop(kind)
                    return
                elif t.startswith(b"n "):
                    self.w.check("fuzz", t.startswith(b"n OK"), "fuzz", "NOOP after %r -> %r" % (what, t[:80]))
                    break
            if tag is not None and got is None and bad_line:
                got = "BAD"
            if tag is not None:
                self.w.check("fuzz", got in want.split("|"), "fuzz", "%r -> %s, want %s" % (what, got, want))
        except (Hang, Dropped) as e:
            self.w.err("fuzz", "fuzz", "%r: %s" % (what, e))
            self.drop(kind)

    def bye(self):
        """The too-large non-synchronising literal: BYE (or NO) on a
        session of its own, which then ends."""
        c = None
        try:
            c = Conn(self.args.host, self.args.port)
            c.read_response()
            c.send(b"l LOGIN \"%s\" \"%s\"\r\n" % (self.args.user.encode(), self.args.password.encode()))
            self.wait_tag(c, b"l")
            c.send(BYE)
            # Dovecot reads the literal, silently: allowed (RFC 7888 4).
            deadline = time.monotonic() + 3
            while True:
                try:
                    t, _ = c.read_response(deadline)
                except Hang:
                    break
                if t.startswith(b"* BYE") or t.startswith(b"y1 "):
                    self.w.check("fuzz", not t.startswith(b"y1 OK"), "fuzz", "%r -> %r" % (BYE[:40], t[:80]))
                    break
        except Dropped:
            self.w.check("fuzz", True, "fuzz", "")
        except Hang as e:
            self.w.err("fuzz", "fuzz", "%r: %s" % (BYE[:40], e))
        finally:
            if c is not None:
                c.close()

    def garbage(self):
        junk = bytes(self.rng.choice(b"()[]{}\"\\ *%AZaz09<>.+-\x00\x7f") for _ in range(self.rng.randint(1, 80)))
        # An "x" last: a "{n}" at the end would announce a literal, and the
        # NOOP behind it would be taken for its data.
        return b"g " + junk + b"x\r\n"

    def run(self):
        try:
            while not self.stopped:
                for data, want in SELECTED:
                    if self.stopped:
                        break
                    self.one(data, want, "selected")
                    if b"SELECT" in data and not data.startswith(b"a28") or data.startswith(b"a29"):
                        # A SELECT that failed, even BAD, may have closed
                        # the mailbox (Dovecot does).
                        self.one(b"s SELECT INBOX\r\n", "OK", "selected")
                    self.one(self.garbage(), "BAD|NO|OK", "selected")
                c = self.conns.get("selected")
                if c is not None and not self.stopped:
                    # to the authenticated state and back
                    self.one(b"u UNSELECT\r\n", "OK", "selected")
                    self.conns["auth"] = self.conns.pop("selected")
                    for data, want in AUTH:
                        self.one(data, want, "auth")
                    self.one(b"s SELECT INBOX\r\n", "OK", "auth")
                    if "auth" in self.conns:
                        self.conns["selected"] = self.conns.pop("auth")
                for data, want in PRE:
                    self.one(data, want, "pre")
                # (Dovecot ends a session after 10 BADs in a row.)
                self.drop("pre")
                if not self.stopped:
                    self.bye()
                if self.args.fuzz_once:
                    break
        except Exception:
            import traceback
            self.w.err("fuzz", "fuzz", "checker error: %s" % traceback.format_exc(limit=3))
        finally:
            for kind in list(self.conns):
                self.drop(kind)
