#!/usr/bin/env python3
"""IMAP extensions of `loft imapd` through imaplib's IMAP4_stream, checked
against the RFC examples.  Prints PASS/FAIL lines for tests/imap_ext.t.
Usage: imap_ext_probe.py "LOFT -F MAILRC imapd" STORE_ROOT"""
import imaplib, os, re, sys

cmd, root = sys.argv[1], sys.argv[2]
fails = 0


def check(cond, name, got=None):
    global fails
    print(("PASS " if cond else "FAIL ") + name)
    if not cond:
        fails += 1
        if got is not None:
            print("got: %r" % (got,))


def raw(m, text):
    """Sends one command; returns (tagged line, untagged lines), literals
    inlined.  For replies imaplib would not keep apart (VANISHED, MODIFIED)."""
    tag = m._new_tag().decode()
    m.send(("%s %s\r\n" % (tag, text)).encode())
    untagged = []
    while True:
        line = m.readline()
        while True:
            lit = re.search(rb"\{(\d+)\}\r\n$", line)
            if not lit:
                break
            line = line + m.read(int(lit.group(1))) + m.readline()
        line = line.rstrip(b"\r\n").decode("utf-8", "replace")
        if line.startswith(tag + " "):
            return line[len(tag) + 1:], untagged
        untagged.append(line)


def session():
    return imaplib.IMAP4_stream(cmd)


def msg(n):
    return ("From: a@example.org\r\nSubject: m%d\r\nMessage-ID: <m%d@example.org>\r\n\r\nbody %d\r\n"
            % (n, n, n)).encode()


def code(line, name):
    """The value of a response code [NAME value] in line, or None."""
    r = re.search(r"\[%s ([^\]]*)\]" % name, line)
    return r.group(1) if r else None


# ---------------- CONDSTORE (RFC 7162 section 3.1) ----------------
a = session()
a.capability()
for c in ("CONDSTORE", "QRESYNC"):
    check(c in a.capabilities, "CAPABILITY lists " + c)
for i in range(1, 6):
    a.append("INBOX", None, None, msg(i))
t, u = raw(a, "SELECT INBOX (CONDSTORE)")
hms = int(next((code(x, "HIGHESTMODSEQ") for x in u if code(x, "HIGHESTMODSEQ")), "0"))
check(t.startswith("OK") and hms > 0, "SELECT (CONDSTORE) sends OK [HIGHESTMODSEQ n]", u)
check(not any("NOMODSEQ" in x for x in u), "never NOMODSEQ")
t, u = raw(a, "FETCH 1:* (FLAGS MODSEQ)")
mods = {int(re.match(r"\* (\d+)", x).group(1)): int(re.search(r"MODSEQ \((\d+)\)", x).group(1))
        for x in u if "FETCH" in x}
check(len(mods) == 5 and max(mods.values()) <= hms, "FETCH MODSEQ for each message, none above HIGHESTMODSEQ", u)
t, u = raw(a, "STORE 2 +FLAGS (\\Flagged)")
m2 = int(re.search(r"MODSEQ \((\d+)\)", u[0]).group(1)) if u else 0
check(t.startswith("OK") and m2 > hms and "FLAGS (" in u[0], "STORE after CONDSTORE: FETCH with FLAGS and a higher MODSEQ", u)
# RFC 7162 3.1.3 example: STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)
t, u = raw(a, "STORE 4,2,3 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Deleted)" % hms)
check(code(t, "MODIFIED") == "2" and t.startswith("OK"), "UNCHANGEDSINCE: OK [MODIFIED 2] for the message changed since", t)
check(sorted(x.split()[1] for x in u) == ["3", "4"] and all(re.match(r"\* \d FETCH \(MODSEQ \(\d+\)\)$", x) for x in u),
      "UNCHANGEDSINCE with .SILENT: FETCH (MODSEQ) only for the stored ones", u)
