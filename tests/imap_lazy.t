#!/bin/bash
# An IMAP client SELECTing a big folder nobody opened before (more than
# 1,000 messages, no state): the open lists and stats the files only, and
# what a FETCH asks for later is read then — ENVELOPE, RFC822.SIZE (CRLF),
# INTERNALDATE (the file's mtime), BODYSTRUCTURE — and must be what the
# files say, for every message, in the first session and in a second one.
# Driven by Python's imaplib through `loft imapd` (PREAUTH on stdio).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
BIG=$T_DIR/Mail/Big
IMAPD="$LOFT -F $MAILRC_FILE imapd"

out=$(timeout 120 python3 - "$BIG" "$IMAPD" <<'EOF' 2>&1
import email.utils, imaplib, os, re, sys, time
d, cmd = sys.argv[1], sys.argv[2]
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
T = 1700000000
want = {}
for i in range(1200):
    # Every fifth one has no ,S= or ,W= in its name; mtimes are not the
    # names' times (as for an APPEND with a date).
    body = "line\n" * (i % 7 + 1)
    data = ("From: User %d <u%d@example.org>\nTo: x@example.org\nSubject: note %d\n"
            "Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <%d@example.org>\n\n%s"
            % (i, i, i, i, body)).encode()
    name = "%d.M%dP1.host%s:2,S" % (T + i, i, "" if i % 5 == 0 else ",S=%d" % len(data))
    p = os.path.join(d, "cur", name)
    with open(p, "wb") as f:
        f.write(data)
    os.utime(p, (T - 86400 + i, T - 86400 + i))
    want["<%d@example.org>" % i] = (i, len(data) + data.count(b"\n"), T - 86400 + i)

def check(tag):
    m = imaplib.IMAP4_stream(cmd)
    typ, d = m.select("Big")
    print("PASS" if typ == "OK" and d[0] == b"1200" else "FAIL", tag, "SELECT: 1200 messages", d)
    typ, d = m.fetch("1:*", "(UID RFC822.SIZE INTERNALDATE ENVELOPE)")
    bad = 0
    seen = set()
    for item in d:
        line = item.decode() if isinstance(item, bytes) else item[0].decode()
        mid = re.search(r'"(<\d+@example\.org>)"\)\)$', line)
        size = re.search(r"RFC822\.SIZE (\d+)", line)
        date = re.search(r'INTERNALDATE "([^"]+)"', line)
        subj = re.search(r'ENVELOPE \("[^"]*" "note (\d+)"', line)
        if not (mid and size and date and subj) or mid.group(1) not in want:
            bad += 1
            continue
        i, vsize, mtime = want[mid.group(1)]
        t = time.mktime(imaplib.Internaldate2tuple(("INTERNALDATE \"%s\"" % date.group(1)).encode()))
        if int(subj.group(1)) != i or int(size.group(1)) != vsize or int(t) != mtime:
            bad += 1
        seen.add(i)
    print("PASS" if bad == 0 and len(seen) == 1200 else "FAIL", tag,
          "FETCH 1:* ENVELOPE, RFC822.SIZE, INTERNALDATE: as the files say", bad, len(seen))
    typ, d = m.fetch("1000", "(BODYSTRUCTURE)")
    print("PASS" if typ == "OK" and b'"TEXT" "PLAIN"' in d[0].upper() else "FAIL", tag,
          "BODYSTRUCTURE", d)
    m.logout()

check("first session:")
check("second session:")
EOF
)
while IFS= read -r line; do
	case $line in
	PASS\ *) ok 0 "${line#PASS }" ;;
	FAIL\ *) ok 1 "${line#FAIL }" ;;
	*) diag "$line" ;;
	esac
done <<< "$out"

done_testing
