#!/bin/bash
# `loft imapd` on the store's IMAP backend API: untagged updates between two
# sessions from store_folder_sync's change lists, STORE on a UID set in one
# state transaction, response codes from store_error_imap, and a partial
# FETCH of a 40 MB message reading only what it sends.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
IMAPD="$LOFT -F $MAILRC_FILE imapd"
raw() { printf "$1" | timeout 60 $IMAPD 2>/dev/null; }

probe_backend() { probe_py "$TOP/tests/imap_backend.py" "$IMAPD" "$@"; }

probe_backend sessions

# ---- STORE on 60 messages: one state commit ----
raw 'a1 CREATE Many\r\n' > /dev/null
mkdir -p "$T_DIR/Mail/Many/cur"
for i in $(seq 1 60); do
	printf 'Subject: %s\nMessage-ID: <many%s@x>\n\nbody\n' $i $i > "$T_DIR/Mail/Many/cur/100$i.M1P1.host:2,"
done
out=$(raw 'a1 SELECT Many\r\na2 LOGOUT\r\n')
like "$out" '\* 60 EXISTS' "the 60 files are found"
rm -f "$T_DIR/trace"
out=$(printf 'a1 SELECT Many\r\na2 STORE 1:60 +FLAGS (\\Seen)\r\na3 LOGOUT\r\n' |
	LOFT_CRASH_TRACE=$T_DIR/trace timeout 60 $IMAPD 2>/dev/null)
like "$out" 'a2 OK' "STORE 1:60 +FLAGS (\\Seen) succeeds"
is "$(grep -c '^\* [0-9]* FETCH (FLAGS (\\Seen))' <<< "$out")" 60 "with 60 FETCH replies"
is "$(grep -c '^flags:after-commit$' "$T_DIR/trace")" 1 "STORE 1:60: one state commit"
is "$(grep -c '^flags:after-rename$' "$T_DIR/trace")" 60 "STORE 1:60: 60 files renamed"
is "$(ls "$T_DIR/Mail/Many/cur" | grep -c ':2,S$')" 60 "all 60 files carry S"
# A body FETCH without PEEK sets \Seen on all of them in one commit too.
raw 'a1 SELECT Many\r\na2 STORE 1:60 -FLAGS.SILENT (\\Seen)\r\n' > /dev/null
rm -f "$T_DIR/trace"
out=$(printf 'a1 SELECT Many\r\na2 FETCH 1:60 (BODY[HEADER.FIELDS (SUBJECT)])\r\na3 LOGOUT\r\n' |
	LOFT_CRASH_TRACE=$T_DIR/trace timeout 60 $IMAPD 2>/dev/null)
is "$(grep -c '^\* [0-9]* FETCH (.*FLAGS (\\Seen)' <<< "$out")" 60 "FETCH 1:60 BODY[...]: 60 replies with FLAGS (\Seen)"
is "$(grep -c '^flags:after-commit$' "$T_DIR/trace")" 1 "FETCH 1:60 BODY[...]: one state commit for \Seen"

# ---- RFC822.SIZE from the state: no file opened ----
# The 60 files have LF line ends and no ",W=" in their names: their CRLF
# sizes were counted when the folder first saw them.
out=$(raw 'a1 SELECT Many\r\na2 FETCH 1:* (RFC822.SIZE BODY.PEEK[])\r\na3 LOGOUT\r\n')
bad=$(python3 -c '
import re, sys
t = sys.stdin.buffer.read()
n = 0
for m in re.finditer(rb"\* \d+ FETCH \(RFC822.SIZE (\d+) BODY\[\] \{(\d+)\}", t):
    n += 1
    if m.group(1) != m.group(2):
        print("size %s, body %s" % (m.group(1).decode(), m.group(2).decode()))
print("seen %d" % n)' <<< "$out")
is "$bad" "seen 60" "RFC822.SIZE is the size of BODY[] (CRLF form) for each of the 60"
if command -v strace > /dev/null && strace -f -o /dev/null true 2> /dev/null; then
	printf 'a1 SELECT Many\r\na2 FETCH 1:* (RFC822.SIZE)\r\na3 LOGOUT\r\n' |
		strace -f -e trace=open,openat -o "$T_DIR/strace" $IMAPD > "$T_DIR/out" 2>/dev/null
	is "$(grep -c 'RFC822.SIZE' "$T_DIR/out")" 60 "FETCH 1:* (RFC822.SIZE): 60 replies"
	opened=$(grep -c 'Many/\(cur\|new\)/' "$T_DIR/strace")
	is "$opened" 0 "FETCH 1:* (RFC822.SIZE) opens no message file (opened: $opened)"
	# BODY comes from the BODYSTRUCTURE cached by the first FETCH of it.
	raw 'a1 SELECT Many\r\na2 FETCH 1:* (BODYSTRUCTURE)\r\n' > /dev/null
	printf 'a1 SELECT Many\r\na2 FETCH 1:* (BODY)\r\na3 LOGOUT\r\n' |
		strace -f -e trace=open,openat -o "$T_DIR/strace" $IMAPD > "$T_DIR/out" 2>/dev/null
	is "$(grep -c '^\* [0-9]* FETCH (BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" [0-9]* 1))' "$T_DIR/out")" 60 \
		"FETCH 1:* (BODY): 60 replies, the BODY form"
	opened=$(grep -c 'Many/\(cur\|new\)/' "$T_DIR/strace")
	is "$opened" 0 "FETCH 1:* (BODY) opens no message file once BODYSTRUCTURE is cached (opened: $opened)"
