#!/bin/bash
# IMAP server: loft daemon's imap_listen beside a private Dovecot (2.3,
# maildir, ssl = no, both on 127.0.0.1), same client (bench/imap_bench.py,
# imaplib), same messages:
#   - IDLE push: one connection IDLEs on INBOX; the time until its EXISTS
#     after an APPEND on a second connection (from the command sent), and
#     after a message file is renamed into INBOX/new (from the rename, as an
#     MDA does); for loft also after `loft deliver` (from its start);
#     BENCH_IMAP_ROUNDS rounds each (default 50), median and p99;
#   - APPEND of BENCH_IMAP_APPEND messages (default 2000) over one
#     connection: messages per second.
# Dovecot runs as the `mail` user with its own base_dir under a fresh
# /tmp directory (../shared/PEERS.md); it is stopped by pid.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
ROUNDS=${BENCH_IMAP_ROUNDS:-50}
APPENDS=${BENCH_IMAP_APPEND:-2000}
PY=$TOP/bench/imap_bench.py

[ -x "$LOFT" ] || { echo "bench: imap skipped: $LOFT missing (make first)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: imap skipped: python3 missing"; exit 0; }

WORK=$(mktemp -d /tmp/loft-bench-imap.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {	# wait_port PORT: until something accepts on it (10 s at most)
	for _ in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ratio() { python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f" % (a/b if b else 0))' "$1" "$2"; }

# --- loft -------------------------------------------------------------------
L=$WORK/loft
LPORT=$(free_port)
mkdir -p "$L"
printf 'set folder=%s/Mail imap_listen=127.0.0.1:%s smtp_listen= log_level=error queue_interval=1h\n' \
	"$L" "$LPORT" > "$L/mailrc"
LR=("$LOFT" -F "$L/mailrc")
echo "bench-password-1" | "${LR[@]}" passwd --stdin bench >/dev/null
"${LR[@]}" daemon 2> "$L/daemon.log" &
PIDS+=($!)
wait_port "$LPORT" || { echo "bench: imap skipped: loft daemon did not start: $(head -3 "$L/daemon.log")"; exit 1; }
# INBOX exists once a message is delivered.
printf 'From: a@example.org\nSubject: first\n\nx\n' | "${LR[@]}" deliver
loft_idle=$(python3 "$PY" idle 127.0.0.1 "$LPORT" bench bench-password-1 "$ROUNDS" "$L/Mail/INBOX" \
	"${LR[@]}" deliver) || { echo "bench: imap: loft idle failed"; exit 1; }
loft_append=$(python3 "$PY" append 127.0.0.1 "$LPORT" bench bench-password-1 "$APPENDS" | awk '{print $2}')

# --- Dovecot ----------------------------------------------------------------
D=$WORK/dovecot
DPORT=$(free_port)
dc_idle= dc_append=
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ]; then
	echo "bench: imap: dovecot skipped: dovecot-imapd is not installed"
elif ! id mail >/dev/null 2>&1; then
	echo "bench: imap: dovecot skipped: no 'mail' user to run it as"
else
	mkdir -p "$D/run" "$D/Maildir/cur" "$D/Maildir/new" "$D/Maildir/tmp" "$D/home"
	echo "bench:{PLAIN}bench-password-1" > "$D/passwd"
	chown -R mail:mail "$D/Maildir" "$D/home"
	cat > "$D/dovecot.conf" <<EOC
base_dir = $D/run
state_dir = $D/run/state
log_path = $D/dovecot.log
info_log_path = /dev/null
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $(id -u mail)
mail_location = maildir:$D/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$D/home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DPORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOC
	mkdir -p "$D/run/state"
	dovecot -F -c "$D/dovecot.conf" 2>> "$D/dovecot.log" &
	PIDS+=($!)
	if ! wait_port "$DPORT"; then
		echo "bench: imap: dovecot skipped: it did not start: $(tail -3 "$D/dovecot.log")"
	else
		printf 'From: a@example.org\r\nSubject: first\r\n\r\nx\r\n' > "$D/Maildir/new/1.first.host"
		chown mail:mail "$D/Maildir/new/1.first.host"
		dc_idle=$(python3 "$PY" idle 127.0.0.1 "$DPORT" bench bench-password-1 "$ROUNDS" "$D/Maildir") ||
			echo "bench: imap: dovecot idle failed: $(tail -3 "$D/dovecot.log")"
		dc_append=$(python3 "$PY" append 127.0.0.1 "$DPORT" bench bench-password-1 "$APPENDS" | awk '{print $2}')
	fi
fi

# --- report -----------------------------------------------------------------
get() { awk -v k="$2" '$1 == k {print $'"$3"'}' <<<"$1"; }
for kind in append drop; do
	for col in 2:median 3:p99; do
		n=${col%%:*} what=${col#*:}
		lv=$(get "$loft_idle" "$kind" "$n")
		dv=$(get "$dc_idle" "$kind" "$n")
		name=imap_idle_ms_$what
		[ "$kind" = drop ] && name=imap_idle_maildrop_ms_$what
		if [ -n "$dv" ]; then
			echo "bench: $name $lv ms vs dovecot $dv ms ratio $(ratio "$lv" "$dv")"
		else
			echo "bench: $name $lv ms (dovecot not measured)"
		fi
	done
done
echo "bench: imap_idle_deliver_ms_median $(get "$loft_idle" deliver 2) ms (loft deliver start -> EXISTS; p99 $(get "$loft_idle" deliver 3) ms)"
if [ -n "$dc_append" ]; then
	echo "bench: imap_append_msgs_per_s $loft_append msg/s vs dovecot $dc_append msg/s ratio $(ratio "$loft_append" "$dc_append")"
else
	echo "bench: imap_append_msgs_per_s $loft_append msg/s (dovecot not measured)"
fi
