#!/bin/bash
# The IMAP extensions of `loft imapd` (CONDSTORE/QRESYNC, LIST-EXTENDED,
# LIST-STATUS, subscriptions, CREATE-SPECIAL-USE, SEARCHRES, MULTIAPPEND...)
# driven through Python's imaplib (IMAP4_stream), checked against the RFC
# examples; two sessions at once where one must see what the other did.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
IMAPD="$LOFT -F $MAILRC_FILE imapd"

while IFS= read -r line; do
	case $line in
	PASS\ *) ok 0 "${line#PASS }" ;;
	FAIL\ *) ok 1 "${line#FAIL }" ;;
	"probe exit "*) [ "${line#probe exit }" = 0 ]; ok $? "imaplib conversations ran to their end" ;;
	*) diag "$line" ;;
	esac
done < <(timeout 600 python3 "$TOP/tests/imap_ext_probe.py" "$IMAPD" "$T_DIR/Mail" 2>&1; echo "probe exit $?")
done_testing
