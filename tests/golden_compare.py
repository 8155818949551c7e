#!/usr/bin/env python3
"""Compares `loft show --format=json` (stdin) with a golden sidecar (argv[1]).

Prints one `# ...` diagnostic line per difference and exits 0 when every
field matches or every difference is a documented exception (EXCEPTIONS),
1 otherwise.  An exception names the case, the field path and the exact
value loft gives: it only ever excuses that answer, never the whole field.
Exceptions are allowed only where the sidecar carries `python_questionable`.
"""
import json
import sys

# (case, field path, loft's value, why loft's answer is the right one)
EXCEPTIONS = []  # one entry per reviewed difference, added by exc() below


def exc(case, path, value, why):
    EXCEPTIONS.append((case, path, value, why))


# 13: two From: headers; the first is an mbox "From " line mangled into a
# header.  loft, like Python, reports the first one: same answer, no entry.

# 15: the encoded word decodes to 'Алфавит\n'.  GMime drops the control
# character when it unfolds; a Subject cannot contain a line break, so the
# stripped value is what a reader must see.
exc("ew-koi8r", "subject", "Алфавит",
    "a line break cannot be part of an unfolded Subject; GMime drops it")

# 16: name/filename are bare RFC 2047 words (not valid tokens).  Python drops
# them; loft decodes them as mime4j and mutt do, which is what the sender meant.
exc("ew-koi8r-param", "mime_tree/filename", "Список.doc",
    "lenient decoding of an encoded word used as a parameter value, like mime4j/mutt")

# 21: raw 8-bit Big5 Subject.  Python leaves U+FFFD; loft applies its header
# fallback (windows-1252 for bytes that are not UTF-8) rather than guessing
# the body charset: readable Latin letters for Latin mail, mojibake here;
# both answers are lossy, loft's keeps every byte recoverable.
exc("big5-base64", "subject",
    "[SLAT-talk] ¹dÃû6¤ë17¤é·s¤ù¤S¨ì.¦p¦³\xad«½Æ±Hµo.·q½Ð\xadì½Ì!¡D¡D¡D¡D¡D¡D"
    "¹dÃû6¤ë17¤é·s¤ù¤S¨ì.¦p¦³\xad«½Æ±Hµo.·q½Ð\xadì½Ì!¡D¡D¡D",
    "undeclared 8-bit header bytes read as windows-1252 (documented fallback), lossless")

# 28: 8-bit byte inside iso-2022-jp RFC 2231 value: the sidecar says U+FFFD or
# windows-1252 are both acceptable.
exc("rfc2231-wrong-charset", "mime_tree/children/1/filename", "01 Quien Te DijŠat. Pitbull.mp3",
    "the byte %8A read as windows-1252 Š, one of the two answers the sidecar allows")

# 35: RFC 6532 raw UTF-8 in From: loft reports the UTF-8 name and address.
exc("8bit-headers-utf8", "from/0/display_name", "Jöhn Doe",
    "RFC 6532: raw UTF-8 in headers is UTF-8; Python left surrogate escapes")
exc("8bit-headers-utf8", "from/0/address", "jdöe@mächine.example",
    "RFC 6532: raw UTF-8 addr-spec")

# 36: raw ISO-8859-1 bytes in Subject: loft's windows-1252 fallback.
exc("8bit-headers-latin1", "subject", "Die Hasen und die Frösche (Microsoft Outlook 00)",
    "bytes that are not UTF-8 are read as windows-1252 (sidecar suggests exactly this)")


# 32: delimiter lines '--ab'/'--ac' for boundary 'a'.  GMime, like most
# MUAs (mutt, Thunderbird), matches the delimiter as a prefix and finds the
# parts; Python's strict reading finds none.  The sidecar calls both
# defensible; a reader sees the parts the sender meant.
exc("boundary-prefix-clash", "mime_tree/decoded_size", None,
    "prefix-matched delimiters: loft shows the parts (a multipart, so no leaf size)")
exc("boundary-prefix-clash", "mime_tree/decoded_sha256", None,
    "prefix-matched delimiters: loft shows the parts (a multipart, so no leaf digest)")

# 41: message/delivery-status is one leaf in loft (as in GMime, Dovecot,
# mutt), not a list of header blocks; the first text/plain part is then the
# returned message's body.
exc("dsn-report", "mime_tree/children/0/children", None,
    "message/delivery-status is a leaf (RFC 3464 body of header blocks, not MIME parts)")
exc("dsn-report", "first_text_plain_200", "unsubscribe",
    "first text/plain is the returned message's body, not an empty DSN block")

# 46: UTF-8 BOM before the first header: loft skips it and parses the
# message as the sidecar says a lenient parser should.
exc("bom-start", "subject", "FW: Earn money", "BOM skipped: real headers")
exc("bom-start", "from", [{"display_name": "", "address": "abusedesk@example.com"}],
    "BOM skipped: real From")
