#!/bin/bash
# An untrusted certificate at the UI level against loft's own IMAP server
# (`loft daemon` with imap_listen and imaps_listen): the scenarios of
# tests/ui_imap_tls_scenarios.sh.  tests/ui_imap_tls_dovecot.t runs the
# same ones against a private Dovecot.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=loft
. "$TOP/tests/ui_imap_tls_scenarios.sh"
