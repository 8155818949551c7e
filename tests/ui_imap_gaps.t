#!/bin/bash
# The last gaps of the client on an IMAP folder (trash, the postponed
# list, Ctrl-G on the folder list, a server without UIDPLUS) against
# `loft daemon`: the scenarios of tests/ui_imap_gaps_scenarios.sh.
# tests/ui_imap_gaps_dovecot.t runs the same ones against a private
# Dovecot.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=loft
. "$TOP/tests/ui_imap_gaps_scenarios.sh"