exc("bom-start", "date_utc", "2005-03-08T21:40:36+00:00", "BOM skipped: EDT = -04:00")
exc("bom-start", "mime_tree/content_type", "multipart/report", "BOM skipped: real Content-Type")
exc("bom-start", "mime_tree/decoded_size", None, "BOM skipped: a multipart, no leaf size")
exc("bom-start", "mime_tree/decoded_sha256", None, "BOM skipped: a multipart, no leaf digest")
exc("bom-start", "first_text_plain_200",
    "This is an email abuse report for an email message received from IP\n192.0.2.2 on Thu, "
    "8 Mar 2005 14:00:00 EDT. For more information\nabout this format please see "
    "http://www.mipassoc.org/arf/.\n",
    "BOM skipped: the report's human-readable part")

# 47: obsolete syntax (RFC 5322 4.5): white space before the colon and
# folded empty lines are accepted, so the headers are headers.  Unfolding
# only removes CRLF (RFC 5322 2.2.3), so the blanks of the empty folded line
# stay in the Subject.
exc("obsolete-syntax", "subject",
    "The obsolete syntax allow spaces before the colon        and also empty lines in folding.",
    "obs-optional header syntax accepted; unfolding removes only the CRLFs")
exc("obsolete-syntax", "mime_tree/decoded_size", 6, "the body after the obsolete headers: 'body\r\n'")
exc("obsolete-syntax", "mime_tree/decoded_sha256",
    "0a4e52a11356529491e17d023afed1e6e6f6a544ed97ac73e1d4c5cfefa38b83", "sha256 of 'body\r\n'")
exc("obsolete-syntax", "first_text_plain_200", "body\r\n", "the body after the obsolete headers")

# 48: message/partial (RFC 2046 5.2.2) fragment 2 of 3 is raw data, not a
# message: loft keeps it an opaque leaf, so no embedded part and no text.
exc("message-partial", "mime_tree/children", None, "message/partial fragment kept as a leaf")
exc("message-partial", "first_text_plain_200", None, "no text/plain part in a lone fragment")


def norm_part(p):
    """loft JSON part -> the sidecar's mime_tree shape."""
    out = {
        "content_type": p.get("content-type"),
        "charset": p.get("content-charset"),
        "filename": p.get("filename"),
        "disposition": p.get("content-disposition"),
        "transfer_encoding": p.get("content-transfer-encoding"),
    }
    content = p.get("content")
    if isinstance(content, list):
        out["boundary"] = p.get("boundary")
        kids = []
        for c in content:
            if "body" in c:          # embedded message
                kids.extend(norm_part(b) for b in c["body"])
            else:
                kids.append(norm_part(c))
        out["children"] = kids
    else:
        out["decoded_size"] = p.get("content-length")
        out["decoded_sha256"] = p.get("decoded-sha256")
    return out


def loft_view(doc):
    h = doc.get("headers", {})
    date = doc.get("date")
    # An empty group ("52:;" from a mangled mbox line) is no mailbox.
    frm = [{"display_name": a["name"], "address": a["address"]} for a in doc.get("from", [])
           if a["address"] or "group" not in a]
    ftp = doc.get("first-text-plain")
    return {
        "subject": h.get("Subject"),
        "from": frm if "From" in h else None,
        "date_utc": (date or {}).get("utc") if date else None,
        "message_id": doc.get("message-id"),
        "in_reply_to": doc.get("in-reply-to"),
        "references_count": len(doc.get("references", [])),
        "mime_tree": norm_part(doc["body"][0]),
        "first_text_plain_200": ftp[:200] if ftp is not None else None,
    }


def golden_view(e):
    date = e.get("date")
    return {
        "subject": e.get("subject"),
        "from": e.get("from"),
        "date_utc": date.get("utc") if date else None,
        "message_id": e.get("message_id"),
        "in_reply_to": e.get("in_reply_to"),
        "references_count": e.get("references_count"),
        "mime_tree": e.get("mime_tree"),
        "first_text_plain_200": e.get("first_text_plain_200"),
    }


KEYS = ("content_type", "charset", "filename", "disposition", "transfer_encoding",
        "boundary", "decoded_size", "decoded_sha256", "children")


def diff(path, want, got, out):
    if isinstance(want, dict) and isinstance(got, dict):
        keys = [k for k in want if k in KEYS or not path.startswith("mime_tree")]
        for k in keys:
            diff(f"{path}/{k}" if path else k, want.get(k), got.get(k), out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append((path, want, got))
            return
        for i, (w, g) in enumerate(zip(want, got)):
            diff(f"{path}/{i}", w, g, out)
    elif want != got:
        out.append((path, want, got))


def main():
    side = json.load(open(sys.argv[1], encoding="utf-8"))
    doc = json.loads(sys.stdin.read())
    case = side["case"]
    questionable = "python_questionable" in side
    diffs = []
    diff("", golden_view(side["expect"]), loft_view(doc), diffs)
    bad = 0
    for path, want, got in diffs:
        ok = [e for e in EXCEPTIONS if e[0] == case and e[1] == path and e[2] == got]
        if ok and questionable:
            print(f"# {case}: {path}: loft {got!r} (python {want!r}) accepted: {ok[0][3]}")
        else:
            bad += 1
            print(f"# {case}: {path}: want {json.dumps(want, ensure_ascii=False)[:300]}")
            print(f"#   {' ' * len(case)}  got  {json.dumps(got, ensure_ascii=False)[:300]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
