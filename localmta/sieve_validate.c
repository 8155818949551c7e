/* sieve_validate.c: the table of commands and tests the Sieve compiler
 * knows, and the validation step that checks a parsed command against it:
 * required extensions, tags, argument count and types, and the checks that
 * can be made on literal values (extension names, header names, envelope
 * parts, redirect addresses, variable names, folder names). */
#include "localmta/sieve-parse-private.h"
#include "store/store.h"
#include "lib/arena.h"

#include <string.h>
#include <strings.h>



static const struct sieve_spec specs[] = {
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
const struct sieve_spec *sieve_spec_find(const char *name)
{
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcasecmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

const char *sieve_spec_suggest(const char *name, bool test)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < N_SPECS; i++) {
		unsigned d = sieve_distance(name, specs[i].name);

		if (specs[i].test == test && d < bestd && (d < 2 || strlen(name) > 3)) {
			bestd = d;
			best = specs[i].name;
		}
	}
	return best;
}

static const char *ext_name(unsigned ext)
{
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (extensions[i].ext == ext)
			return extensions[i].name;
	return "?";
}

/* A string that may change at run time (variables): literal checks skip it. */
static bool is_dynamic(const struct sieve_parser *p, const char *s)
{
	return (p->script->exts & SIEVE_EXT_VARIABLES) && strstr(s, "${") != NULL;
}

static void need_ext(struct sieve_parser *p, const struct sieve_arg *a, unsigned ext, const char *what)
{
	if (!(p->script->exts & ext))
		sieve_perr(p, a->line, a->col, "require missing for %s (add: require \"%s\";)",
		     what, ext_name(ext));
}

static const char *single_string(struct sieve_parser *p, const struct sieve_arg *a, const char *what)
{
	if (a->kind != ARG_LIST || !a->single)
		sieve_perr(p, a->line, a->col, "%s must be a string", what);
	return a->sl.v[0];
}

