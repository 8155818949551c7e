#!/bin/bash
# Races between a reconcile (scan of the files, then the state) and another
# process's expunge or flag change: a message must never get a second UID.
# The reconcile is paused with LOFT_CRASH_PAUSE between its scan and its look
# at the state, the other process changes the folder, then it goes on.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail

"$ST" -c "$ROOT" list > /dev/null
uid=$("$ST" "$ROOT" append INBOX "$(small_msg one)" S)
is "$uid" 1 "a message appended as UID 1"
"$ST" "$ROOT" append INBOX "$(small_msg two)" S > /dev/null

# 1. The scan lists UID 1's file; before the state is read, another process
# expunges it (file unlinked, record removed, committed).  The reconcile then
# finds a key the state does not know: it must not add it as a new message.
touch -d '1 minute ago' "$ROOT/INBOX/cur"	# the files look changed: open reconciles
LOFT_CRASH_PAUSE=reconcile:scanned "$ST" "$ROOT" open INBOX > "$T_DIR/open.out" 2> "$T_DIR/open.err" &
pid=$!
T_PIDS+=("$pid")
stopped "$pid"
ok $? "the reconcile paused after its scan"
"$ST" "$ROOT" expunge INBOX 1
ok $? "meanwhile another process expunges UID 1"
kill -CONT "$pid"; wait "$pid"
ok $? "the reconcile finishes" || diag "$(cat "$T_DIR/open.err")"
is "$(grep -c '^[0-9]* ' "$T_DIR/open.out")" 1 "its snapshot has one message" ||
	diag "$(cat "$T_DIR/open.out")"
is "$(grep '^uidnext' "$T_DIR/open.out")" "uidnext 3" "and no UID was handed out"
"$ST" "$ROOT" open INBOX > "$T_DIR/after.out"
is "$(grep '^[0-9]* ' "$T_DIR/after.out" | awk '{print $1}' | tr '\n' ' ')" "2 " \
	"the folder holds UID 2 alone" || diag "$(cat "$T_DIR/after.out")"
is "$(grep '^uidnext' "$T_DIR/after.out")" "uidnext 3" "UIDNEXT unchanged"

# 2. The same with a flag change instead: the scan lists UID 2 under its old
# name, another process renames it (+F) and commits.  Still one UID for it,
# under its new name and flags.
touch -d '1 minute ago' "$ROOT/INBOX/cur"
LOFT_CRASH_PAUSE=reconcile:scanned "$ST" "$ROOT" open INBOX > "$T_DIR/open.out" 2> "$T_DIR/open.err" &
pid=$!
T_PIDS+=("$pid")
stopped "$pid"
ok $? "a second reconcile paused after its scan"
"$ST" "$ROOT" flags INBOX 2 +F
ok $? "meanwhile another process flags UID 2 (a rename)"
kill -CONT "$pid"; wait "$pid"
ok $? "the reconcile finishes" || diag "$(cat "$T_DIR/open.err")"
"$ST" "$ROOT" open INBOX > "$T_DIR/after.out"
is "$(grep '^[0-9]* ' "$T_DIR/after.out" | awk '{print $1, $2}' | tr '\n' ' ')" "2 FS " \
	"the folder holds UID 2 alone, flagged" || diag "$(cat "$T_DIR/after.out")"
is "$(grep '^uidnext' "$T_DIR/after.out")" "uidnext 3" "UIDNEXT unchanged"
is "$(ls "$ROOT/INBOX/cur" | wc -l)" 1 "one file"

# 3. One file listed under two names: a flag rename that beats the scan's
# three reads of cur/ leaves its old and its new name in the listing.  Made
# deterministic: both names exist while the scan reads (a hard link), the
# scan pauses between its readdir and its look at the names
# (maildir:scanned), the rename completes (the old name goes), the scan goes
# on.  The folder must open with the message once, under its new name.
uid3=$("$ST" "$ROOT" append INBOX "$(small_msg three)" S)
old=$(cd "$ROOT/INBOX/cur" && ls | grep -v ':2,FS$')
new=${old%:2,S}:2,RS
ln "$ROOT/INBOX/cur/$old" "$ROOT/INBOX/cur/$new"
touch -d '1 minute ago' "$ROOT/INBOX/cur"
LOFT_CRASH_PAUSE=maildir:scanned "$ST" "$ROOT" open INBOX > "$T_DIR/open.out" 2> "$T_DIR/open.err" &
pid=$!
T_PIDS+=("$pid")
stopped "$pid"
ok $? "a scan listed both names and paused"
rm "$ROOT/INBOX/cur/$old"
kill -CONT "$pid"; wait "$pid"
ok $? "the folder opens (no \"key already present\")" || diag "$(cat "$T_DIR/open.err")"
is "$(grep "^$uid3 " "$T_DIR/open.out" | awk '{print $2, $5}')" "RS cur/$new" \
	"UID $uid3 once, under its new name" || diag "$(cat "$T_DIR/open.out")"
"$ST" "$ROOT" open INBOX > "$T_DIR/after.out"
is "$(grep -c '^[0-9]* ' "$T_DIR/after.out")" 2 "two messages, UIDs 2 and $uid3" ||
	diag "$(cat "$T_DIR/after.out")"

# 4. Two files with one key (a copy under another name, by hand or by a
# program that links before it unlinks): the folder still opens, with the
# message once; the other file is named as a problem.
cp "$ROOT/INBOX/cur/$new" "$ROOT/INBOX/cur/${new%:2,RS}:2,FRS"
touch -d '1 minute ago' "$ROOT/INBOX/cur"
"$ST" "$ROOT" open INBOX > "$T_DIR/open.out" 2> "$T_DIR/open.err"
ok $? "a folder with two files of one key opens" || diag "$(cat "$T_DIR/open.err")"
is "$(grep -c "^$uid3 " "$T_DIR/open.out")" 1 "UID $uid3 listed once"
like "$(cat "$T_DIR/open.err")" "same key as cur/" "the second file is reported"
is "$(grep '^uidnext' "$T_DIR/open.out")" "uidnext $((uid3 + 1))" "no UID handed out for it"

done_testing
