#!/usr/bin/env python3
"""A scripted smarthost for tests/relay.t: plain ESMTP with PIPELINING on
127.0.0.1, answers chosen per recipient, and a connection that dies in the
middle of DATA on demand.

usage: fake_smarthost.py PORT DUMPDIR [--reply ADDR=CODE TEXT]... [--drop-after N]
                         [--ehlo-flood] [--trickle SECONDS]
  --reply      the RCPT answer for ADDR (default 250)
  --drop-after N  the first DATA that gets N bytes has its connection closed
               (no reply); later ones are accepted
  --ehlo-flood    EHLO is answered with "250-" lines that never end
  --trickle S     every reply goes out one byte every S seconds
Each accepted message is DUMPDIR/N.eml: "MAIL <s>", "RCPT <r>"..., a blank
line, then the data exactly as received (dot-stuffing undone).
Prints "ready" once listening; logs sessions to stderr.
"""
import os
import socket
import sys
import threading
import time

port, dump = int(sys.argv[1]), sys.argv[2]
replies, drop_after, ehlo_flood, trickle = {}, None, False, 0.0
args = sys.argv[3:]
while args:
    if args[0] == "--reply":
        addr, answer = args[1].split("=", 1)
        replies[addr.lower()] = answer
        args = args[2:]
    elif args[0] == "--ehlo-flood":
        ehlo_flood = True
        args = args[1:]
    elif args[0] == "--trickle":
        trickle = float(args[1])
        args = args[2:]
    elif args[0] == "--drop-after":
        drop_after = int(args[1])
        args = args[2:]
    else:
        sys.exit("bad argument " + args[0])
lock = threading.Lock()
state = {"n": 0, "dropped": False, "sessions": 0}


def serve(conn):
    f = conn.makefile("rb")

    def send(s):
        data = s.encode() + b"\r\n"
        if not trickle:
            conn.sendall(data)
            return
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(trickle)
    send("220 fake.test ESMTP")
    sender, rcpts = None, []
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode("utf-8", "replace").rstrip("\r\n")
        verb = cmd[:4].upper()
        if verb == "EHLO" and ehlo_flood:
            while True:
                conn.sendall(b"250-FLOOD" + b"x" * 60 + b"\r\n")
        elif verb == "EHLO":
            send("250-fake.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10000000")
        elif verb == "MAIL":
            sender, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
            send("250 2.1.0 Ok")
        elif verb == "RCPT":
            addr = cmd[8:].split(">")[0].lstrip("<")
            answer = replies.get(addr.lower(), "250 2.1.5 Ok")
            if answer.startswith("2"):
                rcpts.append(addr)
            send(answer)
        elif verb == "DATA":
            if not rcpts:
                send("554 5.5.1 No valid recipients")
                continue
            send("354 End data with <CR><LF>.<CR><LF>")
            data, got = b"", 0
            while True:
                l = f.readline()
                if not l:
                    return
                got += len(l)
                with lock:
                    if drop_after is not None and not state["dropped"] and got >= drop_after:
                        state["dropped"] = True
                        sys.stderr.write("dropping the connection mid-DATA\n")
                        conn.shutdown(socket.SHUT_RDWR)
                        conn.close()
                        return
                if l == b".\r\n":
                    break
                data += l[1:] if l.startswith(b".") else l
            with lock:
                state["n"] += 1
                n = state["n"]
            with open(os.path.join(dump, "%d.eml" % n), "wb") as out:
                out.write(("MAIL <%s>\n" % sender).encode())
                for r in rcpts:
                    out.write(("RCPT <%s>\n" % r).encode())
                out.write(b"\n" + data)
            send("250 2.0.0 Ok: queued as FAKE%d" % n)
        elif verb == "RSET":
            sender, rcpts = None, []
            send("250 2.0.0 Ok")
        elif verb == "QUIT":
            send("221 2.0.0 Bye")
            return
        else:
            send("502 5.5.2 Error: command not recognized")


def session(conn):
    with lock:
        state["sessions"] += 1
        sys.stderr.write("session %d\n" % state["sessions"])
        sys.stderr.flush()
    try:
        serve(conn)
    except OSError:
        pass
    finally:
        conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=session, args=(c,), daemon=True).start()
