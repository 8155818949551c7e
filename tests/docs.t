#!/bin/bash
# What loft says about itself is true: the settings table, mailrc.example
# and loft-mailrc(5) agree on every default and on what is "not built yet";
# a setting marked so is read by no code (and the others are); loft check,
# loft daemon and loft passwd say so; every command of the dispatch table is
# in loft(1) and `loft --help`; the man pages render at 80 columns without
# warnings, are installed by `make install`, and loft-sieve(5)'s examples
# compile.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

EXAMPLE=$TOP/mailrc.example
MAILRC5=$BUILD/doc/loft-mailrc.5
PAGES="$TOP/doc/loft.1 $MAILRC5 $TOP/doc/loft-sieve.5"

# "NAME DEFAULT BUILT" per setting (BUILT: yes or unbuilt), from three
# sources: `loft help settings` (the table), mailrc.example, loft-mailrc(5).
run_loft help settings
printf '%s\n' "$OUT" > "$T_DIR/help"
python3 - "$T_DIR/help" "$EXAMPLE" "$MAILRC5" "$T_DIR" <<'EOF'
import re, sys
helpf, example, man, out = sys.argv[1:]

table = {}
for m in re.finditer(r'^([a-z0-9_]+)  .*?\(default: (.*?)(; per account)?(; not built yet)?\)$',
                     open(helpf).read(), re.M):
    table[m[1]] = (m[2], 'unbuilt' if m[4] else 'yes')

# mailrc.example: the comment block above a "#set" line tells its status;
# the line gives the default ('' is empty, noNAME/NAME a boolean).
ex, block = {}, ''
for line in open(example):
    line = line.rstrip('\n')
    if not line.strip():
        block = ''
        continue
    m = re.match(r"^#set ([a-z0-9_]+)(?:=(.*))?$", line)
    if m:
        name, val = m[1], m[2]
        if val is None:		# a boolean: NAME or noNAME
            val = 'yes'
            if name not in table and name.startswith('no'):
                name, val = name[2:], 'no'
        elif val[:1] == "'":
            val = val[1:-1]
        ex[name] = (val or 'empty', 'unbuilt' if 'not built yet' in block else 'yes')
    elif line.startswith('#'):
        block += ' ' + line.lstrip('#').strip().lower()

def unroff(s):
    return s.replace('\\-', '-').replace('\\e', '\\').replace('\\&', '')

mp = {}
text = open(man).read()
for m in re.finditer(r'^\.TP\n\.B ([a-z0-9_]+)\n\((.*)\)\n\.br\n', text, re.M):
    d = re.search(r'; default (?:\\fB(.*?)\\fP|(empty))', m[2])
    mp[m[1]] = (unroff(d[1] or d[2]), 'unbuilt' if 'not built yet' in m[2] else 'yes')

for name, src in (('example', ex), ('man', mp)):
    with open(f'{out}/{name}.diff', 'w') as f:
        for k, v in table.items():
            if src.get(k) != v:
                f.write(f'{k}: table {v}, {name} {src.get(k)}\n')
with open(f'{out}/table', 'w') as f:
    for k, v in table.items():
        f.write(f'{k} {v[1]}\n')
EOF
n=$(wc -l < "$T_DIR/table")
[ "$n" -ge 40 ]
ok $? "the settings table has its $n settings in loft help settings"
UNBUILT=$(awk '$2 == "unbuilt" {print $1}' "$T_DIR/table" | tr '\n' ' ')
[[ " $UNBUILT " != *" sync_interval "* ]]; ok $? "sync_interval is no longer marked not built yet (the daemon's sync task reads it)"
[[ " $UNBUILT " != *" imap_listen "* ]]; ok $? "imap_listen is no longer marked not built yet"
is "$(cat "$T_DIR/example.diff")" "" "mailrc.example: every setting with the table's default and not-built-yet status"
is "$(cat "$T_DIR/man.diff")" "" "loft-mailrc(5): every setting with the table's default and not-built-yet status"

# A setting marked "not built yet" is read by no code; one not marked is.
read_by_code() {
	grep -rlF "\"$1\"" "$TOP"/lib "$TOP"/store "$TOP"/localmta "$TOP"/imapd "$TOP"/daemon \
		"$TOP"/client "$TOP"/ui "$TOP"/remote \
		--include='*.c' | grep -v '/lib/settings\.c$' | head -1
}
wrong=
while read -r name built; do
	r=$(read_by_code "$name")
	if [ "$built" = unbuilt ] && [ -n "$r" ]; then wrong="$wrong $name(read in ${r#"$TOP"/})"; fi
	if [ "$built" = yes ] && [ -z "$r" ]; then wrong="$wrong $name(read nowhere)"; fi
done < "$T_DIR/table"
is "${wrong# }" "" "'not built yet' marks exactly the settings no code reads"

# loft check shows the mark on those settings and on no other.
run_loft check
marked=$(grep '; not built yet$' <<<"$OUT" | sed -E 's/^set (no)?([a-z0-9_]+).*/\2/' | tr '\n' ' ')
is "$marked" "$UNBUILT" "loft check marks the not-built-yet settings"

# The daemon warns once about each setting not built yet a mailrc sets;
# none is left: sync_interval and account blocks say nothing, and a block
# whose sync is off gets no sync task.
PORT=$(free_port)
make_mailrc "set smtp_listen=127.0.0.1:$PORT queue_interval=1h" \
	"set sync_interval=1h trash=" \
	"account work {" "set sync_interval=1h" "}"
