#!/usr/bin/env python3
"""A logging TCP proxy for tests:
imap_logproxy.py LISTEN_PORT TARGET_PORT LOG [SLOW_SECS [WORD]]

Listens on 127.0.0.1:LISTEN_PORT, forwards every connection to
127.0.0.1:TARGET_PORT and appends each line the client sends to LOG (one
line per command, flushed at once), so a test can count what loft asked
a server.  With SLOW_SECS, a client's chunk holding WORD (default
ENVELOPE: a header fetch) is held that long before it goes on, so a test
can watch a long wait; other connections go on meanwhile.  The words in
$PROXY_STRIP (e.g. "IDLE QRESYNC") are taken out of what the server
sends, so its capabilities lose them.  The commands in $PROXY_REFUSE
(separated by commas, e.g. "UID EXPUNGE,UID MOVE") are not passed on:
the client gets "TAG BAD" for them, as from a server without them.
With $PROXY_HOLD_FILE set, SLOW_SECS applies only while that file exists,
and the proxy removes it when it holds a chunk: a test stalls the next
command holding WORD, once per file it makes.  Prints
"ready" on stdout once it listens.  Plaintext only (imap+insecure://)."""
import os
import selectors
import socket
import sys
import time


def main():
    listen_port, target_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    slow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    word = (sys.argv[5] if len(sys.argv) > 5 else "ENVELOPE").encode()
    strip = [(" " + w).encode() for w in os.environ.get("PROXY_STRIP", "").split()]
    refuse = [w.strip().upper().encode() for w in os.environ.get("PROXY_REFUSE", "").split(",")
              if w.strip()]
    hold_file = os.environ.get("PROXY_HOLD_FILE")
    log = open(log_path, "ab", buffering=0)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, None)
    peer, pending, held = {}, {}, {}
    print("ready", flush=True)

    def close(s):
        for x in (s, peer.get(s)):
            if x is not None and x in peer:
                sel.unregister(x)
                x.close()
                peer.pop(x, None)
                pending.pop(x, None)
                held.pop(x, None)

    def send(s, data):
        try:
            peer[s].sendall(data)
        except (OSError, KeyError):
            pass

    while True:
        now = time.monotonic()
        # Held chunks whose time has come go on, in order.
        for s in list(held):
            while held.get(s) and held[s][0][0] <= now:
                send(s, held[s].pop(0)[1])
        waits = [q[0][0] - now for q in held.values() if q]
        for key, _ in sel.select(timeout=min(waits) if waits else None):
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                u = socket.create_connection(("127.0.0.1", target_port))
                peer[c], peer[u] = u, c
                pending[c] = b""
                sel.register(c, selectors.EVENT_READ, "client")
                sel.register(u, selectors.EVENT_READ, "server")
                continue
            if s not in peer:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                close(s)
                continue
            if key.data == "client":
                buf = pending[s] + data
                *lines, pending[s] = buf.split(b"\n")
                for line in lines:
                    log.write(line.rstrip(b"\r") + b"\n")
                    tag, _, cmd = line.partition(b" ")
                    if any(cmd.upper().startswith(r + b" ") for r in refuse):
                        data = data.replace(line + b"\n", b"", 1)
                        try:
                            s.sendall(tag + b" BAD command not offered here\r\n")
                        except OSError:
                            pass
                if not data:
                    continue
                q = held.setdefault(s, [])
                holding = slow and (hold_file is None or os.path.exists(hold_file))
                if holding and word in data and hold_file is not None:
                    os.unlink(hold_file)
                if q or (holding and word in data):
                    start = q[-1][0] if q else time.monotonic()
                    q.append((start + (slow if holding and word in data else 0), data))
                    continue
            else:
                for w in strip:
                    data = data.replace(w, b"")
            send(s, data)


if __name__ == "__main__":
    main()
