#!/bin/bash
# A new user, start to finish, through a terminal (tmux): an empty HOME,
# `loft init` answered at its prompts (a smarthost on loopback: Postfix's
# smtp-sink), `loft`, the welcome message read, a message composed to a
# remote address and seen delivered to the smarthost with the copy in Sent
# identical to what was sent, a message deleted and found in Trash.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || skip_all "smtp-sink missing (apt-get install postfix)"
command -v python3 >/dev/null || skip_all "python3 is not installed"

SPORT=$(free_port)
DPORT=$(free_port)
IPORT=$(free_port)
# smtp-sink run as root switches to nobody, who must reach the dumps.
mkdir -p "$T_DIR/sink" && chmod 777 "$T_DIR/sink" && chmod o+x "$T_DIR"
bg "$SINK" -u nobody -d "$T_DIR/sink/%M." 127.0.0.1:$SPORT 10 2> "$T_DIR/sink.log"
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT), timeout=1)" 2>/dev/null && break
	sleep 0.1
done

# The "editor" writes the body of the new message.
printf '#!/bin/sh\nprintf "Hello from a brand-new loft.\\n" >> "$1"\n' > "$T_DIR/editor"
chmod +x "$T_DIR/editor"
export EDITOR=$T_DIR/editor

[ -z "$(ls -A "$HOME")" ]
ok $? "HOME is empty"
tmux_start bash --norc --noprofile
tmux_keys "cd && $LOFT init" Enter
answer() {	# answer PROMPT-REGEX KEYS...: waits for the prompt, types the answer
	local re=$1; shift
	tmux_wait "$re" 10 && tmux_keys "$@" Enter
}
answer 'Your name .*: *$' 'Ann Newuser'
ok $? "init asks for the name"
answer 'Your mail address: *$' 'ann@example.org'
ok $? "then the address"
answer 'Provider \[none\]: *$' 'other'
ok $? "then the provider, from a list" && like "$(tmux_screen)" '2\) Gmail +smtp://smtp.gmail.com:587' "which names the well-known ones"
answer 'Smarthost URL .*: *$' "smtp+insecure://127.0.0.1:$SPORT"
ok $? "'other' asks for the smarthost's URL"
answer 'Login at the smarthost \(empty: none\): *$' ''
ok $? "then its login (none for the sink)"
answer 'Set up another device now\? \[Y/n\]: *$' ''
ok $? "then whether other devices use this loft"
like "$(tmux_screen)" 'read this store over IMAP' "saying they can read this store over IMAP"
answer 'Address and port to listen on \(SMTP\) \[0.0.0.0:1587\]: *$' "127.0.0.1:$DPORT"
ok $? "their SMTP address"
answer 'Address and port to listen on \(IMAP\) \[127.0.0.1:1143\]: *$' "127.0.0.1:$IPORT"
ok $? "their IMAP address (same host, port 1143 offered)"
answer 'Name of its login \[phone\]: *$' ''
ok $? "and the login's name"
tmux_wait 'Read and write mail: loft' 10
ok $? "init ends by saying what to type next"
like "$(tmux_screen)" 'password +[A-Za-z0-9]{24}' "the phone's password is shown"
[ -f "$HOME/.config/loft/mailrc" ]
ok $? "the mailrc is written"

# loft, and the welcome.
tmux_keys "clear; $LOFT; echo LOFT-EXIT=\$?" Enter
tmux_wait 'Welcome to loft' 10
ok $? "loft opens INBOX with the welcome message"
WELCOME=$(ls "$HOME"/Mail/INBOX/new/* "$HOME"/Mail/INBOX/cur/* 2>/dev/null | head -1)
cp "$WELCOME" "$T_DIR/welcome.eml"
tmux_keys Enter
tmux_wait 'set it up like this' 10
ok $? "Enter reads it: what init set up"
like "$(tmux_screen)" "127.0.0.1:$SPORT" "including the smarthost"
tmux_keys q
tmux_wait 'Welcome to loft' 5

# Compose to a remote address: relayed to the sink.
tmux_keys m
tmux_wait '^To: *$' 5 && tmux_keys 'friend@remote.test' Enter
tmux_wait '^Subject: *$' 5 && tmux_keys 'Hello from a new user' Enter
tmux_wait 'Subject: Hello from a new user' 10
ok $? "m: the compose screen after the editor"
tmux_keys y
got=""
for _ in $(seq 150); do
	got=$(grep -l '^Subject: Hello from a new user' "$T_DIR"/sink/* 2>/dev/null | head -1)
	[ -n "$got" ] && break
	sleep 0.1
done
ok $([ -n "$got" ]; echo $?) "the message reaches the smarthost (smtp-sink)" ||
	{ diag "queue: $("$LOFT" queue list 2>&1)"; tmux_screen | sed 's/^/# | /' >&2; }
like "$(grep -E '^X-(Mail|Rcpt)-Args' "$got" 2>/dev/null | tr '\n' ' ')" \
	'X-Mail-Args: <ann@example.org> X-Rcpt-Args: <friend@remote.test>' \
	"from the address init set, to the remote recipient"
is "$("$LOFT" queue list 2>&1)" "Mail queue is empty" "nothing is left in the queue"

sent=$(ls "$HOME"/Mail/Sent/cur/* "$HOME"/Mail/Sent/new/* 2>/dev/null | head -1)
ok $([ -n "$sent" ]; echo $?) "a copy is in Sent"
# What was sent: the sink's dump without its own X- lines, CRs and final
# blank line, and without the trace fields added on the way (Received:
# from loft's queue and from the sink), which no Sent copy can hold.
sed '1,/^X-Rcpt-Args/d' "$got" 2>/dev/null | tr -d '\r' |
	awk 'top && /^Received:/ { skip = 1; next } top && skip && /^[ \t]/ { next }
	     { top = 0; skip = 0; print }' top=1 | sed '${/^$/d}' > "$T_DIR/relayed.eml"
is "$(grep -i '^Message-ID:' "$sent" 2>/dev/null)" "$(grep -i '^Message-ID:' "$T_DIR/relayed.eml")" \
	"the Sent copy has the Message-ID that was sent"
cmp -s "$sent" "$T_DIR/relayed.eml"
ok $? "the Sent copy is the message that was sent, byte for byte" ||
	diag "$(diff "$T_DIR/relayed.eml" "$sent" 2>&1 | head -20)"

# Delete the welcome message: it goes to Trash.
tmux_keys d
tmux_keys q
tmux_wait 'Purge|Trash|deleted message' 5 && tmux_keys y
tmux_wait 'LOFT-EXIT=0' 10
ok $? "loft quits cleanly"
trashed=$(ls "$HOME"/Mail/Trash/cur/* "$HOME"/Mail/Trash/new/* 2>/dev/null | head -1)
ok $([ -n "$trashed" ]; echo $?) "the deleted message is in Trash"
cmp -s "$T_DIR/welcome.eml" "$trashed"
ok $? "byte-identical to the one deleted"
is "$(find "$HOME"/Mail/INBOX/cur "$HOME"/Mail/INBOX/new -type f | wc -l)" 0 "and gone from INBOX"

done_testing
