#!/bin/bash
# loft daemon's IMAP listeners with real clients: Python's imaplib over
# plain + STARTTLS and over imaps_listen (implicit TLS), LOGIN and
# AUTHENTICATE PLAIN/LOGIN with SASL-IR against `loft passwd` logins, wrong
# passwords delayed, counted and cut off, `loft passwd --remove` ending an
# open session, 30 idle unauthenticated connections not keeping the owner's
# device out, curl's IMAP, IDLE push of `loft deliver` (latency printed),
# mbsync over TCP with STARTTLS syncing both ways (new messages, flags,
# expunges and new folders on each side), and the autologout and
# login timers after a SIGHUP reload, UNAUTHENTICATE then a login as another
# device, and that a logged-out connection is evictable again.
# Everything on 127.0.0.1, stopped by pid.  (LOGINDISABLED for a non-loopback peer needs a second address: see
# tests/unit/test_daemon_imap.c.)
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
SPORT=$(free_port)
PW=phone-password-1
TPW=tablet-password-1
write_rc() {
	make_mailrc "set imap_listen=127.0.0.1:$PORT imaps_listen=127.0.0.1:$SPORT smtp_listen=" \
		"set imap_auth_failure_delay=1 imap_max_auth_failures=2 log_level=info" \
		"set queue_interval=1h shutdown_timeout=5 max_connections=20 max_connections_per_ip=10" "$@"
}
write_rc
LOG=$T_DIR/daemon.log
LOFT_RC=("$LOFT" -F "$MAILRC_FILE")
mkmsg() { printf 'From: x@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody %s\n' "$1" "$1" "$1"; }

LPW=laptop-password-1
echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null && echo "$TPW" | "$LOFT" passwd --stdin tablet >/dev/null &&
	echo "$LPW" | "$LOFT" passwd --stdin laptop >/dev/null
ok $? "loft passwd --stdin: logins phone, tablet and laptop"
mkmsg first | "${LOFT_RC[@]}" deliver
ok $? "a first message is delivered to INBOX"

start_daemon "$LOG"
ok $? "loft daemon starts with the IMAP listeners" || { diag "$(cat "$LOG")"; done_testing; exit; }
like "$(cat "$LOG")" "imap: listening on 127.0.0.1:$PORT" "it logs imap_listen"
like "$(cat "$LOG")" "imaps: listening on 127.0.0.1:$SPORT" "it logs imaps_listen"
[[ $(cat "$LOG") != *"not built yet"* ]]; ok $? "no 'not built yet' warning for imap_listen"
CERT=$T_DIR/Mail/.loft/tls/cert.pem

# iprobe SUITE ARGS...: tests/imap_daemon_probe.py's PASS/FAIL lines as TAP.
iprobe() {
	local line n=0 rc=
	while IFS= read -r line; do
		case $line in
		PASS\ *) n=$((n + 1)); ok 0 "${line#PASS }" ;;
		FAIL\ *) n=$((n + 1)); ok 1 "${line#FAIL }" ;;
		"probe exit "*) rc=${line#probe exit } ;;
		\#\ *) diag "${line#\# }" ;;
		*) diag "$line" ;;
		esac
	done < <(timeout 300 python3 "$TOP/tests/imap_daemon_probe.py" "$@" 2>&1; echo "probe exit $?")
	[ "$n" -gt 0 ] || ok 1 "probe $1 printed no result"
	[ "$rc" = 0 ] || ok 1 "probe $1 exited with status $rc"
}

iprobe login "$PORT" "$SPORT" "$CERT" phone "$PW"
iprobe fail "$PORT" "$CERT" phone 1 2
like "$(cat "$LOG")" "failed login for 'phone' \(2\)" "the failures are logged and counted"
iprobe revoke "$PORT" tablet "$TPW" "${LOFT_RC[@]}"
iprobe crowd "$PORT" phone "$PW" 30
iprobe unauth "$PORT" "$CERT" laptop "$LPW" phone "$PW" "${LOFT_RC[@]}"
iprobe unauth_evict "$PORT" phone "$PW" 10

# curl's IMAP: the first message by UID.
if command -v curl >/dev/null; then
	out=$(timeout 30 curl -s "imap://phone:$PW@127.0.0.1:$PORT/INBOX;UID=1")
	like "$out" 'Subject: first' "curl imap://...;UID=1 fetches the message" || diag "curl: $out"
	out=$(timeout 30 curl -s --ssl-reqd --cacert "$CERT" -k "imap://phone:$PW@127.0.0.1:$PORT/INBOX;UID=1")
	like "$out" 'Subject: first' "curl over STARTTLS (--ssl-reqd) too"
else
	skip "curl is not installed"
fi

iprobe idle "$PORT" phone "$PW" 20 "${LOFT_RC[@]}"

# mbsync over TCP with STARTTLS, the certificate as the one trusted.
if ! command -v mbsync >/dev/null; then
	skip "mbsync (isync) is not installed"
else
	LOCAL=$T_DIR/local
	mkdir -p "$LOCAL"
	cat > "$T_DIR/mbsyncrc" <<EOR
IMAPAccount loft
Host 127.0.0.1
Port $PORT
User phone
Pass $PW
SSLType STARTTLS
CertificateFile $CERT

