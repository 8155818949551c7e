/* message_cap.c: the bytes GMime is given, cut to the model's caps.
 *
 * GMime builds an object per header field and per part, several hundred
 * bytes each, before loft's own limits apply: 3 million two-letter fields
 * cost 2 GB.  So the caps are applied first, by a scan of the raw bytes
 * that knows just enough MIME to find header blocks: the top one, the one
 * after each boundary line of an enclosing multipart, the one at the start
 * of a message/ body.  Fields past a cap are cut out of their block (the
 * block and what follows stay); a part past the part or depth cap ends
 * GMime's view there.  The scan follows GMime's own rules (a header block
 * ends at an empty line or a boundary line; a boundary line is "--" the
 * boundary, optional blanks; outer boundaries end inner parts; a part of a
 * multipart/digest is message/rfc822 by default) and errs toward seeing
 * more blocks than GMime does, so what GMime builds stays under the caps.
 * The message's own bytes (message_raw) are never changed. */
#include "store/message-private.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DROP_CHUNK (4u << 20)

struct bound {
	char *text;
	size_t len;
	unsigned depth;		/* of the parts it separates */
	bool digest;
};

struct scan {
	const char *data;
	size_t len;
	const struct message_limits *lim;
	bool build;		/* make a view, or only tell */
	bool mapped;		/* data is a file mapping: pages behind the scan are dropped */
	size_t released;	/* data[0..released) dropped */
	GByteArray *view;	/* NULL until the first cut */
	size_t kept;		/* data[kept..] not yet copied to view */
	const char *defects[3];
	unsigned ndefects;

	size_t bytes;		/* header bytes kept, all blocks */
	unsigned fields;	/* header fields kept, all blocks */
	unsigned blocks;	/* header blocks seen (about the parts) */
	struct bound *stack;
	unsigned nb, stack_size;

	/* the header block being read */
	unsigned depth, block_fields;
	bool digest_child;
	bool dropping;		/* past a cap: lines cut from drop_from on */
	size_t drop_from, field_start;
	bool field_is_ct;
	struct sbuf ctype;	/* the last kept Content-Type value */
};

static void hit(struct scan *s, const char *defect)
{
	for (unsigned i = 0; i < s->ndefects; i++)
		if (strcmp(s->defects[i], defect) == 0)
			return;
	s->defects[s->ndefects++] = defect;
}

/* Leaves data[from, to) out of the view. */
static void cut(struct scan *s, size_t from, size_t to)
{
	if (!s->build || from > to)
		return;
	if (s->view == NULL)
		s->view = g_byte_array_new();
	g_byte_array_append(s->view, (const guint8 *)s->data + s->kept, (guint)(from - s->kept));
	s->kept = to;
}

/* 1: "--b" line, 2: "--b--" line, 0: neither. */
static int boundary_kind(const char *line, size_t n, const struct bound *b)
{
	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		n--;
	if (n < 2 + b->len || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, b->text, b->len) != 0)
		return 0;
	if (n == 2 + b->len)
		return 1;
	if (n == 4 + b->len && line[n - 2] == '-' && line[n - 1] == '-')
		return 2;
	return 0;
}

/* The innermost enclosing boundary the line is, as the index in the stack
 * plus one (negative for a close line), or 0. */
static int find_boundary(const struct scan *s, const char *line, size_t n)
{
	if (n < 2 || line[0] != '-' || line[1] != '-')
		return 0;
	for (unsigned i = s->nb; i-- > 0;) {
		int k = boundary_kind(line, n, &s->stack[i]);

		if (k)
			return k == 1 ? (int)i + 1 : -(int)i - 1;
	}
	return 0;
}

static void begin_block(struct scan *s, unsigned depth, bool digest_child)
{
	s->depth = depth;
	s->digest_child = digest_child;
	s->block_fields = 0;
	s->dropping = false;
	s->field_is_ct = false;
	sbuf_reset(&s->ctype);
	s->blocks++;
}

