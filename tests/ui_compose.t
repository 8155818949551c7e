#!/bin/bash
# Replying in the mail client: the editor edits the draft, `y` sends it
# through loft's sendmail into the queue, the queue delivers it to the
# local recipient with the right In-Reply-To/References, a copy lands in
# Sent, the original is marked answered.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

# example.org is local here, so the reply to alice is delivered, not relayed.
lunch_inbox

# The "editor": adds a line of text after the quote.
# It also notes where the draft was written: under $TMPDIR, not /tmp.
cat > "$T_DIR/editor" <<SH
#!/bin/sh
dirname "\$1" > "$T_DIR/draft-dir"
printf 'Noon is fine.\\n' >> "\$1"
SH
chmod +x "$T_DIR/editor"
export EDITOR=$T_DIR/editor
mkdir -p "$T_DIR/tmpdir"
export TMPDIR=$T_DIR/tmpdir

tmux_start "$LOFT"
tmux_wait 'Lunch on Friday' 10
ok $? "the index is up"
tmux_keys r
tmux_wait 'To: Alice Example <alice@example.org>' 10
ok $? "after the editor, the compose screen shows the recipient"
like "$(tmux_screen)" 'Subject: Re: Lunch on Friday' "and the reply subject"
is "$(cat "$T_DIR/draft-dir" 2>/dev/null)" "$T_DIR/tmpdir" "the draft is written under \$TMPDIR"
tmux_keys y
# The reply is delivered into this very INBOX at once, so the status line
# may already show the new mail instead of "Mail sent".
tmux_wait 'Mail sent|Re: Lunch on Friday' 10
ok $? "y sends (the compose screen closes)"

# The queue delivers it at once (sendmail starts a runner) to the local
# recipient, with the thread headers.
got=""
for i in $(seq 100); do
	got=$(grep -l '^Noon is fine' "$M"/new/* "$M"/cur/* 2>/dev/null | head -1)
	[ -n "$got" ] && break
	sleep 0.1
done
ok $([ -n "$got" ]; echo $?) "the reply is delivered to the local recipient's INBOX"
like "$(cat "$got" 2>/dev/null)" $'\nReferences: <lunch.1@example.org> <lunch.2@example.org>\n' "References carry the thread"
like "$(cat "$got" 2>/dev/null)" $'\nIn-Reply-To: <lunch.2@example.org>\n' "In-Reply-To names the original"
like "$(cat "$got" 2>/dev/null)" $'\nDelivered-To: alice@example.org\n' "delivered for alice"
run_loft queue list
is "$OUT" "Mail queue is empty" "nothing is left in the queue"

sent=$(ls "$T_DIR"/Mail/Sent/cur/* "$T_DIR"/Mail/Sent/new/* 2>/dev/null | head -1)
[ -n "$sent" ] && grep -q '^In-Reply-To: <lunch.2@example.org>' "$sent" && grep -q '^Noon is fine' "$sent" &&
	grep -q '^> Shall we meet at noon?' "$sent"
ok $? "a copy is in Sent, with the quote and the text the editor added"
ls "$M"/cur/1.a.host:2,*R* >/dev/null 2>&1
ok $? "the original is marked answered (R)"

tmux_keys q
done_testing
