#!/usr/bin/env python3
"""The independent observer of `loft sync` tests: Python's imaplib on the
server side, plain file reading on the maildir side.

  sync_observer.py PORT USER PASS seed FOLDER N PREFIX [FLAGS]
      APPENDs N messages <PREFIX.i@example.org> (i = 1..N) to FOLDER
      (created when missing) with FLAGS ("\\Seen \\Flagged"...).
  sync_observer.py PORT USER PASS dump FOLDER...
      one line per message: FOLDER MESSAGE-ID FLAGS (sorted, \\Recent
      dropped), lines sorted; then "count FOLDER N".
  sync_observer.py PORT USER PASS sysdump FOLDER...
      the same without keywords (what maildir file names can show).
  sync_observer.py PORT USER PASS store FOLDER MESSAGE-ID +FLAGS|-FLAGS
  sync_observer.py PORT USER PASS expunge FOLDER MESSAGE-ID
  sync_observer.py PORT USER PASS move FOLDER MESSAGE-ID TO-FOLDER
  sync_observer.py PORT USER PASS create FOLDER
  sync_observer.py PORT USER PASS folders
  sync_observer.py PORT USER PASS field FOLDER NAME
      one line per message, sorted: SUBJECT<TAB>the value of header NAME
      ("" when it has none)<TAB>FLAGS (as dump).
  sync_observer.py PORT USER PASS append FOLDER FILE [FLAGS]
      APPENDs the message in FILE (LF line ends made CRLF) with FLAGS.
  sync_observer.py stream 'loft -F RC imapd' - COMMAND...
      the same commands on the store, through loft's own IMAP server (so
      the dump shows the store's keywords too).
  sync_observer.py - - - local ROOT FOLDER...
      the dump of the maildirs ROOT/FOLDER (flags from the file names).
"""
import email.parser
import imaplib
import os
import re
import sys

LETTERS = {'S': '\\Seen', 'R': '\\Answered', 'F': '\\Flagged', 'T': '\\Deleted',
           'D': '\\Draft', 'P': '$Forwarded'}


def msgid_of(data):
    h = email.parser.BytesHeaderParser().parsebytes(data)
    return (h.get('Message-ID') or 'none').strip()


def connect(port, user, pw):
    if port == 'stream':	# user is a command serving IMAP on stdio, logged in
        return imaplib.IMAP4_stream(user)
    m = imaplib.IMAP4('127.0.0.1', int(port))
    m.login(user, pw)
    return m


def quote(folder):
    return '"' + folder.replace('\\', '\\\\').replace('"', '\\"') + '"'


def find(m, msgid):
    typ, data = m.uid('SEARCH', None, 'HEADER', 'Message-ID', '"%s"' % msgid)
    uids = data[0].split()
    if len(uids) != 1:
        sys.exit('%d messages with %s' % (len(uids), msgid))
    return uids[0]


def remote_dump(m, folder, system_only=False):
    typ, _ = m.select(quote(folder))
    if typ != 'OK':
        return ['count %s missing' % folder]
    typ, data = m.uid('FETCH', '1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = re.search(rb'FLAGS \(([^)]*)\)', item[0]).group(1).decode().split()
        flags = sorted(f for f in flags if f != '\\Recent' and
                       (not system_only or f[0] == '\\' or f == '$Forwarded'))
        out.append('%s %s %s' % (folder, msgid_of(item[1]), ' '.join(flags)))
    return sorted(out) + ['count %s %d' % (folder, len(out))]


def local_dump(root, folder):
    d = os.path.join(root, folder)
    out = []
    for sub in ('new', 'cur'):
        p = os.path.join(d, sub)
        if not os.path.isdir(p):
            continue
        for name in os.listdir(p):
            flags = []
            if ':2,' in name:
                flags = sorted(LETTERS[c] for c in name.split(':2,')[1] if c in LETTERS)
            with open(os.path.join(p, name), 'rb') as f:
                out.append('%s %s %s' % (folder, msgid_of(f.read()), ' '.join(flags)))
    return sorted(out) + ['count %s %d' % (folder, len(out))]