/* Is a new header block at depth within the caps?  If not, GMime's view
 * ends at pos. */
static bool block_allowed(struct scan *s, unsigned depth)
{
	if (depth > s->lim->max_depth) {
		hit(s, "depth-limit");
		return false;
	}
	if (s->blocks > s->lim->max_parts) {
		hit(s, "part-limit");
		return false;
	}
	return true;
}

/* One header line (a field, a continuation or junk GMime skips). */
static void header_line(struct scan *s, size_t pos, size_t n)
{
	const char *line = s->data + pos;
	bool cont = line[0] == ' ' || line[0] == '\t';

	if (!cont) {
		s->field_start = pos;
		s->block_fields++;
		s->field_is_ct = n > 13 && strncasecmp(line, "content-type:", 13) == 0;
	}
	if (s->dropping)
		return;
	if ((!cont && (s->block_fields > s->lim->max_fields ||
		       s->fields >= s->lim->max_total_fields)) ||
	    s->bytes + n > s->lim->max_header_bytes) {
		hit(s, "header-limit");
		s->dropping = true;
		s->drop_from = s->field_start;
		if (cont && s->field_is_ct)	/* only part of it was kept */
			sbuf_reset(&s->ctype);
		return;
	}
	s->bytes += n;
	if (!cont)
		s->fields++;
	if (s->field_is_ct) {
		if (!cont)
			sbuf_reset(&s->ctype);
		sbuf_add(&s->ctype, cont ? line : line + 13, cont ? n : n - 13);
	}
}

enum next { NEXT_BODY, NEXT_MULTIPART, NEXT_MESSAGE };

/* The block ended at pos (its empty line or a boundary line): what its
 * body is. */
static enum next end_block(struct scan *s, size_t pos)
{
	enum next next = s->digest_child ? NEXT_MESSAGE : NEXT_BODY;

	if (s->dropping)
		cut(s, s->drop_from, pos);
	if (s->ctype.len == 0)
		return next;
	GMimeContentType *ct = g_mime_content_type_parse(NULL, s->ctype.buf);
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	const char *b = ct ? g_mime_content_type_get_parameter(ct, "boundary") : NULL;

	next = NEXT_BODY;
	if (type && sub && strcasecmp(type, "multipart") == 0 && b && *b &&
	    s->nb < s->stack_size) {
		struct bound *nb = &s->stack[s->nb++];

		nb->text = xstrdup(b);
		nb->len = strlen(b);
		nb->depth = s->depth + 1;
		nb->digest = strcasecmp(sub, "digest") == 0;
		next = NEXT_MULTIPART;
	} else if (type && sub && strcasecmp(type, "message") == 0 &&
		   strcasecmp(sub, "partial") != 0) {
		next = NEXT_MESSAGE;
	}
	if (ct)
		g_object_unref(ct);
	return next;
}

static void pop_to(struct scan *s, unsigned n)
{
	while (s->nb > n)
		free(s->stack[--s->nb].text);
}

/* GMime's view ends at pos (a line start): the open multiparts are closed
 * there, so GMime sees them whole rather than as broken. */
static void end_view(struct scan *s, size_t pos)
{
	cut(s, pos, s->len);
	if (!s->build)
		return;
	for (unsigned i = s->nb; i-- > 0;) {
		g_byte_array_append(s->view, (const guint8 *)"--", 2);
		g_byte_array_append(s->view, (const guint8 *)s->stack[i].text, (guint)s->stack[i].len);
		g_byte_array_append(s->view, (const guint8 *)"--\n", 3);
	}
}

/* The scan never looks back (in check mode nothing is cut): the pages of a
 * mapped file behind it go back to the page cache as it moves, so checking
 * a 45 MB file does not cost 45 MB of the caller's RSS. */
