#!/bin/bash
# The mailrc from the command line: loft check, -F and $LOFTRC, exit codes,
# mailrc.example kept complete and true, the dump round trip.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

EXAMPLE=$TOP/mailrc.example
# A dump without its header and the "# FILE:LINE" source of each line.
strip() { grep -v '^#' | sed 's/\t# .*$//'; }

# 1. The example is valid as shipped.
run_loft check -F "$EXAMPLE"
is "$RC" 0 "loft check -F mailrc.example exits 0" || diag "$ERR"

# 2. With every commented setting, account and alias switched on, it still
# loads, and its `set` lines are exactly the embedded defaults.
sed -E 's/^#(set |account |alias |\t|\})/\1/' "$EXAMPLE" > "$T_DIR/example-on"
run_loft check -F "$T_DIR/example-on"
is "$RC" 0 "mailrc.example with every line uncommented loads" || diag "$ERR"
grep '^set ' <<<"$OUT" | strip > "$T_DIR/example-sets"
run_loft check
grep '^set ' <<<"$OUT" | strip > "$T_DIR/default-sets"
diff "$T_DIR/default-sets" "$T_DIR/example-sets" > "$T_DIR/diff"
ok $? "the defaults written in mailrc.example are the real defaults" || diag "$(cat "$T_DIR/diff")"

# 3. Every setting of the table is in the example.
run_loft help settings
names=$(grep -E '^[a-z0-9_]+  ' <<<"$OUT" | cut -d' ' -f1)
[ "$(wc -w <<<"$names")" -ge 20 ]
ok $? "loft help settings lists the settings ($(wc -w <<<"$names"))"
missing=
for n in $names; do
	grep -Eq "^#?[[:space:]]*set (no)?$n(=|[[:space:]]|\$)" "$EXAMPLE" || missing="$missing $n"
done
is "${missing# }" "" "every setting appears as a set line in mailrc.example"

# 4. A typo: exit 78 (EX_CONFIG), FILE:LINE:COL and a suggestion.
printf 'set folder=%s\n  set smarthots=mail.example.org:587\n' "$T_DIR/Mail" > "$T_DIR/typo"
run_loft check -F "$T_DIR/typo"
is "$RC" 78 "a misspelled setting exits 78"
like "$ERR" "^loft: $T_DIR/typo:2:7: unknown setting 'smarthots' \(did you mean 'smarthost'\?\)\$" \
	"the error names file:line:col and the closest setting"

# 5. A bad value and bad quoting: also 78, at the value's column.
printf 'set log_level=loud\n' > "$T_DIR/badval"
run_loft check -F "$T_DIR/badval"
is "$RC" 78 "a bad value exits 78"
like "$ERR" "badval:1:15: log_level: expected one of debug, info, warning, error" "the error lists the words"
printf 'set realname="Me\n' > "$T_DIR/badquote"
run_loft check -F "$T_DIR/badquote"
like "$RC:$ERR" "^78:.*badquote:1:14: unterminated double quote" "an open quote exits 78 at its column"

# 6. $LOFTRC is read, and -F wins over it.
make_mailrc 'set log_level=info' 'alias bob "Bob <bob@example.org>"'
run_loft check
is "$RC" 0 "loft check with \$LOFTRC exits 0"
like "$OUT" "set log_level=info	# $MAILRC_FILE:2" "\$LOFTRC is honoured"
like "$OUT" "alias bob 'Bob <bob@example.org>'" "aliases are shown"
run_loft check -F "$EXAMPLE"
like "$OUT" "set log_level=warning	# default" "-F takes precedence over \$LOFTRC"
unset LOFTRC

# 7. A missing -F file: a clear error, EX_CONFIG or EX_NOINPUT.
run_loft check -F "$T_DIR/nonexistent"
is "$RC" 66 "a missing -F file exits 66 (EX_NOINPUT)"
like "$ERR" "$T_DIR/nonexistent: No such file or directory" "the error names the file and the reason"

# 8. The dump reads back as the same settings.
mkdir -p "$T_DIR/inc"
printf 'set domain=example.org sort=date\n' > "$T_DIR/inc/more"
cat > "$T_DIR/rich" <<EOF
# a bit of everything
set folder="\$HOME/My Mail" from='Me <me@example.org>' realname="It's \\"me\\""
set index_format='%4C %s #x' imap_listen= smarthost=smtp://[::1]:2525 nosort_reverse \\
    sync_interval=1h30m max_message_size=10M
