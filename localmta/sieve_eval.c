/* sieve_eval.c: running a compiled script against one message.
 *
 * The run builds the action list of RFC 5228 2.10: the implicit keep
 * stands unless keep, fileinto or redirect (without :copy) or discard
 * cancels it; stores into the same folder collapse into one (flags
 * merged), as do redirects to the same address; discard is reported only
 * when nothing else delivers.  imap4flags: keep and fileinto without :flags
 * take the internal flag variable as it is when they run, the implicit keep
 * takes it as it is at the end. */
#include "localmta/sieve-private.h"
#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ADDRS_PER_HEADER 1024

struct result_priv {
	struct sieve_result pub;	/* first: sieve_result_free casts back */
	struct arena *arena;
	size_t alloc;
};

struct eval {
	const struct sieve_script *script;
	const struct sieve_input *in;
	struct arena *arena;
	struct result_priv *res;
	struct sieve_vars *vars;
	bool vars_on;
	const char *flags;		/* imap4flags' internal variable */
	bool implicit_keep, discarded;
	unsigned redirects;
	char *error;
};

__attribute__((format(printf, 3, 4)))
static int rt_error(struct eval *ev, const struct sieve_node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		ev->error = xasprintf("%s:%u:%u: runtime error: %s", ev->script->name,
				      n->line, n->col, msg);
	else
		ev->error = xasprintf("%s: runtime error: %s", ev->script->name, msg);
	return -1;
}

static const char *expand(struct eval *ev, const char *s)
{
	return ev->vars_on ? sieve_vars_expand(ev->vars, s) : s;
}

/* The strings of a list expanded and joined by spaces (flag lists). */
static const char *join(struct eval *ev, const struct sieve_strlist *sl)
{
	struct sbuf sb = SBUF_INIT;
	const char *r;

	for (size_t i = 0; i < sl->n; i++) {
		if (i)
			sbuf_addch(&sb, ' ');
		sbuf_addstr(&sb, expand(ev, sl->v[i]));
	}
	r = arena_strndup(ev->arena, sb.buf, sb.len);
	sbuf_release(&sb);
	return r;
}

/* Tries value against each key; a :matches hit sets ${0}..${9}. */
static int match_keys(struct eval *ev, const struct sieve_node *t, const char *value, size_t len)
{
	struct sieve_capture caps[SIEVE_MAX_MATCH_VARS];
	unsigned ncaps;

	for (size_t k = 0; k < t->b.n; k++) {
		if (!sieve_match(t->match, t->cmp, value, len, expand(ev, t->b.v[k]), caps, &ncaps))
			continue;
		if (ev->vars_on && t->match == SIEVE_MATCH_MATCHES)
			sieve_vars_set_matches(ev->vars, arena_strndup(ev->arena, value, len),
					       caps, ncaps);
		return 1;
	}
	return 0;
}

static int match_trimmed(struct eval *ev, const struct sieve_node *t, const char *v)
{
	size_t len;

	v += strspn(v, " \t\r\n");
	len = strlen(v);
	while (len > 0 && strchr(" \t\r\n", v[len - 1]))
		len--;
	return match_keys(ev, t, v, len);
}

static int match_addr(struct eval *ev, const struct sieve_node *t, const struct sieve_addr *a)
{
	const char *v = t->part == SIEVE_PART_ALL ? a->all :
			t->part == SIEVE_PART_LOCAL ? a->local : a->domain;

	return v != NULL && match_keys(ev, t, v, strlen(v));
}

static int test_headers(struct eval *ev, const struct sieve_node *t)
{
	const struct message *msg = ev->in->msg;
	int count = message_header_count(msg);
	bool address = t->op == SIEVE_OP_ADDRESS;

	for (size_t h = 0; h < t->a.n; h++) {
		const char *want = expand(ev, t->a.v[h]);

		for (int i = 0; i < count; i++) {
			const char *name, *value;

			if (address ? message_header_raw_at(msg, i, &name, &value) < 0
				    : message_header_at(msg, i, &name, &value) < 0)
				break;
			if (strcasecmp(name, want) != 0)
				continue;
			if (!address) {
				if (match_trimmed(ev, t, value))
					return 1;
				continue;
			}
			struct sieve_addr *addrs = arena_calloc(ev->arena, MAX_ADDRS_PER_HEADER,
								sizeof(*addrs));
			size_t n = sieve_addr_parse_list(value, ev->arena, addrs,
							 MAX_ADDRS_PER_HEADER);

			/* No address at all (an empty group, junk): like
			 * Pigeonhole, :all sees the whole value. */
			if (n == 0 && value[strspn(value, " \t\r\n")] != '\0') {
				if (t->part == SIEVE_PART_ALL && match_trimmed(ev, t, value))
					return 1;
				continue;
			}
			for (size_t k = 0; k < n; k++)
				if (match_addr(ev, t, &addrs[k]))
					return 1;
		}
	}
	return 0;
}

