# The last gaps of the client on an IMAP folder (issue 12), the same
# scenarios against whichever server tests/imap_server.sh starts
# (IMAP_KIND: loft or dovecot; tests/ui_imap_gaps.t and
# tests/ui_imap_gaps_dovecot.t source this file), the server's state
# checked with Python's imaplib and what loft sent read from a logging
# proxy (tests/imap_logproxy.py):
#  1. a purge (d then $) moves the message to the account's own \Trash
#     folder by the server's MOVE, without its \Deleted mark, and nothing
#     goes to the local store's Trash;
#  2. R with two drafts in the account's \Drafts lists both (newest
#     first) and recalls the one chosen, not only the newest;
#  3. the folder list (c then ?) whose LIST the proxy holds says it waits
#     and Ctrl-G gives it up at once; the connection made again says so
#     ("Connected to HOST again; ...", twice: the same words are news
#     again), the index answers keys after, and the list comes once the
#     server answers again;
#  4. through a proxy that takes UIDPLUS and MOVE out of the capabilities
#     and answers UID EXPUNGE and UID MOVE with BAD: with a message another
#     client marked \Deleted in the folder, a purge moves nothing, sends no
#     EXPUNGE and says why (a plain EXPUNGE would remove that message
#     too); once that mark is gone the purge and an s move go through with
#     COPY, \Deleted and a plain EXPUNGE, and the other message stays;
#     u then d on a message another client marked takes it into the purge;
#  5. through a proxy without MOVE (UIDPLUS kept): the purge is UID COPY,
#     \Deleted and UID EXPUNGE of that UID only, the copy unmarked.
# With IMAP_KIND=loft, R's list on a folder of the local store as well.
# Everything on 127.0.0.1, stopped by pid.
. "$TOP/tests/tmux.sh"
. "$TOP/tests/imap_server.sh"

mkmsg() {
	printf 'From: %s <%s@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$2" "$2" "$1" "$3" "${1// /.}" "$1"
}

imap_server_start "${IMAP_KIND:?}"
ok $? "$IMAP_KIND serves IMAP on 127.0.0.1:$IMAP_PORT" || { done_testing; exit; }
mkmsg "Alpha report" alice 1 | imap_server_deliver INBOX
mkmsg "Beta plans" bob 2 | imap_server_deliver INBOX
mkmsg "Gamma notes" carol 3 | imap_server_deliver INBOX
mkmsg "Delta memo" dave 4 | imap_server_deliver INBOX
imap_server_mkfolder Archive
like "$(imap_py 'print(M.list()[1])' -)" 'Trash' "the server has a Trash folder"

# proxy NAME [SLOW WORD]: a logging proxy to the server on a port of its
# own (PROXY_PORT), its log $T_DIR/NAME.log; the environment's PROXY_*
# settings apply.
proxy() {
	PROXY_PORT=$(free_port)
	bg python3 "$TOP/tests/imap_logproxy.py" "$PROXY_PORT" "$IMAP_PORT" "$T_DIR/$1.log" \
		"${2:-0}" "${3:-ENVELOPE}" > "$T_DIR/$1.ready"
	for _ in $(seq 100); do grep -q ready "$T_DIR/$1.ready" && break; sleep 0.05; done
}
PROXY_HOLD_FILE=$T_DIR/hold proxy plain 60 LIST
URL="imap+insecure://$IMAP_USER@127.0.0.1:$PROXY_PORT/INBOX"

# The client: its own store, the password from a command; trash and
# postponed as they come (+Trash, +Drafts).
cat > "$T_DIR/client.rc" <<RC
set folder=$T_DIR/Local imap_listen= smtp_listen=
set imap_password_command='echo $IMAP_PW'
set from=me@example.org smarthost= local_domains=example.org queue_interval=1h
RC
export LOFTRC=$T_DIR/client.rc
cat > "$T_DIR/editor" <<'SH'
#!/bin/sh
printf 'Written in the editor.\n' >> "$1"
SH
chmod +x "$T_DIR/editor"
export EDITOR=$T_DIR/editor

