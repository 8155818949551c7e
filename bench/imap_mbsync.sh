#!/bin/bash
# mbsync (isync) against `loft daemon` and a private Dovecot in one run, each
# serving a copy of the same mkcorpus maildir as INBOX, plain IMAP on
# 127.0.0.1 (SSLType None; mbsync 1.4 uses COMPRESS when offered: loft does
# not offer it and Dovecot's is a plugin left off, so neither compresses):
#   - a full sync of 2,000 messages into an empty maildir;
#   - a full sync of BENCH_COUNT messages (default 100000) into an empty
#     maildir, then a no-op resync of it (nothing changed on either side).
# mbsync's own fsync of every message it writes is turned off (FSync no): it
# costs the same for both servers and would only add this disk's noise.
# Prints, for each, `bench: imap_mbsync_NAME_s L s vs dovecot D s ratio R`
# and checks that each sync brought every message over.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
BIG=${BENCH_COUNT:-100000}

[ -x "$LOFT" ] || { echo "bench: imap_mbsync skipped: $LOFT missing (make first)"; exit 1; }
[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: imap_mbsync skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
command -v mbsync >/dev/null || { echo "bench: imap_mbsync skipped: mbsync missing (package isync)"; exit 0; }
command -v socat >/dev/null || { echo "bench: imap_mbsync skipped: socat missing"; exit 0; }
. "$TOP/bench/lib.sh"

WORK=$(mktemp -d /tmp/loft-bench-mbsync.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; rm -rf "$WORK"' EXIT

# sync NAME PORT NEAR: one mbsync run of INBOX into the maildir NEAR; prints
# its wall time in seconds (fails if mbsync does).
sync() {
	cat > "$WORK/$1.rc" <<EOR
FSync no

IMAPAccount far
Host 127.0.0.1
Port $2
User bench
Pass $BENCH_PW
SSLType None
AuthMechs LOGIN

IMAPStore far
Account far

MaildirStore near
Path $3/
Inbox $3/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync All
SyncState *
EOR
	local t0 t1
	mkdir -p "$3"
	t0=$(date +%s.%N)
	HOME=$WORK timeout 3600 mbsync -q -c "$WORK/$1.rc" c 2>> "$WORK/$1.mbsync.err" || return 1
	t1=$(date +%s.%N)
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1"
}
count() { find "$1/INBOX/cur" "$1/INBOX/new" -type f 2>/dev/null | wc -l; }

# measure COUNT: the full sync (and with RESYNC=1 the no-op resync) of a
# COUNT-message corpus on both servers; sets L_full D_full L_noop D_noop.
measure() {
	local n=$1 w=$WORK/$1
	bench_corpus "$n"
	bench_warm "$CACHE"
	L_full= D_full= L_noop= D_noop=
	mkdir -p "$w/dovecot"
	bench_loft_imap "$w/loft" "$CACHE" ||
		{ echo "== loft daemon did not start: $(head -3 "$w/loft/daemon.log")"; return 1; }
	L_full=$(sync loft "$LPORT" "$w/loft-near") || { L_full=failed; echo "== loft: mbsync failed: $(tail -3 "$WORK/loft.mbsync.err")"; }
	[ "$(count "$w/loft-near")" = "$n" ] || echo "== loft: $(count "$w/loft-near") of $n messages synced"
	[ "${RESYNC:-0}" = 1 ] && { L_noop=$(sync loft "$LPORT" "$w/loft-near") || L_noop=failed; }
	bench_stop_all
	if bench_dovecot_imap "$w/dovecot" "$CACHE" > "$w/why"; then
		D_full=$(sync dovecot "$DPORT" "$w/dovecot-near") ||
			{ D_full=failed; echo "== dovecot: mbsync failed: $(tail -3 "$WORK/dovecot.mbsync.err")"; }
		[ "$(count "$w/dovecot-near")" = "$n" ] || echo "== dovecot: $(count "$w/dovecot-near") of $n messages synced"
		[ "${RESYNC:-0}" = 1 ] && { D_noop=$(sync dovecot "$DPORT" "$w/dovecot-near") || D_noop=failed; }
		bench_stop_all
	else
		echo "== dovecot skipped: $(cat "$w/why")"
	fi
	rm -rf "$w"
}
line() {	# line NAME LOFT_S DOVECOT_S
	if [ -n "$3" ]; then
		echo "bench: imap_mbsync_$1_s ${2:-failed} s vs dovecot $3 s ratio $(bench_ratio "$2" "$3")"
	else
		echo "bench: imap_mbsync_$1_s ${2:-failed} s (dovecot not measured)"
	fi
}

measure 2000
line full_2000 "$L_full" "$D_full"
RESYNC=1 measure "$BIG"
line "full_$BIG" "$L_full" "$D_full"
line "noop_$BIG" "$L_noop" "$D_noop"
