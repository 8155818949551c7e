#!/bin/bash
# remote_copy with move and remote_expunge (remote/msgs.c) against the
# scripted IMAP server (tests/remote_fake_imap.py), checking what was sent:
# with MOVE, one UID MOVE; with UIDPLUS but no MOVE, UID COPY, UID STORE
# +FLAGS (\Deleted) and UID EXPUNGE of that UID only; with neither, a
# plain EXPUNGE (which removes whatever is marked \Deleted) only after UID
# SEARCH DELETED found no other message marked, before the copy and again
# before the EXPUNGE; with another one marked, nothing is copied, nothing
# expunged, and the call fails saying so.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

TOOL=$BUILD/tests/remotetool
[ -x "$TOOL" ] || skip_all "$TOOL is not built (make build/tests/remotetool)"
command -v python3 >/dev/null || skip_all "python3 is not installed"

echo "set imap_password_command='echo secret-pw'" > "$T_DIR/client.rc"
FLOG=$T_DIR/fake.log

# move CAPS: moves UID 3 of INBOX to Archive on a scripted server offering
# CAPS; OUT, RC, and the commands it got in CMDS (tags and login dropped).
move() {
	local port
	port=$(free_port)
	: > "$FLOG"
	rm -f "$FLOG.ready"
	bg python3 "$TOP/tests/remote_fake_imap.py" "$port" "$FLOG" "$1"
	FPID=$!
	for _ in $(seq 100); do [ -e "$FLOG.ready" ] && break; sleep 0.1; done
	OUT=$(timeout 30 "$TOOL" -F "$T_DIR/client.rc" move \
		"imap+insecure://me@127.0.0.1:$port/INBOX" 3 Archive 2>&1); RC=$?
	kill "$FPID"; wait "$FPID" 2>/dev/null
	CMDS=$(sed -n 's/^[^ ]* //p' "$FLOG" | grep -vE '^(CAPABILITY|AUTHENTICATE|LOGIN|LOGOUT|SELECT)' |
		tr '\n' ';')
}

move "IMAP4rev1 AUTH=PLAIN SASL-IR MOVE UIDPLUS"
is "$OUT" "moved" "with MOVE: moved"
is "$CMDS" "UID MOVE 3 Archive;" "one UID MOVE, nothing else"

move "IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS"
is "$OUT" "moved" "with UIDPLUS only: moved"
is "$CMDS" "UID COPY 3 Archive;UID STORE 3 +FLAGS.SILENT (\\Deleted);UID EXPUNGE 3;" \
	"UID COPY, \\Deleted, then UID EXPUNGE of that UID only"

move "IMAP4rev1 AUTH=PLAIN SASL-IR"
is "$OUT" "moved" "with neither and no other message marked: moved"
is "$CMDS" "UID SEARCH DELETED;UID COPY 3 Archive;UID STORE 3 +FLAGS.SILENT (\\Deleted);UID SEARCH DELETED;EXPUNGE;" \
	"SEARCH DELETED, the copy, the mark, SEARCH DELETED again, then a plain EXPUNGE"

FAKE_SEARCH="3 5" move "IMAP4rev1 AUTH=PLAIN SASL-IR"
is "$RC" 1 "with neither and UID 5 marked \\Deleted by another client: the move fails"
like "$OUT" "no UID EXPUNGE \\(UIDPLUS\\) and 1 other message is marked deleted there.*nothing moved" \
	"and says why"
is "$CMDS" "UID SEARCH DELETED;" "nothing copied, nothing expunged"
done_testing
