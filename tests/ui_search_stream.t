#!/bin/bash
# A notmuch search with many results is read in steps: the first screen
# shows while the rest is still being read, the message line counts the
# results as they come ("Searching… N results"), Ctrl-G stops the search
# keeping what was found.  LOFT_TEST_SLOW_SEARCH=MS waits MS milliseconds
# between batches, so the running search is seen on any machine.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

[ -f "$SHARED/corpus/mkcorpus.py" ] || skip_all "mkcorpus.py missing"
make_mailrc
python3 "$SHARED/corpus/mkcorpus.py" --maildir "$T_DIR/Mail/INBOX" --count 3000 --seed 5 >/dev/null 2>&1
ok $? "a 3000-message folder is generated"
run_loft index
is "$RC" 0 "loft index builds the notmuch database" || diag "$ERR"
Q='*'
N=$("$LOFT" search --output=files "$Q" | wc -l)
[ "$N" -ge 2000 ]
ok $? "the query matches most files ($N)"

tmux_start env LOFT_TEST_SLOW_SEARCH=300 "$LOFT" -f "search:$Q"
tmux_wait 'Searching.{1,3} [0-9]+ results' 10
ok $? "the message line counts the results while the search runs"
S=$(tmux_screen)
like "$S" 'search:\* \[Msgs:[0-9]+ ' "the status bar shows the rows read so far"
K=$(grep -Eo 'Searching.{1,3} [0-9]+' <<<"$S" | grep -Eo '[0-9]+$')
[ "${K:-0}" -gt 0 ] && [ "$K" -lt "$N" ]
ok $? "the first screen shows before the whole result is read ($K of $N)"
like "$(sed -n 2p <<<"$S")" '^ *1 ' "with the first rows drawn (under the help line)"
tmux_keys j
sleep 0.5
tmux_wait 'Searching.{1,3} [0-9]+ results' 5
ok $? "keys are answered while the search goes on"
tmux_wait "search:\\* \\[Msgs:$N " 60
ok $? "then every result is in: Msgs:$N"
tmux_wait "^$N results" 5
ok $? "and the message line gives the final count"
tmux_keys q
tmux_stop; sleep 0.3

tmux_start env LOFT_TEST_SLOW_SEARCH=1500 "$LOFT" -f "search:$Q"
tmux_wait 'Searching.{1,3} [0-9]+ results' 10
ok $? "a slow search runs"
tmux_keys C-g
tmux_wait 'Search stopped: [0-9]+ results' 5
ok $? "Ctrl-G stops it"
S=$(tmux_screen)
M=$(grep -Eo 'Msgs:[0-9]+' <<<"$S" | grep -Eo '[0-9]+')
[ "${M:-0}" -gt 0 ] && [ "$M" -lt "$N" ]
ok $? "keeping the results found so far ($M)"
sleep 2
like "$(tmux_screen)" "Msgs:$M " "and reading no more"
tmux_keys Enter
tmux_wait '^(From|Subject|Date): ' 5
ok $? "a result opens in the pager"
tmux_keys q q
tmux_stop; sleep 0.3

# Tags shown with %g: the per-row tag cache, made when the first screen
# is drawn, grows with the rows that arrive after it (it kept the first
# batch's size, and drawing row 202 read and wrote past its end: caught
# by ASan).
make_mailrc 'set index_format="%4C %Z %-15.15n %s [%g]"'
# (A shell around it keeps the pane, and says how loft ended.)
tmux_start sh -c '"$0" -f "$1"; echo "exit status $?"; sleep 60' "$LOFT" "search:$Q"
tmux_wait "search:\\* \\[Msgs:$N " 60
ok $? "with %g in index_format every result comes in"
for _ in $(seq 12); do
	tmux_screen | grep -Eq '^ *202 ' && break
	tmux_keys NPage
	sleep 0.2
done
tmux_wait '^ *202 ' 5
ok $? "the rows past the first batch are drawn with their tags"
tmux_keys q
tmux_wait 'exit status 0' 30
ok $? "and loft quits cleanly"
done_testing
