# An IMAP server for the client's scenario tests (tests/ui_imap*.t,
# tests/ui_mutt_imap.t), either `loft daemon` with a device login or a
# private Dovecot (tests/dovecot_instance.sh) with a passdb, both on
# 127.0.0.1 with plaintext IMAP (the client uses imap+insecure://) and
# the same login, so one scenario runs against either.  Source after
# tests/lib.sh (and tests/tmux.sh, whose exit trap it extends):
#   . "$TOP/tests/imap_server.sh"
#
#   imap_server_start KIND [TLS]  KIND loft or dovecot; TLS 1 also offers
#                            STARTTLS on IMAP_PORT and implicit TLS on
#                            IMAPS_PORT with a self-signed certificate for
#                            localhost, IMAP_CERT (its file, once started).
#                            Sets IMAP_PORT, IMAP_URL (the INBOX URL the
#                            client opens), IMAP_USER, IMAP_PW, IMAP_PID.
#                            Calls skip_all when Dovecot cannot run here.
#   imap_server_deliver FOLDER    a message on stdin into FOLDER, as the
#                            server's own delivery agent (loft deliver,
#                            dovecot-lda) does it
#   imap_server_mkfolder NAME     creates a folder on the server
#   imap_server_crash        kill -9 of the server and its children, by pid
#   imap_server_freeze SIG   SIGSTOP or SIGCONT to the server and its
#                            children (a hung server, then a live one)
#   imap_server_stop         SIGTERM, by pid; waits until the port is free
#   imap_server_restart      starts it again on the same port and store
#   imap_server_new_uidvalidity  stops it, makes INBOX's UIDVALIDITY
#                            change (loft: its state dropped; Dovecot: its
#                            dovecot-uidlist deleted), starts it again
#   imap_py PYTHON [FOLDER]  runs PYTHON with M an imaplib session logged in
#                            and FOLDER (INBOX) selected read-only; prints
#                            what it prints.  PYTHON may call
#                            multiappend(FOLDER, FLAGS, MSGS): the byte
#                            strings MSGS added in order (ascending UIDs):
#                            to Dovecot 1,000 to a MULTIAPPEND (RFC 3502)
#                            with LITERAL+ (APPENDs one by one took
#                            minutes for 10,000); to loft daemon, whose
#                            APPEND costs 5-10 ms a message (two syncs
#                            each), written into the folder's cur/ as
#                            another delivery agent would
#   imap_uids FOLDER SUBJECT prints the UIDs in FOLDER with that subject
#   imap_flags FOLDER SUBJECT  prints the FETCH FLAGS lines of those
#   imap_uidvalidity FOLDER  prints its UIDVALIDITY
#   imap_server_logins       prints how many logins the server logged

IMAP_USER=phone
IMAP_PW=phone-password-1
IMAP_PID=
IMAPS_PORT=
IMAP_DV=
IMAP_STARTS=0

command -v python3 >/dev/null || skip_all "python3 is not installed"

# Dovecot's users must traverse its directory: one of its own under /tmp,
# removed by its own name only.
imap_server_cleanup() {
	case $IMAP_DV in /tmp/loft-ui-dovecot.*) rm_settled "$IMAP_DV" ;; esac
}
trap 'declare -F tmux_stop >/dev/null && tmux_stop; t_cleanup; imap_server_cleanup' EXIT

imap_server_start() {
	IMAP_KIND=$1
	IMAP_PORT=$(free_port)
	IMAPS_PORT=0
	[ "${2:-0}" = 1 ] && IMAPS_PORT=$(free_port)
	case $IMAP_KIND in
	loft)
		IMAP_SERVER_RC=$T_DIR/server.rc
		IMAP_STORE=$T_DIR/Mail
		IMAP_CERT=$IMAP_STORE/.loft/tls/cert.pem
		local tls=
		[ "$IMAPS_PORT" != 0 ] && tls="imaps_listen=127.0.0.1:$IMAPS_PORT"
		cat > "$IMAP_SERVER_RC" <<-RC
		set folder=$IMAP_STORE imap_listen=127.0.0.1:$IMAP_PORT $tls smtp_listen=
		set hostname=localhost log_level=info queue_interval=1h shutdown_timeout=5
		RC
		echo "$IMAP_PW" | "$LOFT" -F "$IMAP_SERVER_RC" passwd --stdin "$IMAP_USER" >/dev/null
		;;
	dovecot)
		[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
		{ [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/dovecot-lda ] &&
			command -v socat >/dev/null; } ||
			skip_all "dovecot-imapd (with dovecot-lda) or socat not installed (tests/deps.sh)"
		IMAP_DV=$(mktemp -d /tmp/loft-ui-dovecot.XXXXXX) || skip_all "mktemp failed"
		IMAP_STORE=$IMAP_DV/mail/$IMAP_USER
		IMAP_CERT=$IMAP_DV/cert.pem
		bash "$TOP/tests/dovecot_instance.sh" add_user "$IMAP_DV" "$IMAP_USER" "$IMAP_PW"
		;;
	*) echo "Bail out! imap_server_start: unknown server $IMAP_KIND"; exit 1 ;;
	esac
	IMAP_URL="imap+insecure://$IMAP_USER@127.0.0.1:$IMAP_PORT/INBOX"
	imap_server_restart
}

