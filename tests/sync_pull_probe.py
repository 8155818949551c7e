#!/usr/bin/env python3
"""The server side of tests/sync_pull*.t, seen by imaplib and poplib (an
independent observer of what loft did upstream).

  sync_pull_probe.py PORT USER PASSWORD append FOLDER SUBJECT [LIST-ID]
  sync_pull_probe.py PORT USER PASSWORD create FOLDER
  sync_pull_probe.py PORT USER PASSWORD list FOLDER
      one line per message: SUBJECT FLAGS (sorted, space separated)
  sync_pull_probe.py PORT USER PASSWORD pop3count
      the number of messages POP3 lists (PORT is the POP3 port)
"""
import imaplib
import poplib
import sys


def main():
    port, user, password, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if cmd == "pop3count":
        p = poplib.POP3("127.0.0.1", port, timeout=10)
        p.user(user)
        p.pass_(password)
        print(p.stat()[0])
        p.quit()
        return
    m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    m.login(user, password)
    folder = sys.argv[5]
    if cmd == "create":
        m.create(folder)
    elif cmd == "append":
        subject = sys.argv[6]
        extra = "List-Id: <%s>\r\n" % sys.argv[7] if len(sys.argv) > 7 else ""
        msg = ("From: sender@example.org\r\nTo: ann@example.org\r\nSubject: %s\r\n"
               "Message-ID: <%s@example.org>\r\n%s\r\nbody of %s\r\n"
               % (subject, subject, extra, subject))
        m.create(folder)
        typ, _ = m.append(folder, None, None, msg.encode())
        assert typ == "OK"
    elif cmd == "list":
        typ, _ = m.select(folder, readonly=True)
        if typ != "OK":
            return
        typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            subject = body.decode().strip().split(":", 1)[1].strip()
            flags = head.decode().split("FLAGS (", 1)[1].split(")", 1)[0].split()
            print(subject, " ".join(sorted(f for f in flags if f != "\\Recent")))
    m.logout()


main()
