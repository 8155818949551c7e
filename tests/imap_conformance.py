#!/usr/bin/env python3
"""Runs IMAP conformance scripts (tests/imap/*.txt) against one or more
servers and compares every reply with the script's expectations.

Usage:
  imap_conformance.py [--loft BIN --loft-root DIR] [--dovecot HOST:PORT
                      --password PW] SCRIPT...

Each script runs on a fresh store: for loft, DIR/NAME/mailrc with its own
folder, sessions are `BIN -F mailrc imapd` (PREAUTH); for Dovecot, the user
NAME (the script's base name) over TCP, logged in with LOGIN.

Script format (one item a line):
  # text          a comment; a comment block says why servers may differ
                  in the wildcard lines below it (up to a blank line) or,
                  above a command, in its tagged reply
  >[S] TAG CMD    send a command on session S (a letter, default a); a
                  session is opened at its first use.  {@FILE} in the
                  command becomes a synchronising literal with the bytes of
                  tests/imap/msg/FILE (LF turned into CRLF)
  >[S] DONE       ends the IDLE running on session S
  EXPECTED        a reply line: untagged ("* ..."), continuation ("+ ...")
                  or the tagged one, which ends the command.  ~~ matches any
                  text.  Untagged lines may come in any order; a run of
                  EXPUNGE lines is compared by the messages it removes
                  ("2 2 2" = "4 3 2"); a line starting with "? " may be
                  missing
  ...             any other untagged lines may come too

Replies are compared in a canonical form: literals become quoted strings
(\\r and \\n written as such), the items of a FETCH and of a STATUS are
sorted by name, flag and attribute lists are sorted, mailbox names in
LIST/LSUB/STATUS are quoted.

Prints "PASS SERVER SCRIPT" or "FAIL SERVER SCRIPT" per script and server
with the mismatches as other lines, and "DIFF SCRIPT:LINE" for every
wildcard line where the servers' replies differ, with both replies and the
comment explaining it.  Exit status 0 when every script passed everywhere.
"""
import argparse, os, re, select, socket, subprocess, sys, time

TIMEOUT = 10.0
HERE = os.path.dirname(os.path.abspath(__file__))


class Session:
    """One IMAP connection: reads reply lines with their literals."""

    def __init__(self, rfile, wfile, closer):
        self.r, self.w, self.closer = rfile, wfile, closer
        self.buf = b""

    def _fill(self):
        fd = self.r.fileno()
        ready, _, _ = select.select([fd], [], [], TIMEOUT)
        if not ready:
            raise TimeoutError("no reply within %gs" % TIMEOUT)
        data = os.read(fd, 65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def read_reply_line(self):
        """One logical reply line, literals replaced by quoted strings."""
        out = b""
        while True:
            line = self._line()
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return (out + line).decode("utf-8", "backslashreplace")
            out += line[:m.start()] + quote(self._take(int(m.group(1))))

    def send(self, data):
        self.w.write(data)
        self.w.flush()

    def close(self):
        self.closer()


def quote(data):
    s = bytearray(b'"')
    for b in data:
        if b in (0x22, 0x5c):
            s += b"\\" + bytes([b])
        elif b == 13:
            s += b"\\r"
        elif b == 10:
            s += b"\\n"
        elif b < 32 or b > 126:
            s += b"\\x%02x" % b
        else:
            s.append(b)
    return bytes(s + b'"')


# ---- canonical form ----
TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([^\s()"\[]+(?:\[[^\]]*\][^\s()"]*)?|\[[^\]]*\]\S*))')


