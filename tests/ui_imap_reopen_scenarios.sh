# Reopening an IMAP folder fetches only what changed
# (client/mailbox_imap_fetch.c), against the server tests/imap_server.sh
# starts (IMAP_KIND: loft or dovecot; run by tests/ui_imap_reopen.t and
# tests/ui_imap_reopen_dovecot.t) through a logging proxy
# (tests/imap_logproxy.py) that records every command loft sends:
#   - a reopen of an unchanged folder is one SELECT ... (QRESYNC ...) and
#     no UID FETCH 1:*; a new message, a flag changed and a message
#     expunged on the server while loft was away each show after a reopen,
#     still without a scan of the folder;
#   - a first open lists the UIDs (UID SEARCH ALL, no FLAGS scan); a
#     bigger folder's fetches the headers of the highest UIDs first, shows "Fetching headers N/TOTAL" and answers keys while
#     the rest comes;
#   - a UIDVALIDITY change removes the bodies cached under the old one;
#   - Ctrl-G gives up a body fetch the server holds; imap_timeout;
#   - l ~b WORD is a server SEARCH; without IDLE a NOOP poll;
#   - without CONDSTORE a reopen scans the flags in UID ranges of 5,000
#     and sees the flags set and the messages expunged meanwhile.
# Everything on 127.0.0.1, every process stopped by pid.
. "$TOP/tests/tmux.sh"
. "$TOP/tests/imap_server.sh"

mkmsg() {
	printf 'From: %s <%s@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$2" "$2" "$1" "$3" "$1" "$1"
}
imap_server_start "$IMAP_KIND"
ok $? "$IMAP_KIND serves IMAP on 127.0.0.1:$IMAP_PORT" || { done_testing; exit; }
mkmsg "Alpha report" alice 1 | imap_server_deliver INBOX
mkmsg "Beta plans" bob 2 | imap_server_deliver INBOX
mkmsg "Gamma notes" carol 3 | imap_server_deliver INBOX
PORT=$IMAP_PORT
PW=$IMAP_PW

# The proxy: loft talks to PPORT, the proxy to the server.
PPORT=$(free_port)
CMDS=$T_DIR/commands.log
start_proxy() {	# start_proxy [SLOW_SECS]
	: > "$CMDS"
	bg python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$PORT" "$CMDS" "$@" > "$T_DIR/proxy.out"
	PROXY_PID=$!
	for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && return 0; sleep 0.05; done
	return 1
}
stop_proxy() { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; }
start_proxy
ok $? "the logging proxy listens on 127.0.0.1:$PPORT"

CLIENT_RC=$T_DIR/client.rc
cat > "$CLIENT_RC" <<RC
set folder=$T_DIR/Local imap_listen= smtp_listen=
set imap_password_command='echo $PW'
RC
export LOFTRC=$CLIENT_RC
URL="imap+insecure://$IMAP_USER@127.0.0.1:$PPORT/INBOX"

N=0
open_loft() {	# a fresh tmux server per run of loft
	tmux_stop; N=$((N + 1)); TMUX_SOCK="loft-test-$$-$N"
	tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
		"$LOFT" -f "$URL"
}
quit_loft() { tmux_keys q; tmux_exited 30; }
# The commands loft sent, tags dropped.
sent() { sed -E 's/^[A-Za-z0-9]+ //' "$CMDS"; }

open_loft
tmux_wait 'Gamma notes' 10
ok $? "the first open shows the server's messages"
tmux_wait 'Connected to 127.0.0.1|new messages' 10
quit_loft
ok $? "q leaves loft"
# An empty cache lists the UIDs alone: the flags come with the headers
# (a FLAGS scan of 100,000 messages cost ~50 MB in libetpan's answer).
like "$(sent)" '^UID SEARCH ALL$' "the first open (empty cache) lists the folder's UIDs"
is "$(sent | grep -c 'FETCH 1:\* (UID FLAGS)')" 0 "and scans no flags apart from the headers"

# Unchanged: one SELECT with QRESYNC, no scan.
: > "$CMDS"
open_loft
tmux_wait 'Gamma notes' 5
ok $? "a reopen shows the rows"
tmux_wait 'Connected to 127.0.0.1' 10
ok $? "and connects"
quit_loft
diag "reopen, unchanged: $(sent | grep -v -E '^(LOGIN|AUTHENTICATE|LOGOUT|CAPABILITY|ENABLE|IDLE|DONE)' | tr '\n' ';')"
like "$(sent)" '^SELECT "?INBOX"? \(QRESYNC \([0-9]+ [0-9]+ 1:3\)\)' \
	"the reopen is SELECT INBOX (QRESYNC (uidvalidity modseq known-uids))"
