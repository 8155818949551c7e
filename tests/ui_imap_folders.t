#!/bin/bash
# An IMAP account's folders in the mail client (client/mailbox_folders.c,
# client/mailbox_imap_folders.c), against `loft daemon` on loopback with
# the server's state checked through Python's imaplib: `c` then `?` lists
# the account's folders with the server's counts, Tab completes them and
# Enter (or `c =Name`) opens one on the same account; `s` moves to
# another folder of the account on the server (UID MOVE: gone from the
# source, once in the target), `C` copies (UID COPY); a reply's copy goes
# to the account's special-use \Sent folder (not to the folder `record`
# names), byte for byte the message handed to the queue, with \Seen; `P`
# postpones into the account's \Drafts with \Draft, `R` recalls it from
# there and sending it removes it; what is sent from the account's folder
# leaves through the account block's smarthost (a scripted one) with the
# account's address.  Everything on 127.0.0.1, stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PW=phone-password-1
mkmsg() {
	printf 'From: %s <%s@remote.test>\nTo: me@example.org\nSubject: %s\nDate: Mon, %d Jun 2025 10:00:00 +0000\nMessage-ID: <%s@remote.test>\n\nbody of %s\n' \
		"$2" "$2" "$1" "$3" "$1" "$1"
}

# imappy PYTHON [ARG]: runs PYTHON with M logged in to the server on PORT
# (ARG in sys.argv[4]) and prints what it prints.
imappy() {
	python3 - "$PORT" "$PW" "$@" <<'PY'
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("phone", sys.argv[2])
def subjects(folder):
    t, n = M.select('"%s"' % folder, readonly=True)
    if n[0] == b"0":
        return []
    t, d = M.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = []
    for x in d:
        if isinstance(x, tuple):
            out.append(x[1].decode().strip().replace("Subject: ", ""))
    return out
exec(sys.argv[3])
M.logout()
PY
}

