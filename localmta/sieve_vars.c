/* sieve_vars.c: the variables extension (RFC 5229) and the flag lists of
 * imap4flags (RFC 5232), which are variables holding space-separated flags.
 *
 * Values live in the run's arena.  Since no Sieve command runs twice in a
 * run, replacing a value without freeing the old one costs at most one
 * value per `set` in the script. */
#include "localmta/sieve-private.h"
#include "lib/arena.h"
#include "lib/sbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sieve_vars {
	struct arena *arena;
	const char *names[SIEVE_MAX_VARIABLES];
	const char *values[SIEVE_MAX_VARIABLES];
	unsigned n;
	const char *match[SIEVE_MAX_MATCH_VARS];
};

struct sieve_vars *sieve_vars_new(struct arena *arena)
{
	struct sieve_vars *v = arena_calloc(arena, 1, sizeof(*v));

	v->arena = arena;
	return v;
}

static const char *truncated(struct arena *a, const char *value)
{
	size_t len = strlen(value);

	if (len <= SIEVE_MAX_VAR_SIZE)
		return arena_strdup(a, value);
	/* Cut at a character boundary so the value stays UTF-8. */
	len = SIEVE_MAX_VAR_SIZE;
	while (len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
		len--;
	return arena_strndup(a, value, len);
}

const char *sieve_vars_get(struct sieve_vars *vars, const char *name)
{
	for (unsigned i = 0; i < vars->n; i++)
		if (strcasecmp(vars->names[i], name) == 0)
			return vars->values[i];
	return "";
}

int sieve_vars_set(struct sieve_vars *vars, const char *name, const char *value)
{
	for (unsigned i = 0; i < vars->n; i++)
		if (strcasecmp(vars->names[i], name) == 0) {
			vars->values[i] = truncated(vars->arena, value);
			return 0;
		}
	if (vars->n == SIEVE_MAX_VARIABLES)
		return -1;
	vars->names[vars->n] = arena_strdup(vars->arena, name);
	vars->values[vars->n++] = truncated(vars->arena, value);
	return 0;
}

void sieve_vars_set_matches(struct sieve_vars *vars, const char *value,
			    const struct sieve_capture *caps, unsigned ncaps)
{
	vars->match[0] = truncated(vars->arena, value);
	for (unsigned i = 1; i < SIEVE_MAX_MATCH_VARS; i++) {
		if (i - 1 < ncaps) {
			char *s = arena_strndup(vars->arena, value + caps[i - 1].off,
						caps[i - 1].len);

			vars->match[i] = truncated(vars->arena, s);
		} else {
			vars->match[i] = NULL;
		}
	}
}

bool sieve_vars_valid_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* ${...}: a number (match variable) or an identifier, possibly with
 * namespace parts ("a.b"); anything else is not a reference and stays as
 * it is (RFC 5229 3). */
const char *sieve_vars_expand(struct sieve_vars *vars, const char *s)
{
	const char *d = strstr(s, "${");
	struct sbuf sb = SBUF_INIT;

	if (d == NULL)
		return s;
	while (d) {
		const char *q = d + 2, *e;
		bool num = isdigit((unsigned char)*q);

		sbuf_add(&sb, s, (size_t)(d - s));
		for (e = q; *e && *e != '}'; e++)
			if (num ? !isdigit((unsigned char)*e)
				: !(isalnum((unsigned char)*e) || *e == '_' || *e == '.'))
				break;
		if (*e != '}' || e == q || (!num && !(isalpha((unsigned char)*q) || *q == '_'))) {
			sbuf_add(&sb, d, 2);	/* not a reference */
			s = d + 2;
		} else {
			char *name = arena_strndup(vars->arena, q, (size_t)(e - q));

			if (num) {
				unsigned long k = strlen(name) > 3 ? 99 : strtoul(name, NULL, 10);

				if (k < SIEVE_MAX_MATCH_VARS && vars->match[k])
					sbuf_addstr(&sb, vars->match[k]);
			} else if (strchr(name, '.') == NULL) {
				sbuf_addstr(&sb, sieve_vars_get(vars, name));
			}
			s = e + 1;
		}
		if (sb.len > SIEVE_MAX_VAR_SIZE * 4)
			break;
		d = strstr(s, "${");
	}
	sbuf_addstr(&sb, s);
	const char *r = arena_strndup(vars->arena, sb.buf, sb.len);

	sbuf_release(&sb);
	return r;
}

const char *sieve_vars_modify(struct arena *arena, const char *value, unsigned mods)
{
	char *v = arena_strdup(arena, value);

	if (mods & (SIEVE_MOD_LOWER | SIEVE_MOD_UPPER))
		for (char *c = v; *c; c++)
			*c = (char)((mods & SIEVE_MOD_LOWER) ? tolower((unsigned char)*c)
							    : toupper((unsigned char)*c));
	if ((mods & SIEVE_MOD_LOWERFIRST) && *v)
		*v = (char)tolower((unsigned char)*v);
	if ((mods & SIEVE_MOD_UPPERFIRST) && *v)
		*v = (char)toupper((unsigned char)*v);
	if (mods & SIEVE_MOD_QUOTEWILDCARD) {
		struct sbuf sb = SBUF_INIT;

		for (const char *c = v; *c; c++) {
			if (*c == '*' || *c == '?' || *c == '\\')
				sbuf_addch(&sb, '\\');
			sbuf_addch(&sb, *c);
		}
		v = arena_strndup(arena, sb.buf, sb.len);
		sbuf_release(&sb);
	}
	if (mods & SIEVE_MOD_LENGTH) {
		/* length in characters, not bytes (RFC 5229 4.1.1) */
		size_t n = 0;

		for (const char *c = v; *c; c++)
			n += ((unsigned char)*c & 0xC0) != 0x80;
		v = arena_printf(arena, "%zu", n);
	}
	return v;
}

/* ---- imap4flags ---- */

static const char *const system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", NULL,
};

