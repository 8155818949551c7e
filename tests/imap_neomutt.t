#!/bin/bash
# neomutt over IMAP through `loft imapd` (its `tunnel`), scripted in tmux:
# open INBOX, read a message (\Seen appears in the store), flag one, delete
# one and sync with `$`, save one to another folder; the store is checked
# after each step.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
command -v neomutt >/dev/null || skip_all "neomutt not installed (tests/deps.sh)"
. "$TOP/tests/tmux.sh"

make_mailrc
M=$T_DIR/Mail
mkmsg() {
	printf 'From: Ann <ann@example.org>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$1" "$2" "$1" "$1"
}
for i in 1 2 3 4; do mkmsg "nm$i" "$i" | "$LOFT" -F "$MAILRC_FILE" deliver; done
printf 'a1 CREATE Archive\r\na2 LOGOUT\r\n' | "$LOFT" -F "$MAILRC_FILE" imapd | grep -q '^a1 OK'
ok $? "Archive created"
cat > "$T_DIR/muttrc" <<EOR
set tunnel="$LOFT -F $MAILRC_FILE imapd"
set folder="imap://loft/"
set spoolfile="+INBOX"
set imap_check_subscribed=no
set header_cache=""
set message_cachedir=""
set record=""
set postponed="+Drafts"
set sort=date
set mark_old=no
set delete=yes
set confirmappend=no
set move=no
set wait_key=no
set quit=yes
set beep=no
set sleep_time=0
set pager_stop=yes
EOR
# flags_of FOLDER ID: the maildir flags of the message, "gone" when missing
flags_of() {
	local f
	f=$(grep -l "Message-ID: <$2@" "$M/$1"/cur/* "$M/$1"/new/* 2>/dev/null | head -1)
	[ -n "$f" ] || { echo gone; return; }
	case $f in *:2,*) echo "${f##*:2,}" ;; *) echo "" ;; esac
}
count_of() { grep -l "Message-ID: <$2@" "$M/$1"/cur/* "$M/$1"/new/* 2>/dev/null | wc -l; }
# wait_for CMD WANT NAME: polls the store until CMD prints WANT (5 s)
wait_for() {
	local cmd=$1 want=$2 i got; shift 2
	for ((i = 0; i < 100; i++)); do
		got=$(eval "$cmd"); [ "$got" = "$want" ] && break
		sleep 0.05
	done
	is "$got" "$want" "$@"
}

tmux_start env HOME="$T_DIR" neomutt -n -F "$T_DIR/muttrc"
tmux_wait 'nm4' 20
ok $? "neomutt opens INBOX over the tunnel and lists the messages"
tmux_wait 'nm1.*' 1 && tmux_screen | grep -q 'nm2' && tmux_screen | grep -q 'nm3'
ok $? "all four subjects are shown"

# Read nm1 (the first by date): the pager shows its body.
tmux_keys -l '/nm1'; tmux_keys Enter
tmux_keys Enter
tmux_wait 'body of nm1' 10
ok $? "the pager shows the body of nm1"
tmux_keys q
tmux_wait 'nm4' 5
tmux_keys '$'
wait_for 'flags_of INBOX nm1' S "reading nm1 set \\Seen in the store"

# Flag nm2.
tmux_keys -l '/nm2'; tmux_keys Enter
tmux_keys F
tmux_keys '$'
wait_for 'flags_of INBOX nm2 | tr -d S' F "F on nm2 sets \\Flagged in the store"

# Delete nm3 and sync: purged from the store.
tmux_keys -l '/nm3'; tmux_keys Enter
tmux_keys d
tmux_keys '$'
wait_for 'flags_of INBOX nm3' gone "d then \$ purges nm3 from the store"

# Save nm4 to Archive (a copy, the original deleted), then sync.
tmux_keys -l '/nm4'; tmux_keys Enter
tmux_keys s
tmux_wait 'Save to mailbox' 5
ok $? "s asks for a mailbox"
tmux_keys C-u; tmux_keys -l '=Archive'; tmux_keys Enter
tmux_wait 'saved|Copying|Saving|nm4' 5
tmux_keys '$'
wait_for 'count_of Archive nm4' 1 "nm4 is in Archive once"
wait_for 'flags_of INBOX nm4' gone "and gone from INBOX after the sync"
is "$(flags_of INBOX nm1):$(flags_of INBOX nm2 | tr -d S):$(flags_of INBOX nm3)" "S:F:gone" \
	"the earlier changes are still there"
tmux_keys q
for ((i = 0; i < 100; i++)); do
	[ "$(tmux -L "$TMUX_SOCK" display -p '#{pane_dead}')" = 1 ] && break
	sleep 0.05
done
# (only whether it ended: tmux 3.3 sometimes records no exit status)
is "$(tmux -L "$TMUX_SOCK" display -p '#{pane_dead}')" 1 "q quits neomutt"
# The state as an IMAP client sees it agrees with the files.
st=$(python3 "$TOP/tests/imap_state.py" "$LOFT -F $MAILRC_FILE imapd" INBOX Archive)
like "$st" '^INBOX [0-9]+ nm1@example.org \\Seen$' "IMAP shows nm1 \\Seen"
like "$st" '^INBOX [0-9]+ nm2@example.org \\Flagged( \\Seen)?$' "IMAP shows nm2 \\Flagged"
like "$st" '^Archive [0-9]+ nm4@example.org' "IMAP shows nm4 in Archive"
[ "$(grep -c 'nm3@' <<< "$st")" = 0 ]; ok $? "nm3 is gone everywhere"
done_testing
