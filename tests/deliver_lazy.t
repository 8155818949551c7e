#!/bin/bash
# loft deliver loads only what delivery needs: libnotmuch (with Xapian and
# libstdc++), libetpan (with GnuTLS, Berkeley DB, Cyrus SASL), OpenSSL,
# GMime (with GLib, GObject, GIO, libmount, gpgme...) and ncursesw are
# loaded on first use by the commands that need them (lib/dynlib.h), not by
# the dynamic loader at every start; deliver needs GMime only for a Sieve script or
# duplicate_window.  Checked on the running process
# (LD_DEBUG=files lists every object the loader maps), and a missing
# libnotmuch is a clear error for loft search while delivery goes on.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

M=$T_DIR/Mail
make_mailrc
small_msg lazy1 > /dev/null

# mapped LOG: the sonames the loader mapped, as LD_DEBUG=files logs them.
mapped() { sed -n 's/.*file=\([^ ]*\) .*\[0\];  *generating link map.*/\1/p' "$1" | sort -u; }
mapped_by_dlopen() { sed -n 's/.*file=\([^ ]*\) .*\[0\];  *dynamically loaded by.*/\1/p' "$1" | sort -u; }

LD_DEBUG=files "$LOFT" deliver < "$T_DIR/lazy1.eml" 2> "$T_DIR/deliver.ld"
is "$?" 0 "loft deliver delivers"
is "$(find "$M/INBOX/new" -type f | wc -l)" 1 "  ...one message in INBOX/new"
libs=$(mapped "$T_DIR/deliver.ld")
ok $([ -n "$libs" ]; echo $?) "LD_DEBUG=files lists what the loader mapped ($(echo "$libs" | wc -l) objects)"
# Under ASan, GCC's libasan brings libstdc++ itself: only the others count.
# Under the sanitizers GMime is linked too (Makefile: SAN_LIBS).
asan=false
! echo "$libs" | grep -q libasan || asan=true
cxx='|libstdc\+\+'
! $asan || cxx=
heavy=$(echo "$libs" | grep -E "libnotmuch|libxapian$cxx|libetpan|libgnutls|libdb-|libsasl2|libssl|libcrypto" || true)
is "$heavy" "" "deliver maps no notmuch, Xapian, libstdc++, libetpan, GnuTLS, Berkeley DB, SASL or OpenSSL"
if ! $asan; then
	is "$(echo "$libs" | grep -E "libgmime|libglib|libgobject|libgio|libmount|libgpgme" || true)" "" \
		"  ...nor GMime, GLib, GObject, GIO, libmount or gpgme (no Sieve script, no duplicate_window)"
else
	skip "a sanitizer build links GMime (LeakSanitizer crashed with a dlopened GLib)"
fi
is "$(echo "$libs" | grep -E "libncurses|libtinfo" || true)" "" "  ...nor ncursesw or libtinfo (only the client draws)"
is "$(mapped_by_dlopen "$T_DIR/deliver.ld")" "" "  ...and loads nothing later either (no keywords: no index)"

