/* RFC 5322 address lists, as far as a submission program needs them: the
 * addr-specs of a To/Cc/Bcc field or a command-line argument.
 *
 * A tokenizer (atoms, quoted strings, domain literals, comments skipped,
 * specials) feeds a small grammar:
 *   list    = [entry *("," entry)]           (empty entries allowed)
 *   entry   = phrase ":" [mailbox *("," mailbox)] ";"    (a group)
 *           | mailbox
 *   mailbox = [phrase] "<" [route ":"] addr-spec ">" | addr-spec
 * The addr-spec is rebuilt from its tokens without comments and blanks.
 * Deliberate leniency: a local part without "@domain" is accepted (mail to
 * a local user); obsolete routes "@a,@b:" are dropped. */
#include "localmta/sendmail-private.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum { T_END, T_ATOM, T_QUOTED, T_LITERAL, T_SPECIAL, T_ERROR };

struct lexer {
	const char *p;
	int type;
	const char *s;		/* token text (quotes included) */
	size_t len;
	char ch;		/* T_SPECIAL */
};

static bool is_atext(unsigned char c)
{
	return c >= 0x80 || (c > 0x20 && c < 0x7f && !strchr("()<>[]:;@\\,.\"", c));
}

static void next(struct lexer *lx)
{
	const char *p = lx->p;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			break;
		for (int depth = 0;; p++) {	/* comment, nested */
			if (*p == '\0') {
				lx->type = T_ERROR;
				return;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
	lx->s = p;
	if (*p == '\0') {
		lx->type = T_END;
	} else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
		lx->type = T_ERROR;
	} else if (*p == '"' || *p == '[') {
		char close = *p == '"' ? '"' : ']';

		for (p++; *p != close; p++) {
			if (*p == '\0' || (*p == '[' && close == ']') ||
			    ((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
				lx->type = T_ERROR;
				return;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		p++;
		lx->type = close == '"' ? T_QUOTED : T_LITERAL;
	} else if (is_atext((unsigned char)*p)) {
		while (is_atext((unsigned char)*p))
			p++;
		lx->type = T_ATOM;
	} else {
		lx->ch = *p++;
		lx->type = *lx->s == '\\' || *lx->s == ')' || *lx->s == ']' ? T_ERROR : T_SPECIAL;
	}
	lx->len = (size_t)(p - lx->s);
	lx->p = p;
}

static bool special(const struct lexer *lx, char c)
{
	return lx->type == T_SPECIAL && lx->ch == c;
}

/* word *("." word) ["@" atom *("." atom) | "@" literal], rebuilt into out. */
static int addr_spec(struct lexer *lx, struct sbuf *out)
{
	for (;;) {
		if (lx->type != T_ATOM && lx->type != T_QUOTED)
			return -1;
		sbuf_add(out, lx->s, lx->len);
		next(lx);
		if (!special(lx, '.'))
			break;
		sbuf_addch(out, '.');
		next(lx);
	}
	if (!special(lx, '@'))
		return 0;
	sbuf_addch(out, '@');
	next(lx);
	if (lx->type == T_LITERAL) {
		sbuf_add(out, lx->s, lx->len);
		next(lx);
		return 0;
	}
	for (;;) {
		if (lx->type != T_ATOM)
			return -1;
		sbuf_add(out, lx->s, lx->len);
		next(lx);
		if (!special(lx, '.'))
			return 0;
		sbuf_addch(out, '.');
		next(lx);
	}
}

/* A mailbox; the phrase before '<' (if any) has been read already when
 * angle is true. */
static int mailbox(struct lexer *lx, struct addr_list *list, const char **error_r)
{
	struct sbuf a = SBUF_INIT;
	const struct lexer save = *lx;
	bool angle = false;

	/* Look ahead: words followed by '<' are a display name. */
	while (lx->type == T_ATOM || lx->type == T_QUOTED || special(lx, '.'))
		next(lx);
	if (special(lx, '<')) {
		angle = true;
		next(lx);
		if (special(lx, '@')) {	/* obsolete route: skip to ':' */
			while (lx->type != T_END && lx->type != T_ERROR && !special(lx, ':'))
				next(lx);
			if (!special(lx, ':'))
				goto bad;
			next(lx);
		}
	} else {
		*lx = save;
	}
	if (addr_spec(lx, &a) < 0)
		goto bad;
	if (angle) {
		if (!special(lx, '>'))
			goto bad;
		next(lx);
	}
	addr_list_add(list, a.buf);
	sbuf_release(&a);
	return 0;
bad:
	sbuf_release(&a);
	*error_r = lx->type == T_ERROR ? "unbalanced quote, comment or control character in address"
				       : "malformed address";
	return -1;
}

int addr_list_parse(const char *s, struct addr_list *list, const char **error_r)
{
	struct lexer lx = { .p = s };

	next(&lx);
	while (lx.type != T_END) {
		const struct lexer save = lx;

		if (special(&lx, ',')) {	/* empty entry */
			next(&lx);
			continue;
		}
		/* A group: a phrase then ':'. */
		while (lx.type == T_ATOM || lx.type == T_QUOTED)
			next(&lx);
		if (special(&lx, ':') && lx.s != save.s) {
			next(&lx);
			while (!special(&lx, ';')) {
				if (lx.type == T_END || lx.type == T_ERROR) {
					*error_r = "unterminated group in address list";
					return -1;
				}
				if (special(&lx, ',')) {
					next(&lx);
					continue;
				}
				if (mailbox(&lx, list, error_r) < 0)
					return -1;
			}
			next(&lx);
		} else {
			lx = save;
			if (mailbox(&lx, list, error_r) < 0)
				return -1;
		}
		if (lx.type != T_END && !special(&lx, ',')) {
			*error_r = lx.type == T_ERROR ? "unbalanced quote, comment or control character in address"
						      : "malformed address list";
			return -1;
		}
	}
	return 0;
}

void addr_list_add(struct addr_list *list, const char *addr)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->addrs[i], addr) == 0)
			return;
	list->addrs = xreallocarray(list->addrs, list->n + 1, sizeof(*list->addrs));
	list->addrs[list->n++] = xstrdup(addr);
}

void addr_list_free(struct addr_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->addrs[i]);
	free(list->addrs);
	list->addrs = NULL;
	list->n = 0;
}
