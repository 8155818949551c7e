#!/bin/bash
# mbsync (isync) pushing BENCH_PUSH_COUNT (default 1000) new local messages
# (~300 bytes each) into INBOX of `loft daemon` and of a private Dovecot
# (bench/lib.sh: plain IMAP on 127.0.0.1, the same login): mbsync sends
# its APPENDs pipelined, with LITERAL+.  Each server starts from a
# one-message INBOX, the near maildir a fresh copy of the same messages;
# BENCH_PUSH_ROUNDS rounds (default 3), the servers alternating first.
# Prints each run, then the medians:
#   bench: imap_mbsync_push_1000_s L s vs dovecot D s ratio R
# and checks that each server got every message.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
N=${BENCH_PUSH_COUNT:-1000}
ROUNDS=${BENCH_PUSH_ROUNDS:-3}

[ -x "$LOFT" ] || { echo "bench: imap_mbsync_push skipped: $LOFT missing (make first)"; exit 1; }
command -v mbsync >/dev/null || { echo "bench: imap_mbsync_push skipped: mbsync missing (package isync)"; exit 0; }
command -v python3 >/dev/null || { echo "bench: imap_mbsync_push skipped: python3 missing"; exit 0; }
. "$TOP/bench/lib.sh"

WORK=$(mktemp -d /tmp/loft-bench-push.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; rm -rf "${WORK:?}"' EXIT
load() { uptime | sed 's/.*average: /load /'; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f\n", v[int((NR + 1) / 2)] }'; }

# The local messages, made once.
python3 - "$WORK/src" "$N" <<'EOP'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, sub))
for i in range(n):
    with open(os.path.join(d, "new", "1700000000.P%dQ1.bench" % i), "w") as f:
        f.write("From: bench@example.org\nTo: me@example.org\nSubject: push %d\n"
                "Message-ID: <push%d@bench.example>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n"
                "body of message %d\n" % (i, i, i))
EOP
SEED=$WORK/seed
mkdir -p "$SEED/cur" "$SEED/new"
printf 'From: a@example.org\nSubject: first\nMessage-ID: <first@bench.example>\n\nx\n' > "$SEED/new/1.first.host"

# push NAME PORT: one mbsync run pushing a fresh copy of the local messages;
# prints its wall time in seconds.
push() {
	local near=$WORK/$1-near t0 t1
	rm -rf "${near:?}"
	mkdir -p "$near"
	cp -a "$WORK/src" "$near/INBOX"
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
Path $near/
Inbox $near/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Sync Push
SyncState *
EOR
	command sync -f "$WORK"
	t0=$(date +%s.%N)
	HOME=$WORK timeout 600 mbsync -q -c "$WORK/$1.rc" c 2>> "$WORK/$1.mbsync.err" || return 1
	t1=$(date +%s.%N)
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1"
}
count() { find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l; }

for r in $(seq "$ROUNDS"); do
	order="loft dovecot"
	[ $((r % 2)) = 0 ] && order="dovecot loft"
	for s in $order; do
		rm -rf "${WORK:?}/$s"
		if [ "$s" = loft ]; then
			bench_loft_imap "$WORK/loft" "$SEED" || { echo "bench: imap_mbsync_push: loft daemon did not start"; exit 1; }
			port=$LPORT box=$LINBOX
		else
			bench_dovecot_imap "$WORK/dovecot" "$SEED" > "$WORK/why" ||
				{ echo "== dovecot skipped: $(cat "$WORK/why")"; continue; }
			port=$DPORT box=$DINBOX
		fi
		t=$(push "$s" "$port") || { echo "bench: imap_mbsync_push: mbsync to $s failed: $(tail -3 "$WORK/$s.mbsync.err")"; exit 1; }
		bench_stop_all
		[ "$(count "$box")" = $((N + 1)) ] || echo "== $s: $(count "$box") messages, not $((N + 1))"
		echo "$t" >> "$WORK/$s.times"
		echo "== round $r: $s $t s ($(load))"
	done
done
l=$(median < "$WORK/loft.times")
if [ -f "$WORK/dovecot.times" ]; then
	d=$(median < "$WORK/dovecot.times")
	echo "bench: imap_mbsync_push_${N}_s $l s vs dovecot $d s ratio $(bench_ratio "$l" "$d")"
else
	echo "bench: imap_mbsync_push_${N}_s $l s (dovecot not measured)"
fi
echo "== $(load)"
