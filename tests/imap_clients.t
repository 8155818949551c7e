#!/bin/bash
# Real IMAP clients over `loft imapd`: curl's IMAP through socat (a TCP
# port on 127.0.0.1 whose every connection runs `loft imapd`) until the
# daemon's own listener is there.  Each check looks at what the client got
# and at the store afterwards.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v socat >/dev/null || skip_all "socat not installed (tests/deps.sh)"
command -v curl >/dev/null || skip_all "curl not installed"
make_mailrc
printf 'From: a@example.org\nSubject: curl test\nMessage-ID: <c1@example.org>\n\nhello curl\n' |
	"$LOFT" -F "$MAILRC_FILE" deliver
printf 'From: b@example.org\nSubject: second\nMessage-ID: <c2@example.org>\n\nsecond body\n' |
	"$LOFT" -F "$MAILRC_FILE" deliver

PORT=$(free_port)
bg socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork EXEC:"$LOFT -F $MAILRC_FILE imapd"
SOCAT=${T_PIDS[-1]}
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
	sleep 0.1
done
URL="imap://127.0.0.1:$PORT"
cu() { timeout 20 curl -s --max-time 15 "$@"; }

out=$(cu "$URL/INBOX;UID=1"); ok $? "curl fetches INBOX;UID=1"
like "$out" 'Subject: curl test' "the whole first message"
like "$out" 'hello curl' "with its body"
out=$(cu "$URL/INBOX;UID=2;SECTION=TEXT"); ok $? "curl fetches a section (TEXT)"
is "$(printf '%s' "$out" | tr -d '\r')" "second body" "the body of UID 2 only"
out=$(cu "$URL/"); ok $? "curl lists the mailboxes"
like "$out" '\* LIST \([^)]*\) "/" "INBOX"' "LIST shows INBOX"
like "$out" '\\Sent\) "/" "Sent"' "LIST shows Sent with its SPECIAL-USE attribute"
out=$(cu "$URL/INBOX" -X "SEARCH SUBJECT second"); ok $? "curl -X SEARCH"
is "$(printf '%s' "$out" | tr -d '\r')" "* SEARCH 2" "SEARCH finds the second message"
out=$(cu "$URL/INBOX" -X "UID STORE 1 +FLAGS (\\Flagged)"); ok $? "curl -X UID STORE"
f=$(grep -l 'c1@example.org' "$T_DIR"/Mail/INBOX/cur/* 2>/dev/null | head -1)
[[ ${f##*:2,} == *F* ]]; ok $? "the store has the flag in the file name"
out=$(cu "$URL/INBOX;UID=9"); rc=$?
[ $rc -ne 0 ]; ok $? "curl fails on a UID that does not exist (exit $rc)"
out=$(cu "$URL/Nowhere;UID=1"); rc=$?
[ $rc -ne 0 ]; ok $? "and on a mailbox that does not exist (exit $rc)"
kill "$SOCAT" 2>/dev/null
done_testing
