#!/bin/bash
# An imaptest-style compliance and stress check of `loft daemon`'s IMAP
# server (tests/imap_stress.py): INBOX seeded with 200 messages, six
# sessions (plain, CONDSTORE, QRESYNC) doing random SELECT, FETCH, STORE,
# SEARCH, EXPUNGE, APPEND, COPY, MOVE, IDLE, NOOP and STATUS by sequence
# number and by UID, every untagged response checked against each
# session's model (RFC 3501, 9051, 7162, 4315, 6851, 2177 rules), while
# a seventh sends malformed input.  One TAP line per rule; the seed is
# printed first, and IMAP_STRESS_SEED=N replays its commands.
#
#   IMAP_STRESS_SECONDS  how long the sessions run (15; longer runs: 300)
#   IMAP_STRESS_CLIENTS  how many (6)
#   IMAP_STRESS_SERVER   loft (default) or dovecot: the same check against
#                        a private Dovecot, to check the checker
#   IMAP_STRESS_TRACE    a directory: each session's transcript there
#
# Then bench/imap_stress.py's three owners-of-disjoint-UIDs sessions for a
# few seconds against the same server (no reply may disagree with its
# model, no UID from nowhere).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/imap_server.sh"

imap_server_start "${IMAP_STRESS_SERVER:-loft}" || { echo "Bail out! the server did not start"; exit 1; }
seed=()
[ -n "${IMAP_STRESS_SEED:-}" ] && seed=(--seed "$IMAP_STRESS_SEED")
[ -n "${IMAP_STRESS_TRACE:-}" ] && seed+=(--trace "$IMAP_STRESS_TRACE")
probe_py "$TOP/tests/imap_stress.py" -n "${IMAP_STRESS_CLIENTS:-6}" -s "${IMAP_STRESS_SECONDS:-15}" \
	"${seed[@]}" 127.0.0.1 "$IMAP_PORT" "$IMAP_USER" "$IMAP_PW"

out=$(timeout 120 python3 "$TOP/bench/imap_stress.py" -n 3 -s "${STRESS_SECONDS:-3}" \
	tcp 127.0.0.1 "$IMAP_PORT" "$IMAP_USER" "$IMAP_PW" 2> "$T_DIR/stress.err")
ok $? "bench/imap_stress.py ran to the end" || diag "$(cat "$T_DIR/stress.err")"
while IFS= read -r l; do diag "$l"; done <<<"$out"
sum=$(grep '^cmds ' <<<"$out")
errors=$(awk '{print $8 - $12}' <<<"$sum")
is "${errors:-none}" 0 "bench/imap_stress.py: no reply disagreed with its model" ||
	diag "$(head -20 "$T_DIR/stress.err")"
# No UID that was neither there at the start nor returned by APPEND: a
# reconcile racing an expunge once re-added the expunged message under a
# second, short-lived UID (tests/store_phantom.t has the race alone).
phantoms=$(awk '{print $12}' <<<"$sum")
is "${phantoms:-none}" 0 "bench/imap_stress.py: no UID from nowhere (phantoms)" ||
	diag "$(grep -i 'APPENDUID\|never expunged' "$T_DIR/stress.err" | head -10)"
done_testing
