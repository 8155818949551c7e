#!/bin/bash
# A store loft cannot (or must not) write opens read-only: `loft -R -f`
# shows its messages, `loft search` and `loft show` work, and nothing in it
# changes.  Three ways a store is read-only: made so by chmod (run as its
# owner, `nobody`, since root ignores modes), owned by another user (root's
# store read by `nobody`), on a read-only mount (a bind mount in a private
# mount namespace, as root).  And `-R` on a writable store writes nothing
# either.  `loft deliver` into an unwritable maildir names the maildir.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is not installed"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
[ "$(id -u)" = 0 ] || skip_all "needs root to run loft as nobody and to bind-mount"
command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"
ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

chmod 711 "$T_DIR"	# nobody must reach the stores and its home
NH=$T_DIR/nobody-home
mkdir -p "$NH" && chown nobody "$NH"
# Runners are scripts, not shell functions: tmux runs them too.
AS_NOBODY=$T_DIR/as-nobody
printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="%s" "$@"\n' \
	"$NH" > "$AS_NOBODY"
chmod 755 "$AS_NOBODY"

# make_store DIR: INBOX, Sent, Drafts, Trash with three messages in INBOX,
# its state and notmuch index built, and a stale file in INBOX/tmp (which
# a writable open would clean); an rc file DIR.rc with folder=DIR.
make_store() {
	local d=$1 i
	for f in INBOX Sent Drafts Trash; do mkdir -p "$d/$f/cur" "$d/$f/new" "$d/$f/tmp"; done
	for i in 1 2 3; do
		printf 'From: Old Friend <friend@example.org>\nTo: me@example.org\nSubject: backup letter %s\nMessage-ID: <b%s@example.org>\nDate: Tue, 02 Jan 2024 1%s:00:00 +0000\n\nbody of letter %s\n' \
			"$i" "$i" "$i" "$i" > "$d/INBOX/cur/170000000$i.M${i}P1.host:2,S"
	done
	echo "set folder=$d" > "$d.rc"
	chmod 644 "$d.rc"
	LOFTRC=$d.rc "$LOFT" index > /dev/null
	"$ST" "$d" open INBOX > /dev/null
	# After that open: a writable one would clean tmp/ again now.
	echo stale > "$d/INBOX/tmp/1600000000.M1P1.host"
	touch -d '3 days ago' "$d/INBOX/tmp/1600000000.M1P1.host"
	touch -d '2 hours ago' "$d/.loft/INBOX/.tmpclean"
	[ -f "$d/.loft/INBOX/data.mdb" ] && [ -d "$d/.notmuch/xapian" ]
}
# Every file with its size, mtime, mode and owner, and the directories.
# STATE/queue is left out (so are directory mtimes): the client runs `loft
# queue list` for its status line, and the queue (not the store) makes its
# directory when it can; the store's own files must not change.
snap() {
	find "$1" -path "$1/.loft/queue" -prune -o -type d -printf '%p/ %m %u\n' \
		-o -printf '%p %s %T@ %m %u\n' | sort
}

# check_ro NAME STORE RUNNER...: the client, search and show on STORE run
# through RUNNER, and the store unchanged afterwards.
check_ro() {
	local name=$1 d=$2 before file; shift 2
	before=$(snap "$d")
	tmux_start "$@" env LOFTRC="$d.rc" "$LOFT" -R -f "$d/INBOX"
	tmux_wait 'backup letter 3' 10
	ok $? "$name: loft -R -f shows the messages"
	like "$(tmux_screen)" 'Friend.*backup letter 1' "$name: with sender and subject"
	tmux_keys Enter
	tmux_wait 'body of letter' 5
	ok $? "$name: the pager shows a message"
	tmux_keys q q
	tmux_stop
	OUT=$("$@" env LOFTRC="$d.rc" "$LOFT" search --output=files letter 2>"$T_DIR/err"); RC=$?
	is "$RC" 0 "$name: loft search works"
	is "$(printf '%s\n' "$OUT" | grep -c 'INBOX/cur/')" 3 "$name: and finds the three messages"
	file=$(printf '%s\n' "$OUT" | head -1)
	like "$("$@" "$LOFT" show "$file" 2>&1)" 'body of letter' "$name: loft show reads one"
	is "$(snap "$d")" "$before" "$name: nothing in the store changed (tmp/ not cleaned, no state written)"
}

# 1. Made read-only by chmod, read by its owner.
S1=$T_DIR/chmod
make_store "$S1"
chown -R nobody:nogroup "$S1"
chmod -R a-w "$S1"
check_ro "chmod a-w, own store" "$S1" "$AS_NOBODY"
ls "$NH/.cache/loft/state/" 2>/dev/null | grep -q .
ok $? "the state was built in the cache (\$HOME/.cache/loft/state)"

# 2. Another user's store (root's, modes as created: .loft is 0700).
S2=$T_DIR/other
make_store "$S2"
check_ro "another user's store" "$S2" "$AS_NOBODY"

# 3. A read-only mount, as root.
if unshare -m true 2>/dev/null; then
	S3=$T_DIR/mounted
	make_store "$S3"
	# RO_MOUNT CMD...: CMD with $S3 mounted read-only on itself.
	RO_MOUNT=$T_DIR/ro-mount
	printf '#!/bin/sh\nexec unshare -m sh -c %s "%s" "$@"\n' \
		"'mount --bind \"\$0\" \"\$0\" && mount -o remount,bind,ro \"\$0\" && exec \"\$@\"'" \
		"$S3" > "$RO_MOUNT"
	chmod 755 "$RO_MOUNT"
	"$RO_MOUNT" touch "$S3/probe" 2>/dev/null
	if [ $? -ne 0 ] && [ ! -e "$S3/probe" ]; then
		check_ro "read-only mount" "$S3" "$RO_MOUNT"
	else
		skip "a read-only bind mount did not stop writes here"
	fi
else
	skip "no private mount namespace (unshare -m) for a read-only bind mount"
fi

# 4. -R on a store loft could write: still nothing written there.
S4=$T_DIR/mine
make_store "$S4"
check_ro "-R on a writable store" "$S4" env

# `loft deliver` into a store it cannot write names the maildir, not the
# notmuch lock that fails first.
printf 'From: x@example.org\nSubject: new\nMessage-ID: <d1@example.org>\n\nnew mail\n' > "$T_DIR/new.eml"
chmod 644 "$T_DIR/new.eml"
ERR=$("$AS_NOBODY" env LOFTRC="$S2.rc" "$LOFT" deliver < "$T_DIR/new.eml" 2>&1); RC=$?
is "$RC" 75 "loft deliver into another user's store fails (EX_TEMPFAIL)"
# (loft deliver no longer opens the index: the first write into tmp/ fails.)
like "$ERR" "^loft: deliver: 4\.3\.0 cannot store in INBOX: $S2/INBOX/tmp/[^:/]+: Permission denied\$" \
	"naming the maildir"

done_testing
