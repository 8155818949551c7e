#!/bin/bash
# Nothing from a message reaches a terminal or a log raw (issue 10): loft
# show (RFC 2047 headers, RFC 2231 file names, quoted-printable bodies),
# loft search's summary, loft queue show, loft sieve test, loft queue run
# with a smarthost whose reply holds escapes, and the daemon's log for an
# AUTH PLAIN user name that tries to forge a line.  Each output must hold
# no C0 control but tab and newline, no DEL, no C1, no bidi control and no
# invalid UTF-8; --format=json keeps the text, escaped.  Also loft show
# --format=json on message/rfc822 nested 63 deep (it aborted).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
make_mailrc "set hostname=mx.test from=me@example.org local_domains=example.org log_level=info"

# clean FILE: prints what a terminal would obey in FILE, nothing when clean.
clean() {
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
bad = []
for i, b in enumerate(data):
    if (b < 0x20 and b not in (9, 10)) or b == 0x7f:
        bad.append("byte 0x%02x at %d" % (b, i))
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    bad.append("invalid UTF-8: %s" % e)
    text = data.decode("utf-8", "replace")
for i, c in enumerate(text):
    if 0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069:
        bad.append("U+%04X at %d" % (ord(c), i))
print("; ".join(bad[:5]))
PY
}

# The hostile message: OSC 52 (clipboard), a newline via RFC 2047, C1 CSI
# and a bidi override in the Subject; OSC 0 (title) and C1 CSI in the From
# name; a bidi override in an RFC 2231 file name; OSC 0, C1 CSI, a raw 0x9b
# byte and a bidi override in a quoted-printable body.
EVIL=$T_DIR/evil.eml
printf '%s\n' \
	'From: =?utf-8?q?Bob_=1B]0;owned=07_=C2=9B2J?= <bob@example.org>' \
	'To: me@example.org' \
	'Subject: =?utf-8?q?clip=1B]52;c;ZXZpbA=3D=3D=07board?= =?utf-8?q?_a=0Ab_=C2=9B_=E2=80=AE?=' \
	'Date: Mon, 13 Nov 2023 10:00:00 +0000' \
	'Message-ID: <evil.1@example.org>' \
	'MIME-Version: 1.0' \
	'Content-Type: multipart/mixed; boundary=XX' \
	'' \
	'--XX' \
	'Content-Type: text/plain; charset=utf-8' \
	'Content-Transfer-Encoding: quoted-printable' \
	'' \
	'body=1B]0;title=07 csi=C2=9B2J raw=9B1m bidi=E2=80=AEtxt.exe' \
	'second line' \
	'--XX' \
	'Content-Type: application/octet-stream' \
	"Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe" \
	'' \
	'AAAA' \
	'--XX--' > "$EVIL"

# 1. loft show
run_loft show "$EVIL" > /dev/null
"$LOFT" show "$EVIL" > "$T_DIR/show.out"
is "$RC" 0 "show: exit 0"
is "$(clean "$T_DIR/show.out")" "" "show: no control, C1, bidi or invalid UTF-8 in the text output"
# (the model drops the RFC 2047 newline; notmuch keeps it: see search)
like "$OUT" '^Subject: clip\\x1b\]52;c;ZXZpbA==\\x07board a(\\n)?b \\u009b \\u202e$' \
	"show: the Subject's escapes visible, the RFC 2047 newline not breaking the line"
like "$OUT" '^From: Bob \\x1b\]0;owned\\x07 \\u009b2J <bob@example.org>$' "show: From's OSC 0 and C1 CSI visible"
like "$OUT" '^body\\x1b\]0;title\\x07 csi\\u009b2J raw.1m bidi\\u202etxt\.exe$' \
	"show: the body's OSC, C1 CSI and bidi override visible (the raw 0x9b is U+FFFD already)"
like "$OUT" '^second line$' "show: the body keeps its newlines"
like "$OUT" '^\[2\] application/octet-stream invoice\\u202efdp\.exe 4 bytes$' \
	"show: the bidi override in the RFC 2231 file name is visible"

