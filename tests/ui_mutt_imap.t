#!/bin/bash
# The mutt habits (issue 12 §3; tests/ui_mutt.t and tests/ui_mutt_compose.t
# run them on local folders) with the index on a folder of `loft daemon`
# over IMAP (IMAP_KIND=dovecot: of a private Dovecot, as
# tests/ui_mutt_imap_dovecot.t runs it): a number jumps to a message and
# the pager's status line shows the position, From and Subject; `h` shows
# every header; `O` sorts in reverse; `:set` changes the index at once;
# `T`/`D`/`U` by pattern, and the patterns ~b ~B ~h ~C ~d ~r ~() on what
# the server holds; `f` asks for the recipient, `b` bounces, `e` edits a
# message as a new one (what is sent goes through the client's own queue
# to its local INBOX: example.org is local to the client).  Everything on
# 127.0.0.1, stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"
. "$TOP/tests/imap_server.sh"
. "$TOP/tests/ui_mutt_steps.sh"

# mkmsg ID FROM SUBJECT DAY [BODY [EXTRA-HEADER]]: the message on stdout.
mkmsg() {
	printf 'From: %s\nTo: me@example.org\nSubject: %s\n' "$2" "$3"
	printf 'Date: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n' "$4" "$1"
	[ -n "${6:-}" ] && printf '%s\n' "$6"
	printf 'X-Mutt-Test: hidden header\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n' "${5:-hello}"
}

imap_server_start "${IMAP_KIND:-loft}"
ok $? "$IMAP_KIND serves IMAP on 127.0.0.1:$IMAP_PORT" || { done_testing; exit; }
mkmsg lunch "Alice Example <alice@example.org>" "Lunch on Friday" 1 "Shall we meet at noon?" | imap_server_deliver INBOX
mkmsg build "Bob Builder <bob@example.org>" "Build report" 2 "the pineapple build passed" | imap_server_deliver INBOX
mkmsg concert "Carol Singer <carol@example.org>" "Concert tickets" 3 hello "Cc: Erin <erin@example.org>" | imap_server_deliver INBOX
mkmsg dive "Dave Diver <dave@example.org>" "Dive trip" 4 hello "In-Reply-To: <concert@example.org>" | imap_server_deliver INBOX
mkmsg another "Alice Example <alice@example.org>" "Another lunch" 5 | imap_server_deliver INBOX

# The client: its own store and queue; example.org is local to it.
LOCAL=$T_DIR/Local/INBOX
mkdir -p "$LOCAL/cur" "$LOCAL/new" "$LOCAL/tmp"
cat > "$T_DIR/client.rc" <<RC
set folder=$T_DIR/Local imap_listen= smtp_listen=
set imap_password_command='echo $IMAP_PW'
set from=me@example.org realname="Me Myself" smarthost= local_domains=example.org sort=date
RC
export LOFTRC=$T_DIR/client.rc
line_editor
# What is sent is delivered there.
M=$LOCAL

tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
	"$LOFT" -f "$IMAP_URL"
tmux_wait 'INBOX \[Msgs:5' 10
ok $? "the index on the IMAP folder is up"
tmux_wait 'Connected to' 10

# ---- a number jumps; the pager's status line; h ----
mutt_jump
for _ in $(seq 50); do imap_flags INBOX Concert | grep -q Seen && break; sleep 0.1; done
like "$(imap_flags INBOX Concert)" 'Seen' "reading it sets \\Seen on the server"
mutt_full_headers concert@example.org

# ---- O: reverse sort ----
mutt_reverse_sort

# ---- : runs a mailrc line ----
mutt_set_format

# ---- T D U by pattern ----
deleted_on_server() { [ "$(imap_flags INBOX lunch | grep -c Deleted)" = "$1" ]; }
server_has_two_deleted() {
	for _ in $(seq 50); do deleted_on_server 2 && break; sleep 0.1; done
	deleted_on_server 2
	ok $? "both are \\Deleted on the server"
}
mutt_tag_delete_undelete server_has_two_deleted
for _ in $(seq 50); do deleted_on_server 0 && break; sleep 0.1; done
deleted_on_server 0
ok $? "and U leaves none \\Deleted on the server"

# ---- patterns on what the server holds ----
mutt_patterns
mutt_limit '~B meet'
tmux_wait '1/5 shown' 10
like "$(tmux_screen)" 'MUTTFMT Lunch on Friday' "~B searches the whole message"
mutt_limit '~r <1d'
tmux_wait '5/5 shown' 5
ok $? "~r <1d: all arrived today (INTERNALDATE from the server)"
mutt_limit '~r >1d'
tmux_wait 'No messages matched the limit' 5
ok $? "~r >1d: none arrived before (the dates are the server's, not unknown)"
tmux_keys o t
mutt_limit '~(~f dave)'
tmux_wait '2/5 shown' 5
ok $? "~(~f dave) keeps Dave's thread, threaded from the ENVELOPE's In-Reply-To"
like "$(tmux_screen)" 'MUTTFMT Concert tickets' "the parent is there"
tmux_keys o d
mutt_limit 'all'
tmux_wait 'INBOX \[Msgs:5 New:[0-9]+ Flag:0 Del:0\]' 5
ok $? "limit all shows the five again"
tmux_keys :
tmux_keys -l 'set index_format="%4C %-15.15L %s"'
tmux_keys Enter

# ---- f asks for the recipient ----
echo 'Forwarded with a note.' > "$T_DIR/edit-line"
tmux_keys -l '/Lunch on'
tmux_keys Enter
mutt_forward_asks
tmux_keys y
f=$(delivered '^Subject: Fwd: Lunch on Friday')
ok $? "the forward is delivered"
like "$(cat "$f" 2>/dev/null)" 'Shall we meet at noon' "with the text fetched from the server"
like "$(cat "$f" 2>/dev/null)" 'Forwarded with a note' "and the editor's note"

# ---- b: bounce ----
tmux_keys -l '/Lunch on'
tmux_keys Enter b
tmux_wait 'Bounce message to:' 5
ok $? "b asks where to bounce"
tmux_keys -l 'zed@example.org'
tmux_keys Enter
tmux_wait 'Bounce message to zed@example.org\?' 5
tmux_keys y
f=$(delivered '^Resent-To: zed@example.org')
ok $? "the bounced message is delivered, with Resent-To"
like "$(cat "$f" 2>/dev/null)" $'\nSubject: Lunch on Friday\n' "its own headers unchanged"
like "$(cat "$f" 2>/dev/null)" 'Shall we meet at noon' "its body fetched from the server"

# ---- e: edit as new ----
echo 'Written again as new.' > "$T_DIR/edit-line"
tmux_keys -l '/Lunch on'
tmux_keys Enter e
tmux_wait 'loft: compose' 10
S=$(tmux_screen)
like "$S" 'Subject: Lunch on Friday' "e: the message as a draft (its subject)"
like "$S" 'From: .*me@example.org' "sent as the user"
tmux_keys y
f=$(delivered '^Written again as new')
ok $? "the new message is sent, with the editor's text"
like "$(cat "$f" 2>/dev/null)" 'Shall we meet at noon' "and the old body"

tmux_keys q
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
