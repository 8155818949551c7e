#!/usr/bin/env python3
"""A TCP proxy that cuts the connection mid-stream, for `loft sync` tests:
sync_cutproxy.py LISTEN_PORT TARGET_PORT up|down N

Listens on 127.0.0.1:LISTEN_PORT and forwards one connection to
127.0.0.1:TARGET_PORT; once N bytes have gone in the given direction (up:
client to server, down: server to client) it forwards exactly up to the
N-th byte and closes both sides, as a network that drops mid-FETCH or
mid-APPEND would.  Prints "ready" once it listens, "cut" when it cut."""
import selectors
import socket
import sys


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    direction, limit = sys.argv[3], int(sys.argv[4])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', listen_port))
    srv.listen(1)
    print('ready', flush=True)
    client, _ = srv.accept()
    server = socket.create_connection(('127.0.0.1', target_port))
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, (server, 'up'))
    sel.register(server, selectors.EVENT_READ, (client, 'down'))
    sent = 0
    while True:
        for key, _ in sel.select():
            dst, way = key.data
            data = key.fileobj.recv(65536)
            if not data:
                return
            if way == direction:
                if sent + len(data) >= limit:
                    dst.sendall(data[:limit - sent])
                    print('cut', flush=True)
                    client.close()
                    server.close()
                    return
                sent += len(data)
            dst.sendall(data)


main()
