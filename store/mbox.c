/* mbox: mboxrd files, locking, scanning, appending, rewriting.
 *
 * Lock order.  mutt (mx_lock_file) takes fcntl, then the dotlock, and drops
 * fcntl when the dotlock is busy; Postfix's local(8) (mbox_open) takes the
 * dotlock first, then fcntl, and defers delivery when either is busy.  We
 * follow mutt, the other program that edits the user's own mbox files, and
 * like both of them never wait for one lock while holding the other, which
 * is what rules out deadlock whatever order the other side uses.  Holding
 * fcntl first also means the stale-dotlock check runs while no cooperating
 * writer can be active. */
#include "store/mbox.h"
#include "store/store.h"
#include "lib/atomic.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_SIZE (1024 * 1024)
#define KEY_HEADER_BYTES 4096
#define LOCK_RETRY_NS 100000000L
#define DOTLOCK_STALE_S 300

enum lock_state { LOCK_NONE, LOCK_SHARED, LOCK_EXCL };

struct mbox {
	char *path;
	char *lock_path;
	int fd;
	bool writable;
	unsigned lock_timeout;
	enum lock_state lock;
	bool dotlocked;
	/* what the last scan saw, for mbox_changed() */
	bool scanned;
	struct stat scan_st;
	char *error;
};

static const char *set_error(struct mbox *mb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *set_error(struct mbox *mb, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(mb->error);
	mb->error = sbuf_detach(&sb, NULL);
	return mb->error;
}

const char *mbox_path(const struct mbox *mb)
{
	return mb->path;
}

/* ---- opening ---- */

int mbox_open(const char *path, bool create, unsigned lock_timeout_s,
	      struct mbox **mbox_r, const char **error_r)
{
	static _Thread_local char errbuf[1024];
	struct mbox *mb;
	struct stat st;
	bool writable = true;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && (errno == EACCES || errno == EROFS)) {
		writable = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", path, strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, sizeof(errbuf), "%s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory, not an mbox file" :
			 "not a regular file");
		close(fd);
		*error_r = errbuf;
		return -1;
	}
	mb = xcalloc(1, sizeof(*mb));
	mb->path = xstrdup(path);
	mb->lock_path = xasprintf("%s.lock", path);
	mb->fd = fd;
	mb->writable = writable;
	mb->lock_timeout = lock_timeout_s;
	*mbox_r = mb;
	return 0;
}

void mbox_close(struct mbox **mboxp)
{
	struct mbox *mb = *mboxp;

	if (mb == NULL)
		return;
	mbox_unlock(mb);
	close(mb->fd);
	free(mb->path);
	free(mb->lock_path);
	free(mb->error);
	free(mb);
	*mboxp = NULL;
}

/* ---- locking ---- */

static int fcntl_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &fl);
}

