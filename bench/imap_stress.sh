#!/bin/bash
# Ten concurrent IMAP clients for BENCH_SECONDS (default 30) doing a mix of
# SELECT, FETCH (flags, envelopes, bodies), STORE, APPEND and UID EXPUNGE on
# INBOX, every reply checked against a model of the folder
# (bench/imap_stress.py), against `loft daemon` and a private Dovecot in one
# run, each serving a copy of the same mkcorpus maildir (BENCH_STRESS_COUNT
# messages, default 2000) in plain IMAP on 127.0.0.1.  Prints:
#   bench: imap_stress_cmds_per_s X vs dovecot Y ratio R
#   bench: imap_stress_errors N vs dovecot M
#   bench: imap_stress_races N vs dovecot M   (FETCHes that met a message
#          another client had just expunged: NO or empty data, RFC 2180 4.1)
#   bench: imap_stress_phantoms N vs dovecot M   (the errors about UIDs that
#          were neither there at the start nor APPENDUIDs)
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
SECONDS_=${BENCH_SECONDS:-30}
COUNT=${BENCH_STRESS_COUNT:-2000}
CLIENTS=${BENCH_STRESS_CLIENTS:-10}

[ -x "$LOFT" ] || { echo "bench: imap_stress skipped: $LOFT missing (make first)"; exit 1; }
[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: imap_stress skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
command -v socat >/dev/null || { echo "bench: imap_stress skipped: socat missing"; exit 0; }
. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"

WORK=$(mktemp -d /tmp/loft-bench-stress.XXXXXX)
PIDS=()
trap 'bench_stop_all; rm -rf "$WORK"' EXIT
stress() {	# stress NAME PORT: the harness's summary line; errors to NAME.err
	timeout $((SECONDS_ + 300)) python3 "$TOP/bench/imap_stress.py" -n "$CLIENTS" -s "$SECONDS_" \
		tcp 127.0.0.1 "$2" bench "$BENCH_PW" 2> "$WORK/$1.err"
	[ -s "$WORK/$1.err" ] && sed "s/^/== $1: /" "$WORK/$1.err" | head -10
}
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$1"; }

bench_loft_imap "$WORK/loft" "$CACHE" ||
	{ echo "bench: imap_stress skipped: loft daemon did not start: $(head -3 "$WORK/loft/daemon.log")"; exit 1; }
loft=$(stress loft "$LPORT")
echo "== loft: $loft"
kill "$LPID"

dc=
mkdir -p "$WORK/dovecot"
chmod 755 "$WORK"
if bench_dovecot_imap "$WORK/dovecot" "$CACHE" > "$WORK/why"; then
	dc=$(stress dovecot "$DPORT")
	echo "== dovecot: $dc"
else
	echo "bench: imap_stress: dovecot skipped: $(cat "$WORK/why")"
fi

lc=$(field "$loft" cmds_per_s) le=$(field "$loft" errors) lr=$(field "$loft" races)
if [ -n "$dc" ]; then
	dcc=$(field "$dc" cmds_per_s) de=$(field "$dc" errors) dr=$(field "$dc" races)
	echo "bench: imap_stress_cmds_per_s ${lc:-0} vs dovecot ${dcc:-0} ratio $(bench_ratio "$lc" "$dcc")"
	echo "bench: imap_stress_errors ${le:-failed} vs dovecot ${de:-failed}"
	echo "bench: imap_stress_races ${lr:-0} vs dovecot ${dr:-0}"
	echo "bench: imap_stress_phantoms $(field "$loft" phantoms) vs dovecot $(field "$dc" phantoms)"
else
	echo "bench: imap_stress_cmds_per_s ${lc:-0} (dovecot not measured)"
	echo "bench: imap_stress_errors ${le:-failed} (dovecot not measured)"
fi