def main():
    port, user, pw, cmd = sys.argv[1:5]
    args = sys.argv[5:]
    if cmd == 'local':
        for folder in args[1:]:
            print('\n'.join(local_dump(args[0], folder)))
        return
    m = connect(port, user, pw)
    if cmd == 'seed':
        folder, n, prefix = args[0], int(args[1]), args[2]
        flags = '(%s)' % args[3] if len(args) > 3 else None
        m.create(quote(folder))
        # In order, 500 to a MULTIAPPEND (RFC 3502) with LITERAL+: one
        # round trip each, where 4,000 APPENDs one by one took a minute.
        for b in range(1, n + 1, 500):
            tag = b'seed%d' % b
            cmd = [tag, b' APPEND ', quote(folder).encode()]
            for i in range(b, min(b + 500, n + 1)):
                msg = ('From: seed@example.org\r\nTo: ann@example.org\r\n'
                       'Subject: %s %d\r\nMessage-ID: <%s.%d@example.org>\r\n'
                       'Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n'
                       'body of %s %d\r\n' % (prefix, i, prefix, i, prefix, i)).encode()
                cmd += [b' ' + flags.encode() if flags else b'', b' {%d+}\r\n' % len(msg), msg]
            m.send(b''.join(cmd) + b'\r\n')
            line = m.readline()
            while not line.startswith(tag + b' '):
                line = m.readline()
            assert line.startswith(tag + b' OK'), line
    elif cmd in ('dump', 'sysdump'):
        for folder in args:
            print('\n'.join(remote_dump(m, folder, cmd == 'sysdump')))
    elif cmd == 'store':
        m.select(quote(args[0]))
        uid = find(m, args[1])
        op, flags = args[2][0], args[2][1:]
        typ, _ = m.uid('STORE', uid, op + 'FLAGS.SILENT', '(%s)' % flags)
        assert typ == 'OK'
    elif cmd == 'expunge':
        m.select(quote(args[0]))
        uid = find(m, args[1])
        m.uid('STORE', uid, '+FLAGS.SILENT', '(\\Deleted)')
        m.uid('EXPUNGE', uid)
    elif cmd == 'move':
        m.select(quote(args[0]))
        typ, _ = m.uid('MOVE', find(m, args[1]), quote(args[2]))
        assert typ == 'OK'
    elif cmd == 'create':
        typ, _ = m.create(quote(args[0]))
        assert typ == 'OK'
    elif cmd == 'field':
        m.select(quote(args[0]))
        typ, data = m.uid('FETCH', '1:*', '(FLAGS BODY.PEEK[HEADER])')
        out = []
        for item in data:
            if isinstance(item, tuple):
                h = email.parser.BytesHeaderParser().parsebytes(item[1])
                flags = re.search(rb'FLAGS \(([^)]*)\)', item[0]).group(1).decode().split()
                flags = sorted(f for f in flags if f != '\\Recent')
                out.append('%s\t%s\t%s' % (h.get('Subject', ''), (h.get(args[1]) or '').strip(),
                                           ' '.join(flags)))
        print('\n'.join(sorted(out)))
    elif cmd == 'append':
        with open(args[1], 'rb') as f:
            msg = f.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
        flags = '(%s)' % args[2] if len(args) > 2 else None
        typ, _ = m.append(quote(args[0]), flags, None, msg)
        assert typ == 'OK'
    elif cmd == 'folders':
        typ, data = m.list()
        names = []
        for line in data:
            mm = re.match(rb'\(.*?\) (?:"."|NIL) (.*)$', line)
            names.append(mm.group(1).decode().strip('"'))
        print('\n'.join(sorted(names)))
    m.logout()


main()
