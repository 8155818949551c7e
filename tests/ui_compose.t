#!/bin/bash
# Replying in the mail client: the editor edits the draft, `y` sends it
# through loft's sendmail into the queue, a copy lands in Sent with the
# right In-Reply-To/References, the original is marked answered; then the
# queue is run.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set from=me@example.org' 'set realname="Me Myself"' 'set smarthost='
M=$T_DIR/Mail/INBOX
mkdir -p "$M/cur" "$M/new" "$M/tmp"
cat > "$M/cur/1.a.host:2,S" <<'MSG'
From: Alice Example <alice@example.org>
To: me@example.org
Subject: Lunch on Friday
Date: Mon, 2 Jun 2025 10:00:00 +0000
Message-ID: <lunch.2@example.org>
In-Reply-To: <lunch.1@example.org>
References: <lunch.1@example.org>

Shall we meet at noon?
MSG

# The "editor": adds a line of text after the quote.
cat > "$T_DIR/editor" <<'SH'
#!/bin/sh
printf 'Noon is fine.\n' >> "$1"
SH
chmod +x "$T_DIR/editor"
export EDITOR=$T_DIR/editor

tmux_start "$LOFT"
tmux_wait 'Lunch on Friday' 10
ok $? "the index is up"
tmux_keys r
tmux_wait 'To: Alice Example <alice@example.org>' 10
ok $? "after the editor, the compose screen shows the recipient"
like "$(tmux_screen)" 'Subject: Re: Lunch on Friday' "and the reply subject"
tmux_keys y
tmux_wait 'Mail sent' 10
ok $? "y sends"

# The queue has it, for alice, with the thread headers.
run_loft queue list
like "$OUT" 'alice@example.org' "the queue holds the reply for alice" || diag "$OUT $ERR"
id=$(awk '/^[0-9][0-9.a-f]+ / {print $1; exit}' <<<"$OUT")
run_loft queue show "$id"
like "$OUT" 'References: <lunch.1@example.org> <lunch.2@example.org>' "References carry the thread" || diag "$OUT"
like "$OUT" 'In-Reply-To: <lunch.2@example.org>' "In-Reply-To names the original"

sent=$(ls "$T_DIR"/Mail/Sent/cur/* "$T_DIR"/Mail/Sent/new/* 2>/dev/null | head -1)
[ -n "$sent" ] && grep -q '^In-Reply-To: <lunch.2@example.org>' "$sent" && grep -q '^Noon is fine' "$sent" &&
	grep -q '^> Shall we meet at noon?' "$sent"
ok $? "a copy is in Sent, with the quote and the text the editor added"
ls "$M"/cur/1.a.host:2,*R* >/dev/null 2>&1
ok $? "the original is marked answered (R)"

# Local delivery: when `loft deliver` exists on this branch the flushed
# message must reach a local mailbox; until then it stays queued.
if "$LOFT" help deliver >/dev/null 2>&1; then
	run_loft queue flush
	# LEAD: switch to asserting delivery into the recipient's INBOX here.
	skip "local delivery assertion pending (loft deliver landed: update this branch)"
else
	run_loft queue flush
	run_loft queue list
	like "$OUT" 'alice@example.org' "without local delivery the message stays queued after a flush"
fi

tmux_keys q
done_testing
