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
#include "localmta/sieve-private.h"
#include "lib/arena.h"
#include "lib/xalloc.h"

#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Tag groups a command or test accepts. */
enum {
	TG_MATCH = 1 << 0, TG_CMP = 1 << 1, TG_PART = 1 << 2, TG_SIZE = 1 << 3,
	TG_CREATE = 1 << 4, TG_FLAGS = 1 << 5, TG_COPY = 1 << 6, TG_BODY = 1 << 7,
	TG_MODS = 1 << 8,
};

struct spec {
	const char *name;
	enum sieve_op op;
	unsigned ext;		/* needed extension, 0 for core */
	bool test;
	unsigned tags;
	/* Positional arguments: S string, L string list, N number; a leading
	 * '?' is an optional string list before the rest (imap4flags'
	 * variable name). */
	const char *args;
	int tests;		/* 0 none, 1 one test, 2 a test list */
	bool block;
};

static const struct spec specs[] = {
	{ "require", SIEVE_OP_REQUIRE, 0, false, 0, "L", 0, false },
	{ "if", SIEVE_OP_IF, 0, false, 0, "", 1, true },
	{ "elsif", SIEVE_OP_ELSIF, 0, false, 0, "", 1, true },
	{ "else", SIEVE_OP_ELSE, 0, false, 0, "", 0, true },
	{ "stop", SIEVE_OP_STOP, 0, false, 0, "", 0, false },
	{ "keep", SIEVE_OP_KEEP, 0, false, TG_FLAGS, "", 0, false },
	{ "discard", SIEVE_OP_DISCARD, 0, false, 0, "", 0, false },
	{ "fileinto", SIEVE_OP_FILEINTO, SIEVE_EXT_FILEINTO, false,
	  TG_CREATE | TG_FLAGS | TG_COPY, "S", 0, false },
	{ "redirect", SIEVE_OP_REDIRECT, 0, false, TG_COPY, "S", 0, false },
	{ "setflag", SIEVE_OP_SETFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "?L", 0, false },
	{ "addflag", SIEVE_OP_ADDFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "?L", 0, false },
	{ "removeflag", SIEVE_OP_REMOVEFLAG, SIEVE_EXT_IMAP4FLAGS, false, 0, "?L", 0, false },
	{ "set", SIEVE_OP_SET, SIEVE_EXT_VARIABLES, false, TG_MODS, "SS", 0, false },
	{ "address", SIEVE_OP_ADDRESS, 0, true, TG_MATCH | TG_CMP | TG_PART, "LL", 0, false },
	{ "header", SIEVE_OP_HEADER, 0, true, TG_MATCH | TG_CMP, "LL", 0, false },
	{ "envelope", SIEVE_OP_ENVELOPE, SIEVE_EXT_ENVELOPE, true,
	  TG_MATCH | TG_CMP | TG_PART, "LL", 0, false },
	{ "exists", SIEVE_OP_EXISTS, 0, true, 0, "L", 0, false },
	{ "size", SIEVE_OP_SIZE, 0, true, TG_SIZE, "N", 0, false },
	{ "allof", SIEVE_OP_ALLOF, 0, true, 0, "", 2, false },
	{ "anyof", SIEVE_OP_ANYOF, 0, true, 0, "", 2, false },
	{ "not", SIEVE_OP_NOT, 0, true, 0, "", 1, false },
	{ "true", SIEVE_OP_TRUE, 0, true, 0, "", 0, false },
	{ "false", SIEVE_OP_FALSE, 0, true, 0, "", 0, false },
	{ "hasflag", SIEVE_OP_HASFLAG, SIEVE_EXT_IMAP4FLAGS, true, TG_MATCH | TG_CMP, "?L", 0, false },
	{ "string", SIEVE_OP_STRING, SIEVE_EXT_VARIABLES, true, TG_MATCH | TG_CMP, "LL", 0, false },
	{ "body", SIEVE_OP_BODY, SIEVE_EXT_BODY, true, TG_MATCH | TG_CMP | TG_BODY, "L", 0, false },
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static const struct {
	const char *name;
	unsigned ext;
} extensions[] = {
	{ "fileinto", SIEVE_EXT_FILEINTO }, { "envelope", SIEVE_EXT_ENVELOPE },
	{ "imap4flags", SIEVE_EXT_IMAP4FLAGS }, { "variables", SIEVE_EXT_VARIABLES },
	{ "body", SIEVE_EXT_BODY }, { "copy", SIEVE_EXT_COPY },
	{ "mailbox", SIEVE_EXT_MAILBOX }, { "comparator-i;octet", SIEVE_EXT_CMP_OCTET },
	{ "comparator-i;ascii-casemap", SIEVE_EXT_CMP_CASEMAP },
};

/* Headers the address test may look at (Pigeonhole's list, RFC 5228 5.1:
 * "MUST restrict the address test to headers that contain addresses"). */
static const char *const address_headers[] = {
	"from", "to", "cc", "bcc", "sender", "resent-from", "resent-to",
	"reply-to", "resent-reply-to", "resent-sender", "resent-cc", "resent-bcc",
	"for-approval", "for-handling", "for-comment", "apparently-to", "errors-to",
	"delivered-to", "return-receipt-to", "x-admin", "read-receipt-to",
	"x-confirm-reading-to", "return-receipt-requested",
	"registered-mail-reply-requested-by", "mail-followup-to", "mail-reply-to",
	"abuse-reports-to", "x-complaints-to", "x-report-abuse-to", "x-beenthere",
	"x-original-from", "x-original-to", NULL,
};

enum arg_kind { ARG_TAG, ARG_NUMBER, ARG_LIST };

struct arg {
	enum arg_kind kind;
	bool single;		/* a bare string, not [ ... ] */
	unsigned line, col;
	const char *tag;
	uint64_t num;
	struct sieve_strlist sl;
};

struct parser {
	struct sieve_lexer lx;
	struct sieve_token tok;		/* the current token */
	struct arena *arena;
	struct sieve_script *script;
	const char *name;
	unsigned prev_line, prev_col;	/* just after the token before tok */
	unsigned depth;
	bool seen_command;		/* require only before any other command */
	char *error;
	jmp_buf fail;
};

/* Reports an error and unwinds to sieve_compile: everything allocated so far
 * is in the script's arena, so nothing leaks. */
__attribute__((noreturn, format(printf, 4, 5)))
static void perr(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->error = xasprintf("%s:%u:%u: %s", p->name, line, col, msg);
	longjmp(p->fail, 1);
}

static void next(struct parser *p)
{
	p->prev_line = p->lx.end_line;
	p->prev_col = p->lx.end_col;
	if (sieve_lex(&p->lx, &p->tok) < 0)
		perr(p, p->lx.err_line, p->lx.err_col, "%s", p->lx.error);
}

static bool is_punct(const struct parser *p, char c)
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

static const struct spec *find_spec(const char *name)
{
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcasecmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

/* "unknown test 'hedaer' (did you mean 'header'?)" */
__attribute__((noreturn))
static void unknown(struct parser *p, const struct sieve_token *t, bool test)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < N_SPECS; i++) {
		unsigned d = sieve_distance(t->text, specs[i].name);

		if (specs[i].test == test && d < bestd && (d < 2 || strlen(t->text) > 3)) {
			bestd = d;
			best = specs[i].name;
		}
	}
	if (best)
		perr(p, t->line, t->col, "unknown %s '%s' (did you mean '%s'?)",
		     test ? "test" : "command", t->text, best);
	perr(p, t->line, t->col, "unknown %s '%s'", test ? "test" : "command", t->text);
}

