#!/bin/bash
# One MODSEQ is one set of flags (RFC 7162 3.1), also for a SELECT that
# loads a kept snapshot image and replays the changes since: the replay
# reads the records of messages the image has in new/ again (they may have
# gone to cur/ without a new MODSEQ), and a flag change committed by
# another session between the replay and that read must not give the
# message the new flags under its old MODSEQ.  The interleaving is made
# deterministic with LOFT_CRASH_PAUSE at image:caught-up (after the
# replay, before that read): B stops there, C sets \Deleted, B goes on.
# C's change of a message in cur/ must reach B too: it was committed
# before B watched the folder, so no notification tells B of it.
. "$TOP/tests/lib.sh"

make_mailrc
# pairs FILE: "UID MODSEQ FLAGS" of every FETCH with all three (flags
# sorted, \Recent left out: it is per session).
pairs() {
	tr -d '\r' < "$1" | grep '^\* [0-9]* FETCH' | while read -r line; do
		uid=$(sed -n 's/.*UID \([0-9]*\).*/\1/p' <<< "$line")
		ms=$(sed -n 's/.*MODSEQ (\([0-9]*\)).*/\1/p' <<< "$line")
		fl=$(sed -n 's/.*FLAGS (\([^)]*\)).*/\1/p' <<< "$line" | tr ' ' '\n' |
			grep -v -i -e '^\\recent$' -e '^$' | sort | paste -s -d ' ')
		[ -n "$uid" ] && [ -n "$ms" ] && grep -q 'FLAGS (' <<< "$line" && echo "$uid $ms $fl"
	done
}

"$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg m1)" && imapd_session s 'SELECT INBOX' 'LOGOUT' &&
	"$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg m2)"
ok $? "UID 1 delivered and seen by a SELECT (in cur/), then a second message (in new/)"

# A first open gives it its UID; a second one walks the records and keeps
# its snapshot as the image at close (EXAMINE: it stays in new/).
imapd_session a 'EXAMINE INBOX' 'LOGOUT' && imapd_session b 'EXAMINE INBOX' 'LOGOUT'
ok $? "two EXAMINE sessions"
uidvalidity=$(tr -d '\r' < "$T_DIR/b.out" | sed -n 's/.*\[UIDVALIDITY \([0-9]*\)\].*/\1/p')
[ -n "$uidvalidity" ]; ok $? "UIDVALIDITY $uidvalidity"
[ "$(ls "$T_DIR/Mail/INBOX/new" | wc -l) $(ls "$T_DIR/Mail/INBOX/cur" | wc -l)" = "1 1" ]
ok $? "one message in cur/, one in new/"

# A third arrival: the next open loads the image and replays the change.
"$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg m3)"
ok $? "a third message delivered"

printf 'a1 ENABLE QRESYNC\r\na2 SELECT INBOX (QRESYNC (%s 1))\r\na3 UID FETCH 1:* (FLAGS MODSEQ)\r\na4 LOGOUT\r\n' \
	"$uidvalidity" > "$T_DIR/B.in"
LOFT_CRASH_PAUSE=image:caught-up timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd \
	< "$T_DIR/B.in" > "$T_DIR/B.out" 2>&1 &
b=$!
T_PIDS+=("$b")
for _ in $(seq 100); do B=$(imapd_of "$b"); [ -n "$B" ] && break; sleep 0.05; done
stopped "${B:-0}"; ok $? "session B replayed the changes onto the image and stopped"

imapd_session C 'SELECT INBOX' 'UID FETCH 1:2 (FLAGS MODSEQ)' 'UID STORE 2 +FLAGS (\Deleted)' \
	'UID STORE 1 +FLAGS (\Flagged)' 'UID FETCH 1:* (FLAGS MODSEQ)' 'LOGOUT'
ok $? "session C meanwhile sets \\Deleted on UID 2 and \\Flagged on UID 1"
grep -q 'FETCH (.*UID 2 .*\\Deleted' "$T_DIR/C.out"; ok $? "C sees its change"

kill -CONT "$B"; wait "$b"
ok $? "session B finishes"
grep -q '^a2 OK' "$T_DIR/B.out"; ok $? "B's SELECT answered OK"

# Every (UID, MODSEQ) that B or C was shown has one set of flags.
pairs "$T_DIR/B.out" > "$T_DIR/pairs"
pairs "$T_DIR/C.out" >> "$T_DIR/pairs"
diag "$(sort -u "$T_DIR/pairs")"
bad=$(sort -u "$T_DIR/pairs" | awk '{print $1, $2}' | uniq -d)
[ -z "$bad" ]; ok $? "one set of flags per UID and MODSEQ${bad:+ (not for UID/MODSEQ $bad)}"
cm=$(pairs "$T_DIR/C.out" | awk '$1 == 2 && /Deleted/ {print $2}' | tail -1)
pairs "$T_DIR/B.out" | awk -v m="${cm:-0}" '$1 == 2 && /Deleted/ && $2 != m {bad = 1} END {exit bad}'
ok $? "B shows \\Deleted on UID 2 only with C's MODSEQ ${cm:-?}"

# C's change of UID 1 (in cur/: no \Recent claim reads it again) was
# committed while B's SELECT read the folder: B's UID FETCH shows it.
cf=$(pairs "$T_DIR/C.out" | awk '$1 == 1 && /Flagged/ {print $2}' | tail -1)
tr -d '\r' < "$T_DIR/B.out" | sed -n '/^a2 /,/^a3 /p' > "$T_DIR/B.a3"
pairs "$T_DIR/B.a3" | grep -Fqx "1 ${cf:-?} \\Flagged"
ok $? "B's UID FETCH after its SELECT shows C's \\Flagged (MODSEQ ${cf:-?})"

done_testing
