#!/bin/bash
# loft sendmail as real programs call it: exit codes for bad input, complete
# queue entries after exit 0, ignored flags, -bs, mailq, cron, git
# send-email and s-nail's mail.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

make_mailrc "set from=me@example.org realname='Me Myself' domain=example.org"
Q=$T_DIR/Mail/.loft/queue
BIN=$T_DIR/bin
mkdir -p "$BIN"
ln -s "$LOFT" "$BIN/sendmail"
ln -s "$LOFT" "$BIN/mailq"

count() { find "$Q" -maxdepth 1 -name "*.$1" 2>/dev/null | wc -l; }
# wait_delivered TEXT: the INBOX file containing TEXT, waiting up to 10 s.
wait_delivered() {
	local i f
	for i in $(seq 100); do
		f=$(grep -rl -- "$1" "$T_DIR/Mail/INBOX/new" "$T_DIR/Mail/INBOX/cur" 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}
# sm INPUT ARGS...: loft sendmail -odq with INPUT on stdin; RC, ERR set.
sm() {
	local input=$1; shift
	printf '%b' "$input" | "$LOFT" sendmail -odq "$@" 2>"$T_DIR/stderr"; RC=$?
	ERR=$(cat "$T_DIR/stderr")
}

# 1. Bad input: each gets its exit code, a message, and queues nothing.
sm 'Subject: x\n\nbody\n'
is "$RC" 65 "no recipients: 65 (EX_DATAERR)"
like "$ERR" "no recipients" "  ...and says so"
sm 'Subject: x\n\nbo\0dy\n' user
is "$RC" 65 "a NUL byte: 65"
sm '' user
is "$RC" 65 "an empty message: 65"
sm "Subject: x\n\n$(printf 'a%.0s' $(seq 1000))\n" user
is "$RC" 65 "a line over 998 bytes: 65"
sm 'Subject: x\nno colon here\n\nbody\n' user
is "$RC" 65 "a malformed header block: 65"
sm 'To: <broken@\nSubject: x\n\nbody\n' -t
is "$RC" 67 "an unparseable -t address: 67 (EX_NOUSER)"
sm 'Subject: x\n\nbody\n' 'a b@c'
is "$RC" 67 "an unparseable command-line address: 67"
sm 'Subject: x\n\nbody\n' -Z user
is "$RC" 64 "an unknown flag: 64 (EX_USAGE)"
is "$(count msg):$(count env):$(ls "$Q" | grep -c tmp)" "0:0:0" "nothing was queued, no temporary file left"

# 2. A good message: both files there, complete, after exit 0.
sm 'To: a@example.net\nSubject: first\n\nhello\n.\nnot part of it\n' -t -v
is "$RC" 0 "a message with -t is queued"
like "$ERR" "queued as [0-9]{10}\.[0-9a-f]{12}" "-v names the queue ID"
id=$(sed -n 's/.*queued as \([^ ]*\).*/\1/p' <<<"$ERR")
is "$(count msg):$(count env)" "1:1" "one .msg and one .env"
env=$(cat "$Q/$id.env")
like "$env" $'^loft-queue 1\nsender me@example.org\ncreated [0-9]+\nrcpt pending 0 [0-9]+ - a@example.net -$' \
	"the envelope has the sender and the recipient"
msg=$(cat "$Q/$id.msg")
like "$msg" $'\nFrom: Me Myself <me@example.org>\n' "From added from the mailrc"
like "$msg" $'\nDate: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}\n' "Date added"
like "$msg" "Message-ID: <$id@example.org>" "Message-ID with the configured domain"
like "$msg" $'\n\nhello$' "the lone dot ended the input"

# 3. Flags other programs pass are accepted and ignored.
sm 'Subject: flags\n\n.\nkept with -oi\n' -oem -oee -odb -odi -L tag -O DeliveryMode=b -B 8BITMIME \
	-N never -R hdrs -V envid -X /dev/null -Ac -U -m -oi -F 'Someone Else' -f other@example.org user
is "$RC" 0 "-oem -oee -odb -odi -L -O -B -N -R -V -X -Ac -U -m -oi -F -f are accepted"
id2=$(ls "$Q" | grep -v "^$id" | sed -n 's/\.env$//p')
like "$(cat "$Q/$id2.msg")" $'\n\n\\.\nkept with -oi$' "-oi keeps a lone dot"
like "$(cat "$Q/$id2.msg")" "From: Someone Else <other@example.org>" "-F and -f make the From"
like "$(head -2 "$Q/$id2.env")" "sender other@example.org" "-f sets the envelope sender"
sm 'Subject: utf8 name\n\nx\n' -F 'Jürgen M' user
f=$(grep -l '^Subject: utf8 name' "$Q"/*.msg)
is "$(grep -h '^From: ' "$f")" \
	"From: =?UTF-8?B?SsO8cmdlbiBN?= <me@example.org>" "a non-ASCII -F becomes an RFC 2047 word"
"$LOFT" queue rm "$(basename "$f" .msg)"

# 4. mailq and -bp list the queue.
# One clock for both listings: they show each entry's age in seconds.
export LOFT_TEST_NOW=$(date +%s)
OUT=$("$BIN/mailq"); RC=$?
is "$RC" 0 "mailq exits 0"
like "$OUT" "^$id +[0-9]+ +[0-9]+s +<me@example.org>" "mailq lists ID, size, age, sender"
like "$OUT" "<a@example.net> pending" "  ...and recipients with their state"
is "$("$LOFT" sendmail -bp)" "$OUT" "sendmail -bp is the same"
unset LOFT_TEST_NOW
"$LOFT" queue rm "$id" "$id2"
is "$("$BIN/mailq")" "Mail queue is empty" "after queue rm: Mail queue is empty"

# 5. -bs: SMTP on stdin/stdout, dot-unstuffing, errors.
OUT=$(printf 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<bad address>\r\nRCPT TO:<you@example.net>\r\nDATA\r\nSubject: smtp\r\n\r\n..leading dot\r\n.\r\nNOOP\r\nQUIT\r\n' |
	"$BIN/sendmail" -bs -odq); RC=$?
is "$RC" 0 "sendmail -bs exits 0"
like "$OUT" $'^220 [^ ]+ ESMTP loft' "greeting"
like "$OUT" '^5[0-9][0-9] 5\.1\.3' "a bad RCPT is refused"
like "$OUT" $'250 2.0.0 O[Kk]:? queued as [0-9.a-f]+\r' "DATA is accepted"
like "$OUT" $'221 2.0.0 .*Bye\r$' "QUIT"
id=$(sed -n 's/.*queued as \([0-9.a-f]*\).*/\1/p' <<<"$OUT" | tr -d '\r')
like "$(cat "$Q/$id.msg")" $'\n\n\\.leading dot$' "dot-unstuffed"
"$LOFT" queue rm "$id"

# 5b. -bs is the daemon's SMTP server over stdin/stdout, the local user
# trusted without AUTH.  bs INPUT: the session's output in OUT, its exit
# status in RC, the final reply codes in CODES, queue IDs in IDS.
bs() {
	OUT=$(printf '%b' "$1" | timeout 20 "$BIN/sendmail" -bs -odq 2>"$T_DIR/stderr"); RC=$?
	CODES=$(tr -d '\r' <<<"$OUT" | sed -n 's/^\([0-9]\{3\}\) .*/\1/p' | tr '\n' ' ')
	IDS=$(sed -n 's/.*queued as \([0-9.a-f]*\).*/\1/p' <<<"$OUT" | tr -d '\r' | tr '\n' ' ')
}
env_rcpts() { grep '^rcpt' "$Q/$1.env" | cut -d' ' -f6 | tr '\n' ' '; }

# PIPELINING: the whole session in one write, every reply in order.
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n'
like "$OUT" $'^250-PIPELINING\r$' "-bs: EHLO offers PIPELINING"
is "$CODES" "220 250 250 250 250 354 250 221 " "-bs: a pipelined session gets every reply, in order"
id=${IDS%% *}
is "$(env_rcpts "$id")" "a@example.net b@example.net " "  ...and queues the message for both recipients"
is "$(grep -c '^Received:' "$Q/$id.msg")" 1 "  ...with one Received: line (loft sendmail's)"
like "$(cat "$Q/$id.msg")" '^From: Me Myself <me@example.org>$' "  ...and the From sendmail adds"
like "$(cat "$Q/$id.msg")" "Message-ID: <$id@example.org>" "  ...and its Message-ID"
ok $([ -z "$(tr -d '\r' <<<"$OUT" | grep -E '^250[- ](AUTH|STARTTLS)')" ]; echo $?) "-bs offers neither AUTH nor STARTTLS"
"$LOFT" queue rm $IDS

# A bad command, commands out of order, AUTH and STARTTLS: refused, and the session goes on.
bs 'EHLO me\r\nFROB x\r\nRCPT TO:<a@example.net>\r\nAUTH PLAIN AGFiYwBkZWY=\r\nSTARTTLS\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: after errors\r\n\r\nx\r\n.\r\nQUIT\r\n'
is "$CODES" "220 250 500 503 502 502 250 250 354 250 221 " "-bs: unknown command 500, RCPT first 503, AUTH 502, STARTTLS 502; then a message"
"$LOFT" queue rm $IDS

# Dot-stuffing: every leading dot of the text comes back, the final dot ends it.
bs 'HELO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: dots\r\n\r\n..\r\n...two\r\n.. space\r\nmid . dot\r\n.\r\nQUIT\r\n'
id=${IDS%% *}
like "$(tr '\n' '~' <"$Q/$id.msg")" '~~\.~\.\.two~\. space~mid \. dot~$' "-bs: dot-stuffed lines are unstuffed, the lone dot ends DATA"
"$LOFT" queue rm $IDS

# RSET drops the transaction; two messages in one session stay apart.
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<dropped@example.net>\r\nRSET\r\nDATA\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<one@example.net>\r\nDATA\r\nSubject: first of two\r\n\r\n1\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<two@example.net>\r\nRCPT TO:<three@example.net>\r\nDATA\r\nSubject: second of two\r\n\r\n2\r\n.\r\nQUIT\r\n'
is "$CODES" "220 250 250 250 250 503 250 250 354 250 250 250 250 354 250 221 " "-bs: RSET, then DATA without MAIL is 503; two messages each get 250"
set -- $IDS
is "$#" 2 "-bs: two messages queued in one session"
is "$(env_rcpts "$1")" "one@example.net " "  ...the first for its recipient only (RSET dropped the other)"
is "$(env_rcpts "$2")" "two@example.net three@example.net " "  ...the second for its two"
like "$(head -2 "$Q/$2.env")" '^sender -$' "  ...with the null sender it gave"
like "$(cat "$Q/$1.msg")" 'Subject: first of two' "  ...and each has its own text"
like "$(cat "$Q/$2.msg")" 'Subject: second of two' "  ...(the second too)"
"$LOFT" queue rm "$@"

# A recipient without a domain is a mailrc alias, as on the command line.
echo 'alias bob "Bob <bob@example.net>"' >> "$MAILRC_FILE"
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<bob>\r\nDATA\r\nSubject: alias\r\n\r\nx\r\n.\r\nQUIT\r\n'
is "$(env_rcpts "${IDS%% *}")" "bob@example.net " "-bs: RCPT TO:<bob> is expanded as a mailrc alias"
"$LOFT" queue rm $IDS

# The 1000-octet line limit (RFC 5321 4.5.3.1.6), for commands and text.
l998=$(printf 'a%.0s' $(seq 998))
bs "EHLO me\r\nNOOP $l998\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: long\r\n\r\n${l998}b\r\n.\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: long\r\n\r\n$l998\r\n.\r\nQUIT\r\n"
like "$CODES" '^220 250 500 250 250 354 5[0-9][0-9] 250 250 354 250 221 $' \
	"-bs: a command over 1000 octets is refused, a 999-octet text line refused, 998 taken"
is "$(echo $IDS | wc -w)" 1 "  ...only the message within the limit is queued"
"$LOFT" queue rm $IDS

# A bare LF in the text is refused, as by the daemon (SMTP smuggling).
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: bare\n\nx\n.\nMAIL FROM:<evil@example.org>\r\n.\r\nQUIT\r\n'
is "$CODES" "220 250 250 250 354 550 221 " "-bs: a message with bare LFs is refused whole, nothing hidden in it runs"

# EOF ends the session cleanly: inside DATA nothing is queued, nothing left half-written.
before=$(ls "$Q" | wc -l)
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\nRCPT TO:<a@example.net>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess'
is "$RC:$CODES" "74:220 250 250 250 354 " "-bs: EOF inside DATA ends the session with 74 (EX_IOERR) and no reply"
is "$(ls "$Q" | wc -l)" "$before" "  ...nothing queued, no temporary file left"
bs 'EHLO me\r\nMAIL FROM:<me@example.org>\r\n'
is "$RC:$CODES" "74:220 250 250 " "-bs: EOF between commands (no QUIT) ends it too, at once"
is "$(ls "$Q" | wc -l)" "$before" "  ...with nothing queued"

# 6. cron: echo | sendmail user; the background runner delivers it at once.
echo "cron output" | "$LOFT" sendmail user; RC=$?
is "$RC" 0 "echo ... | loft sendmail user exits 0"
f=$(wait_delivered 'cron output')
ok $? "the background runner delivered it to INBOX"
got=$(cat "$f" 2>/dev/null)
like "$got" $'\n\ncron output$' "a bare body gets a header block"
like "$got" $'^Return-Path: <me@example.org>\nDelivered-To: user\n' "with Return-Path and Delivered-To on top"
like "$got" $'\nMessage-ID: <[0-9.a-f]+@example.org>\n' "and the Message-ID sendmail added"
# The runner removes the entry just after the delivery is on disk.
for _ in $(seq 50); do [ "$("$LOFT" queue list)" = "Mail queue is empty" ] && break; sleep 0.1; done
is "$("$LOFT" queue list)" "Mail queue is empty" "nothing left in the queue"

# 7. git send-email with a 2-patch series.
# git-email needs Mail::Address (libmailtools-perl), only a Recommends.
have_git_email() { git send-email --help >/dev/null 2>&1 && perl -MMail::Address -e1 2>/dev/null; }
if ! have_git_email && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git-email libmailtools-perl >/dev/null 2>&1
fi
if have_git_email; then
	R=$T_DIR/repo
	git init -q "$R" && cd "$R" && git config user.name Me && git config user.email me@example.org &&
	for n in 1 2; do echo "$n" > "f$n"; git add "f$n"; git commit -qm "change $n"; done &&
	git format-patch -q -2 -o "$T_DIR/patches" && cd "$T_DIR"
	git -C "$R" send-email --sendmail-cmd="$LOFT -F $MAILRC_FILE sendmail -odq" --to=user \
		--from="Me <me@example.org>" --confirm=never --suppress-cc=all --quiet \
		"$T_DIR"/patches/*.patch >"$T_DIR/gse.out" 2>&1
	RC=$?
	is "$RC" 0 "git send-email through loft sendmail exits 0" || diag "$(cat "$T_DIR/gse.out")"
	is "$(count env)" 2 "two entries queued"
	subjects=$(cat "$Q"/*.msg | grep '^Subject:' | sort | tr '\n' '|')
	is "$subjects" "Subject: [PATCH 1/2] change 1|Subject: [PATCH 2/2] change 2|" "with their subjects"
	like "$(cat "$Q"/*.env | grep '^rcpt' | sort -u | cut -d' ' -f6)" "^user$" "addressed to user"
	like "$(cat "$Q"/*.msg | grep -c '^In-Reply-To:')" "^1$" "the second is threaded to the first"
	"$LOFT" queue flush
	p1=$(wait_delivered 'PATCH 1/2') && p2=$(wait_delivered 'PATCH 2/2')
	ok $? "queue flush delivered both patches to INBOX"
	like "$(cat "$p2")" $'\nIn-Reply-To: <[^>]+>\n' "the second still threaded to the first"
	grep -q '^+2$' "$p2"; ok $? "the patch body arrived intact"
	is "$("$LOFT" queue list)" "Mail queue is empty" "the queue is empty after delivery"
else
	skip "git send-email (git-email, libmailtools-perl) not installed and cannot be installed"
	for i in 1 2 3 4 5 6 7; do skip "git send-email"; done
fi

# 8. mail(1) from s-nail, with loft as its MTA (argv[0] sendmail).
if ! command -v s-nail >/dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends s-nail >/dev/null 2>&1
fi
if command -v s-nail >/dev/null; then
	echo "sent by mail(1)" | s-nail -n -S mta="$BIN/sendmail" -S sendwait -s "from s-nail" \
		-r me@example.org user 2>"$T_DIR/snail.err"
	is "$?" 0 "s-nail's mail through loft exits 0" || diag "$(cat "$T_DIR/snail.err")"
	f=$(wait_delivered 'sent by mail')
	ok $? "its message is delivered to INBOX"
	like "$(cat "$f" 2>/dev/null)" $'\nSubject: from s-nail\n' "with its subject"
	like "$(cat "$f" 2>/dev/null)" $'^Return-Path: <me@example.org>\nDelivered-To: user\n' "for user, from me"
else
	skip "s-nail not installed and cannot be installed"; skip "s-nail"; skip "s-nail"
fi

done_testing
