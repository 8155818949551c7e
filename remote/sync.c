/* `loft sync` mirror mode: one account's folder list, then each folder
 * pair (remote/sync_folder.c), then the index.
 *
 * Folder names: the store's use '/', the server's its delimiter (Dovecot's
 * Maildir++ '.'): "Lists.a" there is "Lists/a" here.  sync_folders
 * patterns are matched against the store's form. */
#include "remote/sync-private.h"
#include "remote/remote.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/index.h"
#include "store/tag_sync.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- sync_folders patterns ---- */

/* The patterns of text: blank-separated words, "quoted" or 'quoted' ones
 * may hold blanks.  *n_r of them, malloc'd (free each and the array). */
static char **split_patterns(const char *text, size_t *n_r)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = text != NULL ? text : "";

	for (;;) {
		struct sbuf w = SBUF_INIT;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '"' || *p == '\'') {
				char q = *p++;

				while (*p != '\0' && *p != q)
					sbuf_addch(&w, *p++);
				if (*p == q)
					p++;
			} else {
				sbuf_addch(&w, *p++);
			}
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = sbuf_detach(&w, NULL);
	}
	*n_r = n;
	return v;
}

/* Whether name matches pat, where only * is special (any text, '/'
 * included): folder names hold [ ] and ? literally ("[Gmail]/Sent Mail"). */
static bool glob_match(const char *pat, const char *name)
{
	const char *star = NULL, *back = NULL;

	while (*name != '\0') {
		if (*pat == '*') {
			star = pat++;
			back = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star != NULL) {
			pat = star + 1;
			name = ++back;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Whether name is synced: it matches a pattern and the last pattern it
 * matches does not start with '!'. */
static bool wanted(char **pats, size_t n, const char *name)
{
	bool yes = false;

	for (size_t i = 0; i < n; i++) {
		bool neg = pats[i][0] == '!';

		if (glob_match(pats[i] + neg, name) ||
		    (strcasecmp(name, "INBOX") == 0 && strcasecmp(pats[i] + neg, "INBOX") == 0))
			yes = !neg;
	}
	return yes;
}

bool remote_sync_folder_wanted(const char *patterns, const char *name)
{
	size_t n;
	char **pats = split_patterns(patterns, &n);
	bool yes = wanted(pats, n, name);

	for (size_t i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
	return yes;
}

/* ---- the folder list ---- */

struct pair_name {
	char *local;		/* store name */
	char *remote;		/* server name (UTF-8) */
	bool here, there;	/* exists in the store / on the server */
};

static void note(const struct remote_sync_options *opt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct remote_sync_options *opt, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	if (opt->note == NULL)
		return;
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	opt->note(opt->ctx, sb.buf);
	sbuf_release(&sb);
}

static char *swap_delim(const char *name, char from, char to)
{
	char *s = xstrdup(name);

	if (from != to && from != '\0')
		for (char *p = s; *p != '\0'; p++)
			if (*p == from)
				*p = to;
	return s;
}

static struct pair_name *find_name(struct pair_name *v, size_t n, const char *local)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].local, local) == 0)
			return &v[i];
	return NULL;
}

/* The folder pairs to sync: both sides' folders that match the patterns. */
static int folder_pairs(struct sync_ctx *ctx, char **pats, size_t n_pats,
			struct pair_name **v_r, size_t *n_r, char *delim_r, char **error_r)
{
	struct remote_folder *rf = NULL;
	struct store_folder_info *lf = NULL;
	size_t n_rf = 0, n_lf = 0, n = 0;
	struct pair_name *v = NULL;
	const char *err;
	char delim = '/';

