#!/bin/bash
# loft sync (mirror) vs mbsync (isync; COMPRESS off: Dovecot's is a plugin
# left off) vs offlineimap3, against one private Dovecot whose INBOX is a
# copy of the mkcorpus maildir, plain IMAP on 127.0.0.1:
#   - a full sync of 2,000 messages into an empty store; for the peers
#     `notmuch new` on their result is added, since loft's time includes
#     indexing the new mail;
#   - the same with BENCH_COUNT messages (default 100000); offlineimap3 is
#     left out there unless BENCH_SYNC_OFFLINEIMAP_BIG=1 (it needs minutes);
#     BENCH_COUNT=0 stops after the 2,000;
#   - a no-op resync of that folder (nothing changed on either side);
#   - an incremental sync after 50 new messages and 100 flag changes on
#     the server.
# mbsync keeps its default FSync yes: loft fsyncs every message too.
# Each time is one run (wall time) with its peak RSS.  Prints
# `bench: sync_NAME LOFT s vs PEER P s ratio R` and `bench: sync_NAME_rss
# LOFT MB vs PEER P MB ratio R` lines, and checks every message came over.
# Dovecot runs in its documented high-performance mode (both tools log in
# to it alike; tests/dovecot_instance.sh); DOVECOT_PERFORMANCE= (empty)
# keeps its defaults, a new login and imap process per connection.
# BENCH_SYNC_KEEP=DIR (a new or kept directory under /tmp): the set-up of
# the big folder (Dovecot, loft's and mbsync's synced stores) is made in
# DIR and kept; a later run with the same DIR skips the full syncs and
# times only the no-op and incremental syncs again, on that set-up.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
BIG=${BENCH_COUNT:-100000}

[ -x "$LOFT" ] || { echo "bench: sync skipped: $LOFT missing (make first)"; exit 1; }
[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: sync skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
command -v socat >/dev/null || { echo "bench: sync skipped: socat missing"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench: sync skipped: a private Dovecot needs root here"; exit 0; }
. "$TOP/bench/lib.sh"

KEEP=${BENCH_SYNC_KEEP:-}
case $KEEP in
'') WORK=$(mktemp -d /tmp/loft-bench-sync.XXXXXX) ;;
/tmp/?*) WORK=$KEEP; mkdir -p "$WORK" ;;
*) echo "bench: sync: BENCH_SYNC_KEEP must be a directory under /tmp"; exit 1 ;;
esac
chmod 755 "$WORK"
PIDS=()
trap 'bench_stop_all; [ -z "$KEEP" ] && case $WORK in /tmp/loft-bench-sync.*) rm -rf "$WORK" ;; esac' EXIT

# timed NAME CMD...: runs CMD; sets T (wall seconds) and RSS (peak MB of
# the biggest process it ran); fails when CMD does.
timed() {
	local name=$1 out
	shift
	out=$(python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
t0 = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
t = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print('%d %.3f %.1f' % (r.returncode, t, rss))
EOF
	) || return 1
	set -- $out
	T=$2 RSS=$3
	[ "$1" = 0 ] || { echo "== $name failed (exit $1)"; return 1; }
}

# pair NAME LOFT_T LOFT_RSS PEER PEER_T PEER_RSS: the two bench lines.
pair() {
	echo "bench: sync_$1 $2 s vs $4 $5 s ratio $(bench_ratio "$2" "$5")"
	echo "bench: sync_$1_rss $3 MB vs $4 $6 MB ratio $(bench_ratio "$3" "$6")"
}
count() { find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l; }

# loft_rc DIR: a mailrc mirroring the bench account's INBOX into DIR/Mail.
loft_rc() {
	mkdir -p "$1/Mail"
	cat > "$1/mailrc" <<EOR
set folder=$1/Mail imap_listen= log_level=error
account dv {
  set imap_url=imap+insecure://bench@127.0.0.1:$DPORT/INBOX
  set imap_password_command='echo $BENCH_PW' sync=mirror sync_folders=INBOX
}
EOR
}
mbsync_rc() {
	cat > "$1/mbsyncrc" <<EOR
IMAPAccount far
Host 127.0.0.1
Port $DPORT
User bench
Pass $BENCH_PW
SSLType None
AuthMechs LOGIN

IMAPStore far
Account far

MaildirStore near
Path $1/Mail/
Inbox $1/Mail/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync All
SyncState *
EOR
	printf '[database]\npath=%s/Mail\n[new]\ntags=unread;inbox;\n[maildir]\nsynchronize_flags=true\n' \
		"$1" > "$1/notmuchrc"
}
offlineimap_rc() {
	cat > "$1/offlineimaprc" <<EOR
[general]
accounts = b
metadata = $1/meta
[Account b]
localrepository = l
remoterepository = r
[Repository l]
type = Maildir
localfolders = $1/Mail
[Repository r]
type = IMAP
remotehost = 127.0.0.1
remoteport = $DPORT
remoteuser = bench
remotepass = $BENCH_PW
ssl = no
starttls = no
folderfilter = lambda f: f == 'INBOX'
EOR
	printf '[database]\npath=%s/Mail\n[new]\ntags=unread;inbox;\n' "$1" > "$1/notmuchrc"
}