source inc/more
account 'work stuff' {
	set from=me@work.example record='' sort_reverse
}
alias team a@x.org "B <b@y.org>"
alias team c@z.org
EOF
run_loft check -F "$T_DIR/rich"
is "$RC" 0 "a mailrc using every feature loads" || diag "$ERR"
printf '%s\n' "$OUT" > "$T_DIR/dump1"
like "$OUT" "set folder='$HOME/My Mail'" "paths are expanded when set"
like "$OUT" "set domain=example.org	# $T_DIR/inc/more:1" "sourced settings name their file and line"
run_loft check -F "$T_DIR/dump1"
is "$RC" 0 "the dump of loft check loads as a mailrc" || diag "$ERR"
printf '%s\n' "$OUT" > "$T_DIR/dump2"
diff <(strip < "$T_DIR/dump1") <(strip < "$T_DIR/dump2") > "$T_DIR/diff"
ok $? "reading the dump back gives the same dump" || diag "$(cat "$T_DIR/diff")"

# 9. The man page section comes from the same table.
run_loft help settings --man
like "$OUT" '^\.TP' "loft help settings --man writes roff"
[ "$(grep -c '^\.TP' <<<"$OUT")" -eq "$(wc -w <<<"$names")" ]
ok $? "the man page has one entry per setting"

# 10. loft check takes no arguments.
run_loft check extra
is "$RC" 64 "loft check with an argument exits 64"

# 11. A typo must not refuse mail: sendmail, deliver and the daemon go on
# with the good lines (the faulty ones keep their defaults) and log the
# error; every other command, loft check first, still exits 78.
printf 'set log_level=loud\nset folder=%s\ncolor normal rde default\n' "$T_DIR/Mail" > "$T_DIR/broken"
run_loft check -F "$T_DIR/broken"
is "$RC" 78 "loft check of a mailrc with two bad lines exits 78"
is "$ERR" "loft: $T_DIR/broken:1:15: log_level: expected one of debug, info, warning, error
loft: $T_DIR/broken:3:14: color: unknown colour 'rde' (default, black, red, green, yellow, blue, magenta, cyan, white, brightNAME, colorN)" \
	"  ...and reports both errors, not only the first"
printf 'Subject: from cron\n\nnightly job done\n' > "$T_DIR/cron.eml"
"$LOFT" -F "$T_DIR/broken" sendmail -odq me@example.org < "$T_DIR/cron.eml" 2>"$T_DIR/sm.err"
is "$?" 0 "loft sendmail with a broken mailrc still queues (exit 0)"
like "$(cat "$T_DIR/sm.err")" "broken:1:15: log_level" "  ...and says what is wrong on stderr"
ok $([ -n "$(grep -l 'nightly job done' "$T_DIR"/Mail/.loft/queue/*.msg 2>/dev/null)" ]; echo $?) \
	"  ...into the queue of the folder set after the bad line"
"$LOFT" -F "$T_DIR/broken" deliver -a me@example.org < "$T_DIR/cron.eml" 2>"$T_DIR/dl.err"
is "$?" 0 "loft deliver with a broken mailrc still delivers (exit 0)"
ok $([ -n "$(grep -l 'nightly job done' "$T_DIR"/Mail/INBOX/new/* 2>/dev/null)" ]; echo $?) "  ...into INBOX"
like "$(cat "$T_DIR/dl.err")" "broken:3:14: color" "  ...logging the error"
run_loft -F "$T_DIR/broken" show "$T_DIR/cron.eml"
is "$RC" 78 "other commands still stop with 78"

P=$(free_port)
printf 'set folder=%s imap_listen= smtp_listen=127.0.0.1:%s\nset queue_interval=soon\n' "$T_DIR/Mail" "$P" > "$T_DIR/broken-d"
bg "$LOFT" -F "$T_DIR/broken-d" daemon 2> "$T_DIR/d.err"
DP=$!
for _ in $(seq 100); do grep -q 'started, pid' "$T_DIR/d.err" && break; kill -0 "$DP" 2>/dev/null || break; sleep 0.1; done
grep -q "started, pid $DP" "$T_DIR/d.err"
ok $? "loft daemon with a broken mailrc still starts its listeners" || diag "$(cat "$T_DIR/d.err")"
like "$(cat "$T_DIR/d.err")" "broken-d:2:20: queue_interval" "  ...and logs the error"
kill -TERM "$DP" 2>/dev/null; wait "$DP" 2>/dev/null
# 12. URL-shaped settings are checked when read, with the fix in the message;
# the example of loft-mailrc(5) loads.
printf 'set smarthost=smtp.example.org:587\n' > "$T_DIR/nourl"
run_loft check -F "$T_DIR/nourl"
is "$RC:$ERR" "78:loft: $T_DIR/nourl:1:15: smarthost: 'smtp.example.org:587' has no scheme: write smtp://smtp.example.org:587 (STARTTLS), or smtp+insecure://smtp.example.org:587 for plaintext" \
	"a smarthost without a scheme is refused at FILE:LINE:COL with the fix"
