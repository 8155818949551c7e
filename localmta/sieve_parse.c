/* sieve_parse.c: RFC 5228 grammar to the AST of sieve-private.h, with the
 * checks a compiler owes its user: known commands and tests (with a "did you
 * mean"), require before use, tags and argument types, if/elsif/else
 * structure, nesting depth.
 *
 * Parsing is two steps per command: a generic one (identifier, arguments,
 * tests, then ';' or a block, as in the grammar of section 8.2) and a
 * validation step driven by the table below that turns the generic
 * arguments into the node's fields.  The first error stops compilation:
 * error recovery would only invent follow-on errors. */
#include "localmta/sieve-parse-private.h"
#include "lib/arena.h"
#include "lib/xalloc.h"

#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Reports an error and unwinds to sieve_compile: everything allocated so far
 * is in the script's arena, so nothing leaks. */
void sieve_perr(struct sieve_parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->error = xasprintf("%s:%u:%u: %s", p->name, line, col, msg);
	longjmp(p->fail, 1);
}

static void next(struct sieve_parser *p)
{
	p->prev_line = p->lx.end_line;
	p->prev_col = p->lx.end_col;
	if (sieve_lex(&p->lx, &p->tok) < 0)
		sieve_perr(p, p->lx.err_line, p->lx.err_col, "%s", p->lx.error);
}

static bool is_punct(const struct sieve_parser *p, char c)
{
	return p->tok.kind == SIEVE_TOK_PUNCT && p->tok.text[0] == c;
}

static const char *describe(const struct sieve_token *t)
{
	switch (t->kind) {
	case SIEVE_TOK_EOF: return "end of script";
	case SIEVE_TOK_IDENT: return "identifier";
	case SIEVE_TOK_TAG: return "tag";
	case SIEVE_TOK_NUMBER: return "number";
	case SIEVE_TOK_STRING: return "string";
	case SIEVE_TOK_PUNCT: return "punctuation";
	}
	return "token";
}


/* "unknown test 'hedaer' (did you mean 'header'?)" */
__attribute__((noreturn))
static void unknown(struct sieve_parser *p, const struct sieve_token *t, bool test)
{
	const char *best = sieve_spec_suggest(t->text, test);

	if (best)
		sieve_perr(p, t->line, t->col, "unknown %s '%s' (did you mean '%s'?)",
			   test ? "test" : "command", t->text, best);
	sieve_perr(p, t->line, t->col, "unknown %s '%s'", test ? "test" : "command", t->text);
}

static void add_string(struct sieve_parser *p, struct sieve_strlist *sl, const char *s, size_t *alloc)
{
	if (sl->n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 4;
		char **v = arena_calloc(p->arena, na, sizeof(*v));

		if (sl->n)
			memcpy(v, sl->v, sl->n * sizeof(*v));
		sl->v = v;
		*alloc = na;
	}
	sl->v[sl->n++] = (char *)s;
}

static void parse_strlist(struct sieve_parser *p, struct sieve_arg *a)
{
	size_t alloc = 0;

	a->kind = ARG_LIST;
	if (p->tok.kind == SIEVE_TOK_STRING) {
		a->single = true;
		add_string(p, &a->sl, p->tok.text, &alloc);
		next(p);
		return;
	}
	next(p);	/* '[' */
	for (;;) {
		if (p->tok.kind != SIEVE_TOK_STRING)
			sieve_perr(p, p->tok.line, p->tok.col, "expected a string in the string list, found %s",
			     describe(&p->tok));
		add_string(p, &a->sl, p->tok.text, &alloc);
		next(p);
		if (is_punct(p, ']'))
			break;
		if (!is_punct(p, ','))
			sieve_perr(p, p->tok.line, p->tok.col, "expected ',' or ']' in string list, found %s",
			     describe(&p->tok));
		next(p);
	}
	next(p);
}

static struct sieve_node *parse_test(struct sieve_parser *p);

static void enter(struct sieve_parser *p, unsigned line, unsigned col)
{
	if (++p->depth > SIEVE_MAX_DEPTH)
		sieve_perr(p, line, col, "nesting too deep (more than %d levels)", SIEVE_MAX_DEPTH);
}

