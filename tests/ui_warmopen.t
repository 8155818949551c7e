#!/bin/bash
# The warm open keeps nothing stale: after an open the folder's state holds
# the snapshot and the threads (the next open of the unchanged folder
# copies them back: tests/unit/test_store_image.c and test_mailbox_driver.c
# show they are used), and whatever changes before the next open — a
# message that arrives (by loft deliver or behind loft's back), one
# removed behind its back, flags — that open shows the folder as it is,
# threaded as a fresh build threads it; a change of sort is honoured and
# threads come back with `o t`.  The queue is counted after the first
# screen, in the background.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=threads' 'set smarthost='
W=$T_DIR/Mail/Warm
mkdir -p "$W/cur" "$W/new" "$W/tmp" "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" \
	"$T_DIR/Mail/INBOX/tmp"
# put DIR N SUBJECT [PARENT]: message N (date 1700000000 + N) in DIR.
put() {
	local irt=
	[ -n "${4:-}" ] && irt="In-Reply-To: <$4@example.org>
References: <$4@example.org>
"
	printf 'From: User %s <u%s@example.org>\nSubject: %s\nMessage-ID: <%s@example.org>\nDate: %s\n%s\nbody\n' \
		"$2" "$2" "$3" "$2" "$(date -u -R -d @$((1700000000 + $2)))" "$irt" > "$W/$1/$2.M$2P1.host:2,S"
	[ "$1" = new ] && mv "$W/new/$2.M$2P1.host:2,S" "$W/new/$2.M$2P1.host"
	touch -d @$((1700000000 + $2)) "$W"/"$1"/"$2".M"$2"P1.host*
}
for i in 0 1 2 3 4 5 6 7; do put cur "$i" "topic $i"; done
for i in 0 1 2 3; do put cur $((100 + i)) "Re: topic $i" "$i"; done

open_warm() {	# open_warm COUNT: starts the client on Warm, waits for COUNT rows
	tmux_start "$LOFT" -f +Warm
	tmux_wait "Warm \\[Msgs:$1 " 20 && tmux_settle
}
# quit: q, then until the client has exited (it keeps the snapshot as it closes).
quit() {
	tmux_keys q
	tmux_exited 10 >/dev/null
	tmux_stop
	# The next tmux_start on this socket must not meet the dying server.
	for _ in $(seq 100); do
		tmux -L "$TMUX_SOCK" list-sessions >/dev/null 2>&1 || break
		sleep 0.05
	done
	sleep 0.1
}
# The row after the one showing "topic N$": is it the reply (from User
# 10N; a reply's subject is not repeated under its topic), drawn under it?
under() { tmux_screen | grep -A1 -E "topic $1\$" | tail -1 | grep -Eq -- "User 10$1 .*─>"; }

open_warm 12; ok $? "first open: 12 messages"
quit
open_warm 12; ok $? "second open (from the state)"
under 2; ok $? "each reply under its topic"
quit
# (The first opens may rescan while the directories' times are too recent
# to be trusted: a few more, so that one reads the records and keeps.)
for i in 1 2 3; do open_warm 12 >/dev/null; quit; done
open_warm 12; SECOND=$(tmux_screen); quit
if command -v mdb_stat >/dev/null; then
	# The snapshot's head and its one part (folder_image.c), the threads.
	like "$(mdb_stat -s cache "$T_DIR/Mail/.loft/Warm" 2>&1)" 'Entries: 3' \
		"the state keeps the snapshot and the threads"
else
	skip "mdb_stat missing (lmdb-utils): the kept entries are not counted"
fi
open_warm 12; ok $? "another open (the kept snapshot and threads)"
is "$(tmux_screen)" "$SECOND" "the same screen as the open that read the records"
quit

# An arrival behind loft's back (another MDA writing new/).
put new 106 "Re: topic 6" 6
open_warm 13; ok $? "a message delivered behind loft's back is counted"
under 6; ok $? "and threaded under its topic: the kept threads were not used"
quit

# An arrival through loft deliver.
printf 'From: User 107 <u107@example.org>\nSubject: Re: topic 7\nMessage-ID: <107@example.org>\nDate: %s\nIn-Reply-To: <7@example.org>\n\nbody\n' \
	"$(date -u -R -d @1700000107)" | "$LOFT" deliver -m Warm
ok $? "loft deliver -m Warm"
open_warm 14; ok $? "a message delivered by loft is counted"
under 7; ok $? "and threaded under its topic"
quit

# Removed behind loft's back: the reply to topic 1.
rm "$W"/cur/101.M101P1.host*
ok $? "a reply removed behind loft's back"
open_warm 13; ok $? "13 messages after the removal"
! tmux_screen | grep -q 'User 101 '
ok $? "the removed reply is not shown"
under 0; ok $? "the other threads still drawn"
quit

# Flags changed behind loft's back (mutt marks topic 3 flagged).
mv "$W"/cur/3.M3P1.host:2,S "$W"/cur/3.M3P1.host:2,FS
open_warm 13; ok $? "the open after a flag change"
like "$(tmux_screen | grep -E 'topic 3$' | head -1)" '!' "shows the flag"
under 3; ok $? "and the same threads"
THREADED=$(tmux_screen)
# The sort changes: by date, no tree; back to threads, the same screen.
tmux_keys o d
tmux_gone '─>' 5; ok $? "o d: sorted by date, no thread tree"
tmux_keys o t
tmux_wait '─>' 5 && tmux_settle
is "$(tmux_screen)" "$THREADED" "o t: the threads again, as before"
quit

# The queue is counted in the background: the count comes after the
# first screen, without a key.
printf 'From: me@example.org\nTo: carol@remote.test\nSubject: waiting\n\nhi\n' |
	"$LOFT" sendmail -t -i
ok $? "a message queued for a remote address (no smarthost)"
open_warm 13
tmux_wait 'Queued:1\]' 10
ok $? "the status line counts it"
quit

done_testing