is "$(sent | grep -c 'FETCH')" 0 "and sends no FETCH at all"
# The greeting carries the capabilities: no CAPABILITY before the login.
like "$(sent | head -1)" '^AUTHENTICATE PLAIN' "the first command is the login (the greeting's capabilities used)"

# While loft is away: a new message, a flag set, a message expunged.
mkmsg "Delta arrives" dave 4 | imap_server_deliver INBOX
imap_py "
M.select('INBOX')
typ, d = M.uid('SEARCH', 'SUBJECT', '\"Alpha report\"')
M.uid('STORE', d[0].split()[0], '+FLAGS', '(\\\\Flagged)')
typ, d = M.uid('SEARCH', 'SUBJECT', '\"Beta plans\"')
M.uid('STORE', d[0].split()[0], '+FLAGS', '(\\\\Deleted)')
M.expunge()
" -
: > "$CMDS"
open_loft
tmux_wait 'Delta arrives' 10
ok $? "after a reopen the message delivered meanwhile shows"
tmux_gone 'Beta plans' 5
ok $? "the one expunged meanwhile is gone"
like "$(tmux_screen)" '!  +Jun 01 alice .*Alpha report' "the flag set meanwhile shows"
like "$(tmux_screen)" 'Msgs:3 ' "three rows"
quit_loft
diag "reopen after changes: $(sent | grep -v -E '^(LOGIN|AUTHENTICATE|LOGOUT|CAPABILITY|ENABLE|IDLE|DONE)' | tr '\n' ';')"
is "$(sent | grep -c 'FETCH 1:\*')" 0 "and no UID FETCH 1:* was sent"
# Dovecot names no new UID in a QRESYNC answer when known-uids are given:
# the UIDs above the last known come with one FETCH, not a list of all.
is "$(sent | grep -c 'SEARCH ALL')" 0 "and no UID SEARCH ALL (UIDs past the last known fetched alone)"
like "$(sent)" '^UID FETCH 4 \(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE\)' \
	"only the new message's headers were fetched"

# A UIDVALIDITY change takes the bodies cached under the old one along.
open_loft
tmux_wait 'Gamma notes' 10
tmux_keys -l '/Gamma notes'
tmux_keys Enter Enter
tmux_wait 'body of Gamma notes' 10
ok $? "a message is read (its body cached)"
tmux_keys q
quit_loft
bodies() { find "$T_DIR/home" "$T_DIR/Local" -path '*bodies/*' -type f 2>/dev/null; }
OLD=$(bodies)
[ -n "$OLD" ]
ok $? "the body is in the cache: ${OLD##*/}"
imap_server_new_uidvalidity
ok $? "the server restarts with a new UIDVALIDITY for INBOX"
open_loft
tmux_wait 'UIDVALIDITY changed' 20
ok $? "loft says the UIDVALIDITY changed"
tmux_wait 'Msgs:3 ' 5
ok $? "the rows are read again"
quit_loft
for f in $OLD; do [ ! -e "$f" ] || diag "still there: $f"; done
is "$(for f in $OLD; do [ -e "$f" ] && echo "$f"; done)" "" \
	"the body cached under the old UIDVALIDITY is removed"

# Ctrl-G gives up a request the server is slow to answer: the proxy
# holds every body fetch for 30 s.
stop_proxy
start_proxy 30 BODY.PEEK
ok $? "the proxy restarts, holding body fetches"
open_loft
tmux_wait 'Alpha report' 10
tmux_wait 'Connected to 127.0.0.1' 10
tmux_keys -l '/Alpha report'
tmux_keys Enter Enter
tmux_wait 'Waiting for the server.*Ctrl-G' 5
ok $? "a slow body fetch says how to stop the wait"
t0=$(date +%s%N)
tmux_keys C-g
tmux_wait 'cancelled' 2
ok $? "Ctrl-G stops the wait at once with 'cancelled'"
diag "Ctrl-G to 'cancelled' on screen: $((($(date +%s%N) - t0) / 1000000)) ms"
tmux_keys -l '?'
tmux_wait 'Keys|keys|help' 2
ok $? "keys are answered after it"
tmux_keys q
for _ in $(seq 100); do [ "$(grep -c AUTHENTICATE "$CMDS")" -ge 2 ] && break; sleep 0.1; done
is "$(grep -c AUTHENTICATE "$CMDS")" 2 "the dropped connection is made again"
quit_loft

# imap_timeout bounds a wait nobody cancels.
echo "set imap_timeout=2" >> "$CLIENT_RC"
open_loft
tmux_wait 'Connected to 127.0.0.1' 10
tmux_keys -l '/Delta arrives'
tmux_keys Enter Enter
t0=$(date +%s%N)
tmux_wait 'timeout|timed out' 10
ok $? "with imap_timeout=2 a body fetch held by the server fails by itself"
diag "request to the timeout on screen: $((($(date +%s%N) - t0) / 1000000)) ms"
tmux_wait 'Connected to 127.0.0.1' 10
ok $? "and loft connects again"
quit_loft

