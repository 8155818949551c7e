/* The delivery agent: loop check, duplicate check, Sieve, store appends.
 *
 * Order matters for "nothing accepted is lost": every failure before the
 * first append is reported as temporary or permanent to the caller (the
 * queue retries or bounces); after an append the copy is fsynced, and a
 * later failure for another folder is temporary with a token in the stored
 * copies, so the retry skips the folders that already have it. */
#include "localmta/deliver.h"
#include "localmta/deliver-private.h"
#include "localmta/deliver_batch.h"
#include <stdarg.h>
#include "localmta/queue.h"
#include "localmta/sendmail-private.h"
#include "localmta/sieve.h"
#include "store/index.h"
#include "store/message.h"
#include "store/store.h"

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SIEVE_MAX_BYTES (1024 * 1024)
#define MAX_HOPS 50		/* Received + Delivered-To lines before "loop" */
#define TOKEN_HEADER "X-Loft-Delivery"

struct deliver {
	const struct config *cfg;
	struct store *store;
	struct queue *queue;		/* for redirects; may be NULL */
	struct sieve_script *script;	/* NULL: keep everything */
	char *dup_file;			/* duplicate log, or NULL when off */
	char *pending_dir;		/* deferred indexing: mark here, or NULL */
	int64_t dup_window;
	bool queued;			/* a redirect was queued */
	struct deliver_batch *batch;	/* appends go there (deliver_batch.h) */
	bool files_only;		/* no indexing now: add files, not state */
};

/* Why mail cannot be written into the INBOX maildir under root (ROOT/INBOX,
 * or ROOT itself as Maildir++ has it), or NULL.  A store that cannot take
 * mail otherwise fails first on the notmuch write lock, and that message
 * blames the index instead of the maildir.  Caller frees. */
static char *inbox_unwritable(const char *root)
{
	static const char *const subs[] = { "tmp", "new" };
	char *inbox = path_join(root, "INBOX"), *why = NULL;

	if (access(inbox, F_OK) < 0) {
		free(inbox);
		inbox = xstrdup(root);
	}
	for (size_t i = 0; i < 2 && why == NULL; i++) {
		char *d = path_join(inbox, subs[i]);

		if (access(d, W_OK) < 0 && errno != ENOENT)
			why = xasprintf("%s: cannot deliver into this maildir: %s", d,
					strerror(errno));
		free(d);
	}
	free(inbox);
	return why;
}

/* The store, creating the root and INBOX, as the notmuch writer when
 * index.  0, or -1 with *error_r (malloc'd). */
static int open_store(const struct config *cfg, bool index, struct store **store_r,
		      char **error_r)
{
	const char *root = config_get(cfg, "folder");
	struct store_settings set = {
		.root = root, .state_dir = config_get(cfg, "state_dir"),
		.notmuch_db = config_get(cfg, "notmuch_database"),
	};
	const char *err;

	if (store_open(&set, STORE_OPEN_CREATE | (index ? STORE_OPEN_INDEX : 0), store_r,
		       &err) < 0) {
		char *why = root ? inbox_unwritable(root) : NULL;

		*error_r = why ? why : xstrdup(err);
		return -1;
	}
	return 0;
}

int deliver_open(const struct config *cfg, struct queue *q, bool defer_index,
		 struct deliver **agent_r, char **error_r)
{
	struct deliver *a = xcalloc(1, sizeof(*a));
	const char *root = config_get(cfg, "folder");
	const char *state = config_get(cfg, "state_dir");
	const char *script = config_get(cfg, "sieve");
	bool index = config_bool(cfg, "index_on_delivery");

