#!/bin/bash
# loft deliver loads only what delivery needs: libnotmuch (with Xapian and
# libstdc++), libetpan (with GnuTLS, Berkeley DB, Cyrus SASL) and OpenSSL are loaded
# on first use by the commands that need them (lib/dynlib.h), not by the
# dynamic loader at every start.  Checked on the running process
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
cxx='|libstdc\+\+'
! echo "$libs" | grep -q libasan || cxx=
heavy=$(echo "$libs" | grep -E "libnotmuch|libxapian$cxx|libetpan|libgnutls|libdb-|libsasl2|libssl|libcrypto" || true)
is "$heavy" "" "deliver maps no notmuch, Xapian, libstdc++, libetpan, GnuTLS, Berkeley DB, SASL or OpenSSL"
is "$(mapped_by_dlopen "$T_DIR/deliver.ld")" "" "  ...and loads nothing later either (no keywords: no index)"

# The binary does not name them: only dlopen brings them in.
if command -v readelf >/dev/null; then
	needed=$(readelf -d "$LOFT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	is "$(echo "$needed" | grep -E 'libnotmuch|libetpan|libssl|libcrypto' || true)" "" \
		"loft has no DT_NEEDED on libnotmuch, libetpan or OpenSSL"
else
	skip "readelf missing: DT_NEEDED not checked"
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
	# hidden CMD...: CMD with libnotmuch hidden; sets RC and ERR
	hidden() {
		unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
			sh "$T_DIR/empty.so" "$nm_lib" "$@" > "$T_DIR/hidden.out" 2> "$T_DIR/hidden.err"
		RC=$?
		ERR=$(cat "$T_DIR/hidden.err")
	}
	hidden "$LOFT" search id:lazy1@example.org
	ok $([ "$RC" -ne 0 ] && [ "$RC" -lt 128 ]; echo $?) "search without libnotmuch fails cleanly (exit $RC, no signal)"
	like "$ERR" 'loft: search: cannot load libnotmuch\.so\.[0-9]+' "  ...saying which library it cannot load: $ERR"
	hidden sh -c '"$0" deliver < "$1"' "$LOFT" "$T_DIR/lazy2.eml"
	is "$RC" 0 "deliver without libnotmuch still delivers ($ERR)"
fi

done_testing
