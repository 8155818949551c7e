#!/bin/bash
# The daemon's sync task between full syncs (sync_interval=1h here, so
# nothing below comes from a full sync), with sync_poll=1s, against a
# private Dovecot:
#   - offering no IDLE (Dovecot's imap_capability without it): a NOOP on
#     INBOX every sync_poll brings a new message; a message in another
#     synced folder comes by the STATUS poll;
#   - offering IDLE: the other synced folders are polled on the IDLE
#     connection (DONE, LIST-STATUS, IDLE): a new message, a flag set on
#     the provider (HIGHESTMODSEQ), a new folder matching sync_folders; a
#     folder sync_folders excludes is left alone;
#   - the wall clock (libfaketime in the daemon) jumping 2 h beside the
#     monotonic clock, as after a suspend: the task reconnects and runs a
#     full sync.
# Each within a few poll intervals (the times are printed).  Skipped
# without root, dovecot-imapd, socat or python3 (tests/sync_daemon_setup.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_daemon_setup.sh"

# Dovecot 2.3's own list but IDLE (and NOTIFY, which needs it).
NO_IDLE="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES \
THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE \
UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE"
IMAP_CAPABILITY=$NO_IDLE dovecot_start 0 "no IDLE"

# arrives SECS SUBJECT: waits until the store holds it; prints the ms taken.
arrives() {
	local t0
	t0=$(date +%s%N) WANT=$2
	wait_for "$1" eval '[ "$(copies "$WANT")" -ge 1 ]' || return 1
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
make_mailrc "set imap_listen=127.0.0.1:$LPORT smtp_listen= log_level=info queue_interval=1h shutdown_timeout=5" \
	"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
	"set imap_password_command='echo annpass1'" \
	"set sync=mirror sync_interval=1h sync_poll=1s imap_timeout=5" \
	"set sync_folders='INBOX \"Lists/*\"'" "}"
obs seed INBOX 1 old >/dev/null
obs seed Lists/dev 1 dev >/dev/null
obs seed Other 1 other >/dev/null
python3 - "$PORT" > "$T_DIR/caps" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('ann', 'annpass1')
print(' '.join(m.capabilities))
PY
[[ " $(cat "$T_DIR/caps") " != *" IDLE "* ]]
ok $? "Dovecot offers no IDLE after login" || diag "$(cat "$T_DIR/caps")"

start_daemon "$LOG" -F "$MAILRC_FILE"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }
wait_for 15 eval '[ "$(copies "dev 1")" -ge 1 ]'
ok $? "the first full sync copied INBOX and Lists/dev"

# ---- no IDLE: NOOP and STATUS every sync_poll ----
obs seed INBOX 1 noidle >/dev/null
ms=$(arrives 5 "noidle 1")
ok $? "no IDLE: a message APPENDed to INBOX reaches the store (${ms:-?} ms, sync_poll=1s)"
obs seed Lists/dev 1 noidledev >/dev/null
ms=$(arrives 5 "noidledev 1")
ok $? "no IDLE: one APPENDed to Lists/dev too, by the STATUS poll (${ms:-?} ms)"

# ---- IDLE: the other folders polled on the IDLE connection ----
kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
# Dovecot names a connection's IDLE when it logs its disconnect.
wait_for 5 eval '[ "$(grep -c "Disconnected" "$DV/dovecot.log")" -ge 2 ]'
! grep -q IDLE "$DV/dovecot.log"
ok $? "and never sent IDLE to a server that does not offer it"
dovecot_stop
dovecot_start
: > "$LOG"
# The wall clock of this daemon is libfaketime's (the monotonic clock is
# left alone), moved below as a suspend would: setting the machine's own
# clock would disturb every other process on it.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
echo "+0" > "$T_DIR/faketime"
if [ -f "$FAKETIME_LIB" ] && [ "${SANITIZE:-0}" != 1 ]; then
	export LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T_DIR/faketime \
		FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1
fi
start_daemon "$LOG" -F "$MAILRC_FILE"
unset LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC
ok $? "loft daemon starts again, Dovecot offering IDLE" || { diag "$(cat "$LOG")"; done_testing; exit; }
wait_for 15 eval 'grep -q "all folders:" "$LOG"'
ok $? "its first full sync ran"
obs seed Lists/dev 1 idledev >/dev/null
ms=$(arrives 5 "idledev 1")
ok $? "with IDLE on INBOX: a message APPENDed to Lists/dev reaches the store (${ms:-?} ms)" ||
	diag "$(tail -5 "$LOG")"
obs seed INBOX 1 idleinbox >/dev/null
ms=$(arrives 5 "idleinbox 1")
ok $? "and one APPENDed to INBOX (IDLE; ${ms:-?} ms)"

flagged() {
	python3 "$TOP/tests/sync_observer.py" - - - local "$M" Lists/dev |
		grep -q "<dev.1@example.org>.*Flagged"
}
obs store Lists/dev "<dev.1@example.org>" '+\Flagged' >/dev/null
t0=$(date +%s%N)
wait_for 5 flagged
ok $? "a \\Flagged set on the provider in Lists/dev reaches the store ($(( ($(date +%s%N) - t0) / 1000000 )) ms: HIGHESTMODSEQ)"

obs seed Lists/fresh 1 newfolder >/dev/null
ms=$(arrives 8 "newfolder 1")
ok $? "a folder created on the provider matching Lists/* comes with its message (${ms:-?} ms, a full sync)"
is "$(copies "other 1")" 0 "the folder Other, not in sync_folders, is left alone"
for s in "old 1" "dev 1" "noidle 1" "noidledev 1" "idledev 1" "idleinbox 1" "newfolder 1"; do
	[ "$(copies "$s")" = 1 ] || { diag "$s: $(copies "$s") copies"; false; }
done
ok $? "each message is in the store once"

# ---- the wall clock jumps two hours (a suspend and resume) ----
if [ ! -f "$FAKETIME_LIB" ]; then
	skip "libfaketime is not installed (tests/deps.sh): the clock jump is not tested"
elif [ "${SANITIZE:-0}" = 1 ]; then
	skip "libfaketime cannot be preloaded before the sanitizers' runtime"
else
	fulls=$(grep -c "all folders:" "$LOG")
	echo "+2h" > "$T_DIR/faketime"
	t0=$(date +%s%N)
	wait_for 10 eval 'grep -q "the clock moved 7[12][0-9][0-9] s beside the monotonic clock" "$LOG"'
	ok $? "the task notices the wall clock moved 2 h beside the monotonic one ($(( ($(date +%s%N) - t0) / 1000000 )) ms; sync_poll=1s wakes it)" ||
		diag "$(tail -5 "$LOG")"
	wait_for 10 eval '[ "$(grep -c "all folders:" "$LOG")" -gt "$fulls" ]'
	ok $? "and runs a full sync at once, as after a resume"
	obs seed INBOX 1 afterjump >/dev/null
	ms=$(arrives 5 "afterjump 1")
	ok $? "its new IDLE connection brings the next message (${ms:-?} ms)"
fi

kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "SIGTERM: the daemon ends"
! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"
ok $? "no sanitizer report" || diag "$(grep -A5 -E 'Sanitizer|runtime error' "$LOG" | head -20)"

done_testing