static void drop_behind(struct scan *s, size_t pos)
{
	size_t upto = pos / (size_t)sysconf(_SC_PAGESIZE) * (size_t)sysconf(_SC_PAGESIZE);

	if (upto >= s->released + DROP_CHUNK) {
		madvise((char *)(uintptr_t)s->data + s->released, upto - s->released, MADV_DONTNEED);
		s->released = upto;
	}
}

static void run(struct scan *s)
{
	size_t pos = 0;
	bool in_header = true;

	begin_block(s, 0, false);
	while (pos < s->len) {
		if (s->mapped)
			drop_behind(s, pos);
		const char *line = s->data + pos;
		const char *nl = memchr(line, '\n', s->len - pos);
		size_t n = nl ? (size_t)(nl + 1 - line) : s->len - pos;
		int b = s->nb ? find_boundary(s, line, n) : 0;

		if (in_header && b == 0) {
			if (line[0] == '\n' || (n == 2 && line[0] == '\r' && line[1] == '\n')) {
				in_header = false;
				if (end_block(s, pos) == NEXT_MESSAGE) {
					if (!block_allowed(s, s->depth + 1)) {
						end_view(s, pos + n);
						return;
					}
					begin_block(s, s->depth + 1, false);
					in_header = true;
				}
			} else {
				header_line(s, pos, n);
			}
			pos += n;
			continue;
		}
		if (in_header) {	/* a boundary line ends a block with no body */
			end_block(s, pos);
			in_header = false;
		}
		if (b < 0) {
			pop_to(s, (unsigned)(-b - 1));
		} else if (b > 0) {
			const struct bound *bd = &s->stack[b - 1];

			pop_to(s, (unsigned)b);
			if (!block_allowed(s, bd->depth)) {
				end_view(s, pos);
				return;
			}
			begin_block(s, bd->depth, bd->digest);
			in_header = true;
		}
		pos += n;
	}
	if (in_header)
		end_block(s, s->len);
}

static void scan_init(struct scan *s, const char *data, size_t len,
		      const struct message_limits *lim, bool build)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->len = len;
	s->lim = lim;
	s->build = build;
	s->stack_size = lim->max_depth + 2;
	s->stack = xcalloc(s->stack_size, sizeof(*s->stack));
	sbuf_init(&s->ctype, 0);
}

static void scan_deinit(struct scan *s)
{
	pop_to(s, 0);
	free(s->stack);
	sbuf_release(&s->ctype);
}

GByteArray *message_cap_view(const char *data, size_t len, const struct message_limits *lim,
			     const char **defects, unsigned *ndefects)
{
	struct scan s;

	scan_init(&s, data, len, lim, true);
	run(&s);
	if (s.view)	/* the rest after the last cut */
		g_byte_array_append(s.view, (const guint8 *)data + s.kept, (guint)(len - s.kept));
	for (unsigned i = 0; i < s.ndefects; i++)
		message_add_defect(defects, ndefects, s.defects[i]);
	scan_deinit(&s);
	return s.view;
}

static const char *check(const char *data, size_t len, const struct message_limits *lim,
			 bool mapped)
{
	static const struct message_limits deflim = MESSAGE_LIMITS_DEFAULT;
	struct scan s;
	const char *what;

	message_init();	/* the Content-Type parser is GMime's */
	scan_init(&s, data, len, lim ? lim : &deflim, false);
	s.mapped = mapped;
	run(&s);
	what = s.ndefects ? s.defects[0] : NULL;
	scan_deinit(&s);
	return what;
}

const char *message_over_limits(const char *data, size_t len, const struct message_limits *lim)
{
	return check(data, len, lim, false);
}

const char *message_file_over_limits(const char *path, const struct message_limits *lim)
{
	struct stat st;
	const char *what = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	/* Mapped, not read, and given back behind the scan (drop_behind). */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p != MAP_FAILED) {
			madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
			what = check(p, (size_t)st.st_size, lim, true);
			munmap(p, (size_t)st.st_size);
		}
	}
	close(fd);
	return what;
}
