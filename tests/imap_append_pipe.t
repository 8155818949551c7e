#!/bin/bash
# Pipelined APPENDs (tests/imap_append_pipe.py, `loft imapd` sessions on
# one store): APPENDs to one mailbox already sent when the first is read
# are one store batch (one state transaction, one EXISTS for an idler;
# 200 of them, more than one read of the session, too),
# each answered in order with its own APPENDUID; a refused one (bad date,
# empty, too big) gets its own reply and the others are stored; an APPEND
# to another mailbox or another command in between keeps the order;
# synchronising literals still go one at a time; kill -9 during a group
# loses no acknowledged message.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
printf 'From: a@example.org\nSubject: old\nMessage-ID: <old@example.org>\n\nold\n' |
	"$LOFT" -F "$MAILRC_FILE" deliver
probe_py "$TOP/tests/imap_append_pipe.py" "$LOFT -F $MAILRC_FILE imapd" "$T_DIR/trace"
done_testing
