/* POP3 pull through libetpan's mailpop3, on loft's OpenSSL stream driver
 * (remote/stream.c) like IMAP: pop3s:// (implicit TLS, port 995), pop3://
 * (STLS required, 110) or pop3+insecure:// (plaintext, loopback only);
 * the certificate is checked before the password command runs.  The
 * login is with the account's imap_user (else the URL's user) and
 * imap_password_command: SASL PLAIN (AUTH, RFC 5034, through libetpan
 * and Cyrus SASL's plain module) where the server's CAPA offers it, else
 * USER/PASS.  APOP is not used: it needs an MD5
 * challenge answered with the password the server keeps in clear, and
 * over the TLS loft requires it protects nothing more.  imap_ca,
 * imap_fingerprint and imap_timeout apply too (each read waits that long
 * at most).
 *
 * Which messages were delivered is known by UIDL ('u' records): a server
 * without UIDL is refused, since without it loft could not tell a new
 * message from one it already has.  Each message goes through
 * pull_deliver() (exactly once, remote/pull.c); with pull_after = delete
 * it is then marked DELE, and QUIT makes the deletions happen.  A crash
 * before QUIT deletes nothing (RFC 1939 section 6); the next run marks
 * every delivered message still listed. */
#include "remote/pull-private.h"
#include "remote/remote-private.h"

#include "lib/config.h"
#include "lib/crash.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/ossl.h"
#include "lib/secret_cmd.h"
#include "lib/url.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define POP3_FUNCS(X) \
	X(mailpop3_auth) \
	X(mailpop3_capa) \
	X(mailpop3_capa_resp_free) \
	X(mailpop3_connect) \
	X(mailpop3_dele) \
	X(mailpop3_free) \
	X(mailpop3_list) \
	X(mailpop3_new) \
	X(mailpop3_pass) \
	X(mailpop3_quit) \
	X(mailpop3_retr) \
	X(mailpop3_retr_free) \
	X(mailpop3_set_timeout) \
	X(mailpop3_stls) \
	X(mailpop3_user)

static struct { POP3_FUNCS(DYNLIB_SLOT) } pop3_fns;
#define POP3_SYM(name) DYNLIB_SYM(pop3_fns, name)
static const struct dynlib_sym pop3_syms[] = { POP3_FUNCS(POP3_SYM) };
/* The soname is etpan.c's (the one the build found), set before loading. */
static struct dynlib pop3_lib = DYNLIB_INIT(NULL, pop3_syms);

#define mailpop3_auth(...) (*pop3_fns.mailpop3_auth)(__VA_ARGS__)
#define mailpop3_capa(...) (*pop3_fns.mailpop3_capa)(__VA_ARGS__)
#define mailpop3_capa_resp_free(...) (*pop3_fns.mailpop3_capa_resp_free)(__VA_ARGS__)
#define mailpop3_connect(...) (*pop3_fns.mailpop3_connect)(__VA_ARGS__)
#define mailpop3_dele(...) (*pop3_fns.mailpop3_dele)(__VA_ARGS__)
#define mailpop3_free(...) (*pop3_fns.mailpop3_free)(__VA_ARGS__)
#define mailpop3_list(...) (*pop3_fns.mailpop3_list)(__VA_ARGS__)
#define mailpop3_new(...) (*pop3_fns.mailpop3_new)(__VA_ARGS__)
#define mailpop3_pass(...) (*pop3_fns.mailpop3_pass)(__VA_ARGS__)
#define mailpop3_quit(...) (*pop3_fns.mailpop3_quit)(__VA_ARGS__)
#define mailpop3_retr(...) (*pop3_fns.mailpop3_retr)(__VA_ARGS__)
#define mailpop3_retr_free(...) (*pop3_fns.mailpop3_retr_free)(__VA_ARGS__)
#define mailpop3_set_timeout(...) (*pop3_fns.mailpop3_set_timeout)(__VA_ARGS__)
#define mailpop3_stls(...) (*pop3_fns.mailpop3_stls)(__VA_ARGS__)
#define mailpop3_user(...) (*pop3_fns.mailpop3_user)(__VA_ARGS__)

