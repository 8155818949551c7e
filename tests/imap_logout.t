#!/bin/bash
# After LOGOUT the client sees the end of the connection at once, before
# the session closes its folder and store: mbsync waits for that end after
# LOGOUT, and it used to wait for the whole teardown (6 ms of a sync, the
# inotify watches, the state, the session file).  The session is stopped
# at imapd:teardown (LOFT_CRASH_PAUSE, after the last reply): the client
# must still get the BYE, the tagged OK and end of stream, over TCP from
# `loft daemon` and over the pipe pair of `loft imapd`.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
PW=phone-password-1
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= queue_interval=1h log_level=info"
echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
ok $? "a login for the phone"
printf 'From: a@example.org\nSubject: one\nMessage-ID: <one@example.org>\n\nbody\n' |
	"$LOFT" -F "$MAILRC_FILE" deliver
ok $? "a message in INBOX"

# Over TCP: LOGIN, SELECT, LOGOUT; then the end of stream within 10 s.
LOFT_CRASH_PAUSE=imapd:teardown start_daemon "$T_DIR/daemon.log"
ok $? "loft daemon starts" || { diag "$(cat "$T_DIR/daemon.log")"; done_testing; exit; }
out=$(timeout 30 python3 - "$PORT" "$PW" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b'a1 LOGIN phone "%s"\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n' % sys.argv[2].encode())
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            print("eof")
            break
        got += d
except socket.timeout:
    print("no end of stream within 10 s")
print("bye" if b"\r\n* BYE " in got and b"\r\na3 OK " in got else "replies: %r" % got[-200:])
PY
)
like "$out" "bye" "the BYE and the tagged OK of LOGOUT arrive"
like "$out" "eof" "then the end of stream, while the session still has its teardown ahead"
child=$(pgrep -P "$DPID" | head -1)
stopped "${child:-0}"
ok $? "the session process is indeed stopped at imapd:teardown"
[ -n "$child" ] && kill -CONT "$child"
for _ in $(seq 100); do kill -0 "${child:-0}" 2>/dev/null || break; sleep 0.05; done
! kill -0 "${child:-0}" 2>/dev/null
ok $? "resumed, it finishes its teardown and exits"

# The pipe pair of `loft imapd` (a tunnel): stdout ends at once too.
mkfifo "$T_DIR/fifo"
printf 'b1 SELECT INBOX\r\nb2 LOGOUT\r\n' > "$T_DIR/in"
LOFT_CRASH_PAUSE=imapd:teardown "$LOFT" -F "$MAILRC_FILE" imapd < "$T_DIR/in" > "$T_DIR/fifo" \
	2> "$T_DIR/imapd.err" &
ipid=$!
T_PIDS+=("$ipid")
timeout 10 cat "$T_DIR/fifo" > "$T_DIR/imapd.out"
ok $? "loft imapd: its stdout ends while the session is stopped before its teardown"
like "$(tr -d '\r' < "$T_DIR/imapd.out")" "b2 OK" "with the LOGOUT reply"
stopped "$ipid"
ok $? "loft imapd is stopped at imapd:teardown"
kill -CONT "$ipid"
wait "$ipid"
ok $? "resumed, loft imapd exits with status 0"

# A session over, its teardown still ahead, is no longer counted against
# max_connections_per_ip: with 2 allowed, sessions one after the other each
# stopped at imapd:teardown all get in (before, the third got "* BYE Too
# many connections": the stopped ones still counted).
kill "$DPID"; wait "$DPID" 2>/dev/null
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= queue_interval=1h log_level=info" \
	"set max_connections_per_ip=2"
LOFT_CRASH_PAUSE=imapd:teardown start_daemon "$T_DIR/daemon2.log"
ok $? "loft daemon starts with max_connections_per_ip=2" ||
	{ diag "$(cat "$T_DIR/daemon2.log")"; done_testing; exit; }
out=$(timeout 60 python3 - "$PORT" "$PW" <<'PY'
import imaplib, sys
for i in range(4):
    try:
        M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=10)
        M.login("phone", sys.argv[2])
        M.select("INBOX")
        M.logout()
        print("in")
    except Exception as e:
        print("refused: %s" % e)
PY
)
is "$(echo $out)" "in in in in" "four sessions in a row, each left stopped in its teardown, all get in" ||
	diag "$(grep -i refused "$T_DIR/daemon2.log")"
kids=$(pgrep -P "$DPID")
is "$(echo "$kids" | grep -c .)" 4 "the four are still there, stopped before their teardown"
for k in $kids; do kill -CONT "$k"; done
for _ in $(seq 100); do [ -z "$(pgrep -P "$DPID")" ] && break; sleep 0.05; done
is "$(pgrep -P "$DPID" | grep -c .)" 0 "resumed, they finish and exit"

done_testing
