/* `loft index`, `loft search` and `loft tag`: the notmuch index from the
 * shell.  The work is in store/index.c; this file parses arguments, draws
 * progress and formats results. */
#include "client/commands.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/index.h"
#include "store/store.h"
#include "store/tag_sync.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* The `folder` setting with a leading ~ expanded (caller frees). */
static char *mail_root(const struct loft_ctx *ctx)
{
	const char *folder = config_get(ctx->cfg, "folder");
	const char *home = getenv("HOME");

	if (folder == NULL || *folder == '\0')
		folder = "~/Mail";
	if (folder[0] == '~' && (folder[1] == '/' || folder[1] == '\0') && home)
		return xasprintf("%s%s", home, folder + 1);
	return xstrdup(folder);
}

static int open_index(const struct loft_ctx *ctx, const char *cmd, bool writable,
		      struct index **ix_r)
{
	const char *db = config_get(ctx->cfg, "notmuch_database");
	const char *error;
	char *root = mail_root(ctx);
	int ret = 0;

	if (index_open(root, db, writable, ix_r, &error) < 0) {
		fprintf(stderr, "loft: %s: %s\n", cmd, error);
		ret = -1;
	}
	free(root);
	return ret;
}

/* Deliveries by `loft deliver` left for the index (index_pending_mark()):
 * taken here and scanned in before a search or a tag change reads the
 * index.  A scan that cannot run leaves the mark for the next command. */
static char *state_dir(const struct loft_ctx *ctx)
{
	const char *state = config_get(ctx->cfg, "state_dir");
	char *root = mail_root(ctx);
	char *dir = state && *state ? xstrdup(state) : xasprintf("%s/.loft", root);

	free(root);
	return dir;
}

static void catch_up(const struct loft_ctx *ctx, const char *cmd)
{
	char *dir = state_dir(ctx);
	char *root = mail_root(ctx);
	const char *error;

	if (index_catch_up(root, config_get(ctx->cfg, "notmuch_database"), dir, &error) < 0)
		fprintf(stderr, "loft: %s: %s\n", cmd, error);
	free(root);
	free(dir);
}

/* The tags carried as IMAP keywords passed on to the store, and the
 * store's keywords to the tags (store/tag_sync.h), with the writer ix. */
static int carry_tags(const struct loft_ctx *ctx, struct index *ix, const char *cmd)
{
	char *root = mail_root(ctx);
	struct store_settings set = {
		.root = root,
		.state_dir = config_get(ctx->cfg, "state_dir"),
		.notmuch_db = config_get(ctx->cfg, "notmuch_database"),
	};
	struct store *store = NULL;
	const char *error;
	int ret = -1;

	if (store_open(&set, 0, &store, &error) == 0 &&
	    tag_sync_run(store, ix, NULL, &error) == 0)
		ret = 0;
	else
		fprintf(stderr, "loft: %s: tags to keywords: %s\n", cmd, error);
	store_close(&store);
	free(root);
	return ret;
}

/* ---- loft index ---- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Files and folders the scan skipped or complained about are printed
 * after it (the first NOTES_SHOWN), or each as it comes with --verbose. */
#define NOTES_SHOWN 10

struct progress_state {
	bool tty;
	bool verbose;
	double last_draw;
	size_t last_done;
	char *notes[NOTES_SHOWN];
	size_t n_notes;
};

