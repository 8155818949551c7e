# The mail client on an IMAP folder (client/mailbox_imap.c), the same
# scenarios against whichever server tests/imap_server.sh starts
# (IMAP_KIND: loft or dovecot; tests/ui_imap.t and tests/ui_imap_dovecot.t
# source this file).  `loft -f imap+insecure://phone@127.0.0.1:PORT/INBOX`
# with a store of its own: the index shows the server's messages; one is
# read; a multipart one's attachment is saved and its bytes compared; a
# flag, a delete + expunge and a move to another folder of the server
# reach the server (checked with Python's imaplib); a message delivered on the
# server by its own delivery agent while the index is open shows without
# a key press; with the server killed (-9) the keys are still answered,
# the rows stay, what was read stays readable, and loft reconnects by
# itself once the server is back; a new loft with the server down shows
# the rows from the header cache; a UIDVALIDITY change drops them and
# reads the folder again.  With the server hung (SIGSTOP), Ctrl-G gives up
# a read that waits.
# Everything on 127.0.0.1, stopped by pid.
. "$TOP/tests/tmux.sh"
. "$TOP/tests/imap_server.sh"

mkmsg() {
	printf 'From: %s <%s@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$2" "$2" "$1" "$3" "${1// /.}" "$1"
}
# The attachment: every byte value, so a decoding slip shows.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 12)' > "$T_DIR/blob.bin"
mkmultipart() {
	printf 'From: Frank <frank@example.org>\nTo: me@example.org\nSubject: Report attached\n'
	printf 'Date: Mon, 5 Jun 2025 10:00:00 +0000\nMessage-ID: <report@example.org>\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n\n'
	printf -- '--b0\nContent-Type: text/plain\n\nThe numbers are attached.\n'
	printf -- '--b0\nContent-Type: application/octet-stream\n'
	printf 'Content-Disposition: attachment; filename="numbers.bin"\nContent-Transfer-Encoding: base64\n\n'
	base64 "$T_DIR/blob.bin"
	printf -- '--b0--\n'
}

imap_server_start "${IMAP_KIND:?}"
ok $? "$IMAP_KIND serves IMAP on 127.0.0.1:$IMAP_PORT" || { done_testing; exit; }
mkmsg "Alpha report" alice 1 | imap_server_deliver INBOX
mkmsg "Beta plans" bob 2 | imap_server_deliver INBOX
mkmsg "Gamma notes" carol 3 | imap_server_deliver INBOX
mkmultipart | imap_server_deliver INBOX
imap_server_mkfolder Archive

# The client: its own store, the password from a command.
cat > "$T_DIR/client.rc" <<RC
set folder=$T_DIR/Local imap_listen= smtp_listen=
set imap_password_command='echo $IMAP_PW'
RC
export LOFTRC=$T_DIR/client.rc

# until_ok SECS CMD...: runs CMD every 0.1 s until it succeeds.
until_ok() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
flagged() { imap_flags INBOX "$1" | grep -q Flagged; }
gone_from() { [ -z "$(imap_uids "$1" "$2")" ]; }
there() { [ -n "$(imap_uids "$1" "$2")" ]; }
# open_msg SUBJECT: from the index, searches for it and opens it.
open_msg() {
	tmux_keys -l "/$1"
	tmux_keys Enter Enter
}

# Under SANITIZE=1 a report goes to a file checked at the end.
loft_on() {
	tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
		"$LOFT" -f "$IMAP_URL"
}
loft_on
tmux_wait 'Report attached' 10
ok $? "the index shows the server's messages"
S=$(tmux_screen)
like "$S" "alice.*Alpha report" "a row shows the sender and the subject from the ENVELOPE"
like "$S" "carol.*Gamma notes" "the third message is there too"
like "$S" "Msgs:4 " "four messages"

# Read one.
open_msg 'Beta plans'
tmux_wait 'body of Beta plans' 10
ok $? "Enter fetches and shows the message's body"
tmux_keys q
tmux_wait 'Alpha report' 5

# A multipart message: its attachment saved, byte for byte.
open_msg 'Report attached'
tmux_wait 'The numbers are attached' 10
ok $? "a multipart message shows its text part"
tmux_keys v
tmux_wait 'application/octet-stream.*numbers.bin' 5
ok $? "v lists its parts"
tmux_keys j s
tmux_wait 'Save to file: numbers.bin' 5
ok $? "s offers the attachment's file name"
tmux_keys C-u
tmux_keys -l "$T_DIR/saved.bin"
tmux_keys Enter
tmux_wait "Saved $T_DIR/saved.bin" 5
cmp -s "$T_DIR/blob.bin" "$T_DIR/saved.bin"
ok $? "the saved attachment has the sent bytes ($(stat -c %s "$T_DIR/saved.bin" 2>/dev/null) of 3072)"
tmux_keys q q
tmux_wait 'Alpha report' 5

# Flag Beta: the server has \Flagged.
open_msg 'Beta plans'
tmux_wait 'body of Beta plans' 5
tmux_keys q
tmux_wait 'Alpha report' 5
tmux_keys F
until_ok 5 flagged 'Beta plans'
ok $? "F sets \\Flagged on the server"

# Delete and expunge Gamma.
tmux_keys -l '/Gamma notes'
tmux_keys Enter d '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
until_ok 5 gone_from INBOX 'Gamma notes'
ok $? "d then \$ removes the message from the server"
tmux_gone 'Gamma notes' 5
ok $? "and from the index"
like "$(imap_flags INBOX 'Alpha report')" 'FLAGS' "the other messages stay on the server"

