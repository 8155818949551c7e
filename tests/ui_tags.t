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
	'alias boss Big Boss <boss@example.org>'
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

tmux_start "$LOFT"
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
sleep 0.2

# ---- the folder list screen ----
tmux_keys c
tmux_wait 'folders' 5
S=$(tmux_screen)
like "$S" 'N +2 +1  Lists/dev' "the folder list shows Lists/dev's counts"
like "$S" ' +0 +0  Sent' "and an empty folder"
tmux_keys q
tmux_wait 'INBOX \[Msgs:5' 5

tmux_keys q
done_testing
