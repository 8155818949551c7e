#!/bin/bash
# The mail client reads a folder on an IMAP server (client/mailbox_imap.c):
# `loft -f imap+insecure://phone@127.0.0.1:PORT/INBOX` against `loft
# daemon`'s IMAP listener on loopback (the daemon's store is not the
# client's).  The index shows the server's messages; a message is read;
# a flag and a delete + expunge reach the server (checked with Python's
# imaplib); a message delivered on the server while the index is open
# shows within a second without a key press; with the daemon killed the
# keys are still answered and the rows stay, and loft reconnects by
# itself once the daemon is back; what was read before stays readable
# from the body cache meanwhile.  A new loft with the server down shows
# the rows from the header cache; a UIDVALIDITY change drops them and
# reads the folder again.  Everything on 127.0.0.1, stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
PW=phone-password-1
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen=" \
	"set hostname=localhost log_level=info queue_interval=1h shutdown_timeout=5"
SERVER_RC=$LOFTRC
LOG=$T_DIR/daemon.log
mkmsg() {
	printf 'From: %s <%s@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$2" "$2" "$1" "$3" "$1" "$1"
}

echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
mkmsg "Alpha report" alice 1 | "$LOFT" deliver
mkmsg "Beta plans" bob 2 | "$LOFT" deliver
mkmsg "Gamma notes" carol 3 | "$LOFT" deliver
start_daemon "$LOG"
ok $? "loft daemon serves IMAP on 127.0.0.1:$PORT" || { diag "$(cat "$LOG")"; done_testing; exit; }

# The client: its own store, the password from a command.
CLIENT_RC=$T_DIR/client.rc
cat > "$CLIENT_RC" <<RC
set folder=$T_DIR/Local imap_listen= smtp_listen=
set imap_password_command='echo $PW'
RC
export LOFTRC=$CLIENT_RC
URL="imap+insecure://phone@127.0.0.1:$PORT/INBOX"

# pane_gone SECS: waits until loft has left (the pane is dead); 0 unless
# it died by a signal or a non-zero status.  (tmux 3.3a sometimes marks the
# pane dead before it has the status: then it is empty.)
pane_gone() {
	local i st
	for ((i = 0; i < $1 * 20; i++)); do
		st=$(tmux -L "$TMUX_SOCK" display -p '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}')
		case $st in 1:0:|1::) return 0 ;; 1:*) diag "loft ended: $st"; return 1 ;; esac
		sleep 0.05
	done
	diag "loft still runs after $1 s"
	return 1
}

# imapcheck PYTHON: runs PYTHON with M logged in to INBOX (selected
# read-only) and prints what it prints.
imapcheck() {
	python3 - "$PORT" "$PW" "$1" <<'PY'
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("phone", sys.argv[2])
M.select("INBOX", readonly=True)
exec(sys.argv[3])
M.logout()
PY
}
# The server's flags of the message with SUBJECT.
server_flags() {
	imapcheck "
typ, d = M.uid('SEARCH', 'SUBJECT', '\"$1\"')
for u in d[0].split():
    t, f = M.uid('FETCH', u, '(FLAGS)')
    print(f[0].decode())
"
}

# Under SANITIZE=1 a report goes to a file checked at the end.
tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
	"$LOFT" -f "$URL"
tmux_wait 'Alpha report' 10
ok $? "the index shows the server's messages"
S=$(tmux_screen)
like "$S" "alice.*Alpha report" "a row shows the sender and the subject from the ENVELOPE"
like "$S" "carol.*Gamma notes" "the third message is there too"

# Read one.
tmux_keys -l '/Beta plans'
tmux_keys Enter Enter
tmux_wait 'body of Beta plans' 10
ok $? "Enter fetches and shows the message's body"
tmux_keys q
tmux_wait 'Alpha report' 5

# Flag it: the server has \Flagged.
tmux_keys F
for _ in $(seq 50); do server_flags "Beta plans" | grep -q Flagged && break; sleep 0.1; done
like "$(server_flags "Beta plans")" 'Flagged' "F sets \\Flagged on the server"

