#!/bin/bash
# Keywords in FLAGS and PERMANENTFLAGS over a real `loft daemon`
# (tests/imap_keywords_probe.py): SELECT lists the keywords in use; a new
# one from STORE, APPEND, COPY, `notmuch tag` + `loft index`, `loft tag`
# or `loft deliver` with Sieve addflag is announced by a new FLAGS before
# the first FETCH naming it, in the session that made it and in one
# idling; keywords compare without case; invalid ones are BAD; no FETCH
# in any session names a keyword its FLAGS did not list (imaptest's
# "Keyword used without being in FLAGS").  Then imaptest itself for a
# short while when it is installed.
. "$TOP/tests/lib.sh"
command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"
PORT=$(free_port)
PW=phone-password-1
SIEVE=$T_DIR/filter.sieve
printf 'require "imap4flags";\nif header :contains "subject" "by sieve" { addflag "SieveKw"; }\n' > "$SIEVE"
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= log_level=info" \
	"set queue_interval=1h shutdown_timeout=5 sieve=$SIEVE"
echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
ok $? "loft passwd: a login"
for i in 1 2 3; do
	printf 'From: x@example.org\nSubject: m%s\nMessage-ID: <m%s@example.org>\n\nbody\n' "$i" "$i" |
		"$LOFT" deliver
done
ok $? "three messages delivered"
export NOTMUCH_CONFIG=$T_DIR/notmuch-config
printf '[database]\npath=%s\n' "$T_DIR/Mail" > "$NOTMUCH_CONFIG"
"$LOFT" index >/dev/null 2>&1
LOG=$T_DIR/daemon.log
start_daemon "$LOG"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }

probe_py "$TOP/tests/imap_keywords_probe.py" "$PORT" phone "$PW" "$LOFT" "$MAILRC_FILE" "$NOTMUCH_CONFIG"

# imaptest (Dovecot's compliance tester) is not packaged in Debian 12.
if command -v imaptest >/dev/null; then
	timeout 60 imaptest host=127.0.0.1 port="$PORT" user=phone pass="$PW" mbox="$T_DIR/imaptest.mbox" \
		secs=20 clients=2 > "$T_DIR/imaptest.out" 2>&1
	grep -q 'Keyword used without being in FLAGS' "$T_DIR/imaptest.out"
	ok $((! $?)) "imaptest: no 'Keyword used without being in FLAGS'" ||
		diag "$(grep -m5 'Keyword used' "$T_DIR/imaptest.out")"
else
	skip "imaptest is not installed (not packaged in Debian 12: dovecot-imaptest has no candidate)"
fi
done_testing
