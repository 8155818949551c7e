/* mbox: finding the messages of a file, with keys that survive rewrites. */
#include "store/mbox-private.h"
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

bool mbox_header_is(const char *p, size_t len, const char *name)
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
		if (mbox_header_is(p, len, names[i]))
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
	mbox_parse_from_line(l->p, l->len, &e->sender, &e->date);
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
	} else if (mbox_header_is(p, len, "Status") || mbox_header_is(p, len, "X-Status")) {
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


int mbox_scan(struct mbox *mb, struct mbox_entry **entries_r, size_t *n_r,
	      const char **error_r)
{
	struct scan_state s = { 0 };
	struct reader r = { .fd = -1 };
	struct line l;
	struct stat st;
	bool taken = false, first = true;
	int ret = -1, got;

	if (mb->lock == LOCK_NONE && mbox_reopen_if_replaced(mb, error_r) < 0)
		return -1;
	if (mbox_lock_for(mb, false, &taken, error_r) < 0)
		return -1;
	if (fstat(mb->fd, &st) < 0) {
		*error_r = mbox_set_error(mb, "%s: %s", mb->path, strerror(errno));
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
				*error_r = mbox_set_error(mb, "%s: not an mbox file (does not "
						     "start with a \"From \" line)", mb->path);
				goto out;
			}
		}
		if (l.line_start && l.len >= 5 && memcmp(l.p, "From ", 5) == 0 &&
		    (first || s.last_blank || mbox_from_line_valid(l.p, l.len))) {
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
		*error_r = mbox_set_error(mb, "%s: read: %s", mb->path, strerror(errno));
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

