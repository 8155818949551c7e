#!/bin/bash
# loft daemon's SELECT over a kept snapshot image (store/folder_image.c) and
# the MODSEQ index (store/state-modseq.c): after a first session built the
# state, a session that had to walk the records of the 3,000-message INBOX
# keeps an image when it logs out; then
# another session appends, flags, sets a keyword, expunges, and `loft
# deliver` drops a message into new/; a SELECT (QRESYNC ...) after that
# (the image, with those changes replayed) must answer exactly what a model
# of the folder says: EXISTS, UIDNEXT, HIGHESTMODSEQ, VANISHED (EARLIER) of
# the expunged UIDs, a FETCH with FLAGS and MODSEQ for each message changed
# or new since, and every message's flags after it.  Python raw sockets on
# 127.0.0.1; the daemon stopped by pid.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

PORT=$(free_port)
make_mailrc "set imap_listen=127.0.0.1:$PORT smtp_listen= log_level=info queue_interval=1h"
echo inbox-password-1 | "$LOFT" passwd --stdin phone >/dev/null
ok $? "loft passwd --stdin phone"
INBOX=$T_DIR/Mail/INBOX
mkdir -p "$INBOX/cur" "$INBOX/new" "$INBOX/tmp"
python3 - "$INBOX" <<'PY'
import sys
for i in range(3000):
    flags = "S" if i % 3 else ""
    with open("%s/cur/%d.M%dP1.test:2,%s" % (sys.argv[1], 1700000000 + i, i, flags), "w") as f:
        f.write("From: a%d@example.org\nSubject: message %d\nMessage-ID: <m%d@example.org>\n\nbody %d\n"
                % (i, i, i, i))
PY
ok $? "an INBOX of 3,000 messages"
LOG=$T_DIR/daemon.log
start_daemon "$LOG"
ok $? "loft daemon starts" || { diag "$(cat "$LOG")"; done_testing; exit; }