static int test_envelope(struct eval *ev, const struct sieve_node *t)
{
	for (size_t h = 0; h < t->a.n; h++) {
		const char *part = expand(ev, t->a.v[h]), *path;
		struct sieve_addr a;

		if (strcasecmp(part, "from") == 0)
			path = ev->in->envelope_from;
		else if (strcasecmp(part, "to") == 0)
			path = ev->in->envelope_to;
		else
			continue;
		if (path == NULL)
			continue;
		sieve_addr_parse_one(path, ev->arena, &a);
		/* RFC 5228 5.4: the null reverse-path is "" for every part. */
		if (a.all[0] == '\0' ? match_keys(ev, t, "", 0) : match_addr(ev, t, &a))
			return 1;
	}
	return 0;
}

static int test_exists(struct eval *ev, const struct sieve_node *t)
{
	for (size_t h = 0; h < t->a.n; h++)
		if (message_header(ev->in->msg, expand(ev, t->a.v[h])) == NULL)
			return 0;
	return 1;
}

/* hasflag: every flag of the variables against every flag of the keys. */
static int test_hasflag(struct eval *ev, const struct sieve_node *t)
{
	const char *keys = join(ev, &t->b);
	size_t nvars = t->a.n ? t->a.n : 1;

	for (size_t v = 0; v < nvars; v++) {
		const char *val = t->a.n ? sieve_vars_get(ev->vars, t->a.v[v]) : ev->flags;

		for (const char *f = val + strspn(val, " "); *f; f += strspn(f, " ")) {
			size_t fl = strcspn(f, " ");

			for (const char *k = keys + strspn(keys, " "); *k; k += strspn(k, " ")) {
				size_t kl = strcspn(k, " ");
				char *key = arena_strndup(ev->arena, k, kl);

				if (sieve_match(t->match, t->cmp, f, fl, key, NULL, NULL))
					return 1;
				k += kl;
			}
			f += fl;
		}
	}
	return 0;
}

static bool content_type_wanted(const struct sieve_node *t, const char *type)
{
	if (t->transform == SIEVE_BODY_TEXT)
		return strncmp(type, "text/", 5) == 0;
	for (size_t i = 0; i < t->content_types.n; i++) {
		const char *want = t->content_types.v[i];
		size_t wl = strlen(want);

		if (wl == 0)
			return true;
		if (strchr(want, '/') ? strcasecmp(type, want) == 0
				      : strncasecmp(type, want, wl) == 0 && type[wl] == '/')
			return true;
	}
	return false;
}

static int test_body(struct eval *ev, const struct sieve_node *t)
{
	const struct message_part *const *parts;
	size_t n, len;

	if (t->transform == SIEVE_BODY_RAW) {
		const char *raw = message_raw(ev->in->msg, &len), *end = raw + len, *b = raw;

		/* the body starts after the first empty line */
		for (; b < end; b++)
			if (*b == '\n' && (b + 1 < end && (b[1] == '\n' ||
			    (b[1] == '\r' && b + 2 < end && b[2] == '\n'))))
				break;
		b = b < end ? b + (b[1] == '\n' ? 2 : 3) : end;
		char *body = arena_strndup(ev->arena, b, (size_t)(end - b));

		return match_keys(ev, t, body, strlen(body));
	}
	n = message_parts(ev->in->msg, &parts);
	for (size_t i = 0; i < n; i++) {
		const char *type = message_part_type(parts[i]);
		int hit;

		if (message_part_is_multipart(parts[i]) || !content_type_wanted(t, type))
			continue;
		if (strncmp(type, "text/", 5) == 0) {
			char *text = message_part_text(parts[i], 0, &len);

			hit = match_keys(ev, t, text, len);
			free(text);
		} else {
			const char *c = message_part_content(parts[i], &len);

			hit = match_keys(ev, t, c, len);
		}
		if (hit)
			return 1;
	}
	return 0;
}

