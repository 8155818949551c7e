#!/bin/bash
# `loft deliver`, one process per message into a maildir, beside procmail,
# maildrop and dovecot-lda doing the same, and beside the raw floor of the
# same disk.  BENCH_DELIVER messages (default 2000) from mkcorpus.py --seed 7,
# cached in build/bench/maildir-N-seed7 (the files of cur/ and new/).
#
# Every deliverer gets its own fresh maildir and is fed each message on stdin
# by one bash loop (one process per message, as an MTA's mailbox_command
# would).  As root, everything runs as `nobody` (setpriv) in directories
# owned by it: dovecot-lda run as root insists on -d user, and procmail and
# maildrop change behaviour under root.  Peers missing here are installed
# with apt-get when running as root (dovecot-lda comes with dovecot-core);
# one that cannot be had is skipped with a reason.
#
# Configurations, all minimal:
#   loft          its own mailrc: `folder` in a fresh directory, no Sieve
#                 script; measured twice: default (index_on_delivery: deliver
#                 does not open notmuch, it marks the index as behind and the
#                 next `loft search`/`index` indexes what arrived; that one
#                 `loft index` is timed after the run, as deliver_loft_catchup)
#                 and `set noindex_on_delivery` (no mark).  It fsyncs the file
#                 AND the directory.
#   procmail      rcfile with DEFAULT=DIR/ (maildir), no LOCKFILE, no log.
#   maildrop      mailfilter with DEFAULT="DIR".
#   dovecot-lda   throwaway -c dovecot.conf: mail_location=maildir:DIR:INDEX=MEMORY
#                 (its index cache stays in memory: no index files written;
#                 dovecot-uidlist is part of its maildir format and is still
#                 written), info log to /dev/null, default mail_fsync.
# procmail, maildrop and dovecot-lda fsync the message file but not the
# directory (strace: one fsync, then link/rename).
#
# The floor is the raw system calls in ONE process, no exec per message
# (bench/floor_deliver.c, built here with cc): read the message, open tmp/X,
# write, fsync, close, rename to new/X.  The disk is shared with the rest of
# the machine and its speed drifts, so the floor runs 3 times at the start and
# once right before each deliverer: each deliverer's share is taken against
# the floor run just before it, deliver_floor is the median of all runs (the
# spread is printed as a == line).  Also printed, for
# reading the figures: the same with an fsync of new/ after every rename
# (deliver_floor_dirsync, what loft's durability costs at the floor), and
# the bare cost of one process per message (deliver_spawn: the same bash
# loop running /bin/true on each message, no disk writes).
#
# After each run the maildir must hold exactly N messages in new/ + cur/ and
# nothing in tmp/, or the bench fails.  Prints:
#   bench: deliver_floor F msg/s
#   bench: deliver_floor_dirsync F msg/s
#   bench: deliver_spawn S msg/s
#   bench: deliver_loft L msg/s vs PEER P msg/s ratio L/P        (per peer)
#   bench: deliver_loft_noindex L msg/s vs PEER P msg/s ratio L/P (per peer)
#   bench: deliver_loft_catchup T s  (the one `loft index` after the run)
#   bench: deliver_NAME_share X of floor   (loft, loft_noindex, and each peer;
#                                           against the floor run just before it)
#   bench: deliver_PEER skipped: REASON
set -eu
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${SHARED:=$TOP/../shared}"
N=${BENCH_DELIVER:-2000}
DOVECOT_LDA=/usr/lib/dovecot/dovecot-lda

[ -f "$SHARED/corpus/mkcorpus.py" ] || { echo "bench: deliver skipped: $SHARED/corpus/mkcorpus.py missing"; exit 0; }
[ -x "$LOFT" ] || { echo "bench: deliver skipped: $LOFT missing (make first)"; exit 1; }
command -v cc >/dev/null || { echo "bench: deliver skipped: no cc for the floor"; exit 0; }

. "$TOP/bench/lib.sh"
bench_corpus "$N"

