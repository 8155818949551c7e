#!/bin/bash
# `loft index` and the store's own indexing survive files and folders that
# notmuch cannot take: too-long paths (libnotmuch 0.37 exits the process on
# some), files that are not mail, broken MIME that makes GMime log a
# critical, and crypto that would start a gpg-agent.  Each is skipped or
# indexed, named, and the run goes on.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"
ST=$BUILD/tests/storetool
[ -x "$ST" ] || skip_all "storetool not built ($ST)"

ROOT=$T_DIR/Mail
export NOTMUCH_CONFIG=$T_DIR/notmuch-config
printf '[database]\npath=%s\n' "$ROOT" > "$NOTMUCH_CONFIG"
make_mailrc
# The user's gpg home, as it would be: gpg-agent and dirmngr started for
# it would put their sockets here.
export GNUPGHOME=$T_DIR/gnupg
mkdir -m 700 "$GNUPGHOME"

msg() {	# msg ID SUBJECT: a small message with Message-ID <ID@example.org>
	printf 'From: A <a@example.org>\nTo: b@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\nbody of %s\n' \
		"$2" "$1" "$1"
}
maildir() { mkdir -p "$1/cur" "$1/new" "$1/tmp"; }
long() { printf "%${2}s" '' | tr ' ' "$1"; }	# long CHAR N

maildir "$ROOT/INBOX"
msg ok1 'plain one' > "$ROOT/INBOX/cur/1700000001.M1P1.host:2,S"
msg ok2 'plain two' > "$ROOT/INBOX/new/1700000002.M2P1.host"
# Not mail.
printf '\x00\x01 binary junk\n' > "$ROOT/INBOX/cur/1700000006.M6P1.host:2,S"
# An empty message/rfc822 part: GMime logs a g_critical on it.
cat > "$ROOT/INBOX/cur/1700000007.M7P1.host:2,S" <<'EOF'
From: A <a@example.org>
To: b@example.org
Subject: empty attached message
Message-ID: <emptypart@example.org>
Date: Tue, 02 Jan 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain

see the attached message
--XX
Content-Type: message/rfc822

--XX--
EOF
# PGP/MIME encrypted mail (decryption would run gpg).
cat > "$ROOT/INBOX/cur/1700000008.M8P1.host:2,S" <<'EOF'
From: A <a@example.org>
To: b@example.org
Subject: secret
Message-ID: <pgp@example.org>
Date: Tue, 02 Jan 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="YY"

--YY
Content-Type: application/pgp-encrypted

Version: 1
--YY
Content-Type: application/octet-stream

-----BEGIN PGP MESSAGE-----

hQEMA5Gd0zZfC8bxAQf/Rm9vYmFyYmF6cXV1eA==
=abcd
-----END PGP MESSAGE-----
--YY--
EOF
# S/MIME opaque signed mail (notmuch runs gpgsm to unwrap it).
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=signer -days 2 \
		-keyout "$T_DIR/k.pem" -out "$T_DIR/c.pem" 2>/dev/null
	printf 'Content-Type: text/plain\n\nsigned words\n' |
		openssl smime -sign -nodetach -signer "$T_DIR/c.pem" -inkey "$T_DIR/k.pem" \
			-from a@example.org -to b@example.org -subject 'smime opaque' \
			2>/dev/null > "$ROOT/INBOX/cur/1700000009.M9P1.host:2,S"
fi
gpg_procs() { pgrep -f "gpg-agent|dirmngr|gpgsm" 2>/dev/null | while read -r p; do
	grep -qa -- "$T_DIR" "/proc/$p/cmdline" "/proc/$p/environ" 2>/dev/null && echo "$p"; done; }

run_loft search plain
is "$RC" 69 "loft search before any loft index fails (EX_UNAVAILABLE)"
like "$ERR" "^loft: search: no index yet: run .loft index. to build it \\(no notmuch database in $ROOT\\)\$" \
	"and says to run loft index, in one whole line"

run_loft index
is "$RC" 0 "loft index exits 0 with junk, broken MIME and crypto in the store"
like "$ERR" "1700000006.M6P1.host:2,S: skipped: not mail" "names the file that is not mail"
like "$ERR" "1700000007.M7P1.host:2,S: indexed, but gmime: .*GMIME_IS_MESSAGE" \
	"turns GMime's critical into a warning naming the file"
