/* mailrc tokenizer: a byte-at-a-time state machine (see mailrc.h).
 *
 * The words of the current logical line are kept in one buffer, separated by
 * NULs, with a parallel buffer of per-byte flags so that expansion later
 * knows which '$' and '~' were quoted.  Both are bounded by MAILRC_LINE_MAX
 * (plus one NUL per word), checked before they grow. */
#include "lib/mailrc.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum state {
	S_SPACE,	/* between words */
	S_WORD,		/* in an unquoted part of a word */
	S_ESC,		/* after an unquoted backslash */
	S_ESC_CR,	/* after an unquoted backslash and a CR */
	S_DQ,		/* inside "..." */
	S_DQ_ESC,	/* after a backslash inside "..." */
	S_DQ_ESC_CR,	/* after a backslash and a CR inside "..." */
	S_SQ,		/* inside '...' */
	S_COMMENT,	/* from '#' to the end of the line */
	S_ERROR,	/* failed; stays failed unless recovering */
	S_SKIP,		/* recovering: the rest of a faulty line */
};

struct word_pos {
	size_t start, len, eq;
	unsigned long line, col, val_line, val_col;
};

struct mailrc_parser {
	char *name;
	mailrc_cmd_fn *fn;
	void *ctx;
	enum state state, esc_from;
	unsigned long line, col;		/* position of the next byte */
	unsigned long quote_line, quote_col;	/* the open quote */
	size_t logical_len;			/* bytes in this logical line */
	bool in_word;
	struct sbuf text, flags;
	struct word_pos *words;
	size_t nwords, words_alloc;
	struct mailrc_word *argv;		/* built per command */
	size_t argv_alloc;
	struct sbuf error;
	bool recover;				/* mailrc_set_recover() */
	struct sbuf errors;			/* every error, one a line */
};

struct mailrc_parser *mailrc_new(const char *name, mailrc_cmd_fn *fn, void *ctx)
{
	struct mailrc_parser *p = xcalloc(1, sizeof(*p));

	p->name = xstrdup(name);
	p->fn = fn;
	p->ctx = ctx;
	p->state = S_SPACE;
	p->line = p->col = 1;
	sbuf_init(&p->text, 0);
	sbuf_init(&p->flags, 0);
	sbuf_init(&p->error, 0);
	sbuf_init(&p->errors, 0);
	return p;
}

void mailrc_free(struct mailrc_parser **pp)
{
	struct mailrc_parser *p = *pp;

	if (p == NULL)
		return;
	free(p->name);
	sbuf_release(&p->text);
	sbuf_release(&p->flags);
	sbuf_release(&p->error);
	sbuf_release(&p->errors);
	free(p->words);
	free(p->argv);
	free(p);
	*pp = NULL;
}

int mailrc_error(struct mailrc_parser *p, unsigned long line, unsigned long col,
		 const char *fmt, ...)
{
	va_list ap;

	sbuf_reset(&p->error);
	sbuf_addf(&p->error, "%s:%lu:%lu: ", p->name, line, col);
	va_start(ap, fmt);
	sbuf_vaddf(&p->error, fmt, ap);
	va_end(ap);
	p->state = S_ERROR;
	return -1;
}

int mailrc_error_str(struct mailrc_parser *p, const char *msg)
{
	sbuf_reset(&p->error);
	sbuf_addstr(&p->error, msg);
	p->state = S_ERROR;
	return -1;
}

const char *mailrc_get_error(const struct mailrc_parser *p)
{
	return p->recover ? p->errors.buf : p->error.buf;
}

void mailrc_set_recover(struct mailrc_parser *p)
{
	p->recover = true;
}

/* Recovering: keeps the error and drops the faulty line; parsing goes on
 * at the next one (or right away when the error came with its newline). */
static void recover(struct mailrc_parser *p, bool at_newline)
{
	sbuf_addf(&p->errors, "%s%s", p->errors.len ? "\n" : "", p->error.buf);
	sbuf_reset(&p->text);
	sbuf_reset(&p->flags);
	p->nwords = 0;
	p->in_word = false;
	p->logical_len = 0;
	p->state = at_newline ? S_SPACE : S_SKIP;
}

const char *mailrc_name(const struct mailrc_parser *p)
{
	return p->name;
}

void mailrc_position(const struct mailrc_parser *p, unsigned long *line_r, unsigned long *col_r)
{
	*line_r = p->line;
	*col_r = p->col;
}

static void word_start(struct mailrc_parser *p)
{
	struct word_pos *w;

	if (p->nwords == p->words_alloc) {
		p->words_alloc = p->words_alloc ? p->words_alloc * 2 : 8;
		p->words = xreallocarray(p->words, p->words_alloc, sizeof(*p->words));
	}
	w = &p->words[p->nwords++];
	w->start = p->text.len;
	w->len = 0;
	w->eq = SIZE_MAX;
	w->line = p->line;
	w->col = p->col;
	w->val_line = w->val_col = 0;
	p->in_word = true;
}

