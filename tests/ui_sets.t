#!/bin/bash
# The index acts on tagged messages with one store call per action: `;d`,
# `;u` and `;F` on 20 messages cost the fsyncs of the same key on one, `;C`
# the state transactions of one (counted with strace), and the result is
# right message by message.  The
# index follows other programs' changes from the store's change lists:
# tags stay on their messages when a message before them is removed and
# another arrives.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null ||
	skip_all "strace is not usable here (fsyncs cannot be counted)"

make_mailrc 'set sort=date' 'set nodelete_confirm'
M=$T_DIR/Mail/INBOX
A=$T_DIR/Mail/Archive
mkdir -p "$M/cur" "$M/new" "$M/tmp" "$A/cur" "$A/new" "$A/tmp"
for i in $(seq -w 1 30); do
	printf 'From: Bob <bob@example.org>\nTo: me@example.org\nSubject: msg %s\nDate: Mon, 02 Jun 2025 10:%s:00 +0000\nMessage-ID: <%s@example.org>\n\nbody %s\n' \
		"$i" "$i" "$i" "$i" > "$M/cur/$i.x.host:2,S"
done

ST=$T_DIR/strace
# fsyncs: how many so far; with STATE_ONLY set, those of the folders'
# state (LMDB's data.mdb: one per transaction).
fsyncs() {
	if [ -n "${STATE_ONLY:-}" ]; then grep -c 'sync(.*\.mdb>' "$ST"; else grep -c 'sync(' "$ST"; fi
}
# cost KEYS... -- REGEX: fsyncs made between the keys and the screen
# showing REGEX.
cost() {
	local before keys=() re
	while [ "$1" != -- ]; do keys+=("$1"); shift; done
	re=$2
	before=$(fsyncs)
	for k in "${keys[@]}"; do
		# tmux takes a lone ; as its command separator.
		if [ "$k" = ';' ]; then tmux_keys '\;'; else tmux_keys "$k"; fi
	done
	tmux_wait "$re" 10 >&2 || { echo -1; return; }
	echo $(($(fsyncs) - before))
}
subject_of() { sed -n 's/^Subject: //p' "$1"; }
# flagged_subjects CHAR: the subjects of INBOX files whose flags have CHAR.
flagged_subjects() {
	for f in "$M"/cur/*:2,*; do
		case "${f##*:2,}" in *"$1"*) subject_of "$f" ;; esac
	done | sort | tr '\n' ' '
}

# LeakSanitizer cannot run under ptrace (SANITIZE=1 builds).
tmux_start env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -y -e trace=fsync,fdatasync,msync -o "$ST" "$LOFT"
tmux_wait 'INBOX \[Msgs:30' 10
ok $? "the index is up with 30 messages"
tmux_keys Home

# One message, then twenty tagged ones: the same fsyncs.
one=$(cost d -- 'Del:1')
ok $([ "$one" -gt 0 ]; echo $?) "d on one message: $one fsyncs"
tmux_keys Home
for i in $(seq 20); do tmux_keys t; done
many=$(cost ';' d -- 'Del:20')
is "$many" "$one" ";d on 20 tagged messages costs the fsyncs of d on one"
is "$(flagged_subjects T)" "$(for i in $(seq -w 1 20); do echo "msg $i"; done | tr '\n' ' ')" \
	"exactly the 20 tagged messages are flagged deleted"
one=$(cost ';' u -- 'Del:0')
is "$one" "$many" ";u undeletes the 20 with one call too"

tmux_keys End
one=$(cost F -- 'Flag:1')
many=$(cost ';' F -- 'Flag:21')
is "$many" "$one" ";F on 20 tagged messages costs the fsyncs of F on one"

# A copy fsyncs each new file and its directory as before; what the set
# form saves is the state transaction per message.
STATE_ONLY=1
for i in 1 2; do	# the first copy also builds the archive's state
	one=$(cost C -- 'Copy to folder: ')
	tmux_keys C-u; tmux_keys -l '+Archive'
	one=$(cost Enter -- '1 message copied to \+Archive')
	tmux_keys k
done
many=$(cost ';' C -- 'Copy to folder: ')
tmux_keys C-u; tmux_keys -l '+Archive'
many=$(cost Enter -- '20 messages copied to \+Archive')
is "$many" "$one" ";C of 20 tagged messages is as many state transactions as C of one ($one)"
STATE_ONLY=
is "$(find "$A/cur" "$A/new" -type f | wc -l)" 22 "the archive holds the 22 copies"

# Another program removes msg 01 (before every tagged message) and
# delivers msg 31; the tags stay on msg 02..20 plus msg 21 untouched.
tmux_keys '\;'; tmux_keys F	# clear the flags again: Flag:1 (msg 30)
tmux_wait 'Flag:1\]|Flag:1 ' 10
rm "$M"/cur/01.x.host:2,*
printf 'Subject: msg 31\nDate: Mon, 30 Jun 2025 10:00:00 +0000\n\nbody 31\n' > "$M/new/31.x.host"
tmux_wait 'msg 31' 10 && tmux_gone 'msg 01( |$)' 10
ok $? "the index follows: one gone, one new"
tmux_keys '\;'; tmux_keys N
tmux_wait 'New:20' 10
ok $? ";N after the change acts on the 19 still tagged"
unseen=$(for f in "$M"/cur/*; do case "${f##*:2,}" in *S*) ;; *) subject_of "$f" ;; esac; done | sort | tr '\n' ' ')
is "$unseen" "$(for i in $(seq -w 2 20); do echo "msg $i"; done | tr '\n' ' ')" \
	"the tags stayed on their messages (msg 02..20)"

tmux_keys q
# Left before the tmux server goes: killed under strace while it quits,
# loft was left behind, orphaned, spinning on its dead terminal.
tmux_exited 10
ok $? "loft quits"
done_testing
