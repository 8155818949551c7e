#!/bin/bash
# Push latency of `loft daemon`'s sync task (issue 13 item 4): a private
# Dovecot as the provider, a sync = mirror account, and ROUNDS (default 20)
# times an APPEND on the provider timed until an imaplib client idling on
# loft's own IMAP server gets EXISTS (tests/sync_daemon_probe.py push).
# The same measured on Dovecot alone (APPEND -> EXISTS on a Dovecot idler)
# shows how much of it is the provider's own notification delay.  Prints
#   bench: sync_push median M ms p99 P ms max X ms (goal < 1000 ms)
#   bench: sync_push_dovecot_idle median M ms p99 P ms max X ms
# Run at the end of bench/sync.sh (make bench BENCH=sync), or alone
# (make bench BENCH=sync_push; BENCH_PUSH_ROUNDS=N).
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
ROUNDS=${BENCH_PUSH_ROUNDS:-20}

[ -x "$LOFT" ] || { echo "bench: sync_push skipped: $LOFT missing (make first)"; exit 1; }
command -v socat >/dev/null || { echo "bench: sync_push skipped: socat missing"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench: sync_push skipped: a private Dovecot needs root here"; exit 0; }
. "$TOP/bench/lib.sh"

WORK=$(mktemp -d /tmp/loft-bench-push.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; case $WORK in /tmp/loft-bench-push.*) rm -rf "$WORK" ;; esac' EXIT

bench_dovecot_imap "$WORK/dv" > "$WORK/why" ||
	{ echo "bench: sync_push skipped: $(cat "$WORK/why")"; exit 0; }
LPORT=$(bench_free_port)
mkdir -p "$WORK/loft/Mail"
cat > "$WORK/loft/mailrc" <<EOR
set folder=$WORK/loft/Mail imap_listen=127.0.0.1:$LPORT smtp_listen= log_level=info
set queue_interval=1h shutdown_timeout=5
account dv {
  set imap_url=imap+insecure://bench@127.0.0.1:$DPORT/INBOX
  set imap_password_command='echo $BENCH_PW' sync=mirror sync_folders=INBOX
}
EOR
echo "$BENCH_PW" | "$LOFT" -F "$WORK/loft/mailrc" passwd --stdin phone >/dev/null
"$LOFT" -F "$WORK/loft/mailrc" daemon 2> "$WORK/daemon.log" &
PIDS+=($!)
for _ in $(seq 100); do
	grep -q "sync dv: all folders" "$WORK/daemon.log" && break
	sleep 0.1
done
grep -q "sync dv: all folders" "$WORK/daemon.log" ||
	{ echo "bench: sync_push failed: the daemon's first sync did not happen"; tail -5 "$WORK/daemon.log"; exit 1; }

probe() { python3 "$TOP/tests/sync_daemon_probe.py" push "$@"; }
out=$(probe "$LPORT" phone "$BENCH_PW" "$DPORT" bench "$BENCH_PW" "$ROUNDS" loftpush) ||
	{ echo "bench: sync_push failed: $out"; tail -5 "$WORK/daemon.log"; exit 1; }
echo "bench: sync_push $(tail -1 <<<"$out" | sed 's/ \([0-9][0-9.]*\)/ \1 ms/g') over $ROUNDS rounds (goal < 1000 ms)"
out=$(probe "$DPORT" bench "$BENCH_PW" "$DPORT" bench "$BENCH_PW" "$ROUNDS" dvpush) ||
	{ echo "bench: sync_push_dovecot_idle failed: $out"; exit 1; }
echo "bench: sync_push_dovecot_idle $(tail -1 <<<"$out" | sed 's/ \([0-9][0-9.]*\)/ \1 ms/g') over $ROUNDS rounds"
