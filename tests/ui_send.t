#!/bin/bash
# Sending from the mail client says the truth and keeps the message sent:
# the copy in Sent is the very message queued (same Message-ID, same bytes
# but the Bcc header, which only the sent copy loses); mail for a remote
# recipient with no smarthost is reported as queued, with the reason, and
# counted in the status line; while the client is open and no daemon runs,
# the client's own queue runs deliver it once a smarthost is set.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

# example.org is local; remote.test is not, and there is no smarthost.
lunch_inbox 'set queue_retry_min=1s' 'set queue_interval=1s'

# The "editor": a blind copy to a remote address, and a line of text.
cat > "$T_DIR/editor" <<'SH'
#!/bin/sh
sed -i 's/^Bcc:.*/Bcc: carol@remote.test/' "$1"
printf 'See you at noon.\n' >> "$1"
SH
chmod +x "$T_DIR/editor"
export EDITOR=$T_DIR/editor

tmux_start "$LOFT"
tmux_wait 'INBOX \[Msgs:1 ' 10
ok $? "the index is up"
like "$(tmux_screen)" 'Del:0\]' "nothing queued: no Queued count in the status line"
tmux_keys m
tmux_wait '^To:' 5
tmux_keys -l 'alice@example.org'
tmux_keys Enter
tmux_wait '^Subject:' 5
tmux_keys -l 'Lunch plans'
tmux_keys Enter
tmux_wait 'Bcc: carol@remote.test' 10
ok $? "the compose screen shows the Bcc the editor added"
tmux_keys y
tmux_wait 'Queued for carol@remote.test: no smarthost set \(see `loft init`\)' 10
ok $? "the message line says the remote copy is queued, and why"
like "$(tmux_screen)" 'Queued:1\]' "the status line counts the queued message"

# The local recipient got it at once.
got=""
for i in $(seq 100); do
	got=$(grep -l '^See you at noon' "$M"/new/* "$M"/cur/* 2>/dev/null | head -1)
	[ -n "$got" ] && break
	sleep 0.1
done
ok $([ -n "$got" ]; echo $?) "the local recipient's copy is delivered"
sent=$(ls "$T_DIR"/Mail/Sent/cur/* "$T_DIR"/Mail/Sent/new/* 2>/dev/null | head -1)
mid_sent=$(grep -m1 -i '^Message-ID:' "$sent" 2>/dev/null)
mid_got=$(grep -m1 -i '^Message-ID:' "$got" 2>/dev/null)
ok $([ -n "$mid_sent" ] && [ "$mid_sent" = "$mid_got" ]; echo $?) \
	"the Message-ID in Sent is the delivered one ($mid_sent / $mid_got)"
grep -q '^Bcc: carol@remote.test' "$sent" 2>/dev/null
ok $? "the copy in Sent keeps the Bcc"
! grep -qi '^Bcc:' "$got" 2>/dev/null
ok $? "the delivered copy has no Bcc"
# Delivery only adds header lines on top: the rest is the Sent copy, byte
# for byte, without its Bcc line.
python3 - "$sent" "$got" <<'PY'
import sys
sent = open(sys.argv[1], "rb").read()
got = open(sys.argv[2], "rb").read()
stripped = b"".join(l for l in sent.splitlines(True) if not l.lower().startswith(b"bcc:"))
sys.exit(0 if stripped and got.endswith(stripped) else 1)
PY
ok $? "the delivered bytes are the Sent bytes without the Bcc line"
run_loft queue list
like "$OUT" 'carol@remote.test' "carol's copy waits in the queue"

# No daemon runs.  A smarthost appears in the mailrc: the client's own
# queue run (queue_interval) relays the message while it is open.
FPORT=$(free_port)
mkdir -p "$T_DIR/fake"
bg python3 "$TOP/tests/fake_smarthost.py" "$FPORT" "$T_DIR/fake" > "$T_DIR/fake.ready" 2> "$T_DIR/fake.log"
for _ in $(seq 50); do grep -q ready "$T_DIR/fake.ready" && break; sleep 0.1; done
echo "set smarthost=smtp+insecure://127.0.0.1:$FPORT" >> "$MAILRC_FILE"
for i in $(seq 100); do [ -e "$T_DIR/fake/1.eml" ] && break; sleep 0.1; done
grep -q '^RCPT <carol@remote.test>' "$T_DIR/fake/1.eml" 2>/dev/null
ok $? "the client's own queue run relays the queued message to the smarthost"
! grep -qi '^Bcc:' "$T_DIR/fake/1.eml" 2>/dev/null
ok $? "without the Bcc header"
grep -q "^$mid_sent" "$T_DIR/fake/1.eml" 2>/dev/null
ok $? "with the same Message-ID"
tmux_wait 'Del:0\]' 10
ok $? "the Queued count leaves the status line"
run_loft queue list
is "$OUT" "Mail queue is empty" "the queue is empty"

tmux_keys q
done_testing
