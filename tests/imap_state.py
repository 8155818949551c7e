#!/usr/bin/env python3
"""Prints what an IMAP client sees of some folders, through `loft imapd`
(imaplib's IMAP4_stream), for the crash and concurrency tests:
    FOLDER uidvalidity V uidnext N
    FOLDER UID MESSAGE-ID FLAGS      (one line per message, in UID order)
A folder that does not SELECT prints "FOLDER unselectable".  Usage:
    imap_state.py "LOFT -F MAILRC imapd" FOLDER...   """
import imaplib, re, sys

m = imaplib.IMAP4_stream(sys.argv[1])
for folder in sys.argv[2:]:
    typ, d = m.select(folder, readonly=True)
    if typ != "OK":
        print(folder, "unselectable")
        continue
    typ, st = m.status(folder, "(UIDVALIDITY UIDNEXT)")
    uv = re.search(rb"UIDVALIDITY (\d+)", st[0]).group(1).decode()
    un = re.search(rb"UIDNEXT (\d+)", st[0]).group(1).decode()
    print(folder, "uidvalidity", uv, "uidnext", un)
    if int(d[0]) == 0:
        continue
    # Flags and Message-IDs in two FETCHes: a server may order the items
    # of one FETCH as it likes, and imaplib splits them around literals.
    typ, d = m.uid("FETCH", "1:*", "(UID FLAGS)")
    flags = {}
    for line in d:
        uid = int(re.search(rb"UID (\d+)", line).group(1))
        fl = re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode()
        # \Recent belongs to one session, not to the folder.
        flags[uid] = " ".join(sorted(f for f in fl.split() if f != "\\Recent"))
    typ, d = m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    rows = []
    for item in d:
        if not isinstance(item, tuple):
            continue
        uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
        mid = re.search(rb"<([^>]*)>", item[1])
        rows.append((uid, mid.group(1).decode() if mid else "-", flags.get(uid, "?")))
    for uid, mid, flags in sorted(rows):
        print(folder, uid, mid, flags)
m.logout()
