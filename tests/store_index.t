#!/bin/bash
# The store as the notmuch writer: what it appends, re-flags, moves and
# expunges is in the notmuch database at once, as the notmuch CLI sees it.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"
ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail
export NOTMUCH_CONFIG=$T_DIR/notmuch-config XAPIAN_CJK_NGRAM=1
printf '[database]\npath=%s\n[maildir]\nsynchronize_flags=true\n' "$ROOT" > "$NOTMUCH_CONFIG"

msg() {	# msg N SUBJECT: a small message with Message-ID <N@example.org>
	printf 'From: A <a@example.org>\nTo: b@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\nbody of %s\n' \
		"$2" "$1" "$1" > "$T_DIR/$1.eml"
	echo "$T_DIR/$1.eml"
}

"$ST" -c -i "$ROOT" list > /dev/null
ok $? "store created as the notmuch writer"

uid1=$("$ST" -i "$ROOT" append INBOX "$(msg one 'quarterly budget')")
uid2=$("$ST" -i "$ROOT" append INBOX "$(msg two 'weekly report')" S)
is "$(notmuch count 'id:one@example.org')" 1 "an appended message is indexed at once"
is "$(notmuch count 'id:two@example.org')" 1 "a second append is indexed"
is "$(notmuch search --output=files 'id:one@example.org' | wc -l)" 1 "one file for it"
is "$(notmuch count 'id:one@example.org and tag:unread')" 1 "unseen append is tagged unread"
is "$(notmuch count 'id:two@example.org and tag:unread')" 0 "append with \\Seen is not unread"
is "$(notmuch count budget)" 1 "its words are searchable"

"$ST" -i "$ROOT" flags INBOX "$uid1" +S +F > /dev/null
is "$(notmuch count 'id:one@example.org and tag:unread')" 0 "+S removes the unread tag"
is "$(notmuch count 'id:one@example.org and tag:flagged')" 1 "+F adds the flagged tag"
f=$(notmuch search --output=files 'id:one@example.org')
like "$f" ':2,FS$' "notmuch knows the renamed file"
[ -f "$f" ]; ok $? "and that file exists"

"$ST" -i "$ROOT" flags INBOX "$uid1" +kw:projectx > /dev/null
is "$(notmuch count 'id:one@example.org and tag:projectx')" 1 "an IMAP keyword becomes a tag"

"$ST" -c -i "$ROOT" create Archive
new=$("$ST" -i "$ROOT" move INBOX "$uid1" Archive)
like "$new" '^[0-9]+$' "move returns the UID in the destination"
is "$(notmuch count 'folder:Archive and id:one@example.org')" 1 "a moved message is found in its new folder"
is "$(notmuch count 'folder:INBOX and id:one@example.org')" 0 "and no longer in the old one"
is "$(notmuch count 'id:one@example.org and tag:flagged')" 1 "tags survive the move"

"$ST" -i "$ROOT" flags INBOX "$uid2" +T > /dev/null
"$ST" -i "$ROOT" expunge INBOX > /dev/null
is "$(notmuch count 'id:two@example.org')" 0 "an expunged message leaves the index"
is "$(notmuch count '*')" 1 "exactly one message left in the index"

# Another process renames the file between the append's commit and its index
# step (an IMAP session claiming \Recent moves new/ to cur/): the message is
# indexed where it is now, not lost to search.
LOFT_CRASH_PAUSE=append:after-commit "$ST" -i "$ROOT" append INBOX "$(msg race 'raced rename')" \
	> "$T_DIR/race.out" 2> "$T_DIR/race.err" &
pid=$!
for _ in $(seq 100); do
	[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = T ] && break
	sleep 0.05
done
f=$(grep -l '^Message-ID: <race@example.org>' "$ROOT"/INBOX/new/* 2>/dev/null | head -1)
[ -n "$f" ] && mv "$f" "$ROOT/INBOX/cur/$(basename "$f"):2,"
ok $? "paused after the commit, the new file is moved to cur/ behind its back"
kill -CONT "$pid"; wait "$pid"
ok $? "the append still succeeds"
is "$(notmuch count 'id:race@example.org')" 1 "and the message is indexed at its new place"
! grep -q 'index:' "$T_DIR/race.err"
ok $? "with no index warning" || diag "$(cat "$T_DIR/race.err")"

done_testing
