"""SELECT INBOX + UID FETCH 1:* (UID FLAGS), timed from the SELECT sent to
the FETCH's tagged reply, for bench/imap_fetch.sh.
  imap_fetch.py pipe CMD...                 a PREAUTH server on a pipe
  imap_fetch.py tcp HOST PORT USER PASSWORD MASTER
                                            a server over TCP (LOGIN first);
                                            also prints `rss KB`: the peak
                                            (VmHWM) of the `imap` children
                                            of the server's pid MASTER
Prints `time SECONDS` (both commands), `select SECONDS` and `fetched N`."""
import os
import socket
import subprocess
import sys
import time


def converse(rf, wf, login):
    rf.readline()  # greeting
    if login:
        wf.write(b'l LOGIN "%s" "%s"\r\n' % (login[0].encode(), login[1].encode()))
        wf.flush()
        while not rf.readline().startswith(b"l "):
            pass
    t0 = time.monotonic()
    wf.write(b"s SELECT INBOX\r\nf UID FETCH 1:* (UID FLAGS)\r\n")
    wf.flush()
    fetched = 0
    t_select = None
    for tag in (b"s ", b"f "):
        while True:
            line = rf.readline()
            if not line:
                sys.exit("server closed during the run")
            if line.startswith(tag):
                if not line.startswith(tag + b"OK"):
                    sys.exit("failed: " + line.decode(errors="replace"))
                t_select = t_select or time.monotonic() - t0
                break
            fetched += b" FETCH " in line
    elapsed = time.monotonic() - t0
    print("select %.4f" % t_select)
    return elapsed, fetched


def imap_rss_kb(master):
    best = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "imap" or fields[1] != master:
                    continue
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


if sys.argv[1] == "pipe":
    p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    elapsed, fetched = converse(p.stdout, p.stdin, None)
    p.stdin.write(b"o LOGOUT\r\n")
    p.stdin.close()
    p.stdout.read()
    p.wait()
else:
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    rf, wf = s.makefile("rb"), s.makefile("wb")
    elapsed, fetched = converse(rf, wf, (sys.argv[4], sys.argv[5]))
    print("rss %d" % imap_rss_kb(sys.argv[6]))
    wf.write(b"o LOGOUT\r\n")
    wf.flush()
    rf.read()
    s.close()
print("time %.4f" % elapsed)
print("fetched %d" % fetched)
