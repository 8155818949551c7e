#!/bin/bash
# loft show on the fixtures in tests/fixtures: text, json, raw, --part,
# standard input, bad arguments (64) and a missing file (66).
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

F="$TOP/tests/fixtures"
make_mailrc

run_loft show "$F/simple.eml"
is "$RC" 0 "text: exit 0"
like "$OUT" '^Subject: Hello wörld$' "text: RFC 2047 words split over two, joined"
like "$OUT" '^From: André Pirard <pirard@example.org>$' "text: Q-encoded display name"
like "$OUT" '^This is a flowed paragraph that continues here\.$' "text: format=flowed delsp reflow"
like "$OUT" '^> quoted flowed line$' "text: quoted flowed line"
like "$OUT" '^-- $' "text: signature separator kept"

run_loft show "$F/multipart.eml"
like "$OUT" '^Grüße aus München$' "text: quoted-printable latin-1 alternative, text/plain chosen"
like "$OUT" '^\[2\] image/png été\.png 24 bytes$' "text: attachment line with RFC 2231 filename"
! printf '%s' "$OUT" | grep -q '<html>'
ok $? "text: HTML alternative not shown"

run_loft show --format=json "$F/multipart.eml"
is "$RC" 0 "json: exit 0"
printf '%s' "$OUT" > "$T_DIR/m.json"
got=$(python3 - "$T_DIR/m.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["body"][0]
print(d["id"], d["date"]["utc"], b["content-type"], b["boundary"],
      b["content"][0]["content"][0]["content"].strip(), b["content"][1]["filename"],
      b["content"][1]["content-length"], b["content"][2]["content"][0]["headers"]["Subject"],
      d["bodystructure"].startswith("(((\"text\" \"plain\""))
PY
)
is "$got" "multi.1@example.com 2003-07-02T13:00:00+00:00 multipart/mixed outer Grüße aus München été.png 24 inner message True" "json: fields"

run_loft show --format=raw "$F/multipart.eml"
printf '%s\n' "$OUT" | cmp -s - "$F/multipart.eml"
ok $? "raw: the bytes as they are"

"$LOFT" show --part 2 "$F/multipart.eml" > "$T_DIR/part2"
is "$(head -c 4 "$T_DIR/part2" | od -An -tx1 | tr -d ' ')" "89504e47" "--part 2: decoded PNG bytes"
run_loft show --part 1.1 "$F/multipart.eml"
is "$(printf '%s' "$OUT" | od -An -tx1 | tr -d ' \n')" "4772fcdf6520617573204dfc6e6368656e" "--part 1.1: decoded, not converted"
run_loft show --part 3.1 "$F/multipart.eml"
is "$OUT" "inner body" "--part 3.1: body of the embedded message"
run_loft show --part 9 "$F/multipart.eml"
is "$RC" 64 "--part of a missing part: 64"

OUT=$("$LOFT" show --format=json - < "$F/boundary-quote.eml"); RC=$?
is "$RC" 0 "stdin: exit 0"
like "$OUT" '"boundary":"\\""' "stdin: boundary=\"\\\"\" parsed"

run_loft show --format=xml "$F/simple.eml"
is "$RC" 64 "bad --format: 64"
run_loft show
is "$RC" 64 "no file: 64"
run_loft show --bogus "$F/simple.eml"
is "$RC" 64 "unknown option: 64"
run_loft show --part x "$F/simple.eml"
is "$RC" 64 "bad section: 64"
run_loft show "$T_DIR/nonexistent.eml"
is "$RC" 66 "missing file: 66"
like "$ERR" 'nonexistent.eml' "missing file: named in the error"

done_testing
