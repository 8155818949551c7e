#!/bin/bash
# loft daemon with real clients: swaks (STARTTLS, implicit TLS, AUTH PLAIN
# and LOGIN, pipelining, SIZE), smtplib, msmtp and openssl s_client submit
# mail that the daemon's runner delivers to INBOX (with its Received:
# line); refusals of a wrong password; SIGHUP reload with a connection open; the connection cap; the open-relay, smuggling and
# STARTTLS-injection suites against the daemon; SIGTERM during a slow DATA;
# --detach with a pid file.  Everything on 127.0.0.1, stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

SUB_PORT=$(free_port)
TLS_PORT=$(free_port)
IN_PORT=$(free_port)
PW=phone-password-1
make_mailrc "set hostname=mx.test smtp_listen=127.0.0.1:$SUB_PORT smtps_listen=127.0.0.1:$TLS_PORT" \
	"set smtp_inbound_listen=127.0.0.1:$IN_PORT smtp_auth_failure_delay=0 smtp_max_errors=50" \
	"set local_domains='example.org example.net' local_addresses=me@other.org" \
	"set log_level=info queue_interval=1h shutdown_timeout=20"
INBOX=$T_DIR/Mail/INBOX
LOG=$T_DIR/daemon.log

echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
ok $? "loft passwd --stdin phone"

start_daemon "$LOG"
ok $? "loft daemon starts in the foreground" || { diag "$(cat "$LOG")"; done_testing; exit; }
like "$(cat "$LOG")" "smtp: listening on 127.0.0.1:$SUB_PORT" "it logs each listener"
FP=$(sed -n 's/.*fingerprint \([0-9A-F:]*\).*/\1/p' "$LOG" | head -1)
like "$FP" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "it logs the certificate's SHA-256 fingerprint"
CERT=$T_DIR/Mail/.loft/tls/cert.pem
is "$(stat -c %a "$T_DIR/Mail/.loft/tls/key.pem")" 600 "the generated key is mode 0600"

inbox_count() { find "$INBOX/new" "$INBOX/cur" -type f 2>/dev/null | wc -l; }
# Waits until INBOX holds $1 messages (the runner is poked per message).
wait_inbox() {
	for _ in $(seq 100); do [ "$(inbox_count)" -ge "$1" ] && break; sleep 0.1; done
	[ "$(inbox_count)" -eq "$1" ]
}

# 1. swaks: every ESMTP path.
if command -v swaks >/dev/null && perl -MNet::SSLeay -e1 2>/dev/null; then
	SW="swaks --server 127.0.0.1:$SUB_PORT --helo probe.test --from a@example.org --to me@example.org"
	$SW --tls --auth PLAIN --auth-user phone --auth-password $PW --header 'Subject: swaks plain' > "$T_DIR/sw1" 2>&1
	ok $? "swaks: STARTTLS + AUTH PLAIN" || diag "$(tail -5 "$T_DIR/sw1")"
	like "$(cat "$T_DIR/sw1")" '250-PIPELINING' "EHLO offers PIPELINING"
	like "$(cat "$T_DIR/sw1")" '250-8BITMIME' "EHLO offers 8BITMIME"
	$SW --tls --auth LOGIN --auth-user phone --auth-password $PW --header 'Subject: swaks login' > "$T_DIR/sw2" 2>&1
	ok $? "swaks: STARTTLS + AUTH LOGIN" || diag "$(tail -5 "$T_DIR/sw2")"
	$SW --tls --auth PLAIN --auth-user phone --auth-password $PW --pipeline --header 'Subject: swaks pipe' > "$T_DIR/sw3" 2>&1
	ok $? "swaks: PIPELINING" || diag "$(tail -5 "$T_DIR/sw3")"
	swaks --server 127.0.0.1:$TLS_PORT --tlsc --helo probe.test --from a@example.org --to me@example.org \
		--auth PLAIN --auth-user phone --auth-password $PW --header 'Subject: swaks smtps' > "$T_DIR/sw4" 2>&1
	ok $? "swaks: implicit TLS (smtps_listen) + AUTH" || diag "$(tail -5 "$T_DIR/sw4")"
	$SW --tls > "$T_DIR/sw5" 2>&1
	grep -q '530 5.7.0' "$T_DIR/sw5"
	ok $? "swaks without AUTH: 530, also from loopback"
	wait_inbox 4
	ok $? "the four messages arrive in INBOX (the runner was poked)" || diag "inbox: $(inbox_count)"
	grep -lq '^Subject: swaks pipe' "$INBOX"/new/* 2>/dev/null
	ok $? "the pipelined message is the one delivered"
	f=$(grep -l '^Subject: swaks plain' "$INBOX"/new/* 2>/dev/null | head -1)
	like "$(sed '/^$/q' "$f" | tr -d '\r' | tr '\n\t' '  ')" \
		'Received: from probe.test \(\[127\.0\.0\.1\]\) +by mx\.test \(loft\) with ESMTPSA id [^ ]+ +for <me@example\.org>;' \
		"the Received: line names HELO, IP, host, ESMTPSA and the recipient"
	$SW --tls --auth PLAIN --auth-user phone --auth-password wrong > "$T_DIR/sw6" 2>&1
	grep -q '<~\* *535 5.7.8' "$T_DIR/sw6"
	ok $? "swaks with a wrong password: 535 5.7.8" || diag "$(tail -5 "$T_DIR/sw6")"
	$SW --tls --auth PLAIN --auth-user phone --auth-password $PW --to x@other.org \
		--header 'Subject: relay allowed when logged in' > "$T_DIR/sw7" 2>&1
	ok $? "swaks: a logged-in client may send anywhere (that is submission)" || diag "$(tail -5 "$T_DIR/sw7")"
	id=$(tr -d '\r' < "$T_DIR/sw7" | sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9a-f.]*\).*/\1/p')
	# (the runner poked by this message may be trying it right now: "delivering")
	like "$("$LOFT" queue list | tr '\n' ' ')" "^.*$id .*<x@other\.org> (pending|delivering)" "  ...it is queued for the remote recipient"
	"$LOFT" queue rm "$id" >/dev/null
	ok $? "  ...and removed (no smarthost here)"
