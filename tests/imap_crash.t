#!/bin/bash
# Kill -9 of an IMAP session (`loft imapd`) at every crash point that
# APPEND, COPY, MOVE, STORE and EXPUNGE (and their UID-set forms) pass
# through.  The points are learnt from a traced run (LOFT_CRASH_TRACE), then
# each is killed in turn (LOFT_CRASH_AT).  Afterwards, seen through a new
# IMAP session: the folders open, no message is lost or duplicated, a UID
# still names the message it named before, UIDVALIDITY is unchanged, UIDNEXT
# never goes back, and a message appended after the crash gets a UID above
# every UID handed out before it.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
M=$T_DIR/Mail
IMAPD="$LOFT -F $MAILRC_FILE imapd"
state() { timeout 30 python3 "$TOP/tests/imap_state.py" "$IMAPD" INBOX Other; }
mkmsg() { printf 'From: t@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody %s\r\n' "$1" "$1" "$1"; }

for i in 1 2 3 4; do mkmsg "m$i" | tr -d '\r' | "$LOFT" -F "$MAILRC_FILE" deliver; done
printf 'a1 CREATE Other\r\na2 SELECT INBOX\r\na3 UID STORE 4 +FLAGS (\\Deleted)\r\na4 LOGOUT\r\n' |
	timeout 20 $IMAPD > "$T_DIR/setup.out" 2>&1
grep -q '^a3 OK' "$T_DIR/setup.out"; ok $? "set-up: Other created, UID 4 marked \\Deleted"
mkmsg new > "$T_DIR/new.eml"
NEWLEN=$(wc -c < "$T_DIR/new.eml")
BEFORE=$(state)	# (before the copy: the first SELECT of Other gives it its UIDVALIDITY)
cp -a "$M" "$T_DIR/initial"
diag "initial state:"; sed 's/^/#   /' <<< "$BEFORE"

# script OP: the IMAP commands of one operation, in one session.
script() {
	printf 'a1 SELECT INBOX\r\n'
	case $1 in
	append) printf 'a2 APPEND INBOX (\\Flagged) {%d+}\r\n' "$NEWLEN"; cat "$T_DIR/new.eml"; printf '\r\n' ;;
	copy) printf 'a2 UID COPY 2 Other\r\n' ;;
	copyset) printf 'a2 UID COPY 1:3 Other\r\n' ;;
	move) printf 'a2 UID MOVE 2 Other\r\n' ;;
	moveset) printf 'a2 UID MOVE 1:3 Other\r\n' ;;
	store) printf 'a2 UID STORE 2 +FLAGS (\\Seen $Label1)\r\n' ;;
	storeset) printf 'a2 STORE 1:3 +FLAGS.SILENT (\\Answered)\r\n' ;;
	expunge) printf 'a2 EXPUNGE\r\n' ;;
	uidexpunge) printf 'a2 UID STORE 2 +FLAGS.SILENT (\\Deleted)\r\na3 UID EXPUNGE 2\r\n' ;;
	close) printf 'a2 CLOSE\r\n' ;;
	esac
	printf 'a9 LOGOUT\r\n'
}
# (in a subshell: bash would report the killed pipeline on stderr)
run_op() { (script "$1" | timeout 20 $IMAPD > "$T_DIR/op.out") 2>/dev/null; }
fresh() { rm -rf "${M:?}"; cp -a "$T_DIR/initial" "$M"; }

