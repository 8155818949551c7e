#!/bin/bash
# The mail client in tmux: the index of a folder, the pager on a multipart
# message, CJK and emoji alignment, delete + expunge on leaving, new mail
# appearing without a key press, resize to 40 columns and back.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=date'
M=$T_DIR/Mail/INBOX
mkdir -p "$M/cur" "$M/new" "$M/tmp" "$T_DIR/Mail/Sent/cur" "$T_DIR/Mail/Sent/new" "$T_DIR/Mail/Sent/tmp"

# mkmsg FILE FROM SUBJECT DAY [BODY]
mkmsg() {
	{
		printf 'From: %s\nTo: me@example.org\nSubject: %s\n' "$2" "$3"
		printf 'Date: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@example.org>\n' "$4" "$(basename "$1")"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "${5:-hello}"
	} > "$1"
}
mkmsg "$M/cur/1.a.host:2,S" "Alice Example <alice@example.org>" "Lunch on Friday" 1
mkmsg "$M/cur/2.b.host:2,S" "=?utf-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>" "=?utf-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy?=" 2
mkmsg "$M/cur/3.c.host:2," "=?utf-8?B?8J+YgCBTbWlsZXk=?= <smiley@example.org>" "Emoji sender here" 3
cp "$TOP/tests/fixtures/multipart.eml" "$M/cur/4.d.host:2,S"
mkmsg "$M/cur/5.e.host:2,S" "Bob <bob@example.org>" "Delete me please" 5

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:5 New:1' 10
ok $? "the index shows the folder with counts in the status line"
S=$(tmux_screen)
like "$S" 'Alice Example +.*Lunch on Friday' "a line with sender and subject"
like "$S" '山田太郎.*会議の議事録' "RFC 2047 CJK sender and subject decoded"
like "$S" '[NO] .*Smiley.*Emoji sender here' "an unread message is marked (O: old, already in cur/)"

# Alignment: the display column of the subject's "(" size column is the same
# on every line, whatever the widths before it (CJK, emoji).
cols=$(tmux_screen | python3 -c '
import sys, unicodedata
def w(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in s)
out = set()
for line in sys.stdin:
    line = line.rstrip("\n")
    i = line.find(" (")
    if i > 0 and line[:4].strip().isdigit():
        out.add(w(line[:i]))
print(len(out), sorted(out))')
like "$cols" '^1 ' "the column after the sender is aligned on every line ($cols)"

# The pager on the multipart message: decoded text and the attachment list.
tmux_keys -l '/Multipart'
tmux_wait 'Search for: Multipart' 5
tmux_keys Enter
tmux_gone 'Search for: '
tmux_keys Enter
tmux_wait 'Grüße aus München' 5
ok $? "the pager shows the quoted-printable latin-1 text decoded"
like "$(tmux_screen)" 'Attachment #2: été.png \(image/png, 24\)' "the attachment is listed with type and size"
! tmux_screen | grep -q '<html>'
ok $? "the HTML alternative is not shown"
tmux_keys v
tmux_wait 'image/png +24 +été.png' 5
ok $? "the attachment screen lists the parts"
tmux_keys q q
tmux_wait 'INBOX \[Msgs:5' 5

# Delete, then leave the folder: the file is gone.
tmux_keys -l '/Delete me'
tmux_keys Enter d
tmux_wait 'Del:1' 5
ok $? "d marks the message deleted"

# New mail appears without a key press (written atomically through tmp/).
mkmsg "$M/tmp/6.f.host" "Carol <carol@example.org>" "Arrived while open" 6
mv "$M/tmp/6.f.host" "$M/new/6.f.host"
tmux_wait 'Arrived while open' 5
ok $? "a message delivered into new/ shows up without a key press"
like "$(tmux_screen)" 'Msgs:6 New:2' "and the counts follow"

# Resize to 40 columns and back: the screen equals a fresh draw.
tmux_keys Home
tmux_settle
before=$(tmux_screen)
widest() {	# the widest line on the screen, in terminal cells
	tmux_screen | python3 -c '
import sys, unicodedata
print(max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l.rstrip("\n")) for l in sys.stdin))'
}
tmux_resize 40 40
# Wait for the redraw at the new size (the status line alone says nothing:
# it was there at 120 columns too).
for _ in $(seq 100); do [ "$(widest)" -le 40 ] && tmux_screen | grep -q '^--- INBOX' && break; sleep 0.1; done
[ "$(widest)" -le 40 ]
ok $? "at 40 columns nothing is wider than the window"
tmux_resize 120 40
for _ in $(seq 100); do [ "$(tmux_screen)" = "$before" ] && break; sleep 0.1; done
after=$(tmux_screen)
is "$after" "$before" "back at 120 columns the screen is as before"

tmux_keys q
tmux_wait 'Purge 1 deleted message' 5
tmux_keys y
for i in $(seq 50); do ls "$M"/cur/5.e.* >/dev/null 2>&1 || break; sleep 0.1; done
! ls "$M"/cur/5.e.* >/dev/null 2>&1
ok $? "the deleted message is gone from disk after leaving the folder"
ls "$M"/cur/1.a.* >/dev/null 2>&1
ok $? "the others stay"

done_testing
