#!/bin/bash
# Batched delivery (issue 13 item 6): BENCH_PULL messages (default 2000,
# mkcorpus.py --seed 7, bench/lib.sh) into a fresh store three ways:
#   pull_deliver_procs   one `loft deliver` process per message (its
#                        default: notmuch not opened, the index marked
#                        behind), then the one `loft index` that catches up
#                        (pull_deliver_catchup), so the work compares
#   pull_batch           build/tests/batchtool: the same messages through
#                        localmta/deliver_batch.h in one process, 100 per
#                        commit, notmuch indexing included
#   pull_sync            `loft sync` of an account with sync=pull from a
#                        private Dovecot holding them (tests/dovecot_instance.sh;
#                        root only), indexing included; then pull_sync_noop,
#                        the second run that finds nothing new
# Each store must hold exactly N messages afterwards, or the bench fails.
# Prints:
#   bench: pull_deliver_procs T s (R msg/s), catchup C s, total T+C s
#   bench: pull_batch T s (R msg/s) ratio X vs procs+catchup
#   bench: pull_sync T s (R msg/s); pull_sync_noop T s
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
N=${BENCH_PULL:-2000}
TOOL=$TOP/build/tests/batchtool

[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: pull skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
make -s -C "$TOP" CI=true build/tests/batchtool >/dev/null
. "$TOP/bench/lib.sh"
bench_corpus "$N"
bench_warm "$CACHE"

D=$(mktemp -d /tmp/loft-bench-pull.XXXXXX)
chmod 755 "$D"	# Dovecot's users traverse it
DVPID=
cleanup() {
	[ -n "$DVPID" ] && kill "$DVPID" 2>/dev/null
	case $D in /tmp/loft-bench-pull.*) rm -rf "$D" ;; esac
}
trap cleanup EXIT
find "$CACHE" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | sort > "$D/files"
now() { date +%s.%N; }
secs() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
rate() { python3 -c 'import sys; print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$N" "$1"; }
count() { find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l; }
check() { local c; c=$(count "$1"); [ "$c" = "$N" ] || { echo "bench: pull FAILED: $2 stored $c of $N"; exit 1; }; }

# 1. one process per message, then the catch-up index
printf 'set folder=%s/procs/Mail\n' "$D" > "$D/procs.rc"
t0=$(now)
while read -r f; do LOFTRC=$D/procs.rc "$LOFT" deliver < "$f"; done < "$D/files"
t1=$(now)
LOFTRC=$D/procs.rc "$LOFT" index > /dev/null
t2=$(now)
check "$D/procs/Mail/INBOX" procs
p=$(secs "$t0" "$t1") c=$(secs "$t1" "$t2")
ptotal=$(secs "$t0" "$t2")
echo "bench: pull_deliver_procs $p s ($(rate "$p") msg/s), catchup $c s, total $ptotal s"

# 2. the delivery batch
printf 'set folder=%s/batch/Mail\n' "$D" > "$D/batch.rc"
t0=$(now)
"$TOOL" -F "$D/batch.rc" < "$D/files" > /dev/null
t1=$(now)
check "$D/batch/Mail/INBOX" batch
b=$(secs "$t0" "$t1")
echo "bench: pull_batch $b s ($(rate "$b") msg/s) ratio $(bench_ratio "$ptotal" "$b") vs procs+catchup"

# 3. loft sync from a private Dovecot
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/dovecot/imap ]; then
	echo "bench: pull_sync skipped: needs root and dovecot-imapd"
	exit 0
fi
DV=$D/dovecot
mkdir -p "$DV"
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" bench benchpw1
mkdir -p "$DV/mail/bench"
bench_inbox "$CACHE" "$DV/mail/bench"
chown -R mail:mail "$DV/mail"
PORT=$(bench_free_port)
DVPID=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$PORT")
printf 'set folder=%s/sync/Mail\naccount up {\nset imap_url=imap+insecure://bench@127.0.0.1:%s/INBOX\nset imap_password_command="echo benchpw1"\nset sync=pull\n}\n' \
	"$D" "$PORT" > "$D/sync.rc"
# Dovecot reads the new maildir once before the clock starts.
python3 -c 'import imaplib,sys; m=imaplib.IMAP4("127.0.0.1",int(sys.argv[1])); m.login("bench","benchpw1"); m.select("INBOX"); m.logout()' "$PORT"
t0=$(now)
LOFTRC=$D/sync.rc "$LOFT" sync up > /dev/null
t1=$(now)
LOFTRC=$D/sync.rc "$LOFT" sync up > /dev/null
t2=$(now)
check "$D/sync/Mail/INBOX" sync
s=$(secs "$t0" "$t1")
echo "bench: pull_sync $s s ($(rate "$s") msg/s); pull_sync_noop $(secs "$t1" "$t2") s"
