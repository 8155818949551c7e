# Shared by tests/sync_daemon*.t (sourced after tests/lib.sh, and after
# tests/tmux.sh when a test uses it): skips without root, dovecot-imapd,
# socat or python3; makes $DV (tests/dovecot_instance.sh's directory,
# removed at exit by its own name) with the user ann (annpass1); picks
# $PORT (Dovecot's IMAP) and $LPORT (loft's IMAP server); and the helpers
# below.  The daemon's log is $LOG, the store $M.
[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd not installed (tests/deps.sh)"
command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v socat >/dev/null || skip_all "socat is not installed (tests/deps.sh)"

DV=$(mktemp -d /tmp/loft-sync-daemon.XXXXXX) || skip_all "mktemp failed"
trap 'declare -F tmux_stop >/dev/null && tmux_stop; t_cleanup
case $DV in /tmp/loft-sync-daemon.*) rm_settled "$DV" ;; esac' EXIT
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" ann annpass1
PORT=$(free_port) LPORT=$(free_port)
LOG=$T_DIR/daemon.log
M=$T_DIR/Mail

# dovecot_start [TLSPORT [WHAT]]: starts Dovecot (again) with the
# dovecot_instance.sh options of the environment (OAUTH2_URL,
# IMAP_CAPABILITY...); sets pid; a failed start ends the test.
dovecot_start() {
	pid=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$PORT" "${1:-0}" 2>"$T_DIR/dovecot.err")
	ok $? "a private Dovecot starts${2:+ ($2)}" ||
		{ diag "$(head -3 "$T_DIR/dovecot.err")"; done_testing; exit; }
	T_PIDS+=("$pid")
}
dovecot_stop() {
	kill "$pid"
	wait_for 10 eval '! kill -0 "$pid" 2>/dev/null'
}

# wait_for SECS CMD...: true once CMD succeeds, polled every 0.1 s (use
# eval '...' for a command substitution to run at each try).
wait_for() {
	local i=$(($1 * 10)); shift
	for _ in $(seq "$i"); do "$@" && return 0; sleep 0.1; done
	return 1
}
obs() { python3 "$TOP/tests/sync_observer.py" "$PORT" ann annpass1 "$@"; }
sdp() { python3 "$TOP/tests/sync_daemon_probe.py" "$@"; }
logged() { grep -q -- "$1" "$LOG"; }
# copies SUBJECT: how many files in the store have that Subject line (the
# mirror sync keeps the server's CRLF, delivery writes LF).
copies() { grep -rlE -- "^Subject: $1"$'\r?$' "$M" 2>/dev/null | grep -c '/\(new\|cur\)/'; }
# phone_login: the device login phone ($DPW) at loft's IMAP server.
DPW=phone-password-1
phone_login() { echo "$DPW" | "$LOFT" passwd --stdin phone >/dev/null; }
