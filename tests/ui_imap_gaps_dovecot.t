#!/bin/bash
# The scenarios of tests/ui_imap_gaps_scenarios.sh (trash, the postponed
# list, Ctrl-G on the folder list, a server without UIDPLUS) against a
# private Dovecot (tests/dovecot_instance.sh), as tests/ui_imap_gaps.t
# runs them against `loft daemon`.  Skipped, saying why, without root or
# dovecot-imapd.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=dovecot
. "$TOP/tests/ui_imap_gaps_scenarios.sh"
