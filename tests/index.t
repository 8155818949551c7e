#!/bin/bash
# loft index / search / tag against the notmuch CLI on the same database.
. "${TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v notmuch >/dev/null || skip_all "notmuch CLI not installed (tests/deps.sh installs it)"

ROOT=$T_DIR/Mail
BIG=$T_DIR/Big

# gen_msgs DIR N: N small messages in DIR/INBOX (a quarter in new/, the
# rest in cur/ with some flags), when the shared corpus is not there.
gen_msgs() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(root, "INBOX", d), exist_ok=True)
words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()
for i in range(n):
    flags = ["", "S", "RS", "FS", "PS"][i % 5]
    sub, name = ("new", "%d.M%dP1.gen" % (1700000000 + i, i)) if i % 4 == 0 else \
        ("cur", "%d.M%dP1.gen:2,%s" % (1700000000 + i, i, flags))
    with open(os.path.join(root, "INBOX", sub, name), "w") as f:
        f.write("From: Sender %d <s%d@example.org>\nTo: me@example.org\n"
                "Subject: %s report %d\nDate: Tue, 02 Jan 2024 %02d:%02d:00 +0000\n"
                "Message-ID: <gen%d@example.org>\n\n%s %s body text %d\n"
                % (i % 7, i % 7, words[i % 10], i, i // 60 % 24, i % 60, i,
                   words[(i * 3) % 10], words[(i * 7) % 10], i))
EOF
}

if have_shared; then
	diag "corpus: mkcorpus.py --count 50 --seed 3"
	python3 "$SHARED/corpus/mkcorpus.py" --maildir "$ROOT" --count 50 --seed 3 >/dev/null 2>&1
else
	diag "corpus: $SHARED/corpus missing, 50 messages written by this script"
	gen_msgs "$ROOT" 50
fi
count_files() { find "$1" -path '*/tmp' -prune -o -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print | wc -l; }
NFILES=$(count_files "$ROOT")

make_mailrc
export NOTMUCH_CONFIG=$T_DIR/notmuch-config
printf '[database]\npath=%s\nmail_root=%s\n[new]\ntags=unread;inbox\n[maildir]\nsynchronize_flags=true\n' \
	"$ROOT" "$ROOT" > "$NOTMUCH_CONFIG"

run_loft index
is "$RC" 0 "loft index exits 0"
like "$OUT" "^indexed $NFILES messages in [0-9.]+ s \\([0-9]+ msg/s\\)\$" "indexes every file ($NFILES)"
ok $([ -d "$ROOT/.notmuch/xapian" ]; echo $?) "database in ROOT/.notmuch"
is "$(notmuch count --output=files '*')" "$NFILES" "notmuch CLI sees every file"

same_files() {	# same_files QUERY: loft and notmuch list the same files
	local a b
	a=$(notmuch search --output=files -- "$1" | sort)
	b=$("$LOFT" search --output=files -- "$1" | sort)
	if [ "$a" = "$b" ]; then ok 0 "same files for '$1' ($(printf '%s' "$a" | grep -c .))"
	else ok 1 "same files for '$1'"; diag "notmuch: $(echo "$a" | wc -l)" "loft: $(echo "$b" | wc -l)"; fi
}
for q in '*' 'tag:unread' 'tag:inbox' 'tag:replied' 'tag:flagged' 'NOT tag:unread' \
	'date:2020..' 'from:example' 'subject:report OR subject:re'; do
	same_files "$q"
done