LOG=$T_DIR/daemon.log
mkdir -p "$T_DIR/Mail"
start_daemon "$LOG"
ok $? "loft daemon starts with sync_interval and an account block set" || diag "$(cat "$LOG")"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'reloaded' "$LOG" && break; sleep 0.1; done
is "$(grep -c 'not built yet' "$LOG")" 0 "no 'not built yet' warning, at start or on SIGHUP"
is "$(grep -c 'sync task' "$LOG")" 0 "no sync task for an account whose sync is off"
kill -TERM "$DPID"
wait "$DPID"
is "$?" 0 "the daemon exits 0 on SIGTERM"
! grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"
ok $? "no sanitizer report from the daemon" || diag "$(cat "$LOG")"
unset LOFTRC

# loft passwd says what the login is for.
run_loft -F /dev/null passwd phone
like "$OUT" "SMTP submission and IMAP" "loft passwd says the login is for SMTP submission and IMAP"
[[ $OUT != *"not built"* ]]; ok $? "loft passwd no longer says IMAP is not built"
run_loft help passwd
like "$OUT" "imap_listen" "loft help passwd names the IMAP listener"

# Every command of the dispatch table is in `loft --help` and in loft(1);
# every command loft(1) describes is in the table or marked not built yet.
COMMANDS=$(grep -oE '^	\{ "[a-z]+", cmd_' "$TOP/client/main.c" | cut -d'"' -f2)
[ "$(wc -w <<<"$COMMANDS")" -ge 13 ]
ok $? "the dispatch table lists $(wc -w <<<"$COMMANDS") commands"
run_loft --help
missing_help= missing_man=
for c in $COMMANDS; do
	grep -qE "^  $c " <<<"$OUT" || missing_help="$missing_help $c"
	grep -qE "^\.SS \"loft $c( |\")" "$TOP/doc/loft.1" || missing_man="$missing_man $c"
done
is "${missing_help# }" "" "loft --help lists every command"
is "${missing_man# }" "" "loft(1) has a section for every command"
extra=
for c in $(grep -oE '^\.SS "loft [a-z]+' "$TOP/doc/loft.1" | cut -d' ' -f3); do
	grep -qx "$c" <<<"$COMMANDS" && continue
	sed -n "/^\.SS \"loft $c[ \"]/,/^\.SS/p" "$TOP/doc/loft.1" | grep -q 'Not built yet' ||
		extra="$extra $c"
done
is "${extra# }" "" "loft(1) describes no command that does not exist, unless marked not built yet"
n_exit=$(grep -c '^Exit status' "$TOP/doc/loft.1")
[ "$n_exit" -ge "$(wc -w <<<"$COMMANDS")" ]
ok $? "loft(1) gives the exit status of every command ($n_exit)"

# The pages render cleanly at 80 columns.
if command -v groff >/dev/null && command -v man >/dev/null; then
	for page in $PAGES; do
		name=${page##*/}
		[ -f "$page" ]
		ok $? "$name is built" || continue
		w=$(groff -ww -z -man "$page" 2>&1)
		is "$w" "" "$name: no groff warnings"
		MANWIDTH=80 man --warnings -l "$page" > "$T_DIR/$name.txt" 2> "$T_DIR/$name.err"
		is "$(cat "$T_DIR/$name.err")" "" "$name: man --warnings -l prints no warning"
		long=$(python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' \
			"$T_DIR/$name.txt")
		[ "$long" -le 80 ]
		ok $? "$name: no line over 80 columns (longest $long)"
	done
else
	skip "groff or man is not installed"
fi

# loft-sieve(5): each example compiles, and the List-Id one files as it says.
python3 - "$TOP/doc/loft-sieve.5" "$T_DIR" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
for i, m in enumerate(re.finditer(r'^\.EX\n(.*?)^\.EE\n', text, re.M | re.S)):
    body = m[1].replace('\\-', '-').replace('\\e', '\\').replace('\\&', '')
    open(f'{sys.argv[2]}/example{i}.sieve', 'w').write(body)
EOF
n=0 bad=
for f in "$T_DIR"/example*.sieve; do
	n=$((n + 1))
	"$LOFT" -F /dev/null sieve check "$f" 2> "$T_DIR/sieve.err" || bad="$bad ${f##*/}: $(cat "$T_DIR/sieve.err")"
done
[ "$n" -ge 5 ]
ok $? "loft-sieve(5) has $n examples"
is "${bad# }" "" "every loft-sieve(5) example passes loft sieve check"
printf 'From: a@example.org\nList-Id: Loft talk <loft.lists.example.org>\nSubject: hi\n\nbody\n' > "$T_DIR/list.eml"
run_loft -F /dev/null sieve test "$T_DIR/example0.sieve" "$T_DIR/list.eml"
is "$OUT" "store message in folder: Lists/loft" "the List-Id example files into Lists/loft"

# make install puts every page in place.
if make --no-print-directory -s -C "$TOP" install DESTDIR="$T_DIR/inst" PREFIX=/usr \
	SANITIZE="${SANITIZE:-}" > "$T_DIR/install.log" 2>&1; then
	for p in man1/loft.1 man5/loft-mailrc.5 man5/loft-sieve.5; do
		[ -s "$T_DIR/inst/usr/share/man/$p" ]
		ok $? "make install installs $p"
	done
else
	ok 1 "make install" ; diag "$(cat "$T_DIR/install.log")"
fi

done_testing
