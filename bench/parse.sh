#!/bin/bash
# Parsing every real message in $SHARED/corpus/real with `loft show` (one
# process for all files; the hidden --timing flag reports each file's time).
# The functional suite (tests/corpus.t) only checks that every file parses;
# the speed is measured here.  Prints, for json and for text output:
#   bench: parse_FMT_max MS ms      (the slowest file; goal under 100 ms)
#   bench: parse_FMT_median MS ms
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SHARED:=$TOP/../shared}"
: "${LOFT:=$TOP/build/loft}"
R=$SHARED/corpus/real
[ -d "$R" ] || { echo "bench: parse skipped: no real corpus at $R"; exit 0; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
find "$R" -type f ! -name '*.md' -print0 | sort -z > "$WORK/files"
for fmt in json text; do
	xargs -0 "$LOFT" show --timing --format=$fmt < "$WORK/files" > /dev/null 2> "$WORK/err"
	grep '^# [0-9.]* ' "$WORK/err" | awk '{print $2}' | sort -g > "$WORK/ms"
	n=$(wc -l < "$WORK/ms")
	echo "bench: parse_${fmt}_max $(tail -1 "$WORK/ms") ms"
	echo "bench: parse_${fmt}_median $(sed -n "$(( (n + 1) / 2 ))p" "$WORK/ms") ms"
done
