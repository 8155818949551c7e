#!/bin/bash
# FETCH sends a message in its CRLF form: every bare LF made CRLF, a CRLF
# left alone, also where a CR ends one read block and its LF starts the
# next (the server reads 64 KiB at a time).  BODY[], partials of it cut
# anywhere (inside a CRLF too), BODY[TEXT], BODY[HEADER] and RFC822.SIZE
# are checked against the same conversion done here in Python.
. "$TOP/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc "set log_level=error"
INBOX=$T_DIR/Mail/INBOX
mkdir -p "$INBOX/cur" "$INBOX/new" "$INBOX/tmp"

timeout 120 python3 - "$LOFT" "$MAILRC_FILE" "$INBOX" <<'PY'
import os, re, subprocess, sys
loft, rc, inbox = sys.argv[1:]
msgs = [
    b"From: a@example.org\nSubject: lf\n\nline one\nline two\n\n\nend\n",
    b"From: a@example.org\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n",
    b"From: a@example.org\nSubject: mixed\r\n\nbare\rcr\n\r\r\nx\n",
    # a CR as the last byte of the first 64 KiB block, its LF the first of the next
    b"From: a@example.org\nSubject: block edge\n\n" + b"y" * (65536 - 42 - 1) + b"\r\n" + b"z\n" * 70000,
    b"From: a@example.org\nSubject: no final newline\n\nend",
]
for i, m in enumerate(msgs):
    with open("%s/cur/%d.M%dP1.host:2,S" % (inbox, 1700000000 + i, i), "wb") as f:
        f.write(m)
crlf = [re.sub(rb"(?<!\r)\n", b"\r\n", m) for m in msgs]
p = subprocess.Popen([loft, "-F", rc, "imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def run(tag, line):
    p.stdin.write(b"%s %s\r\n" % (tag, line.encode())); p.stdin.flush()
    items = []
    while True:
        l = p.stdout.readline()
        if not l:
            sys.exit("connection closed")
        m = re.search(rb"\{(\d+)\}\r\n$", l)
        if m:
            items.append(p.stdout.read(int(m.group(1))))
            continue
        n = re.search(rb"RFC822\.SIZE (\d+)", l)
        if n:
            items.append(int(n.group(1)))
        if l.startswith(tag + b" "):
            return items, l
p.stdout.readline()
run(b"s", "SELECT INBOX")
fails = 0
def check(name, got, want):
    global fails
    if got != want:
        fails += 1
        print("# %s: got %r... want %r..." % (name, got[:60] if isinstance(got, bytes) else got,
                                             want[:60] if isinstance(want, bytes) else want))
for uid, c in enumerate(crlf, 1):
    hl = c.index(b"\r\n\r\n") + 4 if b"\r\n\r\n" in c else len(c)
    got, _ = run(b"f", "UID FETCH %d (BODY.PEEK[])" % uid)
    check("uid %d BODY[]" % uid, got[0] if got else None, c)
    got, _ = run(b"z", "UID FETCH %d (RFC822.SIZE)" % uid)
    check("uid %d RFC822.SIZE" % uid, got[0] if got else None, len(c))
    got, _ = run(b"t", "UID FETCH %d (BODY.PEEK[TEXT])" % uid)
    check("uid %d BODY[TEXT]" % uid, got[0] if got else None, c[hl:])
    got, _ = run(b"h", "UID FETCH %d (BODY.PEEK[HEADER])" % uid)
    check("uid %d BODY[HEADER]" % uid, got[0] if got else None, c[:hl])
    for off in sorted({0, 1, 5, 13, 14, 15, hl - 1, 65535, 65536, len(c) - 2}):
        for cnt in (1, 2, 3, 7, 100000):
            if off < 0:
                continue
            got, _ = run(b"p", "UID FETCH %d (BODY.PEEK[]<%d.%d>)" % (uid, off, cnt))
            check("uid %d BODY[]<%d.%d>" % (uid, off, cnt), got[0] if got else None,
                  c[off:off + cnt])
run(b"l", "LOGOUT")
print("fails %d" % fails)
sys.exit(1 if fails else 0)
PY
ok $? "BODY[], its partials, TEXT, HEADER and RFC822.SIZE are the CRLF form of each message"

done_testing
