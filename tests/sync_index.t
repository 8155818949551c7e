#!/bin/bash
# `loft sync` indexes beside the download (remote/sync_index.c): a child
# process indexes each stored batch while the next one downloads, and the
# catch-up scan at the end does the rest.  Proved here: the batches stored
# before a kill are indexed (with their flag tags) although the killed
# sync never reached its catch-up; the next sync indexes each file once;
# an indexer child left behind (blocked on the notmuch writer) does not
# hold the account's sync lock after its parent died; and a sync killed
# after storing leaves the index marked behind, so the next one indexes
# what it stored.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
export SYNC_FOLDERS=INBOX
# Three batches (remote/sync_copy.c takes 100 messages a batch).
obs seed INBOX 150 flg '\Flagged'
obs seed INBOX 100 pln
store_rc s
S=$T_DIR/s

# indexed QUERY: how many files `loft search` finds (the notmuch index as
# a reader sees it: only what a writer committed).
indexed() {
	"$LOFT" -F "$S/mailrc" search --output=files --limit 10000 "$1" 2>/dev/null | wc -l
}
# indexed_wait N: until the index holds N files (20 s at most): the child
# ends, committing, once it has indexed what it was sent.
indexed_wait() {
	for _ in $(seq 200); do
		[ "$(indexed '*')" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

LOFT_CRASH_AT='sync:stored#2' run_loft -F "$S/mailrc" sync
is "$RC" 137 "a first sync killed after its second stored batch"
indexed_wait 200
ok $? "the two stored batches are indexed though the killed sync never ran its catch-up" ||
	diag "indexed: $(indexed '*')"
is "$(indexed tag:flagged)" 150 "with their flag tags (\\Flagged -> flagged)"
is "$(indexed tag:unread)" 200 "and new.tags (unread, nothing was \\Seen)"

lsync s
is "$RC" 0 "the next sync exits 0" || diag "$ERR"
is "$(indexed '*')" 250 "every message is indexed after it"
is "$("$LOFT" -F "$S/mailrc" search --output=files --limit 10000 '*' | sort | uniq -d)" "" \
	"no file is indexed twice"
is "$(indexed tag:flagged)" 150 "the flagged ones are tagged flagged"
same s "the store holds the server's messages and flags" INBOX

# An indexer child blocked on the notmuch writer (held here through
# Xapian's lock file) outlives its killed parent: the account's sync lock
# must go with the parent all the same.  The lock is taken while the sync
# is stopped before its first download (the tag pass at its start opens
# the writer too), and the sync is killed once that batch is stored.
LOCK=$(find "$S/Mail" -path '*/xapian/flintlock' | head -1)
[ -n "$LOCK" ]
ok $? "the index has a Xapian lock file" || diag "$(find "$S/Mail" -name 'flintlock*')"
obs seed INBOX 20 more
LOFT_CRASH_PAUSE=sync:intent-before-commit LOFT_CRASH_AT=sync:stored \
	"$LOFT" -F "$S/mailrc" sync > "$T_DIR/killed.out" 2>&1 &
SP=$!
T_PIDS+=("$SP")
stopped "$SP"
ok $? "the sync stops before its first download"
hold_lock "$LOCK" 120
ok $? "a process holds the notmuch writer's lock"
kill -CONT "$SP"
wait "$SP"
is "$?" 137 "the sync, continued, is killed after its stored batch (its indexer waits for the writer)"
kill -0 "$HOLDER"
ok $? "(the lock is still held, so the indexer child still waits)"
SYNCLOCK=$(find "$S/Mail" -path '*/sync/dv/lock' | head -1)
flock -n "$SYNCLOCK" true
ok $? "the account's sync lock is free at once" || diag "lock: $SYNCLOCK"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
indexed_wait 270
ok $? "the waiting indexer indexes the batch once the writer is free" ||
	diag "indexed: $(indexed '*')"
lsync s
is "$RC" 0 "the next sync exits 0" || diag "$ERR"
is "$(indexed '*')" 270 "all 270 are indexed, once each"

# Killed after the store's commit, before the indexer was told: the mark
# made before the change has the next sync index them (it changes nothing
# itself, so before the mark it left them out of the index for good).
obs seed INBOX 5 late
LOFT_CRASH_AT=batch:after-commit run_loft -F "$S/mailrc" sync
is "$RC" 137 "a sync killed right after its store commit"
[ -n "$(find "$S/Mail" -name index-pending)" ]
ok $? "it left the index marked behind (any reader would catch up first)"
lsync s
is "$RC" 0 "the next sync exits 0" || diag "$ERR"
like "$OUT" "dv: 1 folders, 0 down" "it downloads nothing"
is "$(indexed '*')" 275 "and indexes the 5 the killed one stored"

# Flag changes on the server: the sync has notmuch rename each file to
# the store's name for it, the index following in one load of the message
# (index_flag_rename), so no message file is read again (the catch-up scan
# took each as a new file to parse, then removed the old name) and the
# index names exactly the files on disk.
on_disk() { find "$S/Mail/INBOX/cur" "$S/Mail/INBOX/new" -type f | sort; }
in_index() { "$LOFT" -F "$S/mailrc" search --output=files --limit 10000 '*' | sort; }
for i in 1 2 3 4; do obs store INBOX "<pln.$i@example.org>" '+\Flagged'; done
if command -v strace >/dev/null; then
	# LeakSanitizer cannot run under ptrace: no leak check for this one.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=open,openat -o "$T_DIR/strace" "$LOFT" -F "$S/mailrc" sync > /dev/null 2>&1
	is "$?" 0 "a sync of four flag changes from the server exits 0"
	is "$(grep -c '/INBOX/\(cur\|new\)/' "$T_DIR/strace")" 0 "it opens no message file" ||
		diag "$(grep '/INBOX/\(cur\|new\)/' "$T_DIR/strace" | head -3)"
else
	lsync s
	is "$RC" 0 "a sync of four flag changes from the server exits 0" || diag "$ERR"
	skip "strace missing: the sync's opens not checked"
fi
is "$(indexed tag:flagged)" 154 "the four are tagged flagged"
is "$(in_index)" "$(on_disk)" "the index names exactly the files on disk"
same s "the store has the server's flags" INBOX

# Killed after notmuch renamed a file, before the store did (the index
# not committed), and after the store's rename, before its commit: the
# store takes the name as the same change made by another program, the
# next catch-up the rename.
n=10
for point in sync:flag-index-renamed flags:after-rename; do
	n=$((n + 1))
	obs store INBOX "<pln.$n@example.org>" '+\Seen'
	obs store INBOX "<pln.$((n + 10))@example.org>" '+\Seen'
	LOFT_CRASH_AT=$point run_loft -F "$S/mailrc" sync
	is "$RC" 137 "a sync killed at $point"
	lsync s
	is "$RC" 0 "the next sync exits 0" || diag "$ERR"
	same s "$point: the store and the server agree" INBOX
	is "$(in_index)" "$(on_disk)" "$point: the index names exactly the files on disk"
done
is "$(indexed tag:unread)" 271 "the four seen are not unread"

# A file renamed by another program (mutt) is still found by a scan.
lflags "$S" INBOX "pln.30@" FS
"$LOFT" -F "$S/mailrc" index > /dev/null 2>&1
is "$(in_index)" "$(on_disk)" "loft index finds a file another program renamed"
is "$("$LOFT" -F "$S/mailrc" search --output=files 'id:pln.30@example.org AND tag:flagged AND NOT tag:unread' | wc -l)" 1 \
	"with its flags as tags"

done_testing
