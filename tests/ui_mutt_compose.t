#!/bin/bash
# The mutt habits of composing (issue 12 §3) in tmux: a message the editor
# left unchanged is aborted (abort_unmodified), `f` asks for the recipient,
# the compose screen's t c b s edit To/Cc/Bcc/Subject, `b` bounces, `e`
# edits a message as a new one.  example.org is local: what is sent is
# delivered into this INBOX by the queue.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"
. "$TOP/tests/ui_mutt_steps.sh"

lunch_inbox 'set sort=date'

line_editor
echo 'Forwarded with a note.' > "$T_DIR/edit-line"

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:1 ' 10
ok $? "the index is up"

# ---- abort_unmodified ----
touch "$T_DIR/edit-none"
tmux_keys m
tmux_wait '^To:' 5
tmux_keys -l 'bob@example.org'
tmux_keys Enter
tmux_wait '^Subject:' 5
tmux_keys -l 'Nothing to say'
tmux_keys Enter
tmux_wait 'Aborted unmodified message' 10
ok $? "a new message left unchanged by the editor is aborted"
! tmux_screen | grep -q 'loft: compose'
ok $? "no compose screen"
rm -f "$T_DIR/edit-none"

# ---- Tab completes file names at the attach prompt ----
mkdir -p "$T_DIR/files/reports"
echo 'quarterly numbers' > "$T_DIR/files/reports/q3-summary.txt"
echo 'other' > "$T_DIR/files/reports/q3-details.txt"
tmux_keys m
tmux_wait '^To:' 5
tmux_keys -l 'bob@example.org'
tmux_keys Enter
tmux_wait '^Subject:' 5
tmux_keys -l 'Numbers'
tmux_keys Enter
tmux_wait 'loft: compose' 10
tmux_keys a
tmux_wait '^Attach file:' 5
tmux_keys -l "$T_DIR/files/rep"
tmux_keys Tab
tmux_wait "Attach file: .*/files/reports/\$" 5
ok $? "Tab completes a directory, with its /"
tmux_keys -l 'q'
tmux_keys Tab
tmux_wait "Attach file: .*/files/reports/q3-\$" 5
ok $? "Tab completes the common part of two names"
tmux_keys -l 's'
tmux_keys Tab
tmux_wait "Attach file: .*/files/reports/q3-summary.txt\$" 5
ok $? "and a unique name whole"
tmux_keys Enter
tmux_wait ' 1 .* q3-summary.txt' 5
ok $? "the completed file is attached"
tmux_keys q
tmux_wait 'Abort unmodified message|Discard' 5
tmux_keys y
tmux_wait 'Message not sent' 5

# ---- f asks for the recipient; t c b s on the compose screen ----
mutt_forward_asks
tmux_keys t
tmux_wait '^To: carol@example.org' 5
ok $? "t edits To, starting from its value"
tmux_keys C-u
tmux_keys -l 'dave@example.org'
tmux_keys Enter
tmux_wait ' To: dave@example.org' 5
ok $? "To is changed"
tmux_keys c
tmux_wait '^Cc:' 5
tmux_keys -l 'erin@example.org'
tmux_keys Enter
tmux_wait ' Cc: erin@example.org' 5
ok $? "c edits Cc"
tmux_keys b
tmux_wait '^Bcc:' 5
tmux_keys -l 'frank@example.org'
tmux_keys Enter
tmux_wait ' Bcc: frank@example.org' 5
ok $? "b edits Bcc"
tmux_keys s
tmux_wait '^Subject: Fwd: Lunch' 5
tmux_keys C-u
tmux_keys -l 'Lunch moved'
tmux_keys Enter
tmux_wait ' Subject: Lunch moved' 5
ok $? "s edits Subject"
tmux_keys y
tmux_wait 'Mail sent|Msgs:[2-9]' 10
f=$(delivered '^Subject: Lunch moved')
ok $? "the forward is delivered"
like "$(cat "$f" 2>/dev/null)" $'\nTo: dave@example.org\n' "to the edited To"
like "$(cat "$f" 2>/dev/null)" $'\nCc: erin@example.org\n' "with the Cc"
! grep -q '^Bcc:' "$f" 2>/dev/null
ok $? "the Bcc header is not in what was sent"
delivered 'Delivered-To: frank@example.org' >/dev/null
ok $? "the Bcc recipient got it"

# ---- b: bounce ----
tmux_keys -l '/Lunch on'
tmux_keys Enter
tmux_keys b
tmux_wait 'Bounce message to:' 5
ok $? "b asks where to bounce"
tmux_keys -l 'zed@example.org'
tmux_keys Enter
tmux_wait 'Bounce message to zed@example.org\?' 5
ok $? "and confirms"
tmux_keys y
f=$(delivered '^Resent-To: zed@example.org')
ok $? "the bounced message is delivered, with Resent-To"
like "$(cat "$f" 2>/dev/null)" $'\nSubject: Lunch on Friday\n' "its own headers unchanged"
like "$(cat "$f" 2>/dev/null)" $'\nTo: me@example.org\n' "its To unchanged"
like "$(cat "$f" 2>/dev/null)" 'Delivered-To: zed@example.org' "delivered for zed"
like "$(cat "$f" 2>/dev/null)" 'Resent-From: Me Myself <me@example.org>|Resent-From: me@example.org' "Resent-From is the user"

# ---- e: edit as new ----
echo 'Written again as new.' > "$T_DIR/edit-line"
tmux_keys Home
tmux_keys -l '/Lunch on'
tmux_keys Enter
tmux_keys e
tmux_wait 'loft: compose' 10
S=$(tmux_screen)
like "$S" 'Subject: Lunch on Friday' "e: the message as a draft (its subject)"
like "$S" 'From: .*me@example.org' "sent as the user"
like "$S" 'To: me@example.org' "its To"
tmux_keys y
f=$(delivered '^Written again as new')
ok $? "the new message is sent, with the editor's text"
like "$(cat "$f" 2>/dev/null)" 'Shall we meet at noon' "and the old body"
! grep -q '^In-Reply-To:' "$f" 2>/dev/null
ok $? "not in the old thread"

tmux_keys q
done_testing