# until_ok SECS CMD...: runs CMD every 0.1 s until it succeeds.
until_ok() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
gone_from() { [ -z "$(imap_uids "$1" "$2")" ]; }
count_in() { imap_uids "$1" "$2" | wc -w; }
# mark SUBJECT +|-: another client sets or clears \Deleted on it in INBOX.
mark() {
	imap_py "
M.select('INBOX')
typ, d = M.uid('SEARCH', 'SUBJECT', '\"$1\"')
for u in d[0].split():
    M.uid('STORE', u, '${2}FLAGS.SILENT', '(\\\\Deleted)')
" -
}
loft_on() {
	tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
		"$LOFT" -f "$1"
}
# select SUBJECT: moves the cursor to it.
select_msg() {
	tmux_keys -l "/$1"
	tmux_keys Enter
}
quit_loft() {
	tmux_keys q
	tmux_exited 10
	tmux_stop
}

# ---- 1. the purge goes to the account's \Trash ----
loft_on "$URL"
tmux_wait 'Delta memo' 10
ok $? "the index shows the server's INBOX"
tmux_wait 'Connected to 127.0.0.1' 10
select_msg 'Alpha report'
tmux_keys d
tmux_keys -l '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
tmux_wait '1 message moved to Trash' 10
ok $? "d then \$ says the message moved to the account's Trash"
until_ok 5 gone_from INBOX "Alpha report"
ok $? "the server's INBOX no longer has it"
is "$(count_in Trash "Alpha report")" 1 "the server's Trash has it, once"
unlike "$(imap_flags Trash "Alpha report")" 'Deleted' "without the \\Deleted mark"
is "$(find "$T_DIR/Local" -path '*Trash/*' -type f ! -path '*/.loft/*' 2>/dev/null | wc -l)" 0 \
	"nothing went to the local store's Trash"
like "$(cat "$T_DIR/plain.log")" 'UID STORE [0-9]+ -FLAGS.SILENT \(\\Deleted\)' \
	"the mark was taken off first"
like "$(cat "$T_DIR/plain.log")" 'UID MOVE [0-9]+ (Trash|"Trash")' "then one UID MOVE to Trash"

# ---- 2. R lists the drafts ----
postpone() {
	tmux_keys m
	tmux_wait '^To:' 5
	tmux_keys -l 'dora@example.org'
	tmux_keys Enter
	tmux_wait '^Subject:' 5
	tmux_keys -l "$1"
	tmux_keys Enter
	tmux_wait 'y:send' 10
	tmux_keys P
	tmux_wait 'Message postponed' 10
}
postpone 'Draft one'
ok $? "a first message is postponed"
postpone 'Draft two'
ok $? "and a second one"
is "$(count_in Drafts 'Draft')" 2 "the server's Drafts holds both"
tmux_keys R
tmux_wait 'postponed messages' 15
ok $? "R with two drafts shows the postponed list"
S=$(tmux_screen)
like "$(echo "$S" | sed -n 1p)" '^ +1  .*dora@example.org +Draft two' "the newest first"
like "$(echo "$S" | sed -n 2p)" '^ +2  .*dora@example.org +Draft one' "then the older one"
tmux_keys j Enter
tmux_wait 'Subject: Draft one' 15
ok $? "j then Enter recalls the older draft, not the newest"
tmux_keys q
tmux_wait 'Abort unmodified message' 5
tmux_keys y
tmux_wait 'Message not sent' 5
is "$(count_in Drafts 'Draft')" 2 "an aborted recall leaves both drafts on the server"
tmux_keys R
tmux_wait 'postponed messages' 15
tmux_keys q
tmux_gone 'postponed messages' 5
ok $? "q leaves the list without recalling"
tmux_wait 'Delta memo' 5
ok $? "back in the index"

