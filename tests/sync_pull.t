#!/bin/bash
# loft sync in pull mode (sync = pull) against a private Dovecot, checked on
# the server side with imaplib (tests/sync_pull_probe.py): new messages go
# through delivery and the Sieve script (filed by List-Id), a re-run pulls
# nothing, each pull_after (keep, seen, move:FOLDER, delete) does what it
# says upstream and only to what was delivered, a UIDVALIDITY change
# delivers nothing twice, and a POP3 account with pull_after=delete.  The
# kill -9 suites are tests/sync_pull_crash.t.  Skipped without root,
# dovecot-imapd, dovecot-pop3d or socat (tests/sync_pull_setup.sh).
. "$TOP/tests/lib.sh"

. "$TOP/tests/sync_pull_setup.sh"
bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" bob bobpass1

account() {	# account PULL_AFTER: the mailrc with account "up" pulling ann's INBOX
	make_mailrc "set sieve=$T_DIR/filter.sieve" \
		"account up {" "set imap_url=imap+insecure://ann@127.0.0.1:$PORT/INBOX" \
		"set imap_password_command='echo annpass1'" "set sync=pull" "set pull_after=$1" "}" \
		"account pop {" "set pop3_url=pop3+insecure://bob@127.0.0.1:$POP3_PORT" \
		"set imap_password_command='echo bobpass1'" "set sync=pull" "set pull_after=${2:-delete}" "}"
}
sync_up() { run_loft sync up; }

# ---- pull_after = keep, Sieve filing ----
for i in 1 2 3; do probe append INBOX "plain$i"; probe append INBOX "list$i" dev.example.org; done
account keep
sync_up
is "$RC" 0 "loft sync up: exit 0" || diag "$ERR"
like "$OUT" "^up: 1 folders, 6 down" "six messages pulled"
is "$(where plain1)" "INBOX" "a plain message is kept in INBOX"
is "$(where list2)" "Lists/dev" "the Sieve script filed a list message into Lists/dev"
n=0; for s in plain1 plain2 plain3 list1 list2 list3; do [ "$(copies $s)" = 1 ] && n=$((n + 1)); done
is "$n" 6 "each message stored once"
is "$(probe list INBOX | sort | tr '\n' ';')" "list1 ;list2 ;list3 ;plain1 ;plain2 ;plain3 ;" \
	"keep: the server's messages untouched (no \\Seen: BODY.PEEK)"
"$LOFT" search 'subject:list1' > "$T_DIR/search" 2>&1
like "$(cat "$T_DIR/search")" "list1" "indexed by notmuch"
sync_up
like "$OUT" "^up: 1 folders, 0 down" "a second sync pulls nothing"

# ---- pull_after = seen ----
probe append INBOX seen1; probe append INBOX seen2
account seen
sync_up
like "$OUT" "^up: 1 folders, 2 down" "seen: the two new messages pulled"
is "$(probe list INBOX | grep '^seen' | tr '\n' ';')" 'seen1 \Seen;seen2 \Seen;' \
	"seen: marked \\Seen upstream"
is "$(probe list INBOX | grep -c '^plain. $')" 3 "seen: what keep pulled before is left alone"

# ---- pull_after = move:Archive ----
probe create Archive
probe append INBOX move1; probe append INBOX move2 dev.example.org
account move:Archive
sync_up
like "$OUT" "^up: 1 folders, 2 down" "move: the two new messages pulled"
is "$(probe list Archive | sort | cut -d' ' -f1 | tr '\n' ' ')" "move1 move2 " "move: now in Archive upstream"
is "$(probe list INBOX | grep -c '^move')" 0 "move: gone from INBOX upstream"
is "$(where move2)" "Lists/dev" "move: delivered through Sieve all the same"

# ---- pull_after = delete ----
probe append INBOX del1; probe append INBOX del2
account delete
sync_up
like "$OUT" "^up: 1 folders, 2 down" "delete: the two new messages pulled"
is "$(probe list INBOX | grep -c '^del')" 0 "delete: expunged upstream"
is "$(probe list INBOX | wc -l)" 8 "delete: only those (the eight kept and seen ones stay)"
is "$(copies del1)$(copies del2)" 11 "delete: each stored once"

# ---- UIDVALIDITY change: nothing delivered twice ----
account keep
kill "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$DV/mail/ann/dovecot-uidlist" "$DV/mail/ann"/dovecot.index*
dovecot_start
probe append INBOX after-uv
sync_up
is "$RC" 0 "after a UIDVALIDITY change: exit 0" || diag "$ERR"
like "$ERR" "UIDVALIDITY changed .*none delivered twice" "the user is told in one line"
like "$OUT" "^up: 1 folders, 1 down" "only the new message delivered"
n=0; for s in plain1 plain2 plain3 seen1 seen2 after-uv; do [ "$(copies $s)" = 1 ] && n=$((n + 1)); done
is "$n" 6 "every message still stored once"

