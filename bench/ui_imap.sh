#!/bin/bash
# The mail client on a BENCH_COUNT-message IMAP folder (default 100000, the
# mkcorpus maildir of bench/ui.sh) served over plain IMAP on 127.0.0.1 by
# `loft daemon` and by a private Dovecot, timed through tmux as bench/ui.sh
# times the local client (the screen polled every 20 ms until the status
# line says "Msgs:N"), side by side with neomutt (-f imap://..., header
# cache warm, imap_condstore=yes), peak RSS from /usr/bin/time:
#   - loft, empty cache: the first screen (the newest headers) and all rows;
#   - loft and neomutt, warm cache: the index with every row (best of 3);
#   - both again after one new message APPENDed on the server (best of 3
#     rounds, one new message each).
# Prints per server (loftd, dovecot):
#   bench: ui_imap_empty_SERVER first_screen S s all_rows S s rss M MB
#   bench: ui_imap_warm_SERVER S s vs neomutt S s ratio R
#   bench: ui_imap_rss_SERVER M MB vs neomutt M MB ratio R
#   bench: ui_imap_one_new_SERVER S s vs neomutt S s ratio R
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SHARED:=$TOP/../shared}"
: "${LOFT:=$TOP/build/loft}"
COUNT=${BENCH_COUNT:-100000}
TIME=/usr/bin/time

