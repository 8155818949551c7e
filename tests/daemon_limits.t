#!/bin/bash
# loft daemon under hostile clients (issue 10): idle sockets flooding both
# listeners never keep the owner out (the oldest connections not logged in
# are closed to make room; max_connections_per_ip); a command or a DATA
# trickled a byte at a time meets an overall deadline; NOOPs without mail
# are capped; a client reconnecting per message (smtp-source -s 20) is never
# told 421.  Hostile peers are tests/smtp_flood.py; all on 127.0.0.x.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

SUB_PORT=$(free_port)
IN_PORT=$(free_port)
PW=owner-password-1
make_mailrc "set hostname=mx.test smtp_listen=127.0.0.1:$SUB_PORT smtp_inbound_listen=127.0.0.1:$IN_PORT" \
	"set local_domains=example.org smtp_auth_failure_delay=0 log_level=info queue_interval=1h" \
	"set smtp_command_timeout=3 smtp_data_timeout=3 smtp_max_junk_commands=4 shutdown_timeout=3" \
	"set max_connections=20 max_connections_per_ip=10"
LOG=$T_DIR/daemon.log
FLOOD="python3 $TOP/tests/smtp_flood.py"

echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
start_daemon "$LOG"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }

secs_below() { awk -v t="$1" -v max="$2" 'BEGIN { exit !(t + 0 < max + 0) }'; }

# 1. 30 idle connections to each listener from 127.0.0.1 (the owner's own
# address), held while the owner logs in and sends.
mkfifo "$T_DIR/hold1" "$T_DIR/hold2"
$FLOOD idle "$SUB_PORT" 30 < "$T_DIR/hold1" > "$T_DIR/idle1" 2>&1 &
F1=$!
$FLOOD idle "$IN_PORT" 30 < "$T_DIR/hold2" > "$T_DIR/idle2" 2>&1 &
F2=$!
exec 8> "$T_DIR/hold1" 9> "$T_DIR/hold2"
for _ in $(seq 100); do grep -q HELD "$T_DIR/idle1" && grep -q HELD "$T_DIR/idle2" && break; sleep 0.1; done
like "$(cat "$T_DIR/idle1" "$T_DIR/idle2" | tr '\n' ' ')" 'HELD 30 .*HELD 30 ' "60 idle connections opened on both listeners"
r=$($FLOOD owner "$SUB_PORT" phone "$PW")
like "$r" '^SENT ' "the owner logs in and sends while 60 idle sockets are held" || diag "$r"
[ "${r%% *}" = SENT ] && secs_below "$(echo "$r" | awk '{print $2}')" 2
ok $? "in under 2 s (took $(echo "$r" | awk '{print $2}') s)"
exec 8>&- 9>&-
wait $F1 $F2
alive=$(( $(sed -n 's/^ALIVE //p' "$T_DIR/idle1") + $(sed -n 's/^ALIVE //p' "$T_DIR/idle2") ))
[ "$alive" -le 10 ]
ok $? "no more than max_connections_per_ip=10 idle ones were kept (kept $alive)"
grep -q 'closed to make room (max_connections_per_ip)' "$LOG"
ok $? "the daemon logs the connections it closed to make room"

# 2. Another address is not pushed out by a flood from this one.
mkfifo "$T_DIR/hold3"
$FLOOD idle "$SUB_PORT" 3 127.0.0.2 < "$T_DIR/hold3" > "$T_DIR/idle3" 2>&1 &
F3=$!
exec 8> "$T_DIR/hold3"
for _ in $(seq 100); do grep -q HELD "$T_DIR/idle3" && break; sleep 0.1; done
$FLOOD idle "$SUB_PORT" 25 < /dev/null > "$T_DIR/idle4" 2>&1
exec 8>&-
wait $F3
is "$(sed -n 's/^ALIVE //p' "$T_DIR/idle3")" 3 "25 more from 127.0.0.1 leave the 3 from 127.0.0.2 open"

# 3. A command trickled a byte a second, inside every per-read timeout.
r=$($FLOOD trickle "$SUB_PORT" 1)
like "$r" '^CLOSED .*421 4\.4\.2 .*Timeout' "a command trickled 1 byte/s is ended with 421 (smtp_command_timeout=3)" || diag "$r"
secs_below "$(echo "$r" | awk '{print $2}')" 6
ok $? "within the command timeout, not never (took $(echo "$r" | awk '{print $2}') s)"

# 4. The same inside DATA.
r=$($FLOOD datatrickle "$SUB_PORT" phone "$PW" 1)
like "$r" '^CLOSED ' "DATA trickled 1 byte/s is ended (smtp_data_timeout=3)" || diag "$r"
secs_below "$(echo "$r" | awk '{print $2}')" 6
ok $? "within the DATA deadline (took $(echo "$r" | awk '{print $2}') s)"

# 5. NOOP after NOOP: each comes in time, none moves mail.
r=$($FLOOD noop "$SUB_PORT" 0.3)
like "$r" '^CLOSED .*421 4\.7\.0 .*Too many commands without mail' "NOOPs without mail are capped (smtp_max_junk_commands=4)" || diag "$r"

# 6. One connection per message, 20 at once, as many messages as the cap
# times five: a client that got 221 and reconnects finds its slot free.
if command -v smtp-source >/dev/null || [ -x /usr/sbin/smtp-source ]; then
	SRC=$(command -v smtp-source || echo /usr/sbin/smtp-source)
	# Twenty sessions from one address: only max_connections applies.
	echo "set max_connections_per_ip=0" >> "$MAILRC_FILE"
	kill -HUP "$DPID"
	for _ in $(seq 100); do grep -q '^.*reloaded' "$LOG" && break; sleep 0.1; done
	before=$(grep -c 'queued ' "$LOG")
	"$SRC" -s 20 -m 100 -f a@example.org -t me@example.org 127.0.0.1:$IN_PORT > "$T_DIR/src" 2>&1
	ok $? "smtp-source -s 20 -m 100: every session accepted" || diag "$(head -3 "$T_DIR/src")"
	is "$(( $(grep -c 'queued ' "$LOG") - before ))" 100 "100 messages queued, no 421"
else
	skip "smtp-source missing (apt-get install postfix)"
	skip "smtp-source missing"
fi

kill -TERM "$DPID"
wait "$DPID"
is "$?" 0 "the daemon exits 0 after SIGTERM"
! grep -q 'Sanitizer' "$LOG"
ok $? "no sanitizer report from the daemon or its children"

done_testing
