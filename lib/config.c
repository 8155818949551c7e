/* config: the values of the settings table, and the meaning of mailrc
 * commands (the words come from lib/mailrc.c).
 *
 * Every command is applied as soon as its line is complete, and a faulty
 * line is skipped (the parser recovers at the next one), so a load that
 * fails has applied every other line, as the header promises.  `unset
 * NAME` brings back the default (inside an account: the global value),
 * except for the settings a user switches off that way
 * (SETTING_F_UNSET_OFF: trash, record), which become empty; `set noNAME`
 * is false for a boolean and `unset` for the rest,
 * as in mailx.  A second `account NAME {` block replaces the first; a second
 * `alias NAME` adds addresses, as in mailx. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/mailrc.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One file or buffer being read. */
struct load {
	struct config *cfg;
	const char *file;	/* interned */
	char *dir;		/* base of relative `source` paths; NULL: cwd */
	int depth;
	long acc;		/* index of the open account block, or -1 */
	unsigned long acc_line, acc_col;
};

static int load_fd(struct config *cfg, const char *path, int fd, int depth);

static const char *intern_file(struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_files; i++)
		if (strcmp(cfg->files[i], name) == 0)
			return cfg->files[i];
	cfg->files = xreallocarray(cfg->files, cfg->n_files + 1, sizeof(*cfg->files));
	return cfg->files[cfg->n_files++] = xstrdup(name);
}

static char *expand_default(const struct setting *s)
{
	struct sbuf sb = SBUF_INIT;
	struct mailrc_word w = { 0 };
	unsigned char *flags;
	const char *error;

	if (*s->def == '\0')
		return NULL;
	if (s->type != SETTING_PATH)
		return xstrdup(s->def);
	flags = xcalloc(strlen(s->def) + 1, 1);
	w.text = s->def;
	w.len = strlen(s->def);
	w.flags = flags;
	if (mailrc_expand(&w, 0, true, true, &sb, &error) < 0)
		abort();	/* a bad default is a bug in the table */
	free(flags);
	return sbuf_detach(&sb, NULL);
}

struct config *config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->vals = xcalloc(settings_count, sizeof(*cfg->vals));
	cfg->defaults = xcalloc(settings_count, sizeof(*cfg->defaults));
	for (size_t i = 0; i < settings_count; i++) {
		cfg->defaults[i] = expand_default(&settings_table[i]);
		if (cfg->defaults[i] != NULL)
			cfg->vals[i].text = xstrdup(cfg->defaults[i]);
	}
	sbuf_init(&cfg->error, 0);
	sbuf_init(&cfg->scratch, 0);
	return cfg;
}

static void values_free(struct value *vals)
{
	for (size_t i = 0; i < settings_count; i++)
		free(vals[i].text);
	free(vals);
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	values_free(cfg->vals);
	for (size_t i = 0; i < settings_count; i++)
		free(cfg->defaults[i]);
	free(cfg->defaults);
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		free(cfg->accounts[i].name);
		values_free(cfg->accounts[i].vals);
	}
	free(cfg->accounts);
	for (size_t i = 0; i < cfg->n_aliases; i++) {
		struct alias *a = &cfg->aliases[i];

		free(a->name);
		for (size_t j = 0; j < a->n; j++)
			free(a->addrs[j]);
		free(a->addrs);
		sbuf_release(&a->joined);
	}
	free(cfg->aliases);
	config_uilines_free(cfg);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	sbuf_release(&cfg->error);
	sbuf_release(&cfg->scratch);
	free(cfg);
	*cfgp = NULL;
}

static int unknown_setting(struct mailrc_parser *p, const struct mailrc_word *w, const char *name)
{
	const char *s = settings_suggest(name), *no = "";

	if (s == NULL && strncmp(name, "no", 2) == 0 && (s = settings_suggest(name + 2)) != NULL)
		no = "no";
	if (s != NULL)
		return mailrc_error(p, w->line, w->col, "unknown setting '%s' (did you mean '%s%s'?)",
				    name, no, s);
	return mailrc_error(p, w->line, w->col, "unknown setting '%s'", name);
}