command -v tmux >/dev/null || { echo "bench: ui_imap skipped: tmux missing"; exit 0; }
command -v socat >/dev/null || { echo "bench: ui_imap skipped: socat missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: ui_imap skipped: $TIME missing (package time)"; exit 0; }
[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: ui_imap skipped: mkcorpus.py missing"; exit 0; }
command -v neomutt >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends neomutt >/dev/null 2>&1 || true

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"
COUNT=$(find "$CACHE/cur" "$CACHE/new" -type f | wc -l)

# Under /tmp: Dovecot's users must traverse it.
WORK=$(mktemp -d /tmp/loft-bench-uiimap.XXXXXX)
chmod 755 "$WORK"
SOCK=loft-bench-uiimap-$$
PIDS=()
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; bench_stop_all; rm -rf "$WORK"' EXIT
export HOME=$WORK/home LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"
unset TMUX
echo "== $COUNT messages"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
screen() { tmux -L "$SOCK" capture-pane -p 2>/dev/null; }
# wait_for REGEX: polls every 20 ms (120 s at most).
wait_for() {
	local i
	for ((i = 0; i < 6000; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.02
	done
	echo "bench: ui_imap: timed out waiting for /$1/" >&2
	screen | tail -3 >&2
	return 1
}
# run N CMD...: starts CMD in tmux; sets FIRST (to any row), ALL (to
# "Msgs:N") and RSS (MB, after q).
run() {
	local n=$1 t0; shift
	rm -f "$WORK/rss"
	t0=$(now)
	tmux -L "$SOCK" -f /dev/null new-session -d -x 120 -y 40 -e HOME="$HOME" \
		-e TERM=screen-256color -e LC_ALL=C.UTF-8 -e TZ=UTC \
		"$TIME" -f %M -o "$WORK/rss" "$@"
	wait_for 'Msgs:[1-9]'
	FIRST=$(since "$t0")
	wait_for "Msgs:$n( |\\])"
	ALL=$(since "$t0")
	tmux -L "$SOCK" send-keys q
	for ((i = 0; i < 500; i++)); do [ -s "$WORK/rss" ] && break; sleep 0.02; done
	tmux -L "$SOCK" kill-server 2>/dev/null
	RSS=$(awk '/^[0-9]+$/ { printf "%.1f", $1 / 1024 }' "$WORK/rss" 2>/dev/null)
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# imap PORT PYTHON: runs PYTHON with M logged in to the server, INBOX selected.
imap() {
	python3 - "$1" "$BENCH_PW" "$2" <<'PY'
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("bench", sys.argv[2])
M.select("INBOX")
exec(sys.argv[3])
M.logout()
PY
}
NEW_N=0
append_one() {	# PORT: one new message in INBOX
	NEW_N=$((NEW_N + 1))
	imap "$1" "M.append('INBOX', None, None, b'From: new@example.org\\r\\nSubject: one new $NEW_N\\r\\nMessage-ID: <new$NEW_N.$$@example.org>\\r\\n\\r\\nnew\\r\\n')"
}

# measure SERVER PORT: the figures for one server.
measure() {
	local srv=$1 port=$2 url rc=$WORK/client-$1.rc nrc=$WORK/muttrc-$1 n=$COUNT t0
	url="imap+insecure://bench@127.0.0.1:$port/INBOX"
	# The server's own first SELECT of the folder builds its state: not
	# the client's time.
	t0=$(now)
	imap "$port" "pass" || { echo "== $srv: cannot log in"; return 1; }
	echo "== $srv: first SELECT on the server $(since "$t0") s"
	printf 'set folder=%s/cmail-%s state_dir=%s/cstate-%s sort=threads\nset imap_password_command="echo %s"\n' \
		"$WORK" "$srv" "$WORK" "$srv" "$BENCH_PW" > "$rc"
	mkdir -p "$WORK/cmail-$srv"
	run "$n" "$LOFT" -F "$rc" -f "$url"
	echo "bench: ui_imap_empty_$srv first_screen $FIRST s all_rows $ALL s rss $RSS MB"
	local l_warm=99999 l_rss n_warm=99999 n_rss
	for _ in 1 2 3; do
		run "$n" "$LOFT" -F "$rc" -f "$url"
		l_warm=$(min "$l_warm" "$ALL") l_rss=$RSS
	done
	mkdir -p "$WORK/hcache-$srv"
	cat > "$nrc" <<RC
set folder=imap://bench@127.0.0.1:$port/
set imap_pass=$BENCH_PW
set ssl_starttls=no
set ssl_force_tls=no
set imap_condstore=yes
set imap_check_subscribed=no
set header_cache=$WORK/hcache-$srv/
set read_only=yes
set mark_old=no
set sort=threads
set wait_key=no
RC
	run "$n" neomutt -n -F "$nrc" -f "imap://bench@127.0.0.1:$port/INBOX"	# warms its cache
	for _ in 1 2 3; do
		run "$n" neomutt -n -F "$nrc" -f "imap://bench@127.0.0.1:$port/INBOX"
		n_warm=$(min "$n_warm" "$ALL") n_rss=$RSS
	done
	echo "bench: ui_imap_warm_$srv $l_warm s vs neomutt $n_warm s ratio $(ratio "$l_warm" "$n_warm")"
	echo "bench: ui_imap_rss_$srv $l_rss MB vs neomutt $n_rss MB ratio $(ratio "$l_rss" "$n_rss")"
	# One new message since each client's last open, three rounds (best
	# of 3, as the warm open; every round listed).
	local l_new=99999 n_new=99999 rounds=""
	for _ in 1 2 3; do
		append_one "$port"
		n=$((n + 1))
		run "$n" "$LOFT" -F "$rc" -f "$url"
		l_new=$(min "$l_new" "$ALL") rounds="$rounds loft $ALL"
		run "$n" neomutt -n -F "$nrc" -f "imap://bench@127.0.0.1:$port/INBOX"
		n_new=$(min "$n_new" "$ALL") rounds="$rounds neomutt $ALL;"
	done
	echo "== $srv: reopen after one new message, each round:$rounds"
	# The server's own share: one more new message, then a bare client's
	# connect, login and SELECT (imaplib) timed alone.
	append_one "$port"
	echo "== $srv: a bare connect + login + SELECT after one new message: $(python3 - "$port" "$BENCH_PW" <<'PY'
import imaplib, sys, time
t0 = time.monotonic()
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("bench", sys.argv[2])
M.select("INBOX")
print("%.3f s" % (time.monotonic() - t0))
M.logout()
PY
)"
	echo "bench: ui_imap_one_new_$srv $l_new s vs neomutt $n_new s ratio $(ratio "$l_new" "$n_new")"
}

bench_warm "$CACHE"
if bench_loft_imap "$WORK/loftd" "$CACHE"; then
	measure loftd "$LPORT"
else
	echo "== loft daemon did not start: $(head -3 "$WORK/loftd/daemon.log")"
fi
bench_stop_all
if bench_dovecot_imap "$WORK/dovecot" "$CACHE" > "$WORK/why"; then
	measure dovecot "$DPORT"
else
	echo "== dovecot skipped: $(cat "$WORK/why")"
fi
uptime