static void add_string(struct parser *p, struct sieve_strlist *sl, const char *s, size_t *alloc)
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

static void parse_strlist(struct parser *p, struct arg *a)
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
			perr(p, p->tok.line, p->tok.col, "expected a string in the string list, found %s",
			     describe(&p->tok));
		add_string(p, &a->sl, p->tok.text, &alloc);
		next(p);
		if (is_punct(p, ']'))
			break;
		if (!is_punct(p, ','))
			perr(p, p->tok.line, p->tok.col, "expected ',' or ']' in string list, found %s",
			     describe(&p->tok));
		next(p);
	}
	next(p);
}

static struct sieve_node *parse_test(struct parser *p);

static void enter(struct parser *p, unsigned line, unsigned col)
{
	if (++p->depth > SIEVE_MAX_DEPTH)
		perr(p, line, col, "nesting too deep (more than %d levels)", SIEVE_MAX_DEPTH);
}

/* Arguments, then a test or a test list.  Returns the arguments in *args_r
 * (arena) and their number. */
static size_t parse_args(struct parser *p, const struct spec *sp, struct arg **args_r,
			 struct sieve_node *node, bool *list_r)
{
	struct arg *args = NULL;
	size_t n = 0, alloc = 0;

	*list_r = false;
	for (;;) {
		struct arg a = { .line = p->tok.line, .col = p->tok.col };

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
			struct arg *nv = arena_calloc(p->arena, na, sizeof(*nv));

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
				perr(p, p->tok.line, p->tok.col, "expected a test, found %s",
				     describe(&p->tok));
			node->tests[node->n_tests++] = parse_test(p);
		} while (is_punct(p, ','));
		if (!is_punct(p, ')'))
			perr(p, p->prev_line, p->prev_col, "missing ')' or ',' in test list");
		next(p);
		p->depth--;
		*list_r = true;
	}
	*args_r = args;
	return n;
}

