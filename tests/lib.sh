# Shared library for the integration tests (tests/*.t): TAP output, a
# throwaway HOME, a generated mailrc, free loopback ports, cleanup of what a
# test started.  Source it first:  . "$TOP/tests/lib.sh"
#
# Environment from the Makefile: LOFT (the binary), TOP (source tree),
# BUILD (object dir), SHARED (../shared, may be missing).

set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LOFT:=$TOP/build/loft}"
: "${BUILD:=$TOP/build}"
: "${SHARED:=$TOP/../shared}"

T_NUM=0
T_FAILED=0
T_PIDS=()

# A private HOME per test script, removed on exit unless KEEP=1.
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/loft-test.XXXXXX") && [ -d "$T_DIR" ] || {
	# Never go on without it: paths like "$T_DIR/work" would name / instead
	# (an empty T_DIR once made a test run `rm -rf /work`).
	echo "Bail out! mktemp -d failed: no private test directory"; exit 1; }
export HOME="$T_DIR/home"
mkdir -p "$HOME"
unset LOFTRC MAIL MAILDIR NOTMUCH_CONFIG
export LC_ALL=C.UTF-8 TZ=UTC

# rm_settled DIR: removes DIR, again while a stopped daemon's last children
# still write into it (Dovecot's log and auth processes outlive its master
# by a moment), up to 5 s.
rm_settled() {
	[ -n "$1" ] || return 1
	for _ in $(seq 50); do
		rm -rf "$1" 2>/dev/null
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	rm -rf "$1"
}

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# A daemon that is not our child (Dovecot's master) is not waited for:
	# wait until it is gone, or it writes into a directory being removed
	# and the directory stays behind.
	for p in "${T_PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	[ "${KEEP:-0}" = 1 ] && { echo "# kept $T_DIR"; return; }
	rm_settled "$T_DIR"
}
trap t_cleanup EXIT

plan() { echo "1..$1"; }
diag() { printf '# %s\n' "$@" >&2; }	# stderr, as TAP wants: prove prints it, so a CI log shows why

ok() {	# ok COND-STATUS NAME: pass when the status is 0
	local status=$1; shift
	T_NUM=$((T_NUM + 1))
	if [ "$status" -eq 0 ]; then echo "ok $T_NUM - $*"
	else echo "not ok $T_NUM - $*"; T_FAILED=$((T_FAILED + 1)); fi
	return "$status"
}

is() {	# is GOT WANT NAME
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:  '$got'" "want: '$want'"; return 1; fi
}

# like GOT REGEX NAME: an extended regex (grep -E), matched line by line.  A
# REGEX that spans lines (holds a newline) is matched against the whole text
# instead, with ^ and $ at line boundaries (Python's re, MULTILINE): grep -E
# would take each of its lines as a pattern of its own, and the empty one
# matches anything.
like() {
	local got=$1 re=$2 m; shift 2
	case $re in
	*$'\n'*) python3 -c 'import re, sys
sys.exit(0 if re.search(sys.argv[2], sys.argv[1], re.M) else 1)' "$got" "$re"; m=$? ;;
	*) printf '%s' "$got" | grep -Eq -- "$re"; m=$? ;;
	esac
	if [ "$m" -eq 0 ]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:  '$got'" "want match: /$re/"; return 1; fi
}

# unlike GOT REGEX NAME: passes when no line of GOT matches (grep -E).
unlike() {
	local got=$1 re=$2; shift 2
	if ! printf '%s' "$got" | grep -Eq -- "$re"; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:  '$got'" "want no match: /$re/"; return 1; fi
}

