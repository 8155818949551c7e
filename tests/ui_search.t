#!/bin/bash
# Searching the whole store from the mail client: `\` runs a notmuch query
# and opens the results as a virtual folder; `loft -f search:QUERY` too;
# `l` limits the index by a pattern.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc
for f in INBOX Lists/dev; do mkdir -p "$T_DIR/Mail/$f/cur" "$T_DIR/Mail/$f/new" "$T_DIR/Mail/$f/tmp"; done
n=0
mk() {	# FOLDER SUBJECT BODY
	n=$((n + 1))
	printf 'From: User %s <u%s@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <m%s@example.org>\n\n%s\n' \
		"$n" "$n" "$2" "$n" "$n" "$3" > "$T_DIR/Mail/$1/cur/$n.x.host:2,S"
}
mk INBOX "Weekly report" "numbers are fine"
mk INBOX "Holiday plans" "we go to the mountains"
mk Lists/dev "Build broken" "the zeppelin target fails"
mk Lists/dev "Release notes" "nothing about airships"
mk INBOX "Zeppelin museum" "a day trip"
# A reply in Lists/dev whose parent ("Build broken") a limit hides.
printf 'From: Fixer <fixer@example.org>\nTo: dev@example.org\nSubject: Re: Build broken\nDate: Tue, 10 Jun 2025 10:00:00 +0000\nMessage-ID: <fix@example.org>\nIn-Reply-To: <m3@example.org>\nReferences: <m3@example.org>\n\nfixed it\n' \
	> "$T_DIR/Mail/Lists/dev/cur/6.x.host:2,S"
run_loft index
is "$RC" 0 "loft index builds the notmuch database" || diag "$ERR"

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:3' 10
ok $? "INBOX opens"
tmux_keys '\'
tmux_wait 'Search all mail' 5
tmux_keys -l 'zeppelin'
tmux_keys Enter
tmux_wait 'search:zeppelin \[Msgs:2' 10
ok $? "the search opens as a virtual folder with the matches"
S=$(tmux_screen)
like "$S" 'Build broken' "a match from another folder"
like "$S" 'Zeppelin museum' "a match from INBOX"
size=$(stat -c %s "$T_DIR/Mail/INBOX/cur/5.x.host:2,S")
like "$S" "\( *$size\) Zeppelin museum" "a result shows its real size ($size bytes)"
! grep -q 'Holiday plans' <<<"$S"
ok $? "no message that does not match"
tmux_keys Enter
tmux_wait 'the zeppelin target fails|a day trip' 5
ok $? "a result opens in the pager"
tmux_keys q q
# A new server for the next run (a killed one may still hold its socket).
tmux_stop
TMUX_SOCK="$TMUX_SOCK.2"

tmux_start "$LOFT" -f 'search:airships'
tmux_wait 'search:airships \[Msgs:1' 10
ok $? "loft -f search:QUERY opens a saved search"
tmux_keys q

tmux_start "$LOFT" -f +Lists/dev
tmux_wait 'Lists/dev \[Msgs:3' 10
ok $? "loft -f +Folder opens a folder of the store"
tmux_keys l
tmux_keys -l '~s release'
tmux_keys Enter
tmux_wait 'limit: ~s release' 5
ok $? "the status line shows the limit"
! tmux_screen | grep -q ' Build broken'
ok $? "the limit hides what does not match"
tmux_keys l C-u
tmux_keys -l '~f fixer'
tmux_keys Enter
tmux_wait 'limit: ~f fixer' 5
like "$(tmux_screen)" 'Fixer .*Re: Build broken' "a reply whose parent is hidden by the limit shows its subject"
tmux_keys l C-u
tmux_keys Enter
tmux_wait 'Lists/dev \[Msgs:3 New:0 Flag:0 Del:0\] ' 5
like "$(tmux_screen)" 'Fixer .*─>$' "with its parent shown, the reply's repeated subject is hidden (as mutt does)"
tmux_keys q

# Mail `loft deliver` left for the index (it no longer opens notmuch) is
# scanned in when the client opens a search, without a `loft search` first.
printf 'From: Pilot <pilot@example.org>\nTo: me@example.org\nSubject: Airships delivered\nDate: Wed, 11 Jun 2025 10:00:00 +0000\nMessage-ID: <deliv@example.org>\n\nmore airships\n' |
	"$LOFT" deliver
ok $? "loft deliver stores a new message"
tmux_stop
TMUX_SOCK="$TMUX_SOCK.3"
tmux_start "$LOFT" -f 'search:airships'
tmux_wait 'search:airships \[Msgs:2' 10
ok $? "a search folder opened after the delivery lists it"
like "$(tmux_screen)" 'Airships delivered' "  ...by its subject"
tmux_keys q
done_testing