def parse(text):
    """An S-expression of the reply text: lists, strings ('"..."'), atoms."""
    stack, cur, pos = [], [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError("cannot parse at %r" % text[pos:])
        pos = m.end()
        if m.group(1):
            stack.append(cur)
            cur = []
        elif m.group(2):
            if not stack:
                raise ValueError("unbalanced )")
            done, cur = cur, stack.pop()
            cur.append(done)
        else:
            cur.append(m.group(3) or m.group(4))
    if stack:
        raise ValueError("unbalanced (")
    return cur


def render(x):
    if isinstance(x, list):
        return "(" + " ".join(render(i) for i in x) + ")"
    return x


def flagsort(lst):
    """Sorted; wildcards (~~) first so an expected "(~~\\Seen)" keeps its shape."""
    if not isinstance(lst, list):
        return lst
    return sorted(lst, key=lambda s: (not s.startswith("~~"), s.lower()))


def essence(line):
    """What a DIFF compares: the status and response code of OK/NO/BAD/BYE
    lines without the human-readable text, and no UIDVALIDITY values."""
    if line is None:
        return None
    m = re.match(r"^(\S+ (?:OK|NO|BAD|BYE|PREAUTH))( \[[^\]]*\])?", line)
    if m:
        line = m.group(1) + (m.group(2) or "")
    return re.sub(r"(UIDVALIDITY|APPENDUID|COPYUID) \d+", r"\1 N", line)


def as_quoted(tok):
    if isinstance(tok, str) and not tok.startswith('"') and tok.upper() != "NIL":
        return '"' + tok + '"'
    return tok


def canon(line):
    """The canonical form of one reply line (see the module comment)."""
    m = re.match(r"^(\* \d+ FETCH )(\(.*\))$", line)
    if m:
        try:
            items = parse(m.group(2))[0]
        except (ValueError, IndexError):
            return line
        pairs = []
        for i in range(0, len(items) - 1, 2):
            key, val = items[i].upper(), items[i + 1]
            if key == "FLAGS":
                val = flagsort(val)
            pairs.append(key + " " + render(val))
        return m.group(1) + "(" + " ".join(sorted(pairs)) + ")"
    m = re.match(r"^\* (LIST|LSUB) (\(.*?\)) (\S+) (.*)$", line)
    if m:
        try:
            attrs = flagsort(parse(m.group(2))[0])
            name = parse(m.group(4))
        except (ValueError, IndexError):
            return line
        return "* %s %s %s %s" % (m.group(1), render(attrs), m.group(3),
                                  " ".join(render(as_quoted(n)) for n in name[:1]) +
                                  "".join(" " + render(n) for n in name[1:]))
    m = re.match(r"^\* STATUS (.*)$", line)
    if m:
        try:
            toks = parse(m.group(1))
            items = toks[1]
            pairs = sorted(items[i].upper() + " " + items[i + 1] for i in range(0, len(items) - 1, 2))
        except (ValueError, IndexError, TypeError):
            return line
        return "* STATUS %s (%s)" % (render(as_quoted(toks[0])), " ".join(pairs))
    m = re.match(r"^(\* FLAGS |\* OK \[PERMANENTFLAGS )(\([^)]*\))(.*)$", line)
    if m:
        return m.group(1) + render(flagsort(parse(m.group(2))[0])) + m.group(3)
    return line


def pattern(expected):
    """A compiled regex for a canonical expected line (~~ is a wildcard)."""
    parts = canon(expected).split("~~")
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$", re.S)


# ---- scripts ----
class Step:
    def __init__(self, lineno, session, command, comment):
        self.lineno, self.session, self.command = lineno, session, command
        self.comment = comment  # the comment block above the command
        self.expect = []        # (lineno, optional, text, comment)
        self.extra_ok = False


def load_script(path):
    steps, comment, last_comment = [], [], False
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if not line.strip():
            comment = []
            continue
        if line.startswith("#"):
            if not last_comment:
                comment = []
            comment.append(line[1:].strip())
            last_comment = True
            continue
        last_comment = False
        if line.startswith(">"):
            m = re.match(r"^>([a-z]?) (.*)$", line)
            if not m:
                raise SystemExit("%s:%d: bad command line" % (path, n))
            steps.append(Step(n, m.group(1) or "a", m.group(2), " ".join(comment)))
        elif not steps:
            raise SystemExit("%s:%d: a reply before any command" % (path, n))
        elif line == "...":
            steps[-1].extra_ok = True
        elif line.startswith("? "):
            steps[-1].expect.append((n, True, line[2:], " ".join(comment)))
        else:
            steps[-1].expect.append((n, False, line, " ".join(comment)))
        if line.startswith(">"):
            comment = []
    return steps


def command_bytes(cmd):
    """The command's chunks: a literal's data is sent after a continuation."""
    chunks, pos = [], 0
    for m in re.finditer(r"\{@([\w.-]+)\}", cmd):
        data = open(os.path.join(HERE, "imap", "msg", m.group(1)), "rb").read()
        data = re.sub(rb"\r?\n", b"\r\n", data)
        chunks.append((cmd[pos:m.start()] + "{%d}\r\n" % len(data)).encode())
        chunks.append(data)
        pos = m.end()
    tail = (cmd[pos:] + "\r\n").encode()
    if chunks:
        chunks[-1] += tail
    else:
        chunks.append(tail)
    return chunks


class Server:
    def __init__(self, name, opener):
        self.name, self.opener, self.sessions, self.idle_tag = name, opener, {}, {}

    def session(self, key):
        if key not in self.sessions:
            self.sessions[key] = self.opener()
        return self.sessions[key]

    def run(self, step):
        """Sends the step's command; returns the reply lines (canonical)."""
        s = self.session(step.session)
        got = []
        if step.command.upper() == "DONE":
            tag = self.idle_tag.pop(step.session)
            s.send(b"DONE\r\n")
        else:
            tag = step.command.split(" ", 1)[0]
            chunks = command_bytes(step.command)
            for i, chunk in enumerate(chunks):
                s.send(chunk)
                if i % 2 == 0 and i + 1 < len(chunks):
                    # wait for the continuation before the literal's data
                    while True:
                        line = s.read_reply_line()
                        if line.startswith("+"):
                            break
                        got.append(canon(line))
                        if line.startswith(tag + " "):
                            return got
        idle = re.match(r"^\S+ IDLE$", step.command, re.I) is not None
        while True:
            line = s.read_reply_line()
            got.append(canon(line))
            if line.startswith(tag + " "):
                return got
            if idle and line.startswith("+"):
                self.idle_tag[step.session] = tag
                return got

    def close(self):
        for s in self.sessions.values():
            try:
                s.close()
            except Exception:
                pass
        self.sessions = {}


EXPUNGE = re.compile(r"^\* (\d+) EXPUNGE$")


def expunged(seqs):
    """The sequence numbers, as before the first, of messages reported by
    consecutive EXPUNGE responses: "2 2 2" and "4 3 2" both say 2,3,4."""
    removed = []
    for n in seqs:
        o = n
        for r in sorted(removed):
            if r <= o:
                o += 1
        removed.append(o)
    return "* EXPUNGE (as a run) " + ",".join(str(x) for x in sorted(removed))


def runs(items, text_of, make):
    """items with each run of consecutive EXPUNGE lines made one item."""
    out, run = [], []
    for it in items + [None]:
        m = EXPUNGE.match(text_of(it)) if it is not None else None
        if m:
            run.append((it, int(m.group(1))))
            continue
        if run:
            out.append(make(run[0][0], expunged([n for _, n in run])))
            run = []
        if it is not None:
            out.append(it)
    return out


def match(step, got):
    """Mismatches between the expectations and the lines received, and the
    matched line for each expectation (None when missing)."""
    problems, used, bound = [], set(), {}
    got = runs(got, lambda g: g, lambda first, text: text)
    expect = runs(step.expect, lambda e: "" if e[1] else e[2],
                  lambda first, text: (first[0], False, text, first[3]))
    for lineno, optional, text, _ in expect:
        rx = pattern(text) if not text.startswith("* EXPUNGE (as a run)") else \
            re.compile("^" + re.escape(text) + "$")
        hit = None
        for i, g in enumerate(got):
            if i not in used and rx.match(g):
                hit = i
                break
        if hit is None:
            if not optional:
                problems.append("line %d: missing %s" % (lineno, text))
            continue
        used.add(hit)
        bound[lineno] = got[hit]
    if not step.extra_ok:
        for i, g in enumerate(got):
            if i not in used:
                problems.append("unexpected: %s" % g)
    return problems, bound


def loft_opener(binary, root, script):
    d = os.path.join(root, script)
    os.makedirs(d, exist_ok=True)
    rc = os.path.join(d, "mailrc")
    if not os.path.exists(rc):
        with open(rc, "w") as f:
            f.write("set folder=%s/Mail\n" % d)

    def open_session():
        p = subprocess.Popen([binary, "-F", rc, "imapd"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=open(os.path.join(d, "stderr"), "ab"))

        def closer():
            p.stdin.close()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        s = Session(p.stdout, p.stdin, closer)
        greeting = s.read_reply_line()
        if not greeting.startswith("* PREAUTH"):
            raise RuntimeError("loft greeting: " + greeting)
        return s
    return open_session


def dovecot_opener(hostport, user, password):
    host, port = hostport.rsplit(":", 1)

    def open_session():
        sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        f = sock.makefile("rwb", buffering=0)
        s = Session(f, f, lambda: (f.close(), sock.close()))
        greeting = s.read_reply_line()
        if not greeting.startswith("* OK"):
            raise RuntimeError("dovecot greeting: " + greeting)
        s.send(b"L0 LOGIN %s %s\r\n" % (user.encode(), password.encode()))
        while True:
            line = s.read_reply_line()
            if line.startswith("L0 "):
                if not line.startswith("L0 OK"):
                    raise RuntimeError("dovecot login: " + line)
                return s
    return open_session


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loft")
    ap.add_argument("--loft-root")
    ap.add_argument("--dovecot")
    ap.add_argument("--password", default="pw")
    ap.add_argument("--dump", action="store_true", help="print every reply (writing scripts)")
    ap.add_argument("scripts", nargs="+")
    a = ap.parse_args()
    failed = False
    for path in a.scripts:
        name = os.path.splitext(os.path.basename(path))[0]
        steps = load_script(path)
        servers = []
        if a.loft:
            servers.append(Server("loft", loft_opener(a.loft, a.loft_root, name)))
        if a.dovecot:
            servers.append(Server("dovecot", dovecot_opener(a.dovecot, name, a.password)))
        replies = {}
        for srv in servers:
            problems = []
            try:
                for step in steps:
                    got = srv.run(step)
                    if a.dump:
                        print("%s>%s %s" % (srv.name, step.session, step.command))
                        print("\n".join("   " + g for g in got))
                    p, bound = match(step, got)
                    replies[(srv.name, step.lineno)] = bound
                    problems += ["%s:%d %s: %s" % (name, step.lineno, step.command[:60], x) for x in p]
            except Exception as e:
                problems.append("%s:%d %s: %s: %s" % (name, step.lineno, step.command[:60],
                                                     type(e).__name__, e))
            finally:
                srv.close()
            print("%s %s %s" % ("FAIL" if problems else "PASS", srv.name, name))
            for p in problems:
                print("  " + p)
            failed |= bool(problems)
        # differences the wildcards allowed, each kind once per script
        if len(servers) == 2:
            diffs = {}
            for step in steps:
                tag = step.command.split(" ", 1)[0]
                for lineno, optional, text, comment in step.expect:
                    if "~~" not in text and not optional:
                        continue
                    r = [replies.get((s.name, step.lineno), {}).get(lineno) for s in servers]
                    if essence(r[0]) == essence(r[1]):
                        continue
                    why = comment or (step.comment if text.startswith(tag + " ") else "") or \
                        "(see the head of the script)"
                    key = (why,) + tuple(re.sub(r"\d+", "N", x or "") for x in r)
                    diffs.setdefault(key, ([], r))[0].append(str(lineno))
            for key, (lines, r) in diffs.items():
                print("DIFF %s:%s %s" % (name, ",".join(lines), key[0]))
                for s, x in zip(servers, r):
                    print("  %-8s %s" % (s.name, x if x is not None else "(absent)"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
