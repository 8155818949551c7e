#!/bin/bash
# SMTP acceptance side by side: Postfix's smtp-source pushes BENCH_MSGS
# messages (default 5000), one connection per message as smtp-source does
# by default, with 1 and with 10 parallel sessions, into
#   loft    `loft daemon`'s submission listener (smtp_trust_loopback on, so
#           no AUTH; each 250 comes after the queue files are fsynced; its
#           runner delivers into the store meanwhile),
#   postfix a throwaway Postfix (own config, queue and data directories on a
#           loopback port) that delivers into a maildir (250 after its queue
#           file is fsynced; qmgr + virtual deliver meanwhile),
#   sink    smtp-sink, which discards: the upper bound.
# The same thing is timed for all three: from smtp-source's start until it
# has had its last reply (acceptance, not final delivery; both loft and
# Postfix keep delivering in the background during the run, and the script
# waits for their queues to drain before stopping them, unmeasured).
# Prints per session count:
#   bench: smtp_Nsession VALUE msg/s vs postfix VALUE msg/s ratio R
#   bench: smtp_Nsession_sink VALUE msg/s
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
MSGS=${BENCH_MSGS:-5000}
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
POSTFIX=/usr/sbin/postfix

for p in "$SOURCE" "$SINK" "$POSTFIX"; do
	[ -x "$p" ] || { echo "bench: smtp skipped: $p missing (apt-get install postfix)"; exit 0; }
done
WORK=$(mktemp -d /tmp/loft-bench-smtp.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PF_DIR=""
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$PF_DIR" ] && bash "$TOP/tests/postfix_instance.sh" stop "$PF_DIR"
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
	for _ in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# rate SESSIONS PORT: messages per second of one smtp-source run.
rate() {
	local t0 t1
	t0=$(date +%s.%N)
	"$SOURCE" -s "$1" -m "$MSGS" -f bench@example.org -t me@example.org -M bench.test \
		-S bench -l 1000 "127.0.0.1:$2" || echo "bench: smtp-source failed against port $2" >&2
	t1=$(date +%s.%N)
	python3 -c "print('%.0f' % ($MSGS / ($t1 - $t0)))"
}
count_files() { find "$1" -type f 2>/dev/null | wc -l; }
# Waits (at most 10 min) until directory $1 holds $2 files.
wait_files() {
	for _ in $(seq 6000); do [ "$(count_files "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}

# --- loft ---
LPORT=$(free_port)
mkdir -p "$WORK/loft"
cat > "$WORK/loft/rc" <<EOF
set folder=$WORK/loft/Mail hostname=bench.test local_domains=example.org
set smtp_listen=127.0.0.1:$LPORT smtp_trust_loopback max_connections=20
set index_on_delivery=no queue_interval=1h log_level=error
EOF
"$LOFT" -F "$WORK/loft/rc" daemon 2> "$WORK/loft/log" &
PIDS+=($!)
LOFT_PID=$!
wait_port "$LPORT" || { echo "bench: smtp: loft daemon did not start: $(cat "$WORK/loft/log")"; exit 1; }

# --- Postfix ---
PPORT=$(free_port)
PF_DIR=$WORK/pf
bash "$TOP/tests/postfix_instance.sh" start "$PF_DIR" "$PPORT" example.org ||
	{ echo "bench: smtp: Postfix did not start"; exit 1; }

# --- smtp-sink ---
SPORT=$(free_port)
"$SINK" -u nobody 127.0.0.1:$SPORT 256 &
PIDS+=($!)
wait_port "$SPORT" || { echo "bench: smtp: smtp-sink did not start"; exit 1; }

total=0
for s in 1 10; do
	l=$(rate $s "$LPORT")
	p=$(rate $s "$PPORT")
	k=$(rate $s "$SPORT")
	total=$((total + MSGS))
	r=$(python3 -c "print('%.2f' % ($l / $p))")
	echo "bench: smtp_${s}session $l msg/s vs postfix $p msg/s ratio $r"
	echo "bench: smtp_${s}session_sink $k msg/s"
	# Let both drain before the next round, so one round's deliveries do
	# not eat the next round's CPU (unmeasured).
	wait_files "$WORK/loft/Mail/INBOX/new" "$total" || echo "bench: smtp: loft delivered only $(count_files "$WORK/loft/Mail/INBOX/new") of $total"
	wait_files "$PF_DIR/mail/maildir/new" "$total" || echo "bench: smtp: Postfix delivered only $(count_files "$PF_DIR/mail/maildir/new") of $total"
done
echo "bench: smtp delivered loft $(count_files "$WORK/loft/Mail/INBOX/new") postfix $(count_files "$PF_DIR/mail/maildir/new") of $total each"
kill -TERM "$LOFT_PID"
wait "$LOFT_PID"
