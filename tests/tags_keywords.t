#!/bin/bash
# Keywords are notmuch tags, both ways (issue 13; loft(1) KEYWORDS AND
# TAGS): a tag set in the mail client (tmux), by `loft tag` or by plain
# `notmuch tag` reaches loft's IMAP server as a keyword (an open session
# hears it as a FETCH) and, after `loft sync`, the provider (a private
# Dovecot, watched with Python's imaplib); a keyword set on the provider or
# through loft's IMAP server becomes a tag; removals go both ways; a tag
# that is not an IMAP atom (a space) stays in notmuch only; a second sync
# finds nothing to do.
. "$TOP/tests/lib.sh"
. "$TOP/tests/tmux.sh"
. "$TOP/tests/sync_lib.sh"	# after tmux.sh: its exit trap extends tmux.sh's
command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"

store_a_synced 4 tk

# 1. Plain `notmuch tag`, then loft sync.
notmuch tag +fromnotmuch +'two words' +Work -- id:tk.1@example.org
lsync a
is "$RC" 0 "a sync after notmuch tag exits 0" || diag "$ERR"
like "$(kw tk.1@example.org)" 'fromnotmuch' "a tag set by notmuch tag is a keyword on the provider"
like "$(kw tk.1@example.org)" 'Work' "with its case"
like "$(lkw tk.1@example.org)" 'fromnotmuch' "and on loft's IMAP server"
unlike "$(kw tk.1@example.org)" 'two' "a tag with a space is not sent (not an IMAP atom)"
like "$(tags tk.1@example.org)" 'two words' "and stays in notmuch"
unlike "$(kw tk.1@example.org)" 'inbox' "inbox (a new.tags tag) is not a keyword"
lsync a
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "the next sync finds nothing to do (no loop)"

# 2. A keyword set on the provider becomes a tag; removed there, it goes.
obs store INBOX '<tk.2@example.org>' '+provkw'
obs store INBOX '<tk.2@example.org>' '+$Junk'
lsync a
like "$(tags tk.2@example.org)" 'provkw' "a keyword set on the provider is a tag after the sync"
like "$(tags tk.2@example.org)" '\$Junk' "\$Junk too"
obs store INBOX '<tk.2@example.org>' '-provkw'
lsync a
unlike "$(tags tk.2@example.org)" 'provkw' "a keyword removed on the provider is untagged"
like "$(tags tk.2@example.org)" '\$Junk' "the other stays"

# 3. A tag removed by hand is removed on the provider.
notmuch tag -fromnotmuch -- id:tk.1@example.org
lsync a
unlike "$(kw tk.1@example.org)" 'fromnotmuch' "a tag removed by notmuch tag leaves the provider"
like "$(kw tk.1@example.org)" 'Work' "the other keyword stays"

# 4. `loft tag`: at once on loft's IMAP server, then upstream.
run_loft -F "$T_DIR/a/mailrc" tag +byloft -- id:tk.3@example.org
is "$RC" 0 "loft tag exits 0" || diag "$ERR"
like "$(lkw tk.3@example.org)" 'byloft' "a tag set by loft tag is a keyword on loft's IMAP server at once"
lsync a
like "$(kw tk.3@example.org)" 'byloft' "and on the provider after the sync"

# 5. A keyword set through loft's IMAP server (a phone) becomes a tag, and
# reaches the provider.
sobs a store INBOX '<tk.4@example.org>' '+fromphone'
lsync a
like "$(tags tk.4@example.org)" 'fromphone' "a keyword set over loft's IMAP server is a tag after the sync"
like "$(kw tk.4@example.org)" 'fromphone' "and on the provider"