/* The values an assignment inside the current context changes. */
static struct value *context_vals(struct load *ld)
{
	return ld->acc < 0 ? ld->cfg->vals : ld->cfg->accounts[ld->acc].vals;
}

static void assign(struct load *ld, int i, char *text, unsigned long line)
{
	struct value *v = &context_vals(ld)[i];

	free(v->text);
	v->text = text;
	v->file = ld->file;
	v->line = line;
	v->set = true;
}

static void reset(struct load *ld, int i)
{
	struct value *v = &context_vals(ld)[i];
	const char *def = ld->cfg->defaults[i];

	free(v->text);
	v->text = ld->acc < 0 && def != NULL && !(settings_table[i].flags & SETTING_F_UNSET_OFF)
		? xstrdup(def) : NULL;
	v->file = NULL;
	v->line = 0;
	v->set = false;
}

static int account_check(struct mailrc_parser *p, struct load *ld, const struct mailrc_word *w, int i)
{
	if (ld->acc >= 0 && !(settings_table[i].flags & SETTING_F_ACCOUNT))
		return mailrc_error(p, w->line, w->col, "%s cannot be set inside an account block",
				    settings_table[i].name);
	return 0;
}

/* One word of `set`: NAME=VALUE, NAME or noNAME. */
static int set_word(struct mailrc_parser *p, struct load *ld, const struct mailrc_word *w)
{
	struct config *cfg = ld->cfg;
	const struct setting *s;
	const char *error;
	char *name, *canon;
	int i, ret = -1;

	if (w->eq == SIZE_MAX) {
		i = settings_find(w->text);
		if (i >= 0 && settings_table[i].type != SETTING_BOOL)
			return mailrc_error(p, w->line, w->col, "%s: expected a value (set %s=VALUE)",
					    w->text, w->text);
		if (i >= 0) {
			if (account_check(p, ld, w, i) < 0)
				return -1;
			assign(ld, i, xstrdup("yes"), w->line);
			return 0;
		}
		if (strncmp(w->text, "no", 2) == 0 && (i = settings_find(w->text + 2)) >= 0) {
			if (account_check(p, ld, w, i) < 0)
				return -1;
			if (settings_table[i].type == SETTING_BOOL)
				assign(ld, i, xstrdup("no"), w->line);
			else
				reset(ld, i);
			return 0;
		}
		return unknown_setting(p, w, w->text);
	}
	name = xstrndup(w->text, w->eq);
	if (*name == '\0') {
		mailrc_error(p, w->line, w->col, "set: expected NAME=VALUE");
		goto out;
	}
	if ((i = settings_find(name)) < 0) {
		unknown_setting(p, w, name);
		goto out;
	}
	if (account_check(p, ld, w, i) < 0)
		goto out;
	s = &settings_table[i];
	sbuf_reset(&cfg->scratch);
	if (mailrc_expand(w, w->eq + 1, s->type == SETTING_PATH, s->type == SETTING_PATH,
			  &cfg->scratch, &error) < 0) {
		mailrc_error(p, w->val_line, w->val_col, "%s: %s", name, error);
		goto out;
	}
	if (memchr(cfg->scratch.buf, '\0', cfg->scratch.len) != NULL) {
		mailrc_error(p, w->val_line, w->val_col, "%s: NUL byte in the value", name);
		goto out;
	}
	{
		struct sbuf err = SBUF_INIT;
		int r = settings_check(s, cfg->scratch.buf, &canon, &err, &error);

		if (r < 0)
			mailrc_error(p, w->val_line, w->val_col, "%s", error);
		sbuf_release(&err);
		if (r < 0)
			goto out;
	}
	assign(ld, i, canon, w->line);
	ret = 0;
out:
	free(name);
	return ret;
}

static int cmd_set(struct mailrc_parser *p, struct load *ld, const struct mailrc_cmd *cmd)
{
	if (cmd->argc < 2)
		return mailrc_error(p, cmd->argv[0].line, cmd->argv[0].col, "set: expected NAME=VALUE");
	for (size_t i = 1; i < cmd->argc; i++)
		if (set_word(p, ld, &cmd->argv[i]) < 0)
			return -1;
	return 0;
}