static int eval_test(struct eval *ev, const struct sieve_node *t)
{
	switch (t->op) {
	case SIEVE_OP_ADDRESS:
	case SIEVE_OP_HEADER:
		return test_headers(ev, t);
	case SIEVE_OP_ENVELOPE:
		return test_envelope(ev, t);
	case SIEVE_OP_EXISTS:
		return test_exists(ev, t);
	case SIEVE_OP_SIZE:
		return t->over ? ev->in->size > t->num : ev->in->size < t->num;
	case SIEVE_OP_ALLOF:
		for (size_t i = 0; i < t->n_tests; i++)
			if (!eval_test(ev, t->tests[i]))
				return 0;
		return 1;
	case SIEVE_OP_ANYOF:
		for (size_t i = 0; i < t->n_tests; i++)
			if (eval_test(ev, t->tests[i]))
				return 1;
		return 0;
	case SIEVE_OP_NOT:
		return !eval_test(ev, t->tests[0]);
	case SIEVE_OP_TRUE:
		return 1;
	case SIEVE_OP_FALSE:
		return 0;
	case SIEVE_OP_HASFLAG:
		return test_hasflag(ev, t);
	case SIEVE_OP_STRING:
		for (size_t i = 0; i < t->a.n; i++) {
			const char *s = expand(ev, t->a.v[i]);

			if (match_keys(ev, t, s, strlen(s)))
				return 1;
		}
		return 0;
	case SIEVE_OP_BODY:
		return test_body(ev, t);
	default:
		return 0;
	}
}

/* ---- actions ---- */

/* The valid flags of a space-separated list, as a NULL-ended array
 * (NULL when there are none). */
static const char *const *flag_array(struct eval *ev, const char *flags)
{
	size_t n = 0, cap = 1;
	const char **v;

	for (const char *s = flags; *s; s++)
		cap += *s == ' ';
	v = arena_calloc(ev->arena, cap + 1, sizeof(*v));
	for (const char *s = flags + strspn(flags, " "); *s; s += strspn(s, " ")) {
		size_t len = strcspn(s, " ");
		char *f = arena_strndup(ev->arena, s, len);

		if (sieve_flag_valid(f))
			v[n++] = f;
		s += len;
	}
	return n ? v : NULL;
}

static struct sieve_action *new_action(struct eval *ev, const struct sieve_node *n,
				       enum sieve_action_type type)
{
	struct sieve_result *r = &ev->res->pub;

	if (r->n_actions == SIEVE_MAX_ACTIONS) {
		rt_error(ev, n, "too many actions (more than %d)", SIEVE_MAX_ACTIONS);
		return NULL;
	}
	if (r->n_actions == ev->res->alloc) {
		size_t na = ev->res->alloc ? ev->res->alloc * 2 : 4;
		struct sieve_action *v = arena_calloc(ev->arena, na, sizeof(*v));

		if (r->n_actions)
			memcpy(v, r->actions, r->n_actions * sizeof(*v));
		r->actions = v;
		ev->res->alloc = na;
	}
	r->actions[r->n_actions] = (struct sieve_action){ .type = type };
	return &r->actions[r->n_actions++];
}

static bool is_inbox(const struct sieve_action *a)
{
	return a->type == SIEVE_KEEP ||
	       (a->type == SIEVE_FILEINTO && strcasecmp(a->folder, "INBOX") == 0);
}

/* keep (folder NULL) or fileinto; a second store into the same folder
 * merges its flags into the first. */
static int store(struct eval *ev, const struct sieve_node *n, const char *folder,
		 const char *flags, bool create)
{
	struct sieve_result *r = &ev->res->pub;
	struct sieve_action probe = { .type = folder ? SIEVE_FILEINTO : SIEVE_KEEP,
				      .folder = folder };
	struct sieve_action *a;

	for (size_t i = 0; i < r->n_actions; i++) {
		a = &r->actions[i];
		if ((a->type == SIEVE_KEEP || a->type == SIEVE_FILEINTO) &&
		    (is_inbox(&probe) ? is_inbox(a) : a->folder && strcmp(a->folder, folder) == 0)) {
			struct sbuf sb = SBUF_INIT;

			for (size_t k = 0; a->flags && a->flags[k]; k++)
				sbuf_addf(&sb, "%s ", a->flags[k]);
			a->flags = flag_array(ev, sieve_flags_add(ev->arena, sb.buf, flags));
			a->create |= create;
			sbuf_release(&sb);
			return 0;
		}
	}
	a = new_action(ev, n, probe.type);
	if (a == NULL)
		return -1;
	a->folder = folder ? arena_strdup(ev->arena, folder) : NULL;
	a->create = create;
	a->flags = flag_array(ev, flags);
	return 0;
}

