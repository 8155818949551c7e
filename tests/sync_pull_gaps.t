#!/bin/bash
# Pull mode's smaller cases, against a private Dovecot (imaplib checking
# the server, a logging proxy counting what loft asked it):
#  - pull_after = move:FOLDER with FOLDER missing upstream: created, then
#    the messages moved (before: every run failed on the MOVE);
#  - after a UIDVALIDITY change the messages already pulled are matched
#    on size and Message-ID from a header FETCH: only the new message's
#    body is fetched (before: every body again);
#  - the keywords of a pulled IMAP message become its notmuch tags;
#  - a message that Sieve redirects goes through loft's queue once, also
#    when loft sync is killed at each step of the pull and run again, and
#    a message with too many hops (a loop) is refused and left upstream;
#  - an account error (a refused login) shown by --status until the next
#    success;
#  - POP3 logs in with SASL PLAIN (AUTH) where the server offers it.
# Skipped without root, dovecot-imapd, dovecot-pop3d or socat
# (tests/sync_pull_setup.sh).
. "$TOP/tests/lib.sh"

. "$TOP/tests/sync_pull_setup.sh"
# Dovecot reads its passwd-file once a second at most: every user first.
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" pat patpass1
PPORT=$(free_port)
python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$PORT" "$T_DIR/proxy.log" > "$T_DIR/proxy.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && break; sleep 0.1; done
FPORT=$(free_port)
mkdir -p "$T_DIR/fake"
bg python3 "$TOP/tests/fake_smarthost.py" "$FPORT" "$T_DIR/fake" > "$T_DIR/fake.ready" 2> "$T_DIR/fake.log"
for _ in $(seq 50); do grep -q ready "$T_DIR/fake.ready" && break; sleep 0.1; done