# ---- 3. Ctrl-G gives up a folder list the server holds ----
# held_list: the proxy holds the next LIST; `c` then `?` asks for the
# folder list, and the screen says it waits (the status of that wait).
held_list() {
	selects=$(grep -c ' SELECT ' "$T_DIR/plain.log")
	touch "$T_DIR/hold"
	tmux_keys c
	tmux_wait 'Open mailbox' 5
	tmux_keys -l '?'
	tmux_wait 'Waiting for the server' 10
}
held_list
ok $? "the folder list held by the server: the wait is shown"
[ ! -e "$T_DIR/hold" ]
ok $? "the proxy holds the LIST"
t0=$(date +%s%N)
tmux_keys C-g
tmux_wait 'cancelled' 3
ok $? "Ctrl-G gives it up"
t1=$(date +%s%N)
ok "$(( (t1 - t0) / 1000000 < 2000 ? 0 : 1 ))" "within 2 s ($(( (t1 - t0) / 1000000 )) ms) while the LIST is still held"
unlike "$(tmux_screen)" 'loft: folders|Waiting for the server' "no stale folder list is shown"
selected_again() { [ "$(grep -c ' SELECT ' "$T_DIR/plain.log")" -gt "$selects" ]; }
until_ok 30 selected_again
ok $? "the connection given up is made again (a new SELECT)"
tmux_wait "Connected to 127.0.0.1 again; the request was cancelled" 10
ok $? "the connection made again says so"
# Enter once the worker has the folder again (before, a read says "not
# connected" and the index stays).
select_msg 'Gamma notes'
for _ in $(seq 30); do
	tmux_keys Enter
	tmux_wait 'body of Gamma notes' 1 >/dev/null && break
done
tmux_wait 'body of Gamma notes' 1
ok $? "the index answers keys after: Enter reads a message"
tmux_keys q
# A second cancel: its reconnection, in the same words, says so too.
tmux_gone "again; the request was cancelled" 5
ok $? "the first reconnection's words are gone from the screen"
held_list
tmux_keys C-g
tmux_wait 'cancelled' 3
until_ok 30 selected_again
tmux_wait "Connected to 127.0.0.1 again; the request was cancelled" 10
ok $? "a second cancel's reconnection says so as well"
tmux_keys c
tmux_wait 'Open mailbox' 5
tmux_keys -l '?'
tmux_wait 'loft: folders' 15
ok $? "c then ? lists the folders once the server answers"
like "$(tmux_screen)" 'Archive' "the account's folders"
tmux_keys q
quit_loft

# ---- 4. a server without UIDPLUS and MOVE ----
PROXY_STRIP="UIDPLUS MOVE" PROXY_REFUSE="UID EXPUNGE,UID MOVE" proxy bare
BARE="imap+insecure://$IMAP_USER@127.0.0.1:$PROXY_PORT/INBOX"
like "$(python3 -c 'import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
print(M.capabilities)
M.logout()' "$PROXY_PORT")" 'IMAP4' "the bare proxy answers"
unlike "$(python3 -c 'import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login(sys.argv[2], sys.argv[3])
print(M.capabilities)
M.logout()' "$PROXY_PORT" "$IMAP_USER" "$IMAP_PW")" 'UIDPLUS|MOVE' "and offers neither UIDPLUS nor MOVE"
mark 'Beta plans' +
like "$(imap_flags INBOX 'Beta plans')" 'Deleted' "another client marked Beta \\Deleted"
loft_on "$BARE"
tmux_wait 'Delta memo' 10
ok $? "the index shows INBOX through the bare proxy"
tmux_wait 'Connected to 127.0.0.1' 10
select_msg 'Gamma notes'
tmux_keys d
tmux_keys -l '$'
tmux_wait 'Purge 1 deleted message' 5
ok $? "the purge counts only the message deleted here"
tmux_keys y
tmux_wait 'nothing moved' 10
ok $? "with another message marked, the purge moves nothing"
like "$(tmux_screen | tr -d '\n')" '1 other message is marked deleted' "and says why"
is "$(count_in INBOX 'Gamma notes')" 1 "the message is still in the server's INBOX"
like "$(imap_flags INBOX 'Gamma notes')" 'Deleted' "marked deleted as the user left it"
is "$(count_in INBOX 'Beta plans')" 1 "the other client's message is still there"
is "$(count_in Trash 'Gamma notes')" 0 "nothing was copied to Trash"
unlike "$(grep -E '^[^ ]+ (UID )?EXPUNGE' "$T_DIR/bare.log")" '.' "no EXPUNGE was sent"

mark 'Beta plans' -
tmux_keys -l '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
tmux_wait '1 message moved to Trash' 10
ok $? "once no other message is marked, the purge goes through"
until_ok 5 gone_from INBOX "Gamma notes"
ok $? "the message left the server's INBOX"
is "$(count_in Trash 'Gamma notes')" 1 "it is in Trash, once"
unlike "$(imap_flags Trash 'Gamma notes')" 'Deleted' "without the \\Deleted mark"
is "$(count_in INBOX 'Beta plans')" 1 "the other message stays"
L=$(sed -n 's/^[^ ]* //p' "$T_DIR/bare.log" | tr '\n' ';')
like "$L" 'UID COPY [0-9]+ "?Trash"?;UID STORE [0-9]+ \+FLAGS.SILENT \(\\Deleted\);UID SEARCH DELETED;EXPUNGE;' \
	"COPY, \\Deleted, SEARCH DELETED, then a plain EXPUNGE"