/* 1 taken, 0 busy, -1 error. */
static int try_dotlock(struct mbox *mb)
{
	char pid[32];
	struct stat st;
	int fd = open(mb->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd >= 0) {
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

		(void)write_all(fd, pid, (size_t)n);
		close(fd);
		return 1;
	}
	if (errno != EEXIST)
		return -1;
	/* A dotlock nobody refreshed for 5 minutes is left over from a crash
	 * (mutt's dotlock makes the same call).  We hold the fcntl lock here,
	 * so a cooperating holder of the dotlock would hold that too. */
	if (stat(mb->lock_path, &st) == 0 && time(NULL) - st.st_mtime > DOTLOCK_STALE_S) {
		log_warning("%s: removing stale dotlock", mb->lock_path);
		if (unlink(mb->lock_path) == 0 || errno == ENOENT)
			return try_dotlock(mb);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int mbox_lock(struct mbox *mb, bool exclusive, const char **error_r)
{
	double deadline = now_s() + mb->lock_timeout;
	bool want_dot = exclusive;
	struct sbuf who = SBUF_INIT;
	int ret = -1;

	assert(mb->lock == LOCK_NONE);
	if (exclusive && !mb->writable) {
		*error_r = set_error(mb, "%s: cannot write: opened read-only", mb->path);
		return -1;
	}
	for (;;) {
		if (fcntl_lock(mb->fd, exclusive ? F_WRLCK : F_RDLCK) < 0) {
			struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK,
					    .l_whence = SEEK_SET };

			if (errno != EAGAIN && errno != EACCES) {
				*error_r = set_error(mb, "%s: fcntl lock: %s", mb->path,
						     strerror(errno));
				goto out;
			}
			sbuf_reset(&who);
			if (fcntl(mb->fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				sbuf_addf(&who, "fcntl lock held by pid %ld", (long)fl.l_pid);
			else
				sbuf_addstr(&who, "fcntl lock");
		} else if (!want_dot) {
			break;
		} else {
			int r = try_dotlock(mb);

			if (r == 1) {
				mb->dotlocked = true;
				break;
			}
			if (r < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
				/* As Postfix does for unprivileged delivery: a
				 * directory we may not write in means no dotlock,
				 * the fcntl lock alone protects the file. */
				log_debug("%s: no dotlock (%s)", mb->lock_path, strerror(errno));
				want_dot = false;
				break;
			}
			int saved = errno;

			/* Never wait for the dotlock while holding fcntl. */
			fcntl_lock(mb->fd, F_UNLCK);
			if (r < 0) {
				*error_r = set_error(mb, "%s: cannot create dotlock: %s",
						     mb->lock_path, strerror(saved));
				goto out;
			}
			sbuf_reset(&who);
			sbuf_addf(&who, "dotlock %s", mb->lock_path);
		}
		if (now_s() >= deadline) {
			*error_r = set_error(mb, "%s: locked by another program (%s); "
					     "gave up after %u s", mb->path, who.buf,
					     mb->lock_timeout);
			goto out;
		}
		nanosleep(&(struct timespec){ 0, LOCK_RETRY_NS }, NULL);
	}
	mb->lock = exclusive ? LOCK_EXCL : LOCK_SHARED;
	ret = 0;
out:
	sbuf_release(&who);
	return ret;
}

void mbox_unlock(struct mbox *mb)
{
	if (mb->lock == LOCK_NONE)
		return;
	/* The dotlock goes first, so that nobody finds the dotlock free
	 * while we still hold the fcntl lock... and then waits on it. */
	if (mb->dotlocked) {
		if (unlink(mb->lock_path) < 0 && errno != ENOENT)
			log_warning("%s: cannot remove dotlock: %s", mb->lock_path,
				    strerror(errno));
		mb->dotlocked = false;
	}
	fcntl_lock(mb->fd, F_UNLCK);
	mb->lock = LOCK_NONE;
}

/* Takes the lock a call needs unless the caller holds one.  *taken_r
 * tells the caller to unlock when done. */
static int lock_for(struct mbox *mb, bool exclusive, bool *taken_r, const char **error_r)
{
	*taken_r = false;
	if (mb->lock == LOCK_EXCL || (mb->lock == LOCK_SHARED && !exclusive))
		return 0;
	assert(mb->lock == LOCK_NONE);	/* no upgrades from shared */
	if (mbox_lock(mb, exclusive, error_r) < 0)
		return -1;
	*taken_r = true;
	return 0;
}

/* ---- quoting ---- */

/* Length of the line starting at p (including its newline). */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* Number of '>' before "From " at the start of the line, or -1. */
static long from_quote_depth(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == '>')
		i++;
	if (len - i >= 5 && memcmp(p + i, "From ", 5) == 0)
		return (long)i;
	return -1;
}

void mbox_quote(const char *data, size_t len, struct sbuf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		size_t n = line_len(p, end);

		if (from_quote_depth(p, n) >= 0)
			sbuf_addch(out, '>');
		sbuf_add(out, p, n);
		p += n;
	}
}

void mbox_unquote(const char *data, size_t len, struct sbuf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		size_t n = line_len(p, end);

		if (from_quote_depth(p, n) > 0)
			sbuf_add(out, p + 1, n - 1);
		else
			sbuf_add(out, p, n);
		p += n;
	}
}

/* ---- From_ lines ---- */

