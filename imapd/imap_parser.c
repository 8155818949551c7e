/* The IMAP command parser in two stages: a byte-fed framing scanner that
 * knows where quoted strings and literals are (so it can stop at each
 * literal and count limits as bytes arrive), and, once a command is
 * complete, a builder that turns the framed bytes into an argument tree.
 * The scanner keeps the command's bytes exactly as sent, literals inline
 * after their "{N}\r\n", so the builder needs no side table. */
#include "imapd/imap_parser.h"

#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum scan_state {
	ST_LINE,		/* outside quoted strings and literals */
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LITERAL_WAIT,	/* announced: the caller decides */
	ST_LITERAL,		/* taking literal bytes */
	ST_COMPLETE,		/* a command waits for imap_parser_command() */
	ST_SKIP,		/* after an error: to the end of the line */
	ST_SKIP_LITERAL,	/* ... and past a {N+} announced there */
};

#define TAG_MAX 64
#define NAME_MAX_ 32
#define TAIL_MAX 24		/* enough for "~{18446744073709551615+}\r" */

struct imap_parser {
	struct imap_parser_limits lim;
	struct sbuf buf;		/* the command so far */
	size_t line_start;		/* offset of the current line in buf */
	enum scan_state state;
	unsigned depth;
	unsigned nargs;
	uint64_t lit_size, lit_left;
	bool lit_sync;
	char tail[TAIL_MAX];		/* last bytes of a skipped line */
	size_t tail_len;
	char tag[TAG_MAX + 1];
	char name[NAME_MAX_ + 1];
	const char *error;
};

struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	if (lim != NULL)
		p->lim = *lim;
	if (p->lim.max_line == 0)
		p->lim.max_line = 64 * 1024;
	if (p->lim.max_command == 0)
		p->lim.max_command = 64 * 1024 * 1024;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = 32;
	if (p->lim.max_args == 0)
		p->lim.max_args = 10000;
	sbuf_init(&p->buf, 0);
	return p;
}

void imap_parser_free(struct imap_parser **pp)
{
	if (*pp == NULL)
		return;
	sbuf_release(&(*pp)->buf);
	free(*pp);
	*pp = NULL;
}

/* Drops the command bytes; the tag and name stay for the reply. */
static void reset(struct imap_parser *p)
{
	sbuf_reset(&p->buf);
	/* A big literal's buffer is not kept for the whole connection. */
	if (p->buf.alloc > 256 * 1024)
		sbuf_release(&p->buf);
	p->line_start = 0;
	p->depth = 0;
	p->nargs = 0;
	p->tail_len = 0;
	p->state = ST_LINE;
}

static bool tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' &&
	       c != '*' && c != '"' && c != '\\' && c != '+';
}

/* Takes tag and name from the start of the buffer, as far as they go. */
static void capture_tag_name(struct imap_parser *p)
{
	const char *s = p->buf.buf, *end = s + p->buf.len;
	size_t n = 0;

	while (s + n < end && s[n] != ' ' && s[n] != '\r' && s[n] != '\n')
		n++;
	p->tag[0] = p->name[0] = '\0';
	if (n == 0)
		return;
	bool ok = n <= TAG_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = tag_char((unsigned char)s[i]);
	if (!ok) {
		strcpy(p->tag, "*");
		return;
	}
	memcpy(p->tag, s, n);
	p->tag[n] = '\0';
	s += n;
	if (s >= end || *s != ' ')
		return;
	s++;
	for (n = 0; s + n < end && n < NAME_MAX_ && isalnum((unsigned char)s[n]); n++)
		p->name[n] = s[n];
	p->name[n] = '\0';
}

static int fail(struct imap_parser *p, const char *why, bool skip_line)
{
	capture_tag_name(p);
	p->error = why;
	reset(p);
	if (skip_line)
		p->state = ST_SKIP;
	return IMAP_PARSE_ERROR;
}

/* Whether the text s[0..n) ends in a literal announcement; fills size and
 * sync.  -1 when it does but the number is unusable. */
