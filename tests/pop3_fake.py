#!/usr/bin/env python3
"""A scripted POP3 server for tests/sync_pull_pop3.t: one connection on
127.0.0.1 (port printed on stdout), then exit.

  pop3_fake.py nouidl   a mailbox of one message whose server answers -ERR
                        to UIDL (RFC 1939 makes UIDL optional)
  pop3_fake.py silent   greets, then reads and never answers (a hung server)
"""
import socket
import sys

MSG = b"From: x@example.org\r\nSubject: fake\r\n\r\nbody\r\n"


def main():
    mode = sys.argv[1]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(30)
    f = conn.makefile("rwb")
    f.write(b"+OK fake POP3 ready\r\n")
    f.flush()
    for line in f:
        if mode == "silent":
            continue
        cmd = line.split()[0].upper() if line.split() else b""
        if cmd == b"CAPA":	# RFC 2449 is optional too: USER/PASS then
            f.write(b"-ERR no CAPA\r\n")
        elif cmd == b"LIST":
            f.write(b"+OK 1 messages\r\n1 %d\r\n.\r\n" % len(MSG))
        elif cmd == b"UIDL":
            f.write(b"-ERR UIDL not supported\r\n")
        elif cmd == b"RETR":
            f.write(b"+OK\r\n" + MSG + b".\r\n")
        elif cmd == b"QUIT":
            f.write(b"+OK bye\r\n")
            f.flush()
            break
        else:
            f.write(b"+OK\r\n")
        f.flush()
    conn.close()


main()