/* Arguments, then a test or a test list.  Returns the arguments in *args_r
 * (arena) and their number. */
static size_t parse_args(struct sieve_parser *p, const struct sieve_spec *sp, struct sieve_arg **args_r,
			 struct sieve_node *node, bool *list_r)
{
	struct sieve_arg *args = NULL;
	size_t n = 0, alloc = 0;

	*list_r = false;
	for (;;) {
		struct sieve_arg a = { .line = p->tok.line, .col = p->tok.col };

		if (p->tok.kind == SIEVE_TOK_TAG) {
			a.kind = ARG_TAG;
			a.tag = p->tok.text;
			next(p);
		} else if (p->tok.kind == SIEVE_TOK_NUMBER) {
			a.kind = ARG_NUMBER;
			a.num = p->tok.num;
			next(p);
		} else if (p->tok.kind == SIEVE_TOK_STRING || is_punct(p, '[')) {
			parse_strlist(p, &a);
		} else {
			break;
		}
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 4;
			struct sieve_arg *nv = arena_calloc(p->arena, na, sizeof(*nv));

			if (n)
				memcpy(nv, args, n * sizeof(*nv));
			args = nv;
			alloc = na;
		}
		args[n++] = a;
	}
	/* A command that takes no test leaves the identifier alone: it is
	 * the next command after a missing ';'. */
	if (sp->tests == 0) {
		*args_r = args;
		return n;
	}
	if (p->tok.kind == SIEVE_TOK_IDENT) {
		node->tests = arena_calloc(p->arena, 1, sizeof(*node->tests));
		node->tests[0] = parse_test(p);
		node->n_tests = 1;
	} else if (is_punct(p, '(')) {
		size_t talloc = 0;

		enter(p, p->tok.line, p->tok.col);
		do {
			next(p);
			if (node->n_tests == talloc) {
				size_t na = talloc ? talloc * 2 : 4;
				struct sieve_node **nv = arena_calloc(p->arena, na, sizeof(*nv));

				if (node->n_tests)
					memcpy(nv, node->tests, node->n_tests * sizeof(*nv));
				node->tests = nv;
				talloc = na;
			}
			if (p->tok.kind != SIEVE_TOK_IDENT)
				sieve_perr(p, p->tok.line, p->tok.col, "expected a test, found %s",
				     describe(&p->tok));
			node->tests[node->n_tests++] = parse_test(p);
		} while (is_punct(p, ','));
		if (!is_punct(p, ')'))
			sieve_perr(p, p->prev_line, p->prev_col, "missing ')' or ',' in test list");
		next(p);
		p->depth--;
		*list_r = true;
	}
	*args_r = args;
	return n;
}


static struct sieve_node *parse_test(struct sieve_parser *p)
{
	struct sieve_node *node = arena_calloc(p->arena, 1, sizeof(*node));
	struct sieve_token id = p->tok;
	const struct sieve_spec *sp = sieve_spec_find(id.text);
	struct sieve_arg *args;
	size_t n;
	bool list;

	if (sp == NULL || !sp->test)
		unknown(p, &id, true);
	enter(p, id.line, id.col);
	node->line = id.line;
	node->col = id.col;
	next(p);
	n = parse_args(p, sp, &args, node, &list);
	sieve_validate(p, sp, &id, node, args, n, list);
	p->depth--;
	return node;
}

static struct sieve_node *parse_block(struct sieve_parser *p);

static struct sieve_node *parse_command(struct sieve_parser *p)
{
	struct sieve_node *node = arena_calloc(p->arena, 1, sizeof(*node));
	struct sieve_token id = p->tok;
	const struct sieve_spec *sp;
	struct sieve_arg *args;
	size_t n;
	bool list;

