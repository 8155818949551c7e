#!/bin/bash
# The sync task of `loft daemon` (daemon/daemon_sync.c) against a private
# Dovecot as the provider, with imaplib as the client of both servers
# (tests/sync_daemon_probe.py): the first full sync at start; IDLE push, an
# APPEND on the provider reaching an idling client of loft's own IMAP
# server (end to end time printed, bound < 5 s); a flag set through loft
# reaching the provider; `loft sync` by hand beside the task (done or
# "another loft sync ... is running", never a duplicate) and --status
# showing the task's runs; the provider stopped and started again (the
# task backs off, reconnects, runs the password command again and syncs);
# the task killed (restarted by the daemon), SIGHUP (restarted on the new
# settings), SIGTERM (stopped).  The password command stands in for
# imap_oauth_token_command: both run on every login (remote/auth.c), and
# tests/sync_daemon_oauth.t tests OAuth itself.  Skipped without root,
# dovecot-imapd, socat or python3 (tests/sync_daemon_setup.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_daemon_setup.sh"

dovecot_start

RUNS=$T_DIR/password-runs
rc_file() {	# rc_file INTERVAL
	make_mailrc "set imap_listen=127.0.0.1:$LPORT smtp_listen= log_level=info" \
		"set queue_interval=1h shutdown_timeout=5" \
		"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
		"set imap_password_command='echo run >> $RUNS; echo annpass1'" \
		"set sync=mirror sync_interval=$1 imap_timeout=5" "}"
}
rc_file 30s
phone_login
ok $? "loft passwd: a device login for loft's IMAP server"
obs seed INBOX 3 old >/dev/null

local_count() { ls "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" 2>/dev/null | grep -vc '^$\|:$'; }
task_pids() { sed -n 's/.*account up: sync task started, pid \([0-9]*\).*/\1/p' "$LOG"; }

# ---- start: a full sync ----
start_daemon "$LOG" -F "$MAILRC_FILE"
ok $? "loft daemon starts with a sync = mirror account" || { diag "$(cat "$LOG")"; done_testing; exit; }
[[ $(cat "$LOG") != *"not built yet"* ]]; ok $? "no 'not built yet' warning for the account"
wait_for 10 logged "account up: sync task started"
ok $? "one sync task started for account up"
wait_for 15 eval '[ "$(local_count)" -ge 3 ]'
is "$(local_count)" 3 "the first full sync copied the provider's three messages"

# ---- IDLE push: provider APPEND -> EXISTS on loft's own IDLE ----
out=$(sdp push "$LPORT" phone "$DPW" "$PORT" ann annpass1 5 push 2>&1)
ok $? "five APPENDs on the provider each reach an idling client of loft's IMAP server" ||
	diag "$out" "$(tail -20 "$LOG")"
diag "push, provider APPEND -> loft IDLE EXISTS: $(tail -1 <<<"$out") (ms, 5 rounds)"
max=$(sed -n 's/.* max \([0-9.]*\)/\1/p' <<<"$out")
[ -n "$max" ] && awk "BEGIN { exit !($max < 5000) }"
ok $? "each within 5 s (max ${max:-?} ms; the goal is 1 s)"
is "$(sdp count "$LPORT" phone "$DPW")" 8 "loft's INBOX holds the 3 + 5 messages once each"
"$LOFT" search 'subject:"push 4"' > "$T_DIR/search" 2>&1
like "$(cat "$T_DIR/search")" "push 4" "the pushed message is indexed by notmuch"

# ---- a local flag reaches the provider ----
ms=$(sdp flag "$LPORT" phone "$DPW" "$PORT" ann annpass1 "<old.1@example.org>" 2>&1)
ok $? "a \\Flagged set through loft's IMAP server reaches the provider" || diag "$ms"
diag "local flag -> provider: $ms ms (1 s of it is the debounce)"

# ---- loft sync by hand beside the task; --status ----
bad=0
for _ in 1 2 3; do
	run_loft sync up
	case $RC in
	0) ;;
	75) [[ $ERR == *"another loft sync of up is running"* ]] || bad=1 ;;
	*) bad=1 ;;
	esac
done
is "$bad" 0 "loft sync by hand: done, or 'another loft sync of up is running' (exit 75)"
obs dump INBOX > "$T_DIR/remote.dump"
python3 "$TOP/tests/sync_observer.py" - - - local "$T_DIR/Mail" INBOX > "$T_DIR/local.dump"
is "$(grep -c '^INBOX' "$T_DIR/local.dump")" 8 "still each message once in the store"
is "$(grep -c '^INBOX' "$T_DIR/remote.dump")" 8 "and once on the provider"
run_loft sync --status up
like "$OUT" "INBOX: last success $(date +%Y-%m-%d)" "--status shows the task's last success"

# ---- the provider goes away and comes back ----
runs_before=$(wc -l < "$RUNS")
kill "$pid"
wait_for 10 eval '! kill -0 "$pid" 2>/dev/null'
obs_down_start=$(date +%s)
wait_for 20 logged "trying again in 2 s"
ok $? "with the provider down the task backs off (1 s, 2 s...)" || diag "$(tail -5 "$LOG")"
dovecot_start 0 "again"
obs seed INBOX 1 back >/dev/null
wait_for 40 eval '[ "$(local_count)" -ge 9 ]'
is "$(local_count)" 9 "the task reconnected and synced the message appended meanwhile"
diag "provider down for $(( $(date +%s) - obs_down_start )) s in all"
runs_after=$(wc -l < "$RUNS")
[ "$runs_after" -gt "$runs_before" ]
ok $? "the password command ran again for the new logins ($runs_before -> $runs_after runs)"
out=$(sdp push "$LPORT" phone "$DPW" "$PORT" ann annpass1 1 after 2>&1)
ok $? "IDLE push works again after the reconnect ($(tail -1 <<<"$out"))" || diag "$out"

# ---- the task dies: the daemon starts it again ----
first=$(task_pids | tail -1)
kill -9 "$first"
wait_for 10 eval '[ "$(task_pids | wc -l)" -ge 2 ]'
ok $? "a task killed with -9 is started again by the daemon"
like "$(cat "$LOG")" "the sync task ended; starting it again in 1 s" "after 1 s"

# ---- SIGHUP: the task restarts on the new settings ----
before=$(task_pids | wc -l)
RUNS=$T_DIR/password-runs-2 rc_file 30s
kill -HUP "$DPID"
wait_for 10 eval '[ "$(task_pids | wc -l)" -gt "$before" ]'
ok $? "SIGHUP: the task is started again"
wait_for 10 test -s "$T_DIR/password-runs-2"
ok $? "on the new settings (its password command is the new one)"
old=$(task_pids | tail -2 | head -1)
! kill -0 "$old" 2>/dev/null
ok $? "and the old task is gone"

# ---- SIGTERM stops everything ----
last=$(task_pids | tail -1)
kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "SIGTERM: the daemon ends"
! kill -0 "$last" 2>/dev/null
ok $? "and its sync task with it"

! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"*
ok $? "no sanitizer report from the daemon or its task" || diag "$(grep -A5 -E 'Sanitizer|runtime error' "$LOG"* | head -20)"

done_testing
