#!/bin/bash
# A reconcile whose scan is older than the state: one MODSEQ is one set of
# flags (RFC 7162 3.1), and a scan's name that is gone never overwrites
# the record.  The reconcile is paused after its scan (LOFT_CRASH_PAUSE at
# reconcile:scanned); meanwhile another process expunges UID 2 (the scan
# still lists its file: every pass of the reconcile finds something to
# do), loft flags UID 1 (+F: renamed, committed with a new MODSEQ), and
# another program renames UID 1 once more (+R, as a mail reader does).
# The reconcile then sees, for UID 1, the scan's old name (\Seen only) and
# the record's name, both gone.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail
CUR=$ROOT/INBOX/cur

"$ST" -c "$ROOT" list > /dev/null
uid=$("$ST" "$ROOT" append INBOX "$(small_msg one)" S)
is "$uid" 1 "UID 1 appended, \\Seen"
"$ST" "$ROOT" append INBOX "$(small_msg two)" S > /dev/null
ok $? "UID 2 appended"

touch -d '1 minute ago' "$CUR"	# the files look changed: the open reconciles
LOFT_CRASH_PAUSE=reconcile:scanned "$ST" "$ROOT" open INBOX > "$T_DIR/open.out" 2> "$T_DIR/open.err" &
pid=$!
T_PIDS+=("$pid")
stopped "$pid"
ok $? "the reconcile paused after its scan"
"$ST" "$ROOT" expunge INBOX 2
ok $? "another process expunges UID 2"
"$ST" "$ROOT" flags INBOX 1 +F
ok $? "another process flags UID 1"
"$ST" "$ROOT" open INBOX > "$T_DIR/mid.out"
fs=$(awk '$1 == 1 && $2 == "FS" {print $4}' "$T_DIR/mid.out")
[ -n "$fs" ]; ok $? "the state has UID 1 as FS at MODSEQ ${fs:-?}"
name=$(cd "$CUR" && ls | grep ':2,FS$')
[ -n "$name" ]; ok $? "UID 1 is $name"
mv "$CUR/$name" "$CUR/${name%:2,FS}:2,FRS"
ok $? "a mail reader renames it (+R)"
kill -CONT "$pid"; wait "$pid"
ok $? "the reconcile finishes" || diag "$(cat "$T_DIR/open.err")"
"$ST" "$ROOT" open INBOX > "$T_DIR/after.out"
diag "reconcile: $(grep '^1 ' "$T_DIR/open.out")" "after: $(grep '^1 ' "$T_DIR/after.out")"

# UID 1 as the reconcile's snapshot has it: FS (the record) or FRS (the
# file), never the scan's S; and S is never written into the state.
got=$(awk '$1 == 1 {print $2}' "$T_DIR/open.out")
[ "$got" = FS ] || [ "$got" = FRS ]
ok $? "the reconcile shows UID 1 as FS or FRS, not the scan's old flags (got ${got:-none})"
is "$(awk '$1 == 1 {print $2, $5}' "$T_DIR/after.out")" "FRS cur/${name%:2,FS}:2,FRS" \
	"the next open: UID 1 as the file is"
# One MODSEQ, one set of flags: the reconcile's MODSEQ for UID 1 is FS's
# (the flag change) only if its flags are FS.
awk -v fs="${fs:-0}" '$1 == 1 && $4 == fs && $2 != "FS" {bad = 1} END {exit bad}' \
	"$T_DIR/open.out" "$T_DIR/after.out"
ok $? "no other flags under FS's MODSEQ"
ms_open=$(awk '$1 == 1 {print $4}' "$T_DIR/open.out")
ms_after=$(awk '$1 == 1 {print $4}' "$T_DIR/after.out")
[ "${ms_after:-0}" -ge "${ms_open:-0}" ] && { [ "$ms_after" -gt "$ms_open" ] ||
	[ "$(awk '$1 == 1 {print $2}' "$T_DIR/open.out")" = FRS ]; }
ok $? "FRS came with a MODSEQ of its own ($ms_open, then $ms_after)"

done_testing
