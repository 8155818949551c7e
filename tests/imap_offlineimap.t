#!/bin/bash
# offlineimap3 syncing a local maildir with loft over `loft imapd`
# (preauthtunnel), both ways: the first full sync, then a new message, a
# flag and a deletion on each side.  After each run both sides must hold the
# same messages (Message-ID) with the same flags, folder by folder.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v offlineimap >/dev/null || skip_all "offlineimap (offlineimap3) not installed (tests/deps.sh)"
make_mailrc
LOCAL=$T_DIR/local
mkdir -p "$LOCAL"
cat > "$T_DIR/offlineimaprc" <<EOR
[general]
accounts = t
metadata = $T_DIR/offlineimap-meta
ui = quiet

[Account t]
localrepository = local
remoterepository = loft

[Repository local]
type = Maildir
localfolders = $LOCAL
sep = /

[Repository loft]
type = IMAP
preauthtunnel = $LOFT -F $MAILRC_FILE imapd
folderfilter = lambda f: f in ["INBOX", "Work"]
EOR
osync() {
	HOME=$T_DIR timeout 120 offlineimap -c "$T_DIR/offlineimaprc" -o >>"$T_DIR/oi.log" 2>&1
}
mkmsg() { printf 'From: x@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody %s\n' "$1" "$1" "$1"; }
# side ROOT: "FOLDER MESSAGE-ID FLAGS" for every message, sorted (offlineimap
# does not carry \Recent; loft's store keeps no other letter than DFRST).
side() {
	local f id dir fl
	find "$1" -path '*/.loft' -prune -o \( -path '*/cur/*' -o -path '*/new/*' \) -type f -print |
	while read -r f; do
		id=$(grep -m1 -i '^Message-ID:' "$f" | tr -d '\r' | sed 's/.*<//; s/>.*//')
		dir=$(dirname "$(dirname "$f")"); dir=${dir#"$1"/}
		fl=${f##*:2,}; [ "$fl" = "$f" ] && fl=
		echo "$dir $id ${fl//[^DFRST]/}"
	done | grep -E '^(INBOX|Work) ' | sort
}
agree() {	# agree NAME: both sides hold the same messages and flags
	local a b
	a=$(side "$T_DIR/Mail") b=$(side "$LOCAL")
	is "$b" "$a" "$1: both sides agree ($(echo "$a" | grep -c .) messages)" ||
		diag "$(tail -5 "$T_DIR/oi.log")"
}
find_msg() { grep -l "Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null | head -1; }
set_flags() {	# set_flags FILE FLAGS: renames a maildir file as a MUA would
	local f=$1 d
	d=$(dirname "$(dirname "$f")")/cur
	mv "$f" "$d/$(basename "${f%%:2,*}"):2,$2"
}

for i in 1 2 3; do mkmsg "srv$i" | "$LOFT" -F "$MAILRC_FILE" deliver; done
mkmsg work1 | "$LOFT" -F "$MAILRC_FILE" deliver -m Work
osync; ok $? "offlineimap: first sync"
agree "first sync"
[ "$(side "$LOCAL" | grep -c 'srv\|work1')" = 4 ]; ok $? "the four messages arrived locally (INBOX and Work)"

# A new message and a flag on each side.
mkmsg srv4 | "$LOFT" -F "$MAILRC_FILE" deliver
mkmsg loc1 > "$LOCAL/INBOX/new/1700000000.loc1.host:2,"
mkmsg loc2 > "$LOCAL/Work/new/1700000001.loc2.host:2,"
set_flags "$(find_msg "$LOCAL/INBOX" srv1)" F
set_flags "$(find_msg "$T_DIR/Mail/INBOX" srv2)" S
printf 'a1 SELECT Work\r\na2 UID STORE 1 +FLAGS (\\Answered \\Seen)\r\na3 LOGOUT\r\n' |
	"$LOFT" -F "$MAILRC_FILE" imapd | grep -q '^a2 OK'; ok $? "a flag set on the server through IMAP"
osync; ok $? "offlineimap: second sync (new message and flag on each side)"
agree "after new messages and flags"
like "$(side "$LOCAL")" '^INBOX srv1@example.org F$' "the local flag reached the server side too"
like "$(side "$T_DIR/Mail")" '^Work work1@example.org RS$' "the IMAP flag is on both sides"

# A deletion on each side: offlineimap deletes by removing the file.
rm "$(find_msg "$LOCAL/INBOX" srv3)"
printf 'a1 SELECT INBOX\r\na2 UID STORE 4 +FLAGS (\\Deleted)\r\na3 EXPUNGE\r\na4 LOGOUT\r\n' |
	"$LOFT" -F "$MAILRC_FILE" imapd | grep -q '^a3 OK'; ok $? "UID 4 (srv4) expunged on the server"
osync; ok $? "offlineimap: third sync (a deletion on each side)"
agree "after the deletions"
[ -z "$(side "$LOCAL" | grep -E 'srv3|srv4')$(side "$T_DIR/Mail" | grep -E 'srv3|srv4')" ]
ok $? "srv3 and srv4 are gone on both sides"
osync; ok $? "offlineimap: a fourth run with nothing to do"
agree "after a no-op run"
grep -iE 'error|traceback' "$T_DIR/oi.log" | head -5 | while read -r l; do diag "$l"; done
! grep -qiE 'error|traceback' "$T_DIR/oi.log"; ok $? "offlineimap logged no error"
done_testing
