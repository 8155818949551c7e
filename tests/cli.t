#!/bin/bash
# The command line: global options, dispatch, exit codes (sysexits.h).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

run_loft --version
is "$RC" 0 "--version exits 0"
like "$OUT" '^loft [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

run_loft --help
is "$RC" 0 "--help exits 0"
like "$OUT" 'usage: loft' "--help prints usage"
like "$OUT" 'show ' "--help lists the show command"

run_loft help show
is "$RC" 0 "help COMMAND exits 0"
like "$OUT" 'usage: loft show' "help show prints its usage"

run_loft help nosuch
is "$RC" 64 "help of an unknown command exits 64"

run_loft frobnicate
is "$RC" 64 "unknown command exits 64 (EX_USAGE)"
like "$ERR" "unknown command 'frobnicate'" "unknown command is named"
like "$ERR" 'usage: loft' "unknown command prints usage"

run_loft --bogus-flag
is "$RC" 64 "unknown global flag exits 64"

run_loft show --bogus-flag /dev/null
is "$RC" 64 "unknown command flag exits 64"

# With no command loft starts the mail client, which needs a terminal.
run_loft < /dev/null
is "$RC" 64 "loft with no command and no terminal exits 64" 
like "$ERR" "needs a terminal" "and says why"

# No mailrc anywhere: embedded defaults.
run_loft check
is "$RC" 0 "loft check with no config runs on the defaults"
like "$OUT" "set folder=.*$HOME/Mail" "default store is ~/Mail"
like "$OUT" 'set imap_listen="?127\.0\.0\.1:1143' "default IMAP listener is loopback"
like "$OUT" 'set smtp_listen="?127\.0\.0\.1:1587' "default SMTP listener is loopback"

# -F before and after the command, $LOFTRC, and the per-user file.
echo "set folder=$T_DIR/one" > "$T_DIR/one.rc"
echo "set folder=$T_DIR/two" > "$T_DIR/two.rc"
run_loft -F "$T_DIR/one.rc" check
like "$OUT" "folder=.*$T_DIR/one" "-F FILE before the command"
run_loft check -F "$T_DIR/two.rc"
like "$OUT" "folder=.*$T_DIR/two" "-F FILE after the command"
LOFTRC="$T_DIR/two.rc" run_loft check
like "$OUT" "folder=.*$T_DIR/two" "\$LOFTRC is read"
LOFTRC="$T_DIR/two.rc" run_loft -F "$T_DIR/one.rc" check
like "$OUT" "folder=.*$T_DIR/one" "-F wins over \$LOFTRC"
mkdir -p "$HOME/.config/loft" && cp "$T_DIR/one.rc" "$HOME/.config/loft/mailrc"
run_loft check
like "$OUT" "folder=.*$T_DIR/one" "~/.config/loft/mailrc is read when present"

# argv[0] dispatch: loft-CMD runs CMD.
ln -s "$LOFT" "$T_DIR/loft-check"
OUT=$("$T_DIR/loft-check" 2>&1); RC=$?
is "$RC" 0 "loft-check (argv[0]) runs check"
like "$OUT" "set folder=" "loft-check prints the settings"
ln -s "$LOFT" "$T_DIR/sendmail"
OUT=$("$T_DIR/sendmail" -t </dev/null 2>&1); RC=$?
like "$OUT" "sendmail|usage" "sendmail (argv[0]) is dispatched by name"

done_testing