# Move Alpha to the server's Archive: s to the folder's URL, a move on
# the server itself.
tmux_keys -l '/Alpha report'
tmux_keys Enter s
tmux_wait 'Save to folder: ' 5
tmux_keys C-u
tmux_keys -l "${IMAP_URL%/INBOX}/Archive"
tmux_keys Enter
tmux_wait '1 message moved to' 10
ok $? "s moves Alpha to the server's Archive"
until_ok 5 gone_from INBOX 'Alpha report'
ok $? "it left the server's INBOX"
there Archive 'Alpha report'
ok $? "and the server's Archive has it"
like "$(imap_py "print(M.uid('FETCH', M.uid('SEARCH', 'ALL')[1][0].split()[0], '(BODY.PEEK[TEXT])')[1][0][1].decode().strip())" Archive)" \
	'^body of Alpha report$' "whole, with its body"
tmux_gone 'Alpha report' 5
ok $? "and it left the index"
like "$(tmux_screen)" 'Msgs:2 ' "two messages left"

# New mail while the index is open, no key pressed.  Dovecot tells an
# idling client about new mail half a second late on purpose (its
# notification delay), so its bound is two seconds.
t0=$(date +%s%N)
mkmsg "Delta arrives" dave 4 | imap_server_deliver INBOX
bound=1
[ "$IMAP_KIND" = dovecot ] && bound=2
tmux_wait 'Delta arrives' "$bound"
ok $? "a message delivered on the server shows within $bound s, no key pressed"
diag "delivery to the row on screen: $((($(date +%s%N) - t0) / 1000000)) ms (the server's delivery agent included)"

# Kill the server: the client keeps answering, then reconnects.  As a
# crash: the server and its connections at once.
imap_server_crash
tmux_wait 'retrying in' 10
ok $? "the dropped connection is said on the message line"
tmux_keys j
tmux_keys -l '?'
tmux_wait 'Keys|keys|help' 5
ok $? "keys are still answered while disconnected"
tmux_keys q
tmux_wait 'Beta plans' 5
ok $? "the rows fetched stay on screen while disconnected"
open_msg 'Beta plans'
tmux_wait 'body of Beta plans' 5
ok $? "a message read before is read again from the cache while disconnected"
tmux_keys q
tmux_wait 'Beta plans' 5
open_msg 'Delta arrives'
tmux_wait 'not connected to 127.0.0.1' 5
ok $? "one never read says the server is not connected"
tmux_wait 'Beta plans' 5
ok $? "and the index stays"
# A change needs the server too: refused at once, the row unchanged.
tmux_keys -l '/Delta arrives'
tmux_keys Enter
tmux_gone 'not connected' 5
tmux_keys F
tmux_wait 'not connected to 127.0.0.1' 5
ok $? "F while disconnected says the server is not connected"
tmux_settle
! tmux_screen | grep -q '!.*Delta arrives'
ok $? "and the row is not shown flagged"
imap_server_restart
ok $? "the server restarts"
tmux_wait 'Connected to 127.0.0.1' 20
ok $? "loft reconnects by itself"
mkmsg "Epsilon after restart" eve 5 | imap_server_deliver INBOX
tmux_wait 'Epsilon after restart' 5
ok $? "and new mail comes again"
like "$(tmux_screen)" 'Msgs:4 ' "four messages, none twice"
OLD_VALIDITY=$(imap_uidvalidity INBOX)

tmux_keys q
tmux_exited 30
ok $? "q leaves loft, the worker stopped"

# The header cache: with the server down, a new loft shows the rows the
# last one saw at once.
imap_server_stop
restart() { tmux_stop; TMUX_SOCK="$TMUX_SOCK.n"; loft_on; }
restart
tmux_wait 'Epsilon after restart' 5
ok $? "reopened with the server down: the rows come from the header cache"
like "$(tmux_screen)" 'Msgs:4 ' "all four, once each"

# UIDVALIDITY changes on the server: the cache's rows are dropped and
# read again, none stale, none twice.
imap_server_new_uidvalidity
ok $? "the server restarts"
NEW_VALIDITY=$(imap_uidvalidity INBOX)
[ -n "$NEW_VALIDITY" ] && [ "$NEW_VALIDITY" != "$OLD_VALIDITY" ]
ok $? "with a new UIDVALIDITY for INBOX ($OLD_VALIDITY, now $NEW_VALIDITY)"
tmux_wait 'UIDVALIDITY changed' 20
ok $? "loft says the UIDVALIDITY changed"
tmux_wait 'Msgs:4 ' 5
ok $? "the rows are read again: four"
S=$(tmux_screen)
once=0
for subj in 'Beta plans' 'Delta arrives' 'Report attached' 'Epsilon after restart'; do
	[ "$(grep -c "$subj" <<<"$S")" = 1 ] || { diag "'$subj' not once"; once=1; }
done
ok "$once" "each of them once, none stale"
open_msg 'Delta arrives'
tmux_wait 'body of Delta arrives' 10
ok $? "a message opens under its new UID"
tmux_keys q
tmux_wait 'Beta plans' 5

# A hung server (stopped, its sockets open): reading a message not cached
# waits for the server, and Ctrl-G gives the wait up at once.
imap_server_freeze STOP
open_msg 'Epsilon after restart'
tmux_keys C-g
tmux_wait 'cancelled' 3
ok $? "Ctrl-G gives up a read waiting on a hung server"
imap_server_freeze CONT
tmux_wait 'body of Epsilon after restart|cancelled' 10
ok $? "once the server answers again, so does loft"
# Back to the index from the help or the pager, whichever is up.
for _ in 1 2 3; do
	tmux_screen | grep -q 'Msgs:4 ' && break
	tmux_keys q
	tmux_settle
done
tmux_wait 'Msgs:4 ' 5
tmux_keys q
tmux_exited 30
ok $? "q leaves loft again"
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
