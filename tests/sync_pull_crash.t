#!/bin/bash
# loft sync in pull mode killed (SIGKILL, lib/crash.h) at every step of a
# pull -- after the FETCH, after the intents, while the delivery batch
# writes, after its publish and its commit, before and after the pull
# state commit, after pull_after upstream -- then run again: every message
# is in the store exactly once, gone upstream (pull_after=delete), and a
# third run pulls nothing.  The same for a POP3 account.  Skipped without
# root, dovecot-imapd, dovecot-pop3d or socat (tests/sync_pull_setup.sh).
. "$TOP/tests/lib.sh"

. "$TOP/tests/sync_pull_setup.sh"

make_mailrc "set sieve=$T_DIR/filter.sieve" \
	"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
	"set imap_password_command='echo annpass1'" "set sync=pull" "set pull_after=delete" "}" \
	"account pop {" "set pop3_url=pop3+insecure://ann@127.0.0.1:$POP3_PORT" \
	"set imap_password_command='echo annpass1'" "set sync=pull" "set pull_after=delete" "}"

# seed TAG: three messages upstream, one filed by Sieve elsewhere.
seed() { probe append INBOX "$1-a"; probe append INBOX "$1-b" dev.example.org; probe append INBOX "$1-c"; }
# once TAG: each of the three stored exactly once.
once() { echo "$(copies "$1-a")$(copies "$1-b")$(copies "$1-c")"; }

# The steps a pull goes through, as the crash points it reaches.
seed trace
LOFT_CRASH_TRACE=$T_DIR/trace "$LOFT" sync up > /dev/null 2>&1
POINTS=$(awk '!seen[$0]++' "$T_DIR/trace" | tr '\n' ' ')
diag "crash points of a pull: $POINTS"
for p in pull:after-fetch pull:after-intent batch:after-add batch:after-sync batch:after-publish batch:after-commit \
	 pull:after-deliver pull:after-state pull:after-upstream; do
	case " $POINTS " in *" $p "*) r=0 ;; *) r=1 ;; esac
	ok $r "a pull reaches $p"
done

for account in up pop; do
	for p in $POINTS; do
		case $p in pull:*|batch:*|append:*|deliver:*) ;; *) continue ;; esac
		tag=$account-${p//:/-}
		seed "$tag"
		# (a shell of its own reports the kill, not this one)
		rc=$(LOFT_CRASH_AT=$p bash -c '"$@" > /dev/null 2>&1; echo $?' _ "$LOFT" sync "$account" 2>/dev/null)
		[ "$rc" = 137 ] || { skip "$account: $p not reached (exit $rc)"; continue; }
		run_loft sync "$account"
		is "$RC" 0 "$account killed at $p, then run again: exit 0" || diag "$ERR"
		is "$(once "$tag")" 111 "$account, $p: each message stored exactly once"
		is "$(probe list INBOX | grep -c "^$tag-")" 0 "$account, $p: deleted upstream (pull_after=delete)"
		run_loft sync "$account"
		like "$OUT" "^$account: 1 folders, 0 down" "$account, $p: a third run pulls nothing"
	done
done

done_testing
