#!/bin/bash
# `loft imapd` (PREAUTH on stdin/stdout) driven by real clients: Python's
# imaplib through IMAP4_stream (a scripted conversation covering every
# command), raw bytes for the parser's limits, and mbsync with a Tunnel
# channel doing two-way syncs.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
IMAPD="$LOFT -F $MAILRC_FILE imapd"

# The probe's PASS/FAIL lines as TAP; a probe that dies is a failure.
n=0
while IFS= read -r line; do
	case $line in
	PASS\ *) n=$((n + 1)); ok 0 "${line#PASS }" ;;
	FAIL\ *) n=$((n + 1)); ok 1 "${line#FAIL }" ;;
	"probe exit "*) [ "${line#probe exit }" = 0 ]; ok $? "imaplib conversation ran to its end" ;;
	*) diag "$line" ;;
	esac
done < <(timeout 120 python3 "$TOP/tests/imap_probe.py" "$IMAPD" 2>&1; echo "probe exit $?")

# ---- raw bytes: limits and resynchronisation ----
raw() { printf "$1" | timeout 20 $IMAPD 2>/dev/null; }
out=$(raw 'a1 APPEND INBOX {999999999999}\r\na2 NOOP\r\na3 LOGOUT\r\n')
like "$out" 'a1 NO \[TOOBIG\]' "a too-large APPEND gets NO [TOOBIG] without + OK"
like "$out" 'a2 OK' "the session goes on after it"
out=$(raw 'a1 APPEND INBOX {999999999999+}\r\nxxxx\r\na2 NOOP\r\n')
like "$out" 'BYE' "a too-large non-synchronising literal ends the connection (RFC 7888)"
[[ $out != *"a2 OK"* ]]; ok $? "and nothing after it is read"
out=$(python3 -c 'import sys; sys.stdout.write("a1 NOOP " + "("*10000 + "\r\na2 NOOP\r\na3 LOGOUT\r\n")' | timeout 20 $IMAPD 2>/dev/null)
like "$out" 'a1 BAD Too deeply nested' "ten thousand parentheses: BAD"
like "$out" 'a2 OK' "then in sync again"
out=$(python3 -c 'import sys; sys.stdout.write("a0 SELECT INBOX\r\na1 FETCH " + ",".join(["1"]*1000000) + " FLAGS\r\na2 LOGOUT\r\n")' | timeout 20 $IMAPD 2>/dev/null)
like "$out" 'a1 BAD' "a million ranges: BAD (line limit or range cap)"
like "$out" 'a2 OK' "then in sync again"
out=$(raw 'a1 SELECT INBOX\r\na2 FETCH 1:* (FLAGS\r\na3 LOGOUT\r\n')
like "$out" "a2 BAD Missing" "unbalanced list: BAD with a reason"
# A special-use folder deleted or renamed by a client stays so: the next
# session (a new store open) does not bring it back.
out=$(raw 'a1 DELETE Sent\r\na2 RENAME Drafts Entwuerfe\r\na3 LOGOUT\r\n')
like "$(echo $out)" 'a1 OK.*a2 OK' "DELETE Sent and RENAME Drafts"
out=$(raw 'b1 LIST "" *\r\nb2 LOGOUT\r\n')
[[ $out != *'"Sent"'* && $out != *'"Drafts"'* ]]; ok $? "the next session lists neither Sent nor Drafts" || diag "$out"
like "$out" '"Entwuerfe"' "the renamed folder is there"
out=$(raw 'c1 CREATE Sent\r\nc2 RENAME Entwuerfe Drafts\r\nc3 LOGOUT\r\n')
like "$(echo $out)" 'c1 OK.*c2 OK' "and both come back when asked for"
out=$(raw 'd1 CREATE Par/Kid\r\nd2 RENAME Par Par2\r\nd3 LIST "" "Par*"\r\nd4 LOGOUT\r\n')
like "$(echo $out)" 'd2 OK.*"Par2/Kid".*d3 OK' "RENAME of a parent that only holds folders renames them" || diag "$out"
out=$(raw 'a1 LOGIN {5}\r\n')
like "$out" '\+ OK' "a small synchronising literal gets + OK"

