#!/bin/bash
# The mail client and notmuch: `+` changes a message's notmuch tags (seen
# by `notmuch search`, shown in the index with %g, flag tags following to
# maildir flags), `color index FG BG PATTERN` colours matching rows, the
# sidebar shows unread/total per folder, Tab in the To prompt completes
# addresses notmuch has seen.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=date' 'set index_format="%4C %Z %-15.15n %s [%g]"' \
	'color index magenta default "~s Lunch"' 'color index red default ~F' \
	'alias boss boss@example.org'
for f in INBOX Lists/dev Sent; do mkdir -p "$T_DIR/Mail/$f/cur" "$T_DIR/Mail/$f/new" "$T_DIR/Mail/$f/tmp"; done
M=$T_DIR/Mail/INBOX
n=0
mk() {	# FILE FROM SUBJECT
	n=$((n + 1))
	printf 'From: %s\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <m%s@example.org>\n\nhello\n' \
		"$2" "$3" "$n" "$n" > "$1"
}
mk "$M/cur/1.a.host:2,S" "Alice Example <alice@example.org>" "Lunch on Friday"
mk "$M/cur/2.b.host:2,FS" "Bob Builder <bob@example.org>" "Flagged thing"
mk "$M/cur/3.c.host:2," "Carol Singer <carol@example.org>" "Plain unread"
mk "$M/cur/4.d.host:2,S" "Alison Wonder <alison@example.org>" "Another from Ali"
mk "$M/cur/5.e.host:2,S" "Alice Example <alice@example.org>" "Alice again"
mk "$T_DIR/Mail/Lists/dev/new/6.f.host" "Dev List <dev@example.org>" "List post one"
mk "$T_DIR/Mail/Lists/dev/cur/7.g.host:2,S" "Dev List <dev@example.org>" "List post two"
run_loft index
is "$RC" 0 "loft index builds the notmuch database" || diag "$ERR"
export NOTMUCH_CONFIG=$T_DIR/notmuch-config
printf '[database]\npath=%s\n' "$T_DIR/Mail" > "$NOTMUCH_CONFIG"

# Through sh, to see loft's exit status (under SANITIZE=1: the leak check).
tmux_start sh -c "'$LOFT'; echo \$? > '$T_DIR/exit'"
tmux_wait 'INBOX \[Msgs:5' 10
ok $? "INBOX opens"

# ---- color index PATTERN: the matching rows only ----
# capture-pane -e: SGR sequences; red is 31 (or 38;5;1), magenta 35.
E=$(tmux -L "$TMUX_SOCK" capture-pane -p -e)
line() { grep -F -- "$1" <<<"$E"; }
like "$(line 'Flagged thing')" $'\e\\[[0-9;]*(31|38;5;1)[;m]' "the flagged row is drawn red"
like "$(line 'Lunch on Friday')" $'\e\\[[0-9;]*(35|38;5;5)[;m]' "the row matching ~s Lunch is magenta"
! line 'Plain unread' | grep -Eq $'\e\\[[0-9;]*(31|35|38;5;[15])[;m]'
ok $? "a row matching no pattern is neither red nor magenta"
! line 'Alice again' | grep -Eq $'\e\\[[0-9;]*(31|35|38;5;[15])[;m]'
ok $? "nor is another row from the same sender"

# ---- sidebar: unread/total per folder ----
tmux_keys Escape b
tmux_wait 'Lists/dev +1/2' 5
ok $? "the sidebar shows Lists/dev with 1 unread of 2"
like "$(tmux_screen)" 'INBOX +1/5' "and INBOX with 1 unread of 5"
tmux_keys Escape b
tmux_gone 'INBOX +1/5'

# ---- the folder list screen ----
tmux_keys c "?"
tmux_wait 'folders' 5
S=$(tmux_screen)
like "$S" 'N +2 +1  Lists/dev' "the folder list shows Lists/dev's counts"
like "$S" ' +0 +0  Sent' "and an empty folder"
tmux_keys q
tmux_wait 'INBOX \[Msgs:5' 5

