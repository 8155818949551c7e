#!/bin/bash
# The mutt habits (issue 12 §3) in tmux: `c` as a prompt (= and +, Tab,
# '?' for the list), a typed number jumps, `:` runs a mailrc line, T/D/U
# by pattern, O reverse sort, `h` full headers and the pager's status line.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=date'
for f in INBOX Archive Sent; do
	mkdir -p "$T_DIR/Mail/$f/cur" "$T_DIR/Mail/$f/new" "$T_DIR/Mail/$f/tmp"
done
M=$T_DIR/Mail/INBOX

# mkmsg FILE FROM SUBJECT DAY [BODY [EXTRA-HEADER]]
mkmsg() {
	{
		printf 'From: %s\nTo: me@example.org\nSubject: %s\n' "$2" "$3"
		printf 'Date: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n' "$4" "$(basename "$1")"
		[ -n "${6:-}" ] && printf '%s\n' "$6"
		printf 'X-Mutt-Test: hidden header\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n' "${5:-hello}"
	} > "$1"
}
mkmsg "$M/cur/1.a.host:2,S" "Alice Example <alice@example.org>" "Lunch on Friday" 1
mkmsg "$M/cur/2.b.host:2,S" "Bob Builder <bob@example.org>" "Build report" 2 "the pineapple build passed"
mkmsg "$M/cur/3.c.host:2,S" "Carol Singer <carol@example.org>" "Concert tickets" 3 hello "Cc: Erin <erin@example.org>"
mkmsg "$M/cur/4.d.host:2,S" "Dave Diver <dave@example.org>" "Dive trip" 4 hello "In-Reply-To: <3.c.host:2,S@example.org>"
mkmsg "$M/cur/5.e.host:2,S" "Alice Example <alice@example.org>" "Another lunch" 5
mkmsg "$T_DIR/Mail/Archive/cur/9.z.host:2,S" "Zed <zed@example.org>" "Archived thing" 9

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:5' 10
ok $? "the index is up"

# ---- the help line (`help`, on by default) ----
S=$(tmux_screen)
like "$(sed -n 1p <<<"$S")" '^q:Quit  d:Del  u:Undel  s:Save  m:Mail  r:Reply  g:Group  \?:Help' \
	"the index's top row names the main keys"
like "$(sed -n 2p <<<"$S")" '^ *1 ' "the first message is under it"

# ---- a number jumps to that message; the pager's status line ----
tmux_keys 3
tmux_wait 'Jump to message: 3' 5
ok $? "a digit opens the jump prompt with it"
tmux_keys Enter Enter
tmux_wait 'loft: INBOX  3/5: Carol Singer +Concert tickets' 5
ok $? "3 Enter jumps to the third message; the pager's bar shows position, From, Subject"

like "$(tmux_screen | sed -n 1p)" '^q:Exit  -:PrevPg  <space>:NextPg  v:View Attachm\.  d:Del  r:Reply  j:Next  \?:Help' \
	"the pager's top row names its keys"
like "$(tmux_screen | sed -n 2p)" '^Date: ' "and the message starts under it"

# ---- h: full headers ----
! tmux_screen | grep -q 'X-Mutt-Test'
ok $? "the pager hides headers not in pager_headers"
tmux_keys h
tmux_wait 'X-Mutt-Test: hidden header' 5
ok $? "h shows every header"
like "$(tmux_screen)" 'Message-ID: <3.c.host' "Message-ID too"
tmux_keys h
tmux_gone 'X-Mutt-Test' 5
ok $? "h again hides them"
tmux_keys q
tmux_wait 'INBOX \[Msgs:5' 5
tmux_keys 9 Enter
tmux_wait 'Invalid message number' 5
ok $? "a number past the end is refused"

# ---- O: reverse sort ----
tmux_keys O
tmux_wait 'Rev-Sort' 5
tmux_keys d
tmux_wait '\(date/rev\)' 5
ok $? "O d sorts by date, reversed"
tmux_keys 1 Enter Enter
tmux_wait '1/5: Alice Example +Another lunch' 5
ok $? "the newest message is first"
tmux_keys q
tmux_keys o d
tmux_wait 'INBOX \[Msgs:5' 5

