/* `loft sendmail`: the sendmail-compatible front end.
 *
 * Reads one message on standard input, checks it, completes its header and
 * queues it durably (exit 0 only then), and starts a background runner so
 * the message moves on without a daemon, as dma does.  Recipients are only
 * ever strings in an envelope file: no address reaches a shell.
 *
 * Deliberate choices (also in the help text):
 *  - input that does not start with a header field is a body: a blank line
 *    is put before it and the usual headers added (`echo hi | loft sendmail
 *    user`, as sendmail and dma accept); once it does start with one, every
 *    line up to the blank line must be a field or a continuation;
 *  - Bcc is removed whether or not -t is given, as Postfix does: a copy that
 *    names the blind recipients would defeat them;
 *  - lines over 998 bytes (RFC 5322 2.1.1) are refused, not wrapped. */
#include "localmta/localmta.h"
#include "localmta/sendmail-private.h"
#include "lib/base64.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#define LINE_MAX_BYTES 998

/* The user's own address as an addr-spec: that of config_sender(), or
 * the default address when `from` does not parse as one address. */
static char *own_address(const struct config *cfg)
{
	char *from = config_sender(cfg), *ret;
	struct addr_list l = { 0 };
	const char *err;

	if (addr_list_parse(from, &l, &err) == 0 && l.n == 1)
		ret = xstrdup(l.addrs[0]);
	else
		ret = config_default_address(cfg);
	addr_list_free(&l);
	free(from);
	return ret;
}

/* A display name as an RFC 5322 phrase: RFC 2047 for non-ASCII, quoted
 * when it has specials. */
static void add_phrase(struct sbuf *out, const char *name)
{
	bool ascii = true, plain = true;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		ascii &= *p < 0x80;
		plain &= isalnum(*p) || strchr(" !#$%&'*+-/=?^_`{|}~", *p) != NULL;
	}
	if (!ascii) {
		sbuf_addstr(out, "=?UTF-8?B?");
		base64_encode(name, strlen(name), out);
		sbuf_addstr(out, "?=");
	} else if (plain) {
		sbuf_addstr(out, name);
	} else {
		sbuf_addch(out, '"');
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_addch(out, '\\');
			sbuf_addch(out, *p);
		}
		sbuf_addch(out, '"');
	}
}

/* Length of the field name at the start of line, or 0 if it is not one. */
static size_t field_name_len(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] > 0x20 && line[i] < 0x7f && line[i] != ':')
		i++;
	return i > 0 && i < len && line[i] == ':' ? i : 0;
}

static bool is_field(const char *line, size_t len, const char *name)
{
	size_t n = field_name_len(line, len);

	return n == strlen(name) && strncasecmp(line, name, n) == 0;
}

/* The fields RFC 6409 section 8 lets a submission server add: one writer
 * for sendmail, SMTP submission and delivery, so they all look alike. */
static void add_date_msgid(struct sbuf *out, bool date, bool mid, int64_t now, const char *id,
			   const char *domain, const char *eol)
{
	char buf[64];

	if (date)
		sbuf_addf(out, "Date: %s%s", clock_rfc5322(now, buf, sizeof(buf)), eol);
	if (mid)
		sbuf_addf(out, "Message-ID: <%s@%s>%s", id, domain, eol);
}

void sendmail_header_scan(const char *data, size_t len, struct sendmail_header_info *info_r)
{
	const char *nl = memchr(data, '\n', len);
	size_t i = 0;

	memset(info_r, 0, sizeof(*info_r));
	info_r->eol = nl && nl > data && nl[-1] == '\r' ? "\r\n" : "\n";
	while (i < len) {
		const char *e = memchr(data + i, '\n', len - i);
		size_t next = e ? (size_t)(e - data) + 1 : len;
		size_t l = (e ? (size_t)(e - data) : len) - i;

		if (l > 0 && data[i + l - 1] == '\r')
			l--;
		if (l == 0) {
			info_r->blank = true;
			break;
		}
		if ((data[i] == ' ' || data[i] == '\t') && i > 0) {
			i = next;
			continue;
		}
		if (field_name_len(data + i, l) == 0)
			break;
		info_r->has_date |= is_field(data + i, l, "Date");
		info_r->has_mid |= is_field(data + i, l, "Message-ID");
		info_r->has_from |= is_field(data + i, l, "From");
		i = next;
	}
	info_r->end = i;
}