static const char *ext_name(unsigned ext)
{
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (extensions[i].ext == ext)
			return extensions[i].name;
	return "?";
}

/* A string that may change at run time (variables): literal checks skip it. */
static bool is_dynamic(const struct parser *p, const char *s)
{
	return (p->script->exts & SIEVE_EXT_VARIABLES) && strstr(s, "${") != NULL;
}

static void need_ext(struct parser *p, const struct arg *a, unsigned ext, const char *what)
{
	if (!(p->script->exts & ext))
		perr(p, a->line, a->col, "require missing for %s (add: require \"%s\";)",
		     what, ext_name(ext));
}

static const char *single_string(struct parser *p, const struct arg *a, const char *what)
{
	if (a->kind != ARG_LIST || !a->single)
		perr(p, a->line, a->col, "%s must be a string", what);
	return a->sl.v[0];
}

static void check_header_names(struct parser *p, const struct arg *a, bool address)
{
	for (size_t i = 0; i < a->sl.n; i++) {
		const char *h = a->sl.v[i];

		if (is_dynamic(p, h))
			continue;
		if (*h == '\0' || h[strcspn(h, ": \t\r\n")] != '\0')
			perr(p, a->line, a->col, "invalid header name '%s'", h);
		if (!address)
			continue;
		size_t k;

		for (k = 0; address_headers[k]; k++)
			if (strcasecmp(address_headers[k], h) == 0)
				break;
		if (address_headers[k] == NULL)
			perr(p, a->line, a->col, "header '%s' holds no addresses: not allowed "
			     "in the address test", h);
	}
}

static const struct {
	const char *name;
	unsigned mod, prec;
} modifiers[] = {
	{ "lower", SIEVE_MOD_LOWER, 40 }, { "upper", SIEVE_MOD_UPPER, 40 },
	{ "lowerfirst", SIEVE_MOD_LOWERFIRST, 30 }, { "upperfirst", SIEVE_MOD_UPPERFIRST, 30 },
	{ "quotewildcard", SIEVE_MOD_QUOTEWILDCARD, 20 }, { "length", SIEVE_MOD_LENGTH, 10 },
};

