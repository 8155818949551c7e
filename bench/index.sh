#!/bin/bash
# loft index / loft search beside notmuch new / notmuch search on the same
# maildir (mkcorpus.py --seed 7, BENCH_COUNT messages, default 100000).
#
# The maildir is cached in build/bench/ and never written to: loft keeps its
# database in a work directory (`notmuch_database`), notmuch gets a
# hard-linked copy of the maildir with its own config.  Both run on a warm
# page cache.  Prints:
#   bench: index_rate L msg/s vs notmuch N msg/s ratio L/N      (higher is better)
#   bench: index_rss L MB vs notmuch N MB ratio L/N
#   bench: search_first50 L s vs notmuch N s ratio L/N          (lower is better)
#   bench: search_all L s vs notmuch N s ratio L/N
#   bench: search_rss L MB vs notmuch N MB ratio L/N
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
COUNT=${BENCH_COUNT:-100000}
TIME=/usr/bin/time

[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: index skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: index skipped: $TIME missing (package time)"; exit 0; }
command -v notmuch >/dev/null || { echo "bench: index skipped: notmuch missing"; exit 0; }

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"

WORK=$(mktemp -d "$TOP/build/bench/index.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
unset NOTMUCH_CONFIG LOFTRC
export HOME=$WORK/home XAPIAN_CJK_NGRAM=1
mkdir -p "$HOME"

printf 'set folder=%s\nset notmuch_database=%s\n' "$CACHE" "$WORK/loftdb" > "$WORK/mailrc"
cp -al "$CACHE" "$WORK/copy"
rm -f "$WORK/copy/.complete"
printf '[database]\npath=%s\n[new]\ntags=unread;inbox\n[maildir]\nsynchronize_flags=true\n' \
	"$WORK/copy" > "$WORK/notmuch-config"

files=$(find "$CACHE" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print | wc -l)
# Warm the page cache for both.
bench_warm "$CACHE"

# tmeasure OUTFILE CMD...: runs CMD, leaves "elapsed maxrss_kb" in OUTFILE.
# Elapsed from bash's EPOCHREALTIME (time -f %e has 10 ms steps); RSS from time.
tmeasure() {
	local out=$1 t0 t1; shift
	t0=$EPOCHREALTIME
	"$TIME" -f '%M' -o "$out.rss" "$@" > /dev/null 2>"$WORK/stderr" ||
		{ echo "bench: index: '$*' failed:"; cat "$WORK/stderr"; exit 1; }
	t1=$EPOCHREALTIME
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $(tail -1 "$out.rss")" > "$out"
}
field() { awk -v n="$2" '{ print $n }' "$1" | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "== $files files: loft index vs notmuch new"
tmeasure "$WORK/t.loft" "$LOFT" -F "$WORK/mailrc" index
tmeasure "$WORK/t.nm" env NOTMUCH_CONFIG="$WORK/notmuch-config" notmuch new --quiet
lt=$(field "$WORK/t.loft" 1) nt=$(field "$WORK/t.nm" 1)
lr=$(awk -v n="$files" -v t="$lt" 'BEGIN { printf "%.0f", n / (t > 0 ? t : 0.01) }')
nr=$(awk -v n="$files" -v t="$nt" 'BEGIN { printf "%.0f", n / (t > 0 ? t : 0.01) }')
echo "bench: index_rate $lr msg/s vs notmuch $nr msg/s ratio $(ratio "$lr" "$nr")"
lm=$(field "$WORK/t.loft" 2) nm=$(field "$WORK/t.nm" 2)
echo "bench: index_rss $(mb "$lm") MB vs notmuch $(mb "$nm") MB ratio $(ratio "$lm" "$nm")"

# A common word: the candidate with the most matches.
word="" best=0
for w in the meeting report project please thanks time; do
	n=$(NOTMUCH_CONFIG="$WORK/notmuch-config" notmuch count "$w" 2>/dev/null) || n=0
	if [ "$n" -gt "$best" ]; then best=$n word=$w; fi
done
echo "== search for '$word' ($best messages); best of 3 runs"

best_of3() {	# best_of3 OUTFILE CMD...: the fastest of three runs
	local out=$1 i; shift
	: > "$out.all"
	for i in 1 2 3; do tmeasure "$out.one" "$@"; cat "$out.one" >> "$out.all"; done
	sort -n "$out.all" | head -1 > "$out"
}
best_of3 "$WORK/s50.loft" "$LOFT" -F "$WORK/mailrc" search --limit 50 "$word"
best_of3 "$WORK/s50.nm" env NOTMUCH_CONFIG="$WORK/notmuch-config" notmuch search --limit=50 "$word"
l=$(field "$WORK/s50.loft" 1) n=$(field "$WORK/s50.nm" 1)
echo "bench: search_first50 $l s vs notmuch $n s ratio $(ratio "$l" "$n")"
best_of3 "$WORK/sall.loft" "$LOFT" -F "$WORK/mailrc" search "$word"
best_of3 "$WORK/sall.nm" env NOTMUCH_CONFIG="$WORK/notmuch-config" notmuch search "$word"
l=$(field "$WORK/sall.loft" 1) n=$(field "$WORK/sall.nm" 1)
echo "bench: search_all $l s vs notmuch $n s ratio $(ratio "$l" "$n")"
lm=$(field "$WORK/sall.loft" 2) nm=$(field "$WORK/sall.nm" 2)
echo "bench: search_rss $(mb "$lm") MB vs notmuch $(mb "$nm") MB ratio $(ratio "$lm" "$nm")"
