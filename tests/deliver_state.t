#!/bin/bash
# `loft deliver` writes the message file only (store_deliver_file): the
# folder's state is not opened, and the next open of the folder gives the
# file its UID, which stays the same for every later session.  An IMAP
# IDLE on the folder still hears of the arrival at once (the rename wakes
# its inotify watch).  Sessions are `loft imapd` processes on a pipe.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
M=$T_DIR/Mail
make_mailrc "set log_level=error"
STATE=$M/.loft/INBOX/data.mdb

deliver_msg() {	# deliver_msg ID
	printf 'From: x@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody %s\n' \
		"$1" "$1" "$1" | "$LOFT" deliver
}

# uids [idle ID]: one session selects INBOX and prints "UID MESSAGE-ID" per
# message; with "idle ID" it first IDLEs, delivers ID with `loft deliver`
# and prints "exists N" when the untagged EXISTS comes (or "no exists"
# after 10 s).
uids() {
	timeout 60 python3 - "$LOFT" "$MAILRC_FILE" "$@" <<'PY'
import re, select, subprocess, sys, time
loft, rc = sys.argv[1:3]
idle = sys.argv[3:5] if len(sys.argv) > 4 else None
p = subprocess.Popen([loft, "-F", rc, "imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def send(line):
    p.stdin.write(line.encode() + b"\r\n"); p.stdin.flush()
def run(tag, line):
    send(tag + " " + line)
    out = []
    while True:
        l = p.stdout.readline()
        if not l:
            sys.exit("connection closed")
        out.append(l)
        if l.startswith(tag.encode() + b" "):
            return out
p.stdout.readline()
run("a", "SELECT INBOX")
if idle:
    send("i IDLE")
    p.stdout.readline()	# + idling
    env = ("From: x@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody\n"
           % (idle[1], idle[1])).encode()
    subprocess.run([loft, "-F", rc, "deliver"], input=env, check=True)
    deadline, seen = time.time() + 10, None
    while seen is None and time.time() < deadline:
        if select.select([p.stdout], [], [], 0.2)[0]:
            m = re.match(rb"\* (\d+) EXISTS", p.stdout.readline())
            if m:
                seen = int(m.group(1))
    print("exists %d" % seen if seen else "no exists")
    send("DONE")
    while not p.stdout.readline().startswith(b"i "):
        pass
text = b"".join(run("b", "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"))
for uid, mid in re.findall(rb"UID (\d+) .*?Message-ID: <([^@>]+)@", text, re.S):
    print(uid.decode(), mid.decode())
run("c", "LOGOUT")
PY
}

deliver_msg one
ok $? "loft deliver: exit 0"
is "$(find "$M/INBOX/new" -type f | wc -l)" 1 "  ...the file is in INBOX/new"
is "$(uids)" "1 one" "the next open gives it UID 1"
sum=$(cksum < "$STATE")
deliver_msg two
ok $? "a second delivery: exit 0"
is "$(cksum < "$STATE")" "$sum" "  ...the folder's state was not written by deliver"
is "$(uids)" $'1 one\n2 two' "the next open finds it: UID 2, and UID 1 is unchanged"
is "$(uids)" $'1 one\n2 two' "  ...the same UIDs in a later session"
out=$(uids idle three)
like "$out" '^exists 3$' "an IDLE session hears of a delivery at once (EXISTS 3)"
like "$out" '3 three' "  ...and fetches it as UID 3"
is "$(uids)" $'1 one\n2 two\n3 three' "a later session sees the same three UIDs"
done_testing
