#!/bin/bash
# The sync task of `loft daemon` for a sync = pull account (IMAP) against a
# private Dovecot: an APPEND on the provider reaches an idling client of
# loft's IMAP server through delivery (time printed, bound < 5 s), and
# `loft sync` run by hand while the task is in the middle of a pull (held
# at the crash point pull:after-fetch by LOFT_CRASH_PAUSE) says "another
# loft sync of up is running" instead of delivering the message a second
# time, and --status shows the task's pulls.  Skipped without root,
# dovecot-imapd, socat or python3 (tests/sync_daemon_setup.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_daemon_setup.sh"

dovecot_start

probe() { python3 "$TOP/tests/sync_pull_probe.py" "$PORT" ann annpass1 "$@"; }
make_mailrc "set imap_listen=127.0.0.1:$LPORT smtp_listen= log_level=info" \
	"set queue_interval=1h shutdown_timeout=5" \
	"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
	"set imap_password_command='echo annpass1'" "set sync=pull pull_after=seen imap_timeout=5" "}"
phone_login
ok $? "loft passwd: a device login for loft's IMAP server"

start_daemon "$LOG" -F "$MAILRC_FILE"
ok $? "loft daemon starts with a sync = pull account" || { diag "$(cat "$LOG")"; done_testing; exit; }
wait_for 10 logged "all folders"
ok $? "the task ran its first full sync"
out=$(sdp push "$LPORT" phone "$DPW" "$PORT" ann annpass1 3 pull 2>&1)
ok $? "three APPENDs on the provider each reach an idling client of loft's IMAP server" ||
	diag "$out" "$(tail -20 "$LOG")"
diag "pull push, provider APPEND -> loft IDLE EXISTS: $(tail -1 <<<"$out") (ms, 3 rounds)"
max=$(sed -n 's/.* max \([0-9.]*\)/\1/p' <<<"$out")
[ -n "$max" ] && awk "BEGIN { exit !($max < 5000) }"
ok $? "each within 5 s (max ${max:-?} ms)"
wait_for 5 eval '[ "$(probe list INBOX | grep -c "Seen")" = 3 ]'
ok $? "pull_after=seen applied upstream by the task"
run_loft sync --status up
like "$OUT" "INBOX: last success [A-Z0-9].*, UIDs up to 3 pulled" "loft sync --status shows the task's pulls" || diag "$OUT"
kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "the daemon stops"

# ---- loft sync by hand while the task is in the middle of a pull ----
probe append INBOX held
LOFT_CRASH_PAUSE=pull:after-fetch start_daemon "$LOG.2" -F "$MAILRC_FILE"
ok $? "the daemon starts again, its task to be held after its FETCH"
task=$(sed -n 's/.*account up: sync task started, pid \([0-9]*\).*/\1/p' "$LOG.2" | head -1)
stopped "$task"
ok $? "the task is held in the middle of the pull (pid ${task:-?})"
# (bounded: without the lock it waited for the held task's notmuch lock)
OUT=$(timeout 20 "$LOFT" sync up 2>"$T_DIR/stderr"); RC=$?; ERR=$(cat "$T_DIR/stderr")
is "$RC" 75 "loft sync up by hand meanwhile: exit 75 (temporary)"
like "$ERR" "another loft sync of up is running" "and it says why"
is "$(copies held)" 0 "it delivered nothing"
kill -CONT "$task"
wait_for 10 eval '[ "$(copies held)" -ge 1 ]'
is "$(copies held)" 1 "the task goes on and delivers the message once"
wait_for 5 eval 'run_loft sync up; [ "$RC" = 0 ]'
like "$OUT" "0 down" "a later loft sync finds nothing new"
kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "SIGTERM stops the daemon"

! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"*
ok $? "no sanitizer report from the daemon or its task" || diag "$(grep -A5 -E 'Sanitizer|runtime error' "$LOG"* | head -20)"

done_testing
