# tmux helpers for the ui_*.t scenario tests: a private tmux server per
# test script, keys in, the screen out, and polling with a timeout.
# Source after tests/lib.sh:  . "$TOP/tests/tmux.sh"
#
#   tmux_start CMD...        start CMD in a 120x40 session (TMUX_W/TMUX_H)
#   tmux_keys KEYS...        tmux send-keys (key names: Enter, Escape, End...)
#   tmux_screen              print the visible screen
#   tmux_wait REGEX [SECS]   poll every 50 ms until the screen matches (0) or
#                            the time is up (1; the screen goes to diag)
#   tmux_stop                kill the server (also done at exit)

command -v tmux >/dev/null || skip_all "tmux is not installed"
TMUX_SOCK="loft-test-$$"
TMUX_W=${TMUX_W:-120}
TMUX_H=${TMUX_H:-40}
unset TMUX

tmux_stop() { tmux -L "$TMUX_SOCK" kill-server 2>/dev/null; true; }
# Chain to lib.sh's cleanup.
trap 'tmux_stop; t_cleanup' EXIT

tmux_start() {
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -x "$TMUX_W" -y "$TMUX_H" \
		-e LOFTRC="${LOFTRC:-}" -e HOME="$HOME" -e LC_ALL=C.UTF-8 -e TZ=UTC \
		-e TERM=screen-256color -e EDITOR="${EDITOR:-true}" -e VISUAL= "$@"
	tmux -L "$TMUX_SOCK" set-option -g remain-on-exit on >/dev/null
}

tmux_keys() { tmux -L "$TMUX_SOCK" send-keys "$@"; }
tmux_screen() { tmux -L "$TMUX_SOCK" capture-pane -p; }

tmux_wait() {
	local re=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		tmux_screen | grep -Eq -- "$re" && return 0
		sleep 0.05
	done
	diag "screen did not show /$re/ within ${secs}s:"
	tmux_screen | sed 's/^/# | /' >&2
	return 1
}

# tmux_gone RE [SECS]: waits until the screen no longer shows RE.
tmux_gone() {
	local re=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		tmux_screen | grep -Eq -- "$re" || return 0
		sleep 0.05
	done
	diag "screen still showed /$re/ after ${secs}s"
	return 1
}

# tmux_exited SECS: waits (SECS at most) until the program in the pane
# has left (the pane is dead: remain-on-exit); 0 unless it died by a
# signal or a non-zero status.  (tmux 3.3a sometimes marks the pane dead
# before it has the status: then it is empty.)
tmux_exited() {
	local i st
	for ((i = 0; i < $1 * 20; i++)); do
		st=$(tmux -L "$TMUX_SOCK" display -p '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}')
		case $st in 1:0:|1::) return 0 ;; 1:*) diag "the program ended: $st"; return 1 ;; esac
		sleep 0.05
	done
	diag "the program still runs after $1 s"
	return 1
}

# tmux_settle: waits (up to 5 s) until two captures 0.1 s apart agree, so a
# screen taken as a reference is not one caught in the middle of a redraw.
tmux_settle() {
	local a b
	a=$(tmux_screen)
	for _ in $(seq 50); do
		sleep 0.1; b=$(tmux_screen)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 1
}
tmux_resize() { tmux -L "$TMUX_SOCK" resize-window -x "$1" -y "$2"; }
