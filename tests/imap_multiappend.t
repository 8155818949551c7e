#!/bin/bash
# MULTIAPPEND (RFC 3502) as one command, not N (tests/imap_multiappend.py,
# `loft imapd` sessions on one store): one APPENDUID range and N distinct
# UIDs from one state transaction; an idling session told once; a command
# whose 3rd message is refused (too big, or its write fails) adds none and
# gives no UID; three sessions' MULTIAPPENDs at once beside deliveries each
# get a range holding their messages; kill -9 at each step leaves the
# folder whole (files renamed before the kill are taken at the next scan as
# new messages).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
for i in 1 2; do
	printf 'From: a@example.org\nSubject: old %s\nMessage-ID: <old%s@example.org>\n\nold\n' "$i" "$i" |
		"$LOFT" -F "$MAILRC_FILE" deliver
done
probe_py "$TOP/tests/imap_multiappend.py" "$LOFT -F $MAILRC_FILE imapd" "$T_DIR/Mail/INBOX" \
	"$T_DIR/trace"
done_testing
