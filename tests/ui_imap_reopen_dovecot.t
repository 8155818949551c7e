#!/bin/bash
# Reopening a folder of a private Dovecot (tests/imap_server.sh): the
# scenarios of tests/ui_imap_reopen_scenarios.sh, as tests/ui_imap_reopen.t
# runs them against `loft daemon`.  Skipped, saying why, without root or
# dovecot-imapd.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=dovecot
. "$TOP/tests/ui_imap_reopen_scenarios.sh"
