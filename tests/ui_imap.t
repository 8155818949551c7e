#!/bin/bash
# The mail client on a folder of loft's own IMAP server (`loft daemon`
# with a device login): the scenarios of tests/ui_imap_scenarios.sh.
# tests/ui_imap_dovecot.t runs the same ones against a private Dovecot.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=loft
. "$TOP/tests/ui_imap_scenarios.sh"
