#!/bin/bash
# Opening a big folder for the first time (no state yet: every header is
# read) never freezes the screen: a progress bar shows on the bottom line,
# and Ctrl-G cancels — at start loft quits, from the folder prompt the
# previous folder stays open.  LOFT_TEST_SLOW_OPEN=MS makes each step of
# the open sleep MS milliseconds, so the bar is seen on any machine.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

[ -f "$SHARED/corpus/mkcorpus.py" ] || skip_all "mkcorpus.py missing"
make_mailrc 'set sort=threads'
BIG=$T_DIR/Mail/Big
python3 "$SHARED/corpus/mkcorpus.py" --maildir "$BIG" --count 3000 --seed 5 >/dev/null
ok $? "a 3000-message folder is generated"
N=$(find "$BIG/cur" "$BIG/new" -type f | wc -l)
STATE=$T_DIR/Mail/.loft/Big

# First open, no state: the bar, then the index.
rm -rf "$STATE"
tmux_start env LOFT_TEST_SLOW_OPEN=700 "$LOFT" -f +Big
tmux_wait 'Reading \+?Big: \[[#-]{20}\] [0-9]+/[0-9]+ [0-9]+%' 20
ok $? "the status line shows a progress bar while the state is built"
tmux_wait "Big \\[Msgs:$N" 30
ok $? "then the index appears with all $N messages"
tmux_keys q
tmux_stop; sleep 0.5

# Second open: the state is there, no bar is needed.
tmux_start "$LOFT" -f +Big
tmux_wait "Big \\[Msgs:$N" 10
ok $? "the second open shows the index at once"
! tmux_screen | grep -q 'Reading'
ok $? "with no progress bar left behind"
tmux_keys q
tmux_stop; sleep 0.5

# Ctrl-G at start: loft quits, saying so.
rm -rf "$STATE"
# (A shell around it keeps the pane after loft exits.)
tmux_start sh -c 'LOFT_TEST_SLOW_OPEN=3000 "$0" -f +Big; echo "exit status $?"; sleep 60' "$LOFT"
tmux_wait 'Reading \+?Big: ' 20
ok $? "the bar shows (slow open)"
tmux_keys C-g
tmux_wait 'opening \+Big cancelled' 10
ok $? "Ctrl-G cancels the first open and loft quits"
# The message comes before loft has left: wait for the shell's line.
tmux_wait 'exit status 0' 10
ok $? "a cancel is not an error"
tmux_stop; sleep 0.5

# Ctrl-G from the folder prompt: back in the folder we were in.
rm -rf "$STATE"
mkdir -p "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" "$T_DIR/Mail/INBOX/tmp"
printf 'From: a@example.org\nSubject: small one\nMessage-ID: <s1@example.org>\n\nhi\n' \
	> "$T_DIR/Mail/INBOX/cur/1.s.host:2,S"
tmux_start env LOFT_TEST_SLOW_OPEN=3000 "$LOFT"
tmux_wait 'INBOX \[Msgs:' 10
ok $? "INBOX opens"
tmux_keys c "?"
tmux_wait 'Reading Big: ' 20
ok $? "the folder list counts messages: the unopened big folder shows the bar"
tmux_keys C-g
tmux_wait 'loft: folders' 5
ok $? "Ctrl-G skips the counts and the list shows"
tmux_keys c
tmux_wait 'Open folder: ' 5
tmux_keys -l 'Big'
tmux_keys Enter
tmux_wait 'Reading \+?Big: ' 20
ok $? "changing to the big folder shows the bar"
tmux_keys C-g
tmux_wait 'cancelled' 10
ok $? "Ctrl-G cancels it"
tmux_wait 'INBOX \[Msgs:' 5
ok $? "and the previous folder is still open"
like "$(tmux_screen)" 'small one' "with its messages"
tmux_keys q

done_testing
