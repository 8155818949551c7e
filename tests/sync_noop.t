#!/bin/bash
# What a no-op `loft sync` costs (issue 13: under 0.2 s on 100,000
# messages), against a private Dovecot through a logging proxy: after the
# login only ENABLE, one SELECT (QRESYNC) per folder synced before, then a
# LIST without STATUS (on Dovecot a SELECT after a LIST, and a STATUS,
# read a big folder afresh), and LOGOUT -- no CAPABILITY (the login's OK
# carries the list), no FETCH -- and one
# commit of the sync state for the whole run (the times of success), where
# each unchanged folder and the account made one of their own (an fsync
# and a synchronous write each); the LOGOUT's answer is not awaited.  A server whose login answer lists no
# capabilities is still asked for them (tests/remote_fake_imap.py).
# Skipped without root, dovecot-imapd or python3 (tests/sync_lib.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"
command -v mdb_stat >/dev/null || skip_all "mdb_stat (lmdb-utils) is not installed"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
obs seed INBOX 3 in
obs seed Sent 2 sent
obs seed Old 1 old
PPORT=$(free_port)
python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$DPORT" "$T_DIR/proxy.log" > "$T_DIR/proxy.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && break; sleep 0.1; done
SYNC_FOLDERS="'INBOX Sent Old Lists/*'" store_rc a "$PPORT"
# The last transaction id of the account's sync state: one more per commit.
txn() { mdb_stat -e "$T_DIR/a/Mail/.loft/sync/dv" | sed -n 's/^ *Last transaction ID: //p'; }
# The last success --status shows for NAME, in seconds since the epoch.
success() {
	run_loft -F "$T_DIR/a/mailrc" sync --status
	date -d "$(sed -n "s/^  $1: last success \([-0-9]* [0-9:]*\).*/\1/p" <<<"$OUT")" +%s
}

lsync a
is "$RC" 0 "a first sync of three folders exits 0" || diag "$ERR"
lsync a
is "$RC" 0 "and the next (it records the store's own changes)" || diag "$ERR"

: > "$T_DIR/proxy.log"
before=$(txn)
since=$(date +%s)
lsync a
is "$RC" 0 "a no-op sync exits 0" || diag "$ERR"
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "and does nothing" || diag "$OUT"
cmds=$(sed -E 's/^[^ ]+ ([A-Za-z]+).*/\1/' "$T_DIR/proxy.log" | tr '\n' ' ')
is "$cmds" "AUTHENTICATE ENABLE SELECT SELECT SELECT LIST LOGOUT " \
	"its commands: AUTHENTICATE, ENABLE, one SELECT per folder, LIST, LOGOUT" || diag "$(cat "$T_DIR/proxy.log")"
grep -x '[^ ]* LIST "" "\*"' "$T_DIR/proxy.log" >/dev/null
ok $? "the LIST asks for no STATUS (a count opens every folder on the server)"
! grep -qi 'CAPABILITY' "$T_DIR/proxy.log"
ok $? "no CAPABILITY: the list in the login's OK is taken"
is "$(grep -c ' SELECT .*(QRESYNC' "$T_DIR/proxy.log")" 3 \
	"every SELECT with QRESYNC (listed only after Dovecot's login, ENABLEd from that list)"
is "$(($(txn) - before))" 1 "one commit of the sync state for the whole run"
for f in '(account)' INBOX Sent Old; do
	t=$(success "$f")
	[ -n "$t" ] && [ "$t" -ge "$since" ]
	ok $? "--status: the no-op's time is $f's last success" || diag "$OUT"
done

# The LIST after the folders synced before still finds a new folder, and
# one deleted on the server is reported as before, not synced.
obs seed Lists/fresh 1 lfresh
python3 - "$DPORT" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('ann', 'annpass1')
assert m.delete('Old')[0] == 'OK'
m.logout()
EOF
lsync a
is "$RC" 0 "a sync after a new folder and a deleted one on the server exits 0" || diag "$ERR"
same a "the new folder is synced" Lists/fresh || diag "$OUT $ERR"
like "$ERR" "Old was deleted on the server since the last sync: kept" \
	"the deleted one is reported, kept here" || diag "$ERR"
[ -d "$T_DIR/a/Mail/Old" ]; ok $? "(the store keeps Old)"

# The LOGOUT's answer is not awaited: a proxy holding the LOGOUT 10 s
# (so no answer comes) does not hold the sync.
HPORT=$(free_port)
python3 "$TOP/tests/imap_logproxy.py" "$HPORT" "$DPORT" "$T_DIR/hold.log" 10 LOGOUT > "$T_DIR/hold.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/hold.out" && break; sleep 0.1; done
SYNC_FOLDERS="'INBOX Sent Lists/*'" store_rc a "$HPORT"
t0=$(date +%s%N)
lsync a
t=$((($(date +%s%N) - t0) / 1000000))
is "$RC" 0 "a no-op sync through a proxy that holds the LOGOUT exits 0" || diag "$ERR"
[ "$t" -lt 5000 ]
ok $? "without waiting for the LOGOUT's answer ($t ms)"

# A login answer without capabilities: they are asked for after it.
TOOL=$BUILD/tests/remotetool
if [ -x "$TOOL" ]; then
	FPORT=$(free_port)
	FLOG=$T_DIR/fake.log
	bg python3 "$TOP/tests/remote_fake_imap.py" "$FPORT" "$FLOG" "IMAP4rev1 AUTH=PLAIN SASL-IR"
	FPID=$!
	for _ in $(seq 100); do [ -e "$FLOG.ready" ] && break; sleep 0.1; done
	echo "set imap_password_command='echo pw'" > "$T_DIR/fake.rc"
	OUT=$(timeout 30 "$TOOL" -F "$T_DIR/fake.rc" connect "imap+insecure://u@127.0.0.1:$FPORT/INBOX" 2>&1)
	is "$OUT" "connected tls=plain condstore=0 qresync=0" "the scripted server's login" || diag "$OUT"
	is "$(sed -E 's/^[^ ]+ ([A-Za-z]+).*/\1/' "$FLOG" | head -2 | tr '\n' ' ')" "AUTHENTICATE CAPABILITY " \
		"an OK without [CAPABILITY ...]: CAPABILITY asked after the login"
	kill "$FPID"; wait "$FPID" 2>/dev/null
else
	skip "$TOOL is not built (make build/tests/remotetool)"
	skip "$TOOL is not built (make build/tests/remotetool)"
fi
done_testing
