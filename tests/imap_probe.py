#!/usr/bin/env python3
"""A scripted IMAP conversation with `loft imapd` through imaplib's
IMAP4_stream, checked against RFC 3501/9051 behaviour.  Prints PASS/FAIL
lines for tests/imap.t.  Usage: imap_probe.py "LOFT -F MAILRC imapd" """
import imaplib, re, sys, time

cmd = sys.argv[1]
fails = 0

def check(cond, name):
    global fails
    print(("PASS " if cond else "FAIL ") + name)
    if not cond:
        fails += 1

MSG = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
       b"Subject: hello there\r\nMessage-ID: <m1@example.org>\r\n"
       b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nfirst body line\r\n")
MIME = (b"From: c@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\npre\r\n--XX\r\n"
        b"Content-Type: text/plain\r\n\r\npart one\r\n--XX\r\n"
        b"Content-Type: text/html\r\n\r\n<b>two</b>\r\n--XX--\r\n")

m = imaplib.IMAP4_stream(cmd)
check(m.welcome.startswith(b"* PREAUTH"), "PREAUTH greeting")
typ, caps = m.capability()
for c in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "LITERAL+", "ESEARCH", "NAMESPACE"):
    check(c in m.capabilities, "CAPABILITY lists " + c)
typ, d = m.noop(); check(typ == "OK", "NOOP")
typ, d = m.namespace(); check(typ == "OK" and b'(("" "/"))' in d[0], "NAMESPACE")
typ, d = m.list('""', "*")
names = [re.search(rb'"/" (.*)$', l).group(1) for l in d]
check(b'"INBOX"' in names and b'"Sent"' in names, "LIST shows INBOX and Sent")
check(any(b"\\Sent" in l for l in d), "LIST SPECIAL-USE attribute on Sent")
typ, d = m.lsub('""', "*"); check(typ == "OK" and len(d) >= 4, "LSUB")
# CREATE / RENAME / DELETE, modified UTF-7 names
typ, d = m.create("Projects/Entw&APw-rfe"); check(typ == "OK", "CREATE with modified UTF-7")
typ, d = m.list('""', "Projects/*")
check(typ == "OK" and any(b"Entw&APw-rfe" in l for l in d), "LIST pattern with %/*")
typ, d = m.list('""', "%")
check(any(b"\\HasChildren" in l and b"Projects" in l for l in d), "CHILDREN: \\HasChildren")
typ, d = m.create("Projects/Entw&APw-rfe"); check(typ == "NO" and b"ALREADYEXISTS" in d[0], "CREATE existing: NO [ALREADYEXISTS]")
typ, d = m.create("bad&-&Jjo"); check(typ == "NO", "CREATE with invalid UTF-7 refused")
typ, d = m.create("../etc"); check(typ == "NO", "CREATE ../etc refused")
typ, d = m.rename("Projects/Entw&APw-rfe", "Projects/Done"); check(typ == "OK", "RENAME")
typ, d = m.delete("Projects/Done"); check(typ == "OK", "DELETE")
typ, d = m.delete("INBOX"); check(typ == "NO", "DELETE INBOX refused")
typ, d = m.subscribe("Sent"); check(typ == "OK", "SUBSCRIBE")
# APPEND with APPENDUID, a flag and a date
typ, d = m.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(760000000), MSG)
check(typ == "OK" and re.search(rb"\[APPENDUID \d+ 1\]", d[0]) is not None, "APPEND gives APPENDUID")
typ, d = m.append("INBOX", None, None, MIME); check(typ == "OK", "APPEND multipart")
typ, d = m.append("Nowhere", None, None, MIME); check(typ == "NO" and b"TRYCREATE" in d[0], "APPEND to a missing mailbox: TRYCREATE")
typ, d = m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE)")
check(typ == "OK" and b"MESSAGES 2" in d[0] and b"UIDNEXT 3" in d[0] and b"SIZE" in d[0], "STATUS incl. SIZE")
# SELECT
typ, d = m.select("inbox")
check(typ == "OK" and d[0] == b"2", "SELECT (INBOX case-insensitive), 2 EXISTS")
check(m.untagged_responses.get("RECENT") == [b"1"], "\\Recent counted for this session (the unflagged append)")
check("UIDVALIDITY" in m.untagged_responses and "UIDNEXT" in m.untagged_responses, "UIDVALIDITY and UIDNEXT")
check(b"\\*" in m.untagged_responses.get("PERMANENTFLAGS", [b""])[0], "PERMANENTFLAGS has \\*")
# FETCH
typ, d = m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID ENVELOPE)")
line = d[0]
check(typ == "OK" and b"\\Flagged" in line, "FETCH FLAGS")
typ, d = m.fetch("2", "(FLAGS)"); check(b"\\Recent" in d[0], "FETCH FLAGS shows \\Recent")
check(b"RFC822.SIZE %d" % len(MSG) in line, "FETCH RFC822.SIZE")
check(b'INTERNALDATE "' in line, "FETCH INTERNALDATE")
check(b'"hello there"' in line and b'"<m1@example.org>"' in line, "FETCH ENVELOPE")
typ, d = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(d[0][1] == b"Subject: hello there\r\n\r\n", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
typ, d = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT TO FROM DATE)])")
check(d[0][1] == b"Message-ID: <m1@example.org>\r\n\r\n", "HEADER.FIELDS.NOT")
typ, d = m.fetch("1", "(BODY.PEEK[TEXT])"); check(d[0][1] == b"first body line\r\n", "BODY.PEEK[TEXT]")
typ, d = m.fetch("1", "(BODY.PEEK[]<0.4>)"); check(d[0][0].endswith(b"BODY[]<0> {4}") and d[0][1] == b"From", "partial BODY[]<0.4>")
typ, d = m.fetch("1", "(FLAGS)"); check(b"\\Seen" not in d[0], "PEEK does not set \\Seen")
typ, d = m.fetch("1", "(RFC822.HEADER)"); check(d[0][1] == MSG.split(b"\r\n\r\n")[0] + b"\r\n\r\n", "RFC822.HEADER")
typ, d = m.fetch("1", "(BODY[])"); check(d[0][1] == MSG and b"\\Seen" in d[0][0], "BODY[] whole message and \\Seen set")
typ, d = m.fetch("2", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODYSTRUCTURE)")
check(d[0][1] == b"part one", "BODY[1] of a multipart")
check(b"text/html" in d[1][1].lower(), "BODY[2.MIME]")
check(b'("text" "html"' in d[0][0] and b'"mixed" ("boundary" "XX")' in d[0][0], "BODYSTRUCTURE")
typ, d = m.fetch("1:*", "(UID)"); check(len([x for x in d if x]) == 2, "FETCH 1:*")
try:
    m.fetch("3", "(UID)"); check(False, "FETCH past the end refused")
