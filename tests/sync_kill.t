#!/bin/bash
# Exactly once: loft sync killed (SIGKILL through lib/crash.h) at every step
# -- the intents' commit, after a FETCH, after the local fsync (the store
# batch's commit), before and
# after a state commit, after an upstream APPEND, before and after a flag
# push, during a UIDVALIDITY recovery -- then run again normally: each
# message exists once on each side, flags agree, the state pairs each one
# once.  Then a proxy that drops the connection mid-FETCH and mid-APPEND:
# nothing half-written, and the next sync completes the work.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

 # Dovecot reads its passwd-file once a second at most: every account first.
for k in $(seq 20); do add_user "k$k"; done
dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
export SYNC_FOLDERS=INBOX

# local_msgs STORE N PREFIX: N messages in the store's INBOX as an MDA
# would leave them (some bigger than a line, for the proxy to cut).
local_msgs() {
	local i j
	mkdir -p "$1/Mail/INBOX"/{new,cur,tmp}
	for i in $(seq "$2"); do
		{ printf 'From: me@example.org\nSubject: %s %s\nMessage-ID: <%s.%s@example.org>\n\n' \
			"$3" "$i" "$3" "$i"
		  for _ in $(seq 60); do echo "line of $3 $i, long enough to make the message a few kilobytes"; done
		} > "$1/Mail/INBOX/new/$i.$3.local"
	done
}

# check NAME STORE N: both sides hold the same N messages with the same
# flags, none twice, and the state pairs N.
check() {
	local name=$1 st=$2 n=$3 dump
	dump=$(obs dump INBOX)
	is "$(lobs "$st" INBOX)" "$dump" "$name: the store and the server agree"
	is "$(tail -1 <<<"$dump")" "count INBOX $n" "$name: $n messages on the server"
	is "$(grep -v '^count' <<<"$dump" | cut -d' ' -f2 | sort | uniq -d)" "" "$name: none twice"
	run_loft -F "$st/mailrc" sync --status
	like "$OUT" "INBOX: .* $n messages paired" "$name: the state pairs each once"
}

i=0
for point in sync:intent-before-commit sync:fetched sync:fetched#2 sync:stored \
	sync:before-commit sync:after-commit sync:intent-before-commit#2 \
	sync:appended sync:appended#2 sync:before-commit#2 sync:after-commit#2; do
	i=$((i + 1))
	export SYNC_USER=k$i
	# A first sync, so that the killed one works from a state (a killed
	# first sync is matched as a first sync of two full folders is).
	obs seed INBOX 1 "old$i"
	store_rc "s$i"
	lsync "s$i"
	obs seed INBOX 3 "srv$i" '\Seen'
	local_msgs "$T_DIR/s$i" 2 "loc$i"
	LOFT_CRASH_AT=$point run_loft -F "$T_DIR/s$i/mailrc" sync
	is "$RC" 137 "killed at $point"
	lsync "s$i"
	is "$RC" 0 "the sync after the kill at $point exits 0" || diag "$ERR"
	check "$point" "$T_DIR/s$i" 6
done

# A killed first sync: the next one pairs what both sides hold.
i=$((i + 1))
export SYNC_USER=k$i
obs seed INBOX 3 "srv$i"
store_rc "s$i"
local_msgs "$T_DIR/s$i" 2 "loc$i"
LOFT_CRASH_AT=sync:stored run_loft -F "$T_DIR/s$i/mailrc" sync
is "$RC" 137 "a first sync killed after its downloads were stored"
lsync "s$i"
check "killed first sync" "$T_DIR/s$i" 5

# Flag pushes: changes on both sides, killed before and after the push.
for point in sync:before-flag-push sync:after-flag-push; do
	i=$((i + 1))
	export SYNC_USER=k$i
	obs seed INBOX 3 "srv$i"
	store_rc "s$i"
	lsync "s$i"
	obs store INBOX "<srv$i.1@example.org>" '+\Flagged'
	lflags "$T_DIR/s$i" INBOX "srv$i.2@" S
	LOFT_CRASH_AT=$point run_loft -F "$T_DIR/s$i/mailrc" sync
	is "$RC" 137 "killed at $point"
	lsync "s$i"
	is "$RC" 0 "the sync after the kill at $point exits 0" || diag "$ERR"
	check "$point" "$T_DIR/s$i" 3
	obs dump INBOX > "$T_DIR/dump"
	grep -q "srv$i.1@example.org> \\\\Flagged$" "$T_DIR/dump" &&
		grep -q "srv$i.2@example.org> \\\\Seen$" "$T_DIR/dump"
	ok $? "$point: both flag changes made it"
done

# A UIDVALIDITY recovery killed half-way.
for point in sync:uidvalidity-dropped sync:uidvalidity-before-commit; do
	i=$((i + 1))
	export SYNC_USER=k$i
	obs seed INBOX 3 "srv$i"
	store_rc "s$i"
	local_msgs "$T_DIR/s$i" 1 "loc$i"
	lsync "s$i"
	dovecot_stop
	rm -f "$DV/mail/$SYNC_USER/dovecot-uidlist" "$DV/mail/$SYNC_USER"/dovecot.index*
	dovecot_start
	LOFT_CRASH_AT=$point run_loft -F "$T_DIR/s$i/mailrc" sync
	is "$RC" 137 "killed at $point"
	lsync "s$i"
	is "$RC" 0 "the sync after the kill at $point exits 0" || diag "$ERR"
	like "$OUT" " 0 down, 0 up" "$point: nothing copied again"
	check "$point" "$T_DIR/s$i" 4
done

# A connection dropped mid-FETCH (down) and mid-APPEND (up).
for way in down up; do
	i=$((i + 1))
	export SYNC_USER=k$i
	obs seed INBOX 4 "srv$i"
	store_rc "s$i"
	[ "$way" = up ] && { lsync "s$i"; local_msgs "$T_DIR/s$i" 3 "loc$i"; }
	PPORT=$(free_port)
	# Past the login and listing: well into the bodies (down) or the
	# second APPEND (up).
	cut=$([ "$way" = down ] && echo 2500 || echo 7000)
	python3 "$TOP/tests/sync_cutproxy.py" "$PPORT" "$DPORT" "$way" "$cut" > "$T_DIR/proxy.out" &
	T_PIDS+=($!)
	for _ in $(seq 100); do grep -q ready "$T_DIR/proxy.out" && break; sleep 0.1; done
	store_rc "s$i" "$PPORT"
	lsync "s$i"
	is "$RC" 75 "a connection cut ${way}stream fails with 75 (temporary)"
	grep -q cut "$T_DIR/proxy.out"; ok $? "the proxy cut it ($way, byte $cut)"
	is "$(ls "$T_DIR/s$i/Mail/INBOX/tmp" | wc -l)" 0 "nothing left half-written in tmp/"
	store_rc "s$i"
	lsync "s$i"
	is "$RC" 0 "the next sync exits 0" || diag "$ERR"
	check "cut $way" "$T_DIR/s$i" "$([ "$way" = down ] && echo 4 || echo 7)"
done

done_testing