# l ~b WORD is a server SEARCH: the body is not fetched (the proxy
# still holds body fetches) nor cached.
printf 'From: erin <erin@example.org>\nTo: me@example.org\nSubject: Epsilon memo\nDate: Mon, 5 Jun 2025 10:00:00 +0000\nMessage-ID: <eps@example.org>\n\nthe zebracorn sleeps\n' |
	imap_server_deliver INBOX
: > "$CMDS"
open_loft
tmux_wait 'Epsilon memo' 10
tmux_wait 'Connected to 127.0.0.1' 10
tmux_keys l
tmux_keys -l '~b zebracorn'
tmux_keys Enter
tmux_gone 'Alpha report' 5
ok $? "l ~b zebracorn hides the messages without the word"
like "$(tmux_screen)" 'Epsilon memo' "and shows the one whose body has it"
quit_loft
like "$(sent)" '^UID SEARCH BODY "zebracorn"' "the server was asked: UID SEARCH BODY \"zebracorn\""
is "$(sent | grep -c 'BODY.PEEK')" 0 "no body was fetched"

# IMAP keywords are the rows' tags: + sets and removes them on the server
# (UID STORE), and one set there shows here.
echo 'set index_format="%4C %Z %-15.15L %s [%g]"' >> "$CLIENT_RC"
kwflags() {	# the FETCH FLAGS of the message with subject $1
	imap_py "
typ, d = M.uid('SEARCH', 'SUBJECT', '\"$1\"')
for u in d[0].split():
    print(M.uid('FETCH', u, '(FLAGS)')[1][0].decode())
"
}
open_loft
tmux_wait 'Connected to 127.0.0.1' 10
tmux_keys -l '/Alpha report'
tmux_keys Enter
tmux_keys -l '+'
tmux_wait 'Tags' 5
tmux_keys -l '+work'
tmux_keys Enter
for _ in $(seq 50); do kwflags "Alpha report" | grep -q work && break; sleep 0.1; done
like "$(kwflags "Alpha report")" 'FLAGS \(.*work' "+work sets the keyword work on the server"
tmux_wait 'Alpha report \[work\]' 5
ok $? "and the row shows it as a tag"
imap_py "
M.select('INBOX')
typ, d = M.uid('SEARCH', 'SUBJECT', '\"Gamma notes\"')
M.uid('STORE', d[0].split()[0], '+FLAGS', '(urgent)')
" -
tmux_wait 'Gamma notes \[urgent\]' 5
ok $? "a keyword set on the server shows as a tag, no key pressed"
tmux_keys -l '/Alpha report'
tmux_keys Enter
tmux_keys -l '+'
tmux_wait 'Tags' 5
tmux_keys -l ' -work'	# (a leading '-' would be an option of tmux)
tmux_keys Enter
for _ in $(seq 50); do kwflags "Alpha report" | grep -q work || break; sleep 0.1; done
is "$(kwflags "Alpha report" | grep -c work)" 0 "-work removes it on the server"
tmux_wait 'Alpha report \[\]' 5
ok $? "and from the row"
quit_loft

# A server without IDLE is polled by NOOP every imap_poll; the refresh
# after news is UID FETCH CHANGEDSINCE, with VANISHED under QRESYNC (the
# proxy hides the capabilities).
echo "set imap_poll=1s" >> "$CLIENT_RC"
poll_case() {	# poll_case STRIP WHAT SUBJECT
	stop_proxy
	PROXY_STRIP=$1 start_proxy
	open_loft
	tmux_wait 'Connected to 127.0.0.1' 10
	mkmsg "$3" frank 6 | imap_server_deliver INBOX
	t0=$(date +%s%N)
	tmux_wait "$3" 15
	ok $? "without $1 new mail still shows ($2)"
	diag "delivery to the row on screen: $((($(date +%s%N) - t0) / 1000000)) ms"
	# imap_poll=1s: three more polls within 6 s (the default is 10 s).
	n0=$(sent | grep -c '^NOOP')
	for _ in $(seq 60); do [ "$(sent | grep -c '^NOOP')" -ge $((n0 + 3)) ] && break; sleep 0.1; done
	[ "$(sent | grep -c '^NOOP')" -ge $((n0 + 3)) ]
	ok $? "a NOOP every imap_poll (1s)"
	quit_loft
	is "$(sent | grep -c '^IDLE')" 0 "no IDLE was sent"
}
poll_case IDLE "QRESYNC" "Zeta polled"
like "$(sent)" '^NOOP' "the poll was a NOOP"
like "$(sent)" '^UID FETCH 1:\* \(UID FLAGS\) \(CHANGEDSINCE [0-9]+ VANISHED\)' \
	"the refresh was UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m VANISHED)"
