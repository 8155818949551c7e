#!/bin/bash
# An expunge committed while a SELECT (QRESYNC) is being answered: told
# after the SELECT (VANISHED at the next command), never as a plain
# VANISHED inside the SELECT's answer beside VANISHED (EARLIER) (libetpan
# keeps only the first VANISHED of a SELECT), and never lost.  B stops
# after building its view (LOFT_CRASH_PAUSE at imapd:claim-recent: a new
# message is there to claim), C expunges UID 2, B goes on.
. "$TOP/tests/lib.sh"

make_mailrc

for n in 1 2 3; do "$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg "m$n")" || break; done
imapd_session s 'ENABLE CONDSTORE' 'SELECT INBOX' 'LOGOUT'
ok $? "three messages, seen by a first session"
uv=$(tr -d '\r' < "$T_DIR/s.out" | sed -n 's/.*\[UIDVALIDITY \([0-9]*\)\].*/\1/p')
hm=$(tr -d '\r' < "$T_DIR/s.out" | sed -n 's/.*\[HIGHESTMODSEQ \([0-9]*\)\].*/\1/p')
"$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg m4)"
ok $? "a fourth (recent) message"

printf 'a1 ENABLE QRESYNC\r\na2 SELECT INBOX (QRESYNC (%s %s 1:3))\r\na3 NOOP\r\na4 LOGOUT\r\n' \
	"$uv" "$hm" > "$T_DIR/B.in"
LOFT_CRASH_PAUSE=imapd:claim-recent timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd \
	< "$T_DIR/B.in" > "$T_DIR/B.out" 2>&1 &
b=$!
T_PIDS+=("$b")
for _ in $(seq 100); do B=$(imapd_of "$b"); [ -n "$B" ] && break; sleep 0.05; done
stopped "${B:-0}"; ok $? "session B built its view and stopped"

imapd_session C 'SELECT INBOX' 'UID STORE 2 +FLAGS.SILENT (\Deleted)' 'UID EXPUNGE 2' 'LOGOUT'
ok $? "session C expunges UID 2 meanwhile"

kill -CONT "$B"; wait "$b"
ok $? "session B finishes"
tr -d '\r' < "$T_DIR/B.out" > "$T_DIR/B.txt"
diag "$(grep -E '^\* (VANISHED|[0-9]+ (EXISTS|FETCH))|^a[23] ' "$T_DIR/B.txt")"
sed -n '/^a1 /,/^a2 /p' "$T_DIR/B.txt" | grep -q '^\* VANISHED [0-9]'
[ $? = 1 ]; ok $? "no plain VANISHED in the SELECT's answer"
sed -n '/^a2 /,/^a3 /p' "$T_DIR/B.txt" | grep -qx '\* VANISHED 2'
ok $? "VANISHED 2 at the NOOP after it"

done_testing