# scenario NAME: the whole scenario against the server on PORT, which
# holds Alpha, Beta and Gamma in INBOX, "Old archived" in Archive, and
# empty Sent and Drafts with their special-use attributes.  Its state
# (client store, header cache, smarthost, tmux) under $T_DIR/NAME.
scenario() {
	local S_NAME=$1 D=$T_DIR/$1
	mkdir -p "$D"
	TMUX_SOCK="$TMUX_SOCK.$1"
	diag "---- against $1 ----"
# The server marks its Sent \Sent (special-use); the client's record
# names another folder, which the special-use folder wins over.
like "$(imappy 'print(M.list()[1])')" 'Sent. "/" "?Sent' "the server marks Sent \\Sent"

# The account's own smarthost: a scripted one that keeps what it gets.
SPORT=$(free_port)
mkdir -p "$D/smarthost"
bg python3 "$TOP/tests/fake_smarthost.py" "$SPORT" "$D/smarthost" \
	> "$D/smarthost.ready" 2> "$D/smarthost.log"
for _ in $(seq 50); do grep -q ready "$D/smarthost.ready" && break; sleep 0.1; done

# The client: its own store; no global smarthost; the account block whose
# imap_url is the server has its own smarthost and address.
CLIENT_RC=$D/client.rc
URL="imap+insecure://phone@127.0.0.1:$PORT/INBOX"
cat > "$CLIENT_RC" <<RC
set folder=$D/Local imap_listen= smtp_listen=
set imap_password_command='echo $PW'
set from=me@example.org smarthost= local_domains=example.org queue_interval=1h
set record=+Outbox
account home {
	set imap_url=$URL
	set smarthost=smtp+insecure://127.0.0.1:$SPORT
	set from=me@home.test
}
RC
export LOFTRC=$CLIENT_RC
cat > "$D/editor" <<'SH'
#!/bin/sh
printf 'Written in the editor.\n' >> "$1"
SH
chmod +x "$D/editor"
export EDITOR=$D/editor

tmux_start env ASAN_OPTIONS="log_path=$T_DIR/asan" UBSAN_OPTIONS="log_path=$T_DIR/asan" \
	"$LOFT" -f "$URL"
tmux_wait 'Gamma notes' 10
ok $? "the index shows the server's INBOX"
tmux_wait 'Connected to 127.0.0.1' 10

# The folder list: the account's folders, with the server's counts.
tmux_keys c
tmux_wait "Open mailbox" 5
tmux_keys -l '?'
tmux_wait 'loft: folders' 10
ok $? "c then ? shows the folder list"
S=$(tmux_screen)
like "$S" ' N +3 +3  INBOX' "INBOX with 3 messages, 3 unread (the server's counts)"
like "$S" ' N +1 +1  Archive' "Archive, a folder of the server only, with its 1 message"
like "$S" '  +0 +0  Sent$' "the special-use Sent folder is listed"
! echo "$S" | grep -q 'Local'
ok $? "no folder of the local store"
# Enter on Archive opens it on the same account.
row=$(echo "$S" | grep -n '  Archive$' | cut -d: -f1)
cur=$(echo "$S" | grep -n '  INBOX$' | cut -d: -f1)
for ((k = cur; k < row; k++)); do tmux_keys j; done
for ((k = cur; k > row; k--)); do tmux_keys k; done
tmux_keys Enter
tmux_wait 'Old archived' 10
ok $? "Enter on Archive opens the server's Archive"
like "$(tmux_screen)" 'Archive' "the status line names it"

# c with mutt's '=' and Tab completion from the account's folders.
tmux_keys c
tmux_wait "Open mailbox" 5
tmux_keys -l '=IN'
tmux_keys Tab
tmux_wait 'Open mailbox.*\+INBOX' 5
ok $? "Tab completes =IN to the account's INBOX"
tmux_keys Enter
tmux_wait 'Gamma notes' 10
ok $? "and Enter opens it again"

# s moves to another folder of the account: done by the server.
tmux_keys -l '/Beta plans'
tmux_keys Enter
tmux_keys s
tmux_wait 'Save to folder: \+' 5
tmux_keys -l 'Archive'
tmux_keys Enter
tmux_wait '1 message moved to \+Archive' 10
ok $? "s says the message moved"
tmux_gone 'Beta plans' 5
ok $? "and it leaves the index"
is "$(imappy 'print(sorted(subjects("INBOX")))')" "['Alpha report', 'Gamma notes']" \
	"the server's INBOX no longer has it"
is "$(imappy 'print(sorted(subjects("Archive")))')" "['Beta plans', 'Old archived']" \
	"the server's Archive has it, once"

# C copies.
tmux_keys -l '/Alpha report'
tmux_keys Enter
tmux_keys C
tmux_wait 'Copy to folder: \+' 5
tmux_keys -l 'Archive'
tmux_keys Enter
tmux_wait '1 message copied to \+Archive' 10
ok $? "C says the message was copied"
is "$(imappy 'print(sorted(subjects("INBOX")))')" "['Alpha report', 'Gamma notes']" \
	"the original stays in the server's INBOX"
is "$(imappy 'print(sorted(subjects("Archive")))')" "['Alpha report', 'Beta plans', 'Old archived']" \
	"the server's Archive has the copy, once"

# The sidebar: the account's folders, with the counts of the last list
# (asked again after the copy).
tmux_keys Escape b
tmux_wait 'Archive +3/3' 5
ok $? "the sidebar shows the server's Archive with 3 unread of 3"
like "$(tmux_screen)" 'Sent +0/0' "and the other folders of the account"
tmux_keys Escape b
tmux_gone 'Archive +3/3'

# A reply: it leaves through the account's smarthost, from the account's
# address, and its copy goes to the account's \Sent folder, the very bytes
# sent.
tmux_keys -l '/Gamma notes'
tmux_keys Enter
tmux_keys r
tmux_wait 'y:send' 10
ok $? "r and the editor lead to the compose screen"
tmux_keys y
tmux_wait 'Mail sent' 15
ok $? "the reply is sent"
Q=$D/smarthost/1.eml
like "$(head -2 "$Q" 2>/dev/null | tr '\n' ' ')" '^MAIL <me@home.test> RCPT <carol@remote.test> ' \
	"through the account's smarthost, from the account's address"
like "$(grep -m1 '^From:' "$Q" 2>/dev/null)" 'me@home.test' "the From line is the account's too"
sent=$(imappy '
M.select("\"Sent\"", readonly=True)
t, d = M.fetch("1:*", "(FLAGS BODY.PEEK[])")
got = [x for x in d if isinstance(x, tuple)]
print(len(got), got[0][0].decode())
open(sys.argv[4] + "/sent.eml", "wb").write(got[0][1])
' "$D")
like "$sent" '^1 .*\\Seen' "one copy in the server's \"Sent\", with \\Seen"
python3 - "$D/sent.eml" "$Q" <<'PY'
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
queued = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
queued = queued[queued.index(b"\n\n") + 2:]	# the sink's MAIL and RCPT lines
# The queue's one addition: its Received header on top.
if queued.startswith(b"Received: "):
    end = queued.index(b"\n") + 1
    while queued[end:end + 1] in (b" ", b"\t"):
        end = queued.index(b"\n", end) + 1
    queued = queued[end:]
if sent == queued and b"Written in the editor." in sent:
    sys.exit(0)
import difflib
for l in difflib.unified_diff(queued.decode().splitlines(), sent.decode().splitlines(),
                              "queued", "sent", lineterm=""):
    print("# " + l)
sys.exit(1)
PY
ok $? "the Sent copy is byte for byte the message sent (but the queue's Received line; line ends aside)"
is "$(imappy 'print([x for x in M.list()[1] if b"Outbox" in x])')" "[]" \
	"nothing went to the record setting's Outbox"
is "$(find "$D/Local" \( -path "*Sent/*" -o -path "*Outbox*" \) -type f 2>/dev/null | wc -l)" "0" \
	"nor to the local store's Sent"

# Postpone into the account's Drafts, recall it from there, send it.
tmux_keys m
tmux_wait '^To:' 5
tmux_keys -l 'dora@remote.test'
tmux_keys Enter
tmux_wait '^Subject:' 5
tmux_keys -l 'Draft one'
tmux_keys Enter
tmux_wait 'y:send' 10
tmux_keys P
tmux_wait 'Message postponed' 10
ok $? "P postpones"
like "$(imappy '
M.select("Drafts", readonly=True)
print(M.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1])')" 'Draft.*Draft one' \
	"the draft is in the server's Drafts with \\Draft"
tmux_keys R
tmux_wait 'Subject: Draft one' 15
ok $? "R recalls it from the server's Drafts"
tmux_keys y
tmux_wait 'Mail sent' 15
ok $? "and it is sent"
like "$(head -2 "$D/smarthost/2.eml" 2>/dev/null | tr '\n' ' ')" \
	'^MAIL <me@home.test> RCPT <dora@remote.test> ' "through the account's smarthost too"
is "$(imappy 'print(len(subjects("Drafts")))')" "0" "the draft left the server's Drafts"
is "$(imappy 'print(sorted(subjects("Sent")))')" "['Draft one', 'Re: Gamma notes']" \
	"the server's \"Sent\" has both messages sent"

tmux_keys q
tmux_exited 10
# (tmux 3.3a may mark the pane dead before it has the status: empty.)
like "$(tmux -L "$TMUX_SOCK" display -p '#{pane_dead}:#{pane_dead_status}:')" '^1:0?:$' "q leaves loft"
tmux_stop
}

# ---- against loft daemon ----
PORT=$(free_port)
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen=" \
	"set hostname=localhost log_level=info queue_interval=1h shutdown_timeout=5"
echo "$PW" | "$LOFT" passwd --stdin phone >/dev/null
mkmsg "Alpha report" alice 1 | "$LOFT" deliver
mkmsg "Beta plans" bob 2 | "$LOFT" deliver
mkmsg "Gamma notes" carol 3 | "$LOFT" deliver
mkmsg "Old archived" dave 4 | "$LOFT" deliver -m Archive
if start_daemon "$T_DIR/daemon.log"; then
	ok 0 "loft daemon serves IMAP on 127.0.0.1:$PORT"
	scenario loft
	kill "$DPID"; wait "$DPID" 2>/dev/null
else
	ok 1 "loft daemon serves IMAP on 127.0.0.1:$PORT"
	diag "$(cat "$T_DIR/daemon.log")"
fi

# ---- against a private Dovecot (tests/dovecot_instance.sh) ----
if [ "$(id -u)" != 0 ]; then
	skip "a private Dovecot needs root here"
elif ! { [ -x /usr/lib/dovecot/imap ] && command -v socat >/dev/null; }; then
	skip "dovecot-imapd or socat not installed (tests/deps.sh)"
else
	# Dovecot's users must traverse it: a fresh directory of its own in
	# /tmp, removed (by its own name only) at the end.
	DV=$(mktemp -d /tmp/loft-imapfolders-dovecot.XXXXXX)
	trap 'tmux_stop; t_cleanup; case $DV in /tmp/loft-imapfolders-dovecot.*) rm_settled "$DV" ;; esac' EXIT
	bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" phone "$PW"
	PORT=$(free_port)
	if pid=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$PORT" 2>"$T_DIR/dovecot.err"); then
		T_PIDS+=("$pid")
		ok 0 "a private Dovecot serves IMAP on 127.0.0.1:$PORT"
		imappy '
import time
M.create("Archive")
for s, w, d, f in (("Alpha report", "alice", 1, "INBOX"), ("Beta plans", "bob", 2, "INBOX"),
                   ("Gamma notes", "carol", 3, "INBOX"), ("Old archived", "dave", 4, "Archive")):
    m = ("From: %s <%s@remote.test>\r\nTo: me@example.org\r\nSubject: %s\r\n"
         "Date: Mon, %d Jun 2025 10:00:00 +0000\r\nMessage-ID: <%s@remote.test>\r\n\r\n"
         "body of %s\r\n" % (w, w, s, d, s, s))
    M.append(f, None, None, m.encode())
'
		scenario dovecot
	else
		ok 1 "a private Dovecot serves IMAP on 127.0.0.1:$PORT"
		diag "$(head -3 "$T_DIR/dovecot.err")"
	fi
fi
is "$(cat "$T_DIR"/asan.* 2>/dev/null | head -20)" "" "no sanitizer report"
done_testing