sed -n '/^\.SH EXAMPLE/,/^\.EE/p' "$TOP/doc/loft-mailrc.5.in" | sed '1,2d;$d' |
	sed "s|^set folder=.*|set folder=$T_DIR/Mail log_level=info|" > "$T_DIR/manexample"
mkdir -p "$HOME/.config/loft" && : > "$HOME/.config/loft/mailrc.local"
run_loft check -F "$T_DIR/manexample"
is "$RC" 0 "the EXAMPLE of loft-mailrc(5) passes loft check" || diag "$ERR"

# 13. One sender rule: loft check prints it, loft sendmail uses it.
printf 'set folder=%s\n' "$T_DIR/Mail" > "$T_DIR/nofrom"
run_loft check -F "$T_DIR/nofrom"
sender=$(sed -n 's/^# sender ([^)]*): //p' <<<"$OUT")
like "$sender" '^[^@ ]+@[^@ ]+\.[^@ ]+$' "loft check prints the default sender, USER@DOMAIN with a dotted domain"
rm -f "$T_DIR"/Mail/.loft/queue/*
printf 'Subject: who am I\n\nhi\n' | "$LOFT" -F "$T_DIR/nofrom" sendmail -odq me@example.org
is "$(sed -n 's/^From: //p' "$T_DIR"/Mail/.loft/queue/*.msg 2>/dev/null)" "$sender" "loft sendmail's From is the same address"
printf 'set folder=%s from="Ann <ann@example.org>"\n' "$T_DIR/Mail" > "$T_DIR/withfrom"
run_loft check -F "$T_DIR/withfrom"
like "$OUT" '^# sender \([^)]*\): Ann <ann@example\.org>$' "with from set, loft check prints it as written"

# 14. color objects are the ones the client draws (one list, in lib/):
# quoted3 was accepted, then ignored.
printf 'color quoted3 red default\ncolor qouted red default\ncolor quoted2 red default\n' > "$T_DIR/colors"
run_loft check -F "$T_DIR/colors"
is "$RC:$ERR" "78:loft: $T_DIR/colors:1:7: color: unknown object 'quoted3' (did you mean 'quoted'?)
loft: $T_DIR/colors:2:7: color: unknown object 'qouted' (did you mean 'quoted'?)" \
	"an object the client does not draw is an error at FILE:LINE:COL with a suggestion"

# 15. bind/macro actions and keys and color patterns are the client's, checked
# by loft check (and at start-up) with FILE:LINE:COL and did-you-mean; they
# used to be accepted and silently ignored.
printf '%s\n' 'bind index x delete-mesage' 'bind index <Dwn> next-entry' \
	'macro index Q "q"' 'color index red default "~q foo"' 'bind index é quit' \
	'color index red default "~f boss"' 'bind index,pager ^X sync-mailbox' > "$T_DIR/binds"
run_loft check -F "$T_DIR/binds"
is "$RC:$ERR" "78:loft: $T_DIR/binds:1:14: bind: unknown action 'delete-mesage' (did you mean 'delete-message'?)
loft: $T_DIR/binds:2:12: bind: unknown key '<Dwn>' (a character, ^X, \\ev, <Esc>v, <Enter>, <Down>, <F1>...)
loft: $T_DIR/binds:4:25: color: bad pattern '~q foo': unknown pattern (~f ~s ~t ~C ~L ~h ~b ~B ~d ~r ~N ~O ~U ~F ~D ~T ~A ~())" \
	"unknown actions, keys and patterns are errors at FILE:LINE:COL; the good lines pass"
echo 'hello' | "$LOFT" -F "$T_DIR/binds" sendmail -odq me@localhost 2>"$T_DIR/binds.err"
is "$?" 0 "loft sendmail still accepts mail with a bad bind line"
like "$(cat "$T_DIR/binds.err")" "binds:1:14: bind: unknown action" "and says what is wrong"

done_testing