"$LOFT" show --format=json "$EVIL" > "$T_DIR/show.json"
is "$(clean "$T_DIR/show.json")" "" "show --format=json: escaped, nothing raw"
got=$(python3 - "$T_DIR/show.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["headers"]["Subject"].startswith("clip\x1b]52;c;ZXZpbA==\x07board a"),
      d["body"][0]["content"][1]["filename"] == "invoice\u202efdp.exe")
PY
)
is "$got" "True True" "show --format=json: the decoded text is all there, as JSON escapes"
"$LOFT" show --format=raw "$EVIL" | cmp -s - "$EVIL"
ok $? "show --format=raw: the bytes as they came"

# 2. loft search --output=summary (and json)
mkdir -p "$T_DIR/Mail/INBOX/new" "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/tmp"
cp "$EVIL" "$T_DIR/Mail/INBOX/new/1700000000.1.mx.test"
run_loft index
is "$RC" 0 "loft index" || diag "$ERR"
"$LOFT" search --output=summary 'id:evil.1@example.org' > "$T_DIR/search.out"
is "$(clean "$T_DIR/search.out")" "" "search --output=summary: nothing raw"
like "$(cat "$T_DIR/search.out")" '; clip\\x1b\]52;c;ZXZpbA==\\x07board a\\nb \\u009b \\u202e \(attachment inbox unread\)$' \
	"search --output=summary: the subject escaped, its RFC 2047 newline too"
"$LOFT" search --output=json 'id:evil.1@example.org' > "$T_DIR/search.json"
is "$(clean "$T_DIR/search.json")" "" "search --output=json: nothing raw"
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["subject"] == "clip\x1b]52;c;ZXZpbA==\x07board a\nb \x9b \u202e")' "$T_DIR/search.json")
is "$got" "True" "search --output=json: the subject intact, as JSON escapes"

# 3. loft queue show: raw header bytes from the sender
printf 'From: me@example.org\nSubject: raw \033]52;c;ZXZpbA==\007 \302\233 \342\200\256 \233x\n\nbody\n' |
	"$LOFT" sendmail -odq -f me@example.org you@remote.test
ok $? "sendmail -odq queues the message"
ID=$(ls "$T_DIR/Mail/.loft/queue" | sed -n 's/\.env$//p' | head -1)
"$LOFT" queue show "$ID" > "$T_DIR/queue.out"
is "$(clean "$T_DIR/queue.out")" "" "queue show: nothing raw"
like "$(cat "$T_DIR/queue.out")" '^Subject: raw \\x1b\]52;c;ZXZpbA==\\x07 \\u009b \\u202e \\x9bx$' \
	"queue show: the header's escapes visible"
"$LOFT" queue rm "$ID"

# 4. loft sieve test: a folder name taken from the Subject
cat > "$T_DIR/s.sieve" <<'SIEVE'
require ["fileinto", "variables", "imap4flags"];
if header :matches "Subject" "*" { fileinto :flags "${1}" "Lists/${1}"; }
SIEVE
"$LOFT" sieve test "$T_DIR/s.sieve" "$EVIL" > "$T_DIR/sieve.out" 2>&1
is "$(clean "$T_DIR/sieve.out")" "" "sieve test: nothing raw"
# The folder name check refuses the control characters (the message stays
# in INBOX), and the refusal quotes the name escaped, on one line.
like "$(cat "$T_DIR/sieve.out")" "^loft: sieve: fileinto 'Lists/clip\\\\x1b\\]52;c;ZXZpbA==\\\\x07board a(\\\\n)?b \\\\u009b \\\\u202e': refused: control character" \
	"sieve test: the refused folder name escaped, on one line"
like "$(cat "$T_DIR/sieve.out")" '^store message in folder: INBOX' "sieve test: kept in INBOX"

# 5. loft queue run: a smarthost reply with escapes, in the log on stderr
SPORT=$(free_port)
bg python3 "$TOP/tests/fake_smarthost.py" "$SPORT" "$T_DIR/dump" \
	--reply $'x@remote.test=550 5.1.1 \e]0;pwned\a \u009b2J \u202eevil' 2> "$T_DIR/fake.log"
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT), timeout=1)" 2>/dev/null && break
	sleep 0.1