# ---- + : notmuch tags ----
tmux_keys -l '/Lunch'
tmux_keys Enter +
tmux_wait 'Tags \(\+add -remove\):' 5
ok $? "+ asks for the tag changes"
tmux_keys -l '+work -inbox'
tmux_keys Enter
tmux_wait '1 message tagged' 10
ok $? "the change is confirmed"
tmux_wait 'Lunch on Friday \[work\]' 5
ok $? "the index shows the new tag (and not inbox)"
if command -v notmuch >/dev/null; then
	like "$(notmuch search --output=files tag:work)" '/INBOX/cur/1\.a\.host' "notmuch search tag:work finds the message"
	is "$(notmuch count tag:inbox AND subject:Lunch)" 0 "and inbox is gone from it"
else
	skip "notmuch CLI not installed" 2
fi
like "$(tmux_screen)" 'Flagged thing \[inbox\]' "other messages keep their tags"

# Flag tags reach the maildir flags, and the index follows.
tmux_keys -l '/Plain unread'
tmux_keys Enter +
tmux_wait 'Tags \(\+add' 5
tmux_keys -l ' -unread +flagged'	# (a leading '-' would be a tmux flag)
tmux_keys Enter
tmux_wait 'INBOX \[Msgs:5 New:0 Flag:2' 10
ok $? "-unread +flagged: the folder's counts follow"
ls "$M"/cur/3.c.host:2,FS >/dev/null 2>&1
ok $? "the file got the F and S flags"
[ "$(notmuch count tag:unread AND subject:Plain 2>/dev/null || echo 0)" = 0 ]
ok $? "notmuch agrees: not unread"

# ; + : the tagged messages.
tmux_keys -l '/Another'
tmux_keys Enter t
tmux_keys -l '/Alice again'
tmux_keys Enter t
tmux_keys '\;'	# (a bare ; separates tmux commands)
tmux_keys +
tmux_wait 'Tags \(\+add' 5
tmux_keys -l 'both'
tmux_keys Enter
tmux_wait '2 messages tagged' 10
ok $? "; + tags every tagged message"
S=$(tmux_screen)
like "$S" 'Another from Ali \[both inbox\]' "the first shows the tag"
like "$S" 'Alice again \[both inbox\]' "the second too"

# In the pager.
tmux_keys -l '/Flagged thing'
tmux_keys Enter Enter
tmux_wait 'hello' 5
tmux_keys +
tmux_wait 'Tags \(\+add' 5
tmux_keys -l '+frompager'
tmux_keys Enter
tmux_wait '1 message tagged' 10
ok $? "+ works in the pager"
tmux_keys q
tmux_wait 'Flagged thing \[frompager inbox\]' 5
ok $? "and the index shows it"

# ---- address completion: aliases, then what notmuch has seen ----
tmux_keys m
tmux_wait '^To:' 5
tmux_keys -l 'ali'
tmux_keys Tab
tmux_wait '^To: Alice Example <alice@example.org>' 5
ok $? "Tab completes from notmuch, the most frequent sender first"
tmux_keys Tab
tmux_wait '^To: Alison Wonder <alison@example.org>' 5
ok $? "Tab again: the next match"
tmux_keys -l ', dev'
tmux_keys Tab
tmux_wait '^To: Alison Wonder <alison@example.org>, Dev List <dev@example.org>' 5
ok $? "the last address of a list completes, from another folder too"
tmux_keys -l ', boss'
tmux_keys Tab
tmux_wait 'Dev List <dev@example.org>, boss@example.org' 5
ok $? "an alias still completes"
tmux_keys C-g
tmux_wait 'INBOX \[Msgs:5' 5

tmux_keys q
# Ends cleanly (under SANITIZE=1 the leak check runs at this exit).
for i in $(seq 100); do [ -s "$T_DIR/exit" ] && break; sleep 0.05; done
is "$(cat "$T_DIR/exit" 2>/dev/null)" 0 "loft exits with status 0"
done_testing