	if (remote_list_names(ctx->conn, &rf, &n_rf, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n_rf; i++)
		if (rf[i].delimiter != '\0') {
			delim = rf[i].delimiter;
			break;
		}
	for (size_t i = 0; i < n_rf; i++) {
		char *local;

		if (rf[i].noselect)
			continue;
		if (delim != '/' && strchr(rf[i].name, '/') != NULL) {
			note(ctx->opt, "%s: a '/' in a server folder name: not synced", rf[i].name);
			continue;
		}
		local = swap_delim(rf[i].name, delim, '/');
		if (strcasecmp(local, "INBOX") == 0) {
			free(local);
			local = xstrdup("INBOX");
		}
		if (!wanted(pats, n_pats, local)) {
			free(local);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = (struct pair_name){ .local = local, .remote = xstrdup(rf[i].name),
					     .there = true };
	}
	remote_folders_free(rf, n_rf);
	if (store_folder_list(ctx->store, &lf, &n_lf, &err) < 0) {
		*error_r = xstrdup(err);
		goto fail;
	}
	for (size_t i = 0; i < n_lf; i++) {
		struct pair_name *p = find_name(v, n, lf[i].name);

		if (p != NULL) {
			p->here = true;
			continue;
		}
		if (!wanted(pats, n_pats, lf[i].name))
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = (struct pair_name){ .local = xstrdup(lf[i].name),
					     .remote = swap_delim(lf[i].name, '/', delim),
					     .here = true };
	}
	store_folder_list_free(lf, n_lf);
	*v_r = v;
	*n_r = n;
	*delim_r = delim;
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		free(v[i].local);
		free(v[i].remote);
	}
	free(v);
	return -1;
}

static bool in_list(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/* Syncs, before the LIST, the folders synced before that are still in the
 * store: on Dovecot a SELECT that follows a LIST reads the folder afresh
 * (0.3-0.9 s for 100,000 messages), one before it does not.  Only names
 * without a '/', whose server name needs no delimiter (which only the
 * LIST tells).  A folder that fails here (the server refuses to open it:
 * deleted there?) is left to the pass after the LIST, which settles or
 * reports it.  The names synced go into *done_r (malloc'd, each too).
 * 0, or -1 when the state cannot go on (*error_r). */
static int sync_known_first(struct sync_ctx *ctx, char **pats, size_t n_pats, char ***done_r,
			    size_t *n_done_r, char **error_r)
{
	struct store_folder_info *lf = NULL;
	char **names = NULL, *why = NULL;
	size_t n = 0, n_lf = 0;
	const char *err;
	int ret = 0;

	/* Without the names or the store's list nothing is done here: the
	 * pass after the LIST does it all. */
	if (sync_folder_names(ctx->st, &names, &n, &why) < 0 ||
	    store_folder_list(ctx->store, &lf, &n_lf, &err) < 0) {
		free(why);
		why = NULL;
		n_lf = 0;
	}
	for (size_t i = 0; i < n; i++) {
		bool here = false;

		for (size_t k = 0; k < n_lf && !here; k++)
			here = strcmp(lf[k].name, names[i]) == 0;
		if (!here || strchr(names[i], '/') != NULL || !wanted(pats, n_pats, names[i]) ||
		    (ctx->opt->folder != NULL && strcmp(ctx->opt->folder, names[i]) != 0))
			continue;
		if (sync_folder_run(ctx, names[i], names[i], &why) == 0) {
			*done_r = xreallocarray(*done_r, *n_done_r + 1, sizeof(**done_r));
			(*done_r)[(*n_done_r)++] = xstrdup(names[i]);
			continue;
		}
		free(why);
		why = NULL;
		/* What the failed run began is dropped (its intents are kept). */
		sync_state_abort(ctx->st);
		if (sync_state_begin(ctx->st, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	store_folder_list_free(lf, n_lf);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* A folder on one side only: created on the other, unless the state says
 * it was synced before (so it was deleted): then reported, or with
 * --delete-folders deleted on the other side too.  1 when the pair is
 * to be synced, 0 when not, -1. */
static int settle_folder(struct sync_ctx *ctx, struct pair_name *p, char **error_r)
{
	struct sync_folder_rec rec;
	const char *err;
	int known;

	if (p->here && p->there)
		return 1;
	if ((known = sync_folder_get(ctx->st, p->local, &rec, NULL, error_r)) < 0)
		return -1;
	if (known == 1) {
		const char *gone = p->here ? "on the server" : "here";

		if (!ctx->opt->delete_folders) {
			note(ctx->opt, "%s was deleted %s since the last sync: kept on the other side "
				       "(loft sync --delete-folders deletes it)", p->local, gone);
			return 0;
		}
		if (p->here) {
			if (store_folder_delete(ctx->store, p->local, &err) < 0) {
				*error_r = xasprintf("%s: %s", p->local, err);
				return -1;
			}
		} else if (sync_imap_folder_cmd(ctx->conn, "DELETE", p->remote, error_r) < 0) {
			return -1;
		}
		note(ctx->opt, "%s was deleted %s: deleted on the other side too", p->local, gone);
		if (sync_folder_drop(ctx->st, p->local, error_r) < 0 ||
		    sync_state_commit(ctx->st, true, error_r) < 0)
			return -1;
		return 0;
	}
	if (!p->here) {
		if (store_folder_name_check(p->local, &err) < 0) {
			note(ctx->opt, "%s: not synced: %s", p->local, err);
			return 0;
		}
		if (store_folder_create(ctx->store, p->local, &err) < 0) {
			*error_r = xasprintf("%s: %s", p->local, err);
			return -1;
		}
	} else if (sync_imap_folder_cmd(ctx->conn, "CREATE", p->remote, error_r) < 0) {
		return -1;
	}
	return 1;
}

/* Keeps the failure of a folder in its record, for --status. */
static void record_error(struct sync_ctx *ctx, const char *folder, const char *error)
{
	struct sync_folder_rec rec;
	char *ignored = NULL;

	sync_state_abort(ctx->st);
	if (sync_state_begin(ctx->st, &ignored) == 0 &&
	    sync_folder_get(ctx->st, folder, &rec, NULL, &ignored) >= 0) {
		rec.last_attempt = time(NULL);
		if (sync_folder_put(ctx->st, folder, &rec, error, &ignored) == 0)
			sync_state_commit(ctx->st, true, &ignored);
	}
	free(ignored);
}

void sync_local_change(struct sync_ctx *ctx)
{
	const char *ignored;

	if (ctx->local_changed)
		return;
	ctx->local_changed = true;
	/* Before the change: a run killed after it leaves the mark, and the
	 * next sync or reader indexes what it changed.  A failure here is
	 * reported by the end's mark, which is made again. */
	index_pending_mark(store_state_dir(ctx->store), &ignored);
}

/* Keeps the outcome of reaching the account (connect, login, folder
 * list) in its record, for --status: error NULL is a success, which
 * clears the last error.  Logged by nobody: the caller reports the error. */
static void record_account(struct sync_ctx *ctx, const char *error)
{
	struct sync_folder_rec rec;
	char *ignored = NULL;

	sync_state_abort(ctx->st);
	if (sync_state_begin(ctx->st, &ignored) == 0 &&
	    sync_account_get(ctx->st, &rec, NULL, &ignored) >= 0) {
		rec.last_attempt = time(NULL);
		if (error == NULL)
			rec.last_success = rec.last_attempt;
		if (sync_account_put(ctx->st, &rec, error, &ignored) == 0)
			sync_state_commit(ctx->st, true, &ignored);
	}
	free(ignored);
}

void sync_note_quiet(struct sync_ctx *ctx, const char *local)
{
	ctx->quiet = xreallocarray(ctx->quiet, ctx->n_quiet + 1, sizeof(*ctx->quiet));
	ctx->quiet[ctx->n_quiet++] = xstrdup(local);
}

/* The account reached (error NULL) when its record shows an error: at
 * once, so that --status does not show the old error through a long run;
 * otherwise with the run's last commit (record_quiet). */
static void account_reached(struct sync_ctx *ctx)
{
	struct sync_folder_rec rec;
	char *last_error = NULL, *ignored = NULL;

	if (sync_account_get(ctx->st, &rec, &last_error, &ignored) >= 0 && last_error == NULL)
		ctx->account_reached = true;
	else
		record_account(ctx, NULL);
	free(last_error);
	free(ignored);
}

/* The run's last commit: the successes sync_note_quiet and
 * account_reached kept.  A failure loses only those times. */
static void record_quiet(struct sync_ctx *ctx)
{
	struct sync_folder_rec rec;
	char *ignored = NULL;
	int64_t now = time(NULL);
	bool ok;

	if (!ctx->account_reached && ctx->n_quiet == 0)
		return;
	sync_state_abort(ctx->st);
	ok = sync_state_begin(ctx->st, &ignored) == 0;
	if (ok && ctx->account_reached) {
		ok = sync_account_get(ctx->st, &rec, NULL, &ignored) >= 0;
		rec.last_attempt = rec.last_success = now;
		ok = ok && sync_account_put(ctx->st, &rec, NULL, &ignored) == 0;
	}
	for (size_t i = 0; ok && i < ctx->n_quiet; i++) {
		ok = sync_folder_get(ctx->st, ctx->quiet[i], &rec, NULL, &ignored) >= 0;
		rec.last_attempt = rec.last_success = now;
		ok = ok && sync_folder_put(ctx->st, ctx->quiet[i], &rec, NULL, &ignored) == 0;
	}
	if (ok)
		sync_state_commit(ctx->st, false, &ignored);
	sync_state_abort(ctx->st);
	free(ignored);
}

static enum remote_sync_result fail_with(enum remote_sync_result r, char **error_r,
					 const char *account, char *why)
{
	*error_r = xasprintf("account %s: %s", account, why);
	free(why);
	return r;
}

enum remote_sync_result remote_sync_mirror(const struct config *cfg, const char *account,
					   const struct remote_sync_options *opt,
					   struct remote_sync_stats *stats_r, char **error_r)
{
	struct remote_sync_stats stats = { 0 };
	struct sync_ctx ctx = { .opt = opt, .stats = &stats };
	struct store_settings set = {
		.root = config_get(cfg, "folder"),
		.state_dir = config_get(cfg, "state_dir"),
		.notmuch_db = config_get(cfg, "notmuch_database"),
	};
	const char *expunge = config_account_get(cfg, account, "sync_expunge");
	struct remote_account acct;
	struct pair_name *names = NULL;
	size_t n_names = 0, n_pats = 0;
	char **pats = split_patterns(config_account_get(cfg, account, "sync_folders"), &n_pats);
	enum remote_sync_result ret = REMOTE_SYNC_TEMP;
	char *why = NULL, *first_error = NULL, delim, **done = NULL;
	size_t n_done = 0;
	const char *err;

	ctx.index_root = set.root;
	ctx.index_db = set.notmuch_db;
	ctx.expunge_here = expunge == NULL || !strcmp(expunge, "both") || !strcmp(expunge, "local");
	ctx.expunge_there = expunge == NULL || !strcmp(expunge, "both") ||
			    !strcmp(expunge, "remote");
	if (remote_account_load(cfg, account, &acct, &why) < 0) {
		ret = fail_with(REMOTE_SYNC_UNAVAILABLE, error_r, account, why);
		goto out_pats;
	}
	if (store_open(&set, STORE_OPEN_CREATE, &ctx.store, &err) < 0) {
		ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, xstrdup(err));
		goto out_acct;
	}
	if (sync_state_open(store_state_dir(ctx.store), account, &ctx.st, &why) < 0) {
		ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, why);
		goto out_store;
	}
	if ((ctx.conn = remote_connect(&acct, &why)) == NULL) {
		record_account(&ctx, why);
		ret = fail_with(strncmp(why, "cannot load", 11) == 0 ? REMOTE_SYNC_UNAVAILABLE
								      : REMOTE_SYNC_TEMP,
				error_r, account, why);
		goto out_state;
	}
	/* Tags set since the last pass (by loft's client, `notmuch tag`...)
	 * become the store's keywords before the folders are compared. */
	if (tag_sync_store(ctx.store, NULL, &err) < 0)
		note(opt, "tags were not passed on as keywords: %s", err);
	if (sync_state_begin(ctx.st, &why) < 0 ||
	    sync_known_first(&ctx, pats, n_pats, &done, &n_done, &why) < 0 ||
	    folder_pairs(&ctx, pats, n_pats, &names, &n_names, &delim, &why) < 0) {
		record_account(&ctx, why);
		ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, why);
		goto out_conn;
	}
	account_reached(&ctx);
	for (size_t i = 0; i < n_names; i++) {
		if ((opt->folder != NULL && strcmp(names[i].local, opt->folder) != 0) ||
		    in_list(done, n_done, names[i].local))
			continue;
		int go = settle_folder(&ctx, &names[i], &why);

		if (go == 1 && sync_folder_run(&ctx, names[i].local, names[i].remote, &why) == 0)
			continue;
		if (go == 0)
			continue;
		record_error(&ctx, names[i].local, why);
		if (first_error == NULL)
			first_error = why;
		else
			free(why);
		why = NULL;
	}
	record_quiet(&ctx);
	ret = REMOTE_SYNC_OK;
	if (first_error != NULL) {
		ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, first_error);
		first_error = NULL;
	}
out_conn:
	remote_close(&ctx.conn);
out_state:
	sync_state_close(&ctx.st);
	sync_indexer_finish(&ctx.indexer);
	sync_index_release(&ctx);
	/* New and changed mail is indexed once, at the end, the way `loft
	 * deliver` leaves it: the mark, then the catch-up (which finds what
	 * the indexer did known).  A mark with no change this run is one a
	 * killed run left (sync_local_change): caught up too. */
	{
		const char *state = store_state_dir(ctx.store);

		if ((ctx.local_changed && index_pending_mark(state, &err) < 0) ||
		    index_catch_up(set.root, set.notmuch_db, state, &err) < 0)
			note(opt, "the index was not brought up to date: %s (loft index does it)", err);
		else if (ctx.local_changed && tag_sync_store(ctx.store, NULL, &err) < 0)
			note(opt, "keywords were not passed on as tags: %s (loft index does it)", err);
	}
out_store:
	store_close(&ctx.store);
out_acct:
	remote_account_clear(&acct);
out_pats:
	for (size_t i = 0; i < n_names; i++) {
		free(names[i].local);
		free(names[i].remote);
	}
	free(names);
	for (size_t i = 0; i < n_pats; i++)
		free(pats[i]);
	free(pats);
	for (size_t i = 0; i < ctx.n_quiet; i++)
		free(ctx.quiet[i]);
	free(ctx.quiet);
	for (size_t i = 0; i < n_done; i++)
		free(done[i]);
	free(done);
	if (stats_r != NULL)
		*stats_r = stats;
	return ret;
}

static void add_time(struct sbuf *out, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0) {
		sbuf_addstr(out, "never");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	sbuf_addstr(out, buf);
}

/* "  NAME: last success T[, last error T: TEXT]" without the newline;
 * frees *last_error. */
static void add_outcome(struct sbuf *out, const char *name, const struct sync_folder_rec *rec,
			char **last_error)
{
	sbuf_addf(out, "  %s: last success ", name);
	add_time(out, rec->last_success);
	if (*last_error != NULL) {
		sbuf_addstr(out, ", last error ");
		add_time(out, rec->last_attempt);
		sbuf_addf(out, ": %s", *last_error);
	}
	free(*last_error);
	*last_error = NULL;
}

/* What waits in the store folder for the next sync: *new_r messages not
 * paired (to upload), *changed_r paired ones whose flags or keywords are
 * not the ones both sides agreed on (to push), *gone_r pairs whose message left the
 * store (an expunge to apply).  pairs: by luid, as sync_pairs_load gives
 * them.  0, or -1 (the folder cannot be opened). */
static int store_pending(struct store *store, const char *folder,
			 const struct sync_folder_rec *rec, const struct sync_pair *pairs,
			 size_t np, size_t *new_r, size_t *changed_r, size_t *gone_r)
{
	struct store_folder *f = NULL;
	size_t k = 0, n;
	const char *err;
	bool same;

	*new_r = *changed_r = *gone_r = 0;
	if (store_folder_open(store, folder, &f, &err) < 0)
		return -1;
	/* Pairs mean these messages only while the UIDVALIDITY is the same. */
	same = rec->local_uidvalidity == store_folder_uidvalidity(f);
	n = store_folder_count(f);
	for (size_t i = 0; i < n; i++) {
		const struct store_msg *m = store_folder_msg(f, i);

		while (same && k < np && pairs[k].luid != 0 && pairs[k].luid < m->uid) {
			*gone_r += pairs[k].ruid != 0;
			k++;
		}
		if (same && k < np && pairs[k].luid == m->uid) {
			*changed_r += pairs[k].ruid != 0 &&
				      ((m->flags & SYNC_FLAGS_MASK) != pairs[k].flags ||
				       !sync_keywords_equal(m->keywords, pairs[k].keywords));
			k++;
		} else {
			(*new_r)++;
		}
	}
	for (; same && k < np && pairs[k].luid != 0; k++)
		*gone_r += pairs[k].ruid != 0;
	store_folder_close(&f);
	return 0;
}

/* One folder's line: its outcome, the pairs, and what waits for the next
 * sync as far as this side knows without a connection (store_pending)
 * plus the copies left in flight by an interrupted run.  Frees
 * *last_error.  0, or -1. */
static int folder_status(struct sync_state *st, struct store *store, const char *folder,
			 const struct sync_folder_rec *rec, char **last_error, struct sbuf *out,
			 char **error_r)
{
	struct sync_pair *pairs = NULL;
	uint32_t *intents = NULL;
	size_t np = 0, paired = 0, n_down = 0, n_up = 0, fresh, changed, gone;
	int opened;

	if (sync_pairs_load(st, folder, &pairs, &np, error_r) < 0)
		goto fail;
	for (size_t k = 0; k < np; k++)
		paired += pairs[k].luid != 0 && pairs[k].ruid != 0;
	opened = store_pending(store, folder, rec, pairs, np, &fresh, &changed, &gone);
	sync_pairs_free(pairs, np);
	if (sync_intents(st, folder, 'D', &intents, &n_down, error_r) < 0)
		goto fail;
	free(intents);
	if (sync_intents(st, folder, 'U', &intents, &n_up, error_r) < 0)
		goto fail;
	free(intents);
	add_outcome(out, folder, rec, last_error);
	sbuf_addf(out, ", %zu messages paired, %zu kept on one side", paired, np - paired);
	if (opened == 0)
		sbuf_addf(out, ", pending here: %zu new, %zu changed, %zu expunged", fresh,
			  changed, gone);
	else
		sbuf_addstr(out, ", pending here: unknown (the store folder cannot be opened)");
	sbuf_addf(out, ", %zu in flight\n", n_down + n_up);
	return 0;
fail:
	free(*last_error);
	*last_error = NULL;
	return -1;
}

enum remote_sync_result remote_sync_status(const struct config *cfg, const char *account,
					   struct sbuf *out, char **error_r)
{
	struct store_settings set = {
		.root = config_get(cfg, "folder"),
		.state_dir = config_get(cfg, "state_dir"),
		.notmuch_db = config_get(cfg, "notmuch_database"),
	};
	const char *mode = config_account_get(cfg, account, "sync"), *err;
	struct store *store = NULL;
	struct sync_state *st = NULL;
	struct sync_folder_rec rec;
	enum remote_sync_result ret = REMOTE_SYNC_TEMP;
	char **names = NULL, *why = NULL, *last_error = NULL;
	size_t n = 0;

	if (store_open(&set, 0, &store, &err) < 0)
		return fail_with(REMOTE_SYNC_TEMP, error_r, account, xstrdup(err));
	if (sync_state_open_read(store_state_dir(store), account, &st, &why) < 0 ||
	    sync_state_begin(st, &why) < 0 || sync_folder_names(st, &names, &n, &why) < 0 ||
	    sync_account_get(st, &rec, &last_error, &why) < 0) {
		ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, why);
		goto done;
	}
	sbuf_addf(out, "%s (sync=%s): %zu folders\n", account, mode ? mode : "off", n);
	if (rec.last_attempt != 0) {
		add_outcome(out, "(account)", &rec, &last_error);
		sbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < n; i++) {
		if (sync_folder_get(st, names[i], &rec, &last_error, &why) < 0 ||
		    folder_status(st, store, names[i], &rec, &last_error, out, &why) < 0) {
			ret = fail_with(REMOTE_SYNC_TEMP, error_r, account, why);
			goto done;
		}
	}
	ret = REMOTE_SYNC_OK;
done:
	free(last_error);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	sync_state_close(&st);
	store_close(&store);
	return ret;
}