	a->cfg = cfg;
	a->queue = q;
	if (open_store(cfg, index && !defer_index, &a->store, error_r) < 0) {
		free(a);
		return -1;
	}
	a->files_only = !(index && !defer_index);
	if (script && *script) {
		struct sbuf sb = SBUF_INIT;

		if (sbuf_read_file(&sb, script, SIEVE_MAX_BYTES) == 0) {
			char *cerr;

			if (sieve_compile(script, sb.buf, sb.len, &a->script, &cerr) < 0) {
				/* Mail keeps flowing into INBOX while the script is fixed. */
				log_error("sieve: %s (delivering everything to INBOX)", cerr);
				free(cerr);
			}
		} else if (errno != ENOENT) {
			log_error("sieve: %s: %s (delivering everything to INBOX)", script,
				  strerror(errno));
		}
		sbuf_release(&sb);
	}
	char *dir = state && *state ? xstrdup(state) : path_join(root, ".loft");

	a->dup_window = config_int(cfg, "duplicate_window");
	if (a->dup_window > 0)
		a->dup_file = path_join(dir, "duplicates");
	if (index && defer_index)
		a->pending_dir = dir;
	else
		free(dir);
	*agent_r = a;
	return 0;
}

void deliver_close(struct deliver **agentp)
{
	struct deliver *a = *agentp;

	if (a == NULL)
		return;
	sieve_script_free(&a->script);
	store_close(&a->store);
	free(a->dup_file);
	free(a->pending_dir);
	free(a);
	*agentp = NULL;
}

static void answer(char **answer_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void answer(char **answer_r, const char *fmt, ...)
{
	va_list ap;
	struct sbuf sb = SBUF_INIT;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(*answer_r);
	*answer_r = sbuf_detach(&sb, NULL);
}

/* The line ending the message uses, so added headers match it. */
static const char *eol_of(const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);

	return nl && nl > data && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Builds the stored copy: trace headers on top of the message as received.
 *
 * Input whose body starts with no blank line before it ("echo hi | loft
 * deliver", or a bare body sent to the MX) would be stored as a file that
 * notmuch rejects ("non-mail file").  Refusing it (65) would bounce the
 * output of cron jobs and scripts, which procmail, maildrop and dovecot-lda
 * all store; so it gets what `loft sendmail` gives such input: the blank
 * line, and From (the envelope sender), Date and Message-ID if missing. */
static void build_copy(const struct deliver *a, const struct deliver_request *req,
		       struct sbuf *out)
{
	const char *eol = eol_of(req->data, req->len);
	struct sendmail_header_info h;

	if (req->sender)
		sbuf_addf(out, "Return-Path: <%s>%s", req->sender, eol);
	if (req->rcpt && *req->rcpt)
		sbuf_addf(out, "Delivered-To: %s%s", req->rcpt, eol);
	if (req->token)
		sbuf_addf(out, TOKEN_HEADER ": %s%s", req->token, eol);
	sendmail_header_scan(req->data, req->len, &h);
	if (h.blank || h.end == req->len) {
		sbuf_add(out, req->data, req->len);
		return;
	}
	int64_t now = clock_now();
	char id[QUEUE_ID_LEN + 1], *domain = config_mail_domain(a->cfg);
	char *from = req->sender && *req->sender ? xstrdup(req->sender)
						  : xasprintf("MAILER-DAEMON@%s", domain);

	queue_new_id(now, id);
	sendmail_header_complete(out, req->data, req->len, now, id, domain, from);
	free(from);
	free(domain);
}

/* One action turned into a store operation. */
struct target {
	const char *folder;
	uint32_t flags;
	struct sbuf keywords;
	bool create;
};

static void add_flag(struct target *t, const char *flag)
{
	static const struct { const char *name; uint32_t bit; } system[] = {
		{ "\\Seen", STORE_SEEN }, { "\\Answered", STORE_ANSWERED },
		{ "\\Flagged", STORE_FLAGGED }, { "\\Deleted", STORE_DELETED },
		{ "\\Draft", STORE_DRAFT },
	};

	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
		if (strcasecmp(flag, system[i].name) == 0) {
			t->flags |= system[i].bit;
			return;
		}
	}
	if (flag[0] == '\\' || flag[0] == '\0')
		return;	/* \Recent and unknown system flags cannot be set */
	if (t->keywords.len)
		sbuf_addch(&t->keywords, ' ');
	sbuf_addstr(&t->keywords, flag);
}

/* Adds the words of list that t does not have yet. */
static void add_keywords(struct target *t, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, " ");

		if (len > 0 && !store_keywords_has(t->keywords.buf, p, len)) {
			if (t->keywords.len)
				sbuf_addch(&t->keywords, ' ');
			sbuf_add(&t->keywords, p, len);
		}
		p += len;
		p += strspn(p, " ");
	}
}

