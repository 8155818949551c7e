#!/bin/bash
# Kill -9 at every step of the queue runner delivering locally (runner
# bookkeeping, Sieve delivery, store append): afterwards the message is in
# INBOX exactly once and the queue is empty.  The steps are learnt from a
# traced run (LOFT_CRASH_TRACE), then each is killed in turn (LOFT_CRASH_AT).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

make_mailrc "set from=me@example.org domain=example.org"
M=$T_DIR/Mail
SIEVE=$T_DIR/filter.sieve
echo "set sieve=$SIEVE" >> "$MAILRC_FILE"
# Two copies: a plain keep, and a fileinto with flags, so both paths count.
cat > "$SIEVE" <<'S'
require ["fileinto", "imap4flags", "mailbox", "copy"];
fileinto :create :copy :flags "\\Flagged" "Copies";
S

printf 'To: me\nSubject: crash test\nMessage-ID: <crash@example.org>\n\nbody\n' |
	"$LOFT" sendmail -odq me
ok $? "a message is queued (not yet delivered: -odq)"
cp -a "$M" "$T_DIR/initial"

count_in() { grep -rl 'Message-ID: <crash@example.org>' "$M/$1/new" "$M/$1/cur" 2>/dev/null | wc -l; }

# 1. Learn the steps.
LOFT_CRASH_TRACE=$T_DIR/trace "$LOFT" queue run
is "$(count_in INBOX):$(count_in Copies)" "1:1" "an uninterrupted run delivers one copy to each folder"
mapfile -t steps < <(awk '{ n[$0]++; print $0 "#" n[$0] }' "$T_DIR/trace")
diag "crash points on the delivery path: ${#steps[@]}"
[ "${#steps[@]}" -ge 8 ]; ok $? "the run passes through at least 8 crash points"

# 2. Kill at each, then let a normal run finish the job.
for step in "${steps[@]}"; do
	rm -rf "${M:?}"; cp -a "$T_DIR/initial" "$M"
	LOFT_CRASH_AT=$step "$LOFT" queue run 2>/dev/null
	status=$?
	"$LOFT" queue flush 2>/dev/null
	"$LOFT" queue flush 2>/dev/null
	got="$(count_in INBOX):$(count_in Copies):$("$LOFT" queue list)"
	if [ "$got" = "1:1:Mail queue is empty" ] && [ "$status" -eq 137 ]; then
		ok 0 "killed at $step: delivered exactly once to each folder, queue empty"
	else
		ok 1 "killed at $step: delivered exactly once to each folder, queue empty"
		diag "exit $status; INBOX:Copies:queue = $got"
	fi
done

done_testing
