#!/bin/bash
# loft sync in mirror mode against a private Dovecot, Python's imaplib
# watching the server: a first sync of several folders into an empty store
# (patterns and an exclusion, searchable at once); changes on each side --
# new messages, flags both ways, expunges, a move, new folders -- checked
# message by message from both sides; a second sync finds nothing; two
# loft stores on one account; a folder deleted on one side is only
# reported; sync_expunge=none; a UIDVALIDITY change (Dovecot's uidlist
# deleted) recovered without a duplicate; a server without UIDPLUS; folder
# names with brackets; mbsync afterwards changes nothing on the server;
# servers with CONDSTORE only, and with neither.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
obs seed INBOX 5 in '\Seen'
obs seed Lists/a 3 la
obs seed Lists/spam 2 sp
obs store INBOX '<in.2@example.org>' '+\Flagged'

# Exit statuses.
store_rc a
lsync a nosuch
is "$RC" 64 "an unknown account: 64"
store_rc off "" "sync=off"
lsync off
is "$RC" 69 "no account with sync on: 69"
like "$ERR" "no account has sync=mirror or sync=pull" "and says so"
store_rc down "$(free_port)"
lsync down
is "$RC" 75 "a server that does not answer: 75 (temporary)"

# 1. First sync into an empty store.
store_rc a
lsync a
is "$RC" 0 "first sync exits 0" || diag "$ERR"
like "$OUT" "dv: 3 folders, 8 down, 0 up" "it downloads 8 messages in 3 folders (INBOX, Lists/a, Sent)"
same a "first sync: INBOX and Lists/a hold the server's messages and flags" INBOX Lists/a Sent
[ ! -e "$T_DIR/a/Mail/Lists/spam" ]; ok $? "!Lists/spam keeps that folder out"
[ ! -e "$T_DIR/a/Mail/Trash/cur" ] || [ -z "$(ls "$T_DIR/a/Mail/Trash/cur")" ]
ok $? "Trash (not in sync_folders) is not copied"
run_loft -F "$T_DIR/a/mailrc" search --output=files id:la.2@example.org
like "$OUT" "Lists/a/" "downloaded mail is in the notmuch index after the sync" || diag "$ERR"

lsync a
like "$OUT" "dv: 3 folders, 0 down, 0 up, 0 flags here, 0 flags there, 0 expunged here, 0 expunged there" \
	"a second sync finds nothing to do"

# 2. Changes on both sides.
obs store INBOX '<in.1@example.org>' '+\Flagged'
obs store INBOX '<in.2@example.org>' '-\Seen'
obs expunge INBOX '<in.3@example.org>'
obs seed INBOX 2 rnew
obs move INBOX '<in.4@example.org>' Lists/a
obs create Lists/b
obs seed Lists/b 1 lb
M=$T_DIR/a/Mail
lflags "$T_DIR/a" INBOX in.5@ RS
rm "$(lfile "$T_DIR/a" Lists/a la.1@)"
printf 'From: me@example.org\nSubject: local\nMessage-ID: <lnew.1@example.org>\n\nhello\n' \
	> "$M/INBOX/new/100.local.test"
mkdir -p "$M"/Lists/c/{new,cur,tmp}
printf 'From: me@example.org\nSubject: c\nMessage-ID: <lc.1@example.org>\n\nhello\n' \
	> "$M/Lists/c/new/101.local.test"
lsync a
is "$RC" 0 "sync after changes on both sides exits 0" || diag "$ERR"
like "$OUT" "dv: 5 folders, 4 down, 2 up, 2 flags here, 1 flags there, 2 expunged here, 1 expunged there" \
	"4 down (2 new, a moved one, Lists/b's), 2 up, flags both ways, expunges both ways"
same a "after the changes: every folder the same on both sides, flag by flag" \
	INBOX Lists/a Lists/b Lists/c Sent
obs dump INBOX > "$T_DIR/inbox"
grep -q 'in.1@example.org> \\Flagged \\Seen$' "$T_DIR/inbox"; ok $? "\\Flagged set on the server reached the store"
grep -q 'in.5@example.org> \\Answered \\Seen$' "$T_DIR/inbox"; ok $? "\\Answered set in the store reached the server"
! grep -q 'in.4@' "$T_DIR/inbox"; ok $? "the message moved on the server left INBOX here"
lsync a
like "$OUT" "dv: 5 folders, 0 down, 0 up, 0 flags here, 0 flags there" "and the next sync finds nothing"

