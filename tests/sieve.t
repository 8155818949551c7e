#!/bin/bash
# Sieve semantics against Dovecot Pigeonhole: every script in tests/sieve/
# times every message there (plus a generated big one), run by `loft sieve
# test` and by Pigeonhole's `sieve-test`; both must choose the same actions
# (folders, flags, redirects, discard; a compile error for both, or a
# runtime error for both).  sieve-test refuses to run as root, so it runs as
# nobody with a throwaway config in a directory nobody owns.
. "${TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

if ! command -v sieve-test >/dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		dovecot-core dovecot-sieve >/dev/null 2>&1 || true
fi
command -v sieve-test >/dev/null || skip_all "sieve-test (package dovecot-sieve) is not installed"
if [ "$(id -u)" = 0 ]; then
	command -v runuser >/dev/null || skip_all "runuser missing: cannot run sieve-test as nobody"
	AS=(runuser -u nobody --)
else
	AS=()
fi

SRC="$TOP/tests/sieve"
chmod 711 "$T_DIR"
W="$T_DIR/pigeonhole"
mkdir -p "$W/mail" "$W/scripts" "$W/msgs"
cp "$SRC"/*.sieve "$W/scripts/"
cp "$SRC"/*.eml "$W/msgs/"
{
	printf 'From: Heidi <heidi@example.com>\nTo: bob@example.net\nSubject: a big one\n'
	printf 'Date: Sun, 7 Jan 2024 16:00:00 +0000\nMessage-ID: <big1@example.com>\n\n'
	for i in $(seq 2000); do printf '%075d\n' 0; done
} > "$W/msgs/big.eml"
cat > "$W/dovecot.conf" <<CONF
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:$W/mail
log_path = /dev/null
plugin {
  sieve_extensions = +imap4flags +variables +body +copy +mailbox +envelope
}
CONF
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$W"

# Normal form, one sorted line per action: "store FOLDER [flags]",
# "redirect ADDR", "discard" (only when nothing else delivers), plus
# "compile-error" or "runtime-error".
normalize() {
	awk '
	function flush() { if (cur != "") print cur (flags != "" ? " [" flags "]" : ""); cur = ""; flags = "" }
	function fold(f) { return tolower(f) == "inbox" ? "INBOX" : f }
	function sortflags(s,   n, a, i, j, t, out) {
		n = split(tolower(s), a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		out = ""; for (i = 1; i <= n; i++) if (i == 1 || a[i] != a[i-1]) out = out (out == "" ? "" : " ") a[i]
		return out
	}
	/^ \* store message in folder: / { flush(); sub(/^ \* store message in folder: /, ""); cur = "store " fold($0); next }
	/^ +\+ add IMAP flags: / { sub(/^ +\+ add IMAP flags: /, ""); flags = sortflags($0); next }
	/^ \* redirect message to: / { flush(); sub(/^ \* redirect message to: /, ""); gsub(/[<>]/, ""); cur = "redirect " $0; next }
	/^ \* discard/ { flush(); cur = "discard"; next }
	/^store message in folder: / { flush(); sub(/^store message in folder: /, "")
		f = ""; if (match($0, / \(flags: .*\)$/)) { f = substr($0, RSTART + 9, RLENGTH - 10); $0 = substr($0, 1, RSTART - 1) }
		cur = "store " fold($0); flags = sortflags(f); next }
	/^redirect message to: / { flush(); sub(/^redirect message to: /, ""); cur = "redirect " $0; next }
	/^discard$/ { flush(); cur = "discard"; next }
	/^(compile|runtime)-error$/ { flush(); print; next }
	{ flush() }
	END { flush() }' | sort -u | awk '
	{ l[NR] = $0; if ($0 != "discard" && $0 !~ /-error$/) other = 1 }
	END { for (i = 1; i <= NR; i++) if (!(l[i] == "discard" && other)) print l[i] }'
}

pigeonhole() {	# SCRIPT MSG SENDER RCPT
	local out rc
	out=$(cd "$W" && "${AS[@]}" sieve-test -c "$W/dovecot.conf" -f "$3" -a "$4" "$1" "$2" 2>&1)
	rc=$?
	case $rc in
	0) printf '%s\n' "$out" ;;
	1) printf 'runtime-error\nstore message in folder: INBOX\n' ;;
	*) echo compile-error ;;
	esac
}

loft_sieve() {	# SCRIPT MSG SENDER RCPT
	local out rc
	out=$("$LOFT" sieve test "$1" "$2" -f "$3" -a "$4" 2>"$T_DIR/loft.err")
	rc=$?
	if [ $rc = 65 ] && grep -q ':[0-9]*:[0-9]*: ' "$T_DIR/loft.err"; then echo compile-error; return; fi
	[ $rc = 0 ] || { echo "exit-$rc"; return; }
	grep -q 'runtime error' "$T_DIR/loft.err" && echo runtime-error
	printf '%s\n' "$out"
}

ENVELOPES=("alice@example.org bob@example.net"
	   "foo-bounces@lists.example.org bob+lists@example.net")
pairs=0 agree=0 nscripts=0 nmsgs=$(ls "$W/msgs" | wc -l)
for script in "$W"/scripts/*.sieve; do
	name=$(basename "$script" .sieve)
	nscripts=$((nscripts + 1))
	bad=""
	for msg in "$W"/msgs/*.eml; do
		for env in "${ENVELOPES[@]}"; do
			set -- $env
			want=$(pigeonhole "$script" "$msg" "$1" "$2" | normalize)
			got=$(loft_sieve "$script" "$msg" "$1" "$2" | normalize)
			pairs=$((pairs + 1))
			if [ "$want" = "$got" ]; then agree=$((agree + 1)); else
				bad="$bad"$'\n'"$(basename "$msg") -f $1 -a $2: pigeonhole {${want//$'\n'/; }} loft {${got//$'\n'/; }}"
			fi
		done
	done
	if [ -z "$bad" ]; then ok 0 "$name agrees with Pigeonhole"; else
		ok 1 "$name agrees with Pigeonhole"; printf '%s\n' "${bad#?}" | sed 's/^/# /'; fi
done
diag "$nscripts scripts x $nmsgs messages x ${#ENVELOPES[@]} envelopes: $agree of $pairs runs agree"

# loft's own error format for the broken scripts.
run_loft sieve check "$SRC/41-bad-unknown-test.sieve"
is "$RC:$ERR" "65:$SRC/41-bad-unknown-test.sieve:1:4: unknown test 'hedaer' (did you mean 'header'?)" \
	"check: unknown test with line, column and suggestion"
run_loft sieve check "$SRC/43-bad-missing-semicolon.sieve"
is "$RC:$ERR" "65:$SRC/43-bad-missing-semicolon.sieve:1:5: missing ';' after 'keep'" "check: missing ';'"
run_loft sieve check "$SRC/01-header-is.sieve"
is "$RC:$OUT:$ERR" "0::" "check: a valid script prints nothing"
run_loft sieve check "$T_DIR/nonexistent"
is "$RC" 66 "check: unreadable file exits 66"
done_testing
