# Shared by tests/sync_pull*.t (sourced after tests/lib.sh): skips without
# root, dovecot-imapd, dovecot-pop3d or socat; starts a private Dovecot
# with IMAP on $PORT and POP3 on $POP3_PORT (with SYNC_PULL_TLS=1 also
# implicit TLS on $TLSPORT and $POP3S_PORT, STLS on $POP3_PORT, the
# certificate $DV/cert.pem) (tests/dovecot_instance.sh, in
# $DV, removed at exit by its own name) with the user ann (annpass1); the
# Sieve script $T_DIR/filter.sieve filing List-Id dev.example.org into
# Lists/dev; and the helpers below.  The store is $M.
[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
{ [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/pop3 ] && command -v socat >/dev/null; } ||
	skip_all "dovecot-imapd, dovecot-pop3d or socat not installed (tests/deps.sh)"

DV=$(mktemp -d /tmp/loft-sync-pull.XXXXXX) || skip_all "mktemp failed"
trap 't_cleanup; case $DV in /tmp/loft-sync-pull.*) rm_settled "$DV" ;; esac' EXIT
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" ann annpass1
PORT=$(free_port) POP3_PORT=$(free_port) TLSPORT=0 POP3S_PORT=0
[ "${SYNC_PULL_TLS:-0}" = 1 ] && TLSPORT=$(free_port) POP3S_PORT=$(free_port)
export POP3_PORT POP3S_PORT
# dovecot_start: starts it (again) and sets pid.
dovecot_start() {
	pid=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$PORT" "$TLSPORT" 2>"$T_DIR/dovecot.err")
	ok $? "a private Dovecot starts (IMAP and POP3)" || { diag "$(head -3 "$T_DIR/dovecot.err")"; done_testing; exit; }
	T_PIDS+=("$pid")
}
dovecot_start

# probe ARGS: tests/sync_pull_probe.py as ann over IMAP.
probe() { python3 "$TOP/tests/sync_pull_probe.py" "$PORT" ann annpass1 "$@"; }
M=$T_DIR/Mail
# copies SUBJECT: how many files in the store have that Subject line.
copies() { grep -rlx -- "Subject: $1" "$M" 2>/dev/null | grep -c '/\(new\|cur\)/'; }
# where SUBJECT: the folder(s) holding it.
where() { grep -rlx -- "Subject: $1" "$M" 2>/dev/null | grep '/\(new\|cur\)/' | sed "s#^$M/##; s#/\(new\|cur\)/.*##"; }
cat > "$T_DIR/filter.sieve" <<'SIEVE'
require ["fileinto", "mailbox"];
if header :contains "List-Id" "dev.example.org" { fileinto :create "Lists/dev"; }
SIEVE
