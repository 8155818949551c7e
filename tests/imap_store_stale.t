#!/bin/bash
# A STORE (or a FETCH BODY[] setting \Seen) that changes nothing because
# another session already made the change still answers with the flags
# the message has now, and their MODSEQ (RFC 3501 6.4.6, RFC 7162 3.1):
# not with the session's older view.  Session A selects INBOX, session B
# sets \Seen and a keyword, then A stores the same: A's own FETCH shows
# them (A's view learns of B's change only after the command).
. "$TOP/tests/lib.sh"

make_mailrc
for n in 1 2; do "$LOFT" -F "$MAILRC_FILE" deliver < "$(small_msg "m$n")" || break; done
ok $? "two messages delivered"

coproc A { timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd 2>&1; }
T_PIDS+=("$A_PID")
# a CMD: sends CMD to A with tag t, prints A's lines up to the tagged one.
a() {
	printf 't %s\r\n' "$1" >&"${A[1]}"
	local l
	while IFS= read -r -t 10 l <&"${A[0]}"; do
		l=${l%$'\r'}
		echo "$l"
		case $l in "t "*) return 0 ;; esac
	done
	return 1
}
a 'ENABLE CONDSTORE' > /dev/null && a 'SELECT INBOX' > /dev/null && a 'FETCH 1:2 FLAGS' > /dev/null
ok $? "A selected INBOX"

# b UIDS: session B sets \Seen and $Work on UIDS; prints their MODSEQs.
b() {
	printf 'b1 SELECT INBOX\r\nb2 UID STORE %s +FLAGS (\\Seen $Work)\r\nb3 UID FETCH %s (MODSEQ)\r\nb4 LOGOUT\r\n' \
		"$1" "$1" | timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd > "$T_DIR/b.out" 2>&1 &&
		tr -d '\r' < "$T_DIR/b.out" | sed -n 's/^\* [0-9]* FETCH (UID [0-9]* MODSEQ (\([0-9]*\)).*/\1/p' | tail -1
}
m1=$(b 1)
[ -n "$m1" ]; ok $? "B set \\Seen \$Work on UID 1 (MODSEQ $m1)"

out=$(a 'STORE 1 +FLAGS (\Seen $Work)')
diag "$out"
first=$(grep -m1 '^\* 1 FETCH' <<< "$out")
like "$first" '\\Seen' "A's STORE +FLAGS: its FETCH shows \\Seen"
like "$first" '\$Work' "... and the keyword"
like "$first" "MODSEQ \\(${m1:-x}\\)" "... with the MODSEQ B's change has (${m1:-?})"

m2=$(b 2)
[ -n "$m2" ]; ok $? "B set \\Seen \$Work on UID 2 (MODSEQ $m2)"
out=$(a 'FETCH 2 BODY[]')
diag "$(grep FETCH <<< "$out" | head -3)"
first=$(grep -m1 '^\* 2 FETCH' <<< "$out")
like "$first" 'FLAGS \([^)]*\\Seen' "A's FETCH BODY[] shows \\Seen with the body"
like "$first" "MODSEQ \\(${m2:-x}\\)" "... with the MODSEQ B's change has (${m2:-?})"

a 'LOGOUT' > /dev/null
ok $? "A logs out"
done_testing
