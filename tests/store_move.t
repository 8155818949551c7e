#!/bin/bash
# Moves between two maildirs (tests/tools/storetool): the destination holds
# the same file (inode), and two processes
# moving in opposite directions at once neither deadlock (both folders'
# writer locks are taken in one fixed order) nor lose or duplicate a message.
. "$TOP/tests/lib.sh"

ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"
ROOT=$T_DIR/Mail
"$ST" -c "$ROOT" list > /dev/null
for i in 1 2 3 4 5; do "$ST" "$ROOT" append INBOX "$(small_msg m$i)" S > /dev/null; done

# 1. The destination holds the very file (same inode).
loc=$("$ST" "$ROOT" open INBOX | awk '$1 == 1 { print $5 }')
ino=$(stat -c %i "$ROOT/INBOX/$loc")
nuid=$("$ST" "$ROOT" move INBOX 1 Trash)
ok $? "UID 1 moved to Trash as UID $nuid"
nloc=$("$ST" "$ROOT" open Trash | awk -v u="$nuid" '$1 == u { print $5 }')
is "$(stat -c %i "$ROOT/Trash/$nloc" 2>/dev/null)" "$ino" "the same file (inode $ino)"
is "$("$ST" "$ROOT" open INBOX | awk '$1 == 1' | wc -l)" 0 "UID 1 gone from INBOX"

# 2. Opposite moves at once, many rounds.
mover() {	# mover FROM TO ROUNDS
	for _ in $(seq "$3"); do
		"$ST" "$ROOT" moveset "$1" 1:5000 "$2" > /dev/null || { echo "moveset $1 -> $2 failed"; return 1; }
	done
}
timeout 120 bash -c "$(declare -f mover); ST=$ST ROOT=$ROOT; mover INBOX Trash 25" > "$T_DIR/a.out" 2>&1 &
a=$!
timeout 120 bash -c "$(declare -f mover); ST=$ST ROOT=$ROOT; mover Trash INBOX 25" > "$T_DIR/b.out" 2>&1 &
b=$!
T_PIDS+=("$a" "$b")
wait "$a"; ra=$?
wait "$b"; rb=$?
is "$ra $rb" "0 0" "25 rounds each way finish (no deadlock, no failure)" ||
	diag "$(cat "$T_DIR/a.out" "$T_DIR/b.out")"
ids() { for f in INBOX Trash; do "$ST" "$ROOT" open "$f" | awk 'NR > 3 { print $5 }' |
	while read -r l; do grep -h '^Message-ID:' "$ROOT/$f/$l"; done; done | sort; }
is "$(ids | tr '\n' ' ')" "$(for i in 1 2 3 4 5; do echo "Message-ID: <m$i@example.org>"; done | tr '\n' ' ')" \
	"each message listed exactly once across the two folders"
is "$(find "$ROOT/INBOX" "$ROOT/Trash" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)" 5 \
	"five files in all"

done_testing
