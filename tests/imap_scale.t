#!/bin/bash
# What a command costs must not grow with the mailbox: mbsync fetches each
# message with its own `UID FETCH n (BODY.PEEK[])`, 100,000 commands on a
# 100,000-message folder.  The same 20,000 single-UID FETCHes are run on a
# folder of 400 messages and on one of 40,000 (the 400 UIDs exist in both),
# and the server's CPU time compared; a FETCH that walked the whole folder
# to find its one UID cost 100 times more on the big one.  Then the shapes
# of sets that walk must get right: ranges out of order, gaps, `*`, UIDs
# past the end.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
make_mailrc
IMAPD="$LOFT -F $MAILRC_FILE imapd"
raw() { printf "$1" | timeout 120 $IMAPD 2>/dev/null; }

# folder NAME COUNT: a maildir of COUNT small messages (UIDs 1..COUNT in
# file-name order once the folder is first opened).
folder() {
	python3 - "$T_DIR/Mail/$1" "$2" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
for i in range(1, n + 1):
    with open(os.path.join(d, "cur", "%d.M%dP1.host:2,S" % (1700000000 + i, i)), "w") as f:
        f.write("From: a@example.org\nSubject: m%d\nMessage-ID: <m%d@x>\n\nbody %d\n" % (i, i, i))
EOF
}
folder Small 400
folder Big 40000
like "$(raw 'a1 SELECT Small\r\n')" '\* 400 EXISTS' "Small has 400 messages"
like "$(raw 'a1 SELECT Big\r\n')" '\* 40000 EXISTS' "Big has 40,000 messages"

# cpu FOLDER: the CPU seconds (user + system) of a session that selects
# FOLDER and sends 20,000 single-UID FETCHes; the replies go to $T_DIR/out.
python3 -c '
for i in range(20000):
    print("t%d UID FETCH %d (UID FLAGS)\r" % (i, i % 400 + 1))
print("z LOGOUT\r")' > "$T_DIR/fetches"
cpu() {
	python3 - "$1" "$T_DIR/fetches" "$T_DIR/out" $IMAPD <<'EOF'
import resource, subprocess, sys
folder, script, out = sys.argv[1:4]
with open(script, "rb") as f:
    cmds = b"s SELECT " + folder.encode() + b"\r\n" + f.read()
with open(out, "wb") as o:
    subprocess.run(sys.argv[4:], input=cmds, stdout=o, stderr=subprocess.DEVNULL, timeout=600)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))
EOF
}
small=$(cpu Small)
is "$(grep -c '^\* [0-9]* FETCH (UID [0-9]* FLAGS' "$T_DIR/out")" 20000 "Small: 20,000 FETCH replies"
big=$(cpu Big)
is "$(grep -c '^\* [0-9]* FETCH (UID [0-9]* FLAGS' "$T_DIR/out")" 20000 "Big: 20,000 FETCH replies"
diag "CPU of 20,000 single-UID FETCHes: ${small} s on 400 messages, ${big} s on 40,000"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) < 2.5 * float(sys.argv[1]) + 0.5 else 1)' "$small" "$big"
ok $? "a single-UID FETCH costs about the same on 40,000 messages as on 400 (${big} s vs ${small} s)"

# ---- set shapes ----
out=$(raw 'a1 SELECT Small\r\na2 UID STORE 11:12,20 +FLAGS.SILENT (\\Deleted)\r\na3 EXPUNGE\r\na4 UID FETCH 400:500,13,9:12,2,1000,* (FLAGS)\r\na5 FETCH 397,1,3:4,* (UID)\r\na6 UID FETCH 11:12 (UID)\r\na7 UID FETCH 390:* (UID)\r\na8 UID FETCH 1000:2000 (UID)\r\n' | tr -d '\r')
got=$(sed -n 's/^\* \([0-9]*\) FETCH (UID \([0-9]*\) FLAGS.*/\1:\2/p' <<< "$out" | tr '\n' ' ')
is "$got" "2:2 9:9 10:10 11:13 397:400 " "UID FETCH 400:500,13,9:12,2,1000,*: the UIDs that exist, in order, with their numbers"
got=$(sed -n 's/^\* \([0-9]*\) FETCH (UID \([0-9]*\))$/\1:\2/p' <<< "$out" | head -4 | tr '\n' ' ')
is "$got" "1:1 3:3 4:4 397:400 " "FETCH 397,1,3:4,*: in order, * the last"
like "$out" 'a6 OK' "UID FETCH of expunged UIDs only: OK"
got=$(sed -n '/^a6 /,$p' <<< "$out" | sed -n 's/^\* \([0-9]*\) FETCH (UID \([0-9]*\))$/\2/p' | tr '\n' ' ')
is "$got" "390 391 392 393 394 395 396 397 398 399 400 " "UID FETCH 390:*: 390 to 400 (and nothing for 1000:2000)"
like "$out" 'a8 OK' "UID FETCH 1000:2000 (past the end): OK"

done_testing