static void check_header_names(struct sieve_parser *p, const struct sieve_arg *a, bool address)
{
	for (size_t i = 0; i < a->sl.n; i++) {
		const char *h = a->sl.v[i];

		if (is_dynamic(p, h))
			continue;
		if (*h == '\0' || h[strcspn(h, ": \t\r\n")] != '\0')
			sieve_perr(p, a->line, a->col, "invalid header name '%s'", h);
		if (!address)
			continue;
		size_t k;

		for (k = 0; address_headers[k]; k++)
			if (strcasecmp(address_headers[k], h) == 0)
				break;
		if (address_headers[k] == NULL)
			sieve_perr(p, a->line, a->col, "header '%s' holds no addresses: not allowed "
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
static size_t take_tag(struct sieve_parser *p, const struct sieve_spec *sp, struct sieve_node *node,
		       const struct sieve_arg *a, const struct sieve_arg *after, unsigned *seen)
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
		sieve_perr(p, a->line, a->col, "unknown tag ':%s' for %s", t, sp->name);
	if ((*seen & group) && group != TG_MODS)
		sieve_perr(p, a->line, a->col, "%s: more than one %s", sp->name,
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
			sieve_perr(p, a->line, a->col, ":comparator needs a comparator name");
		const char *c = single_string(p, after, "the comparator name");

		if (!strcasecmp(c, "i;octet"))
			node->cmp = SIEVE_CMP_OCTET;
		else if (!strcasecmp(c, "i;ascii-casemap"))
			node->cmp = SIEVE_CMP_CASEMAP;
		else
			sieve_perr(p, after->line, after->col, "unknown comparator '%s'", c);
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
			sieve_perr(p, a->line, a->col, ":flags needs a string list");
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
			sieve_perr(p, a->line, a->col, ":content needs a list of content types");
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
					sieve_perr(p, a->line, a->col, "set: :%s conflicts with :%s",
					     modifiers[i].name, modifiers[j].name);
			node->mods |= modifiers[i].mod;
		}
		return 0;
	}
	return 0;
}

void sieve_validate(struct sieve_parser *p, const struct sieve_spec *sp, const struct sieve_token *id,
		     struct sieve_node *node, struct sieve_arg *args, size_t n, bool list)
{
	const struct sieve_arg *pos[3];
	size_t npos = 0, want = strlen(sp->args);
	unsigned seen = 0;
	bool optional = sp->args[0] == '?';
	struct sieve_arg idarg = { .line = id->line, .col = id->col };

	node->op = sp->op;
	if (sp->ext)
		need_ext(p, &idarg, sp->ext, sp->name);
	if (sp->tests == 0 && node->n_tests > 0)
		sieve_perr(p, node->tests[0]->line, node->tests[0]->col, "%s takes no test", sp->name);
	if (sp->tests == 1 && (node->n_tests != 1 || list))
		sieve_perr(p, p->prev_line, p->prev_col, "%s needs exactly one test", sp->name);
	if (sp->tests == 2 && !list)
		sieve_perr(p, p->prev_line, p->prev_col, "%s needs a test list in parentheses",
		     sp->name);
	for (size_t i = 0; i < n; i++) {
		if (args[i].kind == ARG_TAG) {
			i += take_tag(p, sp, node, &args[i], i + 1 < n ? &args[i + 1] : NULL, &seen);
			continue;
		}
		if (npos == (optional ? want : want) || npos == 3)
			sieve_perr(p, args[i].line, args[i].col, "too many arguments for %s", sp->name);
		pos[npos++] = &args[i];
	}
	if (optional) {
		want--;
		if (npos == 2) {
			node->a = pos[0]->sl;
			if (pos[0]->kind != ARG_LIST)
				sieve_perr(p, pos[0]->line, pos[0]->col, "%s: expected a variable name",
				     sp->name);
			if (sp->op != SIEVE_OP_HASFLAG)
				single_string(p, pos[0], "the variable name");
			need_ext(p, pos[0], SIEVE_EXT_VARIABLES, "flag variables");
			pos[0] = pos[1];
			npos = 1;
		}
	}
	if (npos < want)
		sieve_perr(p, p->prev_line, p->prev_col, "%s needs %zu argument%s", sp->name,
		     want, want == 1 ? "" : "s");
	for (size_t i = 0; i < want; i++) {
		char type = sp->args[i + (optional ? 1 : 0)];
		const struct sieve_arg *a = pos[i];

		if (type == 'N') {
			if (a->kind != ARG_NUMBER)
				sieve_perr(p, a->line, a->col, "%s expects a number", sp->name);
			node->num = a->num;
			continue;
		}
		if (a->kind != ARG_LIST)
			sieve_perr(p, a->line, a->col, "%s expects a %s", sp->name,
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
				sieve_perr(p, pos[0]->line, pos[0]->col, "unsupported extension '%s'",
				     node->a.v[i]);
			p->script->exts |= extensions[k].ext;
		}
		break;
	case SIEVE_OP_SIZE:
		if (!(seen & TG_SIZE))
			sieve_perr(p, id->line, id->col, "size needs :over or :under");
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
				sieve_perr(p, pos[0]->line, pos[0]->col, "unknown envelope part '%s'",
				     node->a.v[i]);
		break;
	case SIEVE_OP_REDIRECT: {
		const char *why;

		if (!is_dynamic(p, node->a.v[0]) &&
		    sieve_addr_check_redirect(node->a.v[0], &why) < 0)
			sieve_perr(p, pos[0]->line, pos[0]->col, "invalid redirect address '%s': %s",
			     node->a.v[0], why);
		break;
	}
	case SIEVE_OP_FILEINTO: {
		const char *why;

		/* The check delivery makes; a name with variables is checked
		 * there, once it is known. */
		if (!is_dynamic(p, node->a.v[0]) && strcasecmp(node->a.v[0], "INBOX") != 0 &&
		    store_folder_name_check(node->a.v[0], &why) < 0)
			sieve_perr(p, pos[0]->line, pos[0]->col, "invalid folder name '%s': %s",
				   node->a.v[0], why);
		break;
	}
	case SIEVE_OP_SET:
	case SIEVE_OP_SETFLAG:
	case SIEVE_OP_ADDFLAG:
	case SIEVE_OP_REMOVEFLAG:
	case SIEVE_OP_HASFLAG:
		for (size_t i = 0; i < node->a.n; i++)
			if (!sieve_vars_valid_name(node->a.v[i]))
				sieve_perr(p, id->line, id->col, "invalid variable name '%s'", node->a.v[i]);
		break;
	default:
		break;
	}
}