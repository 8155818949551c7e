#!/bin/bash
# OAuth 2 for real: a private Dovecot whose oauth2 passdb checks each token
# by introspection (RFC 7662) at tests/oauth_server.py on 127.0.0.1, which
# issues tokens that expire after $LIFE seconds, as Google's or
# Microsoft's do after an hour.  imap_oauth_token_command fetches a new
# one.  OAUTHBEARER, then XOAUTH2 (Dovecot restarted offering only it),
# each for `loft sync` and for the client (`loft -f imaps://...` in tmux);
# a refused token is a clear error; no token reaches a log or the screen.
# The daemon's sync task with imap_oauth_renew shorter than a token's life
# logs in again on its IDLE connection before the token expires and keeps
# pushing across several lifetimes; stopped (SIGSTOP) until its token has
# expired while Dovecot drops its connection (doveadm kick: what a
# provider does during a laptop's suspend), then SIGCONT: it notices at
# once and logs in with a new token (no login begun after SIGCONT carries
# an expired one).  A token that has expired already when the command
# hands it out (a stale cache; or the process stopped between the command
# and the login) is refused once and a new one logs in at once: loft sync,
# the client, and the daemon's task with no backoff.  Skipped without root,
# dovecot-imapd, socat, tmux or python3.
. "$TOP/tests/lib.sh"
. "$TOP/tests/tmux.sh"
. "$TOP/tests/sync_daemon_setup.sh"

TLSPORT=$(free_port) OPORT=$(free_port)
LIFE=4
OLOG=$DV/oauth.log
python3 "$TOP/tests/oauth_server.py" serve "$OPORT" "$DV" "$LIFE" ann > "$T_DIR/oauth.out" 2>&1 &
T_PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$T_DIR/oauth.out" && break; sleep 0.1; done
grep -q ready "$T_DIR/oauth.out"
ok $? "the token server listens on 127.0.0.1:$OPORT" || { done_testing; exit; }
export OAUTH2_URL="http://127.0.0.1:$OPORT/introspect"
# No auth penalty: after a refused login Dovecot holds the next ones from
# the address 2 s, doubling up to 15 s, before it checks their token --
# nothing to an hour's token, but past the life of these, so each login
# after a refusal would be refused in turn.
start_dovecot() {	# start_dovecot MECHS
	OAUTH2_MECHS=$1 NO_AUTH_PENALTY=1 dovecot_start "$TLSPORT" "an oauth2 passdb for $1"
}
start_dovecot "oauthbearer xoauth2"

TOKCMD="python3 $TOP/tests/oauth_server.py token $OPORT"
rc_file() {	# rc_file TOKEN-COMMAND [LINE...]
	local cmd=$1; shift
	make_mailrc "set imap_listen=127.0.0.1:$LPORT smtp_listen= log_level=info" \
		"set queue_interval=1h shutdown_timeout=5" \
		"set imap_ca=$DV/cert.pem imap_oauth_token_command='$cmd'" \
		"account up {" "set imap_url=imaps://ann@localhost:$TLSPORT/INBOX" \
		"set sync=mirror sync_interval=1h imap_timeout=5 imap_oauth_renew=2s" "$@" "}"
}
local_count() { ls "$T_DIR/Mail/INBOX/cur" "$T_DIR/Mail/INBOX/new" 2>/dev/null | grep -vc '^$\|:$'; }
count() { grep -c "^$1 " "$OLOG"; }
# no_token_in FILE...: no token the server issued appears in them.
no_token_in() {
	local t
	for t in $(awk '$1 == "issued" { print $2 }' "$OLOG"); do
		grep -qF -- "$t" "$@" && { diag "token $t found in $*"; return 1; }
	done
	return 0
}
logins() { grep -c "Login: user=<ann>, method=$1" "$DV/dovecot.log"; }
obs seed INBOX 2 old >/dev/null

# client MECH: the client on the provider's INBOX over TLS shows its mail.
client() {
	local before
	before=$(logins "$1")
	tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
		"$LOFT" -f "imaps://ann@localhost:$TLSPORT/INBOX"
	tmux_wait 'old 2' 15
	ok $? "$1: loft -f imaps://... logs in with the token command and lists INBOX"
	no_token_in <(tmux_screen)
	ok $? "$1: no token on the client's screen"
	tmux_keys q q
	tmux_exited 10
	ok $? "$1: the client quits"
	tmux_stop
	[ "$(logins "$1")" -gt "$before" ]
	ok $? "$1: Dovecot logged the client in with $1"
}