#define POP3_FOLDER "POP3"	/* the state's folder name for POP3 */

struct pop3_session {
	mailpop3 *pop;
	mailstream_low *low;		/* owned by pop's stream once connected */
	const char *host;
	int timeout_ms;
};

/* "WHAT: HOST said ..." or the stream's reason. */
static char *pop3_error(struct pop3_session *s, const char *what, int r)
{
	if (r == MAILPOP3_ERROR_STREAM)
		return xasprintf("%s: connection to %s failed: %s", what, s->host,
				 remote_stream_error(s->low));
	return xasprintf("%s refused by %s%s%s", what, s->host,
			 s->pop->pop3_response ? ": " : "",
			 s->pop->pop3_response ? s->pop->pop3_response : "");
}

static int start_tls(struct pop3_session *s, const char *ca, const char *fingerprint,
		     char **error_r)
{
	char *err = NULL;
	SSL_CTX *ctx = tls_client_ctx_new(ca, fingerprint, &err);
	int r;

	if (ctx == NULL) {
		*error_r = xasprintf("%s: %s", fingerprint ? "imap_fingerprint" :
					       ca ? "imap_ca" : "TLS", err);
		free(err);
		return -1;
	}
	r = remote_stream_starttls(s->low, ctx, s->host, error_r);
	SSL_CTX_free(ctx);
	return r;
}

/* Whether CAPA lists SASL PLAIN (a server without CAPA: no). */
static bool offers_sasl_plain(struct pop3_session *s)
{
	clist *capa = NULL;
	bool yes = false;

	if (mailpop3_capa(s->pop, &capa) != MAILPOP3_NO_ERROR)
		return false;
	for (clistiter *i = clist_begin(capa); i != NULL && !yes; i = clist_next(i)) {
		struct mailpop3_capa *c = clist_content(i);

		if (c == NULL || strcasecmp(c->cap_name, "SASL") != 0 || c->cap_param == NULL)
			continue;
		for (clistiter *p = clist_begin(c->cap_param); p != NULL && !yes; p = clist_next(p)) {
			const char *mech = clist_content(p);

			yes = mech != NULL && strcasecmp(mech, "PLAIN") == 0;
		}
	}
	mailpop3_capa_resp_free(capa);
	return yes;
}

/* Connect, TLS, greeting, STLS, AUTH PLAIN or USER/PASS.  0 or -1 with
 * *error_r. */