static int find_word(const char *w, size_t len, const char *const *words, int n)
{
	if (len != 3)
		return -1;
	for (int i = 0; i < n; i++)
		if (memcmp(w, words[i], 3) == 0)
			return i;
	return -1;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int parse_num(const char *s, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len && i < 6; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

#define MAX_TOKENS 24

/* The date part, tokens t[i...]: "Mmm dd hh:mm[:ss] [zone...] yyyy [zone]"
 * (the weekday before it is optional).  Returns the time or 0. */
static int64_t parse_date_tokens(const char *const *t, const size_t *tl, int i, int n)
{
	struct tm tm = { 0 };
	int mon, tz = 0, year = -1;
	const char *c;
	size_t cl;

	if (i + 3 > n || (mon = find_word(t[i], tl[i], months, 12)) < 0)
		return 0;
	if (!all_digits(t[i + 1], tl[i + 1]) || tl[i + 1] > 2)
		return 0;
	tm.tm_mday = parse_num(t[i + 1], tl[i + 1]);
	c = t[i + 2];
	cl = tl[i + 2];
	if (cl == 5 && c[2] == ':' && all_digits(c, 2) && all_digits(c + 3, 2)) {
		tm.tm_hour = parse_num(c, 2);
		tm.tm_min = parse_num(c + 3, 2);
	} else if (cl == 8 && c[2] == ':' && c[5] == ':' && all_digits(c, 2) &&
		   all_digits(c + 3, 2) && all_digits(c + 6, 2)) {
		tm.tm_hour = parse_num(c, 2);
		tm.tm_min = parse_num(c + 3, 2);
		tm.tm_sec = parse_num(c + 6, 2);
	} else {
		return 0;
	}
	for (int j = i + 3; j < n && j < i + 6; j++) {
		if (tl[j] == 4 && all_digits(t[j], 4) && year < 0) {
			year = parse_num(t[j], 4);
		} else if (tl[j] == 5 && (t[j][0] == '+' || t[j][0] == '-') &&
			   all_digits(t[j] + 1, 4)) {
			int v = parse_num(t[j] + 1, 4);

			tz = (v / 100 * 60 + v % 100) * 60 * (t[j][0] == '-' ? -1 : 1);
		}
	}
	if (year < 1970 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	return (int64_t)timegm(&tm) - tz;
}

/* Senders are kept to a sane length, so that a file of huge From_ lines
 * cannot make the entry array huge. */
#define SENDER_MAX 1000

static size_t cap_sender(size_t len)
{
	return len < SENDER_MAX ? len : SENDER_MAX;
}

/* sender_r may be NULL (only the validity is wanted). */
static bool parse_from_line(const char *line, size_t len, char **sender_r,
			    int64_t *date_r)
{
	const char *t[MAX_TOKENS];
	size_t tl[MAX_TOKENS];
	int n = 0;
	const char *p = line + 5, *end = line + len;

	assert(len >= 5 && memcmp(line, "From ", 5) == 0);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	while (p < end && n < MAX_TOKENS) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		t[n] = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		tl[n] = (size_t)(p - t[n]);
		n++;
	}
	/* The sender may itself hold spaces ("a b"@host): the date starts at
	 * the first weekday (or month) followed by a valid date. */
	for (int i = 0; i < n; i++) {
		int64_t d = 0;
		int at = i;

		if (find_word(t[i], tl[i], wdays, 7) >= 0)
			d = parse_date_tokens(t, tl, at = i + 1, n);
		else if (find_word(t[i], tl[i], months, 12) >= 0)
			d = parse_date_tokens(t, tl, at, n);
		if (d != 0) {
			int last = i - 1;	/* "From  Mon Jan ...": no sender */

			if (sender_r != NULL)
				*sender_r = last < 0 ? xstrdup("") :
					xstrndup(t[0], cap_sender((size_t)(t[last] + tl[last] - t[0])));
			*date_r = d;
			return true;
		}
	}
	if (sender_r != NULL)
		*sender_r = n > 0 ? xstrndup(t[0], cap_sender(tl[0])) : xstrdup("");
	*date_r = 0;
	return false;
}

bool mbox_parse_from_line(const char *line, size_t len, char **sender_r,
			  int64_t *date_r)
{
	return parse_from_line(line, len, sender_r, date_r);
}

static bool from_line_valid(const char *line, size_t len)
{
	int64_t date;

	return parse_from_line(line, len, NULL, &date);
}

/* ---- block reader: lines from a file without per-line syscalls ---- */

struct reader {
	int fd;
	char *buf;
	size_t start, end;
	uint64_t buf_off;	/* file offset of buf[0] */
	uint64_t limit;		/* read no further than this offset */
	bool skipping;		/* inside an overlong line already returned */
};

struct line {
	const char *p;
	size_t len;		/* bytes visible (up to BLOCK_SIZE) */
	uint64_t off;		/* file offset of the line */
	uint64_t full_len;	/* bytes in the file, newline included */
	bool line_start;	/* false for the rest of an overlong line */
};

/* 1 line, 0 end, -1 read error (errno). */
static int reader_next(struct reader *r, struct line *l)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		bool at_eof = r->buf_off + r->end >= r->limit;

		if (nl != NULL || (at_eof && r->start < r->end) ||
		    (r->start == 0 && r->end == BLOCK_SIZE)) {
			size_t n = nl != NULL ? (size_t)(nl - (r->buf + r->start)) + 1 :
				   r->end - r->start;

			l->p = r->buf + r->start;
			l->len = n;
			l->off = r->buf_off + r->start;
			l->full_len = n;
			l->line_start = !r->skipping;
			r->skipping = nl == NULL && !at_eof;
			r->start += n;
			return 1;
		}
		if (at_eof)
			return 0;
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->buf_off += r->start;
			r->end -= r->start;
			r->start = 0;
		}
		uint64_t want = r->limit - (r->buf_off + r->end);
		size_t room = BLOCK_SIZE - r->end;
		ssize_t got;

		if (want < room)
			room = (size_t)want;
		got = pread(r->fd, r->buf + r->end, room, (off_t)(r->buf_off + r->end));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0) {		/* shrank under us: stop here */
			r->limit = r->buf_off + r->end;
			continue;
		}
		r->end += (size_t)got;
	}
}

