#!/bin/bash
# APPEND throughput of the IMAP server: `loft daemon` beside a private
# Dovecot (bench/lib.sh: maildir, ssl = no, 127.0.0.1, the same yescrypt
# login), the same client (bench/imap_append.py, a raw socket with LITERAL+):
# BENCH_APPEND_COUNT messages (default 1000, ~250 bytes each) in one
# MULTIAPPEND (RFC 3502), as many single APPENDs one after the other, and
# as many pipelined (all sent before reading an answer, as mbsync and
# offlineimap push), into INBOX.  Both servers run at once and are measured in turn, round
# after round (BENCH_APPEND_ROUNDS, default 3): on a shared machine the
# disk's speed changes within a minute.  Prints each round, then the
# medians:
#   bench: imap_multiappend_1000 S s vs dovecot S s ratio R
#   bench: imap_append_1000 S s vs dovecot S s ratio R
#   bench: imap_append_pipelined_1000 S s vs dovecot S s ratio R
# (BENCH_APPEND_MODES: the modes to run, default "multi single pipe")
# and the load average beside them.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
N=${BENCH_APPEND_COUNT:-1000}
ROUNDS=${BENCH_APPEND_ROUNDS:-3}
PY=$TOP/bench/imap_append.py

[ -x "$LOFT" ] || { echo "bench: imap_append skipped: $LOFT missing (make first)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: imap_append skipped: python3 missing"; exit 0; }
. "$TOP/bench/lib.sh"

WORK=$(mktemp -d /tmp/loft-bench-append.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; rm -rf "${WORK:?}"' EXIT
load() { uptime | sed 's/.*average: /load /'; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench_loft_imap "$WORK/loft" || { echo "bench: imap_append: loft daemon did not start"; exit 1; }
printf 'From: a@example.org\nSubject: first\n\nx\n' | "$LOFT" -F "$WORK/loft/mailrc" deliver
servers=("loft $LPORT")
if bench_dovecot_imap "$WORK/dovecot" > "$WORK/why"; then
	D=$WORK/dovecot/mail/bench
	mkdir -p "$D/cur" "$D/new" "$D/tmp"
	printf 'From: a@example.org\r\nSubject: first\r\n\r\nx\r\n' > "$D/new/1.first.host"
	chown -R mail:mail "$D"
	servers+=("dovecot $DPORT")
else
	echo "bench: imap_append: dovecot skipped: $(cat "$WORK/why")"
fi

for r in $(seq "$ROUNDS"); do
	for mode in ${BENCH_APPEND_MODES:-multi single pipe}; do
		for s in "${servers[@]}"; do
			set -- $s
			t=$(python3 "$PY" 127.0.0.1 "$2" bench "$BENCH_PW" INBOX "$N" "$mode") ||
				{ echo "bench: imap_append: $1 $mode failed: $t"; exit 1; }
			echo "$t" >> "$WORK/$1.$mode"
			echo "== round $r: $1 $mode $t s ($(load))"
		done
	done
done

for k in multi:imap_multiappend single:imap_append pipe:imap_append_pipelined; do
	mode=${k%%:*}
	[ -f "$WORK/loft.$mode" ] || continue
	l=$(median < "$WORK/loft.$mode")
	if [ -f "$WORK/dovecot.$mode" ]; then
		d=$(median < "$WORK/dovecot.$mode")
		echo "bench: ${k#*:}_$N $l s vs dovecot $d s ratio $(bench_ratio "$l" "$d")"
	else
		echo "bench: ${k#*:}_$N $l s (dovecot not measured)"
	fi
done
echo "== $(load)"
