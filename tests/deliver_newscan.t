#!/bin/bash
# A delivery costs what changed, not a rescan (issue 11): after `loft
# deliver` writes a file into new/ of a 20,000-message INBOX, an IMAP
# session in IDLE learns of it by reading new/ alone (store/
# folder_arrivals.c).  Checked with strace on the session: no getdents64
# of cur/ during 20 deliveries, nor in a session opened after one.  The UIDs given so stay the same across a
# later full rescan, and a file another program removes from new/ is
# still expunged.  Sessions are `loft imapd` processes on a pipe.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 missing"
command -v strace >/dev/null || skip_all "strace missing"
N=${NEWSCAN_N:-20000}
D=20
M=$T_DIR/Mail
make_mailrc "set log_level=error"

# N old messages in INBOX/cur, written directly (as an existing maildir).
python3 - "$M/INBOX" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
for i in range(n):
    body = ("From: a@example.org\nSubject: old %d\nMessage-ID: <old%d@example.org>\n\n"
            "old %d\n" % (i, i, i)).encode()
    name = "%d.M%dP1Q1.host,S=%d:2,S" % (1600000000 + i, i, len(body))
    with open(os.path.join(d, "cur", name), "wb") as f:
        f.write(body)
PY

# session [strace-log] -- ACTIONS...: one `loft imapd` session (under
# strace -f -y -e getdents64 when a log is given) that selects INBOX and
# does ACTIONS in order:
#   deliver K  IDLE, `loft deliver` messages d1..dK one at a time, each
#              awaited as its EXISTS (prints "exists N" per delivery and
#              "latency MS" of the median), DONE
#   watch N F  IDLE, create file F, await EXISTS up to N (another session
#              delivers; prints "watched N" with the last seen), DONE
#   wait F...  wait (30 s at most) until the files F exist
#   examine    (first) EXAMINE instead of SELECT: new/ keeps its files
#   remove     IDLE, remove the newest file of new/ by hand, await its
#              EXPUNGE (prints "expunge N" or "no expunge"), DONE
#   uids       prints "UID MESSAGE-ID" for the messages d*
session() {
	local log=$1; shift
	timeout 300 python3 - "$LOFT" "$MAILRC_FILE" "$M/INBOX" "$log" "$@" <<'PY'
import glob, os, queue, re, statistics, subprocess, sys, threading, time
loft, rc, box, log = sys.argv[1:5]
acts = sys.argv[5:]
cmd = [loft, "-F", rc, "imapd"]
if log:
    cmd = ["strace", "-f", "-y", "-e", "trace=getdents64", "-o", log] + cmd
    # LeakSanitizer cannot run under ptrace (SANITIZE=1 builds).
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
# Lines through a thread: select() on a buffered pipe misses lines that
# are already in Python's buffer.
lines = queue.Queue()
threading.Thread(target=lambda: [lines.put(l) for l in iter(p.stdout.readline, b"")] +
                 [lines.put(b"")], daemon=True).start()
def readline(secs=None):
    try:
        return lines.get(timeout=secs)
    except queue.Empty:
        return None
def send(line):
    p.stdin.write(line.encode() + b"\r\n"); p.stdin.flush()
def run(tag, line):
    send(tag + " " + line)
    out = []
    while True:
        l = readline()
        if not l:
            sys.exit("connection closed")
        out.append(l)
        if l.startswith(tag.encode() + b" "):
            return out
def wait_for(rx, secs=10):
    deadline = time.time() + secs
    while time.time() < deadline:
        l = readline(max(deadline - time.time(), 0.01))
        m = l and re.match(rx, l)
        if m:
            return int(m.group(1))
    return None
def idle_done():
    send("DONE")
    while not readline().startswith(b"i "):
        pass
readline()
run("a", "EXAMINE INBOX" if acts[:1] == ["examine"] else "SELECT INBOX")
while acts:
    a = acts.pop(0)
    if a == "deliver":
        k, lat = int(acts.pop(0)), []
        send("i IDLE")
        readline()	# + idling
        for j in range(1, k + 1):
            env = ("From: x@example.org\nSubject: d%d\nMessage-ID: <d%d@example.org>\n\n"
                   "body %d\n" % (j, j, j)).encode()
            t0 = time.time()
            subprocess.run([loft, "-F", rc, "deliver"], input=env, check=True)
            seen = wait_for(rb"\* (\d+) EXISTS")
            lat.append((time.time() - t0) * 1000)
            print("exists %s" % seen)
        print("latency %.1f" % statistics.median(lat))
        idle_done()
    elif a == "watch":
        target, flag, last = int(acts.pop(0)), acts.pop(0), 0
        send("i IDLE")
        readline()
        open(flag, "w").close()
        while last < target:
            n = wait_for(rb"\* (\d+) EXISTS", 30)
            if n is None:
                break
            last = n
        print("watched %d" % last)
        idle_done()
    elif a == "wait":
        flags = []
        while acts and acts[0] != "deliver":
            flags.append(acts.pop(0))
        deadline = time.time() + 30
        while time.time() < deadline and not all(os.path.exists(f) for f in flags):
            time.sleep(0.02)
    elif a == "examine":
        pass
    elif a == "remove":
        send("i IDLE")
        readline()
        os.unlink(max(glob.glob(box + "/new/*"), key=os.path.getmtime))
        seen = wait_for(rb"\* (\d+) EXPUNGE")
        print("expunge %d" % seen if seen else "no expunge")
        idle_done()
    elif a == "uids":
        text = b"".join(run("b", "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"))
        for uid, mid in re.findall(rb"UID (\d+) BODY[^\n]*\nMessage-ID: <(d\d+)@", text):
            print(uid.decode(), mid.decode())
run("c", "LOGOUT")
p.wait()
PY
}

