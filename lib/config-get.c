/* config: reading a loaded configuration -- the accessors and the dump that
 * `loft check` prints.
 *
 * The dump is itself a mailrc: values are quoted so that reading it back
 * gives them unchanged.  Paths are printed expanded and single-quoted, so a
 * second reading does not expand them again. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#include <stdlib.h>
#include <string.h>

/* The index of name; a name outside the table is a bug in the caller. */
static int must_find(const char *name)
{
	int i = settings_find(name);

	if (i < 0) {
		log_error("BUG: unknown setting '%s'", name);
		abort();
	}
	return i;
}

const char *config_get(const struct config *cfg, const char *name)
{
	return cfg->vals[must_find(name)].text;
}

bool config_bool(const struct config *cfg, const char *name)
{
	int i = must_find(name);

	if (settings_table[i].type != SETTING_BOOL)
		abort();
	return settings_number(&settings_table[i], cfg->vals[i].text) != 0;
}

long long config_int(const struct config *cfg, const char *name)
{
	int i = must_find(name);
	const struct setting *s = &settings_table[i];

	if (s->type != SETTING_INT && s->type != SETTING_DURATION)
		abort();
	return settings_number(s, cfg->vals[i].text);
}

size_t config_account_count(const struct config *cfg)
{
	return cfg->n_accounts;
}

const char *config_account_name(const struct config *cfg, size_t i)
{
	if (i >= cfg->n_accounts)
		abort();
	return cfg->accounts[i].name;
}

bool config_account_exists(const struct config *cfg, const char *name)
{
	for (size_t a = 0; a < cfg->n_accounts; a++)
		if (strcmp(cfg->accounts[a].name, name) == 0)
			return true;
	return false;
}

const char *config_account_get(const struct config *cfg, const char *account, const char *name)
{
	int i = must_find(name);

	for (size_t a = 0; a < cfg->n_accounts; a++) {
		if (strcmp(cfg->accounts[a].name, account) == 0) {
			if (cfg->accounts[a].vals[i].set)
				return cfg->accounts[a].vals[i].text;
			break;
		}
	}
	return cfg->vals[i].text;
}

long long config_account_int(const struct config *cfg, const char *account, const char *name)
{
	const struct setting *s = &settings_table[must_find(name)];

	if (s->type != SETTING_INT && s->type != SETTING_DURATION)
		abort();
	return settings_number(s, config_account_get(cfg, account, name));
}

const char *config_alias(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_aliases; i++)
		if (strcmp(cfg->aliases[i].name, name) == 0)
			return cfg->aliases[i].joined.buf;
	return NULL;
}

/* Words safe to print without quotes: no blanks, quotes, '#', '$', '~',
 * '=', '{', '}' or backslash. */
static bool is_plain(const char *v)
{
	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("_.,:/@+%-[]<>", *v)))
			return false;
	return true;
}

/* Appends v as one mailrc word that reads back as exactly v. */
static void add_quoted(struct sbuf *out, const char *v)
{
	if (v == NULL || *v == '\0') {
		sbuf_addstr(out, "''");
		return;
	}
	if (is_plain(v)) {
		sbuf_addstr(out, v);
		return;
	}
	if (strpbrk(v, "'\n\r") == NULL) {
		sbuf_addf(out, "'%s'", v);
		return;
	}
	sbuf_addch(out, '"');
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '"': case '\\': case '$': case '~':
			sbuf_addch(out, '\\');
			sbuf_addch(out, *v);
			break;
		case '\n': sbuf_addstr(out, "\\n"); break;
		case '\r': sbuf_addstr(out, "\\r"); break;
		default: sbuf_addch(out, *v);
		}
	}
	sbuf_addch(out, '"');
}

static void add_source(struct sbuf *out, const struct setting *s, const struct value *v)
{
	if (v->file == NULL)
		sbuf_addstr(out, "\t# default");
	else
		sbuf_addf(out, "\t# %s:%lu", v->file, v->line);
	sbuf_addstr(out, (s->flags & SETTING_F_UNBUILT) ? "; not built yet\n" : "\n");
}

static void add_set(struct sbuf *out, const char *indent, const struct setting *s,
		    const struct value *v)
{
	if (s->type == SETTING_BOOL) {
		bool on = v->text != NULL && strcmp(v->text, "yes") == 0;

		sbuf_addf(out, "%sset %s%s", indent, on ? "" : "no", s->name);
	} else {
		sbuf_addf(out, "%sset %s=", indent, s->name);
		add_quoted(out, v->text);
	}
	add_source(out, s, v);
}

const char *config_next_unbuilt(const struct config *cfg, size_t *pos, const char **account_r,
				const char **file_r, unsigned long *line_r)
{
	for (; *pos < settings_count * (cfg->n_accounts + 1); (*pos)++) {
		size_t i = *pos % settings_count, a = *pos / settings_count;
		const struct value *v = a == 0 ? &cfg->vals[i] : &cfg->accounts[a - 1].vals[i];

		/* An empty value asks for nothing, which is what loft does. */
		if (!(settings_table[i].flags & SETTING_F_UNBUILT) || v->file == NULL || v->text == NULL)
			continue;
		*account_r = a == 0 ? NULL : cfg->accounts[a - 1].name;
		*file_r = v->file;
		*line_r = v->line;
		(*pos)++;
		return settings_table[i].name;
	}
	return NULL;
}

void config_dump(const struct config *cfg, struct sbuf *out)
{
	for (size_t i = 0; i < settings_count; i++)
		add_set(out, "", &settings_table[i], &cfg->vals[i]);
	for (size_t a = 0; a < cfg->n_accounts; a++) {
		const struct account *acc = &cfg->accounts[a];

		sbuf_addstr(out, "\naccount ");
		add_quoted(out, acc->name);
		sbuf_addstr(out, " {\n");
		for (size_t i = 0; i < settings_count; i++)
			if (acc->vals[i].set)
				add_set(out, "\t", &settings_table[i], &acc->vals[i]);
		sbuf_addstr(out, "}\n");
	}
	if (cfg->n_aliases > 0)
		sbuf_addch(out, '\n');
	for (size_t i = 0; i < cfg->n_aliases; i++) {
		const struct alias *al = &cfg->aliases[i];

		sbuf_addstr(out, "alias ");
		add_quoted(out, al->name);
		for (size_t j = 0; j < al->n; j++) {
			sbuf_addch(out, ' ');
			add_quoted(out, al->addrs[j]);
		}
		sbuf_addf(out, "\t# %s:%lu\n", al->file, al->line);
	}
}