static int cmd_unset(struct mailrc_parser *p, struct load *ld, const struct mailrc_cmd *cmd)
{
	if (cmd->argc < 2)
		return mailrc_error(p, cmd->argv[0].line, cmd->argv[0].col, "unset: expected NAME");
	for (size_t j = 1; j < cmd->argc; j++) {
		const struct mailrc_word *w = &cmd->argv[j];
		int i = settings_find(w->text);

		if (i < 0)
			return unknown_setting(p, w, w->text);
		if (account_check(p, ld, w, i) < 0)
			return -1;
		reset(ld, i);
	}
	return 0;
}

/* The settings of a block that only make sense together: a POP3 account
 * has no flags or folders, so pull_after seen or move: is refused there,
 * at the line that set it, when the block closes. */
static int account_close(struct mailrc_parser *p, struct load *ld)
{
	const struct value *v = ld->cfg->accounts[ld->acc].vals;
	const struct value *pop = &v[settings_find("pop3_url")];
	const struct value *after = &v[settings_find("pull_after")];
	const char *a = after->set ? after->text : NULL;

	if (!pop->set || pop->text == NULL || a == NULL ||
	    (strcmp(a, "seen") != 0 && strncmp(a, "move:", 5) != 0))
		return 0;
	return mailrc_error(p, after->line, 1, "pull_after %s needs IMAP: a pop3_url account "
			    "takes keep or delete", a);
}

static int cmd_account(struct mailrc_parser *p, struct load *ld, const struct mailrc_cmd *cmd)
{
	struct config *cfg = ld->cfg;
	const struct mailrc_word *w = cmd->argv;
	size_t i;

	if (cmd->argc != 3 || strcmp(w[2].text, "{") != 0 || w[1].len == 0)
		return mailrc_error(p, w[0].line, w[0].col, "account: expected 'account NAME {'");
	for (i = 0; i < cfg->n_accounts; i++)
		if (strcmp(cfg->accounts[i].name, w[1].text) == 0)
			break;
	if (i == cfg->n_accounts) {
		cfg->accounts = xreallocarray(cfg->accounts, ++cfg->n_accounts, sizeof(*cfg->accounts));
		cfg->accounts[i].name = xstrdup(w[1].text);
	} else {
		values_free(cfg->accounts[i].vals);
	}
	cfg->accounts[i].vals = xcalloc(settings_count, sizeof(struct value));
	ld->acc = (long)i;
	ld->acc_line = w[0].line;
	ld->acc_col = w[0].col;
	return 0;
}

