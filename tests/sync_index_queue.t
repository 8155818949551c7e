#!/bin/bash
# The download of `loft sync` never waits on its indexer child
# (remote/sync_index.c).  The child stops for seconds in each Xapian
# commit, longer as the index grows; a parent that sent it the names
# straight down the socket stopped with it once the socket was full: at
# 25,000 messages seven stops of 10-26 s in one sync, more than half its
# download time.  The parent now queues the names the child has not
# taken.  Proved with an indexer that takes none (the notmuch writer's
# lock is held): the whole download is stored all the same, the sync
# then waits for the child, which indexes every file once the lock is
# free.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
export SYNC_FOLDERS=INBOX
obs seed INBOX 1 first
store_rc s
S=$T_DIR/s
lsync s
is "$RC" 0 "a first sync makes the index" || diag "$ERR"
LOCK=$(find "$S/Mail" -path '*/xapian/flintlock' | head -1)
[ -n "$LOCK" ]
ok $? "the index has a Xapian lock file" || diag "$(find "$S/Mail" -name 'flintlock*')"

# More names than the socket held before (its send buffer was asked for
# 1 MB: some 2,700 names here): 40 batches.
N=4000
obs seed INBOX "$N" many
stored() { find "$S/Mail/INBOX/cur" "$S/Mail/INBOX/new" -type f 2>/dev/null | wc -l; }
indexed() {
	"$LOFT" -F "$S/mailrc" search --output=files --limit 100000 "$1" 2>/dev/null | wc -l
}

# The tag pass at the sync's start opens the writer too: the lock is taken
# while the sync is stopped before its first download.
LOFT_CRASH_PAUSE=sync:intent-before-commit \
	"$LOFT" -F "$S/mailrc" sync > "$T_DIR/sync.out" 2>&1 &
SP=$!
T_PIDS+=("$SP")
stopped "$SP"
ok $? "the sync stops before its first download"
hold_lock "$LOCK" 300
ok $? "a process holds the notmuch writer's lock"
kill -CONT "$SP"

# Every message stored while the indexer takes nothing (120 s at most).
for _ in $(seq 1200); do
	[ "$(stored)" = $((N + 1)) ] && break
	kill -0 "$SP" 2>/dev/null || break
	sleep 0.1
done
is "$(stored)" $((N + 1)) "the whole download is stored while the indexer is stuck"
kill -0 "$SP" 2>/dev/null
ok $? "(the sync then waits for its indexer)"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
wait "$SP"
is "$?" 0 "the sync exits 0 once the writer is free" || diag "$(cat "$T_DIR/sync.out")"
is "$(indexed '*')" $((N + 1)) "every message is indexed"
is "$("$LOFT" -F "$S/mailrc" search --output=files --limit 100000 '*' | sort | uniq -d)" "" \
	"no file is indexed twice"
same s "the store holds the server's messages and flags" INBOX

done_testing