IMAPStore loft
Account loft

MaildirStore local
Path $LOCAL/
Inbox $LOCAL/INBOX
SubFolders Verbatim

Channel both
Far :loft:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
EOR
	msync() { HOME=$T_DIR timeout 120 mbsync -q -c "$T_DIR/mbsyncrc" both 2>>"$T_DIR/mbsync.err"; }
	# Message-IDs and maildir flags of one side, sorted
	side() {
		local f id dir fl
		find "$1" \( -path '*/cur/*' -o -path '*/new/*' \) -type f | while read -r f; do
			id=$(grep -m1 -i '^Message-ID:' "$f" | tr -d '\r' | sed 's/.*<//; s/>.*//')
			dir=$(dirname "$(dirname "$f")"); dir=${dir#"$1"/}
			fl=${f##*:2,}; [ "$fl" = "$f" ] && fl=
			echo "$dir $id ${fl//[^DFRST]/}"
		done | sort
	}
	mkmsg lists1 | "${LOFT_RC[@]}" deliver -m Lists/foo
	msync; ok $? "mbsync over STARTTLS: first full sync" || diag "$(tail -5 "$T_DIR/mbsync.err")"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after the first sync"
	mkmsg loc1 > "$LOCAL/INBOX/new/1700000000.loc1.host:2,"
	f=$(grep -l 'first@' "$LOCAL"/INBOX/cur/* "$LOCAL"/INBOX/new/* 2>/dev/null | head -1)
	mv "$f" "${f%%:2,*}:2,F"
	mkmsg srv2 | "${LOFT_RC[@]}" deliver
	msync; ok $? "mbsync: second sync (a new message and a flag on each side)"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after it"
	grep -q 'loc1@' "$T_DIR"/Mail/INBOX/*/* 2>/dev/null
	ok $? "mbsync: the local message reached the store"
	# An expunge on each side: the phone expunges srv2 over IMAP, the
	# near side's mail reader removes loc1's file.
	python3 - "$PORT" phone "$PW" <<'EOP'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
typ, d = m.search(None, "HEADER", "Message-ID", "srv2@")
m.store(d[0].decode().replace(" ", ","), "+FLAGS", "(\\Deleted)")
m.expunge()
m.logout()
EOP
	rm -f "$(grep -l 'loc1@' "$LOCAL"/INBOX/cur/* "$LOCAL"/INBOX/new/* 2>/dev/null | head -1)"
	msync; ok $? "mbsync: third sync (an expunge on each side)" || diag "$(tail -5 "$T_DIR/mbsync.err")"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree after the expunges"
	[ -z "$(side "$LOCAL" | grep -E 'srv2@|loc1@')" ] && [ -z "$(side "$T_DIR/Mail" | grep -E 'srv2@|loc1@')" ]
	ok $? "mbsync: the expunged messages are gone from both sides"
	# A folder created on the server (by delivery) and one on the near
	# side (Create Both makes it on the server).
	mkmsg proj1 | "${LOFT_RC[@]}" deliver -m Projects/Alpha
	mkdir -p "$LOCAL/Local/Made/cur" "$LOCAL/Local/Made/new" "$LOCAL/Local/Made/tmp"
	mkmsg made1 > "$LOCAL/Local/Made/cur/1700000001.made1.host:2,S"
	msync; ok $? "mbsync: fourth sync (a new folder on each side)" || diag "$(tail -5 "$T_DIR/mbsync.err")"
	grep -q 'proj1@' "$LOCAL"/Projects/Alpha/*/* 2>/dev/null
	ok $? "mbsync: the folder made on the server is on the near side, with its message"
	grep -q 'made1@' "$T_DIR"/Mail/Local/Made/*/* 2>/dev/null
	ok $? "mbsync: the folder made on the near side is in the store, with its message"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: both sides agree message by message (Message-ID and flags)"
	msync; ok $? "mbsync: a fifth sync with nothing new"
	is "$(side "$T_DIR/Mail" | grep -v '^\.')" "$(side "$LOCAL")" "mbsync: and they still agree"
	[ -s "$T_DIR/mbsync.err" ] && diag "$(head -5 "$T_DIR/mbsync.err")"
fi

# SIGHUP with short timers: an IDLE lasts until imap_autologout, a client
# that never logs in is dropped after imap_login_timeout.
write_rc "set imap_autologout=3 imap_login_timeout=2"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'reloaded' "$LOG" && break; sleep 0.1; done
iprobe autologout "$PORT" phone "$PW" 3
out=$(timeout 20 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); t = time.monotonic(); d = b""
while True:
    b = s.recv(4096)
    if not b: break
    d += b
print("%.1f %s" % (time.monotonic() - t, b"BYE" in d))' "$PORT")
like "$out" '^[2-4]\.[0-9] True$' "a client that does not log in gets BYE after imap_login_timeout (${out% *} s)"

kill -TERM "$DPID"
wait "$DPID"
is "$?" 0 "the daemon exits 0 on SIGTERM"
! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"
ok $? "no sanitizer report from the daemon" || diag "$(grep -E 'Sanitizer|runtime error' "$LOG" | head -5)"
done_testing
