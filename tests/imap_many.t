#!/bin/bash
# Many IMAP sessions at once on one folder (tests/imap_many.py): two in
# IDLE, one polling with NOOP, one setting flags, one expunging, while two
# `loft deliver` loops deliver messages; every session's view must end equal
# to the folder and no two sessions may disagree on a UID's message.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
for i in 1 2 3; do
	printf 'From: a@example.org\nSubject: old %s\nMessage-ID: <old%s@example.org>\n\nold\n' "$i" "$i" |
		"$LOFT" -F "$MAILRC_FILE" deliver
done
n=0
while IFS= read -r line; do
	case $line in
	PASS\ *) n=$((n + 1)); ok 0 "${line#PASS }" ;;
	FAIL\ *) n=$((n + 1)); ok 1 "${line#FAIL }" ;;
	"probe exit "*) [ "${line#probe exit }" = 0 ]; ok $? "the sessions ran to their end" ;;
	*) diag "$line" ;;
	esac
done < <(timeout 300 python3 "$TOP/tests/imap_many.py" "$LOFT -F $MAILRC_FILE imapd" \
	"$LOFT -F $MAILRC_FILE deliver" "${IMAP_MANY_N:-50}" 2>&1; echo "probe exit $?")
[ "$n" -ge 9 ]; ok $? "all checks reported ($n)"
done_testing
