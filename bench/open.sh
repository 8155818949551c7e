#!/bin/bash
# Opening a 100,000-message maildir as a snapshot (UIDs, flags, envelopes)
# with the storetool, beside the floor measured in the same run (readdir +
# stat of every file).  The maildir is the one bench/index.sh caches
# (mkcorpus.py --seed 7, BENCH_COUNT messages, default 100000) and is never
# written to: the state lives in a work directory (storetool -s).  Prints:
#   bench: open_floor S s
#   bench: open_nostate S s                  (first open: state built, headers
#                                             left unread: what an IMAP SELECT waits for)
#   bench: open_fill S s rss M MB            (then every header read, in steps of
#                                             2048 as the client does: time, peak RSS)
#   bench: open_state S s vs floor F s ratio R   (warm, best of 3)
#   bench: open_rss M MB                     (peak RSS of the first open)
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SHARED:=$TOP/../shared}"
COUNT=${BENCH_COUNT:-100000}
TIME=/usr/bin/time
TOOL=$TOP/build/tests/storetool

[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: open skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: open skipped: $TIME missing (package time)"; exit 0; }
make -C "$TOP" --no-print-directory -s build/tests/storetool >/dev/null

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"

WORK=$(mktemp -d "$TOP/build/bench/open.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STATE=$WORK/loft-state

# Warm the page cache: every file's header block is read on a first open.
bench_warm "$CACHE"

field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1" | tail -1; }
best() { sort -n | head -1; }

for i in 1 2 3; do "$TOOL" floor "$CACHE" > "$WORK/floor.$i"; field "$WORK/floor.$i" floor; done | best > "$WORK/floor"
floor=$(cat "$WORK/floor")
echo "bench: open_floor $floor s"

rm -rf "$STATE"
"$TIME" -f '%M' -o "$WORK/rss" "$TOOL" -s "$STATE" "$CACHE" time "$CACHE" > "$WORK/nostate"
nostate=$(field "$WORK/nostate" open)
echo "== $(field "$WORK/nostate" count) messages"
echo "bench: open_nostate $nostate s"

"$TIME" -f '%M' -o "$WORK/fillrss" "$TOOL" -s "$STATE" "$CACHE" fill "$CACHE" > "$WORK/fill"
echo "bench: open_fill $(field "$WORK/fill" fill) s rss $(awk -v k="$(tail -1 "$WORK/fillrss")" 'BEGIN { printf "%.1f", k / 1024 }') MB"
"$TOOL" -s "$STATE" "$CACHE" time "$CACHE" > /dev/null	# warm-up
for i in 1 2 3; do "$TOOL" -s "$STATE" "$CACHE" time "$CACHE" > "$WORK/withstate.$i"; field "$WORK/withstate.$i" open; done | best > "$WORK/withstate"
state=$(cat "$WORK/withstate")
echo "bench: open_state $state s vs floor $floor s ratio $(awk -v a="$state" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')"
echo "bench: open_rss $(awk -v k="$(tail -1 "$WORK/rss")" 'BEGIN { printf "%.1f", k / 1024 }') MB"