else
	skip "swaks or libnet-ssleay-perl missing"
	mkdir -p "$INBOX/new"
	for i in 1 2 3 4; do echo "Subject: filler" > "$INBOX/new/filler$i"; done
fi
probe size "$SUB_PORT" phone "$PW"

# 2. smtplib (certificate verified as a CA with its host name): two recipients.
probe smtplib "$SUB_PORT" phone "$PW" "$CERT"
wait_inbox 6
ok $? "smtplib's message arrives for both recipients" || diag "inbox: $(inbox_count)"

# 3. msmtp with the certificate pinned by the fingerprint the daemon logged.
if command -v msmtp >/dev/null; then
	cat > "$T_DIR/msmtprc" <<EOF
account loft
host 127.0.0.1
port $SUB_PORT
tls on
tls_starttls on
tls_fingerprint $FP
auth on
user phone
password $PW
from a@example.org
EOF
	chmod 600 "$T_DIR/msmtprc"
	printf 'Subject: via msmtp\n\nhello from msmtp\n' |
		msmtp -C "$T_DIR/msmtprc" -a loft me@example.org > "$T_DIR/msmtp.out" 2>&1
	ok $? "msmtp submits over STARTTLS with the pinned fingerprint" || diag "$(cat "$T_DIR/msmtp.out")"
	wait_inbox 7
	ok $? "msmtp's message arrives"
else
	skip "msmtp missing (apt-get install msmtp)"
	skip "msmtp missing"
fi

