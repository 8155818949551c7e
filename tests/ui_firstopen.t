#!/bin/bash
# The first open of a big folder (more than 1,000 messages, no state yet)
# shows the index before any header is read: the rows by arrival, with
# "Threading…" on the message line; the headers are read in steps between
# keys, then the index is threaded, the same threads a second open (from
# the state) shows.  LOFT_TEST_SLOW_SEARCH=MS holds each step MS ms so the
# first screen is seen on any machine.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

make_mailrc 'set sort=threads'
BIG=$T_DIR/Mail/Big
# 600 threads of two: the topics arrive first, every reply later, so the
# order of arrival (all topics, then all replies) is not the threads'.
python3 - "$BIG" <<'EOF'
import os, sys
d = sys.argv[1]
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
T = 1700000000
def put(n, t, subject, extra):
    data = ("From: User %d <u%d@example.org>\nSubject: %s\nMessage-ID: <%d@example.org>\n%s"
            "\nbody\n" % (n, n, subject, n, extra)).encode()
    p = os.path.join(d, "cur", "%d.M%dP1.host,S=%d:2,S" % (t, n, len(data)))
    with open(p, "wb") as f:
        f.write(data)
    os.utime(p, (t, t))
for i in range(600):
    put(i, T + i, "topic %d" % i, "")
    put(1000 + i, T + 1000 + i, "Re: topic %d" % i, "In-Reply-To: <%d@example.org>\n" % i)
EOF
ok $? "a 1,200-message folder is made"

tmux_start env LOFT_TEST_SLOW_SEARCH=1500 "$LOFT" -f +Big
tmux_wait 'Big \[Msgs:1200 ' 20
ok $? "the index shows all 1,200 messages before the headers are read"
S=$(tmux_screen)
like "$S" 'Threading' "the message line says the threads are coming"
like "$S" 'Re: topic 598.*
.*Re: topic 599' "meanwhile the rows are in the order of arrival (replies last)"
! grep -q '─>' <<< "$S"
ok $? "and not threaded yet"
tmux_gone 'Threading' 20
ok $? "then the headers are in"
tmux_wait '─>' 5
S=$(tmux_screen)
like "$S" 'User 599 .*topic 599
.*User 1599 .*─>' "and the index is threaded: each reply under its topic"
tmux_settle
FIRST=$(tmux_screen | head -n -1)
tmux_keys q
# Its close keeps the snapshot and threads the second open reads.
tmux_exited 10
ok $? "q leaves loft"
tmux_stop

# The second open reads the state: threaded at once, the same screen.
tmux_start "$LOFT" -f +Big
tmux_wait 'Big \[Msgs:1200 ' 10
ok $? "the second open shows the index"
! tmux_screen | grep -q 'Threading'
ok $? "with the threads at once"
tmux_settle
is "$(tmux_screen | head -n -1)" "$FIRST" "the same threads as the first open made once complete"
tmux_keys q

done_testing