# Delete and expunge Gamma.
tmux_keys -l '/Gamma notes'
tmux_keys Enter d '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
for _ in $(seq 50); do [ -z "$(server_flags "Gamma notes")" ] && break; sleep 0.1; done
is "$(server_flags "Gamma notes")" "" "d then \$ removes the message from the server"
tmux_gone 'Gamma notes' 5
ok $? "and from the index"
like "$(server_flags "Alpha report")" 'FLAGS' "the other messages stay on the server"

# New mail while the index is open, no key pressed.
t0=$(date +%s%N)
mkmsg "Delta arrives" dave 4 | LOFTRC=$SERVER_RC "$LOFT" deliver
tmux_wait 'Delta arrives' 2
ok $? "a message delivered on the server shows within a second or two, no key pressed"
diag "delivery to the row on screen: $((($(date +%s%N) - t0) / 1000000)) ms (loft deliver included)"

# Kill the server: the client keeps answering, then reconnects.
# As a crash: the daemon and its connections at once (by pid).
for p in $(pgrep -P "$DPID"); do kill -9 "$p"; done
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
tmux_wait 'retrying in' 10
ok $? "the dropped connection is said on the message line"
tmux_keys j
tmux_keys -l '?'
tmux_wait 'Keys|keys|help' 5
ok $? "keys are still answered while disconnected"
tmux_keys q
tmux_wait 'Alpha report' 5
ok $? "the rows fetched stay on screen while disconnected"
tmux_keys -l '/Beta plans'
tmux_keys Enter Enter
tmux_wait 'body of Beta plans' 5
ok $? "a message read before is read again from the cache while disconnected"
tmux_keys q
tmux_wait 'Alpha report' 5
tmux_keys -l '/Alpha report'
tmux_keys Enter Enter
tmux_wait 'not connected to 127.0.0.1' 5
ok $? "one never read says the server is not connected"
tmux_wait 'Alpha report' 5
ok $? "and the index stays"
LOFTRC=$SERVER_RC start_daemon "$T_DIR/daemon2.log" -F "$SERVER_RC"
ok $? "the daemon restarts" || diag "$(cat "$T_DIR/daemon2.log")"
tmux_wait 'Connected to 127.0.0.1' 20
ok $? "loft reconnects by itself"
mkmsg "Epsilon after restart" eve 5 | LOFTRC=$SERVER_RC "$LOFT" deliver
tmux_wait 'Epsilon after restart' 5
ok $? "and new mail comes again"

tmux_keys q
pane_gone 30
ok $? "q leaves loft, the worker stopped"

# The header cache: with the server down, a new loft shows the rows the
# last one saw at once.
kill "$DPID"; wait "$DPID" 2>/dev/null
restart() { tmux_stop; TMUX_SOCK="$TMUX_SOCK.n"; tmux_start "$@"; }
restart env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
	"$LOFT" -f "$URL"
tmux_wait 'Epsilon after restart' 5
ok $? "reopened with the server down: the rows come from the header cache"
like "$(tmux_screen)" 'Msgs:4 ' "all four, once each"

# UIDVALIDITY changes on the server (its state rebuilt): the cache's
# rows are dropped and read again, none stale, none twice.
rm -rf "${T_DIR:?}/Mail/.loft/INBOX"
LOFTRC=$SERVER_RC start_daemon "$T_DIR/daemon3.log" -F "$SERVER_RC"
ok $? "the daemon restarts with a new UIDVALIDITY for INBOX"
tmux_wait 'UIDVALIDITY changed' 20
ok $? "loft says the UIDVALIDITY changed"
tmux_wait 'Msgs:4 ' 5
ok $? "the rows are read again: four, none twice"
tmux_keys -l '/Delta arrives'
tmux_keys Enter Enter
tmux_wait 'body of Delta arrives' 10
ok $? "a message opens under its new UID"
tmux_keys q
tmux_wait 'Alpha report' 5
tmux_keys q
pane_gone 30
ok $? "q leaves loft again"
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