# ---- mbsync over a Tunnel ----
if ! command -v mbsync >/dev/null; then
	skip "mbsync (isync) not installed"
else
	LOCAL=$T_DIR/local
	mkdir -p "$LOCAL"
	cat > "$T_DIR/mbsyncrc" <<EOR
IMAPStore loft
Tunnel "$IMAPD"

MaildirStore local
Path $LOCAL/
Inbox $LOCAL/INBOX
SubFolders Verbatim

Channel both
Far :loft:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
EOR
	msync() { HOME=$T_DIR mbsync -q -c "$T_DIR/mbsyncrc" both 2>>"$T_DIR/mbsync.err"; }
	mkmsg() { printf 'From: x@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody %s\n' "$1" "$1" "$1"; }
	# Message-IDs and maildir flags of one side, sorted
	side() {
		local f
		find "$1" -path '*/cur/*' -o -path '*/new/*' -type f | while read -r f; do
			[ -f "$f" ] || continue
			id=$(grep -m1 -i '^Message-ID:' "$f" | tr -d '\r' | sed 's/.*<//; s/>.*//')
			dir=$(dirname "$(dirname "$f")"); dir=${dir#"$1"/}
			fl=${f##*:2,}; [ "$fl" = "$f" ] && fl=
			echo "$dir $id ${fl//[^DFRST]/}"
		done | sort
	}
	for i in 1 2 3; do mkmsg "srv$i" | "$LOFT" -F "$MAILRC_FILE" deliver; done
	mkmsg lists1 | "$LOFT" -F "$MAILRC_FILE" deliver -m Lists/foo
	msync; ok $? "mbsync: first full sync"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after the first sync"
	[ "$(side "$LOCAL" | grep -c "srv\|lists1")" = 4 ]; ok $? "mbsync: the four delivered messages arrived (INBOX and Lists/foo)"
	# a new message and a flag on each side, an expunge on each side
	mkmsg srv4 | "$LOFT" -F "$MAILRC_FILE" deliver
	mkmsg loc1 > "$LOCAL/INBOX/new/1700000000.loc1.host:2,"
	f=$(grep -l 'srv1@' "$LOCAL"/INBOX/cur/* "$LOCAL"/INBOX/new/* 2>/dev/null | head -1)
	mv "$f" "${f%%:2,*}:2,F"
	f=$(grep -l 'srv2@' "$T_DIR"/Mail/INBOX/cur/* "$T_DIR"/Mail/INBOX/new/* 2>/dev/null | head -1)
	mv "$f" "${f%%:2,*}:2,S"
	msync; ok $? "mbsync: second sync (new message and flag on each side)"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after new messages and flags"
	f=$(grep -l 'srv3@' "$LOCAL"/INBOX/cur/* "$LOCAL"/INBOX/new/* 2>/dev/null | head -1)
	mv "$f" "${f%%:2,*}:2,T"
	f=$(grep -l 'srv4@' "$T_DIR"/Mail/INBOX/cur/* "$T_DIR"/Mail/INBOX/new/* 2>/dev/null | head -1)
	mv "$f" "${f%%:2,*}:2,T"
	msync; ok $? "mbsync: third sync (expunge on each side)"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after the expunges"
	[ -z "$(side "$LOCAL" | grep -E 'srv3|srv4')" ]; ok $? "mbsync: the expunged messages are gone on both sides"
	[ -s "$T_DIR/mbsync.err" ] && diag "$(head -5 "$T_DIR/mbsync.err")"
fi
[ -s "$T_DIR/probe.err" ] && diag "$(head -5 "$T_DIR/probe.err")"
done_testing