/* ---- scanning ---- */

static bool is_blank(const struct line *l)
{
	return l->line_start && ((l->len == 1 && l->p[0] == '\n') ||
				 (l->len == 2 && l->p[0] == '\r' && l->p[1] == '\n'));
}

static bool header_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(p, name, n) == 0 && p[n] == ':';
}

/* Headers that mutt, Dovecot and loft rewrite in place: left out of keys. */
static bool volatile_header(const char *p, size_t len)
{
	static const char *const names[] = { "Status", "X-Status", "X-Keywords",
		"X-UID", "X-IMAP", "X-IMAPbase", "Content-Length", "Lines" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (header_is(p, len, names[i]))
			return true;
	return false;
}

static uint64_t fnv1a(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint32_t status_flags(const char *p, size_t len, bool x_status)
{
	uint32_t f = 0;

	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case 'R': f |= x_status ? 0 : STORE_SEEN; break;
		case 'O': f |= x_status ? 0 : STORE_RECENT; break; /* inverted below */
		case 'A': f |= x_status ? STORE_ANSWERED : 0; break;
		case 'F': f |= x_status ? STORE_FLAGGED : 0; break;
		case 'T': f |= x_status ? STORE_DRAFT : 0; break;
		case 'D': f |= STORE_DELETED; break;
		default: break;
		}
	}
	return f;
}

struct scan_state {
	struct mbox_entry *e;
	size_t n, alloc;
	uint64_t *hashes;
	bool in_headers, old, last_blank, skip_cont;
	uint64_t hashed, last_line_off;
};

static void finish_entry(struct scan_state *s, uint64_t end)
{
	struct mbox_entry *e;

	if (s->n == 0)
		return;
	e = &s->e[s->n - 1];
	/* The blank line before the next From_ line (or at the end of the
	 * file) is the separator, not part of the message. */
	if (s->last_blank && s->last_line_off >= e->offset)
		end = s->last_line_off;
	e->length = end - e->offset;
	if (!s->old)
		e->flags |= STORE_RECENT;
}

static void start_entry(struct scan_state *s, const struct line *l, uint64_t next)
{
	struct mbox_entry *e;

	finish_entry(s, l->off);
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->e = xreallocarray(s->e, s->alloc, sizeof(*s->e));
		s->hashes = xreallocarray(s->hashes, s->alloc, sizeof(*s->hashes));
	}
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	e->from_offset = l->off;
	e->offset = next;
	parse_from_line(l->p, l->len, &e->sender, &e->date);
	s->hashes[s->n] = fnv1a(0xcbf29ce484222325ULL, l->p, l->len);
	s->n++;
	s->in_headers = true;
	s->old = false;
	s->hashed = 0;
	s->skip_cont = false;
}

