#!/bin/bash
# Every file under $SHARED/corpus/real parses (json and text) without a
# crash, with exit 0.  One process for all files: the hidden --timing flag
# reports each file's time on stderr.  Speed is measured by `make bench
# BENCH=parse`; here a generous bound only catches a hang (2 s a file).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

R="$SHARED/corpus/real"
have_shared && [ -d "$R" ] || skip_all "no real corpus at $R (../shared is not part of the project)"

LIMIT_MS=${LIMIT_MS:-2000}
# ASan+UBSan is several times slower: the hang guard scales with it.
[ "${SANITIZE:-}" = 1 ] && LIMIT_MS=$((LIMIT_MS * 5))
find "$R" -type f ! -name '*.md' -print0 | sort -z > "$T_DIR/files"
n=$(tr -cd '\0' < "$T_DIR/files" | wc -c)
diag "$n files"

for fmt in json text; do
	xargs -0 "$LOFT" show --timing --format=$fmt < "$T_DIR/files" > /dev/null 2> "$T_DIR/err.$fmt"
	rc=$?
	# xargs: 123 = some invocation exited 1-125; 124-127 = crash/killed.
	ok $([ $rc -eq 0 ] && echo 0 || echo 1) "every file parses ($fmt), xargs exit $rc"
	[ $rc -eq 0 ] || grep -v '^# [0-9.]* ' "$T_DIR/err.$fmt" | head -20 | while read -r l; do diag "$l"; done
	got=$(grep -c '^# [0-9.]* ' "$T_DIR/err.$fmt")
	is "$got" "$n" "every file timed ($fmt)"
	slow=$(grep '^# [0-9.]* ' "$T_DIR/err.$fmt" | sed 's/^# //' | sort -g -r | head -3)
	diag "slowest ($fmt), ms:"; printf "%s\n" "$slow" | sed "s/^/#   /"
	max=$(printf '%s\n' "$slow" | head -1 | awk '{print $1}')
	awk -v m="$max" -v l="$LIMIT_MS" 'BEGIN { exit !(m + 0 < l) }'
	ok $? "no file hangs the parser: each under $LIMIT_MS ms ($fmt; max $max ms)"
done
done_testing
