#!/bin/bash
# An untrusted certificate at the UI level against a private Dovecot with
# a self-signed certificate (STARTTLS and implicit TLS on 127.0.0.1): the
# scenarios of tests/ui_imap_tls_scenarios.sh, as tests/ui_imap_tls.t
# runs them against `loft daemon`.  Skipped, saying why, without root or
# dovecot-imapd.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"
IMAP_KIND=dovecot
. "$TOP/tests/ui_imap_tls_scenarios.sh"
