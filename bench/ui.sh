#!/bin/bash
# The mail client's first screen, End and a 4 MB message, timed through
# tmux side by side with mutt and neomutt, plus peak RSS.
#
# A client is started in a private tmux server on the cached maildir
# (mkcorpus.py --seed 7, BENCH_COUNT messages, default 100000; shared with
# bench/open.sh and bench/index.sh); the screen is polled every 20 ms until
# the status line says "Msgs:COUNT" (first screen), then End until the last
# row number shows (End), then q; peak RSS comes from /usr/bin/time around
# the client.  The 4 MB message (the corpus's biggest file) is opened from
# a one-message maildir: Enter, until the index's status line is gone.
# Each peer runs once first to warm its header cache; loft "with state"
# the same (its close keeps the folder's snapshot and threads in the state,
# which the measured runs copy back); "no state" starts on an empty state
# directory every time.
# loft's first open of a big folder shows the rows by arrival while it
# reads the headers ("Threading..." on the message line): the no-state run
# also times until the threads are in, and its peak RSS covers that, so
# the runs "with state" start from a complete state.
# Prints:
#   bench: ui_first_screen S s vs mutt S s ratio R   (ratio to the faster peer)
#   bench: ui_first_screen_nostate S s threads S s rss M MB
#   bench: ui_end S s vs mutt S s ratio R
#   bench: ui_open_4mb S s vs mutt S s ratio R
#   bench: ui_rss M MB vs mutt M MB ratio R
#   bench: ui_peer NAME first_screen S s end S s open_4mb S s rss M MB
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SHARED:=$TOP/../shared}"
: "${LOFT:=$TOP/build/loft}"
COUNT=${BENCH_COUNT:-100000}
TIME=/usr/bin/time

