#!/bin/bash
# loft daemon's SELECT over a kept snapshot image (store/folder_image.c) and
# the MODSEQ index (store/state-modseq.c): after a first session built the
# state, a session that had to walk the records of the 3,000-message INBOX
# keeps an image when it logs out; then
# another session appends, flags, sets a keyword, expunges, and `loft
# deliver` drops a message into new/; a SELECT (QRESYNC ...) after that
# (the image, with those changes replayed) must answer exactly what a model
# of the folder says: EXISTS, UIDNEXT, HIGHESTMODSEQ, VANISHED (EARLIER) of
# the expunged UIDs, a FETCH with FLAGS and MODSEQ for each message changed
# or new since, and every message's flags after it.  Python raw sockets on
# 127.0.0.1; the daemon stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= log_level=info queue_interval=1h"
echo inbox-password-1 | "$LOFT" passwd --stdin phone >/dev/null
ok $? "loft passwd --stdin phone"
INBOX=$T_DIR/Mail/INBOX
mkdir -p "$INBOX/cur" "$INBOX/new" "$INBOX/tmp"
python3 - "$INBOX" <<'PY'
import sys
for i in range(3000):
    flags = "S" if i % 3 else ""
    with open("%s/cur/%d.M%dP1.test:2,%s" % (sys.argv[1], 1700000000 + i, i, flags), "w") as f:
        f.write("From: a%d@example.org\nSubject: message %d\nMessage-ID: <m%d@example.org>\n\nbody %d\n"
                % (i, i, i, i))
PY
ok $? "an INBOX of 3,000 messages"
LOG=$T_DIR/daemon.log
start_daemon "$LOG"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }

# step STEP: the Python side (PASS/FAIL lines), state in $T_DIR/model.json.
step() { probe_py "$TOP/tests/imap_select_image.py" "$PORT" "$T_DIR/model.json" "$1"; }

step create
step first
mdb_has() { mdb_dump -s cache -p "$T_DIR/Mail/.loft/INBOX" 2>/dev/null | grep -c "^ snapshot-nt$"; }
if command -v mdb_dump >/dev/null; then
	for _ in $(seq 50); do [ "$(mdb_has)" = 1 ] && break; sleep 0.1; done
	is "$(mdb_has)" 1 "the session that walked kept an image (snapshot-nt)"
	is "$(mdb_dump -s cache -p "$T_DIR/Mail/.loft/INBOX" 2>/dev/null | grep -c '^ snapshot$')" 0 \
		"and no client image (snapshot)"
else
	skip "mdb_dump missing (lmdb-utils): the kept image is not looked at"
fi
step change
printf 'From: d@example.org\nSubject: delivered\n\nbody\n' | "$LOFT" deliver
ok $? "loft deliver: one message into new/"
step reopen
if command -v mdb_stat >/dev/null; then
	is "$(mdb_stat -s modseqs "$T_DIR/Mail/.loft/INBOX" 2>&1 | sed -n 's/.*Entries: //p')" 3001 \
		"the MODSEQ index has an entry per record"
else
	skip "mdb_stat missing (lmdb-utils): the MODSEQ index is not counted"
fi
kill "$DPID"; wait "$DPID" 2>/dev/null
done_testing
