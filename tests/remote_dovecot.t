#!/bin/bash
# remote/ against a private Dovecot (tests/dovecot_instance.sh: plaintext
# IMAP on 127.0.0.1, no STARTTLS): imap:// is refused there before any
# credential, imap+insecure:// logs in with AUTHENTICATE PLAIN and enables
# QRESYNC, LIST-STATUS counts follow a message dropped into the maildir,
# IDLE wakes when another arrives.  Skipped without root or dovecot-imapd.
. "$TOP/tests/lib.sh"

TOOL=$BUILD/tests/remotetool
[ -x "$TOOL" ] || skip_all "$TOOL is not built (make build/tests/remotetool)"
[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
{ [ -x /usr/lib/dovecot/imap ] && command -v socat >/dev/null; } ||
	skip_all "dovecot-imapd or socat not installed (tests/deps.sh)"

# Dovecot's users must traverse it: a fresh directory of its own in /tmp,
# removed (by its own name only) at the end.
DV=$(mktemp -d /tmp/loft-remote-dovecot.XXXXXX) || skip_all "mktemp failed"
trap 't_cleanup; case $DV in /tmp/loft-remote-dovecot.*) rm_settled "$DV" ;; esac' EXIT
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" ann annpass1
PORT=$(free_port)
pid=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$PORT" 2>"$T_DIR/dovecot.err")
ok $? "a private Dovecot starts" || { diag "$(head -3 "$T_DIR/dovecot.err")"; done_testing; exit; }
T_PIDS+=("$pid")

MARK=$T_DIR/password-asked
echo "set imap_password_command='touch $MARK; echo annpass1'" > "$T_DIR/client.rc"
rt() { OUT=$(timeout 30 "$TOOL" -F "$T_DIR/client.rc" "$@" 2>&1); RC=$?; }

rt connect "imap://ann@127.0.0.1:$PORT/INBOX"
like "$OUT" "does not offer STARTTLS: refusing to log in in plaintext" "imap:// to Dovecot without STARTTLS: refused"
[ ! -e "$MARK" ]; ok $? "no password fetched"

rt connect "imap+insecure://ann@127.0.0.1:$PORT/INBOX"
is "$OUT" "connected tls=plain condstore=1 qresync=1" "imap+insecure:// logs in; CONDSTORE and QRESYNC enabled"

# A message dropped into ann's maildir as a delivery agent would.
drop() {
	local f
	install -d -o mail -g mail "$DV/mail/ann" "$DV/mail/ann/new" "$DV/mail/ann/cur" "$DV/mail/ann/tmp"
	f=$DV/mail/ann/new/$(date +%s).$RANDOM.remote-test
	printf 'From: x@example.org\nSubject: %s\n\nbody\n' "$1" > "$f.tmp"
	chown mail:mail "$f.tmp" && mv "$f.tmp" "$f"
}
drop one
rt list "imap+insecure://ann@127.0.0.1:$PORT/INBOX"
like "$OUT" "^folder INBOX messages 1 unseen 1 uidnext 2 uidvalidity [0-9]+\$" "LIST-STATUS: INBOX counts the new message"
like "$OUT" "^folder Sent messages 0 unseen 0" "and the special-use folders"

IOUT=$T_DIR/idle.out
bg timeout 30 "$TOOL" -F "$T_DIR/client.rc" idle "imap+insecure://ann@127.0.0.1:$PORT/INBOX" 10 > "$IOUT" 2>&1
IPID=$!
for _ in $(seq 100); do grep -q '^idling' "$IOUT" && break; sleep 0.1; done
t0=$(date +%s%N)
drop two
wait "$IPID"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
like "$(cat "$IOUT")" "^news exists 2 after" "IDLE on Dovecot reports the new message (EXISTS 2)"
[ "$ms" -lt 3000 ]
ok $? "from the drop to the IDLE client's return: $ms ms (Dovecot notices new mail on its own timer)"
like "$(cat "$IOUT")" "^idle done" "DONE answered"

done_testing
