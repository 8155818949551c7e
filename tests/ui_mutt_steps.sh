# The mutt habits' scenario steps shared by tests/ui_mutt.t (a local
# folder), tests/ui_mutt_imap.t (an IMAP folder) and, for `f`,
# tests/ui_mutt_compose.t.  Source after tests/tmux.sh.  The index shows
# INBOX with five messages sorted by date: Alice's "Lunch on Friday" (1
# June), Bob's "Build report" (body: "the pineapple build passed"),
# Carol's "Concert tickets" (Cc Erin), Dave's "Dive trip" (a reply to
# Carol's) and Alice's "Another lunch" (5 June), each with an
# "X-Mutt-Test: hidden header"; each step starts and ends on the index
# unless it says otherwise.

# mutt_jump: 3 Enter opens the third message; ends in its pager.
mutt_jump() {
	tmux_keys 3
	tmux_wait 'Jump to message: 3' 5
	ok $? "a digit opens the jump prompt with it"
	tmux_keys Enter Enter
	tmux_wait 'INBOX  3/5: Carol Singer +Concert tickets' 10
	ok $? "3 Enter jumps to the third message; the pager's bar shows position, From, Subject"
}

# mutt_full_headers MESSAGE-ID: in the pager of the message with that
# Message-ID, h shows every header and hides them again; then q and a
# number past the end.
mutt_full_headers() {
	! tmux_screen | grep -q 'X-Mutt-Test'
	ok $? "the pager hides headers not in pager_headers"
	tmux_keys h
	tmux_wait 'X-Mutt-Test: hidden header' 5
	ok $? "h shows every header"
	like "$(tmux_screen)" "Message-ID: <$1>" "Message-ID too"
	tmux_keys h
	tmux_gone 'X-Mutt-Test' 5
	ok $? "h again hides them"
	tmux_keys q
	tmux_wait 'INBOX \[Msgs:5' 5
	tmux_keys 9 Enter
	tmux_wait 'Invalid message number' 5
	ok $? "a number past the end is refused"
}

# mutt_reverse_sort: O d sorts by date reversed, then o d back.
mutt_reverse_sort() {
	tmux_keys O
	tmux_wait 'Rev-Sort' 5
	tmux_keys d
	tmux_wait '\(date/rev\)' 5
	ok $? "O d sorts by date, reversed"
	tmux_keys 1 Enter Enter
	tmux_wait '1/5: Alice Example +Another lunch' 10
	ok $? "the newest message is first"
	tmux_keys q
	tmux_keys o d
	tmux_wait 'INBOX \[Msgs:5' 5
}

# mutt_set_format: :set index_format shows the subjects only (MUTTFMT).
mutt_set_format() {
	tmux_keys :
	tmux_wait '^:' 5
	tmux_keys -l 'set index_format="%4C MUTTFMT %s"'
	tmux_keys Enter
	tmux_wait '   1 MUTTFMT ' 5
	ok $? ":set index_format changes the index at once"
}

# mutt_tag_delete_undelete [AFTER-D]: T, D and U by pattern; AFTER-D (a
# command) runs once both lunches are deleted.  Leaves Alice's two tagged,
# none deleted.
mutt_tag_delete_undelete() {
	tmux_keys T
	tmux_wait 'Tag messages matching:' 5
	tmux_keys -l '~f alice'
	tmux_keys Enter
	tmux_wait '2 messages tagged' 5
	ok $? "T ~f alice tags both of Alice's messages"
	tmux_keys D
	tmux_keys -l '~s lunch'
	tmux_keys Enter
	tmux_wait 'Del:2' 5
	ok $? "D ~s lunch deletes both lunches"
	${1:-:}
	tmux_keys U
	tmux_keys -l '~s Another'
	tmux_keys Enter
	tmux_wait 'Del:1' 5
	ok $? "U ~s Another undeletes one"
	tmux_keys U
	tmux_keys -l '~s lunch'
	tmux_keys Enter
	tmux_wait 'Del:0' 5
}

# mutt_limit PATTERN: l with PATTERN.
mutt_limit() {
	tmux_keys l C-u
	tmux_keys -l "$1"
	tmux_keys Enter
}

# mutt_patterns: ~b, ~h | ~C and a ~d range through l (after
# mutt_set_format); leaves the limit on.
mutt_patterns() {
	local S
	mutt_limit '~b pineapple'
	tmux_wait '\(limit: ~b pineapple\)' 10
	S=$(tmux_screen)
	like "$S" 'MUTTFMT Build report' "~b finds the body's word"
	! grep -q 'MUTTFMT Lunch' <<<"$S"
	ok $? "and nothing else"
	mutt_limit '~h erin | ~C erin'
	tmux_wait 'limit: ~h erin' 10
	like "$(tmux_screen)" 'MUTTFMT Concert tickets' "~h and ~C match the Cc header, | ors"
	mutt_limit '~d 02/06/2025-04/06/2025'
	tmux_wait '3/5 shown' 5
	ok $? "~d D1-D2 keeps the three days (both ends included)"
}

# mutt_forward_asks: f on the current message asks for the recipient
# (carol@example.org given); ends on the compose screen.
mutt_forward_asks() {
	local S
	tmux_keys f
	tmux_wait '^To:' 5
	ok $? "f asks for the recipient"
	tmux_keys -l 'carol@example.org'
	tmux_keys Enter
	tmux_wait 'loft: compose' 10
	S=$(tmux_screen)
	like "$S" 'To: carol@example.org' "the compose screen shows it"
	like "$S" 'Subject: Fwd: Lunch on Friday' "with the forward's subject"
}
