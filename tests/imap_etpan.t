#!/bin/bash
# libetpan's mailimap client (the library loft's client side will use)
# against `loft imapd`, through tests/tools/etpan_probe.c: PREAUTH, SELECT,
# UID FETCH of ENVELOPE and BODYSTRUCTURE of plain, multipart, attached and
# oddly quoted messages (parsed by libetpan without error), UID STORE, UID
# SEARCH, UIDPLUS COPY, MOVE, and IDLE woken by `loft deliver`.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

PROBE=$BUILD/tests/etpan_probe
[ -x "$PROBE" ] || skip_all "$PROBE not built"
make_mailrc
deliver() { "$LOFT" -F "$MAILRC_FILE" deliver "$@"; }
deliver <<'M'
From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>
To: me@example.org
Subject: =?UTF-8?Q?caf=C3=A9?=
Message-ID: <e1@example.org>

plain
M
deliver <<'M'
From: parts@example.org
Subject: parts
Message-ID: <e2@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: text/plain; charset=utf-8

one
--XX
Content-Type: text/html

<b>two</b>
--XX
Content-Type: application/pdf; name="a b.pdf"
Content-Disposition: attachment; filename="a b.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--XX--
M
deliver <<'M'
From: fwd@example.org
Subject: forwarded
Message-ID: <e3@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=OUT

--OUT
Content-Type: text/plain

see below
--OUT
Content-Type: message/rfc822

From: inner@example.org
Subject: inner
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=IN

--IN
Content-Type: text/plain

inner text
--IN
Content-Type: text/html

<p>inner</p>
--IN--
--OUT--
M
printf 'From: "Quote \\"Q\\" Person" <q@example.org>\nSubject: He said "hi" \\o/ and caf\303\251 raw\nMessage-ID: <e4@example.org>\n\nquoted\n' | deliver
printf 'a1 CREATE Archive\r\na2 LOGOUT\r\n' | "$LOFT" -F "$MAILRC_FILE" imapd | grep -q '^a1 OK'
ok $? "Archive created"

# ETPAN_IDLE_BEFORE: a delivery the session has not reported when IDLE
# starts (libetpan 1.9.4 hangs when an untagged response precedes "+").
out=$(ETPAN_IDLE_BEFORE="printf 'Subject: before idle\n\nfirst\n' | $LOFT -F $MAILRC_FILE deliver" \
	ETPAN_IDLE_RUN="printf 'Subject: idle\n\nwake\n' | $LOFT -F $MAILRC_FILE deliver" \
	timeout 30 "$PROBE" INBOX "$LOFT" -F "$MAILRC_FILE" imapd 2>&1)
ok $? "etpan_probe ran without a libetpan error" || diag "$out"
line() { printf '%s\n' "$out" | grep -E "$1" | head -1; }
is "$(line '^connect')" "connect preauth" "libetpan sees the PREAUTH greeting as logged in"
like "$(line '^capability')" ' IDLE .*UIDPLUS MOVE' "capabilities parsed (IDLE, UIDPLUS, MOVE)"
like "$(line '^select')" '^select exists 4 uidvalidity [0-9]+ uidnext 5$' "SELECT: EXISTS, UIDVALIDITY, UIDNEXT"
is "$(line '^msg 1 ')" 'msg 1 flags=\Recent subject==?UTF-8?Q?caf=C3=A9?= from=zoe@example.org mid=<e1@example.org> body=text/plain' \
	"ENVELOPE and BODYSTRUCTURE of a plain message"
is "$(line '^msg 2 ')" 'msg 2 flags=\Recent subject=parts from=parts@example.org mid=<e2@example.org> body=mixed(text/plain,text/html,application/pdf)' \
	"BODYSTRUCTURE of multipart/mixed with an attachment"
is "$(line '^msg 3 ')" 'msg 3 flags=\Recent subject=forwarded from=fwd@example.org mid=<e3@example.org> body=mixed(text/plain,message/rfc822[alternative(text/plain,text/html)])' \
	"BODYSTRUCTURE of an attached message/rfc822 with its own multipart"
is "$(line '^msg 4 ')" "msg 4 flags=\\Recent subject=He said \"hi\" \\o/ and caf$(printf '\303\251') raw from=q@example.org mid=<e4@example.org> body=text/plain" \
	"ENVELOPE with quotes, a backslash and raw UTF-8 in the subject"
is "$(line '^store')" "store OK" "UID STORE +FLAGS (\\Flagged \$Etpan)"
is "$(line '^search keyword')" 'search keyword $Etpan: 1 3' "UID SEARCH KEYWORD finds the stored keyword"
is "$(line '^search subject')" 'search subject parts: 2' "UID SEARCH SUBJECT"
is "$(line '^search all')" 'search all: 1 2 3 4' "UID SEARCH ALL"
like "$(line '^copy')" '^copy uidvalidity [0-9]+ src 2 dst 1$' "UIDPLUS: libetpan parses COPYUID"
is "$(line '^move')" "move OK" "UID MOVE"
is "$(printf '%s\n' "$out" | grep -c '^msg 2 ')" 1 "after the move UID 2 is gone from INBOX"
like "$(printf '%s\n' "$out" | grep '^msg 1 ' | tail -1)" 'flags=\\Flagged,\\Recent,\$Etpan ' "FLAGS after STORE as libetpan parses them"
is "$(line '^idle')" "idle exists 5" "IDLE: libetpan gets the EXISTS of deliveries made before and while idling"
# The store afterwards: Archive holds two copies of message 2 (COPY then MOVE).
is "$(grep -l 'Message-ID: <e2@' "$T_DIR"/Mail/Archive/cur/* "$T_DIR"/Mail/Archive/new/* 2>/dev/null | wc -l)" 2 \
	"Archive holds the copy and the moved message"
f=$(grep -l 'Message-ID: <e1@' "$T_DIR"/Mail/INBOX/cur/* 2>/dev/null | head -1)
[[ ${f##*:2,} == *F* ]]; ok $? "the store has \\Flagged in the file name"
done_testing