skip() {	# skip REASON: a TAP skip that prove counts as passed
	T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # skip $*"
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

done_testing() { echo "1..$T_NUM"; [ "$T_FAILED" -eq 0 ]; }

# A free TCP port on 127.0.0.1.  Scripts run in parallel (prove -j): a
# port the kernel picked for bind(0) comes from the ephemeral range, where
# any test's outgoing connection may take it before the server named for
# it binds it.  So a random port below that range, free at the time.
free_port() {
	python3 -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    p = random.randrange(10000, lo if lo > 11000 else 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); break
    except OSError:
        pass
    finally:
        s.close()
print(p)'
}

# Writes $T_DIR/mailrc with the store under $T_DIR/Mail plus any extra lines
# given as arguments, and exports LOFTRC to it.  imap_listen is off unless
# a line sets it: its default port (1143) would be shared by every test
# daemon running at once.
make_mailrc() {
	export MAILRC_FILE="$T_DIR/mailrc"
	{
		echo "set folder=$T_DIR/Mail imap_listen="
		printf '%s\n' "$@"
	} > "$MAILRC_FILE"
	export LOFTRC="$MAILRC_FILE"
}

# lunch_inbox [MAILRC-LINE...]: the set-up of the compose scenarios
# (ui_compose.t, ui_mutt_compose.t): a mailrc (make_mailrc) where the user
# is "Me Myself" <me@example.org>, there is no smarthost and example.org is
# local, so what is sent is delivered here, plus the lines given; and
# INBOX ($M) holding Alice's "Lunch on Friday" <lunch.2@example.org>, a
# reply to <lunch.1@example.org>.
lunch_inbox() {
	make_mailrc 'set from=me@example.org' 'set realname="Me Myself"' 'set smarthost=' \
		'set local_domains=example.org' "$@"
	M=$T_DIR/Mail/INBOX
	mkdir -p "$M/cur" "$M/new" "$M/tmp"
	cat > "$M/cur/1.a.host:2,S" <<'MSG'
From: Alice Example <alice@example.org>
To: me@example.org
Subject: Lunch on Friday
Date: Mon, 2 Jun 2025 10:00:00 +0000
Message-ID: <lunch.2@example.org>
In-Reply-To: <lunch.1@example.org>
References: <lunch.1@example.org>

Shall we meet at noon?
MSG
}

# line_editor: sets EDITOR to a script that adds the text of
# $T_DIR/edit-line to the draft, or leaves the draft alone while
# $T_DIR/edit-none exists.
line_editor() {
	cat > "$T_DIR/editor" <<SH
#!/bin/sh
[ -e "$T_DIR/edit-none" ] && exit 0
cat "$T_DIR/edit-line" >> "\$1"
SH
	chmod +x "$T_DIR/editor"
	export EDITOR=$T_DIR/editor
}

# delivered REGEX: prints the file in the maildir $M whose text matches
# REGEX (grep -E), waiting 10 s at most; fails when none does.
delivered() {
	local f
	for _ in $(seq 100); do
		f=$(grep -l -E -- "$1" "$M"/new/* "$M"/cur/* 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

# Runs a command in the background and remembers it for cleanup.
bg() { "$@" & T_PIDS+=($!); }

# start_daemon LOG [LOFT-ARGS...]: starts `loft LOFT-ARGS daemon` in the
# background with its log in LOG, sets DPID, and waits (10 s at most, less
# if it dies) for its "started" line.  Returns 0 once it has started.
start_daemon() {
	local log=$1; shift
	bg "$LOFT" "$@" daemon 2> "$log"
	DPID=$!
	for _ in $(seq 100); do
		grep -q 'started, pid' "$log" && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "started, pid $DPID" "$log"
}

# Runs loft capturing stdout, stderr and status in OUT, ERR, RC.
run_loft() {
	OUT=$("$LOFT" "$@" 2>"$T_DIR/stderr"); RC=$?
	ERR=$(cat "$T_DIR/stderr")
}

# small_msg N: writes a small message with Message-ID <N@example.org> to
# $T_DIR/N.eml and prints its path.
small_msg() {
	printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
		"$1" "$1" "$1" > "$T_DIR/$1.eml"
	echo "$T_DIR/$1.eml"
}
# imapd_session NAME COMMANDS...: a preauthenticated `loft imapd` on
# $MAILRC_FILE reading the commands (tags a1, a2, ...), its output in
# $T_DIR/NAME.out; imapd_of PID: the imapd under the shell of such a
# session run in the background.
imapd_session() {
	local name=$1 i=0 c; shift
	for c in "$@"; do i=$((i + 1)); printf 'a%d %s\r\n' "$i" "$c"; done > "$T_DIR/$name.in"
	timeout 30 "$LOFT" -F "$MAILRC_FILE" imapd < "$T_DIR/$name.in" > "$T_DIR/$name.out" 2>&1
}
imapd_of() { pgrep -P "$1" | head -1; }

# stopped PID: waits (up to 10 s) until the process is stopped, e.g. by
# LOFT_CRASH_PAUSE's SIGSTOP at a pause point; fails if it exits first.
stopped() {
	for _ in $(seq 200); do
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# hold_lock FILE SECONDS: a background process takes FILE's POSIX lock (as
# Xapian's flintlock is held) for SECONDS; sets HOLDER and returns 0 once
# the lock is held, 1 if that did not happen within 10 s.
hold_lock() {
	rm -f "$T_DIR/held"
	python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))' "$1" "$T_DIR/held" "$2" &
	HOLDER=$!
	T_PIDS+=("$HOLDER")
	for _ in $(seq 100); do [ -e "$T_DIR/held" ] && return 0; sleep 0.1; done
	return 1
}

have_shared() { [ -d "$SHARED/corpus" ]; }

# probe_py SCRIPT ARGS...: runs the Python SCRIPT and turns its PASS/FAIL
# lines into TAP; other lines are diagnostics, and a script that exits
# non-zero (a Python traceback) or reports nothing is a failure.
probe_py() {
	local line n=0 rc= script=$1
	shift
	while IFS= read -r line; do
		case $line in
		PASS\ *) n=$((n + 1)); ok 0 "${line#PASS }" ;;
		FAIL\ *) n=$((n + 1)); ok 1 "${line#FAIL }" ;;
		"probe exit "*) rc=${line#probe exit } ;;
		*) diag "$line" ;;
		esac
	done < <(timeout 600 python3 "$script" "$@" 2>&1; echo "probe exit $?")
	[ "$n" -gt 0 ] || ok 1 "probe ${script##*/} $1 printed no result"
	[ "$rc" = 0 ] || ok 1 "probe ${script##*/} $1 exited with status $rc"
}

# probe SUITE ARGS...: probe_py of tests/smtp_probe.py SUITE.
probe() { probe_py "$TOP/tests/smtp_probe.py" "$@"; }