except imaplib.IMAP4.error:
    check(True, "FETCH past the end refused")
# STORE
typ, d = m.store("2", "+FLAGS", "(\\Deleted $Junk)")
check(typ == "OK" and b"\\Deleted" in d[0] and b"$Junk" in d[0], "STORE +FLAGS with a keyword")
typ, d = m.store("2", "-FLAGS.SILENT", "($Junk)"); check(typ == "OK" and d == [None], "STORE .SILENT")
typ, d = m.uid("STORE", "1", "FLAGS", "(\\Answered)"); check(typ == "OK" and b"UID 1" in d[0], "UID STORE")
# SEARCH
typ, d = m.search(None, "DELETED"); check(d[0] == b"2", "SEARCH DELETED")
typ, d = m.search(None, "FROM", "alice"); check(d[0] == b"1", "SEARCH FROM")
typ, d = m.search(None, "OR", "SUBJECT", "parts", "BODY", "first"); check(d[0] == b"1 2", "SEARCH OR SUBJECT BODY")
typ, d = m.search(None, "NOT", "ANSWERED"); check(d[0] == b"2", "SEARCH NOT")
typ, d = m.search(None, "TEXT", "two"); check(d[0] == b"2", "SEARCH TEXT")
typ, d = m.search(None, "SENTON", "7-Feb-1994"); check(d[0] == b"1", "SEARCH SENTON")
typ, d = m.search(None, "LARGER", "200"); check(d[0] == b"2", "SEARCH LARGER")
typ, d = m.search(None, "HEADER", "Message-ID", "m1@"); check(d[0] == b"1", "SEARCH HEADER")
typ, d = m.search(None, "1:2", "UNDELETED"); check(d[0] == b"1", "SEARCH with a sequence set")
typ, d = m.uid("SEARCH", "UID", "2"); check(d[0] == b"2", "UID SEARCH UID")
typ, d = m.search(None, "CHARSET", "KOI8-R", "ALL"); check(typ == "NO", "SEARCH unknown CHARSET: NO [BADCHARSET]")
typ, d = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "ALL")
es = m.untagged_responses.pop("ESEARCH", [b""])[0]
check(b"MIN 1 MAX 2 COUNT 2 ALL 1:2" in es, "ESEARCH RETURN (MIN MAX COUNT ALL)")
try:
    m.search(None, "BOGUS"); check(False, "SEARCH bad key: BAD")