static void scan_header(struct scan_state *s, const struct line *l)
{
	struct mbox_entry *e = &s->e[s->n - 1];
	const char *p = l->p;
	size_t len = l->len;

	if (!l->line_start || (len > 0 && (p[0] == ' ' || p[0] == '\t'))) {
		if (s->skip_cont)
			return;		/* continuation of a volatile header */
	} else if (header_is(p, len, "Status") || header_is(p, len, "X-Status")) {
		bool x = p[0] == 'X' || p[0] == 'x';
		size_t skip = x ? 9 : 7;	/* past "X-Status:" / "Status:" */
		uint32_t f = status_flags(p + skip, len - skip, x);

		if (f & STORE_RECENT)
			s->old = true;
		e->flags |= f & ~(uint32_t)STORE_RECENT;
		s->skip_cont = true;
		return;
	} else {
		s->skip_cont = volatile_header(p, len);
		if (s->skip_cont)
			return;
	}
	if (s->hashed < KEY_HEADER_BYTES) {
		size_t n = len;

		if (n > KEY_HEADER_BYTES - s->hashed)
			n = (size_t)(KEY_HEADER_BYTES - s->hashed);
		s->hashes[s->n - 1] = fnv1a(s->hashes[s->n - 1], p, n);
		s->hashed += n;
	}
}

