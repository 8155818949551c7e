#!/bin/bash
# Two accounts on two private Dovecots at once (issue 13's test list), one
# store: "work" mirrors the folder Work of Dovecot A over implicit TLS,
# whose certificate a test CA signed (imap_ca names the CA; the host name
# is checked), and "home" pulls Dovecot B's INBOX (pull_after=seen).
# imaplib checks each server.
#  - one `loft sync` runs both: each account's mail in its folder, nothing
#    of one account on the other server, B's messages \Seen;
#  - a flag set in the store's Work reaches A, not B;
#  - the same CA with a host name the certificate does not name (127.0.0.1)
#    is refused before the password command runs;
#  - `loft daemon` runs a task per account at the same time: a message
#    appended on each server reaches the store.
# Skipped without root, dovecot-imapd, openssl, socat or python3.
. "$TOP/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd not installed (tests/deps.sh)"
for c in openssl socat python3; do
	command -v $c >/dev/null || skip_all "$c is not installed (tests/deps.sh)"
done

DA=$(mktemp -d /tmp/loft-sync-two.XXXXXX) || skip_all "mktemp failed"
DB=$(mktemp -d /tmp/loft-sync-two.XXXXXX) || { rm -rf "$DA"; skip_all "mktemp failed"; }
trap 't_cleanup; for d in "$DA" "$DB"; do case $d in /tmp/loft-sync-two.*) rm -rf "$d" ;; esac; done' EXIT

# The test CA, and A's certificate for localhost signed by it (made
# before the start, so dovecot_instance.sh keeps it).
CA=$T_DIR/ca.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=loft test CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$T_DIR/ca.key" -out "$CA" 2>/dev/null &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
		-keyout "$DA/key.pem" -out "$T_DIR/a.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		> "$T_DIR/a.ext" &&
	openssl x509 -req -in "$T_DIR/a.csr" -CA "$CA" -CAkey "$T_DIR/ca.key" -CAcreateserial \
		-days 2 -extfile "$T_DIR/a.ext" -out "$DA/cert.pem" 2>/dev/null
ok $? "a test CA and a server certificate it signed" || { done_testing; exit; }
! openssl verify -CAfile "$DA/cert.pem" "$DA/cert.pem" >/dev/null 2>&1 &&
	openssl verify -CAfile "$CA" "$DA/cert.pem" >/dev/null 2>&1
ok $? "(the server certificate is not self-signed: only the CA verifies it)"

bash "$TOP/tests/dovecot_instance.sh" add_user "$DA" ann annpass1
bash "$TOP/tests/dovecot_instance.sh" add_user "$DB" bob bobpass1
PA=$(free_port) TA=$(free_port) PB=$(free_port) LPORT=$(free_port)
pa=$(bash "$TOP/tests/dovecot_instance.sh" start "$DA" "$PA" "$TA" 2>"$T_DIR/dva.err")
ok $? "Dovecot A starts (IMAP, implicit TLS)" || { diag "$(head -3 "$T_DIR/dva.err")"; done_testing; exit; }
T_PIDS+=("$pa")
pb=$(bash "$TOP/tests/dovecot_instance.sh" start "$DB" "$PB" 2>"$T_DIR/dvb.err")
ok $? "Dovecot B starts" || { diag "$(head -3 "$T_DIR/dvb.err")"; done_testing; exit; }
T_PIDS+=("$pb")

