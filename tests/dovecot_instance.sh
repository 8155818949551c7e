#!/bin/bash
# A throwaway Dovecot IMAP server for tests and benchmarks: config, base_dir,
# state and maildirs under DIR (which must be traversable by the mail,
# dovecot and dovenull users: a fresh mktemp -d under /tmp), plaintext IMAP
# on 127.0.0.1:PORT only, users from DIR/passwd ("NAME:{PLAIN}PW:8:8::HOME"
# lines; add_user appends one), mail as the `mail` user in
# maildir:DIR/mail/NAME, Sent/Drafts/Trash created and subscribed with their
# SPECIAL-USE attributes as `loft init` makes them.
#
#   dovecot_instance.sh start DIR PORT [TLSPORT]
#                   prints the master's pid; returns once the port answers.
#                   With TLSPORT: implicit TLS there and STARTTLS on PORT,
#                   with DIR/cert.pem and DIR/key.pem (a self-signed
#                   certificate for localhost, made when missing).
#                   With POP3_PORT set in the environment: POP3 on
#                   127.0.0.1:POP3_PORT as well (dovecot-pop3d; STLS there
#                   with TLSPORT), and with POP3S_PORT implicit TLS there.
#                   With OAUTH2_URL set: an oauth2 passdb besides the
#                   passwd-file one, for the mechanisms OAUTH2_MECHS
#                   (default "xoauth2 oauthbearer"), checking tokens by
#                   POSTing them to that introspection URL (expects
#                   {"active": true, "username": NAME}; tests/oauth_server.py).
#                   With IMAP_CAPABILITY set: Dovecot's imap_capability,
#                   the capabilities it offers after login.
#                   With NO_AUTH_PENALTY set: no auth penalty (Dovecot
#                   otherwise holds the logins from an address after a
#                   failed one for 2 s, doubling up to 15 s).
#                   With DOVECOT_PERFORMANCE set: its documented
#                   high-performance mode (login processes serve many
#                   connections, service_count = 0; one login and one imap
#                   process kept started, process_min_avail = 1), not a
#                   new process for each connection and each session.
#   dovecot_instance.sh add_user DIR NAME PASSWORD
#   dovecot_instance.sh add_user_crypt DIR NAME CRYPT-HASH
# Stop it with kill PID.  Needs root and the dovecot-imapd package.
set -u
cmd=$1 dir=$2
case $cmd in
add_user)
	echo "$3:{PLAIN}$4:8:8::$dir/mail/$3" >> "$dir/passwd"
	;;
add_user_crypt)
	# $4 is a crypt(3) string, e.g. the yescrypt hash `loft passwd` wrote.
	echo "$3:{CRYPT}$4:8:8::$dir/mail/$3" >> "$dir/passwd"
	;;
start)
	port=$3 tlsport=${4:-0} ssl=no
	chmod 755 "$dir"
	if [ "$tlsport" != 0 ]; then
		ssl=yes
		[ -f "$dir/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 30 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
			-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || exit 1
	fi
	mkdir -p "$dir/run" "$dir/state" "$dir/mail"
	chown mail:mail "$dir/mail"
	touch "$dir/passwd"
	[ -n "${OAUTH2_URL:-}" ] && printf '%s\n' "introspection_url = $OAUTH2_URL" \
		"introspection_mode = post" "username_attribute = username" \
		"active_attribute = active" "active_value = true" > "$dir/oauth2.conf"
	cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
listen = 127.0.0.1
protocols = imap${POP3_PORT:+ pop3}
ssl = $ssl
$([ "$ssl" = yes ] && printf 'ssl_cert = <%s\nssl_key = <%s\n' "$dir/cert.pem" "$dir/key.pem")
disable_plaintext_auth = no
auth_mechanisms = plain login${OAUTH2_URL:+ ${OAUTH2_MECHS:-xoauth2 oauthbearer}}
$([ -n "${IMAP_CAPABILITY:-}" ] && echo "imap_capability = $IMAP_CAPABILITY")
$([ -n "${NO_AUTH_PENALTY:-}" ] && printf 'service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n')
log_path = $dir/dovecot.log
first_valid_uid = 8
mail_location = maildir:$dir/mail/%u
mail_uid = mail
mail_gid = mail
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = $dir/passwd
  mechanisms = plain login
}
$([ -n "${OAUTH2_URL:-}" ] && printf 'passdb {\n  driver = oauth2\n  mechanisms = %s\n  args = %s\n}\n' "${OAUTH2_MECHS:-xoauth2 oauthbearer}" "$dir/oauth2.conf")
userdb {
  driver = passwd-file
  args = $dir/passwd
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
service imap-login {
$([ -n "${DOVECOT_PERFORMANCE:-}" ] && printf '  service_count = 0\n  process_min_avail = 1\n')
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tlsport
  }
}
$([ -n "${POP3_PORT:-}" ] && printf 'service pop3-login {\n  inet_listener pop3 {\n    address = 127.0.0.1\n    port = %s\n  }\n  inet_listener pop3s {\n    address = 127.0.0.1\n    port = %s\n  }\n}\n' "$POP3_PORT" "${POP3S_PORT:-0}")
$([ -n "${DOVECOT_PERFORMANCE:-}" ] && printf 'service imap {\n  process_min_avail = 1\n}\n')
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
	dovecot -F -c "$dir/dovecot.conf" > "$dir/stdout" 2>&1 &
	pid=$!
	# ready once the greeting comes (auth ready too, not only the port)
	for _ in $(seq 100); do
		kill -0 $pid 2>/dev/null || { cat "$dir/dovecot.log" "$dir/stdout" >&2; exit 1; }
		g=$(printf 'x LOGOUT\r\n' | timeout 2 socat -T2 - TCP:127.0.0.1:$port 2>/dev/null | head -1)
		case $g in "* OK ["*) echo $pid; exit 0 ;; esac
		sleep 0.1
	done
	kill $pid
	echo "dovecot did not start" >&2
	exit 1
	;;
esac