imap_server_restart() {
	case $IMAP_KIND in
	loft)
		start_daemon "$T_DIR/daemon.log.$((++IMAP_STARTS))" -F "$IMAP_SERVER_RC" || {
			diag "$(cat "$T_DIR/daemon.log.$IMAP_STARTS")"; return 1; }
		IMAP_PID=$DPID
		;;
	dovecot)
		IMAP_PID=$(bash "$TOP/tests/dovecot_instance.sh" start "$IMAP_DV" "$IMAP_PORT" "$IMAPS_PORT" \
			2>"$T_DIR/dovecot.err") || { diag "$(tail -5 "$T_DIR/dovecot.err")"; return 1; }
		T_PIDS+=("$IMAP_PID")
		;;
	esac
}

# The pids of $1's descendants, deepest first.
imap_descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		imap_descendants "$c"
		echo "$c"
	done
}

# Waits (10 s at most) until nothing accepts on IMAP_PORT.
imap_port_closed() {
	for _ in $(seq 200); do
		python3 -c 'import socket, sys
s = socket.socket()
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) else 1)' "$IMAP_PORT" && return 0
		sleep 0.05
	done
	return 1
}

# Whether pid $1 runs (a zombie does not: Dovecot's master is reaped by
# pid 1 here, which can take a second or two).
imap_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

imap_server_crash() {
	local p kids
	# The parent first, or it would start another child (Dovecot's
	# anvil) in place of one killed.
	kids=$(imap_descendants "$IMAP_PID")
	kill -9 "$IMAP_PID"
	for p in $kids; do kill -9 "$p" 2>/dev/null; done
	wait "$IMAP_PID" 2>/dev/null
	# What a crash leaves behind; Dovecot would take its pid, still a
	# zombie for a while, for a master still running.
	[ "$IMAP_KIND" = dovecot ] && rm -f "$IMAP_DV/run/master.pid"
	imap_port_closed
}

imap_server_freeze() {
	local p
	for p in "$IMAP_PID" $(imap_descendants "$IMAP_PID"); do kill "-$1" "$p" 2>/dev/null; done
}

imap_server_stop() {
	kill "$IMAP_PID" 2>/dev/null
	wait "$IMAP_PID" 2>/dev/null
	# Dovecot's master is not this shell's child: wait for it by its pid.
	for _ in $(seq 200); do imap_alive "$IMAP_PID" || break; sleep 0.05; done
	imap_port_closed
}

imap_server_new_uidvalidity() {
	imap_server_stop
	case $IMAP_KIND in
	loft) rm -rf "${IMAP_STORE:?}/.loft/INBOX" ;;
	# Its index keeps the old one too.
	dovecot) rm -f "${IMAP_STORE:?}/dovecot-uidlist" "$IMAP_STORE"/dovecot.index* ;;
	esac
	imap_server_restart
}

imap_server_deliver() {
	case $IMAP_KIND in
	loft) "$LOFT" -F "$IMAP_SERVER_RC" deliver -m "$1" ;;
	dovecot) /usr/lib/dovecot/dovecot-lda -c "$IMAP_DV/dovecot.conf" -d "$IMAP_USER" -m "$1" ;;
	esac
}

imap_py() {
	python3 - "$IMAP_PORT" "$IMAP_USER" "$IMAP_PW" "${2:-INBOX}" "$1" "$IMAP_KIND" "$IMAP_STORE" <<'PY'
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login(sys.argv[2], sys.argv[3])
def multiappend(folder, flags, msgs):
    if sys.argv[6] == "loft":
        import os
        info = "".join(sorted(c for f, c in (("Seen", "S"), ("Flagged", "F"), ("Answered", "R"))
                              if f in flags))
        d = "%s/%s/" % (sys.argv[7], folder)
        had = len(os.listdir(d + "cur")) + len(os.listdir(d + "new"))
        for i, m in enumerate(msgs, had):
            with open(d + "cur/%d.M%06dP1.test:2,%s" % (1700000000 + i, i, info), "wb") as f:
                f.write(m.replace(b"\r\n", b"\n"))
        return
    for n, b in enumerate(range(0, len(msgs), 1000)):
        tag = b"ma%d" % n
        cmd = [tag, b" APPEND ", folder.encode()]
        for m in msgs[b:b + 1000]:
            cmd += [b" ", flags.encode(), b" {%d+}\r\n" % len(m), m]
        M.send(b"".join(cmd) + b"\r\n")
        line = M.readline()
        while not line.startswith(tag + b" "):
            line = M.readline()
        if not line.startswith(tag + b" OK"):
            raise RuntimeError("MULTIAPPEND: %r" % line)
if sys.argv[4] != "-":
    M.select(sys.argv[4], readonly=True)
exec(sys.argv[5])
M.logout()
PY
}

imap_server_mkfolder() {
	imap_py "M.create('$1'); M.subscribe('$1')" -
}

imap_uids() {
	imap_py "
typ, d = M.uid('SEARCH', 'SUBJECT', '\"$2\"')
print(' '.join(u.decode() for u in d[0].split()))
" "$1"
}

imap_uidvalidity() {
	imap_py "print(M.status('$1', '(UIDVALIDITY)')[1][0].decode().split()[-1].rstrip(')'))" -
}

imap_server_logins() {
	case $IMAP_KIND in
	loft) cat "$T_DIR"/daemon.log.* | grep -c "logged in as $IMAP_USER" ;;
	dovecot) grep -c "Login: user=<$IMAP_USER>" "$IMAP_DV/dovecot.log" ;;
	esac
}

imap_flags() {
	imap_py "
typ, d = M.uid('SEARCH', 'SUBJECT', '\"$2\"')
for u in d[0].split():
    t, f = M.uid('FETCH', u, '(FLAGS)')
    print(f[0].decode())
" "$1"
}