else
	skip "strace not usable here: opens not counted"
fi

# ---- RENAME INBOX: its messages move in one set operation ----
for i in $(seq 1 20); do
	printf 'Subject: in%s\nMessage-ID: <in%s@x>\n\nbody\n' $i $i > "$T_DIR/Mail/INBOX/cur/200$i.M1P1.host:2,"
done
n_in=$(find "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" -type f | wc -l)
rm -f "$T_DIR/trace"
out=$(printf 'a1 RENAME INBOX Old\r\na2 STATUS Old (MESSAGES)\r\na3 STATUS INBOX (MESSAGES)\r\n' |
	LOFT_CRASH_TRACE=$T_DIR/trace timeout 60 $IMAPD 2>/dev/null)
like "$out" 'a1 OK' "RENAME INBOX Old succeeds"
like "$out" "\\* STATUS \"?Old\"? \\(MESSAGES $n_in\\)" "the $n_in messages are in Old"
like "$out" '\* STATUS "?INBOX"? \(MESSAGES 0\)' "INBOX stays, empty"
commits=$(grep -c '^move:.*commit$' "$T_DIR/trace")
[ "$commits" -le 2 ]; ok $? "RENAME INBOX of $n_in messages: one move (state commits: $commits, not one move each)"

# ---- a partial FETCH of a 40 MB message ----
rm -rf "$T_DIR/Mail/INBOX"
raw 'a1 LOGOUT\r\n' > /dev/null
mkdir -p "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" "$T_DIR/Mail/INBOX/tmp"
BIG=$T_DIR/Mail/INBOX/cur/1700000000.M1P1.host:2,S
python3 -c '
import sys
line = b"0123456789" * 7 + b"abcd\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"From: a@example.org\nSubject: big\nMessage-ID: <big@x>\n\n")
    f.write(line * (40 * 1024 * 1024 // len(line)))' "$BIG"
out=$(raw 'a1 SELECT INBOX\r\na2 LOGOUT\r\n')
like "$out" '\* 1 EXISTS' "the 40 MB message is there"
probe_backend big "$BIG"
if command -v strace > /dev/null && strace -f -o /dev/null true 2> /dev/null; then
	printf 'a1 SELECT INBOX\r\na2 FETCH 1 (BODY.PEEK[]<0.4096>)\r\na3 LOGOUT\r\n' |
		strace -f -e trace=read,pread64,readv,preadv,mmap -o "$T_DIR/strace" $IMAPD > "$T_DIR/out" 2>/dev/null
	like "$(cat "$T_DIR/out")" 'BODY\[\]<0> \{4096\}' "BODY.PEEK[]<0.4096> answers 4096 bytes"
	read_bytes=$(awk '/(pread64|read)\(/ { n = $NF; if (n ~ /^[0-9]+$/) s += n } END { print s + 0 }' "$T_DIR/strace")
	diag "bytes read by the session for BODY.PEEK[]<0.4096> of 40 MB: $read_bytes"
	[ "$read_bytes" -lt 2000000 ]; ok $? "the session reads under 2 MB in all ($read_bytes), not the 40 MB message"
	! grep -q "mmap(.*$(basename "$BIG")" "$T_DIR/strace"; ok $? "and maps nothing of it"
else
	skip "strace not usable here: bytes read not measured"
fi

done_testing
