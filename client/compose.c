/* compose: replies and forwards from the message model (see
 * client/compose.h).
 *
 * The address rules are mutt's: a reply goes to Reply-To, else From, but
 * to the original recipients when the user wrote the message; reply-all
 * adds To and Cc without the user's own addresses; a list reply prefers
 * List-Post over Mail-Followup-To.  Addresses are compared
 * case-insensitively on the whole addr-spec (the local part is in theory
 * case-sensitive, but no one relies on that, and a duplicate copy is worse
 * than a merged one). */
#include "client/compose.h"
#include "client/format.h"
#include "client/thread.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/message.h"
#include "store/gmime_lazy.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_ATTRIBUTION "On %d, %n wrote:"
#define DEFAULT_DATE_FORMAT "%a, %b %d, %Y at %H:%M"
#define DEFAULT_INDENT "> "
#define REFERENCES_MAX 20

struct alist {
	struct {
		const char *name, *addr;
	} *v;
	size_t n, cap;
};

static bool alist_has(const struct alist *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].addr, addr) == 0)
			return true;
	return false;
}

/* Adds unless empty, already there, in skip, or the user's (when id). */
static void alist_add(struct alist *l, const char *name, const char *addr,
		      const struct alist *skip, const struct compose_identity *id)
{
	if (addr == NULL || addr[0] == '\0' || alist_has(l, addr) ||
	    (skip != NULL && alist_has(skip, addr)) || (id != NULL && compose_is_me(id, addr)))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].name = name ? name : "";
	l->v[l->n].addr = addr;
	l->n++;
}

static void alist_add_header(struct alist *l, const struct message *msg, const char *hdr,
			     const struct alist *skip, const struct compose_identity *id)
{
	const struct message_address *a;
	size_t n = message_addresses(msg, hdr, &a);

	for (size_t i = 0; i < n; i++)
		alist_add(l, a[i].name, a[i].addr, skip, id);
}

static char *alist_string(const struct alist *l)
{
	struct sbuf sb = SBUF_INIT;

	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			sbuf_addstr(&sb, ", ");
		compose_address_format(l->v[i].name, l->v[i].addr, &sb);
	}
	return sbuf_detach(&sb, NULL);
}

void compose_address_format(const char *name, const char *addr, struct sbuf *out)
{
	if (name == NULL || name[0] == '\0') {
		sbuf_addstr(out, addr);
		return;
	}
	/* RFC 5322 specials force a quoted string. */
	if (strpbrk(name, "()<>[]:;@\\,.\"") != NULL) {
		sbuf_addch(out, '"');
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_addch(out, '\\');
			sbuf_addch(out, *p);
		}
		sbuf_addch(out, '"');
	} else {
		sbuf_addstr(out, name);
	}
	sbuf_addf(out, " <%s>", addr);
}