# 3. A second store on the same account (two laptops).
store_rc b
lsync b
is "$RC" 0 "a second store's first sync exits 0"
same b "the second store holds what the server holds" INBOX Lists/a Lists/b Lists/c Sent
obs store INBOX '<rnew.1@example.org>' '+\Seen'
lflags "$T_DIR/b" INBOX rnew.2@ F
lsync b
lsync a
same a "a flag set in store b and one on the server reach store a" INBOX
same b "and store b" INBOX
lsync b
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "store b then has nothing left to do"

# Keywords: set on the server, set in the store (through loft's IMAP server,
# as a phone would), removed on one side.
obs store INBOX '<in.1@example.org>' '+work'
sobs a store INBOX '<in.2@example.org>' '+$label1'
sobs a store INBOX '<in.4@example.org>' '+gone' 2>/dev/null || sobs a store Lists/a '<in.4@example.org>' '+gone'
lsync a
is "$RC" 0 "sync of keywords exits 0" || diag "$ERR"
is "$(sobs a dump INBOX Lists/a)" "$(obs dump INBOX Lists/a)" "keywords: the store (seen through loft imapd) and the server agree"
obs dump INBOX > "$T_DIR/inbox"
grep -q 'in.1@example.org> .*work' "$T_DIR/inbox" && grep -q 'in.2@example.org> .*\$label1' "$T_DIR/inbox"
ok $? "a keyword set on either side is on both"
obs store Lists/a '<in.4@example.org>' '-gone'
lsync a
! sobs a dump Lists/a | grep -q gone; ok $? "a keyword removed on the server is removed here"

# 4. A folder deleted on one side is only reported.
rm -rf "${M:?}/Lists/c"
lsync a
like "$ERR" "Lists/c was deleted here since the last sync: kept on the other side" "a folder deleted here is reported"
like "$(obs folders)" "Lists/c" "and stays on the server"
lsync a --delete-folders
unlike "$(obs folders)" "Lists/c" "--delete-folders deletes it on the server"

# 5. sync_expunge=none: an expunge on the server is not applied here, and
# the message is not copied back.
store_rc n "" "sync_expunge=none"
lsync n
obs expunge INBOX '<rnew.1@example.org>'
lsync n
[ -n "$(lfile "$T_DIR/n" INBOX rnew.1@)" ]; ok $? "sync_expunge=none keeps the message here"
lsync n
! obs dump INBOX | grep -q 'rnew.1@'; ok $? "and does not upload it again"
lsync a

# Patterns: only * is special ("[Gmail]/Sent Mail" style names).
obs seed '[X]/Sent Mail' 2 gm
SYNC_FOLDERS=\''INBOX "[X]/Sent Mail"'\' store_rc g
lsync g
is "$RC" 0 "a sync_folders name with brackets and a blank" || diag "$ERR"
same g "is matched literally and mirrored" "[X]/Sent Mail" INBOX
[ ! -e "$T_DIR/g/Mail/Lists" ]; ok $? "and nothing it does not name comes"

# A server without UIDPLUS (a proxy takes it out of the capabilities): an
# upload is found again by its Message-ID, so nothing comes back down.
PPORT=$(free_port)
PROXY_STRIP=UIDPLUS python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$DPORT" "$T_DIR/proxy.log" \
	> "$T_DIR/proxy.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && break; sleep 0.1; done
store_rc u "$PPORT"
lsync u
printf 'From: me@example.org\nSubject: u\nMessage-ID: <nouidplus.1@example.org>\n\nhi\n' \
	> "$T_DIR/u/Mail/INBOX/new/200.local.test"
lsync u
like "$OUT" "0 down, 1 up" "without UIDPLUS: the new message goes up" || diag "$ERR"
lsync u
like "$OUT" "0 down, 0 up" "and is paired by a SEARCH for its Message-ID: nothing comes back"
same u "without UIDPLUS: both sides agree" INBOX
grep -q 'SEARCH HEADER Message-ID' "$T_DIR/proxy.log"; ok $? "(the UID SEARCH was sent)"
# A sync of unchanged folders: one SELECT (QRESYNC) per folder, no FETCH.
lsync u
: > "$T_DIR/proxy.log"
lsync u
nf=$(sed -n 's/^dv: \([0-9]*\) folders.*/\1/p' <<<"$OUT")
is "$(grep -c ' SELECT .*QRESYNC' "$T_DIR/proxy.log")" "$nf" "a sync of $nf unchanged folders sends one SELECT (QRESYNC ...) each"
is "$(grep -ci 'FETCH' "$T_DIR/proxy.log")" 0 "and no FETCH"
lsync a