done
mkdir -p "$T_DIR/dump"
RELAY_RC=$T_DIR/relay.rc
{ cat "$MAILRC_FILE"; echo "set smarthost=smtp+insecure://127.0.0.1:$SPORT"; } > "$RELAY_RC"
printf 'Subject: to refuse\n\nbody\n' | "$LOFT" -F "$RELAY_RC" sendmail -odq -f me@example.org x@remote.test
"$LOFT" -F "$RELAY_RC" queue run > "$T_DIR/run.out" 2> "$T_DIR/run.err"
like "$(cat "$T_DIR/run.out")" '1 failed' "queue run: the recipient was refused" || diag "$(cat "$T_DIR/run.err")"
is "$(clean "$T_DIR/run.err")" "" "queue run: the log on stderr holds nothing raw"
like "$(cat "$T_DIR/run.err")" 'refused: 550 5\.1\.1 \\x1b\]0;pwned\\x07 \\u009b2J \\u202eevil' \
	"queue run: the smarthost's reply is in the log, escaped"

# 6. The daemon's log: an AUTH PLAIN user name with a newline and ESC.
PORT=$(free_port)
DRC=$T_DIR/daemon.rc
{ cat "$MAILRC_FILE"; echo "set smtp_listen=127.0.0.1:$PORT smtp_auth_failure_delay=0"; } > "$DRC"
echo "phone-password-1" | "$LOFT" -F "$DRC" passwd --stdin phone > /dev/null
LOG=$T_DIR/daemon.log
start_daemon "$LOG" -F "$DRC"
ok $? "the daemon starts" || diag "$(cat "$LOG")"
reply=$(python3 - "$PORT" <<'PY'
import base64, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return l.strip()
reply()
s.sendall(b"EHLO probe.test\r\n")
reply()
user = "x\nloft: smtp: 127.0.0.1 logged in as admin\x1b[8m"
s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0wrong") + b"\r\n")
print(reply()[:3])
s.sendall(b"QUIT\r\n")
reply()
PY
)
is "$reply" 535 "AUTH PLAIN with the forged user name: 535"
for _ in $(seq 100); do grep -q 'failed login' "$LOG" && break; sleep 0.1; done
is "$(grep -c 'failed login' "$LOG")" 1 "the failed login is one line of the log"
is "$(grep -c '^loft: smtp: 127.0.0.1 logged in as admin' "$LOG")" 0 "no forged 'logged in as admin' line"
like "$(grep 'failed login' "$LOG")" "failed login for 'x\\\\nloft: smtp: 127\.0\.0\.1 logged in as admin\\\\x1b\[8m'" \
	"the user name is in the line, its newline and ESC escaped"
is "$(clean "$LOG")" "" "the daemon's log holds nothing raw"
kill "$DPID"

# 7. loft show --format=json on message/rfc822 nested 63 deep.
python3 - "$T_DIR/deep.eml" <<'PY'
import sys
msg = "Subject: leaf\n\nhello\n"
for i in range(63):
    msg = "Content-Type: message/rfc822\n\n" + msg
open(sys.argv[1], "w").write(msg)
PY
"$LOFT" show --format=json "$T_DIR/deep.eml" > "$T_DIR/deep.json" 2> "$T_DIR/deep.err"
is "$?" 0 "show --format=json, rfc822 nested 63 deep ($(wc -c < "$T_DIR/deep.eml") bytes): exit 0" ||
	diag "$(cat "$T_DIR/deep.err")"
got=$(python3 - "$T_DIR/deep.json" <<'PY'
import json, sys
def leaves(o):
    if isinstance(o, dict):
        if o.get("content-type") == "text/plain":
            yield o.get("content")
        for v in o.values():
            yield from leaves(v)
    elif isinstance(o, list):
        for v in o:
            yield from leaves(v)
try:
    d = json.load(open(sys.argv[1]))
    print(list(leaves(d)) == ["hello\n"], '"flattened": true' in json.dumps(d))
except Exception as e:
    print("bad json:", e)
PY
)
is "$got" "True True" "show --format=json: valid, the deep parts flattened, the text kept"

done_testing