# ---- POP3, pull_after = delete ----
for i in 1 2 3; do
	python3 - "$PORT" "$i" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("bob", "bobpass1")
m.append("INBOX", None, None, ("From: x@example.org\r\nSubject: pop%s\r\nMessage-ID: <pop%s@example.org>\r\n\r\nbody\r\n" % (sys.argv[2], sys.argv[2])).encode())
m.logout()
PY
done
pop3count() { python3 "$TOP/tests/sync_pull_probe.py" "$POP3_PORT" bob bobpass1 pop3count; }
is "$(pop3count)" 3 "POP3: three messages on the server"
run_loft sync pop
is "$RC" 0 "loft sync pop: exit 0" || diag "$ERR"
like "$OUT" "^pop: 1 folders, 3 down" "POP3: three pulled"
is "$(copies pop1)$(copies pop2)$(copies pop3)" 111 "POP3: each stored once"
is "$(pop3count)" 0 "POP3: deleted on the server (poplib)"
run_loft sync pop
like "$OUT" "^pop: 1 folders, 0 down" "POP3: a second sync pulls nothing"

account keep keep
python3 - "$PORT" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("bob", "bobpass1")
m.append("INBOX", None, None, b"From: x@example.org\r\nSubject: popkeep\r\nMessage-ID: <popkeep@example.org>\r\n\r\nbody\r\n")
m.logout()
PY
run_loft sync pop
like "$OUT" "^pop: 1 folders, 1 down" "POP3 keep: pulled"
run_loft sync pop
like "$OUT" "^pop: 1 folders, 0 down" "POP3 keep: UIDL state: not pulled again"
is "$(pop3count)" 1 "POP3 keep: left on the server"

# ---- loft sync --status ----
account keep keep
run_loft sync --status up
is "$RC" 0 "loft sync --status up: exit 0" || diag "$ERR"
like "$OUT" "^up \(sync=pull\): 1 folders" "status: the pull account and its folders"
like "$OUT" "^  INBOX: last success [A-Z][a-z][a-z], .*, UIDs up to [0-9]+ pulled, 0 waiting for pull_after upstream, 0 in flight\$" \
	"status: INBOX's last success, last UID, nothing pending"
run_loft sync --status pop
like "$OUT" "^  POP3: last success .*, 0 waiting for pull_after upstream, 0 in flight\$" "status: the POP3 mailbox"

# ---- configuration errors: at loft check, FILE:LINE:COL ----
account keep seen
run_loft check
is "$RC" 78 "loft check: a POP3 account with pull_after=seen is a config error"
like "$ERR" "mailrc:[0-9]+:1: pull_after seen needs IMAP: a pop3_url account takes keep or delete" \
	"named at its line"
make_mailrc "set pull_after=move:Old" "account pop {" "set pop3_url=pop3+insecure://bob@127.0.0.1:$POP3_PORT" \
	"set imap_password_command='echo bobpass1'" "set sync=pull" "}"
run_loft sync pop
is "$RC" 69 "a global pull_after=move: reaching a POP3 account: refused by loft sync (EX_UNAVAILABLE)"
like "$ERR" "pull_after move:Old needs IMAP" "with the same words"
account bogus
run_loft check
like "$ERR" "mailrc:[0-9]+:[0-9]+: pull_after: expected keep, seen, move:FOLDER or delete" "a bad pull_after"
make_mailrc "account pop {" "set pop3_url=pop3x://bob@127.0.0.1" "}"
run_loft check
like "$ERR" "pop3_url: 'pop3x://bob@127.0.0.1' must start with pop3s://, pop3:// \(STLS\) or pop3\+insecure://" \
	"a bad pop3_url"
make_mailrc "account pop {" "set pop3_url=pop3://bob@127.0.0.1:$POP3_PORT" \
	"set imap_password_command='touch $T_DIR/asked; echo bobpass1'" "set sync=pull" "}"
run_loft sync pop
like "$ERR" "does not offer STLS: refusing to log in in plaintext" "pop3:// without STLS on the server: refused"
[ ! -e "$T_DIR/asked" ]; ok $? "before the password command runs"
run_loft sync --status pop
like "$OUT" "^  POP3: last success .*, last error .*: .*does not offer STLS" "status: the last error, with its time"

done_testing