static int cmp_index_by_hash(const void *a, const void *b, void *ctx)
{
	const uint64_t *h = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (h[x] != h[y])
		return h[x] < h[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Keys: the hash, plus "-N" for the N-th (N >= 2) copy in file order. */
static void assign_keys(struct mbox_entry *e, const uint64_t *h, size_t n)
{
	size_t *idx = xreallocarray(NULL, n ? n : 1, sizeof(*idx));
	unsigned count = 0;

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_index_by_hash, (void *)h);
	for (size_t i = 0; i < n; i++) {
		size_t k = idx[i];

		count = i > 0 && h[idx[i - 1]] == h[k] ? count + 1 : 1;
		if (count == 1)
			snprintf(e[k].key, sizeof(e[k].key), "%016" PRIx64, h[k]);
		else
			snprintf(e[k].key, sizeof(e[k].key), "%016" PRIx64 "-%u", h[k], count);
	}
	free(idx);
}

void mbox_entries_free(struct mbox_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(entries[i].sender);
	free(entries);
}

/* If another program renamed a new file over the path, follow it. */
static int reopen_if_replaced(struct mbox *mb, const char **error_r)
{
	struct stat st, fst;
	int fd;

	if (stat(mb->path, &st) < 0) {
		*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
		return -1;
	}
	if (fstat(mb->fd, &fst) == 0 && st.st_ino == fst.st_ino && st.st_dev == fst.st_dev)
		return 0;
	fd = open(mb->path, (mb->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
		return -1;
	}
	close(mb->fd);
	mb->fd = fd;
	return 0;
}

int mbox_scan(struct mbox *mb, struct mbox_entry **entries_r, size_t *n_r,
	      const char **error_r)
{
	struct scan_state s = { 0 };
	struct reader r = { .fd = -1 };
	struct line l;
	struct stat st;
	bool taken = false, first = true;
	int ret = -1, got;

	if (mb->lock == LOCK_NONE && reopen_if_replaced(mb, error_r) < 0)
		return -1;
	if (lock_for(mb, false, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
		goto out;
	}
	r.fd = mb->fd;
	r.buf = xmalloc(BLOCK_SIZE);
	r.limit = (uint64_t)st.st_size;
	while ((got = reader_next(&r, &l)) > 0) {
		bool blank = is_blank(&l);

		if (first) {
			if (blank)
				continue;	/* tolerate leading blank lines */
			if (l.len < 5 || memcmp(l.p, "From ", 5) != 0) {
				*error_r = set_error(mb, "%s: not an mbox file (does not "
						     "start with a \"From \" line)", mb->path);
				goto out;
			}
		}
		if (l.line_start && l.len >= 5 && memcmp(l.p, "From ", 5) == 0 &&
		    (first || s.last_blank || from_line_valid(l.p, l.len))) {
			start_entry(&s, &l, l.off + l.full_len);
			first = false;
			s.last_blank = false;
			if (!r.skipping)
				continue;
			/* an overlong From_ line: the message starts after it */
			while ((got = reader_next(&r, &l)) > 0 && !l.line_start) {
				s.e[s.n - 1].offset = l.off + l.full_len;
				if (!r.skipping)
					break;
			}
			if (got < 0)
				break;
			continue;
		}
		if (s.in_headers) {
			if (blank)
				s.in_headers = false;
			else
				scan_header(&s, &l);
		}
		if (l.line_start) {
			s.last_blank = blank;
			s.last_line_off = l.off;
		}
	}
	if (got < 0) {
		*error_r = set_error(mb, "%s: read: %s", mb->path, strerror(errno));
		goto out;
	}
	finish_entry(&s, r.limit);
	assign_keys(s.e, s.hashes, s.n);
	mb->scan_st = st;
	mb->scanned = true;
	*entries_r = s.e;
	*n_r = s.n;
	s.e = NULL;
	s.n = 0;
	ret = 0;
out:
	if (taken)
		mbox_unlock(mb);
	free(r.buf);
	free(s.hashes);
	mbox_entries_free(s.e, s.n);
	return ret;
}

/* ---- reading ---- */

/* Reads exactly len bytes at off.  0, or -1 (errno; EIO for a short file). */
static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the bytes [off, off+len) into buf (replacing its content). */
static int read_range(struct mbox *mb, uint64_t off, uint64_t len, struct sbuf *buf,
		      const char **error_r)
{
	struct stat st;

	if (fstat(mb->fd, &st) < 0 || off + len > (uint64_t)st.st_size || len > SIZE_MAX / 2) {
		*error_r = set_error(mb, "%s: the file changed since it was scanned "
				     "(rescan)", mb->path);
		return -1;
	}
	sbuf_reset(buf);
	for (uint64_t i = 0; i < len; ) {
		char chunk[65536];
		size_t n = len - i < sizeof(chunk) ? (size_t)(len - i) : sizeof(chunk);

		if (pread_all(mb->fd, chunk, n, off + i) < 0) {
			*error_r = set_error(mb, "%s: read: %s", mb->path, strerror(errno));
			return -1;
		}
		sbuf_add(buf, chunk, n);
		i += n;
	}
	return 0;
}

static int check_from_line(struct mbox *mb, const struct mbox_entry *e, const char **error_r)
{
	char head[5];

	if (e->offset < e->from_offset + 5 ||
	    pread_all(mb->fd, head, 5, e->from_offset) < 0 || memcmp(head, "From ", 5) != 0) {
		*error_r = set_error(mb, "%s: no message at offset %" PRIu64 " any more: the "
				     "file changed since it was scanned (rescan)", mb->path,
				     e->from_offset);
		return -1;
	}
	return 0;
}

int mbox_read(struct mbox *mb, const struct mbox_entry *e, struct sbuf *out,
	      const char **error_r)
{
	struct sbuf raw = SBUF_INIT;
	bool taken;
	int ret = -1;

	if (lock_for(mb, false, &taken, error_r) < 0)
		return -1;
	if (check_from_line(mb, e, error_r) < 0 ||
	    read_range(mb, e->offset, e->length, &raw, error_r) < 0)
		goto out;
	mbox_unquote(raw.buf, raw.len, out);
	ret = 0;
out:
	if (taken)
		mbox_unlock(mb);
	sbuf_release(&raw);
	return ret;
}

/* ---- writing ---- */

/* Status/X-Status as mutt writes them, plus Dovecot's T and D. */
static void add_status_headers(struct sbuf *out, uint32_t flags, const char *eol)
{
	char st[3], x[5];
	size_t n = 0, m = 0;

	if (flags & STORE_SEEN)
		st[n++] = 'R';
	if (!(flags & STORE_RECENT))
		st[n++] = 'O';
	if (flags & STORE_ANSWERED)
		x[m++] = 'A';
	if (flags & STORE_FLAGGED)
		x[m++] = 'F';
	if (flags & STORE_DRAFT)
		x[m++] = 'T';
	if (flags & STORE_DELETED)
		x[m++] = 'D';
	if (n > 0)
		sbuf_addf(out, "Status: %.*s%s", (int)n, st, eol);
	if (m > 0)
		sbuf_addf(out, "X-Status: %.*s%s", (int)m, x, eol);
}

/* Appends msg to out with its Status/X-Status headers replaced by flags'
 * (added at the end of the header), quoted when quote is set, ending in a
 * newline.  The new headers use the message's own line ending. */
static void put_message(struct sbuf *out, const char *msg, size_t len, bool quote,
			uint32_t flags)
{
	const char *p = msg, *end = msg + len, *eol = "\n";
	size_t first = line_len(p, end), start = out->len;
	bool in_headers = true, skipping = false;

	if (first >= 2 && p[first - 1] == '\n' && p[first - 2] == '\r')
		eol = "\r\n";
	while (p < end) {
		size_t n = line_len(p, end);

		if (in_headers) {
			if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n')) {
				add_status_headers(out, flags, eol);
				in_headers = false;
			} else if (p[0] == ' ' || p[0] == '\t') {
				if (skipping) {
					p += n;
					continue;
				}
			} else {
				skipping = header_is(p, n, "Status") || header_is(p, n, "X-Status");
				if (skipping) {
					p += n;
					continue;
				}
			}
		}
		if (quote && from_quote_depth(p, n) >= 0)
			sbuf_addch(out, '>');
		sbuf_add(out, p, n);
		p += n;
	}
	if (out->len > start && out->buf[out->len - 1] != '\n')
		sbuf_addstr(out, eol);
	if (in_headers)
		add_status_headers(out, flags, eol);
}

static void add_from_line(struct sbuf *out, const char *sender, int64_t date)
{
	time_t t = date != 0 ? (time_t)date : time(NULL);
	struct tm tm;
	char buf[64];

	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	sbuf_addstr(out, "From ");
	for (const char *s = sender; *s != '\0'; s++)
		sbuf_addch(out, (unsigned char)*s <= ' ' || *s == 0x7f ? '_' : *s);
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y",
						  &tm) == 0)
		strcpy(buf, "Thu Jan  1 00:00:00 1970");
	sbuf_addf(out, " %s\n", buf);
}