unlike "$L" 'UID (MOVE|EXPUNGE)' "never UID MOVE or UID EXPUNGE"

select_msg 'Delta memo'
tmux_keys s
tmux_wait 'Save to folder: \+' 5
tmux_keys -l 'Archive'
tmux_keys Enter
tmux_wait '1 message moved to \+Archive' 10
ok $? "s moves to another folder without MOVE"
until_ok 5 gone_from INBOX "Delta memo"
ok $? "gone from the server's INBOX"
is "$(count_in Archive 'Delta memo')" 1 "in its Archive, once"
is "$(count_in INBOX 'Beta plans')" 1 "the other message still stays"

# Another client's mark taken over here (u then d) joins the purge.
mark 'Beta plans' +
tmux_wait ' D .*Beta plans' 10
ok $? "the other client's mark shows in the index (pushed)"
select_msg 'Beta plans'
tmux_keys u
select_msg 'Beta plans'
tmux_keys d
tmux_keys -l '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
tmux_wait '1 message moved to Trash' 10
ok $? "u then d takes it over: the purge goes through"
until_ok 5 gone_from INBOX "Beta plans"
ok $? "it left the server's INBOX"
is "$(count_in Trash 'Beta plans')" 1 "and is in Trash, once"
quit_loft

# ---- 5. UIDPLUS but no MOVE: the purge is COPY, \Deleted, UID EXPUNGE ----
mkmsg "Epsilon note" erin 5 | imap_server_deliver INBOX
PROXY_STRIP="MOVE" PROXY_REFUSE="UID MOVE" proxy nomove
loft_on "imap+insecure://$IMAP_USER@127.0.0.1:$PROXY_PORT/INBOX"
tmux_wait 'Epsilon note' 10
ok $? "the index shows INBOX through a proxy without MOVE"
tmux_wait 'Connected to 127.0.0.1' 10
select_msg 'Epsilon note'
tmux_keys d
tmux_keys -l '$'
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
tmux_wait '1 message moved to Trash' 10
ok $? "the purge moves it to Trash without MOVE"
until_ok 5 gone_from INBOX "Epsilon note"
ok $? "it left the server's INBOX"
is "$(count_in Trash 'Epsilon note')" 1 "it is in Trash, once"
unlike "$(imap_flags Trash 'Epsilon note')" 'Deleted' "without the \\Deleted mark"
L=$(sed -n 's/^[^ ]* //p' "$T_DIR/nomove.log" | tr '\n' ';')
like "$L" 'UID STORE ([0-9]+) -FLAGS.SILENT \(\\Deleted\);UID COPY \1 "?Trash"?;UID STORE \1 \+FLAGS.SILENT \(\\Deleted\);UID EXPUNGE \1;' \
	"unmark, UID COPY, \\Deleted, then UID EXPUNGE of that UID only"
quit_loft

# ---- R's list on a folder of the local store ----
if [ "$IMAP_KIND" = loft ]; then
	mkmsg "Local one" erin 5 | "$LOFT" -F "$T_DIR/client.rc" deliver
	loft_on +INBOX
	tmux_wait 'Local one' 10
	ok $? "the local INBOX opens"
	postpone 'Local draft A'
	postpone 'Local draft B'
	is "$(find "$T_DIR/Local/Drafts" -type f ! -path '*/.loft/*' | wc -l)" 2 \
		"two drafts in the local Drafts"
	tmux_keys R
	tmux_wait 'postponed messages' 10
	ok $? "R with two local drafts shows the list"
	like "$(tmux_screen | sed -n 2p)" 'Local draft A' "the older one second"
	tmux_keys j Enter
	tmux_wait 'Subject: Local draft A' 10
	ok $? "and recalls the one chosen"
	tmux_keys q
	tmux_wait 'Abort unmodified message' 5
	tmux_keys y
	quit_loft
fi

is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
