#!/bin/bash
# The mutt habits (issue 12 §3) in tmux: `c` as a prompt (= and +, Tab,
# '?' for the list), a typed number jumps, `:` runs a mailrc line, T/D/U
# by pattern, O reverse sort, `h` full headers and the pager's status line.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"
. "$TOP/tests/ui_mutt_steps.sh"

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
mutt_jump

like "$(tmux_screen | sed -n 1p)" '^q:Exit  -:PrevPg  <space>:NextPg  v:View Attachm\.  d:Del  r:Reply  j:Next  \?:Help' \
	"the pager's top row names its keys"
like "$(tmux_screen | sed -n 2p)" '^Date: ' "and the message starts under it"

# ---- h: full headers ----
mutt_full_headers '3.c.host:2,S@example.org'

# ---- O: reverse sort ----
mutt_reverse_sort

# ---- : runs a mailrc line ----
mutt_set_format
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
mutt_tag_delete_undelete

# ---- patterns: ~b ~h ~C ~d ranges ~(...) (the index_format set above
# shows the subjects only) ----
mutt_patterns
mutt_limit '~d >1y'
tmux_wait '5/5 shown' 5
ok $? "~d >1y: all were sent more than a year before now"
tmux_keys o t
mutt_limit '~(~f dave)'
tmux_wait '2/5 shown' 5
ok $? "~(~f dave) keeps Dave's thread: his message and the one it replies to"
like "$(tmux_screen)" 'MUTTFMT Concert tickets' "the parent is there"
mutt_limit 'all'
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
