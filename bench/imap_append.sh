#!/bin/bash
# APPEND throughput of the IMAP server: `loft daemon` beside a private
# Dovecot (bench/lib.sh: maildir, ssl = no, 127.0.0.1, the same yescrypt
# login), the same client (bench/imap_append.py, a raw socket with LITERAL+):
# BENCH_APPEND_COUNT messages (default 1000, ~250 bytes each, \Seen) in one
# MULTIAPPEND (RFC 3502), then as many single APPENDs one after the other,
# into INBOX (one message there before).  Prints
#   bench: imap_multiappend_1000 S s vs dovecot S s ratio R
#   bench: imap_append_1000 S s vs dovecot S s ratio R
# and the load average beside them (the machine may be shared).
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
N=${BENCH_APPEND_COUNT:-1000}
PY=$TOP/bench/imap_append.py

[ -x "$LOFT" ] || { echo "bench: imap_append skipped: $LOFT missing (make first)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: imap_append skipped: python3 missing"; exit 0; }
. "$TOP/bench/lib.sh"

WORK=$(mktemp -d /tmp/loft-bench-append.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; rm -rf "${WORK:?}"' EXIT
load() { uptime | sed 's/.*average: /load /'; }
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

# --- loft -------------------------------------------------------------------
bench_loft_imap "$WORK/loft" || { echo "bench: imap_append: loft daemon did not start"; exit 1; }
printf 'From: a@example.org\nSubject: first\n\nx\n' | "$LOFT" -F "$WORK/loft/mailrc" deliver
python3 "$PY" 127.0.0.1 "$LPORT" bench "$BENCH_PW" INBOX "$N" > "$WORK/loft.out" ||
	{ echo "bench: imap_append: loft failed: $(cat "$WORK/loft.out")"; exit 1; }
echo "== loft: multi $(val multi "$WORK/loft.out") s, single $(val single "$WORK/loft.out") s ($(load))"
kill "$LPID"; wait "$LPID" 2>/dev/null

# --- Dovecot ----------------------------------------------------------------
dc=
if bench_dovecot_imap "$WORK/dovecot" > "$WORK/why"; then
	D=$WORK/dovecot/mail/bench
	mkdir -p "$D/cur" "$D/new" "$D/tmp"
	printf 'From: a@example.org\r\nSubject: first\r\n\r\nx\r\n' > "$D/new/1.first.host"
	chown -R mail:mail "$D"
	if python3 "$PY" 127.0.0.1 "$DPORT" bench "$BENCH_PW" INBOX "$N" > "$WORK/dovecot.out"; then
		dc=1
		echo "== dovecot: multi $(val multi "$WORK/dovecot.out") s, single $(val single "$WORK/dovecot.out") s ($(load))"
	else
		echo "bench: imap_append: dovecot failed: $(tail -3 "$WORK/dovecot/dovecot.log")"
	fi
else
	echo "bench: imap_append: dovecot skipped: $(cat "$WORK/why")"
fi

# --- report -----------------------------------------------------------------
for k in multi:imap_multiappend single:imap_append; do
	l=$(val "${k%%:*}" "$WORK/loft.out")
	if [ -n "$dc" ]; then
		d=$(val "${k%%:*}" "$WORK/dovecot.out")
		echo "bench: ${k#*:}_$N $l s vs dovecot $d s ratio $(bench_ratio "$l" "$d")"
	else
		echo "bench: ${k#*:}_$N $l s (dovecot not measured)"
	fi
done
echo "== $(load)"