static int literal_spec(const char *s, size_t n, uint64_t *size_r, bool *sync_r)
{
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n < 3 || s[n - 1] != '}')
		return 0;
	n--;
	*sync_r = true;
	if (s[n - 1] == '+') {
		*sync_r = false;
		n--;
	}
	size_t end = n;
	while (n > 0 && isdigit((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || s[n - 1] != '{' || n == end)
		return 0;
	if (end - n > 19)
		return -1;
	uint64_t v = 0;
	for (size_t i = n; i < end; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*size_r = v;
	return 1;
}

/* The line just ended (LF seen and stored). */
static int end_of_line(struct imap_parser *p)
{
	const char *line = p->buf.buf + p->line_start;
	size_t n = p->buf.len - p->line_start - 1;
	int r = literal_spec(line, n, &p->lit_size, &p->lit_sync);

	if (r < 0)
		return fail(p, "Literal size too large.", false);
	if (r > 0) {
		capture_tag_name(p);
		p->state = ST_LITERAL_WAIT;
		return IMAP_PARSE_LITERAL;
	}
	if (p->depth > 0)
		return fail(p, "Missing ')' or ']'.", false);
	capture_tag_name(p);
	p->state = ST_COMPLETE;
	return IMAP_PARSE_COMMAND;
}

static void skip_tail_add(struct imap_parser *p, char c)
{
	if (p->tail_len == TAIL_MAX) {
		memmove(p->tail, p->tail + 1, TAIL_MAX - 1);
		p->tail_len--;
	}
	p->tail[p->tail_len++] = c;
}

int imap_parser_feed(struct imap_parser *p, const void *data, size_t len, size_t *used_r)
{
	const char *d = data;
	size_t i = 0;
	int r = IMAP_PARSE_MORE;

	while (i < len && r == IMAP_PARSE_MORE) {
		char c = d[i];

		switch (p->state) {
		case ST_LITERAL_WAIT:
			*used_r = i;
			return IMAP_PARSE_LITERAL;
		case ST_COMPLETE:
			*used_r = i;
			return IMAP_PARSE_COMMAND;
		case ST_LITERAL: {
			size_t n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			if (p->buf.len + n > p->lim.max_command) {
				p->lit_left -= n;
				i += n;
				r = fail(p, "Command too long.", true);
				if (p->lit_left > 0)
					p->state = ST_SKIP_LITERAL;
				break;
			}
			sbuf_add(&p->buf, d + i, n);
			i += n;
			p->lit_left -= n;
			if (p->lit_left == 0) {
				p->state = ST_LINE;
				p->line_start = p->buf.len;
			}
			continue;
		}
		case ST_SKIP_LITERAL: {
			size_t n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			i += n;
			p->lit_left -= n;
			if (p->lit_left == 0)
				p->state = ST_SKIP;
			continue;
		}
		case ST_SKIP:
			i++;
			if (c != '\n') {
				skip_tail_add(p, c);
				continue;
			}
			uint64_t size;
			bool sync;
			if (literal_spec(p->tail, p->tail_len, &size, &sync) > 0 && !sync) {
				p->lit_left = size;
				p->tail_len = 0;
				p->state = size > 0 ? ST_SKIP_LITERAL : ST_SKIP;
			} else {
				reset(p);
			}
			continue;
		default:
			break;
		}
		/* ST_LINE and quoted strings: one byte at a time. */
		if (p->buf.len - p->line_start >= p->lim.max_line) {
			r = fail(p, "Line too long.", true);
			break;
		}
		if (p->buf.len >= p->lim.max_command) {
			r = fail(p, "Command too long.", true);
			break;
		}
		i++;
		if (c == '\0') {
			r = fail(p, "NUL byte outside a literal.", true);
			break;
		}
		sbuf_addch(&p->buf, c);
		if (p->state == ST_QUOTED_ESC) {
			p->state = ST_QUOTED;
			if (c == '\n') {
				r = fail(p, "Newline in a quoted string.", false);
				break;
			}
			continue;
		}
		if (p->state == ST_QUOTED) {
			if (c == '\\')
				p->state = ST_QUOTED_ESC;
			else if (c == '"')
				p->state = ST_LINE;
			else if (c == '\n')
				r = fail(p, "Newline in a quoted string.", false);
			continue;
		}
		switch (c) {
		case '"':
			p->state = ST_QUOTED;
			break;
		case '(':
		case '[':
			if (++p->depth > p->lim.max_depth)
				r = fail(p, "Too deeply nested.", true);
			break;
		case ')':
		case ']':
			if (p->depth > 0)
				p->depth--;
			break;
		case ' ':
			if (++p->nargs > p->lim.max_args)
				r = fail(p, "Too many arguments.", true);
			break;
		case '\n':
			r = end_of_line(p);
			break;
		}
	}
	*used_r = i;
	if (r == IMAP_PARSE_MORE && p->state == ST_LITERAL_WAIT)
		r = IMAP_PARSE_LITERAL;
	if (r == IMAP_PARSE_MORE && p->state == ST_COMPLETE)
		r = IMAP_PARSE_COMMAND;
	return r;
}

uint64_t imap_parser_literal_size(const struct imap_parser *p)
{
	return p->lit_size;
}

bool imap_parser_literal_sync(const struct imap_parser *p)
{
	return p->lit_sync;
}

void imap_parser_literal_accept(struct imap_parser *p)
{
	if (p->state != ST_LITERAL_WAIT)
		return;
	p->lit_left = p->lit_size;
	p->state = p->lit_size > 0 ? ST_LITERAL : ST_LINE;
	p->line_start = p->buf.len;
}

void imap_parser_literal_reject(struct imap_parser *p)
{
	if (p->state != ST_LITERAL_WAIT)
		return;
	bool sync = p->lit_sync;
	uint64_t size = p->lit_size;

	reset(p);
	if (!sync && size > 0) {
		p->lit_left = size;
		p->state = ST_SKIP_LITERAL;
	} else if (!sync) {
		p->state = ST_SKIP;
	}
}

const char *imap_parser_tag(const struct imap_parser *p)
{
	return p->tag;
}

const char *imap_parser_name(const struct imap_parser *p)
{
	return p->name;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error ? p->error : "";
}

/* ---- the builder ---- */

/* n bytes (NUL bytes kept) and a NUL, in the arena. */
static char *arena_memdup(struct arena *arena, const char *s, size_t n)
{
	char *d = arena_alloc(arena, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

struct build {
	const char *s, *end;
	struct arena *arena;
	unsigned nargs, max_args, depth, max_depth;
	const char *error;
};

static bool atom_stop(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '(' || c == ')' || c == '"' || c == '{';
}

static int build_arg(struct build *b, struct imap_arg *arg);

static int build_quoted(struct build *b, struct imap_arg *arg)
{
	struct sbuf out = SBUF_INIT;
	const char *s = b->s + 1;

	for (; s < b->end && *s != '"'; s++) {
		if (*s == '\\') {
			s++;
			if (s >= b->end || (*s != '\\' && *s != '"')) {
				sbuf_release(&out);
				b->error = "Bad escape in a quoted string.";
				return -1;
			}
		} else if (*s == '\r' || *s == '\n') {
			break;
		}
		sbuf_addch(&out, *s);
	}
	if (s >= b->end || *s != '"') {
		sbuf_release(&out);
		b->error = "Unterminated quoted string.";
		return -1;
	}
	arg->type = IMAP_ARG_STRING;
	arg->str = arena_memdup(b->arena, out.buf, out.len);
	arg->len = out.len;
	sbuf_release(&out);
	b->s = s + 1;
	return 0;
}

static int build_literal(struct build *b, struct imap_arg *arg)
{
	const char *s = b->s;
	uint64_t n = 0;

	if (*s == '~') {
		arg->literal8 = true;
		s++;
	}
	s++;	/* '{' */
	while (s < b->end && isdigit((unsigned char)*s))
		n = n * 10 + (uint64_t)(*s++ - '0');
	if (s < b->end && *s == '+')
		s++;
	if (s < b->end && *s == '}')
		s++;
	else
		goto bad;
	if (s < b->end && *s == '\r')
		s++;
	if (s >= b->end || *s != '\n')
		goto bad;
	s++;
	if ((uint64_t)(b->end - s) < n)
		goto bad;
	arg->type = IMAP_ARG_LITERAL;
	arg->str = arena_memdup(b->arena, s, (size_t)n);
	arg->len = (size_t)n;
	b->s = s + n;
	return 0;
bad:
	b->error = "Bad literal.";
	return -1;
}

static int build_atom(struct build *b, struct imap_arg *arg)
{
	const char *s = b->s;
	unsigned bracket = 0;
	bool quoted = false;

	while (s < b->end) {
		unsigned char c = (unsigned char)*s;

		if (bracket > 0) {
			/* Inside [ ]: a FETCH section, spaces, lists and
			 * quoted header names allowed. */
			if (c == '\r' || c == '\n')
				break;
			if (quoted) {
				if (c == '\\' && s + 1 < b->end)
					s++;
				else if (c == '"')
					quoted = false;
			} else if (c == '"') {
				quoted = true;
			} else if (c == '[') {
				bracket++;
			} else if (c == ']') {
				bracket--;
			}
			s++;
			continue;
		}
		if (atom_stop(c))
			break;
		if (c == '[')
			bracket++;
		s++;
	}
	if (bracket > 0) {
		b->error = "Missing ']'.";
		return -1;
	}
	if (s == b->s) {
		b->error = "Unexpected character.";
		return -1;
	}
	arg->len = (size_t)(s - b->s);
	arg->str = arena_strndup(b->arena, b->s, arg->len);
	arg->type = arg->len == 3 && strncasecmp(b->s, "NIL", 3) == 0 ? IMAP_ARG_NIL
									 : IMAP_ARG_ATOM;
	b->s = s;
	return 0;
}

/* Elements up to the closing c (')' for a list, '\n' for the top). */
static int build_list(struct build *b, char close, const struct imap_arg **list_r,
		      unsigned *count_r)
{
	struct imap_arg *v = NULL;
	unsigned n = 0, cap = 0;
	int ret = -1;

	for (;;) {
		if (b->s >= b->end || *b->s == '\r' || *b->s == '\n') {
			if (close == ')') {
				b->error = "Missing ')'.";
				goto out;
			}
			break;
		}
		if (*b->s == ')') {
			if (close != ')') {
				b->error = "Unexpected ')'.";
				goto out;
			}
			b->s++;
			break;
		}
		if (n > 0 || close == '\n') {
			if (*b->s != ' ') {
				b->error = "Missing space between arguments.";
				goto out;
			}
			b->s++;
			/* Trailing spaces some clients send are forgiven. */
			if (close == '\n' && (b->s >= b->end || *b->s == '\r' || *b->s == '\n'))
				break;
			if (close == ')' && b->s < b->end && *b->s == ')')
				continue;
		}
		if (++b->nargs > b->max_args) {
			b->error = "Too many arguments.";
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (build_arg(b, &v[n]) < 0)
			goto out;
		n++;
	}
	struct imap_arg *copy = arena_calloc(b->arena, n ? n : 1, sizeof(*copy));
	if (n > 0)
		memcpy(copy, v, n * sizeof(*v));
	*list_r = copy;
	*count_r = n;
	ret = 0;
out:
	free(v);
	return ret;
}

static int build_arg(struct build *b, struct imap_arg *arg)
{
	char c = *b->s;

	if (c == '(') {
		if (++b->depth > b->max_depth) {
			b->error = "Too deeply nested.";
			return -1;
		}
		b->s++;
		arg->type = IMAP_ARG_LIST;
		arg->str = "";
		int r = build_list(b, ')', &arg->list, &arg->count);
		b->depth--;
		return r;
	}
	if (c == '"')
		return build_quoted(b, arg);
	if (c == '{' || (c == '~' && b->s + 1 < b->end && b->s[1] == '{'))
		return build_literal(b, arg);
	return build_atom(b, arg);
}

int imap_parser_command(struct imap_parser *p, struct arena *arena,
			struct imap_command *cmd, const char **error_r)
{
	struct build b = {
		.s = p->buf.buf, .end = p->buf.buf + p->buf.len, .arena = arena,
		.max_args = p->lim.max_args, .max_depth = p->lim.max_depth,
	};
	int ret = -1;

	memset(cmd, 0, sizeof(*cmd));
	if (p->state != ST_COMPLETE) {
		*error_r = "No command.";
		return -1;
	}
	/* tag SP name: the scanner captured both. */
	size_t taglen = strlen(p->tag), namelen = strlen(p->name);
	if (taglen == 0 || strcmp(p->tag, "*") == 0) {
		*error_r = "Bad or missing tag.";
		goto out;
	}
	b.s += taglen;
	if (b.s >= b.end || *b.s != ' ' || namelen == 0) {
		*error_r = "Missing command.";
		goto out;
	}
	b.s += 1 + namelen;
	if (b.s < b.end && !(*b.s == ' ' || *b.s == '\r' || *b.s == '\n')) {
		*error_r = "Bad command name.";
		goto out;
	}
	cmd->tag = arena_strdup(arena, p->tag);
	cmd->name = arena_strdup(arena, p->name);
	if (build_list(&b, '\n', &cmd->args, &cmd->count) < 0) {
		*error_r = b.error;
		goto out;
	}
	if (b.s < b.end && *b.s == '\r')
		b.s++;
	if (b.s >= b.end || *b.s != '\n' || b.s + 1 != b.end) {
		*error_r = "Unexpected bytes at the end of the line.";
		goto out;
	}
	ret = 0;
out:
	reset(p);
	return ret;
}

/* ---- argument helpers ---- */

const char *imap_arg_astring(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_LIST ? NULL : arg->str;
}

const char *imap_arg_string(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_STRING || arg->type == IMAP_ARG_LITERAL ? arg->str : NULL;
}

bool imap_arg_is_atom(const struct imap_arg *arg, const char *word)
{
	return (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) &&
	       strcasecmp(arg->str, word) == 0;
}