# check OP POINT: compares the state after a crash with the initial one;
# prints what is wrong (nothing when all is well).
check() {
	local op=$1 after n id f uv0 uv1 un0 un1 newuid
	after=$(state) || { echo "the folders do not open"; return; }
	for f in INBOX Other; do
		uv0=$(awk -v f=$f '$1 == f && $2 == "uidvalidity" { print $3 }' <<< "$BEFORE")
		uv1=$(awk -v f=$f '$1 == f && $2 == "uidvalidity" { print $3 }' <<< "$after")
		un0=$(awk -v f=$f '$1 == f && $2 == "uidvalidity" { print $5 }' <<< "$BEFORE")
		un1=$(awk -v f=$f '$1 == f && $2 == "uidvalidity" { print $5 }' <<< "$after")
		[ -n "$uv1" ] || { echo "$f does not open"; continue; }
		[ "$uv0" = "$uv1" ] || echo "$f UIDVALIDITY changed $uv0 -> $uv1"
		[ "$un1" -ge "$un0" ] || echo "$f UIDNEXT went back $un0 -> $un1"
		# a UID kept names the same message; a new UID is >= the old UIDNEXT
		awk -v f=$f -v un0="$un0" 'NR == FNR { if ($1 == f && $2 ~ /^[0-9]+$/) old[$2] = $3; next }
			$1 == f && $2 ~ /^[0-9]+$/ {
				if ($2 in old) { if (old[$2] != $3) print f, "UID", $2, "was", old[$2], "now", $3 }
				else if ($2 + 0 < un0 + 0) print f, "UID", $2, "reused for", $3 }' \
			<(echo "$BEFORE") <(echo "$after")
		n=$(awk -v f=$f '$1 == f && $2 ~ /^[0-9]+$/ { print $3 }' <<< "$after" | sort | uniq -d)
		[ -z "$n" ] && continue
		echo "$f holds twice: $n"
	done
	count() { awk -v f="$1" -v id="$2@example.org" '$1 == f && $3 == id' <<< "$after" | wc -l; }
	case $op in
	append)
		[ "$(count INBOX new)" -le 1 ] || echo "appended twice"
		for f in $(grep -rl 'Message-ID: <new@' "$M/INBOX" 2>/dev/null); do
			cmp -s "$f" "$T_DIR/new.eml" || echo "a partial message file"
		done ;;
	copy|copyset|move|moveset)
		for id in m1 m2 m3; do
			n=$(( $(count INBOX $id) + $(count Other $id) ))
			[ "$n" -ge 1 ] || echo "$id lost"
			case $op in move*) [ "$n" -le 1 ] || echo "DUP $id in both folders" ;; esac
		done ;;
	store|storeset)
		for id in m1 m2 m3 m4; do [ "$(count INBOX $id)" = 1 ] || echo "$id lost"; done ;;
	expunge|uidexpunge|close)
		for id in m1 m3; do [ "$(count INBOX $id)" = 1 ] || echo "$id lost"; done ;;
	esac
	# The next message appended gets a UID above all handed out before.
	newuid=$(printf 'a1 APPEND INBOX {%d+}\r\n' "$NEWLEN" | cat - "$T_DIR/new.eml" <(printf '\r\na2 LOGOUT\r\n') |
		timeout 20 $IMAPD 2>/dev/null | sed -n 's/^a1 OK \[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p')
	un1=$(awk '$1 == "INBOX" && $2 == "uidvalidity" { print $5 }' <<< "$after")
	n=$(awk '$1 == "INBOX" && $2 ~ /^[0-9]+$/ { m = $2 } END { print m + 0 }' <<< "$after")
	[ -n "$newuid" ] || { echo "APPEND after the crash failed"; return; }
	[ "$newuid" -ge "$un1" ] && [ "$newuid" -gt "$n" ] || echo "APPEND after the crash got UID $newuid (UIDNEXT $un1, highest UID $n)"
}

for op in append copy copyset move moveset store storeset expunge uidexpunge close; do
	fresh
	rm -f "$T_DIR/trace"
	LOFT_CRASH_TRACE=$T_DIR/trace run_op $op
	grep -q '^a2 OK' "$T_DIR/op.out"; ok $? "$op: runs uninterrupted ($(grep '^a[23] ' "$T_DIR/op.out" | tr -d '\r' | tr '\n' ' '))"
	# A command on a set of messages is one store transaction (one fsync).
	case $op in *set)
		# (a move: the two folders' transactions begun together)
		is "$(grep -c ':begin$' "$T_DIR/trace")" 1 \
			"$op: one transaction for the set ($(grep ':begin$' "$T_DIR/trace" | tr '\n' ' '))" ;;
	esac
	mapfile -t points < <(awk '{ n[$0]++; print $0 "#" n[$0] }' "$T_DIR/trace")
	[ "${#points[@]}" -gt 0 ] || { ok 1 "$op: no crash points traced"; continue; }
	bad="" dup=""
	for p in "${points[@]}"; do
		fresh
		LOFT_CRASH_AT=$p run_op $op
		rc=$?
		[ $rc = 137 ] || { bad="$bad [$p: exit $rc, not killed]"; continue; }
		msg=$(check $op)
		grep -q '^DUP' <<< "$msg" && dup="$dup [$p:$(grep '^DUP' <<< "$msg" | cut -c4- | tr '\n' ';')]"
		msg=$(grep -v -e '^DUP' -e '^$' <<< "$msg" | tr '\n' ';')
		[ -z "$msg" ] || bad="$bad [$p: $msg]"
	done
	ok "$([ -z "$bad" ]; echo $?)" "$op: kill -9 at each of ${#points[@]} points: nothing lost or duplicated, UIDs not reused (${points[*]})"
	[ -z "$bad" ] || diag "failures:$bad"
	case $op in move*)
		# A move is a rename per message with both folders' states
		# changed together: at no point is the message in both.
		ok "$([ -z "$dup" ]; echo $?)" "$op: a killed MOVE never leaves the message in both folders"
		[ -z "$dup" ] || diag "in both folders after:$dup" ;;
	esac
done

done_testing
