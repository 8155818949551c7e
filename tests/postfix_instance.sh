#!/bin/bash
# A throwaway Postfix for tests and benchmarks: its own config, queue and
# data directories under DIR, smtpd on 127.0.0.1:PORT only, no DNS, mail for
# DOMAIN delivered by `virtual` into DIR/mail/maildir/ (as nobody).
#
#   postfix_instance.sh start DIR PORT DOMAIN   (returns once it listens)
#   postfix_instance.sh stop DIR                (postfix stop, then the
#                                               master's pid if still alive)
# Needs root (Postfix's master starts as root and drops to `postfix`).
set -u
POSTFIX=/usr/sbin/postfix
cmd=$1 dir=$2
case $cmd in
start)
	port=$3 domain=$4
	mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/mail"
	sed "s/^smtp      inet.*/127.0.0.1:$port inet n - n - - smtpd/" /etc/postfix/master.cf > "$dir/etc/master.cf"
	cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.test
mydestination =
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
virtual_mailbox_domains = $domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
alias_maps =
alias_database =
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
default_process_limit = 100
CF
	chown nobody "$dir/mail"
	chown postfix "$dir/data"
	# Postfix's processes must reach their directories.
	d=$dir; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null; d=$(dirname "$d"); done
	"$POSTFIX" -c "$dir/etc" start >/dev/null 2>&1 || { tail -3 "$dir/maillog" >&2; exit 1; }
	for _ in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null && exit 0
		sleep 0.1
	done
	echo "postfix did not start: $(tail -3 "$dir/maillog")" >&2
	exit 1 ;;
stop)
	[ -f "$dir/spool/pid/master.pid" ] || exit 0
	pid=$(tr -d ' \n' < "$dir/spool/pid/master.pid")
	"$POSTFIX" -c "$dir/etc" stop >/dev/null 2>&1
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
	kill "$pid" 2>/dev/null
	exit 0 ;;
esac
echo "usage: postfix_instance.sh start DIR PORT DOMAIN | stop DIR" >&2
exit 64
