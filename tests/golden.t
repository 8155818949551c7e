#!/bin/bash
# The golden set: every message in $SHARED/corpus/golden against its sidecar,
# field by field (tests/golden_compare.py; documented exceptions only where
# the sidecar marks Python's answer as questionable).  One line per message.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

G="$SHARED/corpus/golden"
have_shared && [ -d "$G" ] || skip_all "no golden corpus at $G (../shared is not part of the project)"
command -v python3 >/dev/null || skip_all "python3 not installed"

for eml in "$G"/*.eml; do
	side="${eml%.eml}.json"
	name=$(basename "$eml" .eml)
	"$LOFT" show --format=json "$eml" > "$T_DIR/out.json" 2> "$T_DIR/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		ok 1 "$name: loft show exit $rc"; diag "$(cat "$T_DIR/err")"; continue
	fi
	python3 "$TOP/tests/golden_compare.py" "$side" < "$T_DIR/out.json" > "$T_DIR/diff"
	rc=$?
	ok $rc "$name"
	cat "$T_DIR/diff"
done
done_testing
