#!/bin/bash
# A terminal that hangs up ends loft even where SIGHUP does not reach it
# (ignored under nohup or a tracer): before, poll() kept reporting the dead
# terminal, wget_wch() kept failing and loft spun at full CPU for ever.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP/tests/tmux.sh"

plan 3
lunch_inbox
# An ignored signal stays ignored across exec: loft starts with SIGHUP
# ignored, as under nohup.
tmux_start sh -c "trap '' HUP; exec '$LOFT'"
tmux_wait 'Lunch on Friday' 10
ok $? "the index is shown"
PID=$(tmux -L "$TMUX_SOCK" display -p '#{pane_pid}')
like "$(cat "/proc/$PID/comm" 2>/dev/null)" '^loft' "the pane runs loft (pid $PID)"
tmux_stop
for _ in $(seq 100); do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$PID" 2>/dev/null; then
	ok 1 "loft left after its terminal hung up (still running 5 s later: $(ps -o stat=,pcpu= -p "$PID"))"
	kill -9 "$PID"
else
	ok 0 "loft left after its terminal hung up"
fi
