#!/usr/bin/env python3
"""Raw-socket and smtplib probes of loft's SMTP server for tests/daemon.t.

usage: smtp_probe.py SUITE PORT [ARGS]; prints one line per check:
"PASS name" or "FAIL name: detail".  Suites:
  relay PORT            open-relay tricks, unauthenticated (inbound listener)
  relaysub PORT         the same tricks on a submission listener, no AUTH
  size PORT USER PW     SIZE over the limit refused at MAIL
  hold PORT SECONDS     EHLO, wait, then a whole AUTH'd transaction (USER PW
                        after SECONDS): a connection that lives across a
                        reload or a shutdown; args: PORT SECONDS USER PW
  slowdata PORT USER PW SECONDS  DATA whose end comes SECONDS later
  smuggle PORT USER PW  every end-of-DATA variant (submission, AUTH on loopback)
  inject PORT           plaintext pipelined behind STARTTLS must be dropped
  smtplib PORT USER PW  a full submission with STARTTLS + AUTH via smtplib
"""
import base64
import smtplib
import socket
import ssl
import sys


def result(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    sys.stdout.flush()


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """One whole reply: (code, text of all lines)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(4096)
                if not chunk:
                    return (0, "EOF")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        return (int(lines[-1][:3]), "|".join(lines))

    def close(self):
        self.s.close()


RELAY_TRICKS = [
    ("percent hack", "<user%other.org@example.org>"),
    ("bang path", "<other.org!user@example.org>"),
    ("source route", "<@example.org:user@other.org>"),
    ("source route, two hops", "<@example.org,@b.org:user@other.org>"),
    ("quoted local part with @", '<"user@other.org"@example.org>'),
    ("quoted local part with %", '<"user%other.org"@example.org>'),
    ("quoted local part with !", '<"other.org!user"@example.org>'),
    ("unqualified address", "<user>"),
    ("plain remote address", "<user@other.org>"),
    ("remote with local suffix", "<user@example.org.other.org>"),
    ("address literal", "<user@[192.0.2.1]>"),
    ("local domain as prefix", "<user@other.org@example.org>"),
]


def suite_relay(port):
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    c.reply()
    c.send(b"MAIL FROM:<someone@far.org>\r\n")
    code, text = c.reply()
    result(code == 250, "relay: MAIL from a stranger is taken", text)
    for name, rcpt in RELAY_TRICKS:
        c.send(b"RCPT TO:" + rcpt.encode() + b"\r\n")
        code, text = c.reply()
        result(500 <= code < 600, "relay refused (%d): %s %s" % (code, name, rcpt), text)
    c.send(b"RCPT TO:<me@example.org>\r\n")
    code, text = c.reply()
    result(code == 250, "a local recipient is accepted", text)
    c.send(b"QUIT\r\n")
    c.close()


SMUGGLE = [
    ("LF.LF", b"\n.\n"),
    ("CRLF.LF", b"\r\n.\n"),
    ("LF.CRLF", b"\n.\r\n"),
    ("CR.CR", b"\r.\r"),
    ("CRLF.CR", b"\r\n.\r"),
    ("CR.LF", b"\r.\n"),
    ("CR.CRLF", b"\r.\r\n"),
    ("LF.CR", b"\n.\r"),
    ("CRLF.CRCRLF", b"\r\n.\r\r\n"),
    ("CRLF.LFCRLF", b"\r\n.\n\r\n"),
    ("CRLF.NULCRLF", b"\r\n.\x00\r\n"),
    ("CRLF.SPCRLF", b"\r\n. \r\n"),
]


def suite_relaysub(port):
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    c.reply()
    c.send(b"MAIL FROM:<someone@far.org>\r\n")
    code, text = c.reply()
    result(code == 530, "submission: MAIL without AUTH refused (530), also from loopback", text)
    for name, rcpt in RELAY_TRICKS + [("local recipient", "<me@example.org>")]:
        c.send(b"RCPT TO:" + rcpt.encode() + b"\r\n")
        code, text = c.reply()
        result(500 <= code < 600, "submission, no AUTH: refused (%d): %s %s" % (code, name, rcpt), text)
    c.send(b"QUIT\r\n")
    c.close()


def login(c, user, pw):
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
    c.send(b"AUTH PLAIN " + plain + b"\r\n")
    return c.reply()


def suite_size(port, user, pw):
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    code, text = c.reply()
    result("SIZE" in text, "EHLO offers SIZE", text)
    login(c, user, pw)
    c.send(b"MAIL FROM:<a@example.org> SIZE=999999999999\r\n")
    code, text = c.reply()
    result(code == 552, "MAIL with SIZE over the limit: 552", text)
    c.send(b"QUIT\r\n")
    c.close()


def transaction(c, subject, body_delay=0, before_end=None):
    import time
    c.send(b"MAIL FROM:<a@example.org>\r\n")
    codes = [c.reply()[0]]
    c.send(b"RCPT TO:<me@example.org>\r\n")
    codes.append(c.reply()[0])
    c.send(b"DATA\r\n")
    codes.append(c.reply()[0])
    c.send(b"Subject: " + subject.encode() + b"\r\n\r\nfirst half\r\n")
    if before_end:
        before_end()
    time.sleep(body_delay)
    c.send(b"second half\r\n.\r\n")
    code, text = c.reply()
    codes.append(code)
    return codes, text


def suite_hold(port, seconds, user, pw):
    import time
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    c.reply()
    print("HELD")
    sys.stdout.flush()
    time.sleep(float(seconds))
    code, text = login(c, user, pw)
    codes, text = transaction(c, "held across a signal")
    result(code == 235 and codes == [250, 250, 354, 250],
           "a connection open across the signal still works", "%d %r %s" % (code, codes, text))
    c.send(b"QUIT\r\n")
    code, text = c.reply()
    result(code == 221, "and QUITs normally", text)
    c.close()


def suite_slowdata(port, user, pw, seconds):
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    c.reply()
    login(c, user, pw)

    def mark():
        print("INDATA")
        sys.stdout.flush()
    codes, text = transaction(c, "slow data", float(seconds), mark)
    result(codes == [250, 250, 354, 250], "a slow DATA in flight at SIGTERM is finished and queued",
           "%r %s" % (codes, text))
    c.send(b"QUIT\r\n")
    c.reply()
    c.close()


def suite_smuggle(port, user, pw):
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
    for name, fake in SMUGGLE:
        c = Raw(port)
        c.reply()
        c.send(b"EHLO probe.test\r\nAUTH PLAIN " + plain + b"\r\n"
               b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        codes = [c.reply()[0] for _ in range(5)]
        if codes != [250, 235, 250, 250, 354]:
            result(False, "smuggling %s" % name, "setup %r" % codes)
            continue
        c.send(b"Subject: smuggle " + name.encode() + b"\r\n\r\nfirst" + fake +
               b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
               b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\nNOOP\r\n")
        code1, t1 = c.reply()
        code2, t2 = c.reply()
        # One answer for the whole message (not a 250 for the first part
        # followed by answers to the smuggled commands), then NOOP's.
        ok = (name == "CRLF.SPCRLF" and code1 == 250 or code1 == 550) and code2 == 250
        result(ok, "smuggling %s: not ended early (%d, then %d)" % (name, code1, code2),
               "%s / %s" % (t1, t2))
        c.send(b"QUIT\r\n")
        c.close()


def suite_inject(port):
    c = Raw(port)
    c.reply()
    c.send(b"EHLO probe.test\r\n")
    c.reply()
    c.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@example.org>\r\n")
    code, text = c.reply()
    result(code == 220, "STARTTLS answered 220", text)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c.s = ctx.wrap_socket(c.s, server_hostname="mx.test")
    c.buf = b""
    result(c.s.version() in ("TLSv1.2", "TLSv1.3"), "TLS 1.2+ negotiated", str(c.s.version()))
    c.send(b"EHLO probe.test\r\n")
    code, text = c.reply()
    result(code == 250 and text.startswith("250-"),
           "the first reply under TLS is EHLO's: the injected commands were dropped", text)
    c.send(b"MAIL FROM:<a@example.org>\r\n")
    code, text = c.reply()
    result(code == 530, "still not authenticated after STARTTLS", text)
    c.send(b"QUIT\r\n")
    c.close()


def suite_smtplib(port, user, pw, cafile):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("probe.test")
    result(s.has_extn("starttls"), "smtplib: STARTTLS offered")
    ctx = ssl.create_default_context(cafile=cafile)
    s._host = "mx.test"  # the name the certificate is for (SNI + check)
    s.starttls(context=ctx)
    s.ehlo("probe.test")
    result("plain" in s.esmtp_features.get("auth", "").lower(), "smtplib: AUTH offered under TLS")
    s.login(user, pw)
    msg = "From: a@example.org\r\nTo: b@example.org\r\nSubject: smtplib\r\n\r\nhello\r\n"
    refused = s.sendmail("a@example.org", ["b@example.org", "c@example.org"], msg)
    result(refused == {}, "smtplib: message accepted", repr(refused))
    s.quit()


if __name__ == "__main__":
    suite, port = sys.argv[1], int(sys.argv[2])
    try:
        if suite == "relay":
            suite_relay(port)
        elif suite == "relaysub":
            suite_relaysub(port)
        elif suite == "size":
            suite_size(port, sys.argv[3], sys.argv[4])
        elif suite == "hold":
            suite_hold(port, sys.argv[3], sys.argv[4], sys.argv[5])
        elif suite == "slowdata":
            suite_slowdata(port, sys.argv[3], sys.argv[4], sys.argv[5])
        elif suite == "smuggle":
            suite_smuggle(port, sys.argv[3], sys.argv[4])
        elif suite == "inject":
            suite_inject(port)
        elif suite == "smtplib":
            suite_smtplib(port, sys.argv[3], sys.argv[4], sys.argv[5])
    except Exception as e:  # a crash is a failed check, not a silent pass
        result(False, suite, repr(e))
