#!/bin/bash
# SELECT + `UID FETCH 1:* (UID FLAGS)` on the cached corpus folder
# (bench/lib.sh, mkcorpus --seed 7, BENCH_COUNT messages, default 100000)
# as INBOX: `loft imapd` driven over a pipe (peak RSS by /usr/bin/time -f %M
# on it; INBOX a hard-linked copy) beside a private Dovecot (bench/lib.sh's
# bench_dovecot_imap: maildir, ssl = no, 127.0.0.1, a copy of the same
# maildir; peak RSS the VmHWM of its imap process).
# Both are warmed first (two sessions: loft builds its state, Dovecot its
# index and cache), then BENCH_IMAP_FETCH_RUNS runs (default 3), best time
# and highest RSS:
#   bench: imap_select_fetch S s vs dovecot S s ratio R
#   bench: imap_select_fetch_rss M MB vs dovecot M MB ratio R
# Goal (issue 11): under 0.3 s and under 64 MB per session.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
COUNT=${BENCH_COUNT:-100000}
RUNS=${BENCH_IMAP_FETCH_RUNS:-3}
TIME=/usr/bin/time
PY=$TOP/bench/imap_fetch.py

[ -x "$LOFT" ] || { echo "bench: imap_fetch skipped: $LOFT missing (make first)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: imap_fetch skipped: python3 missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: imap_fetch skipped: $TIME missing (package time)"; exit 0; }
[ -f "$TOP/build/bench/maildir-$COUNT-seed7/.complete" ] || [ -f "$SHARED/corpus/mkcorpus.py" ] ||
	{ echo "bench: imap_fetch skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"

WORK=$(mktemp -d /tmp/loft-bench-imapfetch.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; rm -rf "$WORK"' EXIT
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
# A copy of the corpus that renames and state files cannot reach: new
# directories, the message files hard links (neither server writes into a
# message file).
copy_maildir() { cp -al "$1" "$2" && rm -f "$2/.complete"; }
bench_warm "$CACHE"

# --- loft -------------------------------------------------------------------
L=$WORK/loft
mkdir -p "$L/Mail"
copy_maildir "$CACHE" "$L/Mail/INBOX" || { echo "bench: imap_fetch: copy failed"; exit 1; }
printf 'set folder=%s/Mail log_level=error\n' "$L" > "$L/mailrc"
IMAPD=("$LOFT" -F "$L/mailrc" imapd)
# Two warm-up sessions each: the first builds the state (Dovecot: its
# index), the second what the first left (Dovecot: its cache file).
python3 "$PY" pipe "${IMAPD[@]}" > "$L/warm" && python3 "$PY" pipe "${IMAPD[@]}" > /dev/null ||
	{ echo "bench: imap_fetch: loft failed"; exit 1; }
echo "== loft: $(val fetched "$L/warm") messages fetched (warm-up, state built: $(val time "$L/warm") s)"
for i in $(seq "$RUNS"); do
	python3 "$PY" pipe "$TIME" -f %M -o "$L/rss.$i" "${IMAPD[@]}" > "$L/run.$i" ||
		{ echo "bench: imap_fetch: loft run failed"; exit 1; }
	echo "== loft run $i: $(val time "$L/run.$i") s (SELECT $(val select "$L/run.$i") s), $(tail -1 "$L/rss.$i") KB"
done
loft_s=$(cat "$L"/run.* | awk '$1 == "time" {print $2}' | sort -n | head -1)
loft_kb=$(tail -qn1 "$L"/rss.* | sort -n | tail -1)

# --- Dovecot ----------------------------------------------------------------
D=$WORK/dovecot
dc_s= dc_kb=
mkdir -p "$D"
if ! bench_dovecot_imap "$D" "$CACHE" > "$WORK/why"; then
	echo "bench: imap_fetch: dovecot skipped: $(cat "$WORK/why")"
else
	for i in 0 0 $(seq "$RUNS"); do	# two warm-ups: its index, then its cache
		python3 "$PY" tcp 127.0.0.1 "$DPORT" bench "$BENCH_PW" "$DPID" > "$D/run.$i" ||
			{ echo "bench: imap_fetch: dovecot failed: $(tail -3 "$D/dovecot.log")"; break; }
		[ "$i" = 0 ] || echo "== dovecot run $i: $(val time "$D/run.$i") s (SELECT $(val select "$D/run.$i") s), $(val rss "$D/run.$i") KB"
	done
	rm -f "$D/run.0"
	dc_s=$(cat "$D"/run.* 2>/dev/null | awk '$1 == "time" {print $2}' | sort -n | head -1)
	dc_kb=$(cat "$D"/run.* 2>/dev/null | awk '$1 == "rss" {print $2}' | sort -n | tail -1)
fi

# --- report -----------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
if [ -n "$dc_s" ]; then
	echo "bench: imap_select_fetch $loft_s s vs dovecot $dc_s s ratio $(bench_ratio "$loft_s" "$dc_s")"
	echo "bench: imap_select_fetch_rss $(mb "$loft_kb") MB vs dovecot $(mb "$dc_kb") MB ratio $(bench_ratio "$loft_kb" "$dc_kb")"
else
	echo "bench: imap_select_fetch $loft_s s (dovecot not measured)"
	echo "bench: imap_select_fetch_rss $(mb "$loft_kb") MB (dovecot not measured)"
fi
