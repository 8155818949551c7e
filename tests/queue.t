#!/bin/bash
# The queue with the test clock (LOFT_TEST_NOW): backoff, expiry and the
# RFC 3464 bounce; then kill -9 at every crash point of sendmail and of the
# runner: nothing accepted is lost, nothing half-written is visible.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

make_mailrc "set from=me@example.org domain=example.org" \
	"set queue_retry_min=5m queue_retry_max=20m queue_lifetime=1d"
Q=$T_DIR/Mail/.loft/queue
T=1700000000

submit() {	# submit [sendmail args...]: one message, queued only
	printf 'Subject: queued\n\nbody\n' | LOFT_TEST_NOW=$T "$LOFT" sendmail -odq "$@"
}
run_at() { LOFT_TEST_NOW=$1 "$LOFT" queue run >/dev/null; }
rcpt_line() { grep '^rcpt' "$Q/$1.env"; }
entries() { ls "$Q" | sed -n 's/\.env$//p'; }

# 1. Backoff: 5m, 10m, 20m, then 20m (the maximum), and nothing in between.
submit -f someone@remote.example friend@example.net
is "$?" 0 "queued at T"
id=$(entries)
run_at $T
like "$(rcpt_line "$id")" "^rcpt pending 1 $((T + 300)) - friend@example.net no%20relay%20configured" \
	"first attempt at T fails temporarily (no relay); next at T+5m"
run_at $((T + 299))
like "$(rcpt_line "$id")" "^rcpt pending 1 $((T + 300)) " "nothing is tried before then"
now=$((T + 300)); attempt=1
for delay in 600 1200 1200 1200; do
	run_at $now; attempt=$((attempt + 1))
	like "$(rcpt_line "$id")" "^rcpt pending $attempt $((now + delay)) " "attempt $attempt; next after ${delay}s"
	now=$((now + delay))
done
OUT=$(LOFT_TEST_NOW=$((now - 1200)) "$LOFT" queue list)
like "$OUT" "<friend@example.net> pending, 5 attempts, next in +20m" "queue list shows attempts and the next try"
like "$OUT" "\(no relay configured \(smarthost unset\)\)" "  ...and the last answer"

# 2. Expiry: after queue_lifetime the recipient fails with 4.4.7 and the
# remote sender gets a bounce, queued with the null sender.
run_at $((T + 86400))
is "$(ls "$Q" | grep -c "^$id")" 0 "the expired entry is gone"
bid=$(entries)
like "$(head -2 "$Q/$bid.env" | tail -1)" "^sender -$" "the bounce has the null sender"
like "$(rcpt_line "$bid")" " someone@remote.example " "  ...and goes to the original sender"
OUT=$("$LOFT" show --format=json "$Q/$bid.msg"); RC=$?
is "$RC" 0 "loft show parses the bounce"
like "$OUT" '"multipart/report"' "  ...a multipart/report"
like "$(cat "$Q/$bid.msg")" $'report-type=delivery-status' "  ...of report-type delivery-status"
like "$(cat "$Q/$bid.msg")" $'\nFinal-Recipient: rfc822; friend@example.net\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: X-Loft; no relay configured' \
	"  ...with the recipient, action, status 4.4.7 and last answer"
like "$(sed -n '/^Content-Type: text\/rfc822-headers/,$p' "$Q/$bid.msg")" '^Subject: queued$' \
	"  ...and the original headers"
# A bounce that cannot be delivered is never bounced: dropped at expiry.
run_at $((T + 3 * 86400)) 2>/dev/null
is "$(entries)" "" "an expired bounce (null sender) is dropped, not bounced"

# 3. Crash points of sendmail: kill -9 at each, then look.
rm -f "$T_DIR/trace"
LOFT_CRASH_TRACE=$T_DIR/trace submit user
points=$(sort -u "$T_DIR/trace")
for id in $(entries); do "$LOFT" queue rm "$id"; done
n=$(wc -w <<<"$points")
[ "$n" -ge 5 ]; ok $? "sendmail passes $n crash points: $(echo $points)"
for p in $points; do
	{ LOFT_CRASH_AT=$p submit user; } 2>/dev/null; RC=$?
	bad=
	for e in "$Q"/*.env; do
		[ -e "$e" ] || continue
		[ -e "${e%.env}.msg" ] || bad="env without msg"
		"$LOFT" queue show "$(basename "${e%.env}")" >/dev/null || bad="unreadable entry"
	done
	listed=$(entries | wc -l)
	if [ "$RC" = 0 ]; then
		[ -z "$bad" ] && [ "$listed" = 1 ]
		ok $? "crash at $p: exit 0 and one complete entry ($bad)"
	else
		# Killed after the envelope's rename the entry is complete (the
		# caller saw no exit 0 and will retry: a duplicate, never a loss).
		[ -z "$bad" ] && [ "$listed" -le 1 ]
		ok $? "crash at $p: killed ($RC), nothing partial visible ($listed complete) $bad"
	fi
	# Orphans go at the next run once old enough (by the file times: so
	# the test clock is set two hours after the real one).
	run_at $(($(date +%s) + 7200)) 2>/dev/null
	left=$(ls "$Q" | grep -v '\.env$' | grep -v -F -f <(entries | sed 's/$/.msg/') | wc -l)
	is "$left" 0 "  ...and no orphan file survives the next run"
	for id in $(entries); do "$LOFT" queue rm "$id"; done
done

# 4. Crash points of the runner: the entry survives each, readable, with
# its recipient still to deliver.
submit -f someone@remote.example friend@example.net user
rm -f "$T_DIR/trace"
LOFT_TEST_NOW=$T LOFT_CRASH_TRACE=$T_DIR/trace "$LOFT" queue flush >/dev/null
points=$(grep -v '^queue\.\(msg\|env\|added\)' "$T_DIR/trace" | sort -u)
[ "$(wc -w <<<"$points")" -ge 4 ]; ok $? "the runner passes crash points: $(echo $points)"
for p in $points; do
	{ LOFT_TEST_NOW=$T LOFT_CRASH_AT=$p "$LOFT" queue flush >/dev/null; } 2>/dev/null
	id=$(entries)
	OUT=$("$LOFT" queue show "$id" 2>&1)
	like "$OUT" "rcpt (pending|delivering) [0-9]+ [0-9]+ - friend@example.net " \
		"crash at $p: the entry is intact, friend@ still queued"
	LOFT_TEST_NOW=$T "$LOFT" queue flush >/dev/null
	like "$(rcpt_line "$id")" "^rcpt pending [0-9]+ [0-9]+ - friend@example.net " "  ...and the next run goes on"
done

# A state directory that cannot be made: a clear error and exit 75, not a
# free of an unset pointer (transport_queue_open left it unset on this path).
cp "$LOFTRC" "$T_DIR/badstate.rc"
echo "set state_dir=/dev/null/x" >> "$T_DIR/badstate.rc"
OUT=$(LOFTRC=$T_DIR/badstate.rc "$LOFT" queue list 2>&1); rc=$?
is "$rc" 75 "queue list with an unusable state_dir exits 75"
like "$OUT" "^loft queue: /dev/null/x: Not a directory" "  ...and says why"

done_testing