bool compose_is_me(const struct compose_identity *id, const char *addr)
{
	if (addr == NULL || id == NULL)
		return false;
	if (id->from != NULL && strcasecmp(id->from, addr) == 0)
		return true;
	for (size_t i = 0; id->alternates && id->alternates[i]; i++)
		if (fnmatch(id->alternates[i], addr, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

static char *own_from(const struct compose_identity *id)
{
	struct sbuf sb = SBUF_INIT;

	if (id != NULL && id->from != NULL && id->from[0])
		compose_address_format(id->realname, id->from, &sb);
	return sbuf_detach(&sb, NULL);
}

char *compose_reply_subject(const char *subject)
{
	const char *p = subject ? subject : "";

	/* Reply prefixes go, also behind a list tag ("[l] Re: x" -> "Re: x",
	 * as mutt's reply_regex); "Fwd:" and other text stay. */
	for (;;) {
		const char *q = p;
		bool reply = false;
		size_t l;

		while (*q == ' ' || *q == '\t')
			q++;
		p = q;
		if (*q == '[') {
			const char *e = strchr(q, ']');

			if (e == NULL || e - q > 64)
				break;
			q = e + 1;
			while (*q == ' ' || *q == '\t')
				q++;
		}
		l = thread_subject_prefix_len(q, &reply);
		if (l == 0 || !reply)
			break;
		p = q + l;
	}
	return xasprintf("Re: %s", p);
}

char *compose_forward_subject(const char *subject)
{
	const char *s = subject ? subject : "";

	while (*s == ' ')
		s++;
	if (strncasecmp(s, "fwd:", 4) == 0)
		return xstrdup(s);
	return xasprintf("Fwd: %s", s);
}

struct idv {
	const char **v;
	size_t *len;
	size_t n, cap;
};

static void idv_add(const char *id, size_t len, void *ctx)
{
	struct idv *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		l->len = xreallocarray(l->len, l->cap, sizeof(*l->len));
	}
	l->v[l->n] = id;
	l->len[l->n++] = len;
}

char *compose_references(const struct message *msg, size_t max)
{
	const char *refs = message_header_raw(msg, "References");
	const char *id = message_id(msg);
	struct idv l = { 0 };
	struct sbuf sb = SBUF_INIT;

	if (max == 0)
		max = REFERENCES_MAX;
	if (refs != NULL)
		thread_parse_ids(refs, idv_add, &l);
	if (l.n == 0 && message_in_reply_to(msg) != NULL)
		idv_add(message_in_reply_to(msg), strlen(message_in_reply_to(msg)), &l);
	if (id != NULL)
		idv_add(id, strlen(id), &l);
	for (size_t i = 0; i < l.n; i++) {
		/* The first (the thread's start) and the last max - 1. */
		if (l.n > max && i > 0 && i < l.n - (max - 1))
			continue;
		if (sb.len)
			sbuf_addch(&sb, ' ');
		sbuf_addch(&sb, '<');
		sbuf_add(&sb, l.v[i], l.len[i]);
		sbuf_addch(&sb, '>');
	}
	free(l.v);
	free(l.len);
	return sbuf_detach(&sb, NULL);
}

static struct compose_draft *draft_alloc(void)
{
	struct compose_draft *d = xcalloc(1, sizeof(*d));

	d->from = xstrdup("");
	d->to = xstrdup("");
	d->cc = xstrdup("");
	d->bcc = xstrdup("");
	d->reply_to = xstrdup("");
	d->subject = xstrdup("");
	d->in_reply_to = xstrdup("");
	d->references = xstrdup("");
	d->body = xstrdup("");
	return d;
}

static void set_str(char **field, char *value)
{
	free(*field);
	*field = value;
}

static void add_signature(struct sbuf *body, const struct compose_options *opt)
{
	const char *sig = opt ? opt->signature : NULL;

	if (sig == NULL || sig[0] == '\0')
		return;
	/* One empty line before the separator, never two. */
	if (!(body->len >= 2 && body->buf[body->len - 1] == '\n' && body->buf[body->len - 2] == '\n'))
		sbuf_addch(body, '\n');
	sbuf_addstr(body, "-- \n");
	sbuf_addstr(body, sig);
	if (body->buf[body->len - 1] != '\n')
		sbuf_addch(body, '\n');
}

struct compose_draft *compose_new(const struct compose_identity *id,
				  const struct compose_options *opt)
{
	struct compose_draft *d = draft_alloc();
	struct sbuf body = SBUF_INIT;

	set_str(&d->from, own_from(id));
	add_signature(&body, opt);
	set_str(&d->body, sbuf_detach(&body, NULL));
	return d;
}

/* "mailto:list@example.org?subject=x" in List-Post -> the address. */
static char *list_post_address(const struct message *msg)
{
	const char *v = message_header(msg, "List-Post");
	const char *p;

	if (v == NULL || (p = strcasestr(v, "mailto:")) == NULL)
		return NULL;
	p += 7;
	size_t n = strcspn(p, ">?, \t");

	return n ? xstrndup(p, n) : NULL;
}

static void attribution(const struct message *msg, const struct compose_options *opt,
			struct sbuf *out)
{
	const struct message_address *from;
	struct format_msg fm = { 0 };
	struct format_options fo = { NULL };
	time_t t;
	int tz;

	fo.date_format = opt && opt->date_format ? opt->date_format : DEFAULT_DATE_FORMAT;
	if (message_addresses(msg, "From", &from) > 0) {
		fm.from_name = from[0].name;
		fm.from_addr = from[0].addr;
	}
	if (message_date(msg, &t, &tz) == 0)
		fm.date = t;
	fm.subject = message_header(msg, "Subject");
	format_expand(opt && opt->attribution ? opt->attribution : DEFAULT_ATTRIBUTION, &fm, &fo,
		      out);
	sbuf_addch(out, '\n');
}

int compose_reply(const struct message *msg, enum compose_reply_kind kind,
		  const struct compose_identity *id, const struct compose_options *opt,
		  struct compose_draft **draft_r, const char **error_r)
{
	struct alist to = { 0 }, cc = { 0 };
	const struct message_address *from;
	size_t nfrom = message_addresses(msg, "From", &from);
	bool from_me = nfrom > 0 && compose_is_me(id, from[0].addr);
	char *list = NULL;
	InternetAddressList *mft = NULL;

	if (kind == COMPOSE_REPLY_LIST) {
		list = list_post_address(msg);
		if (list != NULL) {
			alist_add(&to, "", list, NULL, NULL);
		} else if (message_header(msg, "Mail-Followup-To") != NULL) {
			message_init();
			mft = internet_address_list_parse(NULL,
							  message_header(msg, "Mail-Followup-To"));
			for (int i = 0; mft && i < internet_address_list_length(mft); i++) {
				InternetAddress *ia = internet_address_list_get_address(mft, i);

				if (INTERNET_ADDRESS_IS_MAILBOX(ia))
					alist_add(&to, internet_address_get_name(ia),
						  internet_address_mailbox_get_addr(
							  INTERNET_ADDRESS_MAILBOX(ia)),
						  NULL, NULL);
			}
		}
		if (to.n == 0) {
			free(list);
			free(to.v);
			if (mft)
				g_object_unref(mft);
			*error_r = "no list address";
			return -1;
		}
	} else if (from_me) {
		/* Following up on one's own mail: to the same people again. */
		alist_add_header(&to, msg, "To", NULL, NULL);
		if (kind == COMPOSE_REPLY_ALL)
			alist_add_header(&cc, msg, "Cc", &to, id);
	} else {
		if (message_addresses(msg, "Reply-To", &from) > 0)
			alist_add_header(&to, msg, "Reply-To", NULL, NULL);
		else
			alist_add_header(&to, msg, "From", NULL, NULL);
		if (kind == COMPOSE_REPLY_ALL) {
			alist_add_header(&cc, msg, "To", &to, id);
			alist_add_header(&cc, msg, "Cc", &to, id);
		}
	}

	struct compose_draft *d = draft_alloc();
	struct sbuf body = SBUF_INIT;
	const char *mid = message_id(msg);
	char *text = compose_message_text(msg);

	set_str(&d->from, own_from(id));
	set_str(&d->to, alist_string(&to));
	set_str(&d->cc, alist_string(&cc));
	set_str(&d->subject, compose_reply_subject(message_header(msg, "Subject")));
	set_str(&d->in_reply_to, mid ? xasprintf("<%s>", mid) : xstrdup(""));
	set_str(&d->references, compose_references(msg, 0));
	attribution(msg, opt, &body);
	compose_quote(text, strlen(text), opt && opt->indent ? opt->indent : DEFAULT_INDENT,
		      &body);
	sbuf_addch(&body, '\n');
	add_signature(&body, opt);
	set_str(&d->body, sbuf_detach(&body, NULL));
	free(text);
	free(list);
	free(to.v);
	free(cc.v);
	if (mft)
		g_object_unref(mft);
	*draft_r = d;
	return 0;
}

static void forward_header(struct sbuf *out, const char *name, const char *value)
{
	if (value != NULL && value[0])
		sbuf_addf(out, "%s: %s\n", name, value);
}

struct compose_draft *compose_forward(const struct message *msg, bool inline_body,
				      const struct compose_identity *id,
				      const struct compose_options *opt)
{
	struct compose_draft *d = draft_alloc();
	struct sbuf body = SBUF_INIT;

	set_str(&d->from, own_from(id));
	set_str(&d->subject, compose_forward_subject(message_header(msg, "Subject")));
	if (inline_body) {
		char *text = compose_message_text(msg);

		sbuf_addstr(&body, "\n\n---------- Forwarded message ----------\n");
		forward_header(&body, "From", message_header(msg, "From"));
		forward_header(&body, "Date", message_header(msg, "Date"));
		forward_header(&body, "Subject", message_header(msg, "Subject"));
		forward_header(&body, "To", message_header(msg, "To"));
		forward_header(&body, "Cc", message_header(msg, "Cc"));
		sbuf_addch(&body, '\n');
		sbuf_addstr(&body, text);
		if (body.buf[body.len - 1] != '\n')
			sbuf_addch(&body, '\n');
		free(text);
	}
	add_signature(&body, opt);
	set_str(&d->body, sbuf_detach(&body, NULL));
	return d;
}

void compose_draft_free(struct compose_draft **dp)
{
	struct compose_draft *d = *dp;

	if (d == NULL)
		return;
	free(d->from);
	free(d->to);
	free(d->cc);
	free(d->bcc);
	free(d->reply_to);
	free(d->subject);
	free(d->in_reply_to);
	free(d->references);
	for (size_t i = 0; i < d->nextra; i++) {
		free(d->extra[i].name);
		free(d->extra[i].value);
	}
	free(d->extra);
	free(d->body);
	free(d);
	*dp = NULL;
}