# ---- a token that has expired already: the command again, at once ----
stale() {	# stale MECH: the token command's first token has expired
	local e0 o0
	e0=$(count expired) o0=$(count ok)
	rc_file "$TOKCMD expired-once $T_DIR/stale-$1"
	run_loft sync up
	is "$RC" 0 "$1: an expired token from the command: loft sync runs it again and logs in" ||
		diag "$ERR"
	[ "$(count expired)" = $((e0 + 1)) ] && [ "$(count ok)" = $((o0 + 1)) ]
	ok $? "$1: the server refused the expired token once and took the next one"
	rc_file "$TOKCMD expired-once $T_DIR/stale-client-$1"
	e0=$(count expired)
	client "$1"
	is "$(count expired)" $((e0 + 1)) "$1: the client's first token was the expired one (logged in above)"
}

# ---- OAUTHBEARER: loft sync, the client, a refused token ----
rc_file "$TOKCMD"
run_loft sync up
is "$RC" 0 "OAUTHBEARER: loft sync logs in with a token from the command" || diag "$ERR"
is "$(local_count)" 2 "and copies INBOX"
[ "$(logins OAUTHBEARER)" -ge 1 ]
ok $? "Dovecot logged the login with OAUTHBEARER (preferred when both are offered)"
[ "$(count ok)" -ge 1 ] && [ "$(count expired)" = 0 ]
ok $? "the introspection server saw a valid token and no expired one"
# A Gmail-style account in pull mode: the same token command, another
# folder, filed by Sieve out of the mirrored INBOX.
obs seed Pulled 1 oapull >/dev/null
printf 'require ["fileinto", "mailbox"];\nfileinto :create "PulledHere";\n' > "$T_DIR/pull.sieve"
make_mailrc "set imap_ca=$DV/cert.pem imap_oauth_token_command='$TOKCMD' sieve=$T_DIR/pull.sieve" \
	"account pl {" "set imap_url=imaps://ann@localhost:$TLSPORT/INBOX" \
	"set sync=pull sync_folders=Pulled pull_after=seen imap_timeout=5" "}"
run_loft sync pl
is "$RC" 0 "OAUTHBEARER: loft sync of a pull account logs in with a token from the command" ||
	diag "$ERR"
is "$(grep -l '^Message-ID: <oapull.1@' "$T_DIR/Mail/PulledHere"/new/* "$T_DIR/Mail/PulledHere"/cur/* 2>/dev/null | wc -l)" 1 \
	"and delivers the folder's message"
like "$(obs dump Pulled)" 'oapull.1@example.org> \\Seen' "then marks it \\Seen upstream (pull_after=seen)"
rc_file "$TOKCMD"
client OAUTHBEARER
stale OAUTHBEARER

rc_file "echo tok-not-issued-42"
run_loft sync up
[ "$RC" != 0 ]
ok $? "a token the server did not issue: loft sync fails"
like "$ERR" "login refused by localhost \\(AUTHENTICATE OAUTHBEARER\\): NO \\[AUTHENTICATIONFAILED\\]" \
	"with a clear error naming the server and the mechanism"
[[ $ERR$OUT != *tok-not-issued-42* ]]
ok $? "the refused token is not in the error"

# ---- XOAUTH2 ----
dovecot_stop
start_dovecot xoauth2
rc_file "$TOKCMD"
obs seed INBOX 1 x2 >/dev/null
run_loft sync up
is "$RC" 0 "XOAUTH2: loft sync logs in with a token from the command" || diag "$ERR"
is "$(local_count)" 3 "and copies the new message"
[ "$(logins XOAUTH2)" -ge 1 ]
ok $? "Dovecot logged the login with XOAUTH2"
client XOAUTH2
stale XOAUTH2
rc_file "echo tok-not-issued-43"
run_loft sync up
like "$ERR" "login refused by localhost \\(AUTHENTICATE XOAUTH2\\): NO" "XOAUTH2: a refused token is a clear error"