static void fmt_duration(char *buf, size_t size, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static bool show_progress(void *ctx, const struct index_progress *p)
{
	struct progress_state *ps = ctx;
	bool end = p->done == p->total;
	double rate = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
	char left[32];

	if (stop_signal)
		return false;
	if (p->total == 0)
		return true;
	if (ps->tty) {
		/* One line, redrawn at most ten times a second. */
		if (!end && p->elapsed - ps->last_draw < 0.1)
			return true;
		int width = 30, fill = (int)((double)width * (double)p->done / (double)p->total);

		fmt_duration(left, sizeof(left),
			     rate > 0 ? (double)(p->total - p->done) / rate : 0);
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu %3d%% %.0f msg/s %s left\033[K",
			fill, "##############################", width - fill, "", p->done,
			p->total, (int)(100.0 * (double)p->done / (double)p->total), rate, left);
		if (end)
			fputs("\r\033[K", stderr);
		fflush(stderr);
	} else if (p->elapsed - ps->last_draw >= 5.0 && !end) {
		fmt_duration(left, sizeof(left),
			     rate > 0 ? (double)(p->total - p->done) / rate : 0);
		fprintf(stderr, "loft: index: %zu/%zu messages, %.0f msg/s, %s left\n", p->done,
			p->total, rate, left);
	} else {
		return true;
	}
	ps->last_draw = p->elapsed;
	return true;
}

static void show_note(void *ctx, const char *path, bool skipped, const char *why)
{
	struct progress_state *ps = ctx;
	char *line = xasprintf("loft: index: %s: %s %s\n", path,
			       skipped ? "skipped:" : "indexed, but", why);

	if (ps->verbose) {
		fprintf(stderr, "%s%s", ps->tty ? "\r\033[K" : "", line);
		free(line);
	} else if (ps->n_notes < NOTES_SHOWN) {
		ps->notes[ps->n_notes++] = line;
	} else {
		free(line);
	}
}

static void print_notes(struct progress_state *ps, const struct index_scan_result *res)
{
	size_t total = res->skipped + res->unindexable + res->warnings;

	for (size_t i = 0; i < ps->n_notes; i++) {
		fputs(ps->notes[i], stderr);
		free(ps->notes[i]);
	}
	if (!ps->verbose && total > ps->n_notes)
		fprintf(stderr, "loft: index: ... and %zu more: `loft index --full --verbose` "
				"lists them all\n", total - ps->n_notes);
}

static const char index_usage[] = "usage: loft index [--full] [--verbose]\n";

int cmd_index(struct loft_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct progress_state ps = { .tty = isatty(2) != 0 };
	struct index_scan_result res;
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec t0, t1;
	struct index *ix;
	const char *error;
	bool full = false;
	double secs;
	int c, ret;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (c == 'f') {
			full = true;
		} else if (c == 'v') {
			ps.verbose = true;
		} else {
			fputs(index_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fputs(index_usage, stderr);
		return EX_USAGE;
	}
	/* Interruptible: stop at the next message, keep what was done. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (open_index(ctx, "index", true, &ix) < 0)
		return EX_UNAVAILABLE;
	/* This scan is the one deferred deliveries wait for. */
	char *dir = state_dir(ctx);

	index_pending_take(dir);
	free(dir);
	ret = index_scan(ix, full, show_progress, show_note, &ps, &res, &error);
	if (ps.tty)
		fputs("\r\033[K", stderr);
	print_notes(&ps, &res);
	if (ret < 0)
		fprintf(stderr, "loft: index: %s\n", error);
	else if (!res.interrupted && carry_tags(ctx, ix, "index") < 0)
		ret = -1;
	index_close(&ix);	/* commits */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (ret < 0)
		return EX_SOFTWARE;
	if (res.interrupted) {
		fprintf(stderr, "loft: index: interrupted after %zu messages; "
				"`loft index` goes on from there\n", res.added);
	}
	if (res.removed)
		printf("removed %zu file names\n", res.removed);
	if (res.skipped)
		printf("skipped %zu files that are not mail\n", res.skipped);
	if (res.unindexable)
		printf("skipped %zu files or folders that notmuch cannot index or read\n",
		       res.unindexable);
	if (res.warnings)
		printf("indexed %zu files with warnings\n", res.warnings);
	printf("indexed %zu messages in %.2f s (%.0f msg/s)\n", res.added, secs,
	       secs > 0 ? (double)res.added / secs : 0.0);
	fflush(stdout);
	return res.interrupted ? 128 + (stop_signal ? stop_signal : SIGINT) : EX_OK;
}

/* ---- loft search ---- */

enum output { OUT_SUMMARY, OUT_THREADS, OUT_FILES, OUT_JSON };

struct search_state {
	enum output out;
	time_t now;
	size_t n;
};

/* As notmuch's notmuch_time_relative_date(). */
static void relative_date(char *buf, size_t size, time_t then, time_t now)
{
	struct tm tm, now_tm;
	long delta = (long)(now - then);

	localtime_r(&then, &tm);
	localtime_r(&now, &now_tm);
	if (then > now)
		snprintf(buf, size, "the future");
	else if (delta > 180L * 86400)
		strftime(buf, size, "%Y-%m-%d", &tm);
	else if (delta < 3600)
		snprintf(buf, size, "%ld mins. ago", delta / 60);
	else if (delta <= 7L * 86400 && tm.tm_wday == now_tm.tm_wday && delta < 86400)
		strftime(buf, size, "Today %H:%M", &tm);
	else if (delta <= 7L * 86400 && (now_tm.tm_wday + 7 - tm.tm_wday) % 7 == 1)
		strftime(buf, size, "Yest. %H:%M", &tm);
	else if (delta <= 7L * 86400 && tm.tm_wday != now_tm.tm_wday)
		strftime(buf, size, "%a. %H:%M", &tm);
	else
		strftime(buf, size, "%B %d", &tm);
}

/* A string from the index as a JSON literal (NULL as ""). */
static void json_str(struct sbuf *out, const char *s)
{
	json_escape(out, s ? s : "", s ? strlen(s) : 0);
}

/* A field from the index on the summary line, sanitised (lib/sanitize.h). */
static void text_str(struct sbuf *out, const char *s)
{
	sanitize_add(out, s, s ? strlen(s) : 0, SANITIZE_LINE);
}

static void maybe_flush(struct search_state *st)
{
	/* Streamed: the first results show at once, then in batches. */
	if (++st->n <= 50 || st->n % 256 == 0)
		fflush(stdout);
}

static int print_thread(void *ctx, const struct index_thread *t)
{
	struct search_state *st = ctx;
	struct sbuf out = SBUF_INIT;
	char date[64];

	relative_date(date, sizeof(date), (time_t)t->newest, st->now);
	switch (st->out) {
	case OUT_THREADS:
		sbuf_addstr(&out, "thread:");
		text_str(&out, t->thread_id);
		sbuf_addch(&out, '\n');
		break;
	case OUT_JSON:
		sbuf_addstr(&out, st->n ? ",\n{\"thread\": " : "[{\"thread\": ");
		json_str(&out, t->thread_id);
		sbuf_addf(&out, ", \"timestamp\": %lld, \"date_relative\": ", (long long)t->newest);
		json_str(&out, date);
		sbuf_addf(&out, ", \"matched\": %d, \"total\": %d, \"authors\": ", t->matched,
			  t->total);
		json_str(&out, t->authors);
		sbuf_addstr(&out, ", \"subject\": ");
		json_str(&out, t->subject);
		sbuf_addstr(&out, ", \"tags\": [");
		for (size_t i = 0; i < t->n_tags; i++) {
			if (i)
				sbuf_addstr(&out, ", ");
			json_str(&out, t->tags[i]);
		}
		sbuf_addstr(&out, "]}");
		break;
	default:
		sbuf_addstr(&out, "thread:");
		text_str(&out, t->thread_id);
		sbuf_addf(&out, " %12s [%d/%d] ", date, t->matched, t->total);
		text_str(&out, t->authors);
		sbuf_addstr(&out, "; ");
		text_str(&out, t->subject);
		sbuf_addstr(&out, " (");
		for (size_t i = 0; i < t->n_tags; i++) {
			if (i)
				sbuf_addch(&out, ' ');
			text_str(&out, t->tags[i]);
		}
		sbuf_addstr(&out, ")\n");
	}
	fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&out);
	maybe_flush(st);
	return ferror(stdout) != 0;	/* stop on a closed pipe */
}

static int print_file(void *ctx, const char *path)
{
	printf("%s\n", path);
	maybe_flush(ctx);
	return ferror(stdout) != 0;
}

/* The remaining arguments joined by spaces (caller frees). */
static char *join_args(int argc, char **argv)
{
	struct sbuf sb = SBUF_INIT;

	for (int i = 0; i < argc; i++) {
		if (i)
			sbuf_addch(&sb, ' ');
		sbuf_addstr(&sb, argv[i]);
	}
	return sbuf_detach(&sb, NULL);
}

static const char search_usage[] =
	"usage: loft search [--output=summary|threads|files|json] [--limit N] QUERY...\n";

int cmd_search(struct loft_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct search_state st = { .out = OUT_SUMMARY, .now = time(NULL) };
	struct index *ix;
	const char *error;
	unsigned long limit = 0;
	char *query, *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "summary") == 0)
				st.out = OUT_SUMMARY;
			else if (strcmp(optarg, "threads") == 0)
				st.out = OUT_THREADS;
			else if (strcmp(optarg, "files") == 0)
				st.out = OUT_FILES;
			else if (strcmp(optarg, "json") == 0)
				st.out = OUT_JSON;
			else {
				fprintf(stderr, "loft: search: unknown output '%s'\n%s", optarg,
					search_usage);
				return EX_USAGE;
			}
			break;
		case 'l':
			errno = 0;
			limit = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-') {
				fprintf(stderr, "loft: search: bad --limit '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		default:
			fputs(search_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(search_usage, stderr);
		return EX_USAGE;
	}
	catch_up(ctx, "search");
	if (open_index(ctx, "search", false, &ix) < 0)
		return EX_UNAVAILABLE;
	query = join_args(argc - optind, argv + optind);
	if (st.out == OUT_FILES)
		ret = index_search_files(ix, query, limit, print_file, &st, &error);
	else
		ret = index_search_threads(ix, query, limit, print_thread, &st, &error);
	if (st.out == OUT_JSON && ret == 0)
		fputs(st.n ? "]\n" : "[]\n", stdout);
	fflush(stdout);
	if (ret < 0) {
		fprintf(stderr, "loft: search: %s\n", error);
		ret = index_error_is_query(ix) ? EX_DATAERR : EX_SOFTWARE;
	}
	free(query);
	index_close(&ix);
	return ret;
}

