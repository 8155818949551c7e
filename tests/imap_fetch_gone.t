#!/bin/bash
# A FETCH over messages of which one was expunged behind the session's back
# (its file removed by another program or process): the others are answered.
# UID FETCH then completes with OK (a UID set may name UIDs that no longer
# exist); FETCH by sequence number answers NO (RFC 2180 4.1.3).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc "set log_level=error"
for i in 1 2 3; do
	printf 'From: x@example.org\nSubject: m%s\nMessage-ID: <m%s@example.org>\n\nbody %s\n' "$i" "$i" "$i" |
		"$LOFT" deliver || break
done
ok $? "three messages delivered"

# gone CMD: a session selects INBOX, the file of m2 is removed, then CMD runs;
# prints every line the server sent for CMD.
gone() {
	timeout 30 python3 - "$LOFT" "$MAILRC_FILE" "$T_DIR/Mail/INBOX" "$1" <<'PY'
import glob, os, subprocess, sys
loft, rc, inbox, cmd = sys.argv[1:]
p = subprocess.Popen([loft, "-F", rc, "imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def run(tag, line, show=False):
    p.stdin.write(b"%s %s\r\n" % (tag, line.encode())); p.stdin.flush()
    while True:
        l = p.stdout.readline()
        if not l:
            sys.exit("connection closed")
        if show:
            sys.stdout.write(l.decode(errors="replace"))
        if l.startswith(tag + b" "):
            return
p.stdout.readline()
run(b"a", "SELECT INBOX")
for f in glob.glob(inbox + "/*/*"):
    if b"<m2@" in open(f, "rb").read():
        os.unlink(f)
run(b"b", cmd, True)
run(b"c", "LOGOUT")
PY
}

out=$(gone "UID FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
like "$out" '^\* 1 FETCH \(UID 1 ' "UID FETCH answers the first message"
like "$out" '^Subject: m1' "with its header"
like "$out" '^\* 3 FETCH \(UID 3 ' "and the third, after the gone one"
like "$out" '^Subject: m3' "with its header"
[[ $out != *"Subject: m2"* ]]; ok $? "not the gone one"
like "$out" '^b OK ' "and completes with OK"

"$LOFT" deliver <<<$'From: x@example.org\nSubject: m2\nMessage-ID: <m2@example.org>\n\nbody 2\n'
out=$(gone "FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
like "$out" 'Subject: m1' "FETCH by number answers the others too"
like "$out" '^b NO ' "but completes with NO"
done_testing