	if (id.kind != SIEVE_TOK_IDENT)
		sieve_perr(p, id.line, id.col, "expected a command, found %s", describe(&id));
	sp = sieve_spec_find(id.text);
	if (sp == NULL || sp->test)
		unknown(p, &id, false);
	if (sp->op == SIEVE_OP_ELSIF || sp->op == SIEVE_OP_ELSE)
		sieve_perr(p, id.line, id.col, "'%s' without a preceding 'if'", sp->name);
	if (sp->op == SIEVE_OP_REQUIRE && (p->seen_command || p->depth > 0))
		sieve_perr(p, id.line, id.col, "require must come before any other command");
	if (sp->op != SIEVE_OP_REQUIRE)
		p->seen_command = true;
	node->line = id.line;
	node->col = id.col;
	next(p);
	n = parse_args(p, sp, &args, node, &list);
	sieve_validate(p, sp, &id, node, args, n, list);
	if (!sp->block) {
		if (!is_punct(p, ';'))
			sieve_perr(p, p->prev_line, p->prev_col, "missing ';' after '%s'", sp->name);
		next(p);
		return node;
	}
	node->block = parse_block(p);
	/* elsif / else continue the chain of this if. */
	for (struct sieve_node *tail = node; sp->op == SIEVE_OP_IF &&
	     p->tok.kind == SIEVE_TOK_IDENT; ) {
		const struct sieve_spec *ss = sieve_spec_find(p->tok.text);
		struct sieve_token bid = p->tok;
		struct sieve_node *br;

		if (ss == NULL || (ss->op != SIEVE_OP_ELSIF && ss->op != SIEVE_OP_ELSE))
			break;
		br = arena_calloc(p->arena, 1, sizeof(*br));
		br->line = bid.line;
		br->col = bid.col;
		next(p);
		n = parse_args(p, ss, &args, br, &list);
		sieve_validate(p, ss, &bid, br, args, n, list);
		br->block = parse_block(p);
		tail->els = br;
		tail = br;
		if (ss->op == SIEVE_OP_ELSE)
			break;
	}
	return node;
}

static struct sieve_node *parse_block(struct sieve_parser *p)
{
	struct sieve_node *first = NULL, **tail = &first;
	unsigned line = p->tok.line, col = p->tok.col;

	if (!is_punct(p, '{'))
		sieve_perr(p, p->prev_line, p->prev_col, "expected '{' to start a block, found %s",
		     describe(&p->tok));
	enter(p, line, col);
	next(p);
	while (!is_punct(p, '}')) {
		if (p->tok.kind == SIEVE_TOK_EOF)
			sieve_perr(p, line, col, "block not closed: missing '}'");
		*tail = parse_command(p);
		tail = &(*tail)->next;
	}
	next(p);
	p->depth--;
	return first;
}

int sieve_compile(const char *name, const char *text, size_t len,
		  struct sieve_script **script_r, char **error_r)
{
	struct sieve_script *s;
	struct sieve_parser *p;
	struct sieve_node **tail;

	*script_r = NULL;
	*error_r = NULL;
	if (len > SIEVE_MAX_SCRIPT_SIZE) {
		*error_r = xasprintf("%s:1:1: script too large (over %d bytes)", name,
				     SIEVE_MAX_SCRIPT_SIZE);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->arena = arena_new(0);
	s->name = xstrdup(name);
	p = xcalloc(1, sizeof(*p));
	p->arena = s->arena;
	p->script = s;
	p->name = name;
	sieve_lexer_init(&p->lx, text, len, s->arena);
	if (setjmp(p->fail) != 0) {
		*error_r = p->error;
		free(p);
		sieve_script_free(&s);
		return -1;
	}
	next(p);
	tail = &s->first;
	while (p->tok.kind != SIEVE_TOK_EOF) {
		if (is_punct(p, '}'))
			sieve_perr(p, p->tok.line, p->tok.col, "unexpected '}' (no block open)");
		*tail = parse_command(p);
		tail = &(*tail)->next;
	}
	free(p);
	*script_r = s;
	return 0;
}

void sieve_script_free(struct sieve_script **scriptp)
{
	struct sieve_script *s = *scriptp;

	if (s == NULL)
		return;
	arena_free(&s->arena);
	free(s->name);
	free(s);
	*scriptp = NULL;
}