t, u = raw(a, "FETCH 2 (FLAGS)")
check("\\Deleted" not in u[0], "the MODIFIED message was left alone", u)
t, u = raw(a, "UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
check(code(t, "MODIFIED") == "1", "UNCHANGEDSINCE 0 always fails (UID form: MODIFIED has the UID)", t)
t, u = raw(a, "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)")
check(t.startswith("BAD"), "UNCHANGEDSINCE with a bad number: BAD", t)
t, u = raw(a, "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
check(sorted(x.split()[1] for x in u) == ["2", "3", "4"] and all("MODSEQ" in x for x in u),
      "FETCH (CHANGEDSINCE n): only the changed messages, with MODSEQ", u)
t, u = raw(a, "SEARCH MODSEQ %d" % (hms + 1))
check(re.match(r"\* SEARCH 2 3 4 \(MODSEQ \d+\)$", u[0] if u else "") is not None, "SEARCH MODSEQ: hits and (MODSEQ highest)", u)
t, u = raw(a, 'SEARCH MODSEQ "/flags/\\\\draft" all %d' % (hms + 1))
check(t.startswith("OK") and u and u[0].startswith("* SEARCH 2 3 4"), "SEARCH MODSEQ with an entry name", u)
t, u = raw(a, "STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
check(re.search(r"HIGHESTMODSEQ (\d+)", u[0]) and int(re.search(r"HIGHESTMODSEQ (\d+)", u[0]).group(1)) > hms,
      "STATUS HIGHESTMODSEQ", u)
raw(a, "STORE 1:* -FLAGS.SILENT (\\Deleted)")
a.logout()

# ---------------- QRESYNC (RFC 7162 section 3.2) ----------------
a = session()
t, u = raw(a, "SELECT INBOX (QRESYNC (1 1))")
check(t.startswith("BAD"), "SELECT (QRESYNC ...) before ENABLE QRESYNC: BAD", t)
t, u = raw(a, "ENABLE QRESYNC")
check(t.startswith("OK") and "* ENABLED QRESYNC" in u, "ENABLE QRESYNC", u)
t, u = raw(a, "SELECT INBOX")
uidvalidity = int(next(code(x, "UIDVALIDITY") for x in u if code(x, "UIDVALIDITY")))
known = int(next(code(x, "HIGHESTMODSEQ") for x in u if code(x, "HIGHESTMODSEQ")))
t, u = raw(a, "UID FETCH 1:* (FLAGS)")
check(len(u) == 5, "five messages before the other session works", u)
a.logout()
# another device: a flag change, an expunge, a new message
b = session()
b.select("INBOX")
b.store("1", "+FLAGS", "($Important)")
b.store("5", "+FLAGS", "(\\Deleted)")
b.expunge()
b.append("INBOX", None, None, msg(6))
b.logout()
# RFC 7162 3.2.5.1 example: SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))
a = session()
raw(a, "ENABLE QRESYNC")
t, u = raw(a, "SELECT INBOX (QRESYNC (%d %d 1:5))" % (uidvalidity, known))
van = [x for x in u if x.startswith("* VANISHED")]
fet = [x for x in u if " FETCH " in x]
check(t.startswith("OK") and van == ["* VANISHED (EARLIER) 5"], "QRESYNC SELECT: exactly VANISHED (EARLIER) of the expunged UID", u)
check(sorted(re.search(r"UID (\d+)", x).group(1) for x in fet) == ["1", "6"],
      "QRESYNC SELECT: FETCH of exactly the changed and the new message", fet)
check(all("MODSEQ" in x and "FLAGS" in x for x in fet) and any("$Important" in x for x in fet),
      "QRESYNC SELECT: the FETCHes have UID, FLAGS and MODSEQ", fet)
check(u.index(van[0]) < u.index(fet[0]) if van and fet else False, "VANISHED (EARLIER) before the FETCHes")
t, u = raw(a, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % known)
check(u[:1] == ["* VANISHED (EARLIER) 5"] and len(u) == 3, "UID FETCH (CHANGEDSINCE n VANISHED)", u)
t, u = raw(a, "UID FETCH 1:4 (FLAGS) (CHANGEDSINCE %d VANISHED)" % known)
check(not any("VANISHED" in x for x in u), "VANISHED (EARLIER) only for UIDs in the set", u)
t, u = raw(a, "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
check(t.startswith("BAD"), "VANISHED in a non-UID FETCH: BAD", t)
t, u = raw(a, "UID FETCH 1:* (FLAGS) (VANISHED)")
check(t.startswith("BAD"), "VANISHED without CHANGEDSINCE: BAD", t)
t, u = raw(a, "SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity + 1, known))
check(t.startswith("OK") and not any("VANISHED" in x or "FETCH" in x for x in u),
      "QRESYNC SELECT with another UIDVALIDITY: no resync data", u)
check(any("[CLOSED]" in x for x in u), "OK [CLOSED] when another mailbox was selected")
t, u = raw(a, "SELECT INBOX (QRESYNC (%d 0))" % uidvalidity)
check(t.startswith("BAD"), "QRESYNC with MODSEQ 0: BAD", t)
# the other session works while this one stays selected
raw(a, "SELECT INBOX")
b = session()
b.select("INBOX")
b.store("1", "+FLAGS", "(\\Deleted)")
b.expunge()
b.uid("STORE", "2", "+FLAGS", "(\\Answered)")
t, u = raw(a, "NOOP")
check("* VANISHED 1" in u and not any("EXPUNGE" in x for x in u), "an expunge by another session: VANISHED, not EXPUNGE", u)
check(any(re.match(r"\* 1 FETCH \(UID 2 FLAGS \([^)]*\\Answered[^)]*\) MODSEQ \(\d+\)\)", x) for x in u),
      "a flag change by another session: FETCH with UID and MODSEQ", u)
b.logout()
a.logout()

# ---------------- subscriptions, LIST-EXTENDED (RFC 5258) ----------------
def names(u, kind="LIST"):
    """{name: attributes line} of LIST/LSUB responses."""
    out = {}
    for x in u:
        r = re.match(r'\* %s \(([^)]*)\) "/" "?([^"]*)"?(.*)$' % kind, x)
        if r:
            out[r.group(2)] = r.group(1) + r.group(3)
    return out

a = session()
a.capability()
for c in ("LIST-EXTENDED", "LIST-STATUS", "CREATE-SPECIAL-USE", "SPECIAL-USE"):
    check(c in a.capabilities, "CAPABILITY lists " + c)
t, u = raw(a, 'LSUB "" "*"')
check(set(names(u, "LSUB")) == {"INBOX", "Sent", "Drafts", "Trash"}, "a new store: every folder counts as subscribed", u)
for f in ("Fruit", "Fruit/Apple", "Fruit/Banana", "Vegetable", "Vegetable/Broccoli", "Tofu", "Deep/Leaf"):
    a.create(f)
t, u = raw(a, 'LIST "" "*"')
for f in names(u):
    raw(a, 'UNSUBSCRIBE "%s"' % f)
t, u = raw(a, 'LSUB "" "*"')
check(u == [], "UNSUBSCRIBE of every folder: LSUB lists none", u)
for f in ("INBOX", "Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"):
    t, u = raw(a, 'SUBSCRIBE "%s"' % f)
check(t.startswith("OK"), "SUBSCRIBE a name that does not exist yet (RFC 9051 6.3.7)", t)
# RFC 5258 section 5, example 3 (the Fruit/Vegetable tree)
t, u = raw(a, 'LIST (SUBSCRIBED) "" "*"')
l = names(u)
check(set(l) == {"INBOX", "Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"} and
      all("\\Subscribed" in v for v in l.values()), "LIST (SUBSCRIBED): exactly the subscribed ones, \\Subscribed", u)
check("\\NonExistent" in l.get("Fruit/Peach", "") and "\\NonExistent" not in l.get("Fruit/Banana", "x"),
      "LIST (SUBSCRIBED): \\NonExistent for a subscribed name that is no mailbox", l)
t, u = raw(a, 'LIST "" "%" RETURN (SUBSCRIBED CHILDREN)')
l = names(u)
check("\\Subscribed" in l.get("Vegetable", "") and "\\Subscribed" not in l.get("Fruit", "x") and
      "\\HasChildren" in l.get("Fruit", "") and "\\HasNoChildren" in l.get("Tofu", ""),
      "LIST RETURN (SUBSCRIBED CHILDREN)", u)
# RFC 5258 section 5, example 5: CHILDINFO
t, u = raw(a, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
l = names(u)
check(set(l) == {"INBOX", "Fruit", "Vegetable"}, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\": the subscribed and their parents", u)
check('("CHILDINFO" ("SUBSCRIBED"))' in l.get("Fruit", "") and "\\Subscribed" not in l.get("Fruit", "") and
      '("CHILDINFO" ("SUBSCRIBED"))' in l.get("Vegetable", "") and "\\Subscribed" in l.get("Vegetable", "") and
      "CHILDINFO" not in l.get("INBOX", "CHILDINFO"), "CHILDINFO (\"SUBSCRIBED\") on the parents of subscribed children", u)
t, u = raw(a, 'LIST (RECURSIVEMATCH) "" "%"')
check(t.startswith("BAD"), "RECURSIVEMATCH alone: BAD", t)
t, u = raw(a, 'LIST (FROB) "" "%"')
check(t.startswith("BAD"), "unknown selection option: BAD", t)
t, u = raw(a, 'LIST "" "%" RETURN (FROB)')
check(t.startswith("BAD"), "unknown return option: BAD", t)
t, u = raw(a, 'LIST (REMOTE) "" ("Tofu" "Fruit/%")')
check(set(names(u)) == {"Tofu", "Fruit/Apple", "Fruit/Banana"}, "several patterns; REMOTE accepted", u)
t, u = raw(a, 'LSUB "" "%"')
l = names(u, "LSUB")
check(set(l) == {"INBOX", "Fruit", "Vegetable"} and "\\Noselect" in l["Fruit"] and "\\Noselect" not in l["Vegetable"],
      "LSUB with %: an unsubscribed parent of a subscribed child shows \\Noselect (RFC 3501 6.3.9)", u)
b = session()
t, u = raw(b, 'LSUB "" "*"')
check(set(names(u, "LSUB")) == {"INBOX", "Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"},
      "subscriptions are kept: another session sees them", u)
b.logout()
sub = open(os.path.join(root, ".loft", "subscriptions")).read()
check(sub.startswith("V\t2\n\n") and "\nFruit\tBanana\n" in sub, "the subscriptions file is in Dovecot's format", sub)
raw(a, 'UNSUBSCRIBE "Fruit/Peach"')
t, u = raw(a, 'RENAME "Vegetable" "Veg"')
t, u = raw(a, 'LSUB "" "*"')
check(set(names(u, "LSUB")) == {"INBOX", "Fruit/Banana", "Veg", "Veg/Broccoli"},
      "UNSUBSCRIBE; RENAME carries the subscriptions of the folder and its children", u)

# ---------------- LIST-STATUS (RFC 5819) ----------------
a.append("Fruit/Apple", "(\\Seen)", None, msg(7))
a.append("Fruit/Apple", None, None, msg(8))
t, u = raw(a, 'LIST "" "Fruit/%" RETURN (STATUS (MESSAGES UNSEEN))')
check(t.startswith("OK") and len(u) == 4 and u[1] == '* STATUS "Fruit/Apple" (MESSAGES 2 UNSEEN 1)'
      and u[0].startswith("* LIST") and u[3] == '* STATUS "Fruit/Banana" (MESSAGES 0 UNSEEN 0)',
      "LIST RETURN (STATUS ...): each LIST followed by its STATUS", u)
t, u = raw(a, 'LIST "" "Deep" RETURN (STATUS (MESSAGES))')
check(len(u) == 1 and "\\Noselect" in u[0], "LIST-STATUS: no STATUS for a \\Noselect parent", u)
t, u = raw(a, 'LIST "" "%" RETURN (STATUS (FROB))')
check(t.startswith("BAD"), "LIST-STATUS with an unknown item: BAD", t)

# ---------------- CREATE-SPECIAL-USE (RFC 6154) ----------------
t, u = raw(a, 'CREATE "Old" (USE (\\Archive))')
check(t.startswith("OK"), "CREATE Old (USE (\\Archive))", t)
t, u = raw(a, 'CREATE "Everything" (USE (\\All))')
check(t.startswith("NO [USEATTR]"), "CREATE (USE (\\All)): NO [USEATTR]", t)
t, u = raw(a, 'LIST (SPECIAL-USE) "" "*"')
l = names(u)
check(l.get("Old", "").strip() == "\\HasNoChildren \\Archive" and "\\Sent" in l.get("Sent", "") and
      "Fruit" not in l and "Everything" not in l, "LIST (SPECIAL-USE): the set use and the ones by name only", u)
t, u = raw(a, 'LIST "" "Old" RETURN (SPECIAL-USE)')
check("\\Archive" in u[0] if u else False, "LIST RETURN (SPECIAL-USE)", u)
raw(a, 'RENAME "Old" "Older"')
t, u = raw(a, 'LIST "" "Older"')
check("\\Archive" in u[0] if u else False, "the use follows a RENAME", u)
raw(a, 'DELETE "Older"')
raw(a, 'CREATE "Older"')
t, u = raw(a, 'LIST "" "Older"')
check(u and "\\Archive" not in u[0], "DELETE drops the use", u)
a.logout()

# ---------------- MULTIAPPEND (RFC 3502) ----------------
def lit(b):
    return "{%d+}\r\n%s" % (len(b), b.decode())

a = session()
a.capability()
for c in ("MULTIAPPEND", "SEARCHRES"):
    check(c in a.capabilities, "CAPABILITY lists " + c)
a.create("Multi")
t, u = raw(a, 'APPEND Multi (\\Seen) %s (\\Flagged) "17-Jul-1996 02:44:25 -0700" %s %s'
           % (lit(msg(10)), lit(msg(11)), lit(msg(12))))
check(t.startswith("OK") and code(t, "APPENDUID") is not None and code(t, "APPENDUID").split()[1] == "1:3",
      "MULTIAPPEND of three: OK [APPENDUID v 1:3]", t)
t, u = raw(a, "APPEND Multi %s %s" % (lit(msg(13)), lit(b"")))
check(t.startswith("NO"), "MULTIAPPEND with an empty second message: NO", t)
t, u = raw(a, "APPEND Multi %s (\\Bogus) %s" % (lit(msg(14)), lit(msg(15))))
check(t.startswith("BAD"), "MULTIAPPEND with a bad flag in the second group: BAD", t)
t, u = raw(a, "STATUS Multi (MESSAGES)")
check(u == ['* STATUS "Multi" (MESSAGES 3)'], "the failed MULTIAPPENDs added nothing (all or nothing)", u)
t, u = raw(a, "EXAMINE Multi")
t, u = raw(a, "FETCH 1:3 (FLAGS INTERNALDATE)")
check(len(u) == 3 and "\\Seen" in u[0] and "\\Flagged" in u[1] and "17-Jul-1996" in u[1],
      "each message of a MULTIAPPEND keeps its own flags and date", u)

# ---------------- SEARCHRES (RFC 5182) ----------------
raw(a, "SELECT Multi")
t, u = raw(a, "SEARCH RETURN (SAVE) FLAGGED")
check(t.startswith("OK") and u == [], "SEARCH RETURN (SAVE): no ESEARCH response", u)
t, u = raw(a, "FETCH $ (UID)")
check(len(u) == 1 and u[0].startswith("* 2 FETCH"), "FETCH $ uses the saved result", u)
# RFC 5182 section 3, example 2: pipelined SEARCH RETURN (SAVE) then UID FETCH $
tag1, tag2 = a._new_tag().decode(), a._new_tag().decode()
a.send(("%s UID SEARCH RETURN (SAVE) OR SEEN FLAGGED\r\n%s UID FETCH $ (FLAGS)\r\n" % (tag1, tag2)).encode())
lines = []
while True:
    line = a.readline().decode().rstrip("\r\n")
    lines.append(line)
    if line.startswith(tag2 + " "):
        break
check(sum(x.startswith("* ") and " FETCH " in x for x in lines) == 2 and lines[-1].startswith(tag2 + " OK"),
      "pipelined UID SEARCH RETURN (SAVE) + UID FETCH $", lines)
t, u = raw(a, "SEARCH RETURN (SAVE MIN) ALL")
t, u = raw(a, "UID SEARCH UID $")
check(u == ["* SEARCH 1"], "RETURN (SAVE MIN) saves only the minimum; $ as a search key", u)
t, u = raw(a, "STORE $ +FLAGS (\\Answered)")
check(t.startswith("OK") and len(u) == 1 and "\\Answered" in u[0], "STORE $", u)
t, u = raw(a, "SEARCH RETURN (SAVE) FROB")
t2, u2 = raw(a, "FETCH $ (UID)")
check(t.startswith("BAD") and t2.startswith("OK") and u2 == [], "a failed SEARCH (SAVE) empties $", (t, u2))
raw(a, "SEARCH RETURN (SAVE) ALL")
raw(a, "SELECT Multi")
t, u = raw(a, "FETCH $ (UID)")
check(t.startswith("OK") and u == [], "SELECT empties $", u)
a.logout()

# ---------------- UTF8=ACCEPT (RFC 6855) ----------------
def lit8(b, sync=False):
    return ("~{%d%s}\r\n" % (len(b), "" if sync else "+")).encode() + b


def raw_bytes(m, data):
    """As raw(), for a command given as bytes (UTF-8, literal8)."""
    tag = m._new_tag()
    m.send(tag + b" " + data + b"\r\n")
    out = []
    while True:
        line = m.readline()
        while re.search(rb"\{(\d+)\}\r\n$", line):
            n = int(re.search(rb"\{(\d+)\}\r\n$", line).group(1))
            line = line + m.read(n) + m.readline()
        if line.startswith(tag + b" "):
            return line[len(tag) + 1:].rstrip(b"\r\n"), out
        out.append(line.rstrip(b"\r\n"))


umsg = ("From: Jörg Müller <jorg@example.org>\r\nTo: Zoë <zoe@example.org>\r\n"
        "Subject: Grüße aus Köln\r\nMessage-ID: <u1@example.org>\r\n\r\nbody\r\n").encode()
a = session()
a.capability()
check("UTF8=ACCEPT" in a.capabilities, "CAPABILITY lists UTF8=ACCEPT")
check("UNAUTHENTICATE" not in a.capabilities, "no UNAUTHENTICATE in a PREAUTH session that cannot log in again")
t, u = raw_bytes(a, b"UNAUTHENTICATE")
check(t.startswith(b"BAD"), "UNAUTHENTICATE there: BAD", t)
t, u = raw_bytes(a, b"APPEND INBOX UTF8 (" + lit8(umsg) + b")")
check(t.startswith(b"BAD"), "APPEND UTF8 before ENABLE UTF8=ACCEPT: BAD", t)
t, u = raw_bytes(a, "CREATE \"Café\"".encode())
check(t.startswith(b"NO"), "a UTF-8 name before ENABLE UTF8=ACCEPT: NO (modified UTF-7 is expected)", t)
typ, d = a.enable("UTF8=ACCEPT")
d = a.untagged_responses.pop("ENABLED", None)
check(typ == "OK" and d == [b"UTF8=ACCEPT"] and a.utf8_enabled, "imaplib enable('UTF8=ACCEPT'): * ENABLED UTF8=ACCEPT", d)
t, u = raw_bytes(a, "CREATE \"Café/Ünïcode ☃\"".encode())
check(t.startswith(b"OK"), "CREATE with a quoted UTF-8 name", t)
check(os.path.isdir(os.path.join(root, "Café", "Ünïcode ☃", "cur")), "the folder is named in UTF-8 on disk")
t, u = raw_bytes(a, b'LIST "" "Caf*"')
check(sorted(u) == sorted(['* LIST (\\Noselect \\HasChildren) "/" "Café"'.encode(),
                           '* LIST (\\HasNoChildren) "/" "Café/Ünïcode ☃"'.encode()]),
      "LIST: UTF-8 names as quoted strings, no modified UTF-7", u)
t, u = raw_bytes(a, b"APPEND \"Caf\xc3\xa9/\xc3\x9cn\xc3\xafcode \xe2\x98\x83\" UTF8 (" + lit8(umsg) + b")")
check(t.startswith(b"OK [APPENDUID "), "APPEND UTF8 (~{n+} literal8) into a UTF-8 name: OK [APPENDUID]", t)
t, u = raw_bytes(a, b"APPEND INBOX (\\Seen) UTF8 (" + lit8(umsg) + b")")
check(t.startswith(b"OK [APPENDUID "), "APPEND flags UTF8 (literal8)", t)
# a synchronising literal8: "+" first
tag = a._new_tag()
a.send(tag + b" APPEND INBOX UTF8 (~{%d}\r\n" % len(umsg))
cont = a.readline()
a.send(umsg + b")\r\n")
line = a.readline()
check(cont.startswith(b"+") and line.startswith(tag + b" OK [APPENDUID"), "APPEND UTF8 (~{n}) waits for + then OK", (cont, line))
t, u = raw_bytes(a, b"APPEND INBOX UTF8 (" + lit8(umsg) + b" " + lit8(umsg) + b")")
check(t.startswith(b"BAD"), "APPEND UTF8 with two literals in the list: BAD", t)
t, u = raw_bytes(a, "STATUS \"Café/Ünïcode ☃\" (MESSAGES)".encode())
check(u == ['* STATUS "Café/Ünïcode ☃" (MESSAGES 1)'.encode()], "STATUS of a UTF-8 name, the name in UTF-8", u)
t, u = raw_bytes(a, "SELECT \"Café/Ünïcode ☃\"".encode())
check(t.startswith(b"OK"), "SELECT a UTF-8 name", t)
t, u = raw_bytes(a, b"FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
check(b"Subject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\r\n" in u[0] and b"=?" not in u[0].split(b"BODY[")[1],
      "BODY[HEADER.FIELDS]: the UTF-8 header as it is", u)
check("Grüße aus Köln".encode() in u[0].split(b"BODY[")[0], "ENVELOPE: the subject in UTF-8 as it is", u)
check("Jörg Müller".encode() in u[0].split(b"BODY[")[0] and "Zoë".encode() in u[0],
      "ENVELOPE: UTF-8 display names as they are, not RFC 2047-encoded", u)
t, u = raw_bytes(a, "SEARCH SUBJECT \"Grüße\"".encode())
check(u == [b"* SEARCH 1"], "SEARCH with a quoted UTF-8 string", u)
t, u = raw_bytes(a, "SEARCH CHARSET UTF-8 SUBJECT \"Grüße\"".encode())
check(t.startswith(b"BAD"), "SEARCH CHARSET after ENABLE UTF8=ACCEPT: BAD (RFC 6855 3)", t)
t, u = raw_bytes(a, b'SEARCH SUBJECT "Gr\xfc\xdfe"')
check(t.startswith(b"BAD"), "a quoted string that is not UTF-8 (Latin-1 bytes): BAD", t)
t, u = raw_bytes(a, "CREATE \"bad\u0085name\"".encode())
check(t.startswith(b"NO"), "a name with a C1 control (U+0085): NO", t)
t, u = raw_bytes(a, "CREATE \"para\u2029graph\"".encode())
check(t.startswith(b"NO"), "a name with U+2029: NO", t)
typ, d = a.list('""', '"Caf&AOk-*"')
check(typ == "OK" and d == [None], "modified UTF-7 means nothing once UTF-8 is on: no match", d)
a.logout()
b = session()
t, u = raw(b, 'LIST "" "Caf*"')
check(sorted(u) == ['* LIST (\\HasNoChildren) "/" "Caf&AOk-/&ANw-n&AO8-code &JgM-"', '* LIST (\\Noselect \\HasChildren) "/" "Caf&AOk-"'],
      "a session without UTF8=ACCEPT sees the same names in modified UTF-7", u)
t, u = raw(b, 'STATUS "Caf&AOk-/&ANw-n&AO8-code &JgM-" (MESSAGES)')
check(t.startswith("OK") and u and u[0].endswith("(MESSAGES 1)"), "and can use them", u)
b.logout()

print("probe exit %d" % (1 if fails else 0))
