#!/bin/bash
# The IMAP conformance scripts (tests/imap/*.txt, run by
# tests/imap_conformance.py) against `loft imapd` and, in the same run,
# against a private Dovecot on 127.0.0.1: each script must pass on both
# servers, and the replies where they differ (allowed by a wildcard, with
# the reason in the script) are listed as diagnostics.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
SCRIPTS=("$TOP"/tests/imap/*.txt)
ARGS=(--loft "$LOFT" --loft-root "$T_DIR/loft")

if [ "$(id -u)" != 0 ]; then
	diag "Dovecot skipped: a private instance needs root here"
elif ! [ -x /usr/lib/dovecot/imap ] || ! command -v socat >/dev/null; then
	diag "Dovecot skipped: dovecot-imapd or socat not installed (tests/deps.sh)"
else
	DV=$(mktemp -d /tmp/loft-dovecot.XXXXXX)
	for s in "${SCRIPTS[@]}"; do
		bash "$TOP/tests/dovecot_instance.sh" add_user "$DV" "$(basename "$s" .txt)" pw
	done
	port=$(free_port)
	if pid=$(bash "$TOP/tests/dovecot_instance.sh" start "$DV" "$port" 2>"$T_DIR/dovecot.err"); then
		T_PIDS+=("$pid")
		ARGS+=(--dovecot "127.0.0.1:$port" --password pw)
	else
		diag "Dovecot did not start: $(head -3 "$T_DIR/dovecot.err")"
		ok 1 "private Dovecot starts"
	fi
fi

while IFS= read -r line; do
	case $line in
	PASS\ *) ok 0 "${line#PASS }" ;;
	FAIL\ *) ok 1 "${line#FAIL }" ;;
	"runner exit "*) [ "${line#runner exit }" = 0 ]; ok $? "the conformance runner ran every script" ;;
	*) diag "$line" ;;
	esac
done < <(timeout 300 python3 "$TOP/tests/imap_conformance.py" "${ARGS[@]}" "${SCRIPTS[@]}" 2>&1
	 echo "runner exit $?")
[ -n "${DV:-}" ] && { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$DV"; }
done_testing