/* ---- loft tag ---- */

static const char tag_usage[] = "usage: loft tag +TAG|-TAG... [--] QUERY...\n";

int cmd_tag(struct loft_ctx *ctx, int argc, char **argv)
{
	const char **add = xcalloc((size_t)argc, sizeof(*add));
	const char **rm = xcalloc((size_t)argc, sizeof(*rm));
	size_t n_add = 0, n_rm = 0;
	struct index *ix = NULL;
	const char *error;
	char *query = NULL;
	int i, ret = EX_OK;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if ((argv[i][0] != '+' && argv[i][0] != '-') )
			break;
		if (argv[i][1] == '\0') {
			fprintf(stderr, "loft: tag: empty tag name in '%s'\n", argv[i]);
			ret = EX_USAGE;
			goto out;
		}
		if (argv[i][0] == '+')
			add[n_add++] = argv[i] + 1;
		else
			rm[n_rm++] = argv[i] + 1;
	}
	if (i >= argc || n_add + n_rm == 0) {
		fputs(tag_usage, stderr);
		ret = EX_USAGE;
		goto out;
	}
	catch_up(ctx, "tag");
	if (open_index(ctx, "tag", true, &ix) < 0) {
		ret = EX_UNAVAILABLE;
		goto out;
	}
	query = join_args(argc - i, argv + i);
	if (index_tag(ix, query, add, n_add, rm, n_rm, NULL, &error) < 0) {
		fprintf(stderr, "loft: tag: %s\n", error);
		ret = index_error_is_query(ix) ? EX_DATAERR : EX_SOFTWARE;
	} else if (carry_tags(ctx, ix, "tag") < 0) {
		ret = EX_SOFTWARE;
	}
out:
	index_close(&ix);
	free(query);
	free(add);
	free(rm);
	return ret;
}
