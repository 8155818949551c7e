#!/bin/bash
# loft init: an unattended run from flags writes a mailrc that `loft check`
# accepts, creates the store with a welcome message, the TLS certificate
# (the fingerprint printed is openssl's) and a device login that swaks can
# use against a started daemon; answers can come through the prompts; bad
# answers are refused before anything is written; a re-run never replaces
# the mailrc without a yes or --force and keeps a backup each time, and
# keeps the device login; --systemd writes the unit and reports, without
# failing, a systemctl that cannot enable it.  IMAP is said to be not built.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v openssl >/dev/null || skip_all "openssl is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

RC=$HOME/.config/loft/mailrc
PORT=$(free_port)
IPORT=$(free_port)
FLAGS=(--name "Ann O'Example" --address ann@example.org --provider none
       --devices --listen 127.0.0.1:$PORT --imap-listen 127.0.0.1:$IPORT --device phone)

# 1. Flags only.
"$LOFT" init "${FLAGS[@]}" --yes > "$T_DIR/out1" 2> "$T_DIR/err1"
ok $? "loft init --yes with flags exits 0" || diag "$(cat "$T_DIR/err1")"
OUT=$(cat "$T_DIR/out1")
[ -f "$RC" ]
ok $? "the mailrc is written to ~/.config/loft/mailrc"
like "$(stat -c %a "$RC")" '^600$' "it is private (0600)"
"$LOFT" check > "$T_DIR/check" 2>&1
ok $? "loft check accepts it" || diag "$(cat "$T_DIR/check")"
like "$(cat "$T_DIR/check")" "^set realname=.*Ann O'Example" "realname with a quote survives the quoting"
like "$(cat "$T_DIR/check")" "set from=ann@example.org" "from is the address"
like "$(cat "$T_DIR/check")" "set smtp_listen=127.0.0.1:$PORT" "smtp_listen is the one asked for"
like "$(cat "$RC")" '^# ' "the mailrc is commented"
for f in INBOX Sent Drafts Trash; do
	[ -d "$HOME/Mail/$f/cur" ] && [ -d "$HOME/Mail/$f/new" ]
	ok $? "the store has $f"
