#!/usr/bin/env python3
"""A logging TCP proxy for tests:
imap_logproxy.py LISTEN_PORT TARGET_PORT LOG [SLOW_SECS]

Listens on 127.0.0.1:LISTEN_PORT, forwards every connection to
127.0.0.1:TARGET_PORT and appends each line the client sends to LOG (one
line per command, flushed at once), so a test can count what loft asked
a server.  With SLOW_SECS, a client's chunk naming ENVELOPE (a header
fetch) waits that long before it goes on, so a test can watch a long
fetch under way.  Prints "ready" on stdout once it listens.  Plaintext only (a
test uses imap+insecure://)."""
import selectors
import socket
import sys
import time


def main():
    listen_port, target_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    slow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    log = open(log_path, "ab", buffering=0)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, None)
    peer = {}
    pending = {}
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                u = socket.create_connection(("127.0.0.1", target_port))
                peer[c], peer[u] = u, c
                pending[c] = b""
                sel.register(c, selectors.EVENT_READ, "client")
                sel.register(u, selectors.EVENT_READ, "server")
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            other = peer.get(s)
            if not data:
                for x in (s, other):
                    if x is not None and x in peer:
                        sel.unregister(x)
                        x.close()
                        peer.pop(x, None)
                        pending.pop(x, None)
                continue
            if key.data == "client":
                buf = pending[s] + data
                *lines, pending[s] = buf.split(b"\n")
                for line in lines:
                    log.write(line.rstrip(b"\r") + b"\n")
                if slow and b"ENVELOPE" in data:
                    time.sleep(slow)
            try:
                other.sendall(data)
            except OSError:
                pass


if __name__ == "__main__":
    main()
