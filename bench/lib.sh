# Shared by the benchmarks (sourced, not run): the cached corpus maildir.

# bench_corpus COUNT: sets CACHE to build/bench/maildir-COUNT-seed7, made by
# mkcorpus.py on first use and then reused read-only by every bench.
bench_corpus() {
	CACHE=$TOP/build/bench/maildir-$1-seed7
	if [ ! -f "$CACHE/.complete" ]; then
		rm -rf "$CACHE"
		mkdir -p "$(dirname "$CACHE")"
		echo "== generating $1 messages in $CACHE"
		python3 "$SHARED/corpus/mkcorpus.py" --maildir "$CACHE" --count "$1" --seed 7 >/dev/null
		touch "$CACHE/.complete"
	fi
}

# bench_warm DIR: reads every message once so all runs see a warm page cache.
bench_warm() {
	find "$1" -type f -path '*/cur/*' -exec cat {} + > /dev/null
	find "$1" -type f -path '*/new/*' -exec cat {} + > /dev/null
}

# --- IMAP servers side by side (imap_stress.sh, imap_mbsync.sh) -------------

bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bench_ratio A B: A/B with two decimals (0 when B is 0 or empty).
bench_ratio() {
	python3 -c 'import sys; a,b=float(sys.argv[1] or 0),float(sys.argv[2] or 0); print("%.2f" % (a/b if b else 0))' "$1" "$2"
}

# bench_imap_ready PORT: until the port greets with "* OK" (10 s at most).
bench_imap_ready() {
	for _ in $(seq 100); do
		case $(printf 'x LOGOUT\r\n' | timeout 2 socat -T2 - TCP:127.0.0.1:"$1" 2>/dev/null | head -1) in
		"* OK"*) return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# bench_inbox SRC DEST: copies the maildir SRC (cur/ and new/) to DEST, a new
# maildir; SRC stays untouched whatever the servers do to DEST.
bench_inbox() {
	mkdir -p "$2/tmp"
	cp -a "$1/cur" "$1/new" "$2/"
}

# bench_loft_imap DIR [SRC]: `loft daemon` serving DIR/Mail on a free loopback
# port (plain IMAP only), the login bench / $BENCH_PW, INBOX a copy of the
# maildir SRC if given.  Sets LPORT, LPID (stop it with kill), LINBOX; adds
# LPID to PIDS.  Returns 1 if it does not start.
BENCH_PW=bench-password-1
bench_loft_imap() {
	local d=$1
	LPORT=$(bench_free_port) LINBOX=$d/Mail/INBOX
	mkdir -p "$d/Mail"
	printf 'set folder=%s/Mail imap_listen=127.0.0.1:%s smtp_listen= log_level=error queue_interval=1h\n' \
		"$d" "$LPORT" > "$d/mailrc"
	[ -n "${2:-}" ] && bench_inbox "$2" "$LINBOX"
	echo "$BENCH_PW" | "$LOFT" -F "$d/mailrc" passwd --stdin bench >/dev/null || return 1
	"$LOFT" -F "$d/mailrc" daemon 2> "$d/daemon.log" &
	LPID=$!
	PIDS+=("$LPID")
	bench_imap_ready "$LPORT"
}

# bench_dovecot_imap DIR [SRC]: a private Dovecot (tests/dovecot_instance.sh)
# in DIR, a fresh directory under /tmp, the same login (the same yescrypt
# hash as loft's), INBOX a copy of SRC.
# Sets DPORT, DPID, DINBOX; adds DPID to PIDS.  Returns 1 with the reason on
# stdout when it cannot run here.
bench_dovecot_imap() {
	local d=$1
	command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/imap ] ||
		{ echo "dovecot-imapd is not installed"; return 1; }
	id mail >/dev/null 2>&1 || { echo "no 'mail' user to run it as"; return 1; }
	DPORT=$(bench_free_port) DINBOX=$d/mail/bench
	mkdir -p "$d/mail"
	[ -n "${2:-}" ] && bench_inbox "$2" "$DINBOX"
	# The same kind of hash as loft's (yescrypt from `loft passwd`), so a
	# login costs both servers the same.
	local hash
	mkdir -p "$d/pw/Mail"
	printf 'set folder=%s/pw/Mail\n' "$d" > "$d/pw/mailrc"
	echo "$BENCH_PW" | "$LOFT" -F "$d/pw/mailrc" passwd --stdin bench >/dev/null &&
		hash=$(sed -n 's/^bench://p' "$d/pw/Mail/.loft/passwd") && [ -n "$hash" ] ||
		{ echo "loft passwd did not make a hash for Dovecot"; return 1; }
	bash "$TOP/tests/dovecot_instance.sh" add_user_crypt "$d" bench "$hash"
	chown -R mail:mail "$d/mail"
	DPID=$(bash "$TOP/tests/dovecot_instance.sh" start "$d" "$DPORT") || { echo "it did not start"; return 1; }
	PIDS+=("$DPID")
}

# bench_stop_all: stops what PIDS lists (the EXIT trap of a bench).
bench_stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# A daemon that is not our child (Dovecot's master) is not waited
	# for: wait until it is gone, or a next run finds its pid file held.
	for p in "${PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	PIDS=()
}
