#!/bin/bash
# Reopening a folder of loft's own IMAP server (`loft daemon`): the
# scenarios of tests/ui_imap_reopen_scenarios.sh.
# tests/ui_imap_reopen_dovecot.t runs the same ones against a private
# Dovecot.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=loft
. "$TOP/tests/ui_imap_reopen_scenarios.sh"