# full N: Dovecot on a fresh copy of the N-message corpus, then each tool's
# first sync into an empty store; sets the L_*/M_*/O_* figures.
full() {
	local n=$1 t rss
	bench_corpus "$n"
	bench_warm "$CACHE"
	rm -rf "$WORK/dv"
	mkdir -p "$WORK/dv"
	bench_dovecot_imap "$WORK/dv" "$CACHE" > "$WORK/why" ||
		{ echo "bench: sync skipped: Dovecot: $(cat "$WORK/why")"; exit 0; }
	# Dovecot indexes the folder on its first SELECT: not anyone's cost.
	python3 -c "import imaplib,sys; m=imaplib.IMAP4('127.0.0.1',$DPORT); m.login('bench','$BENCH_PW'); m.select('INBOX'); m.logout()"

	rm -rf "$WORK/loft"
	loft_rc "$WORK/loft"
	timed loft "$LOFT" -F "$WORK/loft/mailrc" sync || return 1
	L_full=$T L_full_rss=$RSS
	# Shown at once: at 100,000 the peers' part takes longer than loft's.
	echo "== loft full sync of $n: $T s, $RSS MB ($(uptime | sed 's/.*average: /load /'))"
	[ "$(count "$WORK/loft/Mail/INBOX")" = "$n" ] || echo "== loft: $(count "$WORK/loft/Mail/INBOX") of $n messages"

	rm -rf "$WORK/mbsync"
	mkdir -p "$WORK/mbsync/Mail"
	mbsync_rc "$WORK/mbsync"
	if command -v mbsync >/dev/null; then
		timed mbsync env HOME="$WORK/mbsync" mbsync -q -c "$WORK/mbsync/mbsyncrc" c && t=$T rss=$RSS &&
			timed notmuch notmuch_new_cmd "$WORK/mbsync" &&
			M_full=$(python3 -c "print('%.3f' % ($t + $T))") M_full_rss=$(python3 -c "print(max($rss, $RSS))")
		[ "$(count "$WORK/mbsync/Mail/INBOX")" = "$n" ] || echo "== mbsync: $(count "$WORK/mbsync/Mail/INBOX") of $n messages"
	fi
	O_full=
	if command -v offlineimap >/dev/null && { [ "$n" -le 2000 ] || [ "${BENCH_SYNC_OFFLINEIMAP_BIG:-0}" = 1 ]; }; then
		rm -rf "$WORK/oi"
		mkdir -p "$WORK/oi/Mail"
		offlineimap_rc "$WORK/oi"
		timed offlineimap offlineimap -u quiet -c "$WORK/oi/offlineimaprc" && t=$T rss=$RSS &&
			timed notmuch notmuch_new_cmd "$WORK/oi" &&
			O_full=$(python3 -c "print('%.3f' % ($t + $T))") O_full_rss=$(python3 -c "print(max($rss, $RSS))")
		[ "$(count "$WORK/oi/Mail/INBOX")" = "$n" ] || echo "== offlineimap: $(count "$WORK/oi/Mail/INBOX") of $n messages"
	fi
}

# notmuch new on DIR/Mail through a script (timed runs a command line).
printf '#!/bin/sh\nNOTMUCH_CONFIG=$1/notmuchrc exec notmuch new --quiet\n' > "$WORK/notmuch_new_cmd"
chmod +x "$WORK/notmuch_new_cmd"
PATH=$WORK:$PATH

echo "== settings: loft sync: every file fsynced before its state commit, one directory fsync per batch, notmuch indexing (in a child beside the download, Xapian flushing its buffer every 100 documents) included"
echo "== settings: notmuch new keeps its own defaults (Xapian's flush threshold 10,000) unless XAPIAN_FLUSH_THRESHOLD is set: ${XAPIAN_FLUSH_THRESHOLD:-unset}"
echo "== settings: mbsync $(mbsync --version 2>/dev/null): FSync yes (its default), no COMPRESS (this Dovecot offers none), then notmuch new (synchronize_flags=true)"
echo "== settings: offlineimap3: its defaults (fsync on), then notmuch new"
export DOVECOT_PERFORMANCE=${DOVECOT_PERFORMANCE-1}
if [ -n "$DOVECOT_PERFORMANCE" ]; then
	echo "== settings: Dovecot $(dovecot --version | cut -d' ' -f1): high-performance mode (service imap-login: service_count = 0, process_min_avail = 1; service imap: process_min_avail = 1), logins checked against a yescrypt hash as loft's"
else
	echo "== settings: Dovecot $(dovecot --version | cut -d' ' -f1): its defaults (a new login and imap process per connection), logins checked against a yescrypt hash as loft's"
