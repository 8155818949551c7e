#!/bin/bash
# \Recent for exactly one session (RFC 3501 2.3.2), with two sessions that
# SELECT at the same instant: both build their view while the message is
# still recent in the store, then both claim it.  The interleaving is made
# deterministic with LOFT_CRASH_PAUSE at imapd:claim-recent (after the
# view, before the claim): A stops there, B stops there too, A goes on,
# then B.  Exactly one of them may report the message \Recent.
. "$TOP/tests/lib.sh"

make_mailrc
# session OUT [PAUSE]: SELECT INBOX, the flags of message 1, LOGOUT; with
# PAUSE in the background, its imapd's pid in $SESSION_PID.
session() {
	printf 'a1 SELECT INBOX\r\na2 FETCH 1 FLAGS\r\na3 LOGOUT\r\n' > "$1.in"
	if [ $# = 1 ]; then
		timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd < "$1.in" > "$1" 2>&1
	else
		LOFT_CRASH_PAUSE=$2 timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd < "$1.in" > "$1" 2>&1 &
		SESSION_PID=$!
		T_PIDS+=("$SESSION_PID")
	fi
}
# The imapd under timeout(1).
imapd_of() { pgrep -P "$1" | head -1; }
recent() { tr -d '\r' < "$1" | sed -n 's/^\* \([0-9]*\) RECENT$/\1/p' | head -1; }
fetched_recent() { tr -d '\r' < "$1" | grep -c '^\* 1 FETCH .*\\Recent'; }

printf 'From: a@example.org\nSubject: new\nMessage-ID: <new@example.org>\n\nbody\n' |
	"$LOFT" -F "$MAILRC_FILE" deliver
ok $? "a message delivered (recent: in new/)"

session "$T_DIR/a.out" imapd:claim-recent
a=$SESSION_PID
for _ in $(seq 100); do A=$(imapd_of "$a"); [ -n "$A" ] && break; sleep 0.05; done
stopped "${A:-0}"; ok $? "session A built its view and stopped before claiming"

session "$T_DIR/b.out" imapd:claim-recent
b=$SESSION_PID
for _ in $(seq 100); do B=$(imapd_of "$b"); [ -n "$B" ] && break; sleep 0.05; done
stopped "${B:-0}"; ok $? "session B built its view too (the message still recent) and stopped"

kill -CONT "$A"; wait "$a"
ok $? "session A finishes"
kill -CONT "$B"; wait "$b"
ok $? "session B finishes"
ra=$(recent "$T_DIR/a.out") rb=$(recent "$T_DIR/b.out")
diag "A: ${ra:-?} RECENT, B: ${rb:-?} RECENT"
is "$(( ${ra:-0} + ${rb:-0} ))" 1 "exactly one of the two sessions reports the message in RECENT"
is "$ra" 1 "the one that claimed first (A)"
is "$(( $(fetched_recent "$T_DIR/a.out") + $(fetched_recent "$T_DIR/b.out") ))" 1 \
	"exactly one of them shows \\Recent in FLAGS"

session "$T_DIR/c.out"
is "$(recent "$T_DIR/c.out")" 0 "a later session: not recent any more"

done_testing
