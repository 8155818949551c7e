#!/bin/bash
# loft daemon's verified-login cache (imap_auth_cache_ttl, daemon/auth_cache.h):
# a second login with the same name and password within the TTL skips the
# password hash, and nothing else does: a wrong password right after a good
# login is refused; a failed login forgets the entry; a password changed
# with `loft passwd` is refused at once (and any change to the password file
# forgets every entry); a hit never stretches the TTL, which counts from
# the full check; imap_auth_cache_ttl=0 (after a SIGHUP) checks every login.
# Which path a login took is read from the daemon's log ("logged in as
# NAME" or "... (verified lately: imap_auth_cache_ttl)").  Python's imaplib
# on 127.0.0.1; the daemon stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
TTL=3
write_rc() {
	make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= log_level=info queue_interval=1h" \
		"set imap_auth_failure_delay=0 imap_max_auth_failures=5 imap_auth_cache_ttl=$1"
}
write_rc "$TTL"
LOG=$T_DIR/daemon.log
PW=phone-password-1
echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null &&
	echo tablet-password-1 | "$LOFT" passwd --stdin tablet >/dev/null
ok $? "loft passwd --stdin: logins phone and tablet"
start_daemon "$LOG"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }

# login USER PASS: prints OK or NO (the login's answer).
login() {
	python3 - "$PORT" "$1" "$2" <<'PY'
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    M.login(sys.argv[2], sys.argv[3])
    print("OK")
    M.logout()
except imaplib.IMAP4.error:
    print("NO")
PY
}
full() { grep -c "logged in as $1\$" "$LOG"; }
cached() { grep -c "logged in as $1 (verified lately: imap_auth_cache_ttl)\$" "$LOG"; }
now() { date +%s.%N; }
# expect USER PASS ANSWER PATH NAME: logs in and checks the answer and,
# for OK, which path the log says it took (full or cached).
expect() {
	local f0 c0 got
	f0=$(full "$1") c0=$(cached "$1")
	got=$(login "$1" "$2")
	is "$got" "$3" "$5: $3" || return 1
	[ "$3" = OK ] || return 0
	if [ "$4" = full ]; then
		is "$(full "$1")/$(cached "$1")" "$((f0 + 1))/$c0" "$5: checked in full"
	else
		is "$(full "$1")/$(cached "$1")" "$f0/$((c0 + 1))" "$5: verified lately, no hash"
	fi
}

T0=$(now)
expect phone "$PW" OK full "a first login"
expect phone "$PW" OK cached "the same login again"
expect phone wrong-password NO - "a wrong password right after a good login"
expect phone "$PW" OK full "after a failed login the entry is gone"
T0=$(now)
expect phone "$PW" OK cached "and back in the cache after that check"

echo new-phone-password | "$LOFT" passwd --stdin phone >/dev/null
expect phone "$PW" NO - "the old password right after loft passwd changed it"
T0=$(now)
expect phone new-phone-password OK full "the new password"
expect phone new-phone-password OK cached "the new password again"
echo tablet-password-2 | "$LOFT" passwd --stdin tablet >/dev/null
T0=$(now)
expect phone new-phone-password OK full "another device's new password: the file changed, every entry goes"

# The TTL counts from that full check: hits inside it do not stretch it.
sleep_until() { python3 -c "import time,sys; d=float(sys.argv[1])-time.time(); time.sleep(max(d,0))" "$1"; }
sleep_until "$(awk -v t="$T0" -v d="$TTL" 'BEGIN { printf "%.3f", t + d / 2 }')"
expect phone new-phone-password OK cached "half the TTL later"
sleep_until "$(awk -v t="$T0" -v d="$TTL" 'BEGIN { printf "%.3f", t + d + 0.3 }')"
expect phone new-phone-password OK full "just past the TTL of the full check"
expect phone new-phone-password OK cached "then cached again"

# imap_auth_cache_ttl=0 after a reload: every login in full.
write_rc 0
n=$(grep -c '^loft: reloaded' "$LOG")
kill -HUP "$DPID"
reloaded() { [ "$(grep -c '^loft: reloaded' "$LOG")" -gt "$n" ]; }
for _ in $(seq 100); do reloaded && break; sleep 0.1; done
reloaded
ok $? "the daemon reloads with imap_auth_cache_ttl=0"
expect phone new-phone-password OK full "with the cache off"
expect phone new-phone-password OK full "with the cache off, again"
[[ $(cat "$LOG") != *new-phone-password* && $(cat "$LOG") != *"$PW"* ]]
ok $? "no password in the log"

kill "$DPID"; wait "$DPID" 2>/dev/null
done_testing
