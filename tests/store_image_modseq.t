#!/bin/bash
# An open that loads a kept snapshot image and replays the changes since
# reads the records of messages the image has in new/ again (a \Recent
# claim moves them to cur/ without a new MODSEQ).  A flag change another
# process commits between the replay and that read must not give the
# message its new flags under the old MODSEQ (RFC 7162 3.1: one MODSEQ,
# one set of flags).  LOFT_CRASH_PAUSE at image:caught-up (after the
# replay, before that read) makes it deterministic.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail
NEW=$ROOT/INBOX/new

"$ST" -c "$ROOT" list > /dev/null
cp "$(small_msg one)" "$NEW/1000000001.M1P1.test"	# delivered by an MDA
# The first open gives it its UID; the second walks the records and keeps
# its snapshot as the image (-k, as an IMAP session does).
"$ST" -k "$ROOT" open INBOX > /dev/null && "$ST" -k "$ROOT" open INBOX > "$T_DIR/kept.out"
ok $? "two opens, the second keeps its image"
old=$(awk '$1 == 1 {print $4}' "$T_DIR/kept.out")
is "$(awk '$1 == 1 {print $5}' "$T_DIR/kept.out")" "new/1000000001.M1P1.test" \
	"UID 1 in new/ at MODSEQ ${old:-?}"
cp "$(small_msg two)" "$NEW/1000000002.M2P1.test"	# the next open replays it

LOFT_CRASH_PAUSE=image:caught-up "$ST" -k "$ROOT" open INBOX > "$T_DIR/open.out" \
	2> "$T_DIR/open.err" &
pid=$!
T_PIDS+=("$pid")
stopped "$pid"
ok $? "an open loaded the image, replayed the arrival and paused"
"$ST" "$ROOT" flags INBOX 1 +F
ok $? "meanwhile another process flags UID 1 (to cur/, a new MODSEQ)"
kill -CONT "$pid"; wait "$pid"
ok $? "the open finishes" || diag "$(cat "$T_DIR/open.err")"
"$ST" "$ROOT" open INBOX > "$T_DIR/after.out"
new=$(awk '$1 == 1 && $2 ~ /F/ {print $4}' "$T_DIR/after.out")
[ -n "$new" ] && [ "$new" -gt "${old:-0}" ]; ok $? "the state: UID 1 flagged at MODSEQ ${new:-?}"
diag "paused open: $(grep '^1 ' "$T_DIR/open.out")" "after: $(grep '^1 ' "$T_DIR/after.out")"
awk -v old="${old:-0}" -v new="${new:-0}" '$1 == 1 {
	exit !(($2 ~ /F/ && $4 == new) || ($2 !~ /F/ && $4 == old)) }' "$T_DIR/open.out"
ok $? "the paused open shows UID 1 flagged only with MODSEQ $new, unflagged only with $old"
grep -q '^2 ' "$T_DIR/open.out"; ok $? "and the replayed arrival"

done_testing