int mbox_append(struct mbox *mb, const void *data, size_t len, const char *sender,
		int64_t date, uint32_t flags, uint64_t *offset_r, const char **error_r)
{
	struct sbuf buf = SBUF_INIT;
	struct stat st;
	const char *step = NULL;
	bool taken;
	int ret = -1, saved = 0;

	if (lock_for(mb, true, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
		goto out;
	}
	/* The previous message must end in a blank line, or our From_ line
	 * would not start a message. */
	if (st.st_size > 0) {
		char tail[3] = { 0 };
		size_t n = st.st_size >= 3 ? 3 : (size_t)st.st_size;

		if (pread_all(mb->fd, tail + 3 - n, n, (uint64_t)st.st_size - n) < 0) {
			*error_r = set_error(mb, "%s: read: %s", mb->path, strerror(errno));
			goto out;
		}
		if (tail[2] != '\n')
			sbuf_addstr(&buf, "\n\n");
		else if (tail[1] != '\n' && !(tail[1] == '\r' && tail[0] == '\n'))
			sbuf_addch(&buf, '\n');
	}
	if (offset_r != NULL)
		*offset_r = (uint64_t)st.st_size + buf.len;
	add_from_line(&buf, sender, date);
	put_message(&buf, data, len, true, flags);
	sbuf_addch(&buf, '\n');

	if (lseek(mb->fd, st.st_size, SEEK_SET) < 0)
		step = "seek";
	else if (write_all(mb->fd, buf.buf, buf.len) < 0)
		step = "write";
	else if (fsync(mb->fd) < 0)
		step = "fsync";
	if (step == NULL) {
		ret = 0;
		goto out;
	}
	saved = errno;
	/* All or nothing: cut off whatever part of the message got in. */
	if (ftruncate(mb->fd, st.st_size) < 0 || fsync(mb->fd) < 0)
		*error_r = set_error(mb, "%s: append failed (%s: %s), and truncating back "
				     "to %lld bytes failed too: %s", mb->path, step,
				     strerror(saved), (long long)st.st_size, strerror(errno));
	else
		*error_r = set_error(mb, "%s: append failed (%s: %s); the mailbox is "
				     "unchanged", mb->path, step, strerror(saved));
out:
	if (taken)
		mbox_unlock(mb);
	sbuf_release(&buf);
	return ret;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int mbox_rewrite(struct mbox *mb, const struct mbox_entry *entries, size_t n,
		 const bool *keep, const uint32_t *new_flags, const char **error_r)
{
	struct sbuf out = SBUF_INIT, msg = SBUF_INIT;
	struct stat st;
	char *tmp = NULL;
	int tfd = -1, ret = -1;
	bool taken;

	if (lock_for(mb, true, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
		goto out;
	}
	if (!mb->scanned || !same_file(&st, &mb->scan_st)) {
		*error_r = set_error(mb, "%s: the file changed since it was scanned "
				     "(rescan, then try again)", mb->path);
		goto out;
	}
	tmp = xasprintf("%s.loft-tmp.%ld", mb->path, (long)getpid());
	(void)unlink(tmp);	/* left over by a crashed process with our pid */
	tfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (tfd < 0) {
		*error_r = set_error(mb, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* Keep the original's mode and, where we may, its owner. */
	if (fchmod(tfd, st.st_mode & 07777) < 0) {
		*error_r = set_error(mb, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fchown(tfd, st.st_uid, st.st_gid) < 0)
		log_debug("%s: chown: %s", tmp, strerror(errno));

	for (size_t i = 0; i < n; i++) {
		const struct mbox_entry *e = &entries[i];
		uint64_t from_len = e->offset - e->from_offset;

		if (keep != NULL && !keep[i])
			continue;
		if (e->offset < e->from_offset || check_from_line(mb, e, error_r) < 0 ||
		    read_range(mb, e->from_offset, from_len + e->length, &msg, error_r) < 0)
			goto fail;
		sbuf_add(&out, msg.buf, (size_t)from_len);
		if (new_flags != NULL && new_flags[i] != e->flags) {
			put_message(&out, msg.buf + from_len, msg.len - from_len, false,
				    new_flags[i]);
		} else {
			sbuf_add(&out, msg.buf + from_len, msg.len - from_len);
			if (msg.len > from_len && out.buf[out.len - 1] != '\n')
				sbuf_addch(&out, '\n');
		}
		sbuf_addch(&out, '\n');
		if (out.len >= BLOCK_SIZE) {
			if (write_all(tfd, out.buf, out.len) < 0) {
				*error_r = set_error(mb, "%s: write: %s", tmp, strerror(errno));
				goto fail;
			}
			sbuf_reset(&out);
		}
	}
	if (write_all(tfd, out.buf, out.len) < 0 || fsync(tfd) < 0) {
		*error_r = set_error(mb, "%s: write: %s", tmp, strerror(errno));
		goto fail;
	}
	/* Lock the new file before it becomes visible; the dotlock (same
	 * name) stays ours throughout. */
	if (fcntl_lock(tfd, F_WRLCK) < 0)
		log_debug("%s: fcntl lock: %s", tmp, strerror(errno));
	if (rename(tmp, mb->path) < 0) {
		*error_r = set_error(mb, "%s: rename to %s: %s", tmp, mb->path, strerror(errno));
		goto fail;
	}
	if (fsync_parent_dir(mb->path) < 0)
		log_warning("%s: fsync of the directory: %s", mb->path, strerror(errno));
	close(mb->fd);
	mb->fd = tfd;
	tfd = -1;
	ret = 0;
	goto out;
fail:
	close(tfd);
	tfd = -1;
	unlink(tmp);
out:
	if (taken)
		mbox_unlock(mb);
	free(tmp);
	sbuf_release(&out);
	sbuf_release(&msg);
	return ret;
}

int mbox_changed(struct mbox *mb, bool *changed_r, const char **error_r)
{
	struct stat st;

	if (!mb->scanned) {
		*changed_r = true;
		return 0;
	}
	if (stat(mb->path, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = set_error(mb, "%s: %s", mb->path, strerror(errno));
			return -1;
		}
		*changed_r = true;
		return 0;
	}
	*changed_r = !same_file(&st, &mb->scan_st);
	return 0;
}