# 4. openssl s_client shows the certificate whose fingerprint was logged,
# verifies it as a CA with its host name, and talks SMTP under TLS.
got=$(timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:$SUB_PORT </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//')
is "$got" "$FP" "openssl s_client -starttls smtp: the logged fingerprint is the served one"
# -crlf turns each \n into CRLF (a \r here would arrive as a bare CR).
# s_client prints the last line of its own plaintext EHLO reply too, so
# only the reply that starts with our EHLO's first line counts.
out=$(printf 'EHLO probe.test\nQUIT\n' | timeout 10 openssl s_client -starttls smtp \
	-connect 127.0.0.1:$SUB_PORT -CAfile "$CERT" -verify_hostname mx.test -crlf -quiet 2>&1)
like "$out" 'verify return:1' "openssl s_client -starttls smtp: certificate verified for mx.test"
tls_ehlo=$(printf '%s\n' "$out" | tr -d '\r' | sed -n '/^250-mx\.test/,/^250 /p' | tr '\n' ' ')
like "$tls_ehlo" '^250-mx\.test .*250 AUTH PLAIN LOGIN' "openssl s_client: EHLO under TLS offers AUTH"
like "$out" '221 2\.0\.0' "openssl s_client: QUIT answered (no timeout)"

# 4b. Submission completes a header without Date or Message-ID (RFC 6409
# section 8), as loft sendmail does; the inbound MX leaves mail as it came.
python3 - "$SUB_PORT" "$IN_PORT" "$PW" "$CERT" > "$T_DIR/nodate" 2>&1 <<'EOF'
import smtplib, ssl, sys
sub, inb, pw, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
with smtplib.SMTP("127.0.0.1", sub, timeout=20) as c:
    c.starttls(context=ctx)
    c.login("phone", pw)
    c.sendmail("a@example.org", ["me@example.org"], "Subject: submitted bare\r\n\r\nno date\r\n")
with smtplib.SMTP("127.0.0.1", inb, timeout=20) as c:
    c.sendmail("x@elsewhere.test", ["me@example.org"], "Subject: inbound bare\r\n\r\nno date\r\n")
print("SENT")
EOF
grep -q SENT "$T_DIR/nodate"
ok $? "smtplib submits, and sends inbound, a message without Date or Message-ID" || diag "$(cat "$T_DIR/nodate")"
for _ in $(seq 100); do
	grep -q '^Subject: inbound bare' "$INBOX"/new/* 2>/dev/null &&
		grep -q '^Subject: submitted bare' "$INBOX"/new/* 2>/dev/null && break
	sleep 0.1
done
f=$(grep -l '^Subject: submitted bare' "$INBOX"/new/* 2>/dev/null | head -1)
like "$(grep '^Date:' "$f" 2>/dev/null)" '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} [-+][0-9]{4}$' \
	"the submitted copy got a Date at submission"
like "$(grep '^Message-ID:' "$f" 2>/dev/null)" '^Message-ID: <[^@]+@mx\.test>$' "  ...and a Message-ID"
f=$(grep -l '^Subject: inbound bare' "$INBOX"/new/* 2>/dev/null | head -1)
ok $([ -n "$f" ] && ! grep -qE '^(Date|Message-ID):' "$f"; echo $?) "the inbound copy is stored without them (not rewritten)"

# 5. The open-relay suites: inbound (no AUTH) and submission without AUTH.
before=$(inbox_count)
probe relay "$IN_PORT"
probe relaysub "$SUB_PORT"
is "$(inbox_count):$("$LOFT" queue list)" "$before:Mail queue is empty" "nothing was queued by the relay suites"

# 6. Smuggling: every end-of-DATA variant; nothing smuggled gets queued.
before=$(inbox_count)
probe smuggle "$SUB_PORT" phone "$PW"
wait_inbox $((before + 1))
ok $? "only the CRLF.SPCRLF message (no fake end) was accepted" || diag "inbox: $(inbox_count) was $before"
! grep -lq '^Return-Path: <evil@example.org>' "$INBOX"/new/* 2>/dev/null
ok $? "no smuggled message was delivered (sender evil@)"

# 7. STARTTLS injection.
probe inject "$SUB_PORT"
grep -q 'discarded .* octets pipelined after STARTTLS' "$LOG"
ok $? "the daemon logged the discarded plaintext"

# 8. SIGHUP with a connection open; a changed listener is rebound.
NEW_IN=$(free_port)
python3 "$TOP/tests/smtp_probe.py" hold "$SUB_PORT" 2 phone "$PW" > "$T_DIR/hold" 2>&1 &
HOLD=$!
for _ in $(seq 50); do grep -q HELD "$T_DIR/hold" && break; sleep 0.1; done
sed -i "s/smtp_inbound_listen=127.0.0.1:$IN_PORT/smtp_inbound_listen=127.0.0.1:$NEW_IN/" "$MAILRC_FILE"
echo "set max_connections=2" >> "$MAILRC_FILE"
kill -HUP "$DPID"
wait "$HOLD"
grep -q '^PASS a connection open across' "$T_DIR/hold"
ok $? "SIGHUP: an open connection keeps working" || diag "$(cat "$T_DIR/hold")"
grep -q 'reloaded' "$LOG"
ok $? "the daemon logged the reload"
python3 -c "import socket; socket.create_connection(('127.0.0.1', $NEW_IN), timeout=5).recv(100)" 2>/dev/null
ok $? "the inbound listener moved to its new address"
kill -0 "$DPID"
ok $? "the daemon is still running after SIGHUP"

# 9. The connection cap (max_connections=2 since the reload): a third
# connection closes the oldest one not logged in; when both are logged in,
# it gets 421.
python3 - "$SUB_PORT" phone "$PW" > "$T_DIR/cap" 2>&1 <<'EOF'
import base64, socket, sys, time
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.recv(200)          # the 220 greeting: the child is running
    return s
a, b = conn(), conn()
c = conn()               # pushes out a, the oldest not logged in
print("evicted" if a.recv(200) == b"" else "kept")
plain = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
for s in (b, c):
    s.sendall(b"EHLO cap.test\r\n")
    while b"250 " not in s.recv(1000):
        pass
    s.sendall(b"AUTH PLAIN " + plain + b"\r\n")
    print(s.recv(200).decode().strip())
t = socket.create_connection(("127.0.0.1", port), timeout=10)
print(t.recv(200).decode().strip())
EOF
like "$(sed -n 1p "$T_DIR/cap")" '^evicted$' "over max_connections=2 the oldest connection not logged in is closed"
like "$(sed -n 4p "$T_DIR/cap")" '^421 4\.3\.2 ' "with both logged in, the third connection gets 421" || diag "$(cat "$T_DIR/cap")"

# 10. SIGTERM during a slow DATA: finished and delivered, then exit 0.
before=$(inbox_count)
python3 "$TOP/tests/smtp_probe.py" slowdata "$SUB_PORT" phone "$PW" 2 > "$T_DIR/slow" 2>&1 &
SLOW=$!
for _ in $(seq 50); do grep -q INDATA "$T_DIR/slow" && break; sleep 0.1; done
kill -TERM "$DPID"
wait "$SLOW"
grep -q '^PASS a slow DATA' "$T_DIR/slow"
ok $? "SIGTERM: the DATA in flight is finished with 250" || diag "$(cat "$T_DIR/slow")"
wait "$DPID"
is "$?" 0 "the daemon exits 0 after SIGTERM"
grep -q 'slow data' "$INBOX"/new/* 2>/dev/null || {
	# Accepted means queued: the next daemon's runner delivers it.
	"$LOFT" queue run >/dev/null 2>&1; }
grep -lq '^Subject: slow data' "$INBOX"/new/*
ok $? "the message accepted during shutdown is delivered (queued durably; a queue run sends it)"
python3 -c "import socket; socket.create_connection(('127.0.0.1', $SUB_PORT), timeout=2)" 2>/dev/null
ok $((! $?)) "the listener is closed"

# 11. --detach writes the pid file; SIGTERM removes it.
"$LOFT" daemon --detach --pidfile "$T_DIR/loft.pid" 2> "$T_DIR/detach.log"
ok $? "loft daemon --detach returns 0"
DET=$(cat "$T_DIR/loft.pid" 2>/dev/null)
T_PIDS+=("$DET")
kill -0 "$DET" 2>/dev/null
ok $? "the pid file names a running daemon"
kill -TERM "$DET"
for _ in $(seq 50); do kill -0 "$DET" 2>/dev/null || break; sleep 0.1; done
[ ! -e "$T_DIR/loft.pid" ]
ok $? "SIGTERM removes the pid file"
is "$("$LOFT" queue list)" "Mail queue is empty" "the queue is empty at the end"

# 12. Started as root: children run as the owner of the mail root.
if [ "$(id -u)" = 0 ] && command -v swaks >/dev/null; then
	U=$T_DIR/user
	mkdir -p "$U/Mail" && chown nobody:nogroup "$U/Mail" && chmod o+x "$T_DIR" "$U"
	UP=$(free_port)
	printf 'set folder=%s imap_listen= hostname=mx.test smtp_listen=127.0.0.1:%s local_domains=example.org log_level=info\n' \
		"$U/Mail" "$UP" > "$U/rc"
	chmod 644 "$U/rc"
	echo "$PW" | "$LOFT" -F "$U/rc" passwd --stdin phone >/dev/null
	bg "$LOFT" -F "$U/rc" daemon 2> "$U/log"
	UPID=$!
	for _ in $(seq 100); do grep -q 'started, pid' "$U/log" && break; sleep 0.1; done
	swaks --server 127.0.0.1:$UP --from a@example.org --to me@example.org --tls --auth PLAIN \
		--auth-user phone --auth-password $PW > "$U/sw" 2>&1
	ok $? "as root: a message is accepted by an unprivileged child" || diag "$(tail -3 "$U/sw")"
	for _ in $(seq 50); do ls "$U"/Mail/INBOX/new/* >/dev/null 2>&1 && break; sleep 0.1; done
	is "$(stat -c %U "$U"/Mail/INBOX/new/* 2>/dev/null)" nobody "it is delivered by the runner as the owner of folder"
	like "$(cat "$U/log")" 'connections run as uid [0-9]+' "the daemon says whom children run as"
	kill -TERM "$UPID"; wait "$UPID"
else
	skip "privilege drop: needs root"
fi
! grep -q 'Sanitizer' "$LOG" "$T_DIR/detach.log"
ok $? "no sanitizer report from the daemon or its children"

done_testing
