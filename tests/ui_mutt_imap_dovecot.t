#!/bin/bash
# The mutt habits of tests/ui_mutt_imap.t with the index on a folder of a
# private Dovecot (tests/imap_server.sh) instead of `loft daemon`.
# Skipped, saying why, without root or dovecot-imapd.
IMAP_KIND=dovecot exec bash "${TOP:-$(dirname "$0")/..}/tests/ui_mutt_imap.t"