command -v tmux >/dev/null || { echo "bench: ui skipped: tmux missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: ui skipped: $TIME missing (package time)"; exit 0; }
[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: ui skipped: mkcorpus.py missing"; exit 0; }
if ! command -v mutt >/dev/null || ! command -v neomutt >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mutt neomutt >/dev/null 2>&1 || true
fi

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"
COUNT=$(find "$CACHE/cur" "$CACHE/new" -type f | wc -l)

WORK=$(mktemp -d "$TOP/build/bench/ui.XXXXXX")
SOCK=loft-bench-$$
# (set -e applies in the trap too: the server is usually gone already.)
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
export HOME=$WORK/home LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"
unset TMUX

# The biggest message alone in a maildir of its own.
BIG=$(find "$CACHE/cur" "$CACHE/new" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
mkdir -p "$WORK/big/cur" "$WORK/big/new" "$WORK/big/tmp"
cp "$BIG" "$WORK/big/cur/"
echo "== $COUNT messages; biggest $(stat -c %s "$BIG") bytes"

find "$CACHE" -type f -exec cat {} + > /dev/null	# page cache warm for everyone

now() { date +%s.%N; }
screen() { tmux -L "$SOCK" capture-pane -p 2>/dev/null; }
# wait_for REGEX [absent]: polls every 20 ms (60 s at most).
wait_for() {
	local i
	for ((i = 0; i < 3000; i++)); do
		if [ "${2:-}" = absent ]; then screen | grep -Eq -- "$1" || return 0
		else screen | grep -Eq -- "$1" && return 0; fi
		sleep 0.02
	done
	echo "bench: ui: timed out waiting for /$1/" >&2
	screen | tail -3 >&2
	return 1
}

# run_client NAME MAILBOX CMD...: sets FIRST, END (or "-" when MAILBOX is
# the big one: then OPEN) and RSS (MB).
run_client() {
	local name=$1 box=$2; shift 2
	local t0 t1 n=$COUNT
	[ "$box" = big ] && n=1
	rm -f "$WORK/rss"
	t0=$(now)
	tmux -L "$SOCK" -f /dev/null new-session -d -x 120 -y 40 -e HOME="$HOME" \
		-e TERM=screen-256color -e LC_ALL=C.UTF-8 \
		"$TIME" -f %M -o "$WORK/rss" "$@"
	wait_for "Msgs:$n( |\\])"
	t1=$(now)
	FIRST=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	if [ -n "${WAIT_THREADS:-}" ]; then
		wait_for "Threading" absent
		THREADS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
	fi
	if [ "$box" = big ]; then
		t0=$(now)
		tmux -L "$SOCK" send-keys Enter
		wait_for "Msgs:1( |\\])" absent
		t1=$(now)
		OPEN=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		tmux -L "$SOCK" send-keys q
		sleep 0.3
	else
		t0=$(now)
		tmux -L "$SOCK" send-keys End
		wait_for "^ *$n "
		t1=$(now)
		END=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	fi
	tmux -L "$SOCK" send-keys q
	for ((i = 0; i < 500; i++)); do [ -s "$WORK/rss" ] && break; sleep 0.02; done
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	RSS=$(awk '/^[0-9]+$/ { printf "%.1f", $1 / 1024 }' "$WORK/rss" 2>/dev/null)
}

# ---- loft ----
printf 'set folder=%s/Mail\nset state_dir=%s/state\nset sort=threads\n' "$WORK" "$WORK" > "$WORK/mailrc"
# -R opens no store it would have to create: the root must exist.
mkdir -p "$WORK/Mail"
LOFTCMD=("$LOFT" -F "$WORK/mailrc" -R)
rm -rf "$WORK/state"
WAIT_THREADS=1 run_client loft all "${LOFTCMD[@]}" -f "$CACHE"
nostate=$FIRST nostate_threads=$THREADS nostate_rss=$RSS
run_client loft all "${LOFTCMD[@]}" -f "$CACHE"	# warm
best_first=99999 best_end=99999 rss=0
for i in 1 2 3; do
	run_client loft all "${LOFTCMD[@]}" -f "$CACHE"
	best_first=$(awk -v a="$best_first" -v b="$FIRST" 'BEGIN { print (b < a ? b : a) }')
	best_end=$(awk -v a="$best_end" -v b="$END" 'BEGIN { print (b < a ? b : a) }')
	rss=$RSS
done
run_client loft big "${LOFTCMD[@]}" -f "$WORK/big"
run_client loft big "${LOFTCMD[@]}" -f "$WORK/big"
loft_open=$OPEN
loft_first=$best_first loft_end=$best_end loft_rss=$rss

# ---- mutt and neomutt ----
peer() {	# NAME BINARY: sets P_FIRST P_END P_OPEN P_RSS
	local name=$1 bin=$2 rc=$WORK/muttrc-$1
	command -v "$bin" >/dev/null || { P_FIRST=; return; }
	mkdir -p "$WORK/hcache-$name"
	cat > "$rc" <<RC
set folder=$WORK
set spoolfile=$CACHE
set read_only=yes
set mark_old=no
set header_cache=$WORK/hcache-$name/
set sort=threads
set check_new=no
set wait_key=no
RC
	run_client "$name" all "$bin" -n -F "$rc" -f "$CACHE"	# warm the header cache
	P_FIRST=99999 P_END=99999
	for i in 1 2 3; do
		run_client "$name" all "$bin" -n -F "$rc" -f "$CACHE"
		P_FIRST=$(awk -v a="$P_FIRST" -v b="$FIRST" 'BEGIN { print (b < a ? b : a) }')
		P_END=$(awk -v a="$P_END" -v b="$END" 'BEGIN { print (b < a ? b : a) }')
		P_RSS=$RSS
	done
	run_client "$name" big "$bin" -n -F "$rc" -f "$WORK/big"
	run_client "$name" big "$bin" -n -F "$rc" -f "$WORK/big"
	P_OPEN=$OPEN
	echo "bench: ui_peer $name first_screen $P_FIRST s end $P_END s open_4mb $P_OPEN s rss $P_RSS MB"
}
peer mutt mutt
m_first=${P_FIRST:-} m_end=${P_END:-} m_open=${P_OPEN:-} m_rss=${P_RSS:-}
peer neomutt neomutt
n_first=${P_FIRST:-} n_end=${P_END:-} n_open=${P_OPEN:-} n_rss=${P_RSS:-}

# The faster peer of the two (by first screen) is the reference.
ref=mutt r_first=$m_first r_end=$m_end r_open=$m_open r_rss=$m_rss
if [ -n "$n_first" ] && { [ -z "$m_first" ] || awk -v a="$n_first" -v b="$m_first" 'BEGIN { exit !(a < b) }'; }; then
	ref=neomutt r_first=$n_first r_end=$n_end r_open=$n_open r_rss=$n_rss
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "bench: ui_first_screen $loft_first s vs $ref $r_first s ratio $(ratio "$loft_first" "$r_first")"
echo "bench: ui_first_screen_nostate $nostate s threads $nostate_threads s rss $nostate_rss MB"
echo "bench: ui_end $loft_end s vs $ref $r_end s ratio $(ratio "$loft_end" "$r_end")"
echo "bench: ui_open_4mb $loft_open s vs $ref $r_open s ratio $(ratio "$loft_open" "$r_open")"
echo "bench: ui_rss $loft_rss MB vs $ref $r_rss MB ratio $(ratio "$loft_rss" "$r_rss")"
