#!/bin/bash
# The mail client on a folder of a private Dovecot (127.0.0.1, its own
# base_dir, a passwd-file passdb; tests/dovecot_instance.sh), mail
# delivered by dovecot-lda: the scenarios of tests/ui_imap_scenarios.sh,
# as tests/ui_imap.t runs them against `loft daemon`.  Skipped, saying
# why, without root or dovecot-imapd.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=dovecot
. "$TOP/tests/ui_imap_scenarios.sh"
