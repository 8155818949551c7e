#!/bin/bash
# The stamps (mtimes of new/ and cur/ recorded in the state) under
# concurrent writers: loft's own changes, committed or under way, never
# make another process rescan the folder, and a reconcile never records
# stamps older than those a change carried forward meanwhile.  (Under the
# IMAP stress mix both made nearly every command rescan INBOX.)  Writers
# are paused with LOFT_CRASH_PAUSE; a reconcile shows as the crash point
# reconcile:scanned in LOFT_CRASH_TRACE.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail
# scans CMD...: runs storetool (10 s at most), prints how many reconciles
# (directory scans) it made, or "hung" when it did not finish.
scans() {
	rm -f "$T_DIR/trace"
	LOFT_CRASH_TRACE=$T_DIR/trace timeout 10 "$ST" "$@" > "$T_DIR/scans.out" 2>&1 ||
		{ echo hung; return; }
	grep -c '^reconcile:scanned$' "$T_DIR/trace" 2>/dev/null || echo 0
}

"$ST" -c "$ROOT" list > /dev/null
for m in one two three four; do "$ST" "$ROOT" append INBOX "$(small_msg $m)" S > /dev/null; done
is "$(scans "$ROOT" open INBOX)" 0 "a warm open reads no directory"

# 1. A flag change under way: file renamed, commit still to come (the
# writer holds the writer lock).  Another process opens and syncs the
# folder meanwhile: the files are newer than the stamps it reads, but the
# change is loft's own, so it neither rescans nor waits for the writer.
LOFT_CRASH_PAUSE=flags:after-rename "$ST" "$ROOT" setflags INBOX 1 +F > /dev/null 2>&1 &
w=$!
T_PIDS+=("$w")
stopped "$w"
ok $? "the flag change paused between its rename and its commit"
is "$(scans "$ROOT" open INBOX)" 0 "an open during another process's change under way does not rescan"
# A flag change that changes nothing (a session claiming \Recent another
# one took, a STORE of a flag already set) does not queue for the lock.
timeout 10 "$ST" "$ROOT" setflags INBOX 4 +S > /dev/null 2>&1
ok $? "a flag change that changes nothing completes while another process holds the writer lock"
kill -CONT "$w"
wait "$w"
ok $? "the paused flag change completed"
is "$(scans "$ROOT" open INBOX)" 0 "after its commit the stamps still vouch for the files"
like "$("$ST" "$ROOT" open INBOX)" "1 FS " "UID 1 has the new flag"

# 2. A reconcile that began before another process changed the files must
# not record its older stamps over the ones that change carried forward.
# Files changed behind loft's back make the next open reconcile; that one
# (A) is paused after its scan; a second open (B) reconciles fully, a flag
# change (C) then carries B's stamps forward, and A goes on.
f3=$(cd "$ROOT/INBOX/cur" && ls | grep -F "$("$ST" "$ROOT" open INBOX | awk '$1 == 3 { print $5 }' | sed 's|cur/||')")
mv "$ROOT/INBOX/cur/$f3" "$ROOT/INBOX/cur/${f3%:2,*}:2,RS"
LOFT_CRASH_PAUSE=reconcile:scanned "$ST" "$ROOT" open INBOX > /dev/null 2>&1 &
a=$!
T_PIDS+=("$a")
stopped "$a"
ok $? "reconcile A paused after its scan"
is "$(scans "$ROOT" open INBOX)" 1 "B reconciles the renamed file"
"$ST" "$ROOT" setflags INBOX 2 +F > /dev/null
kill -CONT "$a"
wait "$a"
ok $? "reconcile A completed"
is "$(scans "$ROOT" open INBOX)" 0 "A left the stamps C carried forward: the next open reads no directory"
out=$("$ST" "$ROOT" open INBOX)
like "$out" "2 FS " "UID 2 has C's flag"
like "$out" "3 RS " "UID 3 has the flags given behind loft's back"

done_testing