# 6. The mail client: a tag set with + is heard by an open IMAP session of
# loft's own server as a FETCH with the keyword, then goes upstream.
cat > "$T_DIR/watch.py" <<'PY'
import imaplib, os, sys, time
m = imaplib.IMAP4_stream(sys.argv[1])
typ, data = m.select('INBOX')
print('permanentflags', m.untagged_responses.get('PERMANENTFLAGS'), flush=True)
print('selected', flush=True)
go = sys.argv[2]
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.05)
m.noop()
print('fetch', m.untagged_responses.get('FETCH'), flush=True)
m.logout()
PY
python3 "$T_DIR/watch.py" "$LOFT -F $T_DIR/a/mailrc imapd" "$T_DIR/go" > "$T_DIR/watch.out" 2>&1 &
WATCH=$!
T_PIDS+=("$WATCH")
for _ in $(seq 200); do grep -q selected "$T_DIR/watch.out" && break; sleep 0.05; done
like "$(cat "$T_DIR/watch.out")" 'permanentflags .*\\\*' "loft's IMAP server allows new keywords (PERMANENTFLAGS \\*)"
tmux_start "$LOFT" -F "$T_DIR/a/mailrc"
tmux_wait 'INBOX \[Msgs:4' 10
ok $? "the client opens INBOX"
tmux_keys -l '/tk 2'
tmux_keys Enter +
tmux_wait 'Tags \(\+add -remove\):' 5
tmux_keys -l '+fromui'
tmux_keys Enter
tmux_wait '1 message tagged' 10
ok $? "+ in the client tags the message"
touch "$T_DIR/go"
wait "$WATCH"
like "$(cat "$T_DIR/watch.out")" 'fetch .*FLAGS \([^)]*fromui' \
	"an open session of loft's IMAP server gets a FETCH with the new keyword"
tmux_keys q
tmux_exited 10
lsync a
like "$(kw tk.2@example.org)" 'fromui' "a tag set in the client reaches the provider after the sync"
tmux_start "$LOFT" -F "$T_DIR/a/mailrc"
tmux_wait 'INBOX \[Msgs:4' 10
tmux_keys -l '/tk 2'
tmux_keys Enter +
tmux_wait 'Tags \(\+add -remove\):' 5
tmux_keys -l ' -fromui'	# (a leading '-' would be a tmux flag)
tmux_keys Enter
tmux_wait '1 message tagged' 10
tmux_keys q
tmux_exited 10
lsync a
unlike "$(kw tk.2@example.org)" 'fromui' "a tag removed in the client leaves the provider"

# 7. Both sides agree, and the next sync has nothing to do.
is "$(sobs a dump INBOX)" "$(obs dump INBOX)" "the store (through loft's IMAP server) and the provider agree"
lsync a
like "$OUT" "0 down, 0 up, 0 flags here, 0 flags there" "and the next sync finds nothing to do"

# 8. With loft daemon running (sync_interval 1 h), a tag set by hand with
# notmuch tag reaches the provider by itself: the sync task watches the
# notmuch database.
wait_for() {	# wait_for SECS CMD...: polled every 0.1 s
	local n=$(($1 * 10)); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
has_kw() { [[ " $(kw "$1") " == *" $2 "* ]]; }
DOVECOT_PID=$DPID
sed "s/imap_listen=\$/imap_listen=127.0.0.1:$(free_port) smtp_listen= log_level=info/; s/sync=mirror/sync=mirror sync_interval=1h/" \
	"$T_DIR/a/mailrc" > "$T_DIR/a/daemonrc"
LOG=$T_DIR/daemon.log
start_daemon "$LOG" -F "$T_DIR/a/daemonrc"
ok $? "loft daemon starts with the mirror account" || diag "$(cat "$LOG")"
wait_for 20 grep -q 'all folders' "$LOG"
ok $? "its first full sync is done" || diag "$(tail -5 "$LOG")"
notmuch tag +bydaemon -- id:tk.4@example.org
wait_for 20 has_kw tk.4@example.org bydaemon
ok $? "a tag set by notmuch tag reaches the provider without loft sync" || diag "$(tail -5 "$LOG")"
notmuch tag -bydaemon -- id:tk.4@example.org
wait_for 20 eval '! has_kw tk.4@example.org bydaemon'
ok $? "and its removal" || diag "$(tail -5 "$LOG")"
kill "$DPID" && wait "$DPID" 2>/dev/null
DPID=$DOVECOT_PID

done_testing