static int cmd_alias(struct mailrc_parser *p, struct load *ld, const struct mailrc_cmd *cmd)
{
	struct config *cfg = ld->cfg;
	const struct mailrc_word *w = cmd->argv;
	struct alias *a = NULL;

	if (cmd->argc < 3 || w[1].len == 0)
		return mailrc_error(p, w[0].line, w[0].col, "alias: expected 'alias NAME ADDRESS...'");
	for (size_t j = 2; j < cmd->argc; j++) {
		if (w[j].len == 0 || strpbrk(w[j].text, "\r\n") != NULL)
			return mailrc_error(p, w[j].line, w[j].col,
					    "alias %s: empty address or line break in an address", w[1].text);
	}
	for (size_t i = 0; i < cfg->n_aliases; i++)
		if (strcmp(cfg->aliases[i].name, w[1].text) == 0)
			a = &cfg->aliases[i];
	if (a == NULL) {
		cfg->aliases = xreallocarray(cfg->aliases, cfg->n_aliases + 1, sizeof(*cfg->aliases));
		a = &cfg->aliases[cfg->n_aliases++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(w[1].text);
		sbuf_init(&a->joined, 0);
		a->file = ld->file;
		a->line = w[0].line;
	}
	a->addrs = xreallocarray(a->addrs, a->n + cmd->argc - 2, sizeof(*a->addrs));
	for (size_t j = 2; j < cmd->argc; j++) {
		a->addrs[a->n++] = xstrdup(w[j].text);
		sbuf_addf(&a->joined, "%s%s", a->joined.len ? ", " : "", w[j].text);
	}
	return 0;
}

static int cmd_source(struct mailrc_parser *p, struct load *ld, const struct mailrc_cmd *cmd)
{
	struct config *cfg = ld->cfg;
	const struct mailrc_word *w = cmd->argv;
	struct sbuf path = SBUF_INIT;
	const char *error;
	int fd, ret = -1;

	if (cmd->argc != 2 || w[1].len == 0)
		return mailrc_error(p, w[0].line, w[0].col, "source: expected 'source FILE'");
	if (ld->depth + 1 >= CONFIG_SOURCE_DEPTH_MAX)
		return mailrc_error(p, w[1].line, w[1].col,
				    "source: more than %d nested files (a loop?)", CONFIG_SOURCE_DEPTH_MAX);
	if (ld->dir != NULL)
		sbuf_addf(&path, "%s/", ld->dir);
	sbuf_reset(&cfg->scratch);
	if (mailrc_expand(&w[1], 0, true, true, &cfg->scratch, &error) < 0) {
		mailrc_error(p, w[1].line, w[1].col, "source: %s", error);
		goto out;
	}
	if (cfg->scratch.buf[0] == '/')
		sbuf_reset(&path);
	sbuf_addstr(&path, cfg->scratch.buf);
	fd = open(path.buf, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		mailrc_error(p, w[1].line, w[1].col, "source: cannot open '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	ret = load_fd(cfg, path.buf, fd, ld->depth + 1);
	close(fd);
	if (ret == -2)
		mailrc_error(p, w[1].line, w[1].col, "source: %s", cfg->error.buf);
	else if (ret < 0)
		mailrc_error_str(p, cfg->error.buf);
out:
	sbuf_release(&path);
	return ret < 0 ? -1 : 0;
}

static const char *const commands[] = { "set", "unset", "account", "alias", "source",
					 "bind", "macro", "color", NULL };

static int on_command(struct mailrc_parser *p, const struct mailrc_cmd *cmd, void *ctx)
{
	struct load *ld = ctx;
	const struct mailrc_word *w = cmd->argv;
	const char *best = NULL;
	unsigned best_d = 3;

	if (strcmp(w->text, "set") == 0)
		return cmd_set(p, ld, cmd);
	if (strcmp(w->text, "unset") == 0)
		return cmd_unset(p, ld, cmd);
	if (ld->acc >= 0) {
		if (strcmp(w->text, "}") == 0 && cmd->argc == 1) {
			int r = account_close(p, ld);

			ld->acc = -1;
			return r;
		}
		if (strcmp(w->text, "account") == 0)
			return mailrc_error(p, w->line, w->col, "account blocks cannot be nested");
		return mailrc_error(p, w->line, w->col,
				    "only set, unset and '}' may appear inside an account block");
	}
	if (strcmp(w->text, "account") == 0)
		return cmd_account(p, ld, cmd);
	if (strcmp(w->text, "alias") == 0)
		return cmd_alias(p, ld, cmd);
	if (strcmp(w->text, "source") == 0)
		return cmd_source(p, ld, cmd);
	if (strcmp(w->text, "bind") == 0 || strcmp(w->text, "macro") == 0 ||
	    strcmp(w->text, "color") == 0)
		return config_cmd_ui(p, ld->cfg, cmd);
	if (strcmp(w->text, "}") == 0)
		return mailrc_error(p, w->line, w->col, "'}' without an account block");
	for (size_t i = 0; commands[i] != NULL; i++) {
		unsigned d = mailrc_distance(w->text, commands[i]);

		if (d < best_d) {
			best_d = d;
			best = commands[i];
		}
	}
	if (best != NULL && w->len > best_d)
		return mailrc_error(p, w->line, w->col, "unknown command '%s' (did you mean '%s'?)",
				    w->text, best);
	return mailrc_error(p, w->line, w->col, "unknown command '%s'", w->text);
}

/* Reads path through fd (or data when fd < 0).  Returns 0; -1 with the error
 * in cfg->error; -2 when the file cannot be read ("PATH: strerror", errno
 * kept). */
static int load_any(struct config *cfg, const char *path, int fd, const char *data, size_t len,
		    size_t chunk, int depth)
{
	struct load ld = { .cfg = cfg, .depth = depth, .acc = -1 };
	struct mailrc_parser *p;
	const char *slash = strrchr(path, '/');
	char buf[8192];
	int ret = 0, saved = 0;

	ld.file = intern_file(cfg, path);
	if (slash != NULL)
		ld.dir = slash == path ? xstrdup("") : xstrndup(path, slash - path);
	p = mailrc_new(path, on_command, &ld);
	mailrc_set_recover(p);
	if (fd < 0) {
		if (chunk == 0)
			chunk = len;
		for (size_t off = 0; ret == 0 && off < len; off += chunk)
			ret = mailrc_feed(p, data + off, len - off < chunk ? len - off : chunk);
	} else {
		ssize_t n;

		while (ret == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				saved = errno;
				ret = -2;
				break;
			}
			ret = mailrc_feed(p, buf, n);
		}
	}
	if (ret == 0)
		ret = mailrc_finish(p);
	sbuf_reset(&cfg->error);
	if (ret == -2)
		sbuf_addf(&cfg->error, "%s: %s", path, strerror(saved));
	else if (ret < 0)
		sbuf_addstr(&cfg->error, mailrc_get_error(p));
	if (ret != -2 && ld.acc >= 0) {
		sbuf_addf(&cfg->error, "%s%s:%lu:%lu: account %s: missing '}' at end of file",
			  cfg->error.len ? "\n" : "", path, ld.acc_line, ld.acc_col,
			  cfg->accounts[ld.acc].name);
		ret = -1;
	}
	mailrc_free(&p);
	free(ld.dir);
	if (ret == -2)
		errno = saved;
	return ret;
}

/* "PATH: strerror(errno)" into cfg->error; returns -2 with errno kept. */
static int load_error_errno(struct config *cfg, const char *path)
{
	int saved = errno;

	sbuf_reset(&cfg->error);
	sbuf_addf(&cfg->error, "%s: %s", path, strerror(saved));
	errno = saved;
	return -2;
}

/* Files named by `source` must be regular files, so that an input cannot
 * make loft wait on a FIFO or a terminal; the top-level file may be anything
 * the user names (-F /dev/null, -F /dev/stdin), except a directory. */
static int load_fd(struct config *cfg, const char *path, int fd, int depth)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return load_error_errno(cfg, path);
	if (S_ISDIR(st.st_mode) || (depth > 0 && !S_ISREG(st.st_mode))) {
		int saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;

		sbuf_reset(&cfg->error);
		sbuf_addf(&cfg->error, "%s: %s", path,
			  saved == EISDIR ? strerror(saved) : "not a regular file");
		errno = saved;
		return -2;
	}
	return load_any(cfg, path, fd, NULL, 0, 0, depth);
}

int config_load(struct config *cfg, const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret, saved;

	if (fd < 0) {
		load_error_errno(cfg, path);
		*error_r = cfg->error.buf;
		return -1;
	}
	ret = load_fd(cfg, path, fd, 0);
	saved = ret == -2 ? errno : 0;
	close(fd);
	errno = saved;
	*error_r = cfg->error.buf;
	return ret < 0 ? -1 : 0;
}

int config_load_chunked(struct config *cfg, const char *name, const char *data, size_t len,
			size_t chunk, const char **error_r)
{
	int ret = load_any(cfg, name, -1, data, len, chunk, 0);

	*error_r = cfg->error.buf;
	return ret < 0 ? -1 : 0;
}

int config_load_buffer(struct config *cfg, const char *name, const char *data, size_t len,
		       const char **error_r)
{
	int ret = load_any(cfg, name, -1, data, len, 0, 0);

	*error_r = cfg->error.buf;
	return ret < 0 ? -1 : 0;
}