oa() { python3 "$TOP/tests/sync_observer.py" "$PA" ann annpass1 "$@"; }
ob() { python3 "$TOP/tests/sync_observer.py" "$PB" bob bobpass1 "$@"; }
oa seed Work 3 wk
oa seed INBOX 1 ain
ob seed INBOX 2 hm
M=$T_DIR/Mail
# n FOLDER PREFIX: how many files of that folder hold messages PREFIX.N.
n() { grep -l "^Message-ID: <$2\." "$M/$1"/new/* "$M/$1"/cur/* 2>/dev/null | wc -l; }
RUNS=$T_DIR/password-runs
rc() {	# rc WORK-HOST [MORE-LINES...]
	local host=$1; shift
	make_mailrc "set log_level=info imap_listen=127.0.0.1:$LPORT smtp_listen= queue_interval=1h" \
		"account work {" "set imap_url=imaps://ann@$host:$TA/Work imap_ca=$CA" \
		"set imap_password_command='echo work >> $RUNS; echo annpass1'" \
		"set sync=mirror sync_folders=Work sync_poll=1s imap_timeout=10" "}" \
		"account home {" "set imap_url=imap+insecure://bob@127.0.0.1:$PB/INBOX" \
		"set imap_password_command='echo bobpass1'" \
		"set sync=pull pull_after=seen sync_poll=1s imap_timeout=10" "}" "$@"
}

# ---- one loft sync, both accounts ----
rc localhost
run_loft sync
is "$RC" 0 "loft sync of both accounts: exit 0" || diag "$ERR"
like "$OUT" "^work: 1 folders, 3 down" "work: A's three messages" || diag "$OUT"
like "$OUT" "^home: 1 folders, 2 down" "home: B's two messages" || diag "$OUT"
is "$(n Work wk) $(n INBOX hm)" "3 2" "each in its folder of the store, once"
is "$(n INBOX ain)" 0 "A's INBOX is not synced (not in work's sync_folders)"
is "$(oa dump INBOX Work | grep -c 'hm\.')" 0 "nothing of B reached A"
is "$(ob dump INBOX | grep -c 'wk\.\|ain\.')" 0 "nothing of A reached B"
is "$(ob dump INBOX | grep -c '\\Seen')" 2 "B's pulled messages are \\Seen (pull_after=seen)"

# ---- a local flag goes to A only ----
f=$(grep -l "^Message-ID: <wk.2@" "$M/Work"/new/* "$M/Work"/cur/* 2>/dev/null | head -1)
mv "$f" "$M/Work/cur/$(basename "${f%%:2,*}"):2,F"
run_loft sync work
is "$RC" 0 "loft sync work after a flag here: exit 0" || diag "$ERR"
like "$(oa dump Work | grep 'wk.2@')" '\\Flagged' "the flag reached A"
run_loft sync
like "$OUT" "^work: 1 folders, 0 down, 0 up, 0 flags here, 0 flags there" "then nothing left for work" ||
	diag "$OUT"
like "$OUT" "^home: 1 folders, 0 down" "nor for home"

# ---- the CA does not make a wrong host name right ----
rc 127.0.0.1
: > "$RUNS"
run_loft sync work
[ "$RC" != 0 ]; ok $? "work through 127.0.0.1 (not in the certificate): refused" || diag "$OUT"
like "$ERR" "certificate|verif|host" "the error names the certificate check" || diag "$ERR"
is "$(wc -l < "$RUNS")" 0 "the password command did not run"

# ---- loft daemon: both tasks at once ----
rc localhost
start_daemon "$T_DIR/daemon.log" -F "$MAILRC_FILE"
ok $? "loft daemon starts with both accounts" || { diag "$(cat "$T_DIR/daemon.log")"; done_testing; exit; }
wait_for() { local i=$(($1 * 10)); shift; for _ in $(seq "$i"); do "$@" && return 0; sleep 0.1; done; return 1; }
wait_for 10 eval 'grep -q "account work: sync task started" "$T_DIR/daemon.log" &&
	grep -q "account home: sync task started" "$T_DIR/daemon.log"'
ok $? "a sync task per account" || diag "$(cat "$T_DIR/daemon.log")"
small_msg dwork.1 >/dev/null
oa append Work "$T_DIR/dwork.1.eml"
small_msg dhome.1 >/dev/null
ob append INBOX "$T_DIR/dhome.1.eml"
wait_for 20 eval '[ "$(n Work dwork) $(n INBOX dhome)" = "1 1" ]'
ok $? "a message appended on each server reaches the store" ||
	diag "Work $(n Work dwork) INBOX $(n INBOX dhome)" "$(tail -20 "$T_DIR/daemon.log")"
kill "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
ok $? "loft daemon stops on SIGTERM"

done_testing
