#!/bin/bash
# The relay client against real smarthosts on 127.0.0.1: Postfix's
# smtp-sink (envelope and message intact, several messages over one
# connection, smtp:// refusing a server without STARTTLS), a scripted fake
# (4xx retried, 5xx per recipient bounced with the answer quoted, a drop in
# the middle of DATA: stays queued, sent once later), and a second loft
# daemon as a verified-TLS smarthost with AUTH (test CA made here; a
# certificate not from the trusted CA fails with a clear queue status and
# nothing sent; a pinned fingerprint passes).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)

# Loft A, the relaying side: its own store, local domain a.test.
A_RC=$T_DIR/a.rc
a_rc() {	# a_rc SMARTHOST-LINES...: rewrites A's mailrc
	{
		echo "set folder=$T_DIR/A imap_listen= hostname=relay-a.test from=me@a.test local_domains=a.test"
		echo "set log_level=info queue_retry_min=1 relay_timeout=10"
		printf '%s\n' "$@"
	} > "$A_RC"
}
loft_a() { "$LOFT" -F "$A_RC" "$@"; }
msg() {	# msg SUBJECT RCPT...: queues a message from me@a.test
	local subj=$1; shift
	printf 'From: me@a.test\nSubject: %s\n\nline one\n.line starting with a dot\n..two dots\nlast line\n' "$subj" |
		loft_a sendmail -odq -f me@a.test "$@"
}
wait_port() {
	for _ in $(seq 100); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), timeout=1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
queue_run() { loft_a queue flush > "$T_DIR/run.out" 2> "$T_DIR/run.err"; }