a=$(notmuch search -- '*' | head -5)
b=$("$LOFT" search --limit 5 -- '*')
is "$b" "$a" "summary output is notmuch search's"
run_loft search --output=threads '*'
is "$(echo "$OUT" | wc -l)" "$(notmuch search --output=threads '*' | wc -l)" "--output=threads lists every thread"
run_loft search --output=json --limit 3 '*'
ok $(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==3 and "thread" in d[0]'; echo $?) "--output=json is a JSON array"

run_loft search tag:no-such-tag-here
is "$RC:$OUT" "0:" "no result: exit 0, no output"
run_loft search 'foo AND'
is "$RC" 65 "bad query exits 65"
like "$ERR" "bad query" "bad query is explained"

# Tags both ways.
notmuch tag +foo -- 'tag:replied OR tag:flagged'
same_files 'tag:foo'
ok $([ "$("$LOFT" search --output=files tag:foo | wc -l)" -gt 0 ]; echo $?) "notmuch tag +foo visible to loft search"
run_loft tag +bar -- tag:foo
is "$RC:$OUT" "0:" "loft tag prints nothing"
is "$(notmuch search --output=files tag:bar | sort)" "$(notmuch search --output=files tag:foo | sort)" \
	"loft tag +bar visible to notmuch search"

id=$(notmuch search --output=messages --limit=1 -- 'tag:unread AND folder:/cur/' ; true)
[ -z "$id" ] && id=$(notmuch search --output=messages --limit=1 -- tag:unread)
if [ -n "$id" ]; then
	before=$(notmuch search --output=files -- "$id")
	run_loft tag -unread -- "$id"
	after=$(notmuch search --output=files -- "$id")
	is "$RC" 0 "loft tag -unread exits 0"
	like "$after" ':2,[A-Z]*S[A-Z]*$' "loft tag -unread renames the file with S"
	ok $([ -e "$after" ] && [ ! -e "$before" ]; echo $?) "the new name is on disk, the old gone"
	is "$(notmuch count -- "$id AND tag:unread")" 0 "notmuch sees it read"
else
	ok 1 "an unread message to test with"
fi
run_loft tag +deleted -- tag:bar
like "$(notmuch search --output=files tag:bar | head -1)" ':2,[A-Z]*T' "deleted tag sets T"

# Incremental runs.
t0=$(date +%s.%N)
run_loft index
t1=$(date +%s.%N)
like "$OUT" '^indexed 0 messages' "second loft index indexes 0"
ok $(python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 2 else 1)"; echo $?) "second loft index is fast"

f=$(find "$ROOT" -path '*/cur/*' -type f | head -1)
mv "$f" "${f%%:2,*}:2,FS"
run_loft index
like "$OUT" '^indexed 1 messages' "a renamed file is picked up"
is "$(notmuch count --output=files '*')" "$NFILES" "no file counted twice after a rename"
ok $("$LOFT" search --output=files '*' | grep -qxF "$f"; [ $? = 1 ]; echo $?) "the old name is gone"
rm -f "$(find "$ROOT" -path '*/cur/*' -type f | head -1)"
run_loft index
is "$(notmuch count --output=files '*')" "$((NFILES - 1))" "a deleted file is removed"

# Interrupted indexing resumes and indexes every file exactly once.
if have_shared; then
	python3 "$SHARED/corpus/mkcorpus.py" --maildir "$BIG" --count 2000 --seed 4 >/dev/null 2>&1
else
	gen_msgs "$BIG" 10000
fi
BIGFILES=$(count_files "$BIG")
printf 'set folder=%s\n' "$BIG" > "$T_DIR/big.rc"
printf '[database]\npath=%s\n' "$BIG" > "$T_DIR/big.nm"
"$LOFT" -F "$T_DIR/big.rc" index > "$T_DIR/run1" 2>&1 &
pid=$!
# Interrupt once it has read about a third of the mail (its read count in
# /proc), so that some but not all of the files are done, however fast or
# loaded the machine is.
third=$(( $(du -sb "$BIG" | cut -f1) / 3 ))
for _ in $(seq 600); do
	r=$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2>/dev/null) || break
	[ "${r:-0}" -ge "$third" ] && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc1=$?
first=$(sed -n 's/^indexed \([0-9]*\) messages.*/\1/p' "$T_DIR/run1")
diag "interrupted run: exit $rc1, indexed $first of $BIGFILES"
is "$rc1" 130 "SIGINT stops loft index with exit 130"
like "$(cat "$T_DIR/run1")" 'interrupted after [0-9]+ messages' "says how far it got"
"$LOFT" -F "$T_DIR/big.rc" index > "$T_DIR/run2" 2>&1
rc2=$?
second=$(sed -n 's/^indexed \([0-9]*\) messages.*/\1/p' "$T_DIR/run2")
is "$rc2" 0 "the rerun exits 0"
is "$(( ${first:-0} + ${second:-0} ))" "$BIGFILES" "both runs together indexed each file once"
is "$(NOTMUCH_CONFIG=$T_DIR/big.nm notmuch count --output=files '*')" "$BIGFILES" "notmuch counts every file once"

done_testing
