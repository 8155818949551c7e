"""The wire side of tests/imap_stress.py: a connection that reads whole
IMAP responses (literals included) with a deadline, a tokenizer for
their parenthesised lists, and UID set helpers."""
import re, socket, time

# Seconds any one answer may take (a loaded CI machine included).
DEADLINE = 30.0


class Hang(Exception):
    pass


class Dropped(Exception):
    pass


def parse_set(text):
    """A UID set without "*" ("1:3,7") as a sorted list."""
    out = []
    for part in text.split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            out.extend(range(min(a, b), max(a, b) + 1))
        elif part:
            out.append(int(part))
    return sorted(set(out))


def tokenize(buf, lits):
    """Response text (literals replaced by \\0 index \\0) into nested lists
    of bytes; a literal is its bytes, NIL None."""
    pos, n, stack = 0, len(buf), [[]]
    while pos < n:
        c = buf[pos:pos + 1]
        if c == b" ":
            pos += 1
        elif c == b"(":
            stack.append([])
            pos += 1
        elif c == b")":
            if len(stack) == 1:
                raise ValueError("unbalanced ) in %r" % buf[:200])
            lst = stack.pop()
            stack[-1].append(lst)
            pos += 1
        elif c == b'"':
            out = bytearray()
            pos += 1
            while buf[pos:pos + 1] != b'"':
                if pos >= n:
                    raise ValueError("unterminated string in %r" % buf[:200])
                if buf[pos:pos + 1] == b"\\":
                    pos += 1
                out += buf[pos:pos + 1]
                pos += 1
            stack[-1].append(bytes(out))
            pos += 1
        elif c == b"\0":
            end = buf.index(b"\0", pos + 1)
            stack[-1].append(lits[int(buf[pos + 1:end])])
            pos = end + 1
        else:
            end = pos
            depth = 0
            while end < n:
                ch = buf[end:end + 1]
                if ch == b"[":
                    depth += 1
                elif ch == b"]":
                    depth -= 1
                elif depth == 0 and ch in b" ()":
                    break
                end += 1
            atom = buf[pos:end]
            stack[-1].append(None if atom.upper() == b"NIL" else atom)
            pos = end
    if len(stack) != 1:
        raise ValueError("unbalanced ( in %r" % buf[:200])
    return stack[0]


class Conn:
    """One connection: sends commands, reads whole responses (literals
    included) with a deadline."""

    def __init__(self, host, port, trace=None):
        self.sock = socket.create_connection((host, port), timeout=DEADLINE)
        self.buf = b""
        self.trace = trace

    def send(self, data):
        if self.trace:
            self.trace.write(b"C: " + data[:300] + b"\n")
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Dropped("send: %s" % e)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Hang("no answer within %.0f s" % DEADLINE)
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise Hang("no answer within %.0f s" % DEADLINE)
        except OSError as e:
            raise Dropped("recv: %s" % e)
        if not d:
            raise Dropped("connection closed")
        self.buf += d

    def read_response(self, deadline=None):
        """(text with literals as \\0i\\0, [literal bytes])."""
        deadline = deadline or time.monotonic() + DEADLINE
        text, lits = b"", []
        while True:
            i = self.buf.find(b"\r\n")
            while i < 0:
                self._fill(deadline)
                i = self.buf.find(b"\r\n")
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            m = re.search(rb"\{(\d+)\}$", line)
            if self.trace:
                self.trace.write(b"S: " + line[:300] + b"\n")
            if not m:
                return text + line, lits
            size = int(m.group(1))
            while len(self.buf) < size:
                self._fill(deadline)
            text += line[:m.start()] + b"\0%d\0" % len(lits)
            lits.append(self.buf[:size])
            self.buf = self.buf[size:]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def fmt_set(nums):
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d:%d" % (nums[i], nums[j]))
        i = j + 1
    return ",".join(out)
