#!/bin/bash
# POP3 pull over TLS and against servers that misbehave: pop3s:// and
# pop3:// (STLS) to a private Dovecot with a test certificate, trusted by
# imap_ca or a pinned imap_fingerprint, refused before the password
# command runs when neither trusts it; a server without UIDL refused with
# a clear error, nothing stored; a server that stops answering gives up
# after imap_timeout (tests/pop3_fake.py).  Skipped as tests/sync_pull.t.
. "$TOP/tests/lib.sh"

SYNC_PULL_TLS=1
. "$TOP/tests/sync_pull_setup.sh"

# seed N: N messages in ann's INBOX, "tlsN-I".
seed() { for i in $(seq "$2"); do probe append INBOX "$1-$i"; done; }
# pop URL [LINES...]: the mailrc with account pop on URL, and `loft sync pop`.
pop() {
	local url=$1; shift
	make_mailrc "account pop {" "set pop3_url=$url" \
		"set imap_password_command='touch $T_DIR/asked; echo annpass1'" \
		"set sync=pull" "set pull_after=delete" "$@" "}"
	rm -f "$T_DIR/asked"
	run_loft sync pop
}
pop3count() { python3 "$TOP/tests/sync_pull_probe.py" "$POP3_PORT" ann annpass1 pop3count; }

seed s 2
pop "pop3s://ann@localhost:$POP3S_PORT"
is "$RC" 75 "pop3s:// with an untrusted certificate: temporary failure"
like "$ERR" "certificate of localhost not trusted: .*imap_fingerprint SHA256:" \
	"the refusal names the fingerprint to pin"
[ ! -e "$T_DIR/asked" ]; ok $? "the password command did not run"

pop "pop3s://ann@localhost:$POP3S_PORT" "set imap_ca=$DV/cert.pem"
is "$RC" 0 "pop3s:// with imap_ca: pulled" || diag "$ERR"
like "$OUT" "^pop: 1 folders, 2 down" "two messages over implicit TLS"
is "$(copies s-1)$(copies s-2)$(pop3count)" 110 "stored once each, deleted upstream"

seed t 1
pop "pop3://ann@localhost:$POP3_PORT" "set imap_ca=$DV/cert.pem"
is "$RC" 0 "pop3:// upgrades with STLS" || diag "$ERR"
is "$(copies t-1)$(pop3count)" 10 "pulled over STLS"

FP=$(openssl x509 -in "$DV/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
seed u 1
pop "pop3s://ann@127.0.0.1:$POP3S_PORT" "set imap_fingerprint=SHA256:$FP"
is "$RC" 0 "a pinned fingerprint replaces the CA and host name checks" || diag "$ERR"
is "$(copies u-1)" 1 "pulled with the pin"

# A server without UIDL.
python3 "$TOP/tests/pop3_fake.py" nouidl > "$T_DIR/fake.port" &
T_PIDS+=($!)
for _ in $(seq 50); do [ -s "$T_DIR/fake.port" ] && break; sleep 0.1; done
pop "pop3+insecure://ann@127.0.0.1:$(cat "$T_DIR/fake.port")"
is "$RC" 69 "a POP3 server without UIDL: refused (EX_UNAVAILABLE)"
like "$ERR" "does not answer UIDL: loft pulls only from a POP3 server that names its messages" \
	"with a clear error"
is "$(copies fake)" 0 "nothing stored"

# A server that stops answering after its greeting.
python3 "$TOP/tests/pop3_fake.py" silent > "$T_DIR/fake.port" &
T_PIDS+=($!)
for _ in $(seq 50); do [ -s "$T_DIR/fake.port" ] && break; sleep 0.1; done
t0=$(date +%s)
pop "pop3+insecure://ann@127.0.0.1:$(cat "$T_DIR/fake.port")" "set imap_timeout=2"
t=$(( $(date +%s) - t0 ))
is "$RC" 75 "a silent server: temporary failure"
like "$ERR" "timeout" "the error says timeout"
[ "$t" -le 8 ]; ok $? "given up after imap_timeout (2 s): took $t s"

done_testing
