#!/bin/bash
# What mbsync does for every message, UID FETCH n (BODY.PEEK[]), and the
# other read-only fetches (BODY.PEEK[HEADER], [TEXT], RFC822.HEADER,
# RFC822.SIZE, FLAGS, ENVELOPE) change nothing in the store:
# no state commit (data.mdb's bytes and every other file under .loft
# except LMDB's reader table are the same after), no HIGHESTMODSEQ step,
# no \Seen; a plain BODY[] then does set \Seen (the check can see writes).
# (BODYSTRUCTURE may fill the state's cache on a first fetch: not checked.)
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

make_mailrc
for i in 1 2 3; do
	printf 'From: a@example.org\nSubject: m%s\nMessage-ID: <m%s@example.org>\n\nbody %s\n' "$i" "$i" "$i" |
		"$LOFT" -F "$MAILRC_FILE" deliver || ok 1 "deliver m$i"
done
probe_py /dev/stdin "$LOFT" "$MAILRC_FILE" "$T_DIR/Mail/.loft" <<'PY'
import hashlib, os, re, subprocess, sys
loft, rc, state = sys.argv[1:4]
p = subprocess.Popen([loft, "-F", rc, "imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
n = 0
def cmd(line):
    global n
    n += 1
    tag = b"t%d" % n
    p.stdin.write(tag + b" " + line.encode() + b"\r\n"); p.stdin.flush()
    out = b""
    while True:
        l = p.stdout.readline()
        if not l:
            raise SystemExit("imapd ended")
        out += l
        m = re.search(rb"\{(\d+)\}\r\n$", l)
        if m:
            out += p.stdout.read(int(m.group(1)))
        if l.startswith(tag + b" "):
            return out
def snapshot():
    snap = {}
    for d, _, files in os.walk(state):
        for f in files:
            if f != "lock.mdb":
                path = os.path.join(d, f)
                snap[path] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return snap
def modseq():
    return re.search(rb"HIGHESTMODSEQ (\d+)", cmd("STATUS INBOX (HIGHESTMODSEQ)")).group(1)
def check(cond, name):
    print(("PASS " if cond else "FAIL ") + name)
p.stdout.readline()
cmd("ENABLE CONDSTORE")
cmd("SELECT INBOX")
cmd("NOOP")
before, ms = snapshot(), modseq()
fetched = b""
for uid in (1, 2, 3):
    fetched += cmd("UID FETCH %d (BODY.PEEK[])" % uid)
fetched += cmd("UID FETCH 1:* (BODY.PEEK[HEADER] BODY.PEEK[TEXT] RFC822.HEADER RFC822.SIZE FLAGS ENVELOPE)")
check(fetched.count(b"body ") == 6 and b"OK" in fetched, "the bodies are fetched (BODY.PEEK[], [TEXT])")
after = snapshot()
check(after == before, "no file under .loft changed (but LMDB's reader table)")
if after != before:
    print("# changed: %s" % sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
check(modseq() == ms, "HIGHESTMODSEQ did not move")
check(b"\\Seen" not in cmd("UID FETCH 1:* (FLAGS)"), "no message got \\Seen")
cmd("UID FETCH 1 (BODY[])")
check(snapshot() != after and b"\\Seen" in cmd("UID FETCH 1 (FLAGS)"), "a plain BODY[] does write: \\Seen, so the check sees writes")
cmd("LOGOUT")
p.stdin.close()
check(p.wait() == 0, "imapd exits with 0")
PY
done_testing
