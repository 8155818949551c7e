#!/bin/bash
# Pairs made by matching (a UIDVALIDITY change on the server) and the
# index, against a private Dovecot (imaplib on the server, loft imapd and
# the notmuch CLI on the store):
#  - keywords of both sides are merged by the run that matches them (the
#    union, no agreed set yet): before, only by the next run;
#  - a run killed right after it changed the store's flags of matched
#    pairs leaves the "index is behind" mark, so the next sync brings
#    notmuch up to date (before: the mark came after the change, and the
#    index kept the old file name and tags until a `loft index`);
#  - the same for a keyword merged into the store by a plain sync.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sync_lib.sh"
command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"

store_a_synced 5 rm
uidvalidity_change() {
	dovecot_stop
	rm -f "$DV/mail/ann/dovecot-uidlist" "$DV/mail/ann"/dovecot.index*
	dovecot_start
}

# 1. Keywords of matched pairs merge in the matching run.
obs store INBOX '<rm.1@example.org>' '+srvkw'
sobs a store INBOX '<rm.2@example.org>' '+localkw'
uidvalidity_change
lsync a
is "$RC" 0 "the sync after the UIDVALIDITY change exits 0" || diag "$ERR"
like "$ERR" "UIDVALIDITY changed on the server: 5 messages matched" "the user is told in one line"
like "$(kw rm.2@example.org)" 'localkw' "a keyword set here is on the server after that one run"
like "$(lkw rm.1@example.org)" 'srvkw' "a keyword set on the server is in the store after that run"
like "$(tags rm.1@example.org)" 'srvkw' "and a notmuch tag"
like "$(lkw rm.2@example.org)" 'localkw' "the local keyword stays"
lsync a
like "$OUT" " 0 down, 0 up, 0 flags here, 0 flags there" "the next sync finds nothing to do" ||
	diag "$OUT"

# 2. Killed right after the matched pairs' flags changed here.
obs store INBOX '<rm.3@example.org>' '+\Flagged'
uidvalidity_change
LOFT_CRASH_AT=sync:matched-applied run_loft -F "$T_DIR/a/mailrc" sync
is "$RC" 137 "killed at sync:matched-applied"
lsync a
is "$RC" 0 "the sync after the kill exits 0" || diag "$ERR"
is "$(notmuch count id:rm.3@example.org and tag:flagged)" 1 \
	"notmuch has the flag the killed run set (the index was marked behind first)"
is "$(notmuch search --output=files id:rm.3@example.org | while read -r f; do [ -e "$f" ] && echo x; done | wc -l)" 1 \
	"and the message's file as it is named now"

# 3. Killed right after a keyword from the server was merged into the store.
obs store INBOX '<rm.4@example.org>' '+laterkw'
LOFT_CRASH_AT=sync:keywords-here run_loft -F "$T_DIR/a/mailrc" sync
is "$RC" 137 "killed at sync:keywords-here"
lsync a
is "$RC" 0 "the sync after the kill exits 0" || diag "$ERR"
like "$(tags rm.4@example.org)" 'laterkw' "the keyword is a notmuch tag after the next sync"
lsync a
like "$OUT" " 0 down, 0 up, 0 flags here, 0 flags there" "and the sync after finds nothing to do"

done_testing