/* Queues a copy for a Sieve redirect, keeping the envelope sender; the
 * Delivered-To line in the copy stops it coming back here forever. */
static int redirect(struct deliver *a, const struct deliver_request *req, const char *data,
		    size_t len, const char *address, const char **error_r)
{
	char id[QUEUE_ID_LEN + 1];
	const char *rcpts[] = { address };
	const char *sender = req->sender ? req->sender : "";
	int64_t now = clock_now();
	char *hold;
	int ret = -1, n = 0;

	if (a->queue == NULL) {
		*error_r = "no queue to send it through";
		return -1;
	}
	queue_new_id(now, id);
	if (req->on_redirect == NULL || req->redirected == NULL || req->token == NULL) {
		if (queue_add(a->queue, id, sender, rcpts, 1, data, len, now, error_r) < 0)
			return -1;
		a->queued = true;
		return 0;
	}
	/* Exactly once with the caller's record: queued held, recorded, then
	 * released.  A crash before the record leaves the held entry, which
	 * the retry adopts; after it, the record, and the retry releases. */
	hold = xasprintf("%s\t%s", req->token, address);
	if (req->maybe_delivered && !req->redirected(req->redirect_ctx, address)) {
		n = queue_held(a->queue, hold, error_r);
		if (n > 0)
			req->on_redirect(req->redirect_ctx, address);
	} else if (req->maybe_delivered) {
		n = 1;	/* recorded by the attempt that crashed */
	}
	if (n < 0)
		goto out;
	if (n == 0) {
		if (queue_add_held(a->queue, id, hold, sender, rcpts, 1, data, len, now,
				   error_r) < 0)
			goto out;
		req->on_redirect(req->redirect_ctx, address);
		crash_point("deliver:redirect-recorded");
	}
	/* On failure the message is kept instead (below) and the entry stays
	 * held, shown by `loft queue list`: never sent twice. */
	if (queue_release(a->queue, hold, error_r) < 0)
		goto out;
	a->queued = true;
	ret = 0;
out:
	free(hold);
	return ret;
}

bool deliver_queued(const struct deliver *a)
{
	return a->queued;
}

void deliver_set_batch(struct deliver *a, struct deliver_batch *b)
{
	a->batch = b;
}

void deliver_record_dup(struct deliver *a, const char *msgid)
{
	if (a->dup_file)
		deliver_dup_record(a->dup_file, msgid, a->dup_window, clock_now());
}

static bool is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* Appends to one folder; creates it when asked (fileinto :create).  When
 * nothing is indexed now and there are no keywords (which only the state
 * and the index hold), the file alone is written: the folder's next open
 * gives it its UID (store_deliver_file). */
static int store_into(struct deliver *a, const struct target *t, const char *data, size_t len,
		      const char **error_r)
{
	struct store_folder *f;
	uint32_t uid;
	int ret;

	if (a->batch)
		return deliver_batch_store(a->batch, a->store, t->folder, t->create, data, len,
					   t->flags, t->keywords.len ? t->keywords.buf : NULL,
					   error_r);
	if (a->files_only && t->keywords.len == 0) {
		ret = store_deliver_file(a->store, t->folder, data, len, t->flags, error_r);
		if (ret < 0 && t->create && store_error_code(a->store) == STORE_ERR_NO_FOLDER) {
			if (store_folder_create(a->store, t->folder, error_r) < 0)
				return -1;
			ret = store_deliver_file(a->store, t->folder, data, len, t->flags, error_r);
		}
		if (ret != 0)
			return ret < 0 ? -1 : 0;
	}
	if (store_folder_open_append(a->store, t->folder, &f, error_r) < 0) {
		if (!t->create || store_folder_create(a->store, t->folder, error_r) < 0 ||
		    store_folder_open_append(a->store, t->folder, &f, error_r) < 0)
			return -1;
	}
	ret = store_append(f, data, len, t->flags, t->keywords.len ? t->keywords.buf : NULL, 0,
			   &uid, error_r);
	store_folder_close(&f);
	return ret;
}

