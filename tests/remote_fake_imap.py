#!/usr/bin/env python3
"""A scripted IMAP server for tests/remote_tls.t: plaintext on 127.0.0.1,
the capabilities it is told, every line it receives appended to a log (so
the test can check that no credential arrived, or how it was encoded).

    remote_fake_imap.py PORT LOG "CAPABILITIES"

It answers CAPABILITY, AUTHENTICATE (any mechanism, with or without an
initial response), LOGIN, LIST (INBOX, Archive as \\Noselect, Archive/Ete
in modified UTF-7; with RETURN (STATUS ...) other names, one of them a
literal), STATUS (MESSAGES = the length of the name as sent),
SELECT (4 messages), LOGOUT; IDLE sends an untagged "* 5 EXISTS" *before*
"+ idling" (what libetpan's own mailimap_idle cannot take; not with
X-NOEARLY among the capabilities; with X-LONGLINE a 100,000-byte line
first) and ends at DONE; UID SEARCH with "* SEARCH" and the UIDs in
$FAKE_SEARCH (none when unset); STARTTLS, when among the capabilities, is answered OK with a line
injected behind it in the same write, then the connection closes; anything else gets OK.  Connections are served one after the other;
LOG.ready appears once the port listens.  Stop it by its pid."""
import os
import socket
import sys

port, log_path, caps = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def log(line):
    with open(log_path, 'a') as f:
        f.write(line + '\n')


def serve(conn):
    f = conn.makefile('rwb', buffering=0)

    def send(text):
        f.write(text.encode() + b'\r\n')

    send(f'* OK [CAPABILITY {caps}] fake ready')
    while True:
        raw = f.readline()
        if not raw:
            return
        line = raw.decode(errors='replace').rstrip('\r\n')
        log(line)
        parts = line.split(' ')
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else '')
        if cmd == 'CAPABILITY':
            send(f'* CAPABILITY {caps}')
            send(f'{tag} OK done')
        elif cmd == 'AUTHENTICATE':
            if len(parts) < 4:
                send('+ ')
                log(f.readline().decode(errors='replace').rstrip('\r\n'))
            send(f'{tag} OK welcome')
        elif cmd == 'LIST' and 'RETURN (STATUS' in line:
            # LIST-STATUS: a STATUS before its LIST, an escaped quote, NIL
            # as delimiter, and a name sent as a literal.
            send('* STATUS "Quote\\"d" (MESSAGES 2 UNSEEN 0 UIDNEXT 3 UIDVALIDITY 4)')
            send('* LIST (\\HasNoChildren) NIL "Quote\\"d"')
            send('* LIST (\\HasNoChildren) "/" INBOX')
            send('* STATUS INBOX (MESSAGES 6 UNSEEN 5 UIDNEXT 7 UIDVALIDITY 8)')
            f.write(b'* LIST () "/" {3}\r\nOdd\r\n')
            send(f'{tag} OK listed')
        elif cmd == 'LIST':
            send('* LIST (\\HasNoChildren) "/" INBOX')
            send('* LIST (\\Noselect \\HasChildren) "/" Archive')
            send('* LIST (\\HasNoChildren) "/" "Archive/&AMk-t&AOk-"')
            send(f'{tag} OK listed')
        elif cmd == 'STATUS':
            name = parts[2].strip('"')
            send(f'* STATUS {parts[2]} (MESSAGES {len(name)} UNSEEN 1 UIDNEXT 9 UIDVALIDITY 7)')
            send(f'{tag} OK status')
        elif cmd in ('SELECT', 'EXAMINE'):
            send('* 4 EXISTS')
            send('* 0 RECENT')
            send('* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)')
            send('* OK [UIDVALIDITY 7] v')
            send('* OK [UIDNEXT 5] n')
            send(f'{tag} OK [READ-WRITE] selected')
        elif cmd == 'IDLE':
            if 'X-LONGLINE' in caps:
                send('* OK ' + 'x' * 100000)
            if 'X-NOEARLY' not in caps:
                send('* 5 EXISTS')
            send('+ idling')
            log(f.readline().decode(errors='replace').rstrip('\r\n'))
            send(f'{tag} OK idle done')
        elif cmd == 'LOGOUT':
            send('* BYE bye')
            send(f'{tag} OK bye')
            return
        elif cmd == 'STARTTLS' and 'STARTTLS' in caps:
            # The OK and an injected line in one write: plaintext a client
            # must not take as sent under TLS.
            f.write(f'{tag} OK begin TLS\r\n* 9 EXISTS\r\n'.encode())
            return
        elif cmd == 'STARTTLS':
            send(f'{tag} BAD not offered')
        elif cmd == 'UID' and len(parts) > 2 and parts[2].upper() == 'SEARCH':
            send(('* SEARCH ' + os.environ.get('FAKE_SEARCH', '')).rstrip())
            send(f'{tag} OK searched')
        else:
            send(f'{tag} OK done')


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(5)
open(log_path + '.ready', 'w').close()
while True:
    c, _ = srv.accept()
    try:
        serve(c)
    except (ConnectionError, OSError):
        pass
    finally:
        c.close()