done
W=$(ls "$HOME"/Mail/INBOX/new/* 2>/dev/null)
is "$(echo "$W" | grep -c .)" 1 "INBOX holds one message"
like "$(grep '^Subject:' $W)" 'Welcome to loft' "the welcome message"
grep -q 'Outgoing mail (SMTP)' $W && ! grep -q "$(sed -n 's/^ *password *\([A-Za-z0-9]\{24\}\)$/\1/p' "$T_DIR/out1")" $W
ok $? "it holds the phone settings but not the password"

CERT=$HOME/Mail/.loft/tls/cert.pem
FP=$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | sed 's/.*=//')
like "$FP" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "the certificate exists (openssl reads it)"
like "$OUT" "^ +$FP\$" "the fingerprint printed is the certificate's SHA-256 (openssl x509 -fingerprint)" ||
	diag "$OUT"
like "$OUT" 'security +STARTTLS' "the security to choose is STARTTLS"
like "$OUT" "port +$PORT" "the port is smtp_listen's"
like "$OUT" 'user name +phone' "the login name is printed"
PW=$(sed -n 's/^ *password *\([A-Za-z0-9]\{24\}\)$/\1/p' "$T_DIR/out1")
like "$PW" '^[A-Za-z0-9]{24}$' "a new password is printed once"
like "$(tr '\n' ' ' < "$T_DIR/out1")" 'Incoming mail \(IMAP\) +server .* port +'"$IPORT"' +security +STARTTLS +user name +phone' \
	"the IMAP settings are printed: imap_listen's port, STARTTLS, the same login"
like "$(grep '^set imap_listen' "$RC" 2>/dev/null)" "^set imap_listen=\"?127.0.0.1:$IPORT" \
	"and imap_listen is set in the mailrc"
like "$OUT" 'loft daemon --detach' "without --systemd it says how to start the daemon"
is "$("$LOFT" passwd --list)" "phone" "the device login exists"

# 2. The device login against a started daemon.
if command -v swaks >/dev/null && perl -MNet::SSLeay -e1 2>/dev/null; then
	LOG=$T_DIR/daemon.log
	bg "$LOFT" daemon 2> "$LOG"
	for _ in $(seq 100); do grep -q 'started, pid' "$LOG" && break; sleep 0.1; done
	like "$(cat "$LOG")" "listening on 127.0.0.1:$PORT" "the daemon starts on the mailrc init wrote"
	like "$(cat "$LOG")" "fingerprint $FP" "and serves the certificate init printed"
	SW=(swaks --server 127.0.0.1:$PORT --tls --helo phone.test --from ann@example.org
	    --to me@localhost --auth PLAIN --auth-user phone)
	"${SW[@]}" --auth-password "$PW" --header 'Subject: from the phone' > "$T_DIR/sw1" 2>&1
	ok $? "swaks: STARTTLS + AUTH with the printed login" || diag "$(tail -5 "$T_DIR/sw1")"
	"${SW[@]}" --auth-password "wrong-$PW" > "$T_DIR/sw2" 2>&1
	grep -q '^<~.* 535 ' "$T_DIR/sw2"
	ok $? "a wrong password is refused (535)" || diag "$(tail -5 "$T_DIR/sw2")"
	for _ in $(seq 100); do grep -lqs '^Subject: from the phone' "$HOME"/Mail/INBOX/new/* && break; sleep 0.1; done
	grep -lqs '^Subject: from the phone' "$HOME"/Mail/INBOX/new/*
	ok $? "the message from the phone is delivered to INBOX"
	# The phone reads it over IMAP with STARTTLS, trusting the printed certificate.
	N=$(python3 - "$IPORT" "$PW" "$HOME/Mail/.loft/tls/cert.pem" <<'PY' 2>&1
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.check_hostname = False
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.starttls(ssl_context=ctx)
m.login("phone", sys.argv[2])
typ, data = m.select("INBOX", readonly=True)
typ, hits = m.search(None, 'SUBJECT', '"from the phone"')
print(len(hits[0].split()))
m.logout()
PY
)
	is "$N" 1 "the phone logs in over IMAP (STARTTLS, printed login) and finds the message"
	kill "$!" && wait "$!" 2>/dev/null
else
	skip "swaks or libnet-ssleay-perl missing"
fi

# 3. A re-run never replaces the mailrc silently.
OLD=$(cat "$RC")
"$LOFT" init "${FLAGS[@]}" --name Other --yes > "$T_DIR/out3" 2> "$T_DIR/err3"
is "$?" 73 "a re-run with --yes (no --force) refuses: exit 73"
like "$(cat "$T_DIR/err3")" 'exists and is left as it is \(--force' "it says why and how"
is "$(cat "$RC")" "$OLD" "the mailrc is untouched"
[ ! -e "$RC.bak" ]
ok $? "and no backup was needed"
printf 'n\n' | "$LOFT" init "${FLAGS[@]}" --name Other > "$T_DIR/out4" 2>&1
is "$?" 73 "answering n to 'Replace it?' refuses too"
like "$(cat "$T_DIR/out4")" 'exists\.  Replace it .*\[y/N\]' "the question is asked, no by default"
is "$(cat "$RC")" "$OLD" "the mailrc is untouched"
printf 'y\n\n' | "$LOFT" init "${FLAGS[@]}" --name Other > "$T_DIR/out5" 2>&1
ok $? "answering y replaces it" || diag "$(cat "$T_DIR/out5")"
is "$(cat "$RC.bak")" "$OLD" "the old mailrc is kept as mailrc.bak"
like "$(cat "$RC")" 'realname=Other' "the new one has the new answers"
like "$(cat "$T_DIR/out5")" 'the old one is kept as .*mailrc\.bak' "the backup is named"
like "$(cat "$T_DIR/out5")" 'password +the one set before' "the existing device login is kept, not rotated"
NEW=$(cat "$RC")
"$LOFT" init "${FLAGS[@]}" --name Third --force --yes > "$T_DIR/out6" 2>&1
ok $? "--force replaces it without asking"
is "$(cat "$RC.bak")" "$OLD" "the first backup is not overwritten"
is "$(cat "$RC.bak.1")" "$NEW" "the second goes to mailrc.bak.1"

# 4. Answers through the prompts (standard input), and bad answers.
export XDG_CONFIG_HOME=$T_DIR/xdg
printf '%s\n' "Bob Prompt" "not an address" "bob@example.net" "42" "other" \
	"http://wrong" "smtp+insecure://127.0.0.1:2525" "" "n" |
	"$LOFT" init --folder "$T_DIR/Mail2" > "$T_DIR/out7" 2>&1
ok $? "loft init answered through its prompts" || diag "$(cat "$T_DIR/out7")"
P=$(cat "$T_DIR/out7")
like "$P" 'not an address: ' "a bad address is asked again"
like "$P" '42: choose a number' "an unknown provider is asked again"
like "$P" '8\) other' "the provider list is shown"
like "$P" 'http://wrong: ' "a smarthost URL that is not smtp://, smtps:// or smtp\+insecure:// is asked again"
R=$(cat "$XDG_CONFIG_HOME/loft/mailrc")
like "$R" "set smarthost=smtp\+insecure://127.0.0.1:2525" "the URL typed is written"
like "$R" "set realname='Bob Prompt'" "the name typed is written"
! grep -q '^set smarthost_user' <<<"$R"
ok $? "an empty login: no smarthost_user"
! grep -q '^set smtp_listen' <<<"$R"
ok $? "no other device: smtp_listen stays on loopback"
"$LOFT" check > /dev/null 2>&1
ok $? "loft check accepts it (found through XDG_CONFIG_HOME)"
unset XDG_CONFIG_HOME

"$LOFT" -F "$T_DIR/bad.rc" init --address ann@example.org --smarthost ftp://x --yes > /dev/null 2> "$T_DIR/err8"
is "$?" 64 "--smarthost ftp://x is refused (64)"
like "$(cat "$T_DIR/err8")" '--smarthost ftp://x: ' "with the reason"
[ ! -e "$T_DIR/bad.rc" ]
ok $? "and nothing is written"
"$LOFT" -F "$T_DIR/bad.rc" init --address ann@example.org --folder Mail --provider none --yes \
	> /dev/null 2> "$T_DIR/err13"
is "$?" 64 "a relative --folder is refused (64)"
[ ! -e "$T_DIR/bad.rc" ] && [ ! -e Mail ]
ok $? "and nothing is written"
"$LOFT" -F "$T_DIR/bad.rc" init --yes > /dev/null 2> "$T_DIR/err9"
is "$?" 64 "--yes without --address is refused"
like "$(cat "$T_DIR/err9")" '--address is needed with --yes' "it says which flag is missing"
"$LOFT" -F "$T_DIR/gmail.rc" init --address a@gmail.com --no-devices --folder "$T_DIR/Mail3" --yes \
	> /dev/null 2> "$T_DIR/err10"
is "$?" 64 "a provider login with no password command is refused under --yes"
like "$(cat "$T_DIR/err10")" '--password-command is needed' "it asks for the password command"
"$LOFT" -F "$T_DIR/gmail.rc" init --address a@gmail.com --no-devices --folder "$T_DIR/Mail3" \
	--password-command 'pass show gmail' --yes > "$T_DIR/out11" 2>&1
like "$(cat "$T_DIR/gmail.rc")" 'smarthost=smtp://smtp.gmail.com:587' "the provider is guessed from the address"
like "$(cat "$T_DIR/gmail.rc")" 'smarthost_user=a@gmail.com' "the login is the address"
like "$(cat "$T_DIR/out11")" 'loft -F .*gmail.rc daemon' "with -F, the commands printed name the mailrc"

# 5. --systemd: the unit, and systemctl failing is reported, not fatal.
mkdir -p "$T_DIR/bin"
printf '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n' > "$T_DIR/bin/systemctl"
chmod +x "$T_DIR/bin/systemctl"
PATH=$T_DIR/bin:$PATH "$LOFT" -F "$T_DIR/sd.rc" init --address s@example.org --provider none \
	--no-devices --folder "$T_DIR/Mail4" --systemd --yes > "$T_DIR/out12" 2> "$T_DIR/err12"
ok $? "--systemd with a failing systemctl still exits 0" || diag "$(cat "$T_DIR/err12")"
U=$HOME/.config/systemd/user/loft-daemon.service
like "$(cat "$U" 2>/dev/null)" "ExecStart=\"[^\"]*loft\" -F \"$T_DIR/sd.rc\" daemon" "the unit runs loft -F MAILRC daemon"
like "$(cat "$U" 2>/dev/null)" 'WantedBy=default.target' "and can be enabled"
like "$(cat "$T_DIR/err12")" 'No medium found' "systemctl's own message is shown"
like "$(cat "$T_DIR/out12")" 'systemctl could not enable it' "the failure is reported"
like "$(cat "$T_DIR/out12")" 'loft -F .*sd.rc daemon --detach' "with the command to start the daemon by hand"

done_testing