/* One tagged argument; returns how many following arguments it used. */
static size_t take_tag(struct parser *p, const struct spec *sp, struct sieve_node *node,
		       const struct arg *a, const struct arg *after, unsigned *seen)
{
	const char *t = a->tag;
	unsigned group = 0;

	if (!strcasecmp(t, "is") || !strcasecmp(t, "contains") || !strcasecmp(t, "matches"))
		group = TG_MATCH;
	else if (!strcasecmp(t, "comparator"))
		group = TG_CMP;
	else if (!strcasecmp(t, "all") || !strcasecmp(t, "localpart") || !strcasecmp(t, "domain"))
		group = TG_PART;
	else if (!strcasecmp(t, "over") || !strcasecmp(t, "under"))
		group = TG_SIZE;
	else if (!strcasecmp(t, "create"))
		group = TG_CREATE;
	else if (!strcasecmp(t, "flags"))
		group = TG_FLAGS;
	else if (!strcasecmp(t, "copy"))
		group = TG_COPY;
	else if (!strcasecmp(t, "raw") || !strcasecmp(t, "text") || !strcasecmp(t, "content"))
		group = TG_BODY;
	for (size_t i = 0; group == 0 && i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
		if (!strcasecmp(t, modifiers[i].name))
			group = TG_MODS;
	if (!(sp->tags & group))
		perr(p, a->line, a->col, "unknown tag ':%s' for %s", t, sp->name);
	if ((*seen & group) && group != TG_MODS)
		perr(p, a->line, a->col, "%s: more than one %s", sp->name,
		     group == TG_MATCH ? "match type" : group == TG_PART ? "address part" :
		     group == TG_SIZE ? ":over/:under" : group == TG_BODY ? "body transform" :
		     "use of this tag");
	*seen |= group;
	switch (group) {
	case TG_MATCH:
		node->match = !strcasecmp(t, "is") ? SIEVE_MATCH_IS :
			      !strcasecmp(t, "contains") ? SIEVE_MATCH_CONTAINS : SIEVE_MATCH_MATCHES;
		return 0;
	case TG_CMP: {
		if (after == NULL)
			perr(p, a->line, a->col, ":comparator needs a comparator name");
		const char *c = single_string(p, after, "the comparator name");

		if (!strcasecmp(c, "i;octet"))
			node->cmp = SIEVE_CMP_OCTET;
		else if (!strcasecmp(c, "i;ascii-casemap"))
			node->cmp = SIEVE_CMP_CASEMAP;
		else
			perr(p, after->line, after->col, "unknown comparator '%s'", c);
		return 1;
	}
	case TG_PART:
		node->part = !strcasecmp(t, "all") ? SIEVE_PART_ALL :
			     !strcasecmp(t, "localpart") ? SIEVE_PART_LOCAL : SIEVE_PART_DOMAIN;
		return 0;
	case TG_SIZE:
		node->over = !strcasecmp(t, "over");
		return 0;
	case TG_CREATE:
		need_ext(p, a, SIEVE_EXT_MAILBOX, ":create");
		node->create = true;
		return 0;
	case TG_COPY:
		need_ext(p, a, SIEVE_EXT_COPY, ":copy");
		node->copy = true;
		return 0;
	case TG_FLAGS:
		need_ext(p, a, SIEVE_EXT_IMAP4FLAGS, ":flags");
		if (after == NULL || after->kind != ARG_LIST)
			perr(p, a->line, a->col, ":flags needs a string list");
		node->has_flags = true;
		node->flags = after->sl;
		return 1;
	case TG_BODY:
		if (!strcasecmp(t, "raw")) {
			node->transform = SIEVE_BODY_RAW;
			return 0;
		}
		if (!strcasecmp(t, "text")) {
			node->transform = SIEVE_BODY_TEXT;
			return 0;
		}
		if (after == NULL || after->kind != ARG_LIST)
			perr(p, a->line, a->col, ":content needs a list of content types");
		node->transform = SIEVE_BODY_CONTENT;
		node->content_types = after->sl;
		return 1;
	case TG_MODS:
		for (size_t i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++) {
			if (strcasecmp(t, modifiers[i].name) != 0)
				continue;
			for (size_t j = 0; j < sizeof(modifiers) / sizeof(modifiers[0]); j++)
				if (j != i && modifiers[j].prec == modifiers[i].prec &&
				    (node->mods & modifiers[j].mod))
					perr(p, a->line, a->col, "set: :%s conflicts with :%s",
					     modifiers[i].name, modifiers[j].name);
			node->mods |= modifiers[i].mod;
		}
		return 0;
	}
	return 0;
}

static void validate(struct parser *p, const struct spec *sp, const struct sieve_token *id,
		     struct sieve_node *node, struct arg *args, size_t n, bool list)
{
	const struct arg *pos[3];
	size_t npos = 0, want = strlen(sp->args);
	unsigned seen = 0;
	bool optional = sp->args[0] == '?';
	struct arg idarg = { .line = id->line, .col = id->col };

	node->op = sp->op;
	if (sp->ext)
		need_ext(p, &idarg, sp->ext, sp->name);
	if (sp->tests == 0 && node->n_tests > 0)
		perr(p, node->tests[0]->line, node->tests[0]->col, "%s takes no test", sp->name);
	if (sp->tests == 1 && (node->n_tests != 1 || list))
		perr(p, p->prev_line, p->prev_col, "%s needs exactly one test", sp->name);
	if (sp->tests == 2 && !list)
		perr(p, p->prev_line, p->prev_col, "%s needs a test list in parentheses",
		     sp->name);
	for (size_t i = 0; i < n; i++) {
		if (args[i].kind == ARG_TAG) {
			i += take_tag(p, sp, node, &args[i], i + 1 < n ? &args[i + 1] : NULL, &seen);
			continue;
		}
		if (npos == (optional ? want : want) || npos == 3)
			perr(p, args[i].line, args[i].col, "too many arguments for %s", sp->name);
		pos[npos++] = &args[i];
	}
	if (optional) {
		want--;
		if (npos == 2) {
			node->a = pos[0]->sl;
			if (pos[0]->kind != ARG_LIST)
				perr(p, pos[0]->line, pos[0]->col, "%s: expected a variable name",
				     sp->name);
			if (sp->op != SIEVE_OP_HASFLAG)
				single_string(p, pos[0], "the variable name");
			need_ext(p, pos[0], SIEVE_EXT_VARIABLES, "flag variables");
			pos[0] = pos[1];
			npos = 1;
		}
	}
	if (npos < want)
		perr(p, p->prev_line, p->prev_col, "%s needs %zu argument%s", sp->name,
		     want, want == 1 ? "" : "s");
	for (size_t i = 0; i < want; i++) {
		char type = sp->args[i + (optional ? 1 : 0)];
		const struct arg *a = pos[i];

		if (type == 'N') {
			if (a->kind != ARG_NUMBER)
				perr(p, a->line, a->col, "%s expects a number", sp->name);
			node->num = a->num;
			continue;
		}
		if (a->kind != ARG_LIST)
			perr(p, a->line, a->col, "%s expects a %s", sp->name,
			     type == 'S' ? "string" : "string list");
		if (type == 'S')
			single_string(p, a, "this argument");
		/* where each positional lands: see struct sieve_node */
		if (optional || (want == 1 && sp->op == SIEVE_OP_BODY) || i == 1)
			node->b = a->sl;
		else
			node->a = a->sl;
	}
	switch (sp->op) {
	case SIEVE_OP_REQUIRE:
		for (size_t i = 0; i < node->a.n; i++) {
			size_t k;

			for (k = 0; k < sizeof(extensions) / sizeof(extensions[0]); k++)
				if (strcmp(extensions[k].name, node->a.v[i]) == 0)
					break;
			if (k == sizeof(extensions) / sizeof(extensions[0]))
				perr(p, pos[0]->line, pos[0]->col, "unsupported extension '%s'",
				     node->a.v[i]);
			p->script->exts |= extensions[k].ext;
		}
		break;
	case SIEVE_OP_SIZE:
		if (!(seen & TG_SIZE))
			perr(p, id->line, id->col, "size needs :over or :under");
		break;
	case SIEVE_OP_ADDRESS:
	case SIEVE_OP_HEADER:
	case SIEVE_OP_EXISTS:
		check_header_names(p, pos[0], sp->op == SIEVE_OP_ADDRESS);
		break;
	case SIEVE_OP_ENVELOPE:
		for (size_t i = 0; i < node->a.n; i++)
			if (!is_dynamic(p, node->a.v[i]) && strcasecmp(node->a.v[i], "from") != 0 &&
			    strcasecmp(node->a.v[i], "to") != 0)
				perr(p, pos[0]->line, pos[0]->col, "unknown envelope part '%s'",
				     node->a.v[i]);
		break;
	case SIEVE_OP_REDIRECT: {
		const char *why;

		if (!is_dynamic(p, node->a.v[0]) &&
		    sieve_addr_check_redirect(node->a.v[0], &why) < 0)
			perr(p, pos[0]->line, pos[0]->col, "invalid redirect address '%s': %s",
			     node->a.v[0], why);
		break;
	}
	case SIEVE_OP_FILEINTO:
		if (node->a.v[0][0] == '\0')
			perr(p, pos[0]->line, pos[0]->col, "empty folder name");
		break;
	case SIEVE_OP_SET:
	case SIEVE_OP_SETFLAG:
	case SIEVE_OP_ADDFLAG:
	case SIEVE_OP_REMOVEFLAG:
	case SIEVE_OP_HASFLAG:
		for (size_t i = 0; i < node->a.n; i++)
			if (!sieve_vars_valid_name(node->a.v[i]))
				perr(p, id->line, id->col, "invalid variable name '%s'", node->a.v[i]);
		break;
	default:
		break;
	}
}

static struct sieve_node *parse_test(struct parser *p)
{
	struct sieve_node *node = arena_calloc(p->arena, 1, sizeof(*node));
	struct sieve_token id = p->tok;
	const struct spec *sp = find_spec(id.text);
	struct arg *args;
	size_t n;
	bool list;

	if (sp == NULL || !sp->test)
		unknown(p, &id, true);
	enter(p, id.line, id.col);
	node->line = id.line;
	node->col = id.col;
	next(p);
	n = parse_args(p, sp, &args, node, &list);
	validate(p, sp, &id, node, args, n, list);
	p->depth--;
	return node;
}

static struct sieve_node *parse_block(struct parser *p);

static struct sieve_node *parse_command(struct parser *p)
{
	struct sieve_node *node = arena_calloc(p->arena, 1, sizeof(*node));
	struct sieve_token id = p->tok;
	const struct spec *sp;
	struct arg *args;
	size_t n;
	bool list;

	if (id.kind != SIEVE_TOK_IDENT)
		perr(p, id.line, id.col, "expected a command, found %s", describe(&id));
	sp = find_spec(id.text);
	if (sp == NULL || sp->test)
		unknown(p, &id, false);
	if (sp->op == SIEVE_OP_ELSIF || sp->op == SIEVE_OP_ELSE)
		perr(p, id.line, id.col, "'%s' without a preceding 'if'", sp->name);
	if (sp->op == SIEVE_OP_REQUIRE && (p->seen_command || p->depth > 0))
		perr(p, id.line, id.col, "require must come before any other command");
	if (sp->op != SIEVE_OP_REQUIRE)
		p->seen_command = true;
	node->line = id.line;
	node->col = id.col;
	next(p);
	n = parse_args(p, sp, &args, node, &list);
	validate(p, sp, &id, node, args, n, list);
	if (!sp->block) {
		if (!is_punct(p, ';'))
			perr(p, p->prev_line, p->prev_col, "missing ';' after '%s'", sp->name);
		next(p);
		return node;
	}
	node->block = parse_block(p);
	/* elsif / else continue the chain of this if. */
	for (struct sieve_node *tail = node; sp->op == SIEVE_OP_IF &&
	     p->tok.kind == SIEVE_TOK_IDENT; ) {
		const struct spec *ss = find_spec(p->tok.text);
		struct sieve_token bid = p->tok;
		struct sieve_node *br;

		if (ss == NULL || (ss->op != SIEVE_OP_ELSIF && ss->op != SIEVE_OP_ELSE))
			break;
		br = arena_calloc(p->arena, 1, sizeof(*br));
		br->line = bid.line;
		br->col = bid.col;
		next(p);
		n = parse_args(p, ss, &args, br, &list);
		validate(p, ss, &bid, br, args, n, list);
		br->block = parse_block(p);
		tail->els = br;
		tail = br;
		if (ss->op == SIEVE_OP_ELSE)
			break;
	}
	return node;
}

static struct sieve_node *parse_block(struct parser *p)
{
	struct sieve_node *first = NULL, **tail = &first;
	unsigned line = p->tok.line, col = p->tok.col;

	if (!is_punct(p, '{'))
		perr(p, p->prev_line, p->prev_col, "expected '{' to start a block, found %s",
		     describe(&p->tok));
	enter(p, line, col);
	next(p);
	while (!is_punct(p, '}')) {
		if (p->tok.kind == SIEVE_TOK_EOF)
			perr(p, line, col, "block not closed: missing '}'");
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
	struct parser *p;
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
			perr(p, p->tok.line, p->tok.col, "unexpected '}' (no block open)");
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