static int pop3_open(struct pop3_session *s, const struct config *cfg, const char *account,
		     const struct url *u, char **error_r)
{
	const char *ca = config_account_get(cfg, account, "imap_ca");
	const char *fp = config_account_get(cfg, account, "imap_fingerprint");
	const char *user = config_account_get(cfg, account, "imap_user");
	const char *pwcmd = config_account_get(cfg, account, "imap_password_command");
	const char *why;
	char *password = NULL;
	int fd, r;

	if (user == NULL || *user == '\0')
		user = u->user;
	if (user == NULL) {
		*error_r = xasprintf("account %s: no user (pop3_url user@host or imap_user)",
				     account);
		return -1;
	}
	fd = net_connect(u->hostport, s->timeout_ms, &why);
	if (fd < 0) {
		*error_r = xasprintf("cannot connect to %s: %s", u->hostport, why);
		return -1;
	}
	s->low = remote_stream_new(fd, s->timeout_ms);
	if (u->kind == URL_POP3S && start_tls(s, ca, fp, error_r) < 0)
		goto fail_low;
	mailstream *stream = mailstream_new(s->low, 8192);

	if (stream == NULL)
		abort();
	s->pop = mailpop3_new(0, NULL);
	mailpop3_set_timeout(s->pop, (s->timeout_ms + 999) / 1000);
	if ((r = mailpop3_connect(s->pop, stream)) != MAILPOP3_NO_ERROR) {
		*error_r = pop3_error(s, "greeting", r);
		return -1;
	}
	if (u->kind == URL_POP3_STLS) {
		if ((r = mailpop3_stls(s->pop)) != MAILPOP3_NO_ERROR) {
			*error_r = r == MAILPOP3_ERROR_STLS_NOT_SUPPORTED
				? xasprintf("%s does not offer STLS: refusing to log in in "
					    "plaintext (pop3s:// for implicit TLS; pop3+insecure:// "
					    "only on loopback)", s->host)
				: pop3_error(s, "STLS", r);
			return -1;
		}
		/* Bytes after +OK came in the clear: never take them as TLS. */
		if (s->pop->pop3_stream->read_buffer_len > 0) {
			*error_r = xasprintf("%s sent data after its STLS answer: refused", s->host);
			return -1;
		}
		if (start_tls(s, ca, fp, error_r) < 0)
			return -1;
	}
	if (u->kind == URL_POP3_PLAIN && !remote_peer_is_loopback(fd)) {
		*error_r = xasprintf("pop3+insecure:// is for loopback only; %s is not (use "
				     "pop3s:// or pop3://)", s->host);
		return -1;
	}
	bool plain = offers_sasl_plain(s);

	if (secret_cmd_run("imap_password_command", pwcmd, 30, &password, error_r) < 0)
		return -1;
	/* SASL PLAIN through libetpan (Cyrus SASL's plain module); where it
	 * fails without the server having refused the password (the module
	 * missing), USER/PASS as before. */
	r = plain ? mailpop3_auth(s->pop, "PLAIN", s->host, NULL, NULL, user, user,
				  password ? password : "", NULL)
		  : MAILPOP3_ERROR_BAD_PASSWORD;
	if (plain && r != MAILPOP3_NO_ERROR && r != MAILPOP3_ERROR_STREAM)
		log_info("POP3 AUTH PLAIN at %s: %s (USER/PASS instead)", s->host,
			 s->pop->pop3_response ? s->pop->pop3_response : "failed");
	if (r != MAILPOP3_NO_ERROR && r != MAILPOP3_ERROR_STREAM) {
		r = mailpop3_user(s->pop, user);
		if (r == MAILPOP3_NO_ERROR)
			r = mailpop3_pass(s->pop, password ? password : "");
	}
	if (r != MAILPOP3_NO_ERROR) {
		*error_r = pop3_error(s, "login", r);
		r = -1;
	}
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return r < 0 ? -1 : 0;
fail_low:
	mailstream_low_free(s->low);
	s->low = NULL;
	return -1;
}

/* Marks the messages of idx[0..n) for deletion (done at QUIT). */
static int dele(struct pop3_session *s, const unsigned *idx, size_t n, char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		int r = mailpop3_dele(s->pop, idx[i]);

		if (r != MAILPOP3_NO_ERROR) {
			*error_r = pop3_error(s, "DELE", r);
			return -1;
		}
	}
	return 0;
}

/* Every message of the list: delivered once, then marked for deletion
 * with delete.  0 or -1. */
