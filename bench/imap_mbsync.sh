#!/bin/bash
# mbsync (isync) against `loft daemon` and a private Dovecot in one run, each
# serving a copy of the same mkcorpus maildir as INBOX, plain IMAP on
# 127.0.0.1 (SSLType None; mbsync 1.4 uses COMPRESS when offered: loft does
# not offer it and Dovecot's is a plugin left off, so neither compresses):
#   - a full sync of 2,000 messages into an empty maildir (the median of
#     BENCH_MBSYNC_ROUNDS runs, default 5, each server on a fresh copy);
#   - a full sync of BENCH_COUNT messages (default 100000) into an empty
#     maildir, then a no-op resync of it (nothing changed on either side)
#     (BENCH_MBSYNC_BIG_ROUNDS runs, default 1).
# mbsync's own fsync of every message it writes is turned off (FSync no): it
# costs the same for both servers and would only add this disk's noise.
# Each timed run starts with the disk settled (sync -f) and, for the resync,
# once the second of the near maildir's last change is over (else mbsync
# sleeps a second, by the luck of the clock); which server goes first
# alternates by round.
# With strace, also how long mbsync waited on each server during the full
# syncs of 2,000 (imap_mbsync_wait_2000_s: its polls; the rest is mbsync's
# own work, mostly creating 2,000 files at about 0.5 ms each on this disk).
# Prints, for each, `bench: imap_mbsync_NAME_s L s vs dovecot D s ratio R`
# and checks that each sync brought every message over.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
BIG=${BENCH_COUNT:-100000}
# A 2,000-message sync takes about a second: one run is mostly the noise of
# a shared machine, so it is the median of ROUNDS; the big one of BIG_ROUNDS.
ROUNDS=${BENCH_MBSYNC_ROUNDS:-5}
BIG_ROUNDS=${BENCH_MBSYNC_BIG_ROUNDS:-1}

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
	# The corpus copy just made for the server (44 MB in 2,000 files for
	# the small case) is still being written back: that, and the last
	# run's deletions, go to disk now, not inside one server's timing.
	command sync -f "$WORK"	# sync(1), not this function
	# mbsync sleeps a whole second when the near maildir changed within the
	# current second (a race guard of its own): a resync right after the
	# full sync paid it or not by the luck of the clock, for either server
	# (1.05 s or 0.05 s for the same no-op).  Start once that second is over.
	local last
	last=$(stat -c %Y "$3/INBOX/cur" "$3/INBOX/new" 2>/dev/null | sort -n | tail -1)
	while [ -n "$last" ] && [ "$(date +%s)" -le "$last" ]; do sleep 0.05; done
	# How long mbsync waited on the server: its polls on the socket, timed
	# by strace (only poll is stopped at); the rest of the wall time is
	# mbsync's own work, the same whichever server it talks to.
	local trace=()
	rm -f "$WORK/$1.polls"
	[ -n "$STRACE" ] && trace=(strace -f -qq --seccomp-bpf -e trace=poll -T -o "$WORK/$1.polls")
	t0=$(date +%s.%N)
	HOME=$WORK timeout 3600 "${trace[@]}" mbsync -q -c "$WORK/$1.rc" c 2>> "$WORK/$1.mbsync.err" || return 1
	t1=$(date +%s.%N)
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1"
}
# waited NAME: the seconds of the last sync's polls (nothing without strace).
waited() {
	[ -f "$WORK/$1.polls" ] && python3 -c 'import re, sys
print("%.3f" % sum(float(x) for x in re.findall(r"^\d+\s+poll\(.*<([0-9.]+)>$", open(sys.argv[1]).read(), re.M)))' "$WORK/$1.polls"
}
STRACE=$(command -v strace)
count() { find "$1/INBOX/cur" "$1/INBOX/new" -type f 2>/dev/null | wc -l; }