# --- the peers: install what is missing (root only) ------------------------
declare -A SKIP=()
want=()
command -v procmail >/dev/null || want+=(procmail)
command -v maildrop >/dev/null || want+=(maildrop)
[ -x "$DOVECOT_LDA" ] || want+=(dovecot-core)
if [ ${#want[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing ${want[*]} with apt-get (peers for this bench)"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
			--no-install-recommends "${want[@]}" > "$TOP/build/bench/deliver-apt.log" 2>&1 ||
			echo "== apt-get failed (see build/bench/deliver-apt.log)"
	fi
	command -v procmail >/dev/null || SKIP[procmail]="procmail not installed and apt-get could not install it"
	command -v maildrop >/dev/null || SKIP[maildrop]="maildrop not installed and apt-get could not install it"
	[ -x "$DOVECOT_LDA" ] || SKIP[dovecot-lda]="$DOVECOT_LDA missing (package dovecot-core) and apt-get could not install it"
fi

# --- who runs it -------------------------------------------------------------
WORK=$(mktemp -d "$TOP/build/bench/deliver.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
if [ "$(id -u)" = 0 ]; then
	BUSER=nobody
	BGROUP=$(id -gn nobody)
	RUNAS=(setpriv --reuid="$BUSER" --regid="$BGROUP" --clear-groups)
else
	BUSER=$(id -un)
	BGROUP=$(id -gn)
	RUNAS=()
fi
echo "== delivering as $BUSER:$BGROUP in $WORK"

find "$CACHE" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print |
	sort > "$WORK/list"
files=$(wc -l < "$WORK/list")
[ "$files" -eq "$N" ] || { echo "bench: deliver: $CACHE holds $files messages, not $N"; exit 1; }
# Warm the page cache: every deliverer reads the same files.
bench_warm "$CACHE"

cc -O2 -o "$TOP/build/bench/floor_deliver" "$TOP/bench/floor_deliver.c"

# The loop every deliverer runs under: one process per message, stdin = message.
cat > "$WORK/loop.sh" <<'EOF'
list=$1; shift
n=0
while IFS= read -r f; do
	"$@" < "$f" || { echo "delivery $n failed (exit $?): $f" >&2; exit 1; }
	n=$((n + 1))
done < "$list"
EOF

mkmaildir() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
# own: hand the work tree to the bench user
own() { [ "$(id -u)" != 0 ] || chown -R "$BUSER:$BGROUP" "$WORK"; }
# asuser HOME CMD...: CMD as the bench user, with a clean environment
asuser() {
	local home=$1; shift
	"${RUNAS[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$BUSER" \
		LOGNAME="$BUSER" LANG=C.UTF-8 "$@"
}
rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.1f", n / (t > 0 ? t : 1e-6) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
share() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

# check NAME MAILDIR: exactly N messages in new/ + cur/, tmp/ empty
check() {
	local got left
	got=$(find "$2/new" "$2/cur" -type f | wc -l)
	left=$(find "$2/tmp" -type f | wc -l)
	if [ "$got" -ne "$N" ] || [ "$left" -ne 0 ]; then
		echo "bench: deliver: FAILED: $1 left $got messages in $2 (want $N) and $left in tmp/" >&2
		exit 1
	fi
}

# run NAME MAILDIR HOME CMD...: times the loop, checks the maildir, echoes msg/s
declare -A RATE=()
run() {
	local name=$1 dir=$2 home=$3 t0 t1; shift 3
	sync	# start every run with nothing of the previous one left to write back
	t0=$EPOCHREALTIME
	if ! asuser "$home" bash "$WORK/loop.sh" "$WORK/list" "$@" 2> "$WORK/$name.err"; then
		echo "bench: deliver: FAILED: $name: $(tail -1 "$WORK/$name.err")"
		tail -5 "$WORK/$name.err" | sed 's/^/  /'
		exit 1
	fi
	t1=$EPOCHREALTIME
	check "$name" "$dir"
	RATE[$name]=$(rate "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
	echo "== $name: ${RATE[$name]} msg/s (floor just before: ${BEFORE[$name]:-n/a} msg/s)"
}

# --- floor -------------------------------------------------------------------
# The disk here is shared with whatever else runs on the machine, so the floor
# is measured three times first and once more right before each deliverer;
# deliver_floor is the best of all those runs (the spread is printed too), and
# every share is taken against it.
FLOORS=()
floor_once() {	# floor_once [-d]: msg/s of one run into a fresh maildir
	rm -rf "$WORK/floor"
	mkmaildir "$WORK/floor"
	own
	sync
	asuser "$WORK" "$TOP/build/bench/floor_deliver" "$@" "$WORK/floor" "$WORK/list" |
		awk '{ print $(NF - 1) }' > "$WORK/floor.rate"
	check floor "$WORK/floor"
	rm -rf "$WORK/floor"
	cat "$WORK/floor.rate"
}
max() { printf '%s\n' "$@" | sort -g | tail -1; }
min() { printf '%s\n' "$@" | sort -g | head -1; }
declare -A BEFORE=()
floor_before() {	# floor_before NAME: a floor run right before NAME's run
	local r
	r=$(floor_once)
	FLOORS+=("$r")
	BEFORE[$1]=$r
	own
}
echo "== $N messages, $(du -sh "$CACHE" | cut -f1); floor (one process, raw syscalls)"
for _ in 1 2 3; do FLOORS+=("$(floor_once)"); done
dirsync=()
for _ in 1 2 3; do dirsync+=("$(floor_once -d)"); done
echo "== floor: ${FLOORS[*]} msg/s; with the directory fsync: ${dirsync[*]} msg/s"
own
run spawn "$CACHE" "$WORK" /bin/true

# --- loft ----------------------------------------------------------------------
mkdir -p "$WORK/loft/home" "$WORK/loft_noindex/home"
printf 'set folder=%s\n' "$WORK/loft/mail" > "$WORK/loft/mailrc"
printf 'set folder=%s\nset noindex_on_delivery\n' "$WORK/loft_noindex/mail" > "$WORK/loft_noindex/mailrc"
own
for v in loft loft_noindex; do
	floor_before "$v"
	run "$v" "$WORK/$v/mail/INBOX" "$WORK/$v/home" "$LOFT" -F "$WORK/$v/mailrc" deliver
done
# The indexing the default run left for later: one scan of the N new files.
t0=$EPOCHREALTIME
asuser "$WORK/loft/home" "$LOFT" -F "$WORK/loft/mailrc" index > /dev/null 2>&1 ||
	echo "bench: deliver: loft index after the run failed"
catchup=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')

# --- peers ---------------------------------------------------------------------
peers=()
if [ -z "${SKIP[procmail]:-}" ]; then
	mkmaildir "$WORK/procmail/Maildir"
	printf 'MAILDIR=%s\nDEFAULT=%s/\nLOGFILE=\nVERBOSE=off\n' \
		"$WORK/procmail" "$WORK/procmail/Maildir" > "$WORK/procmail/procmailrc"
	chmod 600 "$WORK/procmail/procmailrc"
	own
	# As nobody, procmail (setuid root) complains it cannot chdir to nobody's
	# home (/nonexistent) before reading the rcfile; harmless.
	floor_before procmail
	run procmail "$WORK/procmail/Maildir" "$WORK/procmail" procmail "$WORK/procmail/procmailrc"
	peers+=(procmail)
fi
if [ -z "${SKIP[maildrop]:-}" ]; then
	mkmaildir "$WORK/maildrop/Maildir"
	printf 'DEFAULT="%s"\n' "$WORK/maildrop/Maildir" > "$WORK/maildrop/mailfilter"
	chmod 600 "$WORK/maildrop/mailfilter"	# maildrop refuses a group/world-readable filter
	own
	floor_before maildrop
	run maildrop "$WORK/maildrop/Maildir" "$WORK/maildrop" maildrop "$WORK/maildrop/mailfilter"
	peers+=(maildrop)
fi
if [ -z "${SKIP[dovecot-lda]:-}" ]; then
	d=$WORK/dovecot-lda
	mkmaildir "$d/Maildir"
	mkdir -p "$d/run" "$d/home"
	cat > "$d/dovecot.conf" <<-EOF
	base_dir = $d/run
	log_path = $d/dovecot.log
	info_log_path = /dev/null
	ssl = no
	protocols =
	postmaster_address = postmaster@example.org
	mail_location = maildir:$d/Maildir:INDEX=MEMORY
	EOF
	own
	floor_before dovecot-lda
	run dovecot-lda "$d/Maildir" "$d/home" "$DOVECOT_LDA" -c "$d/dovecot.conf"
	peers+=(dovecot-lda)
fi

# --- report ------------------------------------------------------------------------
floor=$(printf '%s\n' "${FLOORS[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "== floor runs: ${FLOORS[*]} msg/s (min $(min "${FLOORS[@]}"), max $(max "${FLOORS[@]}"), median $floor)"
echo "bench: deliver_floor $floor msg/s"
echo "bench: deliver_floor_dirsync $(max "${dirsync[@]}") msg/s"
echo "bench: deliver_spawn ${RATE[spawn]} msg/s"
for p in procmail maildrop dovecot-lda; do
	[ -z "${SKIP[$p]:-}" ] || echo "bench: deliver_$p skipped: ${SKIP[$p]}"
done
for v in loft loft_noindex; do
	for p in "${peers[@]}"; do
		echo "bench: deliver_$v ${RATE[$v]} msg/s vs $p ${RATE[$p]} msg/s ratio $(ratio "${RATE[$v]}" "${RATE[$p]}")"
	done
	[ ${#peers[@]} -gt 0 ] || echo "bench: deliver_$v ${RATE[$v]} msg/s"
done
echo "bench: deliver_loft_catchup $catchup s (one loft index of the $N messages loft deliver left unindexed)"
for v in loft loft_noindex "${peers[@]}"; do
	echo "bench: deliver_${v}_share $(share "${RATE[$v]}" "${BEFORE[$v]}") of floor"
done
