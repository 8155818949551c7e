/* The IMAP pieces mirror mode needs beyond remote/msgs.c: APPEND with an
 * internal date and keywords that reads the APPENDUID (libetpan 1.9.4's
 * append keeps neither), CREATE, and Message-IDs out of ENVELOPEs and
 * headers for matching messages without UIDs. */
#include "remote/remote-private.h"
#include "remote/sync-private.h"
#include "lib/header.h"
#include "lib/imap_utf7.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* folder as an IMAP quoted string in modified UTF-7.  0, or -1. */
static int add_quoted_name(struct sbuf *out, const char *folder, char **error_r)
{
	struct sbuf wire = SBUF_INIT;

	if (imap_utf7_encode(folder, &wire) < 0) {
		sbuf_release(&wire);
		*error_r = xasprintf("folder name '%s' is not UTF-8", folder);
		return -1;
	}
	sbuf_addch(out, '"');
	for (size_t i = 0; i < wire.len; i++) {
		if (wire.buf[i] == '"' || wire.buf[i] == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, wire.buf[i]);
	}
	sbuf_addch(out, '"');
	sbuf_release(&wire);
	return 0;
}

static void add_flags(struct sbuf *out, uint32_t flags, const char *keywords)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ STORE_SEEN, "\\Seen" },	{ STORE_ANSWERED, "\\Answered" },
		{ STORE_FLAGGED, "\\Flagged" }, { STORE_DELETED, "\\Deleted" },
		{ STORE_DRAFT, "\\Draft" },	{ STORE_PASSED, "$Forwarded" },
	};
	bool first = true;

	sbuf_addch(out, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			sbuf_addf(out, "%s%s", first ? "" : " ", names[i].name);
			first = false;
		}
	}
	if (keywords != NULL && *keywords != '\0')
		sbuf_addf(out, "%s%s", first ? "" : " ", keywords);
	sbuf_addch(out, ')');
}

/* The UID of "[APPENDUID validity uid]" in a tagged OK, else 0. */
static uint32_t appenduid_of(const char *text)
{
	const char *p = strcasestr(text, "[APPENDUID ");
	unsigned long v, u;

	if (p == NULL || sscanf(p + 11, "%lu %lu", &v, &u) != 2 || u == 0 || u > UINT32_MAX)
		return 0;
	return (uint32_t)u;
}

/* Reads lines up to the tagged answer of tag (1: a "+" came first when
 * want_plus).  0 OK (*ok_text_r malloc'd when not NULL), 1 "+", -1 NO/BAD
 * or a failed connection. */
static int read_answer(struct remote_conn *c, const char *tag, bool want_plus,
		       char **ok_text_r, char **error_r)
{
	MMAPString *line = mmap_string_new("");
	size_t tl = strlen(tag);
	int r = -1;

	for (;;) {
		if (remote_read_line(c, line, error_r) < 0)
			break;
		if (want_plus && line->str[0] == '+') {
			r = 1;
			break;
		}
		if (strncmp(line->str, tag, tl) != 0 || line->str[tl] != ' ')
			continue;
		if (strncasecmp(line->str + tl + 1, "OK", 2) == 0) {
			if (ok_text_r != NULL)
				*ok_text_r = xstrdup(line->str + tl + 1);
			r = 0;
		} else {
			*error_r = xasprintf("the server refused: %s", line->str + tl + 1);
		}
		break;
	}
	mmap_string_free(line);
	return r;
}

int sync_imap_append(struct remote_conn *c, const char *folder, const char *data, size_t len,
		     uint32_t flags, const char *keywords, int64_t date, uint32_t *uid_r,
		     char **error_r)
{
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	bool plus = remote_has_cap(c, "LITERAL+");
	struct sbuf cmd = SBUF_INIT;
	char tag[16], *ok = NULL;
	int r = -1;

	*uid_r = 0;
	snprintf(tag, sizeof(tag), "L%u", ++c->tag);
	sbuf_addf(&cmd, "%s APPEND ", tag);
	if (add_quoted_name(&cmd, folder, error_r) < 0)
		goto done;
	sbuf_addch(&cmd, ' ');
	add_flags(&cmd, flags & ~(uint32_t)STORE_RECENT, keywords);
	if (date > 0) {
		time_t t = (time_t)date;
		struct tm tm;

		gmtime_r(&t, &tm);
		sbuf_addf(&cmd, " \"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
			  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	sbuf_addf(&cmd, " {%zu%s}\r\n", len, plus ? "+" : "");
	if (remote_write(c, cmd.buf, cmd.len, error_r) < 0)
		goto done;
	if (!plus && read_answer(c, tag, true, NULL, error_r) != 1)
		goto done;
	if (remote_write(c, data, len, error_r) < 0 || remote_write(c, "\r\n", 2, error_r) < 0)
		goto done;
	if (read_answer(c, tag, false, &ok, error_r) < 0)
		goto done;
	*uid_r = remote_has_cap(c, "UIDPLUS") ? appenduid_of(ok) : 0;
	r = 0;
done:
	if (r < 0 && *error_r != NULL) {
		char *e = xasprintf("APPEND to %s: %s", folder, *error_r);

		free(*error_r);
		*error_r = e;
	}
	free(ok);
	sbuf_release(&cmd);
	return r;
}

int sync_imap_folder_cmd(struct remote_conn *c, const char *verb, const char *folder,
			 char **error_r)
{
	struct sbuf cmd = SBUF_INIT;
	int r;

	sbuf_addf(&cmd, "%s ", verb);
	if (add_quoted_name(&cmd, folder, error_r) < 0) {
		sbuf_release(&cmd);
		return -1;
	}
	r = remote_raw_command(c, cmd.buf, NULL, NULL, NULL, error_r);
	sbuf_release(&cmd);
	if (r == 1 && strcasestr(*error_r, "ALREADYEXISTS") != NULL) {
		free(*error_r);
		*error_r = NULL;
		r = 0;
	}
	if (r != 0) {
		char *e = xasprintf("%s %s: %s", verb, folder, *error_r);

		free(*error_r);
		*error_r = e;
		return -1;
	}
	return 0;
}

bool sync_envelope_msgid(const char *envelope, const char **id_r, size_t *len_r)
{
	size_t len = envelope != NULL ? strlen(envelope) : 0;
	const char *end, *p;

	/* The last field: (... "message-id") or (... NIL). */
	if (len < 5 || envelope[len - 1] != ')')
		return false;
	end = envelope + len - 1;
	if (end[-1] != '"')
		return false;
	for (p = end - 2; p > envelope; p--) {
		if (*p == '"') {
			size_t bs = 0;

			for (const char *q = p - 1; q >= envelope && *q == '\\'; q--)
				bs++;
			if (bs % 2 == 0)
				break;
		}
	}
	if (p <= envelope)
		return false;
	*id_r = p + 1;
	*len_r = (size_t)(end - 1 - (p + 1));
	return true;
}

uint64_t sync_envelope_idhash(const char *envelope)
{
	const char *id;
	size_t len;

	return sync_envelope_msgid(envelope, &id, &len) ? sync_id_hash(id, len) : 0;
}

uint64_t sync_message_idhash(const char *data, size_t len)
{
	struct header_iter it;
	struct header_field f;
	size_t body;
	uint64_t h = 0;

	header_iter_init(&it, data, header_block_len(data, len, &body));
	while (header_iter_next(&it, &f)) {
		if (header_field_is(&f, "Message-ID")) {
			struct sbuf v = SBUF_INIT;

			header_unfold(&f, &v);
			h = sync_id_hash(v.buf, v.len);
			sbuf_release(&v);
			break;
		}
	}
	return h;
}