cat > "$T_DIR/filter.sieve" <<'SIEVE'
if header :contains "Subject" "fwd" { redirect "friend@example.net"; }
SIEVE
account() {	# account PULL_AFTER
	make_mailrc "set sieve=$T_DIR/filter.sieve smarthost=smtp+insecure://127.0.0.1:$FPORT" \
		"set queue_interval=1h queue_retry_min=1" \
		"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PPORT/INBOX" \
		"set imap_password_command='echo annpass1'" "set sync=pull" "set pull_after=$1" "}"
}
sync_up() { run_loft sync up; }
# sent SUBJECT: how many copies the smarthost got, once the queue is empty.
sent() {
	timeout 60 "$LOFT" queue flush > "$T_DIR/flush.out" 2>&1 || diag "$(cat "$T_DIR/flush.out")"
	for _ in $(seq 100); do
		[ -z "$(ls "$M/.loft/queue"/*.env 2>/dev/null)" ] && break
		sleep 0.1
	done
	grep -lP -- "^Subject: \\Q$1\\E\r?$" "$T_DIR"/fake/* 2>/dev/null | wc -l
}

# ---- pull_after = move:Old/Done, the folder missing upstream ----
account move:Done
probe append INBOX mv1
sync_up
is "$RC" 0 "move: to a folder missing upstream: exit 0" || diag "$ERR"
like "$ERR" "Done: created upstream for pull_after" "the user is told it was created"
is "$(probe list Done | cut -d' ' -f1)" "mv1" "the message is in the new folder upstream"
is "$(probe list INBOX | grep -c '^mv1')" 0 "and gone from INBOX"
probe append INBOX mv2
sync_up
is "$RC" 0 "the next move into it: exit 0" || diag "$ERR"
[[ $ERR != *created* ]]; ok $? "not created again"
is "$(probe list Done | cut -d' ' -f1 | sort | tr '\n' ' ')" "mv1 mv2 " "both moved"

# ---- UIDVALIDITY change: bodies only of what is new ----
account keep
for s in uv1 uv2 uv3; do probe append INBOX $s; done
sync_up
like "$OUT" "^up: 1 folders, 3 down" "keep: three pulled"
kill "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$DV/mail/ann/dovecot-uidlist" "$DV/mail/ann"/dovecot.index*
dovecot_start
probe append INBOX uv4
: > "$T_DIR/proxy.log"
sync_up
is "$RC" 0 "after a UIDVALIDITY change: exit 0" || diag "$ERR"
like "$ERR" "UIDVALIDITY changed .*none delivered twice" "the user is told in one line"
like "$OUT" "^up: 1 folders, 1 down" "only the new message delivered"
n=0; for s in uv1 uv2 uv3 uv4; do [ "$(copies $s)" = 1 ] && n=$((n + 1)); done
is "$n" 4 "each stored once"
bodies=$(grep -c 'BODY.PEEK\[\]' "$T_DIR/proxy.log")
is "$bodies" 1 "one body FETCH, after a header FETCH" || diag "$(grep FETCH "$T_DIR/proxy.log")"
like "$(grep 'BODY.PEEK\[\]' "$T_DIR/proxy.log")" "UID FETCH [0-9]+ " "of one message, the new one"

# ---- keywords of a pulled message become notmuch tags ----
printf 'From: a@example.org\nSubject: kw-pull\nMessage-ID: <kw-pull@example.org>\n\nkeywords\n' \
	> "$T_DIR/kw.eml"
python3 "$TOP/tests/sync_observer.py" "$PORT" ann annpass1 append INBOX "$T_DIR/kw.eml" 'pullkw $Label2'
probe append INBOX kw-none
sync_up
is "$RC" 0 "a message with keywords upstream: exit 0" || diag "$ERR"
"$LOFT" search 'tag:pullkw' > "$T_DIR/search" 2>&1
like "$(cat "$T_DIR/search")" "kw-pull" "its keyword is a notmuch tag (before: none, pull mode had no tags)"
unlike "$(cat "$T_DIR/search")" "kw-none" "a message without it is not tagged"
"$LOFT" search 'tag:$Label2' > "$T_DIR/search" 2>&1
like "$(cat "$T_DIR/search")" "kw-pull" "every keyword (\$Label2 too)"

# ---- Sieve redirect: through the queue once ----
account delete
probe append INBOX fwd-plain
sync_up
is "$RC" 0 "a message Sieve redirects: exit 0" || diag "$ERR"
is "$(sent fwd-plain)" 1 "the redirect reached the smarthost once"
is "$(copies fwd-plain)" 0 "and is not stored here (redirect only)"
sync_up
is "$(sent fwd-plain)" 1 "a second pull sends nothing again"
# Every step a pull of such a message goes through (its crash points).
probe append INBOX fwd-trace
LOFT_CRASH_TRACE=$T_DIR/trace "$LOFT" sync up > /dev/null 2>&1
is "$(sent fwd-trace)" 1 "(the traced pull sent it once)"
# The queue's own points (queue.env.renamed, queue.added...) are the
# window between the redirect's fsync and its record in the pull state (a
# kill there sent it twice before); queue.env-unlinked is the queue
# runner's, a process of its own.
POINTS=$(awk '!seen[$0]++' "$T_DIR/trace" | grep -E '^(pull|batch|deliver|append):|^queue\.' |
	grep -vx 'queue.env-unlinked' | tr '\n' ' ')
diag "crash points of a pull with a redirect: $POINTS"
for p in $POINTS; do
	s=fwd-${p//:/-}
	probe append INBOX "$s"
	(LOFT_CRASH_AT=$p exec "$LOFT" sync up > /dev/null 2>&1)
	is "$?" 137 "killed at $p"
	if [ "$p" = queue.added ]; then
		run_loft queue list
		like "$OUT" "\(held\)" "killed at queue.added: loft queue list shows the redirect held"
		timeout 60 "$LOFT" queue flush > /dev/null 2>&1
		is "$(grep -lP -- "^Subject: \\Q$s\\E\r?$" "$T_DIR"/fake/* 2>/dev/null | wc -l)" 0 \
			"and a queue run leaves it alone until the pull records it"
	fi
	sync_up
	is "$RC" 0 "the pull after the kill at $p: exit 0" || diag "$ERR"
	is "$(sent "$s")" 1 "killed at $p: the redirect sent once"
	is "$(probe list INBOX | grep -c "^$s")" 0 "killed at $p: gone upstream"
done

# ---- a loop: too many hops ----
{ for i in $(seq 60); do echo "Received: from hop$i.example.org by hop$((i + 1)).example.org"; done
  printf 'From: a@example.org\nSubject: fwd-loop\nMessage-ID: <fwd-loop@example.org>\n\nround and round\n'
} > "$T_DIR/loop.eml"
python3 "$TOP/tests/sync_observer.py" "$PORT" ann annpass1 append INBOX "$T_DIR/loop.eml"
sync_up
is "$RC" 0 "a looping message: the pull exits 0" || diag "$ERR"
like "$ERR" "refused: .*hops" "it is refused as a loop"
is "$(sent fwd-loop)" 0 "and not redirected"
is "$(probe list INBOX | grep -c '^fwd-loop')" 1 "and left upstream"

# ---- an account error is cleared by the next success ----
make_mailrc "account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
	"set imap_password_command='echo wrong'" "set sync=pull" "}"
sync_up
is "$RC" 75 "a refused login: exit 75"
run_loft sync --status up
like "$OUT" "^  \(account\): last success never, .*last error .*" "--status shows the account error" ||
	diag "$OUT"
account keep
sync_up
is "$RC" 0 "the right password: exit 0" || diag "$ERR"
run_loft sync --status up
like "$OUT" "^  \(account\): last success [A-Z][a-z]{2}, [0-9].*, 0 waiting for pull_after upstream, 0 in flight\$" \
	"the next success clears it (before: the error stayed)" || diag "$OUT"
[[ $OUT != *"(account)"*"last error"* ]]; ok $? "no account error left"

# ---- POP3 login: SASL PLAIN where CAPA offers it ----
QPORT=$(free_port)
python3 "$TOP/tests/imap_logproxy.py" "$QPORT" "$POP3_PORT" "$T_DIR/pop3.log" > "$T_DIR/pop3proxy.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/pop3proxy.out" && break; sleep 0.1; done
pop_rc() {
	make_mailrc "account pop {" "set pop3_url=pop3+insecure://pat@127.0.0.1:$QPORT" \
		"set imap_password_command='echo $1'" "set sync=pull" "set pull_after=delete" "}"
}
python3 "$TOP/tests/sync_pull_probe.py" "$PORT" pat patpass1 append INBOX pop-sasl
pop_rc patpass1
run_loft sync pop
is "$RC" 0 "POP3 through the logging proxy: exit 0" || diag "$ERR"
is "$(copies pop-sasl)" 1 "the message is pulled"
grep -q '^AUTH PLAIN' "$T_DIR/pop3.log"; ok $? "the login is AUTH PLAIN (Dovecot's CAPA lists SASL PLAIN)" ||
	diag "$(cat "$T_DIR/pop3.log")"
! grep -q '^USER\|^PASS' "$T_DIR/pop3.log"; ok $? "no USER/PASS"
pop_rc wrong
run_loft sync pop
is "$RC" 75 "a wrong password: exit 75"
like "$ERR" "login refused" "the login is refused"

done_testing