fi
if [ -n "$KEEP" ] && [ -f "$WORK/ready" ]; then
	echo "== reusing the set-up of $(cat "$WORK/ready") messages in $WORK (BENCH_SYNC_KEEP)"
	BIG=$(cat "$WORK/ready")
	DPORT=$(bench_free_port)
	DPID=$(bash "$TOP/tests/dovecot_instance.sh" start "$WORK/dv" "$DPORT") ||
		{ echo "bench: sync: the kept Dovecot did not start"; exit 1; }
	PIDS+=("$DPID")
	loft_rc "$WORK/loft"
	mbsync_rc "$WORK/mbsync"
else
[ -n "$KEEP" ] || {
full 2000
pair full_2000 "$L_full" "$L_full_rss" mbsync+notmuch "${M_full:-0}" "${M_full_rss:-0}"
[ -n "$O_full" ] && pair full_2000 "$L_full" "$L_full_rss" offlineimap+notmuch "$O_full" "$O_full_rss"

}
[ "$BIG" = 0 ] && exit 0
full "$BIG"
pair "full_$BIG" "$L_full" "$L_full_rss" mbsync+notmuch "${M_full:-0}" "${M_full_rss:-0}"
[ -n "$O_full" ] && pair "full_$BIG" "$L_full" "$L_full_rss" offlineimap+notmuch "$O_full" "$O_full_rss" ||
	echo "== offlineimap at $BIG skipped: minutes per run (BENCH_SYNC_OFFLINEIMAP_BIG=1 runs it)"
[ -n "$KEEP" ] && echo "$BIG" > "$WORK/ready"
fi

# The first resync after a full one records the store's own appends (their
# MODSEQs); the no-op is the one after it.
"$LOFT" -F "$WORK/loft/mailrc" sync > /dev/null
# What a login alone costs here (both tools pay it once per run).
python3 - "$DPORT" "$BENCH_PW" <<'EOF'
import base64, socket, statistics, sys, time
v = []
for _ in range(5):
    t = time.monotonic()
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    f = s.makefile('rb')
    f.readline()
    s.sendall(b'a AUTHENTICATE PLAIN ' + base64.b64encode(b'\0bench\0' + sys.argv[2].encode()) + b'\r\n')
    assert f.readline().startswith(b'a OK')
    s.sendall(b'b LOGOUT\r\n')
    while not f.readline().startswith(b'b '):
        pass
    s.close()
    v.append(time.monotonic() - t)
print('== a login alone (connect, greeting, AUTHENTICATE PLAIN, LOGOUT): median %.3f s of 5, min %.3f' % (statistics.median(v), min(v)))
EOF
echo "== load: $(uptime)"
timed loft "$LOFT" -F "$WORK/loft/mailrc" sync && L_noop=$T L_noop_rss=$RSS
timed mbsync env HOME="$WORK/mbsync" mbsync -q -c "$WORK/mbsync/mbsyncrc" c && M_noop=$T M_noop_rss=$RSS
pair "noop_$BIG" "$L_noop" "$L_noop_rss" mbsync "$M_noop" "$M_noop_rss"

# 50 new messages and 100 flag changes on the server (run R of a kept
# set-up: new Message-IDs, the flags of other messages).
R=$(( $(cat "$WORK/runs" 2>/dev/null || echo 0) + 1 ))
echo "$R" > "$WORK/runs"
python3 - "$DPORT" "$BENCH_PW" "$R" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bench', sys.argv[2])
m.select('INBOX')
r = int(sys.argv[3])
for i in range(50):
    m.append('INBOX', None, None, ('From: b@example.org\r\nSubject: new %d\r\n'
             'Message-ID: <bench-new.%d.%d@example.org>\r\n\r\nbody %d\r\n' % (i, r, i, i)).encode())
typ, data = m.uid('SEARCH', None, 'ALL')
uids = data[0].split()
for u in uids[200 * (r - 1):200 * r:2]:
    m.uid('STORE', u, '+FLAGS.SILENT', '(\\Flagged)')
m.logout()
EOF
timed loft "$LOFT" -F "$WORK/loft/mailrc" sync && L_inc=$T L_inc_rss=$RSS
timed mbsync env HOME="$WORK/mbsync" mbsync -q -c "$WORK/mbsync/mbsyncrc" c && t=$T rss=$RSS &&
	timed notmuch notmuch_new_cmd "$WORK/mbsync" &&
	M_inc=$(python3 -c "print('%.3f' % ($t + $T))") M_inc_rss=$(python3 -c "print(max($rss, $RSS))")
pair "incremental_$BIG" "$L_inc" "$L_inc_rss" mbsync+notmuch "$M_inc" "$M_inc_rss"
n=$((BIG + 50 * R))
[ "$(count "$WORK/loft/Mail/INBOX")" = "$n" ] || echo "== loft: $(count "$WORK/loft/Mail/INBOX") of $n messages after the incremental sync"

# The push latency of the daemon's sync task (issue 13 item 4).
[ -n "$KEEP" ] && { echo "== sync_push skipped with BENCH_SYNC_KEEP"; exit 0; }
bash "$TOP/bench/sync_push.sh"