static int do_redirect(struct eval *ev, const struct sieve_node *n)
{
	struct sieve_result *r = &ev->res->pub;
	const char *addr = expand(ev, n->a.v[0]), *why;
	struct sieve_action *a;

	if (sieve_addr_check_redirect(addr, &why) < 0)
		return rt_error(ev, n, "invalid redirect address '%s': %s", addr, why);
	if (!n->copy)
		ev->implicit_keep = false;
	for (size_t i = 0; i < r->n_actions; i++)
		if (r->actions[i].type == SIEVE_REDIRECT &&
		    strcasecmp(r->actions[i].address, addr) == 0)
			return 0;
	if (++ev->redirects > SIEVE_MAX_REDIRECTS)
		return rt_error(ev, n, "too many redirects (more than %d)", SIEVE_MAX_REDIRECTS);
	a = new_action(ev, n, SIEVE_REDIRECT);
	if (a == NULL)
		return -1;
	a->address = arena_strdup(ev->arena, addr);
	return 0;
}

static int do_flags(struct eval *ev, const struct sieve_node *n)
{
	const char *list = join(ev, &n->b);
	const char *cur = n->a.n ? sieve_vars_get(ev->vars, n->a.v[0]) : ev->flags;
	const char *val = n->op == SIEVE_OP_SETFLAG ? sieve_flags_add(ev->arena, "", list)
			: n->op == SIEVE_OP_ADDFLAG ? sieve_flags_add(ev->arena, cur, list)
			: sieve_flags_remove(ev->arena, cur, list);

	if (n->a.n == 0)
		ev->flags = val;
	else if (sieve_vars_set(ev->vars, n->a.v[0], val) < 0)
		return rt_error(ev, n, "too many variables");
	return 0;
}

/* 0 to go on, 1 after stop, -1 on a runtime error. */
static int run_block(struct eval *ev, const struct sieve_node *c)
{
	int ret = 0;

	for (; c && ret == 0; c = c->next) {
		switch (c->op) {
		case SIEVE_OP_IF:
			for (const struct sieve_node *br = c; br; br = br->els)
				if (br->op == SIEVE_OP_ELSE || eval_test(ev, br->tests[0])) {
					ret = run_block(ev, br->block);
					break;
				}
			break;
		case SIEVE_OP_STOP:
			return 1;
		case SIEVE_OP_KEEP:
			ev->implicit_keep = false;
			ret = store(ev, c, NULL, c->has_flags ? join(ev, &c->flags) : ev->flags, false);
			break;
		case SIEVE_OP_FILEINTO: {
			const char *folder = expand(ev, c->a.v[0]);

			if (*folder == '\0')
				return rt_error(ev, c, "empty folder name");
			if (!c->copy)
				ev->implicit_keep = false;
			ret = store(ev, c, folder, c->has_flags ? join(ev, &c->flags) : ev->flags,
				    c->create);
			break;
		}
		case SIEVE_OP_REDIRECT:
			ret = do_redirect(ev, c);
			break;
		case SIEVE_OP_DISCARD:
			ev->implicit_keep = false;
			ev->discarded = true;
			break;
		case SIEVE_OP_SETFLAG:
		case SIEVE_OP_ADDFLAG:
		case SIEVE_OP_REMOVEFLAG:
			ret = do_flags(ev, c);
			break;
		case SIEVE_OP_SET: {
			const char *v = sieve_vars_modify(ev->arena, expand(ev, c->b.v[0]), c->mods);

			if (sieve_vars_set(ev->vars, c->a.v[0], v) < 0)
				return rt_error(ev, c, "too many variables");
			break;
		}
		default:	/* require: done at compile time */
			break;
		}
	}
	return ret;
}

int sieve_execute(const struct sieve_script *script, const struct sieve_input *in,
		  struct sieve_result **result_r, char **error_r)
{
	struct result_priv *res = xcalloc(1, sizeof(*res));
	struct eval ev = {
		.script = script, .in = in, .res = res, .flags = "",
		.implicit_keep = true,
		.vars_on = (script->exts & SIEVE_EXT_VARIABLES) != 0,
	};
	struct sieve_result *pub = &res->pub;

	*result_r = NULL;
	*error_r = NULL;
	res->arena = ev.arena = arena_new(0);
	ev.vars = sieve_vars_new(ev.arena);
	if (run_block(&ev, script->first) < 0)
		goto fail;
	if (ev.implicit_keep && store(&ev, NULL, NULL, ev.flags, false) < 0)
		goto fail;
	if (pub->n_actions == 0 && ev.discarded)
		new_action(&ev, NULL, SIEVE_DISCARD);
	*result_r = pub;
	return 0;
fail:
	*error_r = ev.error;
	sieve_result_free(&pub);
	return -1;
}

void sieve_result_free(struct sieve_result **resultp)
{
	struct result_priv *res = (struct result_priv *)*resultp;

	if (res == NULL)
		return;
	arena_free(&res->arena);
	free(res);
	*resultp = NULL;
}