if printf '%s' "$ERR" | grep -q -- '-CRITICAL'; then ok 1 "no raw GLib critical on stderr"; diag "$ERR"
else ok 0 "no raw GLib critical on stderr"; fi
like "$OUT" "skipped 1 files that are not mail" "counts the file that is not mail"
is "$(notmuch count 'id:ok1@example.org or id:ok2@example.org or id:emptypart@example.org or id:pgp@example.org')" 4 \
	"the other messages are indexed"
if [ -s "$ROOT/INBOX/cur/1700000009.M9P1.host:2,S" ]; then
	is "$(notmuch count 'subject:smime')" 1 "the S/MIME signed message is indexed"
else
	skip "openssl could not make an S/MIME message"
fi
is "$(gpg_procs | wc -l)" 0 "no gpg-agent, dirmngr or gpgsm left running"
[ -z "$(ls -A "$GNUPGHOME")" ]; ok $? "no agent socket in GNUPGHOME"
for p in $(gpg_procs); do kill "$p"; done

# A folder path of 241 bytes (mkdir by hand, mbsync...), a 230-byte
# directory name and a 250-byte file name.
LONGF=$ROOT/$(long a 200)/$(long b 40)
maildir "$LONGF"
msg long1 'in a long folder' > "$LONGF/cur/1700000003.M3P1.host:2,S"
LONGD=$ROOT/$(long c 230)
maildir "$LONGD"
msg long2 'in a long name' > "$LONGD/cur/1700000004.M4P1.host:2,S"
LONGN=$ROOT/INBOX/cur/1700000005.M5P1.$(long z 230):2,S
msg long3 'long file name' > "$LONGN"
run_loft index
is "$RC" 0 "loft index exits 0 with too-long paths in the store"
like "$ERR" "$(long b 40): skipped: a folder path of 241 bytes" "names the too-long folder"
like "$ERR" "$(long c 230): skipped: a name of 230 bytes" "names the too-long directory name"
like "$ERR" "$(long z 230):2,S: skipped: a name of" "names the too-long file name"
like "$OUT" "skipped 3 files or folders that notmuch cannot index" "counts them"
msg ok3 'plain three' > "$ROOT/INBOX/new/1700000010.M10P1.host"
run_loft index
is "$RC" 0 "a run after them exits 0"
is "$(notmuch count 'id:ok3@example.org')" 1 "and indexes new mail"
is "$(notmuch count 'id:long1@example.org or id:long2@example.org or id:long3@example.org')" 0 \
	"the skipped ones are not indexed"

run_loft index
is "$RC" 0 "a second run exits 0 too"
like "$OUT" "^indexed 0 messages" "and has nothing new"

# More than ten notes: the first ten and a count; --verbose names all.
for i in $(seq 11 25); do echo junk > "$ROOT/INBOX/new/17000000$i.M${i}P1.junk"; done
run_loft index
# At least 17 notes: the two too-long folders (named on every run) and 15
# files, more when INBOX/cur was too fresh to be recorded as done.
is "$(printf '%s\n' "$ERR" | grep -c ': skipped: ')" 10 "the first ten skipped paths are named"
like "$ERR" "and ([7-9]|1[0-9]) more: .loft index --full --verbose. lists them all" "with a count of the rest"
run_loft index --full --verbose
is "$(printf '%s\n' "$ERR" | grep -c 'skipped: not mail')" 16 "--full --verbose names every one"

# The store's own indexing (delivery, append) into a too-long folder that
# exists already: the message is stored, the append succeeds, the index
# is left alone, and the next delivery is indexed.
msg app1 'appended to a long folder' > "$T_DIR/app1.eml"
"$ST" -i "$ROOT" append "$(long a 200)/$(long b 40)" "$T_DIR/app1.eml" > "$T_DIR/app.out" 2> "$T_DIR/app.err"
is "$?" 0 "the store's append into the too-long folder succeeds"
ls "$LONGF/new/" "$LONGF/cur/" | grep -q . && grep -rqs 'appended to a long folder' "$LONGF"
ok $? "the message is stored"
like "$(cat "$T_DIR/app.err")" "not indexed: a folder path of 241 bytes" "the warning names why it is not indexed"
msg app2 'appended after' > "$T_DIR/app2.eml"
"$ST" -i "$ROOT" append INBOX "$T_DIR/app2.eml" > /dev/null
is "$(notmuch count 'id:app2@example.org')" 1 "the next append is indexed"
run_loft index
is "$RC" 0 "loft index still exits 0 afterwards"

done_testing
