#!/bin/bash
# Pairing by content where Message-ID and size collide: two different
# messages with one Message-ID and one size on each side, in opposite UID
# orders, met by a first sync of two full folders (the path a UIDVALIDITY
# change and a killed run's intents take too).  Their contents are hashed
# (bodies fetched for those two only) so each pairs with its own copy;
# before, they paired in UID order, A with B, and the server's A took the
# store's B's \Seen.  And a flag set on one side of a pair made by
# matching reaches the other side in the same run (before, a flag the
# server had was never copied to the store: the agreed state was what
# both had).  Skipped without root, dovecot-imapd or python3
# (tests/sync_lib.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"

dovecot_start
ok $? "a private Dovecot starts" || { done_testing; exit; }
export SYNC_FOLDERS=INBOX

# dup LETTER FILE: a message <dup@example.org> whose subject and body say
# LETTER (so A and B have one size).
dup() {
	printf 'From: me@example.org\nSubject: dup %s\nMessage-ID: <dup@example.org>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nthe body of %s\n' \
		"$1" "$1" > "$2"
}
obs seed INBOX 1 other
dup A "$T_DIR/a.eml"
dup B "$T_DIR/b.eml"
obs append INBOX "$T_DIR/a.eml" '\Flagged'	# server: A is UID 2, B UID 3
obs append INBOX "$T_DIR/b.eml"

store_rc s
M=$T_DIR/s/Mail/INBOX
mkdir -p "$M"/{new,cur,tmp}
dup B "$M/cur/1.b.local:2,S"			# here: B first (older), A second
dup A "$M/cur/2.a.local:2,"
touch -d '2024-01-01 10:00' "$M/cur/1.b.local:2,S"
touch -d '2024-01-02 10:00' "$M/cur/2.a.local:2,"

lsync s
is "$RC" 0 "a first sync of two full folders exits 0" || diag "$ERR"
like "$OUT" "1 down, 0 up, 1 flags here, 1 flags there" \
	"only the other message comes down; A and B are matched, each side gets the other's flags" ||
	diag "$OUT"
want=$(printf 'dup A\t\t\\Flagged\ndup B\t\t\\Seen')
is "$(obs field INBOX Subject-None | grep '^dup')" "$want" \
	"the server: A keeps \\Flagged, B gets \\Seen (not each other's)"
# The store's A and B with their flags (only F and S occur here).
flags_of() {
	local l='' out=()
	[[ $1 == *:2,* ]] && l=${1##*:2,}
	[[ $l == *F* ]] && out+=('\Flagged')
	[[ $l == *S* ]] && out+=('\Seen')
	echo "${out[*]}"
}
here=$(for f in "$M"/cur/* "$M"/new/*; do
	s=$(sed -n 's/^Subject: //p' "$f")
	[[ $s == dup* ]] && printf '%s\t\t%s\n' "$s" "$(flags_of "$f")"
done | sort)
is "$here" "$want" "the store: A gets \\Flagged, B keeps \\Seen"
same s "both sides agree, message by message" INBOX
lsync s
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "the next sync finds nothing"
run_loft -F "$T_DIR/s/mailrc" sync --status
like "$OUT" "INBOX: .* 3 messages paired, 0 kept on one side" "each paired once"

done_testing
