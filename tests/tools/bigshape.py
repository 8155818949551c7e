#!/usr/bin/env python3
"""Writes a message of a pathological shape to stdout, about SIZE bytes.

usage: bigshape.py SHAPE SIZE [ID]
shapes: fields (many short header fields), folded (one header folded over
many continuation lines), longline (one header line of SIZE bytes), parts
(a multipart with many tiny parts), nested (multiparts nested deeply),
partfields (a MIME part whose own header has many fields), rfc822 (an
attached message/rfc822 with many header fields).
"""
import sys


def main():
    shape, size = sys.argv[1], int(sys.argv[2])
    mid = sys.argv[3] if len(sys.argv) > 3 else shape
    out = sys.stdout.buffer
    out.write(b"From: a@example.org\nTo: me@example.org\nSubject: shape %s\n"
              b"Message-ID: <%s@example.org>\n" % (shape.encode(), mid.encode()))
    if shape == "fields":
        out.write(b"X-A: b\n" * (size // 7))
        out.write(b"\nbody\n")
    elif shape == "folded":
        out.write(b"X-A: b\n" + b" c\n" * (size // 3))
        out.write(b"\nbody\n")
    elif shape == "longline":
        out.write(b"X-A: " + b"b" * size + b"\n\nbody\n")
    elif shape == "parts":
        out.write(b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n")
        out.write(b"--b\n\nx\n" * (size // 8))
        out.write(b"--b--\n")
    elif shape == "nested":
        out.write(b"MIME-Version: 1.0\n")
        n = size // 60
        for i in range(n):
            out.write(b"Content-Type: multipart/mixed; boundary=%d\n\n--%d\n" % (i, i))
        out.write(b"\nleaf\n")
        for i in reversed(range(n)):
            out.write(b"--%d--\n" % i)
    elif shape == "partfields":
        out.write(b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n")
        out.write(b"--b\nContent-Type: text/plain\n")
        out.write(b"X-A: b\n" * (size // 7))
        out.write(b"\npart body\n--b--\n")
    elif shape == "rfc822":
        out.write(b"MIME-Version: 1.0\nContent-Type: message/rfc822\n\n")
        out.write(b"From: b@example.org\nSubject: inner\n")
        out.write(b"X-A: b\n" * (size // 7))
        out.write(b"\ninner body\n")
    else:
        sys.exit("unknown shape " + shape)


main()