enum deliver_status deliver_message(struct deliver *a, const struct deliver_request *req,
				    char **answer_r)
{
	const char *deflt = req->folder && *req->folder ? req->folder : "INBOX";
	struct sieve_result *result = NULL;
	struct target *targets = NULL;
	struct message *msg = NULL;
	struct sbuf copy = SBUF_INIT, where = SBUF_INIT;
	enum deliver_status status = DELIVER_OK;
	size_t n_targets = 0, stored = 0, skipped = 0;
	const char *err;
	char *serr = NULL, *msgid = NULL;

	*answer_r = NULL;
	if (deflt == req->folder && store_folder_name_check(deflt, &err) < 0) {
		log_warning("folder '%s': refused: %s (delivering to INBOX)", deflt, err);
		deflt = "INBOX";
	}
	if (req->len == 0) {
		answer(answer_r, "5.6.0 empty message");
		return DELIVER_PERMFAIL;
	}
	int hops = deliver_hops(req->data, req->len, req->rcpt);
	if (hops < 0) {
		answer(answer_r, "5.4.6 mail forwarding loop for %s", req->rcpt);
		return DELIVER_PERMFAIL;
	}
	if (hops > MAX_HOPS) {
		answer(answer_r, "5.4.6 too many hops (%d Received/Delivered-To lines)", hops);
		return DELIVER_PERMFAIL;
	}
	build_copy(a, req, &copy);
	/* Only Sieve and the duplicate check look into the message: without
	 * them GMime is not even loaded (store/gmime_lazy.h).  The parser
	 * takes any text (a header-less one as a body), so skipping it
	 * refuses nothing it would have taken. */
	if (a->script || a->dup_file) {
		msg = message_parse_borrowed(copy.buf, copy.len, NULL, &err);
		if (msg == NULL) {
			answer(answer_r, "5.6.0 not a message: %s", err);
			status = DELIVER_PERMFAIL;
			goto out;
		}
		msgid = message_id(msg) ? xstrdup(message_id(msg)) : NULL;
	}
	if (a->dup_file && msgid && deliver_dup_seen(a->dup_file, msgid, a->dup_window,
						     clock_now())) {
		answer(answer_r, "2.0.0 duplicate of %s delivered within duplicate_window: dropped",
		       msgid);
		goto out;
	}

	/* The actions: Sieve's, or a plain keep. */
	if (a->script) {
		struct sieve_input in = {
			.msg = msg, .size = copy.len,
			.envelope_from = req->sender ? req->sender : "",
			.envelope_to = req->rcpt ? req->rcpt : "",
		};

		if (sieve_execute(a->script, &in, &result, &serr) < 0) {
			log_error("sieve: %s (message kept in %s)", serr, deflt);
			result = NULL;
		}
	}
	size_t n_actions = result ? result->n_actions : 0;
	targets = xcalloc(n_actions + 1, sizeof(*targets));
	for (size_t i = 0; i < n_actions; i++) {
		const struct sieve_action *act = &result->actions[i];
		struct target *t = &targets[n_targets];

		if (act->type == SIEVE_DISCARD)
			continue;
		if (act->type == SIEVE_REDIRECT) {
			if (redirect(a, req, copy.buf, copy.len, act->address, &err) == 0)
				continue;
			/* Not sent anywhere: keep it rather than lose it. */
			log_error("sieve: redirect to %s failed: %s (kept)", act->address, err);
			t->folder = deflt;
		} else if (act->type == SIEVE_KEEP || is_inbox(act->folder)) {
			t->folder = act->type == SIEVE_KEEP ? deflt : "INBOX";
		} else if (store_folder_name_check(act->folder, &err) < 0) {
			/* A name built from a header can be anything: keep the
			 * message rather than let it pick a path. */
			log_warning("fileinto '%s': refused: %s (kept in %s)", act->folder, err, deflt);
			t->folder = deflt;
		} else {
			t->folder = act->folder;
			t->create = act->create;
		}
		sbuf_init(&t->keywords, 0);
		for (const char *const *fl = act->flags; fl && *fl; fl++)
			add_flag(t, *fl);
		n_targets++;
	}
	if (result == NULL) {
		targets[0].folder = deflt;
		sbuf_init(&targets[0].keywords, 0);
		n_targets = 1;
	}
	for (size_t i = 0; i < n_targets && req->keywords != NULL; i++)
		add_keywords(&targets[i], req->keywords);
	/* The model is done with: its memory is not kept through the stores
	 * and the indexing (the peak is what a big message costs). */
	message_free(&msg);
	/* The folder named with -m is created when missing, as dovecot-lda
	 * does with autocreate: the caller asked for it by name. */
	for (size_t i = 0; i < n_targets; i++)
		if (deflt == req->folder && targets[i].folder == deflt)
			targets[i].create = true;

	/* Imap4flags keywords live in the state and in notmuch tags only, and
	 * a later scan sees only the file's flags: index such a message now. */
	for (size_t i = 0; i < n_targets && a->pending_dir; i++) {
		if (targets[i].keywords.len == 0)
			continue;
		store_close(&a->store);
		free(a->pending_dir);
		a->pending_dir = NULL;
		a->files_only = false;
		char *why;

		if (open_store(a->cfg, true, &a->store, &why) < 0) {
			answer(answer_r, "4.3.0 %s", why);
			free(why);
			status = DELIVER_TEMPFAIL;
			goto out;
		}
	}
	for (size_t i = 0; i < n_targets; i++) {
		struct target *t = &targets[i];

		if (req->token && req->maybe_delivered &&
		    deliver_token_present(a->store, t->folder, TOKEN_HEADER, req->token)) {
			skipped++;
			continue;
		}
		if (store_into(a, t, copy.buf, copy.len, &err) < 0) {
			if (t->folder != deflt && !is_inbox(t->folder) && !t->create &&
			    store_error_code(a->store) != STORE_ERR_NO_SPACE) {
				/* fileinto a folder that is not there: keep instead, as
				 * Pigeonhole does, rather than bounce. */
				log_warning("fileinto %s: %s (kept in %s)", t->folder, err, deflt);
				t->folder = deflt;
				i--;
				continue;
			}
			answer(answer_r, "4.3.0 cannot store in %s: %s", t->folder, err);
			status = DELIVER_TEMPFAIL;
			goto out;
		}
		stored++;
		sbuf_addf(&where, "%s%s", where.len ? ", " : "", t->folder);
	}
	if (stored == 0 && skipped > 0) {
		answer(answer_r, "2.0.0 already delivered (%s)", req->token);
		status = DELIVER_ALREADY;
		goto out;
	}
	if (a->dup_file && msgid && a->batch)
		deliver_batch_dup(a->batch, msgid);
	else if (a->dup_file && msgid)
		deliver_record_dup(a, msgid);
	/* The copies are safe in new/; a lost mark only means that the
	 * user's next `loft index` finds them instead of the next search. */
	if (stored > 0 && a->pending_dir && index_pending_mark(a->pending_dir, &err) < 0)
		log_warning("index: %s (run `loft index`)", err);
	if (stored == 0)
		answer(answer_r, "2.0.0 discarded by the Sieve script");
	else
		answer(answer_r, "2.0.0 delivered to %s", where.buf);
out:
	for (size_t i = 0; i < n_targets; i++)
		sbuf_release(&targets[i].keywords);
	free(targets);
	free(serr);
	free(msgid);
	sieve_result_free(&result);
	message_free(&msg);
	sbuf_release(&copy);
	sbuf_release(&where);
	return status;
}