# The binary does not name them: only dlopen brings them in.
if command -v readelf >/dev/null; then
	needed=$(readelf -d "$LOFT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	gm='|libgmime|libglib|libgobject|libgio'
	! $asan || gm=
	is "$(echo "$needed" | grep -E "libnotmuch|libetpan|libssl|libcrypto|libncurses|libtinfo$gm" || true)" "" \
		"loft has no DT_NEEDED on libnotmuch, libetpan, OpenSSL, ncursesw, or GMime and GLib"
else
	skip "readelf missing: DT_NEEDED not checked"
fi

# With a Sieve script deliver loads GMime to read the headers, and files.
printf 'require ["fileinto", "mailbox"];\nif header :contains "Subject" "lazy3" { fileinto :create "Lazy"; }\n' \
	> "$T_DIR/lazy.sieve"
small_msg lazy3 > /dev/null
{ cat "$MAILRC_FILE"; echo "set sieve=$T_DIR/lazy.sieve"; } > "$T_DIR/sieve.rc"
LD_DEBUG=files "$LOFT" -F "$T_DIR/sieve.rc" deliver < "$T_DIR/lazy3.eml" 2> "$T_DIR/sieve.ld"
is "$?" 0 "deliver with a Sieve script delivers"
is "$(grep -l 'lazy3' "$M"/Lazy/new/* 2>/dev/null | wc -l)" 1 "  ...filed by its header test into Lazy"
if ! $asan; then
	like "$(mapped_by_dlopen "$T_DIR/sieve.ld")" 'libgmime-3\.0\.so' "  ...having loaded GMime itself (dlopen)"
else
	skip "a sanitizer build links GMime: nothing to dlopen"
fi

# loft search loads notmuch when it runs, indexes what deliver left, finds it.
out=$(LD_DEBUG=files "$LOFT" search id:lazy1@example.org 2> "$T_DIR/search.ld")
is "$?" 0 "loft search runs"
like "$out" 'lazy1' "  ...and finds the delivered message"
like "$(mapped_by_dlopen "$T_DIR/search.ld")" 'libnotmuch\.so' "  ...having loaded libnotmuch itself (dlopen)"

# Without libnotmuch (an empty file bound over it in a private mount
# namespace): search says which library it cannot load and exits cleanly;
# deliver, which does not need it, still delivers.
nm_lib=$(readlink -f "$(ldconfig -p | awk '/libnotmuch\.so\.[0-9]+ / { print $NF; exit }')" 2>/dev/null)
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || [ ! -f "$nm_lib" ]; then
	skip "needs root, unshare and libnotmuch's file to hide it ($nm_lib)"
	skip "needs root, unshare and libnotmuch's file to hide it"
	skip "needs root, unshare and libnotmuch's file to hide it"
elif ! unshare -m --propagation private true 2>/dev/null; then
	skip "unshare -m refused here (no mount namespace): missing libnotmuch not checked"
	skip "unshare -m refused here"
	skip "unshare -m refused here"
else
	: > "$T_DIR/empty.so"
	small_msg lazy2 > /dev/null
	# hidden CMD...: CMD with the library $HIDE hidden; sets RC and ERR
	hidden() {
		unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
			sh "$T_DIR/empty.so" "$HIDE" "$@" > "$T_DIR/hidden.out" 2> "$T_DIR/hidden.err"
		RC=$?
		ERR=$(cat "$T_DIR/hidden.err")
	}
	HIDE=$nm_lib
	hidden "$LOFT" search id:lazy1@example.org
	ok $([ "$RC" -ne 0 ] && [ "$RC" -lt 128 ]; echo $?) "search without libnotmuch fails cleanly (exit $RC, no signal)"
	like "$ERR" 'loft: search: cannot load libnotmuch\.so\.[0-9]+' "  ...saying which library it cannot load: $ERR"
	hidden sh -c '"$0" deliver < "$1"' "$LOFT" "$T_DIR/lazy2.eml"
	is "$RC" 0 "deliver without libnotmuch still delivers ($ERR)"
fi

# Without GMime: deliver with no Sieve script still delivers; a command that
# parses messages says which library it cannot load and exits 69.
gm_lib=$(readlink -f "$(ldconfig -p | awk '/libgmime-3\.0\.so\.[0-9]+ / { print $NF; exit }')" 2>/dev/null)
if $asan; then
	skip "a sanitizer build links GMime: it cannot start without it"
	skip "a sanitizer build links GMime"
	skip "a sanitizer build links GMime"
elif [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || [ ! -f "$gm_lib" ] ||
	! unshare -m --propagation private true 2>/dev/null; then
	skip "needs root, unshare -m and GMime's file to hide it ($gm_lib)"
	skip "needs root, unshare -m and GMime's file to hide it"
	skip "needs root, unshare -m and GMime's file to hide it"
else
	HIDE=$gm_lib
	small_msg lazy4 > /dev/null
	hidden sh -c '"$0" deliver < "$1"' "$LOFT" "$T_DIR/lazy4.eml"
	is "$RC" 0 "deliver without GMime still delivers ($ERR)"
	hidden sh -c '"$0" -F "$1" deliver < "$2"' "$LOFT" "$T_DIR/sieve.rc" "$T_DIR/lazy4.eml"
	is "$RC" 69 "deliver with a Sieve script and no GMime: 69 (EX_UNAVAILABLE), as for a missing OpenSSL"
	like "$ERR" 'cannot load libgmime-3\.0\.so\.0' "  ...saying which library it cannot load: $ERR"
fi

done_testing