# one_loft COUNT DIR / one_dovecot COUNT DIR: a server on a fresh copy of the
# corpus (its state or index built by this run, as for a first sync), the
# full sync into an empty maildir (and with RESYNC=1 the no-op resync);
# appends the times to L_fulls/L_noops or D_fulls/D_noops.
one_loft() {
	local n=$1 w=$2 t
	bench_loft_imap "$w/loft" "$CACHE" ||
		{ echo "== loft daemon did not start: $(head -3 "$w/loft/daemon.log")"; return 1; }
	t=$(sync loft "$LPORT" "$w/loft-near") || { t=failed; echo "== loft: mbsync failed: $(tail -3 "$WORK/loft.mbsync.err")"; }
	L_fulls+=" $t" L_waits+=" $(waited loft)"
	[ "$(count "$w/loft-near")" = "$n" ] || echo "== loft: $(count "$w/loft-near") of $n messages synced"
	[ "${RESYNC:-0}" = 1 ] && { t=$(sync loft "$LPORT" "$w/loft-near") || t=failed; L_noops+=" $t"; }
	bench_stop_all
	rm -rf "$w/loft" "$w/loft-near"
}
one_dovecot() {
	local n=$1 w=$2 t
	mkdir -p "$w/dovecot"
	bench_dovecot_imap "$w/dovecot" "$CACHE" > "$w/why" || { D_why=$(cat "$w/why"); return 1; }
	t=$(sync dovecot "$DPORT" "$w/dovecot-near") ||
		{ t=failed; echo "== dovecot: mbsync failed: $(tail -3 "$WORK/dovecot.mbsync.err")"; }
	D_fulls+=" $t" D_waits+=" $(waited dovecot)"
	[ "$(count "$w/dovecot-near")" = "$n" ] || echo "== dovecot: $(count "$w/dovecot-near") of $n messages synced"
	[ "${RESYNC:-0}" = 1 ] && { t=$(sync dovecot "$DPORT" "$w/dovecot-near") || t=failed; D_noops+=" $t"; }
	bench_stop_all
	rm -rf "$w/dovecot" "$w/dovecot-near"
}
# median TIMES...: the middle one ("failed" if any run failed).
median() {
	case " $* " in *" failed "*) echo failed; return ;; esac
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# measure COUNT ROUNDS: ROUNDS rounds of one_loft and one_dovecot (each on
# fresh copies, so machine noise falls on both alike; which one goes first
# alternates, so neither always follows the other's disk traffic); sets
# L_full D_full L_noop D_noop to the medians and prints every run.
measure() {
	local n=$1 w=$WORK/$1 r
	bench_corpus "$n"
	bench_warm "$CACHE"
	L_fulls= D_fulls= L_noops= D_noops= D_why= L_full= D_full= L_noop= D_noop=
	L_waits= D_waits= L_wait= D_wait=
	for r in $(seq "$2"); do
		mkdir -p "$w"
		if [ $((r % 2)) = 0 ] && [ -z "$D_why" ]; then
			one_dovecot "$n" "$w"
			one_loft "$n" "$w" || return 1
		else
			one_loft "$n" "$w" || return 1
			[ -z "$D_why" ] && one_dovecot "$n" "$w"
		fi
		rm -rf "$w"
	done
	[ -n "$D_why" ] && echo "== dovecot skipped: $D_why"
	echo "== $n messages, $2 round(s): loft full$L_fulls${L_noops:+ noop$L_noops}; dovecot full${D_fulls:- -}${D_noops:+ noop$D_noops}"
	L_full=$(median $L_fulls) D_full=$(median $D_fulls)
	L_noop=$(median $L_noops) D_noop=$(median $D_noops)
	if [ -n "$STRACE" ]; then
		echo "== $n messages: mbsync waited on loft$L_waits s; on dovecot${D_waits:- -} s"
		L_wait=$(median $L_waits) D_wait=$(median $D_waits)
	fi
}
line() {	# line NAME LOFT_S DOVECOT_S
	if [ -n "$3" ]; then
		echo "bench: imap_mbsync_$1_s ${2:-failed} s vs dovecot $3 s ratio $(bench_ratio "$2" "$3")"
	else
		echo "bench: imap_mbsync_$1_s ${2:-failed} s (dovecot not measured)"
	fi
}

measure 2000 "$ROUNDS"
line full_2000 "$L_full" "$D_full"
[ -n "$STRACE" ] && line wait_2000 "$L_wait" "$D_wait"
RESYNC=1 measure "$BIG" "$BIG_ROUNDS"
line "full_$BIG" "$L_full" "$D_full"
line "noop_$BIG" "$L_noop" "$D_noop"