# 1. smtp-sink: the envelope and the message arrive intact; two queued
# messages go over one connection.
if [ -x "$SINK" ]; then
	SPORT=$(free_port)
	# smtp-sink run as root switches to nobody, who must reach the dumps.
	mkdir -p "$T_DIR/sink" && chmod 777 "$T_DIR/sink" && chmod o+x "$T_DIR"
	bg "$SINK" -u nobody -d "$T_DIR/sink/%M." 127.0.0.1:$SPORT 10 2> "$T_DIR/sink.log"
	wait_port $SPORT || diag "smtp-sink: $(cat "$T_DIR/sink.log")"
	a_rc "set smarthost=smtp+insecure://127.0.0.1:$SPORT"
	msg "to the sink" x@remote.test y@remote.test
	msg "second message" z@remote.test
	queue_run
	like "$(cat "$T_DIR/run.out")" '3 delivered' "smtp-sink: both messages relayed" || diag "$(cat "$T_DIR/run.err")"
	is "$(grep -c 'relay: connected to' "$T_DIR/run.err")" 1 "one connection for two messages (RSET between)"
	f=$(grep -l 'Subject: to the sink' "$T_DIR"/sink/* | head -1)
	is "$(grep -E '^X-(Mail|Rcpt)-Args' "$f" | tr '\n' ' ')" \
		"X-Mail-Args: <me@a.test> X-Rcpt-Args: <x@remote.test> X-Rcpt-Args: <y@remote.test> " \
		"the envelope is the queued one"
	is "$(sed -n '/^Subject: to the sink/,$p' "$f" | tr -d '\r' | grep -v '^$' | tail -4 | tr '\n' '|')" \
		'line one|.line starting with a dot|..two dots|last line|' "the body arrives intact (dot-stuffing undone by the sink)"
	is "$(loft_a queue list)" "Mail queue is empty" "the queue is empty"

	# smtp:// demands STARTTLS; smtp-sink has none: nothing is sent.
	a_rc "set smarthost=smtp://127.0.0.1:$SPORT"
	n=$(ls "$T_DIR/sink" | wc -l)
	msg "must not go in plaintext" x@remote.test
	queue_run
	like "$(loft_a queue list)" 'does not offer STARTTLS \(smtp:// requires it\)' "smtp:// without STARTTLS: a clear temporary failure"
	is "$(ls "$T_DIR/sink" | wc -l)" "$n" "nothing was sent in plaintext"
	loft_a queue rm $(loft_a queue list | awk '/^[0-9]/{print $1}') >/dev/null
else
	skip "smtp-sink missing (apt-get install postfix)"
fi

# 1b. A real Postfix as the smarthost: the message lands in its maildir
# intact, with the envelope recipient it was relayed for.
if [ -x /usr/sbin/postfix ] && [ "$(id -u)" = 0 ]; then
	PPORT=$(free_port)
	PF=$T_DIR/postfix
	if bash "$TOP/tests/postfix_instance.sh" start "$PF" $PPORT remote.test 2> "$T_DIR/pf.err"; then
		a_rc "set smarthost=smtp+insecure://127.0.0.1:$PPORT"
		msg "through postfix" friend@remote.test
		queue_run
		is "$(loft_a queue list)" "Mail queue is empty" "Postfix accepted the relayed message"
		for _ in $(seq 100); do ls "$PF"/mail/maildir/new/* >/dev/null 2>&1 && break; sleep 0.1; done
		f=$(ls "$PF"/mail/maildir/new/* 2>/dev/null | head -1)
		like "$(grep -m1 '^Delivered-To:' "$f" 2>/dev/null)" 'friend@remote.test' "Postfix delivered it for the right recipient"
		like "$(grep -m1 '^Return-Path:' "$f" 2>/dev/null)" '<me@a.test>' "with the right envelope sender"
		is "$(sed -n '/^Subject: through postfix/,$p' "$f" | grep -v '^$' | tail -4 | tr '\n' '|')" \
			'line one|.line starting with a dot|..two dots|last line|' "and the body intact"
		bash "$TOP/tests/postfix_instance.sh" stop "$PF"
	else
		ok 1 "the Postfix instance starts" && diag "$(cat "$T_DIR/pf.err")"
	fi
else
	skip "Postfix as smarthost: needs /usr/sbin/postfix and root"
fi

# 2. The scripted smarthost: 4xx, 5xx per recipient, a drop mid-DATA.
FPORT=$(free_port)
mkdir -p "$T_DIR/fake"
bg python3 "$TOP/tests/fake_smarthost.py" $FPORT "$T_DIR/fake" \
	--reply 'later@remote.test=450 4.2.1 Mailbox busy, try later' \
	--reply 'nobody@remote.test=550 5.1.1 <nobody@remote.test>: Recipient address rejected' \
	--drop-after 40 > "$T_DIR/fake.ready" 2> "$T_DIR/fake.log"
for _ in $(seq 50); do grep -q ready "$T_DIR/fake.ready" && break; sleep 0.1; done
a_rc "set smarthost=smtp+insecure://127.0.0.1:$FPORT"

# The first DATA to reach 40 bytes is cut off: everything stays queued.
msg "cut off" ok@remote.test
queue_run
like "$(loft_a queue list)" 'pending.*' "a smarthost dying mid-DATA: the message stays queued"
like "$(loft_a queue list)" 'connection to 127.0.0.1 lost' "its status says the connection was lost"
is "$(ls "$T_DIR/fake" | wc -l)" 0 "nothing was accepted by the smarthost"
queue_run
is "$(grep -l 'Subject: cut off' "$T_DIR"/fake/* 2>/dev/null | wc -l)" 1 "the next run sends it, once"
is "$(loft_a queue list)" "Mail queue is empty" "and it leaves the queue"

msg "mixed results" ok@remote.test later@remote.test nobody@remote.test
queue_run
L=$(loft_a queue list)
like "$L" '<later@remote.test> pending, 1 attempt' "4xx: the recipient stays queued for a retry"
like "$L" '450 4.2.1 Mailbox busy' "its answer is shown in the queue"
like "$L" '<nobody@remote.test> bounced' "5xx: the recipient is given up and reported"
f=$(grep -l 'Subject: mixed results' "$T_DIR"/fake/* | head -1)
is "$(grep '^RCPT' "$f" | tr '\n' ' ')" "RCPT <ok@remote.test> " "only the accepted recipient got the message"
b=$(grep -l 'Content-Type: multipart/report' "$T_DIR"/A/INBOX/new/* 2>/dev/null | head -1)
[ -n "$b" ]
ok $? "a bounce (DSN) reached the local sender's INBOX"
like "$(cat "$b" 2>/dev/null | tr -d '\r' | tr '\n' ' ')" '550 5\.1\.1 <nobody@remote.test>: Recipient address rejected' \
	"the DSN quotes the smarthost's answer"
like "$(cat "$b" 2>/dev/null)" 'Status: 5\.1\.1' "the DSN carries the status 5.1.1"
queue_run
like "$(loft_a queue list)" '<later@remote.test> pending, 2 attempts' "the 4xx recipient is retried"
loft_a queue rm $(loft_a queue list | awk '/^[0-9]/{print $1}') >/dev/null

# 2b. Hostile smarthosts (issue 10): EHLO answered with "250-" lines that
# never end, replies trickled a byte a second; and SIGTERM to a daemon whose
# runner is stuck on such a server.  Every step has a deadline.
secs_below() { awk -v t="$1" -v max="$2" 'BEGIN { exit !(t + 0 < max + 0) }'; }
timed_run() {	# timed_run: queue_run (30 s at most), then $SECS holds how long it took
	local t0; t0=$(date +%s.%N)
	timeout 30 "$LOFT" -F "$A_RC" queue flush > "$T_DIR/run.out" 2> "$T_DIR/run.err"
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}
HPORT=$(free_port)
TPORT=$(free_port)
mkdir -p "$T_DIR/flood" "$T_DIR/trickle"
bg python3 "$TOP/tests/fake_smarthost.py" $HPORT "$T_DIR/flood" --ehlo-flood > "$T_DIR/flood.ready" 2>&1
bg python3 "$TOP/tests/fake_smarthost.py" $TPORT "$T_DIR/trickle" --trickle 1 > "$T_DIR/trickle.ready" 2>&1
for _ in $(seq 50); do grep -q ready "$T_DIR/flood.ready" && grep -q ready "$T_DIR/trickle.ready" && break; sleep 0.1; done
a_rc "set smarthost=smtp+insecure://127.0.0.1:$HPORT relay_timeout=3"
msg "endless EHLO" x@remote.test
timed_run
like "$(loft_a queue list)" 'EHLO failed: reply of more than 100 lines' "an EHLO reply that never ends: a clear temporary failure"
secs_below "$SECS" 3
ok $? "and the queue run ends at once (took $SECS s)"
a_rc "set smarthost=smtp+insecure://127.0.0.1:$TPORT relay_timeout=3"
timed_run
like "$(loft_a queue list)" 'no greeting: timeout \(relay_timeout\)' "a reply trickled 1 byte/s: timed out"
secs_below "$SECS" 5
ok $? "within relay_timeout=3 for the whole reply (took $SECS s)"

# SIGTERM while the daemon's runner waits on the trickling smarthost.
a_rc "set smarthost=smtp+insecure://127.0.0.1:$TPORT relay_timeout=1m" \
	"set smtp_listen=127.0.0.1:$(free_port) queue_interval=1h shutdown_timeout=2"
bg "$LOFT" -F "$A_RC" daemon 2> "$T_DIR/a-daemon.log"
APID=$!
for _ in $(seq 100); do [ "$(grep -c '^session' "$T_DIR/trickle.ready")" -ge 2 ] && break; sleep 0.1; done
t0=$(date +%s.%N)
kill -TERM "$APID"
for _ in $(seq 150); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$APID" 2>/dev/null
wait "$APID"
rc=$?
SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
is "$rc" 0 "SIGTERM with a relay in progress: the daemon exits 0"
secs_below "$SECS" 4
ok $? "within about shutdown_timeout=2 (took $SECS s)"
like "$(loft_a queue list)" 'x@remote.test' "the message in flight stays queued"
loft_a queue rm $(loft_a queue list | awk '/^[0-9]/{print $1}') >/dev/null

# 3. Loft daemon B as a smarthost with a certificate from a test CA and AUTH.
mkdir -p "$T_DIR/ca"
(
	cd "$T_DIR/ca" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj "/CN=loft test CA" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.csr \
		-subj "/CN=localhost" 2>/dev/null &&
	printf 'subjectAltName=DNS:localhost\n' > ext &&
	openssl x509 -req -in b.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out b.pem -days 2 \
		-extfile ext 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
		-out other.pem -days 2 -subj "/CN=other CA" 2>/dev/null
)
ok $? "a test CA and a certificate for localhost signed by it"
BPORT=$(free_port)
B_RC=$T_DIR/b.rc
cat > "$B_RC" <<EOF
set folder=$T_DIR/B imap_listen= hostname=localhost local_domains=b.test log_level=info queue_interval=1h
set smtp_listen=127.0.0.1:$BPORT tls_cert=$T_DIR/ca/b.pem tls_key=$T_DIR/ca/b.key
EOF
echo "relay-secret-9" | "$LOFT" -F "$B_RC" passwd --stdin relay-a >/dev/null
bg "$LOFT" -F "$B_RC" daemon 2> "$T_DIR/b.log"
for _ in $(seq 100); do grep -q 'started, pid' "$T_DIR/b.log" && break; sleep 0.1; done
echo "relay-secret-9" > "$T_DIR/pw"
BFP=$(openssl x509 -in "$T_DIR/ca/b.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

# A certificate not signed by a trusted CA: temporary failure, nothing sent.
a_rc "set smarthost=smtp://localhost:$BPORT smarthost_ca=$T_DIR/ca/other.pem" \
	"set smarthost_user=relay-a smarthost_password_command='cat $T_DIR/pw'"
msg "over verified TLS" friend@b.test
queue_run
like "$(loft_a queue list)" 'certificate of localhost not trusted' "an untrusted certificate: the queue status says so"
! grep -q 'logged in as relay-a' "$T_DIR/b.log"
ok $? "no login was attempted with the untrusted certificate"
! grep -q 'queued .* from <me@a.test>' "$T_DIR/b.log"
ok $? "nothing was sent to it"

# The right CA: STARTTLS verified, AUTH PLAIN, delivered at B.
a_rc "set smarthost=smtp://localhost:$BPORT smarthost_ca=$T_DIR/ca/ca.pem" \
	"set smarthost_user=relay-a smarthost_password_command='cat $T_DIR/pw'"
queue_run
like "$(cat "$T_DIR/run.err")" 'connected to localhost:[0-9]+ \(TLS verified\)' "the test CA verifies the smarthost"
is "$(loft_a queue list)" "Mail queue is empty" "relayed over STARTTLS with AUTH"
grep -q 'logged in as relay-a' "$T_DIR/b.log"
ok $? "the smarthost saw the login"
for _ in $(seq 50); do grep -lqs 'Subject: over verified TLS' "$T_DIR"/B/INBOX/new/* && break; sleep 0.1; done
grep -lqs 'Subject: over verified TLS' "$T_DIR"/B/INBOX/new/*
ok $? "the message arrived at the smarthost's INBOX"
! grep -q 'relay-secret-9' "$T_DIR/run.err" "$T_DIR/b.log"
ok $? "the password appears in no log"

# A pinned fingerprint instead of a CA; a wrong pin fails.
a_rc "set smarthost=smtps://localhost:$BPORT" 2>/dev/null
a_rc "set smarthost=smtp://localhost:$BPORT smarthost_fingerprint=$BFP smarthost_ca=$T_DIR/ca/other.pem" \
	"set smarthost_user=relay-a smarthost_password_command='cat $T_DIR/pw'"
msg "pinned" friend@b.test
queue_run
is "$(loft_a queue list)" "Mail queue is empty" "a pinned smarthost_fingerprint passes without the CA"
a_rc "set smarthost=smtp://localhost:$BPORT smarthost_fingerprint=${BFP/#??/00}" \
	"set smarthost_user=relay-a smarthost_password_command='cat $T_DIR/pw'"
msg "wrong pin" friend@b.test
queue_run
like "$(loft_a queue list)" 'not the pinned one' "a wrong pin: a clear temporary failure"

# A failing password command: temporary, with a clear status.
a_rc "set smarthost=smtp://localhost:$BPORT smarthost_ca=$T_DIR/ca/ca.pem" \
	"set smarthost_user=relay-a smarthost_password_command='exit 3'"
queue_run
like "$(loft_a queue list)" 'smarthost_password_command failed \(status 3\)' "a failing password command is a clear temporary failure"

! grep -q 'Sanitizer' "$T_DIR/b.log" "$T_DIR/run.err"
ok $? "no sanitizer report"

done_testing