# probe STEP: the Python side (PASS/FAIL lines), state in $T_DIR/model.json.
probe() {
	local line
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok 0 "${line#PASS }" ;;
		FAIL\ *) ok 1 "${line#FAIL }" ;;
		*) diag "$line" ;;
		esac
	done < <(timeout 120 python3 - "$PORT" "$T_DIR/model.json" "$1" 2>&1 <<'PY'
import json, re, socket, sys
port, model_file, step = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class S:
    def __init__(s):
        s.c = socket.create_connection(("127.0.0.1", port)); s.buf = b""; s.n = 0; s.line()
        s.cmd("LOGIN phone inbox-password-1"); s.cmd("ENABLE QRESYNC")
    def line(s):
        while b"\r\n" not in s.buf:
            d = s.c.recv(65536)
            if not d: raise EOFError
            s.buf += d
        l, s.buf = s.buf.split(b"\r\n", 1)
        return l.decode()
    def cmd(s, text, lit=None):
        s.n += 1; tag = "t%d" % s.n
        if lit is None:
            s.c.sendall(("%s %s\r\n" % (tag, text)).encode())
        else:
            s.c.sendall(("%s %s {%d+}\r\n" % (tag, text, len(lit))).encode() + lit + b"\r\n")
        out = []
        while True:
            l = s.line(); out.append(l)
            if l.startswith(tag + " "):
                if not l.startswith(tag + " OK"): raise RuntimeError(l)
                return out
def check(cond, name):
    print(("PASS " if cond else "FAIL ") + name)
def flags_of(lines):
    got = {}
    for l in lines:
        u, f, ms = (re.search(r, l) for r in (r"UID (\d+)", r"FLAGS \(([^)]*)\)", r"MODSEQ \((\d+)\)"))
        if l.startswith("* ") and " FETCH " in l and u and f and ms:
            got[int(u.group(1))] = (" ".join(sorted(f.group(1).split())), int(ms.group(1)))
    return got
def code(lines, name):
    for l in lines:
        m = re.search(r"\[%s (\d+)\]" % name, l)
        if m: return int(m.group(1))

if step == "create":
    s = S(); s.cmd("SELECT INBOX"); s.cmd("LOGOUT")
    print("PASS a first session builds the folder's state (a scan)")
elif step == "first":
    s = S()
    sel = s.cmd("SELECT INBOX")
    exists = [int(l.split()[1]) for l in sel if l.endswith(" EXISTS")][0]
    check(exists == 3000, "the first SELECT: 3000 EXISTS")
    msgs = flags_of(s.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)"))
    check(len(msgs) == 3000, "the first session's FETCH of every message")
    json.dump({"uv": code(sel, "UIDVALIDITY"), "ms": code(sel, "HIGHESTMODSEQ"),
               "next": code(sel, "UIDNEXT"), "msgs": msgs}, open(model_file, "w"))
    s.cmd("LOGOUT")
elif step == "change":
    m = json.load(open(model_file)); s = S(); s.cmd("SELECT INBOX")
    for i in range(2):
        s.cmd("APPEND INBOX (\\Flagged)", b"From: x@example.org\r\nSubject: new %d\r\n\r\nnew\r\n" % i)
    s.cmd("UID STORE 5,50,500 +FLAGS.SILENT (\\Answered)")
    s.cmd("UID STORE 7 +FLAGS.SILENT (work)")
    s.cmd("UID STORE 10,20 +FLAGS.SILENT (\\Deleted)")
    s.cmd("UID EXPUNGE 10,20")
    s.cmd("LOGOUT")
    print("PASS changes made in another session")
elif step == "reopen":
    m = json.load(open(model_file)); s = S()
    sel = s.cmd("SELECT INBOX (QRESYNC (%d %d 1:%d))" % (m["uv"], m["ms"], m["next"] - 1))
    after = flags_of(s.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)"))
    old = {int(k): tuple(v) for k, v in m["msgs"].items()}
    gone = sorted(set(old) - set(after)); new = sorted(set(after) - set(old))
    changed = sorted(u for u in after if u in old and after[u] != old[u])
    check(gone == [10, 20], "two UIDs expunged: %s" % gone)
    check(len(new) == 3, "three new UIDs (two APPENDs, a delivery): %s" % new)
    check(changed == [5, 7, 50, 500], "four messages changed: %s" % changed)
    check(all(after[u][1] > m["ms"] for u in new + changed), "each with a MODSEQ above the old HIGHESTMODSEQ")
    check("work" in after[7][0].split(), "the keyword on UID 7: %s" % (after[7],))
    check("* 3001 EXISTS" in sel, "SELECT (QRESYNC): 3001 EXISTS")
    check(code(sel, "UIDNEXT") == max(after) + 1, "UIDNEXT %s" % code(sel, "UIDNEXT"))
    check(code(sel, "HIGHESTMODSEQ") == max(v[1] for v in after.values()), "HIGHESTMODSEQ %s" % code(sel, "HIGHESTMODSEQ"))
    check("* VANISHED (EARLIER) 10,20" in sel, "VANISHED (EARLIER) 10,20")
    fetched = flags_of(sel)
    check(sorted(fetched) == sorted(new + changed), "a FETCH for each new or changed message, no other: %s" % sorted(fetched))
    check(all(fetched[u] == after[u] for u in fetched), "with the flags and MODSEQ the folder has")
    check(sel.index("* VANISHED (EARLIER) 10,20") < min(i for i, l in enumerate(sel) if "FETCH" in l),
          "VANISHED before the FETCHes")
    s.cmd("LOGOUT")
PY
	echo "probe exit $?")
}

probe create
probe first
mdb_has() { mdb_dump -s cache -p "$T_DIR/Mail/.loft/INBOX" 2>/dev/null | grep -c "^ snapshot-nt$"; }
if command -v mdb_dump >/dev/null; then
	for _ in $(seq 50); do [ "$(mdb_has)" = 1 ] && break; sleep 0.1; done
	is "$(mdb_has)" 1 "the session that walked kept an image (snapshot-nt)"
	is "$(mdb_dump -s cache -p "$T_DIR/Mail/.loft/INBOX" 2>/dev/null | grep -c '^ snapshot$')" 0 \
		"and no client image (snapshot)"
else
	skip "mdb_dump missing (lmdb-utils): the kept image is not looked at"
fi
probe change
printf 'From: d@example.org\nSubject: delivered\n\nbody\n' | "$LOFT" deliver
ok $? "loft deliver: one message into new/"
probe reopen
if command -v mdb_stat >/dev/null; then
	is "$(mdb_stat -s modseqs "$T_DIR/Mail/.loft/INBOX" 2>&1 | sed -n 's/.*Entries: //p')" 3001 \
		"the MODSEQ index has an entry per record"
else
	skip "mdb_stat missing (lmdb-utils): the MODSEQ index is not counted"
fi
kill "$DPID"; wait "$DPID" 2>/dev/null
done_testing
