#!/bin/bash
# Exactly once for an upload that has no Message-ID to a server without
# UIDPLUS (a proxy takes it out of the capabilities): the copy uploaded
# carries an X-Loft-Sync-Token header (the local file does not), by which
# the run finds the new UID -- and by which the next run finds it after
# loft sync was killed between the APPEND and the state commit.  Each
# message then exists once on each side.  Before, the next run uploaded
# it again and downloaded the first copy.  Skipped without root,
# dovecot-imapd or python3 (tests/sync_lib.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

# Dovecot reads its passwd-file once a second at most: every account first.
for k in 1 2 3; do add_user "t$k"; done
dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
export SYNC_FOLDERS=INBOX
PPORT=$(free_port)
PROXY_STRIP=UIDPLUS python3 "$TOP/tests/imap_logproxy.py" "$PPORT" "$DPORT" "$T_DIR/proxy.log" \
	> "$T_DIR/proxy.out" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && break; sleep 0.1; done

# noid STORE N: a message without a Message-ID in the store's INBOX.
noid() {
	printf 'From: me@example.org\nSubject: noid %s\n\nno id here %s\n' "$2" "$2" \
		> "$1/Mail/INBOX/new/$2.noid.local"
}
# once NAME STORE: each side holds every message once, and they agree.
once() {
	local dump
	dump=$(obs dump INBOX)
	is "$(lobs "$2" INBOX)" "$dump" "$1: the store and the server agree"
	is "$(obs field INBOX Subject | cut -f1 | uniq -d)" "" "$1: no subject twice on the server" ||
		diag "$(obs field INBOX Subject)"
	is "$(cat "$2"/Mail/INBOX/cur/* "$2"/Mail/INBOX/new/* 2>/dev/null | grep '^Subject:' | sort | uniq -d)" "" \
		"$1: no subject twice in the store"
}

i=0
for point in none sync:appended sync:before-commit; do
	i=$((i + 1))
	export SYNC_USER=t$i
	obs seed INBOX 1 "old$i"
	store_rc "s$i" "$PPORT"
	lsync "s$i"
	is "$RC" 0 "t$i: a first sync through the proxy" || diag "$ERR"
	noid "$T_DIR/s$i" "$i"
	if [ "$point" = none ]; then
		lsync "s$i"
		like "$OUT" "0 down, 1 up" "t$i: the message without Message-ID goes up" || diag "$ERR"
	else
		LOFT_CRASH_AT=$point run_loft -F "$T_DIR/s$i/mailrc" sync
		is "$RC" 137 "t$i: killed at $point, after the APPEND"
		lsync "s$i"
		is "$RC" 0 "t$i: the sync after the kill exits 0" || diag "$ERR"
		like "$OUT" "0 down, 0 up" "t$i: it uploads nothing again and downloads nothing" ||
			diag "$OUT"
	fi
	lsync "s$i"
	like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "t$i: the next sync finds nothing"
	is "$(obs dump INBOX | tail -1)" "count INBOX 2" "t$i: two messages on the server"
	once "t$i ($point)" "$T_DIR/s$i"
	run_loft -F "$T_DIR/s$i/mailrc" sync --status
	like "$OUT" "INBOX: .* 2 messages paired, 0 kept on one side" "t$i: both paired once"
done
grep -q 'SEARCH HEADER X-Loft-Sync-Token' "$T_DIR/proxy.log"
ok $? "the copy is found by a UID SEARCH for its token"
SYNC_USER=t1 obs field INBOX X-Loft-Sync-Token | awk -F'\t' '$1 == "noid 1" { print $2 }' > "$T_DIR/tok"
grep -Eq '^[0-9a-f]{24}$' "$T_DIR/tok"; ok $? "the server's copy carries the token" || diag "$(cat "$T_DIR/tok")"
! grep -q X-Loft-Sync-Token "$T_DIR"/s1/Mail/INBOX/*/*; ok $? "the store's file does not"

# A message with a Message-ID is still found by it, with no token added.
export SYNC_USER=t1
printf 'From: me@example.org\nSubject: withid\nMessage-ID: <withid.1@example.org>\n\nhi\n' \
	> "$T_DIR/s1/Mail/INBOX/new/9.withid.local"
lsync s1
like "$OUT" "0 down, 1 up" "a message with a Message-ID goes up" || diag "$ERR"
obs field INBOX X-Loft-Sync-Token | awk -F'\t' '$1 == "withid" { print $2 }' > "$T_DIR/tok"
is "$(cat "$T_DIR/tok")" "" "and carries no token"
lsync s1
like "$OUT" "0 down, 0 up" "and is paired"

done_testing