void sendmail_header_complete(struct sbuf *out, const char *data, size_t len, int64_t now,
			      const char *id, const char *domain, const char *from)
{
	struct sendmail_header_info h;

	sendmail_header_scan(data, len, &h);
	sbuf_add(out, data, h.end);
	/* A last header line without its line end gets one first. */
	if (h.end > 0 && data[h.end - 1] != '\n')
		sbuf_addstr(out, h.eol);
	if (from != NULL && !h.has_from)
		sbuf_addf(out, "From: %s%s", from, h.eol);
	add_date_msgid(out, !h.has_date, !h.has_mid, now, id, domain, h.eol);
	if (!h.blank && h.end < len)
		sbuf_addstr(out, h.eol);
	sbuf_add(out, data + h.end, len - h.end);
}

struct line {
	const char *s;
	size_t len;	/* without the line end */
};

/* The line at *pos (ended by LF or CRLF) into *l, *pos moved past it;
 * false at the end of data.  Lines are walked, not tabled: a table costs
 * 16 bytes a line, more than the message for 3 million short fields. */
static bool next_line(const char *data, size_t len, size_t *pos, struct line *l)
{
	if (*pos >= len)
		return false;
	const char *p = data + *pos, *nl = memchr(p, '\n', len - *pos);
	size_t end = nl ? (size_t)(nl - data) : len;

	l->s = p;
	l->len = end - *pos;
	if (nl && l->len > 0 && data[end - 1] == '\r')
		l->len--;
	*pos = nl ? end + 1 : len;
	return true;
}

static bool is_continuation(const struct line *l)
{
	return l->len > 0 && (l->s[0] == ' ' || l->s[0] == '\t');
}

static bool has_long_line(const char *data, size_t len)
{
	size_t pos = 0;
	struct line l;

	while (next_line(data, len, &pos, &l))
		if (l.len > LINE_MAX_BYTES)
			return true;
	return false;
}

/* Recipients of one To/Cc/Bcc field: line l, then its continuations
 * from pos on. */
static int extract(struct sendmail_msg *m, const char *data, size_t len, const struct line *l,
		   size_t pos)
{
	struct sbuf v = SBUF_INIT;
	size_t name = field_name_len(l->s, l->len);
	struct line c;
	int ret;

	sbuf_add(&v, l->s + name + 1, l->len - name - 1);
	while (next_line(data, len, &pos, &c) && is_continuation(&c)) {
		sbuf_addch(&v, ' ');
		sbuf_add(&v, c.s, c.len);
	}
	ret = addr_list_parse(v.buf, &m->rcpts, &m->error);
	sbuf_release(&v);
	return ret;
}

/* Expands mailrc aliases of recipients without a domain (one level). */
static int expand_aliases(struct sendmail_msg *m)
{
	struct addr_list out = { 0 };

	for (size_t i = 0; i < m->rcpts.n; i++) {
		const char *alias = strchr(m->rcpts.addrs[i], '@') ? NULL :
				    config_alias(m->cfg, m->rcpts.addrs[i]);

		if (alias == NULL)
			addr_list_add(&out, m->rcpts.addrs[i]);
		else if (addr_list_parse(alias, &out, &m->error) < 0) {
			addr_list_free(&out);
			return -1;
		}
	}
	addr_list_free(&m->rcpts);
	m->rcpts = out;
	return 0;
}