bool sieve_flag_valid(const char *s)
{
	if (*s == '\\') {
		for (size_t i = 0; system_flags[i]; i++)
			if (strcasecmp(system_flags[i], s) == 0)
				return true;
		return false;
	}
	if (*s == '\0')
		return false;
	for (; *s; s++)	/* an IMAP atom */
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("(){%*\"\\]", *s))
			return false;
	return true;
}

static bool has_flag(const struct sbuf *sb, const char *f, size_t len)
{
	const char *s = sb->buf;

	while (*s) {
		size_t n = strcspn(s, " ");

		if (n == len && strncasecmp(s, f, len) == 0)
			return true;
		s += n;
		s += strspn(s, " ");
	}
	return false;
}

/* Appends each flag of list to sb unless present (or, with skip, unless it
 * is in skip). */
static void add_flags(struct sbuf *sb, const char *list, const char *skip)
{
	struct sbuf sk = SBUF_INIT;

	if (skip)
		sbuf_addstr(&sk, skip);
	for (const char *s = list + strspn(list, " "); *s; s += strspn(s, " ")) {
		size_t n = strcspn(s, " ");

		if (!has_flag(sb, s, n) && !(skip && has_flag(&sk, s, n))) {
			if (sb->len)
				sbuf_addch(sb, ' ');
			sbuf_add(sb, s, n);
		}
		s += n;
	}
	sbuf_release(&sk);
}

const char *sieve_flags_add(struct arena *arena, const char *cur, const char *add)
{
	struct sbuf sb = SBUF_INIT;
	const char *r;

	add_flags(&sb, cur, NULL);
	add_flags(&sb, add, NULL);
	r = arena_strndup(arena, sb.buf, sb.len);
	sbuf_release(&sb);
	return r;
}

const char *sieve_flags_remove(struct arena *arena, const char *cur, const char *rm)
{
	struct sbuf sb = SBUF_INIT;
	const char *r;

	add_flags(&sb, cur, rm);
	r = arena_strndup(arena, sb.buf, sb.len);
	sbuf_release(&sb);
	return r;
}