poll_case "IDLE QRESYNC" "CONDSTORE only" "Eta polled"
like "$(sent)" '^UID FETCH 1:\* \(UID FLAGS\) \(CHANGEDSINCE [0-9]+\)$' \
	"the refresh was UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m)"
is "$(sent | grep -c 'FETCH 1:\* (UID FLAGS)$')" 0 "and never a scan of every message's flags"

# A first open of a bigger folder: the newest headers first, progress,
# keys answered meanwhile.  The proxy slows each header fetch down.
imap_server_mkfolder Big
imap_py "
multiappend('Big', '(\\\\Seen)', [('From: sender%d <s%d@example.org>\\r\\nTo: me@example.org\\r\\n'
             'Subject: Big message %d\\r\\nMessage-ID: <big%d@example.org>\\r\\n'
             'Date: Mon, 2 Jun 2025 10:00:00 +0000\\r\\n\\r\\nbody %d\\r\\n' % (i, i, i, i, i)).encode()
             for i in range(1, 1501)])
" -
stop_proxy
start_proxy 0.5
ok $? "the proxy restarts, slow on header fetches"
URL="imap+insecure://$IMAP_USER@127.0.0.1:$PPORT/Big"
open_loft
tmux_wait 'Fetching headers [0-9]+/1500' 10
ok $? "a first open of 1,500 messages shows its progress"
# (the status line may be drawn a moment before the rows: wait for them;
# the proxy holds each later batch 0.5 s, so they are not in yet)
tmux_wait 'Msgs:500 ' 5
ok $? "the first batch is on screen before the rest"
like "$(tmux_screen)" 'Big message 1001 \[\]$' "and it is the newest 500 (UIDs 1001-1500)"
tmux_keys -l '?'
tmux_wait 'Keys|keys|help' 2
ok $? "keys are answered while the headers come"
tmux_keys q
tmux_wait 'Msgs:1500 ' 20
ok $? "then all 1,500 rows are in"
quit_loft
is "$(grep -m1 ENVELOPE "$CMDS" | grep -c ':1500 ')" 1 "the first header fetch is for the highest UIDs"
diag "header fetches: $(grep ENVELOPE "$CMDS" | sed -E 's/^[A-Za-z0-9]+ UID FETCH ([^ ]+) .*/\1/' | tr '\n' ' ')"

# Without CONDSTORE a reopen scans every message's flags, in UID ranges
# of 5,000 (libetpan holds an answer whole: one UID FETCH 1:* of 100,000
# cost ~50 MB); the flag set and the messages expunged meanwhile show.
imap_py "
multiappend('Big', '(\\\\Seen)', [('From: s%d <s%d@example.org>\\r\\nSubject: Big message %d\\r\\n'
             'Message-ID: <big%d@example.org>\\r\\n\\r\\nbody %d\\r\\n' % (i, i, i, i, i)).encode()
             for i in range(1501, 12001)])
" -
stop_proxy
PROXY_STRIP="CONDSTORE QRESYNC" start_proxy
ok $? "the proxy restarts, hiding CONDSTORE and QRESYNC"
flag_scans() { sent | grep -E '^UID FETCH [0-9:*]+ \(UID FLAGS\)$'; }
open_loft
tmux_wait 'Msgs:12000 ' 120
ok $? "a reopen without CONDSTORE brings 10,500 new messages in"
quit_loft
diag "flag scans: $(flag_scans | tr '\n' ';')"
is "$(flag_scans | tr '\n' ';')" \
	"UID FETCH 1:5000 (UID FLAGS);UID FETCH 5001:10000 (UID FLAGS);UID FETCH 10001:* (UID FLAGS);" \
	"the flags scanned in ranges of 5,000 UIDs up to UIDNEXT"
imap_py "
M.select('Big')
M.uid('STORE', '7000', '+FLAGS', '(\\\\Flagged)')
M.uid('STORE', '3,9000', '+FLAGS', '(\\\\Deleted)')
M.expunge()
" -
: > "$CMDS"
open_loft
tmux_wait 'Msgs:11998 .*Flag:1 ' 60
ok $? "reopened: the two messages expunged meanwhile are gone, the flag set shows"
quit_loft
diag "flag scans: $(flag_scans | tr '\n' ';')"
is "$(flag_scans | tr '\n' ';')" \
	"UID FETCH 1:5000 (UID FLAGS);UID FETCH 5001:10000 (UID FLAGS);UID FETCH 10001:* (UID FLAGS);" \
	"the flags scanned in ranges of 5,000 known messages"
is "$(sent | grep -c ENVELOPE)" 0 "and no header fetched again"
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"

done_testing
