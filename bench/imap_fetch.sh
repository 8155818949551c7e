#!/bin/bash
# SELECT + `UID FETCH 1:* (UID FLAGS)` on the cached corpus folder
# (bench/lib.sh, mkcorpus --seed 7, BENCH_COUNT messages, default 100000)
# as INBOX: `loft imapd` driven over a pipe (peak RSS by /usr/bin/time -f %M
# on it) beside a private Dovecot (maildir, ssl = no, 127.0.0.1; peak RSS the
# VmHWM of its imap process) on a hard-linked copy of the same maildir.
# Both are warmed first (two sessions: loft builds its state, Dovecot its
# index and cache), then BENCH_IMAP_FETCH_RUNS runs (default 3), best time
# and highest RSS:
#   bench: imap_select_fetch S s vs dovecot S s ratio R
#   bench: imap_select_fetch_rss M MB vs dovecot M MB ratio R
# Goal (issue 11): under 0.3 s and under 64 MB per session.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
COUNT=${BENCH_COUNT:-100000}
RUNS=${BENCH_IMAP_FETCH_RUNS:-3}
TIME=/usr/bin/time
PY=$TOP/bench/imap_fetch.py

[ -x "$LOFT" ] || { echo "bench: imap_fetch skipped: $LOFT missing (make first)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: imap_fetch skipped: python3 missing"; exit 0; }
[ -x "$TIME" ] || { echo "bench: imap_fetch skipped: $TIME missing (package time)"; exit 0; }
[ -f "$TOP/build/bench/maildir-$COUNT-seed7/.complete" ] || [ -f "$SHARED/corpus/mkcorpus.py" ] ||
	{ echo "bench: imap_fetch skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }

. "$TOP/bench/lib.sh"
bench_corpus "$COUNT"

WORK=$(mktemp -d /tmp/loft-bench-imapfetch.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
ratio() { python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f" % (a/b if b else 0))' "$1" "$2"; }
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
# A copy of the corpus that renames and state files cannot reach: new
# directories, the message files hard links (neither server writes into a
# message file).
copy_maildir() { cp -al "$1" "$2" && rm -f "$2/.complete"; }
bench_warm "$CACHE"

# --- loft -------------------------------------------------------------------
L=$WORK/loft
mkdir -p "$L/Mail"
copy_maildir "$CACHE" "$L/Mail/INBOX" || { echo "bench: imap_fetch: copy failed"; exit 1; }
printf 'set folder=%s/Mail log_level=error\n' "$L" > "$L/mailrc"
IMAPD=("$LOFT" -F "$L/mailrc" imapd)
# Two warm-up sessions each: the first builds the state (Dovecot: its
# index), the second what the first left (Dovecot: its cache file).
python3 "$PY" pipe "${IMAPD[@]}" > "$L/warm" && python3 "$PY" pipe "${IMAPD[@]}" > /dev/null ||
	{ echo "bench: imap_fetch: loft failed"; exit 1; }
echo "== loft: $(val fetched "$L/warm") messages fetched (warm-up, state built: $(val time "$L/warm") s)"
for i in $(seq "$RUNS"); do
	python3 "$PY" pipe "$TIME" -f %M -o "$L/rss.$i" "${IMAPD[@]}" > "$L/run.$i" ||
		{ echo "bench: imap_fetch: loft run failed"; exit 1; }
	echo "== loft run $i: $(val time "$L/run.$i") s (SELECT $(val select "$L/run.$i") s), $(tail -1 "$L/rss.$i") KB"
done
loft_s=$(cat "$L"/run.* | awk '$1 == "time" {print $2}' | sort -n | head -1)
loft_kb=$(tail -qn1 "$L"/rss.* | sort -n | tail -1)

# --- Dovecot ----------------------------------------------------------------
D=$WORK/dovecot
dc_s= dc_kb=
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ]; then
	echo "bench: imap_fetch: dovecot skipped: dovecot-imapd is not installed"
elif ! id mail >/dev/null 2>&1; then
	echo "bench: imap_fetch: dovecot skipped: no 'mail' user to run it as"
else
	DPORT=$(bench_free_port)
	mkdir -p "$D"
	copy_maildir "$CACHE" "$D/Maildir"
	mkdir -p "$D/run/state" "$D/home"
	find "$D/Maildir" "$D/home" -type d -exec chown mail:mail {} +
	echo "bench:{PLAIN}bench-password-1" > "$D/passwd"
	cat > "$D/dovecot.conf" <<EOC
base_dir = $D/run
state_dir = $D/run/state
log_path = $D/dovecot.log
info_log_path = /dev/null
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $(id -u mail)
mail_location = maildir:$D/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$D/home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DPORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOC
	dovecot -F -c "$D/dovecot.conf" 2>> "$D/dovecot.log" &
	DPID=$!
	PIDS+=($DPID)
	if ! bench_wait_port "$DPORT"; then
		echo "bench: imap_fetch: dovecot skipped: it did not start: $(tail -3 "$D/dovecot.log")"
	elif ! python3 "$PY" tcp 127.0.0.1 "$DPORT" bench bench-password-1 "$DPID" > "$D/warm" ||
		! python3 "$PY" tcp 127.0.0.1 "$DPORT" bench bench-password-1 "$DPID" > /dev/null; then
		echo "bench: imap_fetch: dovecot failed: $(tail -3 "$D/dovecot.log")"
	else
		echo "== dovecot: $(val fetched "$D/warm") messages fetched (warm-up, index built: $(val time "$D/warm") s)"
		for i in $(seq "$RUNS"); do
			python3 "$PY" tcp 127.0.0.1 "$DPORT" bench bench-password-1 "$DPID" > "$D/run.$i" || break
			echo "== dovecot run $i: $(val time "$D/run.$i") s (SELECT $(val select "$D/run.$i") s), $(val rss "$D/run.$i") KB"
		done
		dc_s=$(cat "$D"/run.* | awk '$1 == "time" {print $2}' | sort -n | head -1)
		dc_kb=$(cat "$D"/run.* | awk '$1 == "rss" {print $2}' | sort -n | tail -1)
	fi
fi

# --- report -----------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
if [ -n "$dc_s" ]; then
	echo "bench: imap_select_fetch $loft_s s vs dovecot $dc_s s ratio $(ratio "$loft_s" "$dc_s")"
	echo "bench: imap_select_fetch_rss $(mb "$loft_kb") MB vs dovecot $(mb "$dc_kb") MB ratio $(ratio "$loft_kb" "$dc_kb")"
else
	echo "bench: imap_select_fetch $loft_s s (dovecot not measured)"
	echo "bench: imap_select_fetch_rss $(mb "$loft_kb") MB (dovecot not measured)"
fi
