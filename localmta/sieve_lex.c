/* sieve_lex.c: the lexical layer of RFC 5228 section 8.1.
 *
 * The script is in memory (it is read whole, bounded by
 * SIEVE_MAX_SCRIPT_SIZE), so the lexer pulls tokens from a buffer rather
 * than being fed bytes.  Columns count characters, not bytes: a UTF-8
 * continuation byte does not advance the column, so an error points where
 * an editor shows it. */
#include "localmta/sieve-private.h"
#include "lib/arena.h"
#include "lib/sbuf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void sieve_lexer_init(struct sieve_lexer *lx, const char *text, size_t len,
		      struct arena *arena)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = text;
	lx->end = text + len;
	lx->line = lx->col = 1;
	lx->end_line = lx->end_col = 1;
	lx->arena = arena;
}

static int peekc(const struct sieve_lexer *lx, size_t ahead)
{
	return lx->p + ahead < lx->end ? (unsigned char)lx->p[ahead] : -1;
}

static void advance(struct sieve_lexer *lx)
{
	unsigned char c = (unsigned char)*lx->p++;

	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		lx->col++;
	}
}

static int fail_at(struct sieve_lexer *lx, unsigned line, unsigned col, const char *msg)
{
	lx->error = msg;
	lx->err_line = line;
	lx->err_col = col;
	return -1;
}

static int fail(struct sieve_lexer *lx, const char *msg)
{
	return fail_at(lx, lx->line, lx->col, msg);
}

/* White space and both comment forms. */
static int skip_space(struct sieve_lexer *lx)
{
	for (;;) {
		int c = peekc(lx, 0);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			advance(lx);
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx);
		} else if (c == '/' && peekc(lx, 1) == '*') {
			unsigned line = lx->line, col = lx->col;

			advance(lx);
			advance(lx);
			while (!(peekc(lx, 0) == '*' && peekc(lx, 1) == '/')) {
				if (lx->p >= lx->end)
					return fail_at(lx, line, col, "unterminated comment");
				advance(lx);
			}
			advance(lx);
			advance(lx);
		} else {
			return 0;
		}
	}
}

/* The value goes into an arena copy; Sieve strings never hold NUL (the
 * compiler rejects NUL bytes), so C strings suffice. */
static void finish_string(struct sieve_lexer *lx, struct sieve_token *tok, struct sbuf *sb)
{
	tok->kind = SIEVE_TOK_STRING;
	tok->text = arena_strndup(lx->arena, sb->buf, sb->len);
	tok->len = sb->len;
	sbuf_release(sb);
}

static int lex_quoted(struct sieve_lexer *lx, struct sieve_token *tok)
{
	struct sbuf sb = SBUF_INIT;

	advance(lx);	/* the opening quote */
	for (;;) {
		int c = peekc(lx, 0);

		if (c < 0) {
			sbuf_release(&sb);
			return fail_at(lx, tok->line, tok->col, "unterminated string");
		}
		if (c == '"')
			break;
		if (c == '\\') {
			advance(lx);
			c = peekc(lx, 0);
			if (c < 0)
				continue;	/* reported as unterminated */
			/* RFC 5228 2.4.2: \" and \\ are the escapes; any
			 * other backslash is simply dropped. */
		}
		sbuf_addch(&sb, c);
		advance(lx);
	}
	advance(lx);
	finish_string(lx, tok, &sb);
	return 0;
}

/* text: ... "." CRLF, after the "text:" itself.  Lines that start with a
 * dot have it removed (dot-stuffing); LF alone is accepted for CRLF. */
