#!/bin/sh
# Installs the Debian packages loft needs to build and test, only those
# missing, so a second run costs one dpkg-query.  `deps.sh fuzz` adds clang.
set -e
PKGS="build-essential pkg-config libncurses-dev libssl-dev libetpan-dev
libnotmuch-dev notmuch libgmime-3.0-dev liblmdb-dev libcrypt-dev
libcmocka-dev libsasl2-modules tmux python3 time dovecot-sieve swaks
libnet-ssleay-perl openssl postfix msmtp locales isync
dovecot-imapd dovecot-pop3d socat offlineimap3 neomutt libfaketime"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang-14 libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Postfix only for smtp-sink, smtp-source and throwaway test instances: no
# system mail daemon is set up.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
