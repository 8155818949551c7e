#!/bin/bash
# `loft sync --status` of a mirror account against a private Dovecot: per
# folder the last success, the last error and what is pending (new,
# changed and expunged messages of the store not synced yet, copies in
# flight); and the account's own errors -- the server unreachable, the
# login refused -- recorded in the sync state by `loft sync` and by the
# daemon's sync task alike, shown by --status, cleared by the next
# success.  --status reads the state beside a running sync (no lock).
# Skipped without root, dovecot-imapd or python3 (tests/sync_lib.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
obs seed INBOX 3 in
today=$(date +%Y-%m-%d)
SYNC_FOLDERS=INBOX store_rc a
status() { run_loft -F "$T_DIR/a/mailrc" sync --status; }

lsync a
is "$RC" 0 "a first sync exits 0" || diag "$ERR"
status
is "$RC" 0 "--status exits 0" || diag "$ERR"
like "$OUT" "^  \(account\): last success $today [0-9:]*\$" \
	"the account's last success, no error" || diag "$OUT"
like "$OUT" "^  INBOX: last success $today [0-9:]*, 3 messages paired, 0 kept on one side, pending here: 0 new, 0 changed, 0 expunged, 0 in flight\$" \
	"INBOX: last success, pairs, nothing pending" || diag "$OUT"

# Pending: a new message, a flag change and an expunge in the store.
M=$T_DIR/a/Mail
printf 'From: me@example.org\nSubject: local\nMessage-ID: <lnew.1@example.org>\n\nhello\n' \
	> "$M/INBOX/new/100.local.test"
lflags "$T_DIR/a" INBOX in.1@ FS
rm "$(lfile "$T_DIR/a" INBOX in.2@)"
status
like "$OUT" "INBOX: .*pending here: 1 new, 1 changed, 1 expunged, 0 in flight\$" \
	"--status counts what waits in the store: 1 new, 1 changed, 1 expunged" || diag "$OUT"
lsync a
is "$RC" 0 "the next sync exits 0" || diag "$ERR"
status
like "$OUT" "INBOX: .*pending here: 0 new, 0 changed, 0 expunged, 0 in flight\$" \
	"after it nothing is pending" || diag "$OUT"

# The server unreachable: an account error, with its time.
dovecot_stop
lsync a
is "$RC" 75 "with the server down loft sync exits 75"
status
like "$OUT" "^  \(account\): last success $today [0-9:]*, last error $today [0-9:]*: .*127\.0\.0\.1.*" \
	"--status shows the account's error (server unreachable) and its time" || diag "$OUT"
like "$OUT" "^  INBOX: last success $today" "the folder keeps its last success"

# Back, then the login refused.
dovecot_start
lsync a
is "$RC" 0 "with the server back the sync exits 0" || diag "$ERR"
status
like "$OUT" "^  \(account\): last success $today [0-9:]*\$" "a success clears the account's error" ||
	diag "$OUT"
SYNC_FOLDERS=INBOX store_rc a "" "imap_password_command='echo wrong'"
lsync a
is "$RC" 75 "a refused login exits 75"
status
like "$OUT" "^  \(account\): .*last error $today [0-9:]*: .*(login|LOGIN|auth|AUTH)" \
	"--status shows the refused login" || diag "$OUT"
SYNC_FOLDERS=INBOX store_rc a
lsync a
status
like "$OUT" "^  \(account\): last success $today [0-9:]*\$" "cleared again by the next success" ||
	diag "$OUT"

# The daemon's task records the account's error too.
LPORT=$(free_port)
SYNC_FOLDERS=INBOX store_rc d "" "sync_interval=1h imap_timeout=3"
sed -i "s/^set folder=.*/& imap_listen=127.0.0.1:$LPORT smtp_listen= queue_interval=1h/" "$T_DIR/d/mailrc"
dstatus() { run_loft -F "$T_DIR/d/mailrc" sync --status; }
dovecot_stop
start_daemon "$T_DIR/daemon.log" -F "$T_DIR/d/mailrc"
ok $? "loft daemon starts with the server down" || diag "$(cat "$T_DIR/daemon.log")"
for _ in $(seq 100); do
	dstatus
	[[ $OUT == *"(account): last success never, last error"* ]] && break
	sleep 0.1
done
like "$OUT" "^  \(account\): last success never, last error $today [0-9:]*: " \
	"the daemon's task records the account error for --status" || diag "$OUT" "$(tail -5 "$T_DIR/daemon.log")"
is "$RC" 0 "--status reads the state beside the daemon's task"
dovecot_start
for _ in $(seq 150); do
	dstatus
	[[ $OUT == *"(account): last success $today"*" INBOX: last success $today"* ]] && break
	sleep 0.2
done
like "$OUT" "^  \(account\): last success $today [0-9:]*\$" \
	"after the server is back the task's success clears it" || diag "$OUT" "$(tail -5 "$T_DIR/daemon.log")"

done_testing