except imaplib.IMAP4.error:
    check(True, "SEARCH bad key: BAD")
# COPY / MOVE with COPYUID
typ, d = m.copy("1", "Sent"); check(typ == "OK" and b"COPYUID" in d[0], "COPY gives COPYUID")
typ, d = m._simple_command("MOVE", "1", "Trash")
check(typ == "OK" and b"1 EXPUNGE" in b" ".join(str(x).encode() for x in m.untagged_responses.get("EXPUNGE", [])) or m.untagged_responses.get("EXPUNGE") == [b"1"], "MOVE expunges the source")
ok = m.untagged_responses.pop("OK", [])
check(any(b"COPYUID" in x for x in ok), "MOVE sends COPYUID")
m.untagged_responses.pop("EXPUNGE", None)
typ, d = m.expunge(); check(typ == "OK" and d == [b"1"], "EXPUNGE of the \\Deleted one")
typ, d = m.select("Trash"); check(d[0] == b"1", "the moved message is in Trash")
typ, d = m.uid("EXPUNGE", "1"); check(typ == "OK", "UID EXPUNGE")
typ, d = m.select("Sent", readonly=True); check(typ == "OK" and d[0] == b"1", "EXAMINE")
typ, d = m.store("1", "+FLAGS", "(\\Deleted)"); check(typ == "NO", "STORE in a read-only mailbox refused")
typ, d = m._simple_command("UNSELECT"); check(typ == "OK", "UNSELECT")
typ, d = m.select("Sent"); typ, d = m.close(); check(typ == "OK", "CLOSE")
# errors: BAD with a reason, then the session goes on
imaplib.Commands["FROB"] = ("NONAUTH", "AUTH", "SELECTED")
try:
    m._simple_command("FROB"); check(False, "unknown command: BAD")
except imaplib.IMAP4.error:
    check(True, "unknown command: BAD")
try:
    m.fetch("1", "(FLAGS)")
    check(False, "FETCH without a selected mailbox refused")
except imaplib.IMAP4.error:
    check(True, "FETCH without a selected mailbox refused")
typ, d = m.noop(); check(typ == "OK", "session goes on after errors")
# IDLE: a message appended by another session arrives as EXISTS
m.select("INBOX")
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
cont = m.readline()
check(cont.startswith(b"+"), "IDLE continuation")
other = imaplib.IMAP4_stream(cmd)
t0 = time.time()
other.append("INBOX", None, None, MSG.replace(b"<m1@", b"<m3@"))
line = m.readline()
check(b"EXISTS" in line, "IDLE wakes with EXISTS (%.0f ms)" % ((time.time() - t0) * 1000))
m.send(b"DONE\r\n")
while True:
    line = m.readline()
    if line.startswith(tag):
        break
check(b"OK" in line, "IDLE ends with DONE")
other.logout()
typ, d = m.logout(); check(typ == "BYE", "LOGOUT")
print("probe exit %d" % (1 if fails else 0))