static int pop3_messages(struct pull_run *run, struct pop3_session *s, carray *tab, bool delete,
			 char **error_r)
{
	size_t total = tab ? carray_count(tab) : 0, n = 0, bytes = 0;
	struct pull_msg *msgs = xcalloc(PULL_BATCH, sizeof(*msgs));
	unsigned *idx = xcalloc(total + 1, sizeof(*idx)), batch_idx[PULL_BATCH];
	size_t n_idx = 0;
	int ret = -1;

	for (size_t i = 0; i <= total; i++) {
		struct mailpop3_msg_info *info = i < total ? carray_get(tab, i) : NULL;

		if (info != NULL && pull_state_has(run->state, 'u', POP3_FOLDER, info->msg_uidl)) {
			/* Delivered by an earlier run that did not QUIT. */
			if (delete)
				idx[n_idx++] = info->msg_index;
			continue;
		}
		if (info != NULL && !pull_state_has(run->state, 'r', POP3_FOLDER, info->msg_uidl)) {
			struct pull_msg *m = &msgs[n];
			char *data;
			size_t len;
			int r = mailpop3_retr(s->pop, info->msg_index, &data, &len);

			if (r != MAILPOP3_NO_ERROR) {
				*error_r = pop3_error(s, "RETR", r);
				goto out;
			}
			sbuf_init(&m->data, 0);
			sbuf_add(&m->data, data, len);
			mailpop3_retr_free(data);
			m->id = xstrdup(info->msg_uidl);
			m->match = pull_match_key(m->data.buf, m->data.len);
			m->skip = pull_state_has(run->state, 'd', POP3_FOLDER, m->match);
			batch_idx[n] = info->msg_index;
			bytes += len;
			n++;
		}
		if (n == 0 || (n < PULL_BATCH && bytes < PULL_BATCH_BYTES && i < total))
			continue;
		crash_point("pull:after-fetch");
		if (pull_deliver(run, POP3_FOLDER, msgs, n, 0, 0, false, error_r) < 0)
			goto out;
		for (size_t k = 0; k < n; k++)
			if (delete && !msgs[k].refused)
				idx[n_idx++] = batch_idx[k];
		pull_msgs_clear(msgs, n);
		n = bytes = 0;
	}
	if (delete && dele(s, idx, n_idx, error_r) < 0)
		goto out;
	ret = 0;
out:
	pull_msgs_clear(msgs, n);
	free(msgs);
	free(idx);
	return ret;
}

enum remote_sync_result pop3_pull(struct pull_run *run, const char *url, enum pull_after after,
				  char **error_r)
{
	struct url u;
	struct pop3_session s = { 0 };
	const char *why;
	carray *tab = NULL;
	enum remote_sync_result res = REMOTE_SYNC_TEMP;
	int r;

	if (url_parse(url, url_pop3_schemes, URL_POP3_SCHEMES, URL_USER, &u, &why) < 0) {
		*error_r = xasprintf("account %s: pop3_url '%s': %s", run->account, url,
				     why ? why : "expected pop3s://, pop3:// (STLS) or "
						 "pop3+insecure:// (plaintext, loopback only)");
		return REMOTE_SYNC_UNAVAILABLE;
	}
	pop3_lib.soname = remote_etpan_soname;
	if (remote_etpan_load(&why) < 0 || dynlib_load(&pop3_lib, &why) < 0) {
		*error_r = xstrdup(why);
		url_clear(&u);
		return REMOTE_SYNC_UNAVAILABLE;
	}
	s.host = u.host;
	s.timeout_ms = (int)config_account_int(run->cfg, run->account, "imap_timeout") * 1000;
	if (s.timeout_ms <= 0)
		s.timeout_ms = 60 * 1000;
	if (pop3_open(&s, run->cfg, run->account, &u, error_r) < 0)
		goto out;
	r = mailpop3_list(s.pop, &tab);
	if (r != MAILPOP3_NO_ERROR || tab == NULL) {
		*error_r = pop3_error(&s, "LIST", r != MAILPOP3_NO_ERROR ? r : MAILPOP3_ERROR_STREAM);
		goto out;
	}
	for (unsigned i = 0; i < carray_count(tab); i++) {
		struct mailpop3_msg_info *info = carray_get(tab, i);

		if (info != NULL && info->msg_uidl == NULL) {
			*error_r = xasprintf("%s does not answer UIDL: loft pulls only from a POP3 "
					     "server that names its messages (else it could not "
					     "tell new mail from mail it has)", s.host);
			res = REMOTE_SYNC_UNAVAILABLE;
			goto out;
		}
	}
	run->stats->folders = 1;
	if (pop3_messages(run, &s, tab, after == PULL_DELETE, error_r) < 0)
		goto out;
	if ((r = mailpop3_quit(s.pop)) != MAILPOP3_NO_ERROR) {
		*error_r = pop3_error(&s, "QUIT", r);
		goto out;
	}
	crash_point("pull:after-upstream");
	res = REMOTE_SYNC_OK;
out:
	pull_record(run, POP3_FOLDER, res == REMOTE_SYNC_OK ? NULL : *error_r);
	if (s.pop != NULL)
		mailpop3_free(s.pop);	/* closes the stream and its low */
	url_clear(&u);
	return res;
}
