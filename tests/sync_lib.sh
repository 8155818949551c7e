# Shared set-up of the `loft sync` tests (tests/sync_*.t), sourced after
# tests/lib.sh: a private Dovecot ($DV, port $DPORT, user ann) started by
# tests/dovecot_instance.sh, the observer (tests/sync_observer.py: imaplib
# on the server, file names in the maildirs) and a mailrc per loft store.
# Skips the whole test without root, dovecot-imapd or python3.
[ "$(id -u)" = 0 ] || skip_all "a private Dovecot needs root here"
[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd is not installed (tests/deps.sh)"
command -v python3 >/dev/null || skip_all "python3 is not installed"

# Dovecot's users must traverse it: a fresh directory of its own in /tmp,
# removed (by its own name only) at the end.
DV=$(mktemp -d /tmp/loft-sync-dovecot.XXXXXX) || skip_all "mktemp failed"
trap 'declare -F tmux_stop >/dev/null && tmux_stop; t_cleanup
case $DV in /tmp/loft-sync-dovecot.*) rm_settled "$DV" ;; esac' EXIT
add_user() { bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" "$1" "$1pass1"; }
add_user ann
DPORT=$(free_port)

# dovecot_start / dovecot_stop: the server (again), DPID its pid.
dovecot_start() {
	DPID=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$DPORT" 2>"$T_DIR/dovecot.err") ||
		{ diag "$(head -3 "$T_DIR/dovecot.err")"; return 1; }
	T_PIDS+=("$DPID")
}
dovecot_stop() {
	kill "$DPID" && wait "$DPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || return 0; sleep 0.1; done
}

# obs ARGS: the observer on the server; lobs STORE FOLDER...: on a store.
# The account is $SYNC_USER (default ann; add_user makes others, password
# NAMEpass1).
obs() { python3 "$TOP/tests/sync_observer.py" "$DPORT" "${SYNC_USER:-ann}" "${SYNC_USER:-ann}pass1" "$@"; }
lobs() { local s=$1; shift; python3 "$TOP/tests/sync_observer.py" - - - local "$s/Mail" "$@"; }

# store_rc NAME [PORT] [MORE-SETTINGS]: $T_DIR/NAME/mailrc for a store in
# $T_DIR/NAME/Mail mirroring ann's account (through PORT, default Dovecot's).
store_rc() {
	local d=$T_DIR/$1 port=${2:-$DPORT}
	mkdir -p "$d"
	cat > "$d/mailrc" <<RC
set folder=$d/Mail imap_listen=
account dv {
  set imap_url=imap+insecure://${SYNC_USER:-ann}@127.0.0.1:$port/INBOX
  set imap_password_command='echo ${SYNC_USER:-ann}pass1' imap_timeout=10
  set sync=mirror sync_folders=${SYNC_FOLDERS:-'INBOX "Lists/*" Sent !Lists/spam'} ${3:-}
}
RC
}

# lsync NAME [ARGS]: loft sync of store NAME; OUT, ERR, RC.
lsync() { local n=$1; shift; run_loft -F "$T_DIR/$n/mailrc" sync "$@"; }

# same NAME TEST-NAME FOLDER...: the store and the server hold the same
# messages with the same flags in each folder (keywords: sobs).
same() {
	local n=$1 name=$2; shift 2
	local a b
	a=$(lobs "$T_DIR/$n" "$@") b=$(obs sysdump "$@")
	is "$a" "$b" "$name"
}

# lfile STORE-DIR FOLDER ID: the file of message <ID> in the store's folder.
lfile() { grep -l "$3" "$1/Mail/$2"/new/* "$1/Mail/$2"/cur/* 2>/dev/null | head -1; }
# lflags STORE-DIR FOLDER ID LETTERS: its maildir flags set to LETTERS (as
# mutt would: renamed into cur/).
lflags() {
	local f b
	f=$(lfile "$1" "$2" "$3") && [ -n "$f" ] || return 1
	b=${f##*/}
	mv "$f" "$1/Mail/$2/cur/${b%%:2,*}:2,$4"
}

# sobs NAME ARGS: the observer on store NAME through `loft imapd`.
sobs() { local n=$1; shift; python3 "$TOP/tests/sync_observer.py" stream "$LOFT -F $T_DIR/$n/mailrc imapd" - "$@"; }

# store_a_synced N PREFIX (tests/tags_keywords.t, sync_rematch.t): Dovecot
# started, N messages PREFIX.1... seeded \Seen in INBOX, store a synced and
# the notmuch CLI pointed at it (NOTMUCH_CONFIG).  Then kw ID: the keywords
# the provider shows on <ID> in INBOX; lkw ID: store a's (loft imapd);
# tags ID: its notmuch tags.
store_a_synced() {
	dovecot_start
	ok $? "a private Dovecot starts" || { done_testing; exit; }
	obs seed INBOX "$1" "$2" '\Seen'
	store_rc a
	lsync a
	is "$RC" 0 "first sync exits 0" || diag "$ERR"
	export NOTMUCH_CONFIG=$T_DIR/notmuch-config
	printf '[database]\npath=%s\n' "$T_DIR/a/Mail" > "$NOTMUCH_CONFIG"
	is "$(notmuch count '*')" "$1" "the notmuch CLI sees the synced messages"
}
kw() { obs dump INBOX | sed -n "s/^INBOX <$1> //p"; }
lkw() { sobs a dump INBOX | sed -n "s/^INBOX <$1> //p"; }
tags() { notmuch search --output=tags "id:$1" | tr '\n' ' '; }