static void word_add(struct mailrc_parser *p, char c, unsigned char flags)
{
	/* The logical line limit is checked once per byte before this, so the
	 * buffers stay below 2 * MAILRC_LINE_MAX. */
	if (!p->in_word)
		word_start(p);
	sbuf_addch(&p->text, c);
	sbuf_addch(&p->flags, flags);
	p->words[p->nwords - 1].len++;
}

static void word_end(struct mailrc_parser *p)
{
	if (!p->in_word)
		return;
	sbuf_addch(&p->text, '\0');
	sbuf_addch(&p->flags, 0);
	p->in_word = false;
}

/* Calls back the finished command, if the line held one, and starts over. */
static int line_end(struct mailrc_parser *p)
{
	int ret = 0;

	word_end(p);
	if (p->nwords > 0) {
		struct mailrc_cmd cmd;

		if (p->argv_alloc < p->nwords) {
			p->argv_alloc = p->nwords;
			p->argv = xreallocarray(p->argv, p->argv_alloc, sizeof(*p->argv));
		}
		for (size_t i = 0; i < p->nwords; i++) {
			const struct word_pos *w = &p->words[i];
			struct mailrc_word *a = &p->argv[i];

			a->text = p->text.buf + w->start;
			a->flags = (const unsigned char *)p->flags.buf + w->start;
			a->len = w->len;
			a->line = w->line;
			a->col = w->col;
			a->eq = w->eq;
			a->val_line = w->val_line;
			a->val_col = w->val_col;
		}
		cmd.argc = p->nwords;
		cmd.argv = p->argv;
		ret = p->fn(p, &cmd, p->ctx);
		if (ret < 0 && p->state != S_ERROR)
			mailrc_error(p, p->argv[0].line, p->argv[0].col, "command failed");
	}
	sbuf_reset(&p->text);
	sbuf_reset(&p->flags);
	p->nwords = 0;
	p->logical_len = 0;
	return ret < 0 ? -1 : 0;
}

static int quote_error(struct mailrc_parser *p, const char *which)
{
	return mailrc_error(p, p->quote_line, p->quote_col, "unterminated %s quote", which);
}

/* One byte.  Returns 1 when it is consumed, 0 when the same byte must be
 * processed again in the new state, -1 on error. */
static int step(struct mailrc_parser *p, char c)
{
	switch (p->state) {
	case S_SPACE:
	case S_WORD:
		switch (c) {
		case ' ': case '\t': case '\r':
			word_end(p);
			p->state = S_SPACE;
			return 1;
		case '\n':
			p->state = S_SPACE;
			return line_end(p) < 0 ? -1 : 1;
		case '"': case '\'':
			if (!p->in_word)
				word_start(p);
			p->quote_line = p->line;
			p->quote_col = p->col;
			p->state = c == '"' ? S_DQ : S_SQ;
			return 1;
		case '\\':
			p->esc_from = p->state;
			p->state = S_ESC;
			return 1;
		case '#':
			if (p->state == S_SPACE) {
				p->state = S_COMMENT;
				return 1;
			}
			break;
		case '=':
			if (p->in_word && p->words[p->nwords - 1].eq == SIZE_MAX) {
				struct word_pos *w = &p->words[p->nwords - 1];

				w->eq = w->len;
				w->val_line = p->line;
				w->val_col = p->col + 1;
			}
			break;
		}
		if (!p->in_word) {
			word_start(p);
			if (c == '=') {
				p->words[p->nwords - 1].eq = 0;
				p->words[p->nwords - 1].val_line = p->line;
				p->words[p->nwords - 1].val_col = p->col + 1;
			}
		}
		word_add(p, c, 0);
		p->state = S_WORD;
		return 1;
	case S_ESC:
		if (c == '\n') {
			p->state = p->esc_from;
			return 1;
		}
		if (c == '\r') {
			p->state = S_ESC_CR;
			return 1;
		}
		word_add(p, c, MAILRC_LITERAL);
		p->state = S_WORD;
		return 1;
	case S_ESC_CR:
		if (c == '\n') {
			p->state = p->esc_from;
			return 1;
		}
		word_add(p, '\r', MAILRC_LITERAL);
		p->state = S_WORD;
		return 0;
	case S_DQ:
		if (c == '"')
			p->state = S_WORD;
		else if (c == '\\')
			p->state = S_DQ_ESC;
		else if (c == '\n')
			return quote_error(p, "double");
		else
			word_add(p, c, MAILRC_QUOTED);
		return 1;
	case S_DQ_ESC:
		p->state = S_DQ;
		switch (c) {
		case '\n':
			return 1;
		case '\r':
			p->state = S_DQ_ESC_CR;
			return 1;
		case '"': case '\\': case '$': case '~': case '\'':
			word_add(p, c, MAILRC_QUOTED | MAILRC_LITERAL);
			return 1;
		case 'n': c = '\n'; break;
		case 't': c = '\t'; break;
		case 'r': c = '\r'; break;
		default:
			word_add(p, '\\', MAILRC_QUOTED);
			return 0;
		}
		word_add(p, c, MAILRC_QUOTED | MAILRC_LITERAL);
		return 1;
	case S_DQ_ESC_CR:
		p->state = S_DQ;
		if (c == '\n')
			return 1;
		word_add(p, '\\', MAILRC_QUOTED);
		word_add(p, '\r', MAILRC_QUOTED);
		return 0;
	case S_SQ:
		if (c == '\'')
			p->state = S_WORD;
		else if (c == '\n')
			return quote_error(p, "single");
		else
			word_add(p, c, MAILRC_QUOTED | MAILRC_LITERAL);
		return 1;
	case S_COMMENT:
		if (c == '\n') {
			p->state = S_SPACE;
			return line_end(p) < 0 ? -1 : 1;
		}
		return 1;
	case S_SKIP:
		if (c == '\n')
			p->state = S_SPACE;
		return 1;
	case S_ERROR:
		return -1;
	}
	abort();
}