# ---- : runs a mailrc line ----
tmux_keys :
tmux_wait '^:' 5
tmux_keys -l 'set index_format="%4C MUTTFMT %s"'
tmux_keys Enter
tmux_wait '   1 MUTTFMT ' 5
ok $? ":set index_format changes the index at once"
printf 'bind index G last-entry\nset sort=subject\n' > "$T_DIR/extra.rc"
tmux_keys :
tmux_keys -l "source $T_DIR/extra.rc"
tmux_keys Enter
tmux_wait '\(subject\)' 5
ok $? ":source applies a file (sort=subject)"
tmux_keys G Enter
tmux_wait '5/5: ' 5
ok $? "and its bind line works at once (G: last-entry)"
tmux_keys q
tmux_wait 'INBOX \[Msgs:5' 5
tmux_keys :
tmux_keys -l 'color index brightred default ~f bob'
tmux_keys Enter
tmux_keys :
tmux_keys -l 'set nosuchsetting=1'
tmux_keys Enter
tmux_wait 'command:1.*nosuchsetting' 5
ok $? "a bad line is refused with the mailrc's error"
tmux_keys :
tmux_keys -l 'bind index d noop'
tmux_keys Enter
tmux_keys :
tmux_keys -l 'bind index X delete-message'
tmux_keys Enter
tmux_wait '^q:Quit  X:Del' 5
ok $? "the help line follows a bind"
tmux_keys :
tmux_keys -l 'set nohelp'
tmux_keys Enter
tmux_gone 'q:Quit' 5
ok $? ":set nohelp hides the help line"
like "$(tmux_screen | sed -n 1p)" '^ *1 MUTTFMT' "and the list starts on the top row"

# ---- T D U by pattern ----
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
tmux_keys U
tmux_keys -l '~s Another'
tmux_keys Enter
tmux_wait 'Del:1' 5
ok $? "U ~s Another undeletes one"
tmux_keys U
tmux_keys -l '~s lunch'
tmux_keys Enter
tmux_wait 'Del:0' 5

# ---- patterns: ~b ~h ~C ~d ranges ~(...) (the index_format set above
# shows the subjects only) ----
limit() {
	tmux_keys l C-u
	tmux_keys -l "$1"
	tmux_keys Enter
}
limit '~b pineapple'
tmux_wait '\(limit: ~b pineapple\)' 5
S=$(tmux_screen)
like "$S" 'MUTTFMT Build report' "~b finds the body's word"
! grep -q 'MUTTFMT Lunch' <<<"$S"
ok $? "and nothing else"
limit '~h erin | ~C erin'
tmux_wait 'limit: ~h erin' 5
like "$(tmux_screen)" 'MUTTFMT Concert tickets' "~h and ~C match the Cc header, | ors"
limit '~d 02/06/2025-04/06/2025'
tmux_wait '3/5 shown' 5
ok $? "~d D1-D2 keeps the three days (both ends included)"
limit '~d >1y'
tmux_wait '5/5 shown' 5
ok $? "~d >1y: all were sent more than a year before now"
tmux_keys o t
limit '~(~f dave)'
tmux_wait '2/5 shown' 5
ok $? "~(~f dave) keeps Dave's thread: his message and the one it replies to"
like "$(tmux_screen)" 'MUTTFMT Concert tickets' "the parent is there"
limit 'all'
tmux_wait 'INBOX \[Msgs:5 New:0 Flag:0 Del:0\]' 5

# ---- c: a prompt, = and +, Tab, ? ----
tmux_keys c
tmux_wait "Open mailbox \('\?' for list\):" 5
ok $? "c opens the mailbox prompt"
tmux_keys -l '=Arc'
tmux_keys Tab
tmux_wait 'Open mailbox .*: \+Archive' 5
ok $? "Tab completes =Arc to the folder"
tmux_keys Enter
tmux_wait 'Archive \[Msgs:1' 5
ok $? "and Enter opens it"
tmux_keys c
tmux_keys -l '=INBOX'
tmux_keys Enter
tmux_wait 'INBOX \[Msgs:5' 5
ok $? "=INBOX opens INBOX (mutt's = for the folder directory)"
tmux_keys c '?'
tmux_wait 'loft: folders' 5
ok $? "? at the prompt opens the folder list"
tmux_keys q
tmux_wait 'INBOX \[Msgs:5' 5
ok $? "leaving the list cancels"

tmux_keys q
done_testing