# The first open builds the state (a full scan of cur/, as always).
session "" uids >/dev/null
ok $? "a first session opens the $N-message INBOX"

out=$(session "$T_DIR/trace" deliver $D)
want=$(for j in $(seq $D); do echo "exists $((N + j))"; done)
is "$(grep '^exists' <<<"$out")" "$want" "$D deliveries during IDLE: an EXISTS for each, in order"
diag "loft deliver -> EXISTS median: $(sed -n 's/^latency //p' <<<"$out") ms ($N messages)"
is "$(grep -c '/INBOX/cur>' "$T_DIR/trace")" 0 "  ...and the session never read cur/ (strace getdents64)"
ok "$([ "$(grep -c '/INBOX/new>' "$T_DIR/trace")" -gt 0 ]; echo $?)" "  ...it read new/ instead"

# A session opened after a delivery: its snapshot from the state, then
# new/ alone.
printf 'From: x@example.org\nSubject: e1\nMessage-ID: <e1@example.org>\n\nbody\n' |
	"$LOFT" deliver
session "$T_DIR/trace2" uids >/dev/null
is "$(grep -c '/INBOX/cur>' "$T_DIR/trace2")" 0 "a session opened after another delivery never reads cur/"

want=$(for j in $(seq $D); do echo "$((N + j)) d$j"; done)
is "$(session "" uids)" "$want" "a later session: the delivered messages have UIDs $((N + 1))..$((N + D))"
# Another program changes cur/ (its mtime moves): the next open rescans.
touch -d '+10 seconds' "$M/INBOX/cur"
is "$(session "" uids)" "$want" "  ...the same UIDs after a full rescan"

# Three sessions pick up the same deliveries at once: each sees them all,
# and the state gives each one UID (the key lookup in the writer
# transaction decides who adds it).
C=$((N + D + 1))
bg session "" watch $((C + 10)) "$T_DIR/w1" > "$T_DIR/w1.out"
W1=$!
bg session "" watch $((C + 10)) "$T_DIR/w2" > "$T_DIR/w2.out"
W2=$!
out=$(session "" wait "$T_DIR/w1" "$T_DIR/w2" deliver 10)
wait $W1 $W2
is "$(grep '^exists' <<<"$out" | tail -1)" "exists $((C + 10))" "10 deliveries while two other sessions IDLE: the deliverer's session sees them"
is "$(cat "$T_DIR/w1.out" "$T_DIR/w2.out")" "watched $((C + 10))"$'\n'"watched $((C + 10))" "  ...so do the two others"
uids=$(session "" uids)
is "$(wc -l <<<"$uids")" $((D + 10)) "  ...and each message has one UID"
is "$(cut -d' ' -f1 <<<"$uids" | sort -u | wc -l)" $((D + 10)) "  ...a distinct one"

printf 'From: x@example.org\nSubject: d99\nMessage-ID: <d99@example.org>\n\nbody\n' |
	"$LOFT" deliver
out=$(session "" examine uids remove uids)
is "$(grep -c d99 <<<"$out")" 1 "one more delivery, examined (it stays in new/)"
like "$out" "^expunge $((N + D + 12))\$" "  ...removed from new/ by another program: EXPUNGE during IDLE"
is "$(session "" uids | grep -c d99)" 0 "  ...and a later session no longer lists it"
done_testing