int mailrc_feed(struct mailrc_parser *p, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		int r;

		if (p->state == S_ERROR)
			return -1;
		if (p->state == S_SKIP) {
			r = step(p, c);
		} else if (c == '\0') {
			r = mailrc_error(p, p->line, p->col, "NUL byte in the file");
		} else if (c != '\n' && (p->col > MAILRC_LINE_MAX ||
					  p->logical_len >= MAILRC_LINE_MAX)) {
			r = mailrc_error(p, p->line, p->col, "line too long (more than %d bytes)",
					 MAILRC_LINE_MAX);
		} else {
			p->logical_len++;
			while ((r = step(p, c)) == 0)
				;
		}
		if (r < 0 && !p->recover)
			return -1;
		if (r < 0)
			recover(p, c == '\n');
		if (c == '\n') {
			p->line++;
			p->col = 1;
		} else {
			p->col++;
		}
	}
	return p->state == S_ERROR ? -1 : 0;
}

static int finish(struct mailrc_parser *p)
{
	switch (p->state) {
	case S_ERROR:
		return -1;
	case S_DQ: case S_DQ_ESC: case S_DQ_ESC_CR:
		return quote_error(p, "double");
	case S_SQ:
		return quote_error(p, "single");
	case S_ESC_CR:
		word_add(p, '\r', MAILRC_LITERAL);
		break;
	default:
		break;
	}
	p->state = S_SPACE;
	return line_end(p);
}

int mailrc_finish(struct mailrc_parser *p)
{
	if (!p->recover)
		return finish(p);
	if (finish(p) < 0)
		recover(p, true);
	return p->errors.len ? -1 : 0;
}

static void add_var(struct sbuf *out, const char *name, size_t len)
{
	char *n = xstrndup(name, len);
	const char *v = getenv(n);

	if (v != NULL)
		sbuf_addstr(out, v);
	free(n);
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int mailrc_expand(const struct mailrc_word *w, size_t from, bool expand_tilde,
		  bool expand_vars, struct sbuf *out, const char **error_r)
{
	const char *t = w->text;
	size_t i = from;

	if (expand_tilde && i < w->len && t[i] == '~' && !(w->flags[i] & MAILRC_LITERAL) &&
	    (i + 1 == w->len || t[i + 1] == '/')) {
		const char *home = getenv("HOME");

		sbuf_addstr(out, home != NULL ? home : "~");
		i++;
	}
	for (; i < w->len; i++) {
		if (t[i] != '$' || !expand_vars || (w->flags[i] & MAILRC_LITERAL)) {
			sbuf_addch(out, t[i]);
			continue;
		}
		if (i + 1 < w->len && t[i + 1] == '{') {
			const char *end = memchr(t + i + 2, '}', w->len - i - 2);

			if (end == NULL) {
				*error_r = "unterminated ${";
				return -1;
			}
			if (end == t + i + 2) {
				*error_r = "empty variable name in ${}";
				return -1;
			}
			add_var(out, t + i + 2, end - (t + i + 2));
			i = end - t;
		} else if (i + 1 < w->len && is_name_start(t[i + 1])) {
			size_t j = i + 1;

			while (j < w->len && is_name_char(t[j]))
				j++;
			add_var(out, t + i + 1, j - i - 1);
			i = j - 1;
		} else {
			sbuf_addch(out, '$');
		}
	}
	return 0;
}

#define DIST_MAX 64

unsigned mailrc_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[DIST_MAX + 1][DIST_MAX + 1];

	if (la > DIST_MAX || lb > DIST_MAX)
		return 1000;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned best = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}
