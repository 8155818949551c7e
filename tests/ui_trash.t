#!/bin/bash
# Deleting in the mail client loses nothing: purged messages move to
# `trash` byte for byte (and are removed only when purged in the trash
# itself or with trash unset); `$` asks like leaving the folder does; a
# message another program flagged deleted is not purged; when the move to
# the trash fails nothing is removed and the user is told why.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=date'
M=$T_DIR/Mail/INBOX
TR=$T_DIR/Mail/Trash
mkdir -p "$M/cur" "$M/new" "$M/tmp"

# mkmsg FILE SUBJECT DAY
mkmsg() {
	printf 'From: Bob <bob@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$2" "$3" "$(basename "$1")" "$2" > "$1"
}
mkmsg "$M/cur/1.a.host:2,S" "First keeper" 1
mkmsg "$M/cur/2.b.host:2,S" "Bin me" 2
mkmsg "$M/cur/3.c.host:2,S" "Flagged elsewhere" 3
mkmsg "$M/cur/4.d.host:2,S" "Dollar sign" 4
cp "$M/cur/2.b.host:2,S" "$T_DIR/orig-b"
cp "$M/cur/4.d.host:2,S" "$T_DIR/orig-d"

# A new loft in a new tmux server (a killed server may still hold its socket).
restart() { tmux_stop; TMUX_SOCK="$TMUX_SOCK.n"; tmux_start "$@"; }

trash_file() {	# trash_file SUBJECT: the file in the trash with it, or nothing
	grep -l "^Subject: $1\$" "$TR"/cur/* "$TR"/new/* 2>/dev/null | head -1
}

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:4' 10
ok $? "the index is up"

# Another program flags a message deleted (maildir T) behind our back.
mv "$M/cur/3.c.host:2,S" "$M/cur/3.c.host:2,ST"
tmux_wait 'Del:1' 5
ok $? "the message flagged by another program shows as deleted"

# $ asks, under delete_confirm, and only about what we deleted.
tmux_keys -l '/Dollar sign'
tmux_keys Enter d
tmux_wait 'Del:2' 5
tmux_keys '$'
tmux_wait 'Purge 1 deleted message\?' 5
ok $? "\$ asks before purging, counting only the message deleted here"
tmux_keys n
tmux_gone 'Purge 1 deleted message'
ls "$M"/cur/4.d.* >/dev/null 2>&1
ok $? "answered no: the message stays"
tmux_keys '$'
tmux_wait 'Purge 1 deleted message\?' 5
tmux_keys y
tmux_wait '1 message moved to \+Trash' 5
ok $? "answered yes: the message line says it moved to the trash"
f=$(trash_file 'Dollar sign')
ok $([ -n "$f" ] && cmp -s "$f" "$T_DIR/orig-d"; echo $?) "the message is in Trash, byte-identical"
ok $(case "$f" in ''|*:2,*T*) echo 1 ;; *) echo 0 ;; esac) "and not flagged deleted there ($f)"
! ls "$M"/cur/4.d.* >/dev/null 2>&1
ok $? "and gone from INBOX"
ls "$M"/cur/3.c.* >/dev/null 2>&1
ok $? "the message flagged by another program is not purged"

# Delete, leave: the message is found in Trash byte-identical.
tmux_keys -l '/Bin me'
tmux_keys Enter d q
tmux_wait 'Purge 1 deleted message\?' 5
ok $? "leaving asks about the one message deleted here"
tmux_keys y
for i in $(seq 50); do ls "$M"/cur/2.b.* >/dev/null 2>&1 || break; sleep 0.1; done
f=$(trash_file 'Bin me')
ok $([ -n "$f" ] && cmp -s "$f" "$T_DIR/orig-b"; echo $?) "after d and leaving, the message is in Trash, byte-identical"
! ls "$M"/cur/2.b.* >/dev/null 2>&1
ok $? "and gone from INBOX"
ls "$M"/cur/1.a.* "$M"/cur/3.c.* >/dev/null 2>&1
ok $? "the others stay"

# Purged in the trash itself: removed for good.
restart "$LOFT" -f +Trash
tmux_wait 'Trash \[Msgs:2' 10
ok $? "the trash holds the two messages"
tmux_keys -l '/Bin me'
tmux_keys Enter d q
tmux_wait 'Purge 1 deleted message\?' 5
tmux_keys y
for i in $(seq 50); do [ -z "$(trash_file 'Bin me')" ] && break; sleep 0.1; done
ok $([ -z "$(trash_file 'Bin me')" ] && [ -n "$(trash_file 'Dollar sign')" ]; echo $?) \
	"purged in Trash, the message is deleted for good (the other stays)"

# The trash cannot be opened: nothing is removed, and the user is told.
make_mailrc 'set sort=date' 'set trash=/dev/null/Trash'
restart "$LOFT"
tmux_wait 'INBOX \[Msgs:2' 10
tmux_keys -l '/First keeper'
tmux_keys Enter d '$'
tmux_wait 'Purge 1 deleted message\?' 5
tmux_keys y
tmux_wait 'cannot open the trash /dev/null/Trash: ' 5
ok $? "a trash that cannot be opened: the message line says so"
# The message is wider than the screen: it wraps, its end is shown too.
like "$(tmux_screen | tail -3 | tr -d '\n')" 'no such folder.*nothing ?was deleted$' \
	"the whole error is on the screen, not cut at the edge"
ls "$M"/cur/1.a.* >/dev/null 2>&1
ok $? "and the message stays"

# unset trash: purging deletes for good.
make_mailrc 'set sort=date' 'unset trash'
restart "$LOFT"
tmux_wait 'INBOX \[Msgs:2' 10
tmux_keys -l '/First keeper'
tmux_keys Enter d q
tmux_wait 'Purge 1 deleted message\?' 5
tmux_keys y
for i in $(seq 50); do ls "$M"/cur/1.a.* >/dev/null 2>&1 || break; sleep 0.1; done
! ls "$M"/cur/1.a.* >/dev/null 2>&1
ok $? "with trash unset the message is removed"
ok $([ -z "$(trash_file 'First keeper')" ]; echo $?) "and not put in Trash"

# Saved to another folder with s, then purged: the saved copy is the one
# that counts, none goes to the trash (mutt does the same).
make_mailrc 'set sort=date'
mkmsg "$M/cur/5.e.host:2,S" "Save me" 5
mkdir -p "$T_DIR"/Mail/Archive/cur "$T_DIR"/Mail/Archive/new "$T_DIR"/Mail/Archive/tmp
restart "$LOFT"
tmux_wait 'INBOX \[Msgs:2' 10
tmux_keys -l '/Save me'
tmux_keys Enter s
tmux_wait 'Save to folder: ' 5
tmux_keys C-u
tmux_keys -l '+Archive'
tmux_keys Enter
tmux_wait 'saved to \+Archive' 5
ok $? "s saves the message to +Archive"
tmux_keys q
tmux_wait 'Purge 1 deleted message\?' 5
tmux_keys y
for i in $(seq 50); do ls "$M"/cur/5.e.* >/dev/null 2>&1 || break; sleep 0.1; done
! ls "$M"/cur/5.e.* >/dev/null 2>&1
ok $? "the saved message is purged from INBOX on leaving"
grep -lqs '^Subject: Save me$' "$T_DIR"/Mail/Archive/cur/* "$T_DIR"/Mail/Archive/new/*
ok $? "it is in Archive"
ok $([ -z "$(trash_file 'Save me')" ]; echo $?) "and no second copy went to Trash"

done_testing