int sendmail_prepare(struct sendmail_msg *m, const char *raw, size_t len)
{
	struct line l;
	size_t pos = 0, first = 0, hdr_end, body;	/* byte offsets in raw */
	bool has_header, has_date = false, has_mid = false, has_from = false;
	char date[64], *domain = NULL;
	int ret = EX_DATAERR;

	sbuf_init(&m->out, 0);
	if (len == 0) {
		m->error = "empty message";
		return EX_DATAERR;
	}
	if (memchr(raw, '\0', len) != NULL) {
		m->error = "message contains NUL bytes";
		return EX_DATAERR;
	}
	if (has_long_line(raw, len)) {
		m->error = "line longer than 998 bytes (RFC 5322)";
		return EX_DATAERR;
	}
	/* An mbox "From " line is not part of the message. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0)
		next_line(raw, len, &first, &l);

	pos = first;
	has_header = next_line(raw, len, &pos, &l) && field_name_len(l.s, l.len) > 0;
	hdr_end = body = first;
	if (has_header) {
		for (pos = first; (hdr_end = pos, next_line(raw, len, &pos, &l)) && l.len > 0;) {
			if (is_continuation(&l)) {
				if (hdr_end == first)
					goto malformed;
				continue;
			}
			if (field_name_len(l.s, l.len) == 0)
				goto malformed;
			has_date |= is_field(l.s, l.len, "Date");
			has_mid |= is_field(l.s, l.len, "Message-ID");
			has_from |= is_field(l.s, l.len, "From");
			if (m->extract && (is_field(l.s, l.len, "To") || is_field(l.s, l.len, "Cc") ||
					   is_field(l.s, l.len, "Bcc")) &&
			    extract(m, raw, len, &l, pos) < 0) {
				ret = EX_NOUSER;
				goto out;
			}
		}
		body = pos;	/* past the blank line, or the end */
	}
	if (expand_aliases(m) < 0) {
		ret = EX_NOUSER;
		goto out;
	}
	if (m->rcpts.n == 0) {
		m->error = m->extract ? "no recipients (none given, none in To, Cc or Bcc)"
				      : "no recipients given";
		goto out;
	}
	if (m->rcpts.n > QUEUE_RCPTS_MAX) {
		m->error = "too many recipients";
		goto out;
	}

	domain = config_mail_domain(m->cfg);
	m->env_sender = m->sender ? xstrdup(m->sender) : own_address(m->cfg);
	queue_new_id(m->now, m->id);
	clock_rfc5322(m->now, date, sizeof(date));
	sbuf_addf(&m->out, "Received: by %s (loft sendmail, uid %ld)\n\tid %s; %s\n", domain,
		  (long)getuid(), m->id, date);
	/* The header as given, minus Bcc fields and their continuations. */
	bool bcc = false;
	for (pos = first; pos < hdr_end && next_line(raw, hdr_end, &pos, &l);) {
		if (!is_continuation(&l))
			bcc = is_field(l.s, l.len, "Bcc");
		if (bcc)
			continue;
		sbuf_add(&m->out, l.s, l.len);
		sbuf_addch(&m->out, '\n');
	}
	if (!has_from) {
		const char *real = m->fullname ? m->fullname : config_get(m->cfg, "realname");
		char *addr = *m->env_sender ? xstrdup(m->env_sender) : own_address(m->cfg);

		sbuf_addstr(&m->out, "From: ");
		if (real != NULL && *real && strpbrk(real, "\r\n") == NULL) {
			add_phrase(&m->out, real);
			sbuf_addf(&m->out, " <%s>\n", addr);
		} else {
			sbuf_addf(&m->out, "%s\n", addr);
		}
		free(addr);
	}
	add_date_msgid(&m->out, !has_date, !has_mid, m->now, m->id, domain, "\n");
	sbuf_addch(&m->out, '\n');
	/* The body: the blank line that ended the header is already written. */
	for (pos = body; next_line(raw, len, &pos, &l);) {
		sbuf_add(&m->out, l.s, l.len);
		sbuf_addch(&m->out, '\n');
	}
	ret = EX_OK;
	goto out;
malformed:
	m->error = "malformed header block (a line that is neither a field nor a continuation)";
	ret = EX_DATAERR;
out:
	free(domain);
	return ret;
}

void sendmail_msg_release(struct sendmail_msg *m)
{
	addr_list_free(&m->rcpts);
	free(m->env_sender);
	m->env_sender = NULL;
	sbuf_release(&m->out);
}