static int lex_multiline(struct sieve_lexer *lx, struct sieve_token *tok)
{
	struct sbuf sb = SBUF_INIT;

	while (peekc(lx, 0) == ' ' || peekc(lx, 0) == '\t')
		advance(lx);
	if (peekc(lx, 0) == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			advance(lx);
	} else if (peekc(lx, 0) == '\r' && peekc(lx, 1) == '\n') {
		advance(lx);
	}
	if (peekc(lx, 0) != '\n')
		return fail(lx, "text: must be followed by a line break");
	advance(lx);
	for (;;) {
		const char *line = lx->p;
		size_t n = 0;

		if (lx->p >= lx->end) {
			sbuf_release(&sb);
			return fail_at(lx, tok->line, tok->col,
				       "unterminated text: block (no line with a single '.')");
		}
		while (line + n < lx->end && line[n] != '\n')
			n++;
		/* The line without its CR LF, to spot the lone dot. */
		size_t bare = n > 0 && line[n - 1] == '\r' ? n - 1 : n;

		if (bare == 1 && line[0] == '.' && line + n < lx->end) {
			for (size_t i = 0; i <= n; i++)
				advance(lx);
			break;
		}
		if (bare == 1 && line[0] == '.') {
			/* a final "." without a line break ends it too */
			for (size_t i = 0; i < n; i++)
				advance(lx);
			break;
		}
		size_t skip = line[0] == '.' && n > 0 ? 1 : 0;

		sbuf_add(&sb, line + skip, n - skip);
		if (line + n < lx->end)
			sbuf_addch(&sb, '\n');
		for (size_t i = 0; i < n && lx->p < lx->end; i++)
			advance(lx);
		if (lx->p < lx->end)
			advance(lx);
	}
	finish_string(lx, tok, &sb);
	return 0;
}

static int lex_number(struct sieve_lexer *lx, struct sieve_token *tok)
{
	uint64_t v = 0;
	int c;

	while ((c = peekc(lx, 0)) >= '0' && c <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return fail_at(lx, tok->line, tok->col, "number too large");
		v = v * 10 + (uint64_t)(c - '0');
		advance(lx);
	}
	unsigned shift = 0;

	switch (peekc(lx, 0)) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return fail_at(lx, tok->line, tok->col, "number too large");
		v <<= shift;
		advance(lx);
	}
	c = peekc(lx, 0);
	if (c >= 0 && (isalnum(c) || c == '_'))
		return fail(lx, "bad character in number");
	tok->kind = SIEVE_TOK_NUMBER;
	tok->num = v;
	tok->text = "";
	return 0;
}

static int lex_word(struct sieve_lexer *lx, struct sieve_token *tok, bool tag)
{
	const char *start;
	int c;

	if (tag)
		advance(lx);
	start = lx->p;
	c = peekc(lx, 0);
	if (c < 0 || !(isalpha(c) || c == '_'))
		return fail(lx, tag ? "':' must be followed by a tag name"
				    : "unexpected character");
	while ((c = peekc(lx, 0)) >= 0 && (isalnum(c) || c == '_'))
		advance(lx);
	tok->len = (size_t)(lx->p - start);
	tok->text = arena_strndup(lx->arena, start, tok->len);
	tok->kind = tag ? SIEVE_TOK_TAG : SIEVE_TOK_IDENT;
	if (!tag && tok->len == 4 && strncasecmp(start, "text", 4) == 0 && peekc(lx, 0) == ':') {
		advance(lx);
		return lex_multiline(lx, tok);
	}
	return 0;
}

int sieve_lex(struct sieve_lexer *lx, struct sieve_token *tok)
{
	int c, ret;

	memset(tok, 0, sizeof(*tok));
	if (skip_space(lx) < 0)
		return -1;
	tok->line = lx->line;
	tok->col = lx->col;
	c = peekc(lx, 0);
	if (c < 0) {
		tok->kind = SIEVE_TOK_EOF;
		tok->text = "";
		return 0;
	}
	if (c == '"')
		ret = lex_quoted(lx, tok);
	else if (c >= '0' && c <= '9')
		ret = lex_number(lx, tok);
	else if (c == ':')
		ret = lex_word(lx, tok, true);
	else if (isalpha(c) || c == '_')
		ret = lex_word(lx, tok, false);
	else if (strchr("[]{}(),;", c) != NULL && c != 0) {
		tok->kind = SIEVE_TOK_PUNCT;
		tok->text = arena_strndup(lx->arena, lx->p, 1);
		tok->len = 1;
		advance(lx);
		ret = 0;
	} else if (c == 0) {
		return fail(lx, "NUL byte in script");
	} else {
		return fail(lx, "unexpected character");
	}
	if (ret == 0) {
		lx->end_line = lx->line;
		lx->end_col = lx->col;
	}
	return ret;
}