# mbsync on the same account afterwards: it changes nothing on the server
# (no flag half-pushed, no message missing or doubled) and its
# copy is the same as loft's store.
if command -v mbsync >/dev/null; then
	mkdir -p "$T_DIR/mb/Mail"
	cat > "$T_DIR/mb/rc" <<MB
IMAPAccount far
Host 127.0.0.1
Port $DPORT
User ann
Pass annpass1
SSLType None
AuthMechs LOGIN

IMAPStore far
Account far

MaildirStore near
Path $T_DIR/mb/Mail/
Inbox $T_DIR/mb/Mail/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns INBOX Lists/a
Create Both
Expunge Both
Sync All
SyncState *
MB
	mbsync_run() { HOME=$T_DIR/mb timeout 60 mbsync -q -c "$T_DIR/mb/rc" c 2>>"$T_DIR/mb/err"; }
	mbsync_run
	lflags "$T_DIR/a" INBOX in.1@ FRS
	rm "$(lfile "$T_DIR/a" Lists/a la.3@)"
	printf 'From: me@example.org\nSubject: m\nMessage-ID: <mb.1@example.org>\n\nhi\n' \
		> "$M/INBOX/new/300.local.test"
	lsync a
	before=$(obs sysdump INBOX Lists/a)
	mbsync_run
	ok $? "mbsync runs on the account loft synced" || diag "$(tail -3 "$T_DIR/mb/err")"
	is "$(obs sysdump INBOX Lists/a)" "$before" "mbsync finds nothing to change on the server after loft's sync"
	is "$(lobs "$T_DIR/mb" INBOX Lists/a)" "$(lobs "$T_DIR/a" INBOX Lists/a)" \
		"mbsync's copy and loft's store hold the same messages and flags"
else
	skip "mbsync is not installed (package isync)"
fi

# CONDSTORE without QRESYNC (Gmail's case), and neither: changes on the
# server found by CHANGEDSINCE (then UID SEARCH ALL for the expunge), or by
# every UID and flag.
k=0
for strip in QRESYNC "QRESYNC CONDSTORE"; do
	n=${strip// /_} k=$((k + 1))
	PPORT=$(free_port)
	PROXY_STRIP=$strip python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$DPORT" "$T_DIR/$n.log" \
		> "$T_DIR/$n.out" &
	T_PIDS+=($!)
	for _ in $(seq 100); do grep -q ready "$T_DIR/$n.out" && break; sleep 0.1; done
	store_rc "$n" "$PPORT"
	lsync "$n"
	# (words the proxy strips must not be in the messages)
	obs seed INBOX 2 "plain$k"
	obs store INBOX '<in.5@example.org>' '+\Draft'
	obs expunge INBOX "<plain$k.1@example.org>"
	lsync "$n"
	obs seed INBOX 1 "more$k"
	obs store INBOX '<in.2@example.org>' '+\Answered'
	obs expunge INBOX "<plain$k.2@example.org>"
	lsync "$n"
	is "$RC" 0 "without $strip: sync after server changes exits 0" || diag "$ERR"
	same "$n" "without $strip: a new message, a flag and an expunge on the server reach the store" INBOX
	obs store INBOX '<in.5@example.org>' '-\Draft'
	obs store INBOX '<in.2@example.org>' '-\Answered'
	lsync "$n"
	lsync a
done
grep -q 'CHANGEDSINCE' "$T_DIR/QRESYNC.log"; ok $? "(CONDSTORE only: UID FETCH ... CHANGEDSINCE was sent)"

# 6. UIDVALIDITY change on the server: Dovecot's uidlist and index deleted.
dovecot_stop
rm -f "$DV/mail/ann/dovecot-uidlist" "$DV/mail/ann"/dovecot.index*
dovecot_start
lsync a
is "$RC" 0 "sync after a UIDVALIDITY change exits 0" || diag "$ERR"
like "$ERR" "INBOX: the UIDVALIDITY changed on the server: [0-9]+ messages matched again by Message-ID and size, 0 to copy here, 0 to copy there" \
	"one line tells the user"
like "$OUT" " 0 down, 0 up" "nothing downloaded or uploaded again"
same a "no duplicate on either side" INBOX Lists/a
lsync a
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "the next sync finds nothing"

done_testing
