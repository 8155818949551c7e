# The mail client on an IMAP server whose certificate it cannot verify
# (a self-signed one, over imaps:// and imap:// + STARTTLS), against
# whichever server tests/imap_server.sh starts (IMAP_KIND: loft or dovecot;
# tests/ui_imap_tls.t and tests/ui_imap_tls_dovecot.t source this file):
# the folder is refused before any password is sent (the password command
# leaves a mark when it runs and never does; the server logs no login),
# the message line says why and names the fingerprint to pin; with
# imap_fingerprint set to it the folder opens.  Everything on 127.0.0.1,
# stopped by pid.
. "$TOP/tests/tmux.sh"
. "$TOP/tests/imap_server.sh"

imap_server_start "${IMAP_KIND:?}" 1
ok $? "$IMAP_KIND serves IMAP with STARTTLS on $IMAP_PORT and implicit TLS on $IMAPS_PORT" ||
	{ done_testing; exit; }
printf 'From: a@example.org\nSubject: Over TLS\n\nbody over TLS\n' | imap_server_deliver INBOX
FP=$(openssl x509 -in "$IMAP_CERT" -noout -fingerprint -sha256 | sed 's/.*=//')
if [ "$IMAP_KIND" = loft ]; then
	LOG=$T_DIR/daemon.log.1
	grep -q "TLS certificate SHA-256 fingerprint $FP" "$LOG"
	ok $? "the daemon logged its certificate's fingerprint" || diag "$(cat "$LOG")"
fi

MARK=$T_DIR/password-asked
# client [MAILRC-LINE]: the client's mailrc; its password command marks
# $MARK when it runs.
client() {
	{
		echo "set folder=$T_DIR/Local imap_listen= smtp_listen="
		echo "set imap_password_command='touch $MARK; echo $IMAP_PW'"
		printf '%s\n' "$@"
	} > "$T_DIR/client.rc"
}
export LOFTRC=$T_DIR/client.rc
loft_on() {
	tmux_stop
	TMUX_SOCK="$TMUX_SOCK.n"
	tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
		"$LOFT" -f "$1"
}
# 80 columns: the long message wraps over the bottom lines, the
# fingerprint cut anywhere; the checks read it with the blanks and line
# ends taken out.
TMUX_W=80

for url in "imaps://$IMAP_USER@localhost:$IMAPS_PORT/INBOX" "imap://$IMAP_USER@localhost:$IMAP_PORT/INBOX"; do
	scheme=${url%%://*}
	client
	rm -f "$MARK"
	before=$(imap_server_logins)
	loft_on "$url"
	tmux_wait 'not trusted' 10
	ok $? "$scheme: the self-signed certificate is refused"
	S=$(tmux_screen)
	like "$S" "certificate of localhost not trusted: self-signed certificate" "$scheme: the message line says why"
	like "$(tr -d ' \n' <<<"$S")" "pinitwithimap_fingerprintSHA256:$FP;" \
		"$scheme: and names the whole fingerprint to pin"
	! grep -q 'Over TLS' <<<"$S"
	ok $? "$scheme: no message shown"
	[ ! -e "$MARK" ]
	ok $? "$scheme: the password command never ran"
	is "$(imap_server_logins)" "$before" "$scheme: the server saw no login"
done

# Pinned: the fingerprint as the message gave it opens the folder.
client "set imap_fingerprint=SHA256:$FP"
loft_on "imaps://$IMAP_USER@localhost:$IMAPS_PORT/INBOX"
tmux_wait 'Over TLS' 10
ok $? "with imap_fingerprint pinned the folder opens"
[ -e "$MARK" ]
ok $? "the password command ran once the certificate was checked"
[ "$(imap_server_logins)" -gt "$before" ]
ok $? "and the server logged the login (so the counts above were not blind)"
tmux_keys Enter
tmux_wait 'body over TLS' 10
ok $? "and a message is read over TLS"
tmux_keys q q
tmux_stop
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