# ---- the daemon: renewal on the IDLE connection across lifetimes ----
dovecot_stop
start_dovecot "oauthbearer xoauth2"
# The task's first login gets an expired token from the command.
rc_file "$TOKCMD expired-once $T_DIR/stale-daemon"
phone_login
exp0=$(count expired)
start_daemon "$LOG" -F "$MAILRC_FILE"
ok $? "loft daemon starts with an OAuth account" || { diag "$(cat "$LOG")"; done_testing; exit; }
renewals() { grep -c "INBOX: logging in again with a new OAuth token" "$LOG"; }
wait_for 15 logged "all folders: "
is "$(local_count)" 3 "the first full sync ran"
is "$(count expired)" $((exp0 + 1)) "its first login came with the expired token"
! grep -qE "login refused|trying again" "$LOG"
ok $? "and the next token logged in at once: no error, no backoff" ||
	diag "$(grep -m3 -E 'login refused|trying again' "$LOG")"
exp0=$(count expired)
start=$(date +%s.%N) bad=0 rounds=0
# A push after each renewal, for 3 token lifetimes and 3 renewals at least
# (a loaded machine may need longer for 3).
while [ "$rounds" -lt 3 ] || awk "BEGIN { exit !($(date +%s.%N) - $start < 3 * $LIFE) }"; do
	r0=$(renewals)
	wait_for 10 eval '[ "$(renewals)" -gt "$r0" ]' || { bad=1; diag "no renewal"; break; }
	rounds=$((rounds + 1))
	out=$(sdp push "$LPORT" phone "$DPW" "$PORT" ann annpass1 1 "renew$rounds" 2>&1) ||
		{ bad=1; diag "$out"; }
done
secs=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
is "$bad" 0 "$rounds pushes over $secs s, each after a renewal, all reach loft's IDLE"
[ "$rounds" -ge 3 ]
ok $? "imap_oauth_renew=2s: at least 3 renewals, over 3 lifetimes of ${LIFE} s or more ($rounds)"
is "$(count expired)" "$exp0" "no login came with an expired token"
[ "$(count ok)" -ge "$rounds" ]
ok $? "each login came with a token the server had issued ($(count ok) logins)"

# ---- stopped past its token's life, its connection dropped meanwhile ----
task=$(sed -n 's/.*account up: sync task started, pid \([0-9]*\).*/\1/p' "$LOG" | tail -1)
ok_before=$(count ok)
kill -STOP "$task"
issued=$(count issued)
sleep $((LIFE + 1))	# the token the task holds expires (the time is what is tested)
doveadm -c "$DV/dovecot.conf" kick ann >/dev/null 2>&1
wait_for 10 eval '! doveadm -c "$DV/dovecot.conf" who 2>/dev/null | grep -q ann'
ok $? "doveadm kick: Dovecot dropped the stopped task's IDLE connection"
obs seed INBOX 1 whilestopped >/dev/null
cont=$(date +%s.%N)
kill -CONT "$task"
want=$((3 + rounds + 1))
wait_for 15 eval '[ "$(local_count)" -ge "$want" ]'
ms=$(awk "BEGIN { printf \"%d\", ($(date +%s.%N) - $cont) * 1000 }")
is "$(local_count)" "$want" "SIGCONT: the task notices the dropped connection and syncs what came meanwhile"
# A login under way at SIGSTOP may carry a token that expired meanwhile:
# it is refused and the next token logs in at once (2 s of Dovecot's
# auth_failure_delay), no backoff.
[ "$ms" -lt 10000 ]
ok $? "within 10 s ($ms ms)"
[ "$(count issued)" -gt "$issued" ] && [ "$(count ok)" -gt "$ok_before" ]
ok $? "with a new token"
# expired_after TIME: tokens refused as expired that were issued after TIME.
expired_after() {
	awk -v t="$1" '$1 == "issued" { at[$2] = $3 } $1 == "expired" && at[$2] > t' "$OLOG" | grep -c .
}
is "$(expired_after "$cont")" 0 "no login begun after SIGCONT came with an expired token"
diag "logins begun before SIGSTOP refused as expired: $(( $(count expired) - exp0 ))"
out=$(sdp push "$LPORT" phone "$DPW" "$PORT" ann annpass1 1 afterstop 2>&1)
ok $? "IDLE push works again ($(tail -1 <<<"$out"))" || diag "$out" "$(tail -20 "$LOG")"

kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "SIGTERM: the daemon ends"
no_token_in "$LOG" "$T_DIR/stderr"
ok $? "no token in the daemon's log or loft's errors"
! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG" "$T_DIR"/asan* 2>/dev/null
ok $? "no sanitizer report" || diag "$(cat "$T_DIR"/asan* 2>/dev/null | head -20)"

done_testing
