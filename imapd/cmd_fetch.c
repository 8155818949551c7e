/* FETCH: every RFC 3501 item -- FLAGS, INTERNALDATE, RFC822.SIZE, UID,
 * ENVELOPE, BODY, BODYSTRUCTURE, BODY[section]<partial> and BODY.PEEK,
 * RFC822, RFC822.HEADER, RFC822.TEXT -- and MODSEQ (CONDSTORE).
 *
 * Messages go out with CRLF line ends whatever the file has, and sizes
 * (RFC822.SIZE, partial offsets) count that form, as the message model's
 * BODYSTRUCTURE sizes do. */
#include "imapd/session-private.h"

#include "lib/arena.h"
#include "lib/net.h"
#include "lib/clock.h"
#include "lib/sbuf.h"
#include "store/message.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum fetch_simple {
	F_UID = 1 << 0, F_FLAGS = 1 << 1, F_INTERNALDATE = 1 << 2, F_SIZE = 1 << 3,
	F_ENVELOPE = 1 << 4, F_BODY = 1 << 5, F_BODYSTRUCTURE = 1 << 6, F_MODSEQ = 1 << 7,
};

struct fetch_item {
	const char *name;	/* as it goes back: "BODY[1.MIME]<0>", "RFC822" */
	struct imap_section sec;
	bool peek;
};

struct fetch {
	unsigned simple;
	struct fetch_item *items;
	unsigned n;
	bool needs_body;	/* the message text must be read */
	bool sets_seen;
};

void fetch_flags_reply(struct imapd_session *s, uint32_t seq, const struct store_msg *m)
{
	struct sbuf sb = SBUF_INIT;

	imapd_kw_announce(s, m);
	sbuf_addf(&sb, "* %u FETCH (", seq);
	/* RFC 7162 3.2.4: with QRESYNC every FETCH response has the UID. */
	if (s->uid_cmd || s->qresync)
		sbuf_addf(&sb, "UID %u ", m->uid);
	sbuf_addstr(&sb, "FLAGS ");
	imapd_mbox_flags_out(s->mbox, m, &sb);
	if (s->condstore)
		sbuf_addf(&sb, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	sbuf_addstr(&sb, ")\r\n");
	conn_write(s->conn, sb.buf, sb.len);
	sbuf_release(&sb);
}

static int add_item(struct imapd_session *s, struct fetch *f, const struct imap_arg *a,
		    const char **err)
{
	static const struct {
		const char *name;
		unsigned bits;
	} simple[] = {
		{ "UID", F_UID }, { "FLAGS", F_FLAGS }, { "INTERNALDATE", F_INTERNALDATE },
		{ "RFC822.SIZE", F_SIZE }, { "ENVELOPE", F_ENVELOPE }, { "BODY", F_BODY },
		{ "BODYSTRUCTURE", F_BODYSTRUCTURE }, { "MODSEQ", F_MODSEQ },
		{ "ALL", F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE },
		{ "FAST", F_FLAGS | F_INTERNALDATE | F_SIZE },
		{ "FULL", F_FLAGS | F_INTERNALDATE | F_SIZE | F_ENVELOPE | F_BODY },
	};
	if (a->type != IMAP_ARG_ATOM)
		goto bad;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a->str, simple[i].name) == 0) {
			f->simple |= simple[i].bits;
			if (simple[i].bits & F_MODSEQ)
				s->condstore = true;
			return 0;
		}
	struct fetch_item *it = &f->items[f->n];
	memset(it, 0, sizeof(*it));
	if (strcasecmp(a->str, "RFC822") == 0 || strcasecmp(a->str, "RFC822.HEADER") == 0 ||
	    strcasecmp(a->str, "RFC822.TEXT") == 0) {
		it->name = a->str[6] ? (a->str[7] == 'H' || a->str[7] == 'h' ? "RFC822.HEADER"
									     : "RFC822.TEXT")
				     : "RFC822";
		it->sec.part = "";
		it->sec.text = a->str[6] ? (it->name[7] == 'H' ? "HEADER" : "TEXT") : "";
		it->sec.count = UINT64_MAX;
		/* RFC822.HEADER is BODY.PEEK[HEADER]; RFC822 and RFC822.TEXT set \Seen */
		it->peek = strcmp(it->name, "RFC822.HEADER") == 0;
	} else if (strchr(a->str, '[') != NULL) {
		if (imap_section_parse(a->str, s->arena, &it->sec, err) < 0)
			return -1;
		if (strcmp(it->sec.item, "BODY") != 0 && strcmp(it->sec.item, "BODY.PEEK") != 0)
			goto bad;
		it->peek = strcmp(it->sec.item, "BODY.PEEK") == 0;
		it->name = it->sec.partial ? arena_printf(s->arena, "BODY[%s]<%llu>", it->sec.spec,
							  (unsigned long long)it->sec.offset)
					   : arena_printf(s->arena, "BODY[%s]", it->sec.spec);
	} else {
		goto bad;
	}
	f->needs_body = true;
	f->sets_seen |= !it->peek;
	f->n++;
	return 0;
bad:
	*err = "Unknown FETCH item.";
	return -1;
}

/* Copies data to out with bare LFs made CRLF. */
static void add_crlf(struct sbuf *out, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r'))
			sbuf_addch(out, '\r');
		sbuf_addch(out, d[i]);
	}
}

/* Length of the header block of msg (through the blank line). */
static size_t header_len(const char *d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (d[i] == '\n' && d[i + 1] == '\n')
			return i + 2;
		if (d[i] == '\n' && d[i + 1] == '\r' && i + 2 < n && d[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

/* The header lines of block (CRLF form) whose names are (not) listed. */
static void filter_header(const char *h, size_t n, const struct imap_section *sec, bool not,
			  struct sbuf *out)
{
	size_t i = 0;

	while (i < n) {
		size_t end = i;
		/* a field: its first line and the folded ones */
		do {
			while (end < n && h[end] != '\n')
				end++;
			end++;
		} while (end < n && (h[end] == ' ' || h[end] == '\t'));
		if (end > n)
			end = n;
		const char *colon = memchr(h + i, ':', end - i);
		if (colon == NULL) {	/* the blank line */
			i = end;
			continue;
		}
		size_t len = (size_t)(colon - (h + i));
		while (len > 0 && (h[i + len - 1] == ' ' || h[i + len - 1] == '\t'))
			len--;
		bool listed = false;
		for (unsigned f = 0; f < sec->n_fields && !listed; f++)
			listed = strlen(sec->fields[f]) == len && strncasecmp(sec->fields[f], h + i, len) == 0;
		if (listed != not)
			sbuf_add(out, h + i, end - i);
		i = end;
	}
	sbuf_addstr(out, "\r\n");
}

static bool is_message_part(const struct message_part *p)
{
	const char *t = p ? message_part_type(p) : "";

	return strcmp(t, "message/rfc822") == 0 || strcmp(t, "message/global") == 0;
}

/* The section whose header is the MIME header of part: a single-part body
 * (part "1" of the message, "N.1" of a message/rfc822 part N) has no
 * header of its own, the enclosing message's is its MIME header (RFC 3501
 * 6.4.5).  Returns the enclosing section ("" for the message itself) in
 * the arena, or NULL when part has a header block of its own. */
static const char *mime_header_owner(struct arena *arena, const struct message *msg,
				     const char *part)
{
	const char *dot = strrchr(part, '.');
	const char *last = dot ? dot + 1 : part;
	char *parent = arena_strndup(arena, part, dot ? (size_t)(dot - part) : 0);

	if (strcmp(last, "1") != 0)
		return NULL;
	if (*parent == '\0')
		return message_part_is_multipart(message_root(msg)) ? NULL : parent;
	if (!is_message_part(message_find_part(msg, parent)))
		return NULL;
	const struct message_part *body = message_find_part(msg, part);
	return body != NULL && !message_part_is_multipart(body) ? parent : NULL;
}

/* The bytes of a section of the message (CRLF form, whole); -1 when the
 * message has no such part. */
static int section_bytes(struct arena *arena, const char *raw, size_t rawlen,
			 struct message *msg, const struct imap_section *sec, struct sbuf *out)
{
	struct sbuf part = SBUF_INIT;
	const char *d = raw, *owner;
	size_t n = rawlen;
	const char *text = sec->text;
	bool mime = strcmp(text, "MIME") == 0;

	if (*sec->part) {
		if (msg == NULL)
			return -1;
		if (mime && (owner = mime_header_owner(arena, msg, sec->part)) != NULL) {
			text = "HEADER";
			if (*owner && message_imap_section(msg, owner, 0, &part) < 0)
				goto fail;
			if (*owner) {
				d = part.buf;
				n = part.len;
			}
		} else {
			if (message_imap_section(msg, sec->part, mime, &part) < 0)
				goto fail;
			d = part.buf;
			n = part.len;
			if (mime)
				text = "";
			/* HEADER and TEXT exist in message/rfc822 parts only:
			 * elsewhere they are empty, as in Dovecot. */
			else if (*text && !is_message_part(message_find_part(msg, sec->part)))
				n = 0;
		}
	}
	size_t hl = header_len(d, n);
	if (*text == '\0')
		add_crlf(out, d, n);
	else if (strcmp(text, "HEADER") == 0)
		add_crlf(out, d, hl);
	else if (strcmp(text, "TEXT") == 0)
		add_crlf(out, d + hl, n - hl);
	else if (n > 0) {
		struct sbuf h = SBUF_INIT;
		add_crlf(&h, d, hl);
		filter_header(h.buf, h.len, sec, strcmp(text, "HEADER.FIELDS.NOT") == 0, out);
		sbuf_release(&h);
	}
	sbuf_release(&part);
	return 0;
fail:
	sbuf_release(&part);
	return -1;
}

/* A section of the message itself (no part number) read from its file:
 * only the bytes asked for (the partial), or for header fields the header
 * alone.  Sections of parts go through section_bytes(). */
static int section_stream(struct imapd_session *s, uint32_t uid, const struct imap_section *sec,
			  struct sbuf *out)
{
	const char *text = sec->text;
	uint64_t hl = 0, off = sec->offset, cnt = sec->count;

	if (*text == '\0')
		return imapd_mbox_read_crlf(s, uid, false, off, cnt, out, NULL);
	if (strcmp(text, "HEADER") == 0)
		return imapd_mbox_read_crlf(s, uid, true, off, cnt, out, NULL);
	if (strcmp(text, "TEXT") == 0) {
		if (imapd_mbox_read_crlf(s, uid, true, 0, UINT64_MAX, NULL, &hl) < 0)
			return -1;
		return imapd_mbox_read_crlf(s, uid, false, hl + off, cnt, out, NULL);
	}
	/* HEADER.FIELDS (.NOT): filtered, then cut like any section. */
	struct sbuf h = SBUF_INIT, fields = SBUF_INIT;
	if (imapd_mbox_read_crlf(s, uid, true, 0, UINT64_MAX, &h, NULL) < 0) {
		sbuf_release(&h);
		return -1;
	}
	filter_header(h.buf, h.len, sec, strcmp(text, "HEADER.FIELDS.NOT") == 0, &fields);
	off = off < fields.len ? off : fields.len;
	sbuf_add(out, fields.buf + off, (size_t)(fields.len - off));
	sbuf_release(&fields);
	sbuf_release(&h);
	return 0;
}

static void add_date(struct sbuf *out, int64_t t)
{
	char buf[64];

	sbuf_addf(out, "\"%s\"", clock_imap_date(t, buf, sizeof(buf)));
}

/* One message's FETCH response; -1 when its file cannot be read. */
static int fetch_one(struct imapd_session *s, const struct fetch *f, uint32_t seq,
		     const struct store_msg *m, bool seen_now)
{
	struct sbuf out = SBUF_INIT, raw = SBUF_INIT, bs = SBUF_INIT, body = SBUF_INIT;
	struct message *msg = NULL;
	const char *err;
	bool first = true;
	int ret = -1;
	uint32_t uid = m->uid;

	/* FLAGS go along only when \Seen changed (6.4.5) */
	if (seen_now)
		imapd_mbox_note_reported(s->mbox, uid, m->modseq);
	if ((f->simple & F_FLAGS) || seen_now)
		imapd_kw_announce(s, m);
	/* Part numbers need the message parsed; the rest is read from the
	 * state (BODYSTRUCTURE cached, BODY made from it) or streamed from
	 * the file. */
	bool need_msg = false;
	for (unsigned i = 0; i < f->n; i++)
		need_msg |= *f->items[i].sec.part != '\0';
	if ((f->simple & (F_BODY | F_BODYSTRUCTURE)) &&
	    store_folder_bodystructure(s->mbox->f, uid, &bs, &err) != 1) {
		sbuf_reset(&bs);
		need_msg = true;
	}
	if ((f->simple & F_BODY) && bs.len > 0 && message_imap_body_of(bs.buf, bs.len, &body) < 0)
		need_msg = true;
	if (need_msg && store_msg_read(s->mbox->f, uid, &raw, &err) < 0)
		goto out;
	if (need_msg && (msg = message_parse(raw.buf, raw.len, NULL, &err)) == NULL)
		goto out;
#define SEP() (first ? (void)(first = false) : (void)sbuf_addch(&out, ' '))
	sbuf_addf(&out, "* %u FETCH (", seq);
	if ((f->simple & F_UID) || s->uid_cmd) {
		SEP();
		sbuf_addf(&out, "UID %u", uid);
	}
	if ((f->simple & F_FLAGS) || seen_now) {
		SEP();
		sbuf_addstr(&out, "FLAGS ");
		imapd_mbox_flags_out(s->mbox, m, &out);
	}
	if (f->simple & F_INTERNALDATE) {
		SEP();
		sbuf_addstr(&out, "INTERNALDATE ");
		add_date(&out, m->internal_date);
	}
	if (f->simple & F_SIZE) {
		uint64_t size = 0;
		if (imapd_mbox_crlf_size(s, m, &size) < 0)
			goto out;
		SEP();
		sbuf_addf(&out, "RFC822.SIZE %llu", (unsigned long long)size);
	}
	if (f->simple & F_ENVELOPE) {
		SEP();
		sbuf_addstr(&out, "ENVELOPE ");
		if (store_folder_envelope(s->mbox->f, uid, &out, &err) != 1) {
			struct message *em = msg;
			struct sbuf r2 = SBUF_INIT;
			if (em == NULL && store_msg_read(s->mbox->f, uid, &r2, &err) == 0)
				em = message_parse(r2.buf, r2.len, NULL, &err);
			if (em)
				message_imap_envelope(em, &out);
			else
				sbuf_addstr(&out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
			if (em != msg)
				message_free(&em);
			sbuf_release(&r2);
		}
	}
	if (f->simple & F_BODY) {
		SEP();
		sbuf_addstr(&out, "BODY ");
		if (body.len)
			sbuf_add(&out, body.buf, body.len);
		else
			message_imap_bodystructure(msg, 0, &out);
	}
	if (f->simple & F_BODYSTRUCTURE) {
		SEP();
		sbuf_addstr(&out, "BODYSTRUCTURE ");
		if (bs.len)
			sbuf_add(&out, bs.buf, bs.len);
		else
			message_imap_bodystructure(msg, 1, &out);
	}
	if ((f->simple & F_MODSEQ) || (s->condstore && seen_now)) {
		SEP();
		sbuf_addf(&out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
	}
	for (unsigned i = 0; i < f->n; i++) {
		const struct fetch_item *it = &f->items[i];
		struct sbuf data = SBUF_INIT;

		SEP();
		sbuf_addf(&out, "%s ", it->name);
		uint64_t off = 0;
		/* A stream fails only when the file is gone: no reply for
		 * this message; a missing part is NIL. */
		if (msg == NULL && section_stream(s, uid, &it->sec, &data) < 0) {
			sbuf_release(&data);
			goto out;
		}
		if (msg != NULL && section_bytes(s->arena, raw.buf, raw.len, msg, &it->sec, &data) < 0) {
			sbuf_addstr(&out, "NIL");
			continue;
		}
		if (msg != NULL)	/* the whole section: cut the partial */
			off = it->sec.offset < data.len ? it->sec.offset : data.len;
		uint64_t cnt = data.len - off < it->sec.count ? data.len - off : it->sec.count;
		sbuf_addf(&out, "{%llu}\r\n", (unsigned long long)cnt);
		sbuf_add(&out, data.buf + off, (size_t)cnt);
		sbuf_release(&data);
	}
#undef SEP
	sbuf_addstr(&out, ")\r\n");
	conn_write(s->conn, out.buf, out.len);
	ret = 0;
out:
	message_free(&msg);
	sbuf_release(&body);
	sbuf_release(&bs);
	sbuf_release(&raw);
	sbuf_release(&out);
	return ret;
}

static void cmd_fetch(struct imapd_session *s, const struct imap_arg *args, unsigned n)
{
	struct mbox_view *v = s->mbox;
	struct fetch f = { 0 };
	struct imap_seqset set;
	const char *err;

	if (n < 2 || args[0].type != IMAP_ARG_ATOM) {
		sess_reply(s, "BAD", "FETCH takes a set and items.");
		return;
	}
	if (imapd_mbox_set(s, args[0].str, s->uid_cmd, &set, &err) < 0) {
		sess_reply(s, "BAD", "%s", err);
		return;
	}
	const struct imap_arg *items = &args[1];
	unsigned ni = 1;
	if (items->type == IMAP_ARG_LIST) {
		ni = items->count;
		items = items->list;
	}
	/* (CHANGEDSINCE n [VANISHED]), RFC 7162 3.1.4.1 and 3.2.6 */
	uint64_t changedsince = 0;
	bool vanished = false;
	if (n == 3 && args[2].type == IMAP_ARG_LIST) {
		const struct imap_arg *mod = args[2].list;
		unsigned nm = args[2].count;
		for (unsigned j = 0; j < nm; j++) {
			if (imap_arg_is_atom(&mod[j], "CHANGEDSINCE") && j + 1 < nm &&
			    imapd_parse_modseq(&mod[j + 1], &changedsince) == 0) {
				j++;
				s->condstore = true;
				f.simple |= F_MODSEQ;
			} else if (imap_arg_is_atom(&mod[j], "VANISHED") && s->qresync && s->uid_cmd) {
				vanished = true;
			} else {
				sess_reply(s, "BAD", "Invalid FETCH modifier.");
				return;
			}
		}
		if (vanished && !(f.simple & F_MODSEQ)) {
			sess_reply(s, "BAD", "VANISHED needs CHANGEDSINCE.");
			return;
		}
	} else if (n != 2) {
		sess_reply(s, "BAD", "Unknown FETCH modifier.");
		return;
	}
	f.items = arena_calloc(s->arena, ni ? ni : 1, sizeof(*f.items));
	for (unsigned i = 0; i < ni; i++)
		if (add_item(s, &f, &items[i], &err) < 0) {
			sess_reply(s, "BAD", "%s", err);
			return;
		}
	if (vanished)
		imapd_vanished_earlier(s, changedsince, args[0].str);
	/* \Seen for every body fetched without PEEK: one store call. */
	size_t nseen = 0, k = 0;
	uint32_t *seen = NULL;
	if (f.sets_seen && !v->readonly) {
		bool ghosts;
		seen = imapd_mbox_set_uids(s, &set, s->uid_cmd, &nseen, &ghosts);
		size_t w = 0;
		for (size_t i = 0; i < nseen; i++) {
			const struct store_msg *m = store_folder_find(v->f, seen[i]);
			if (!(m->flags & STORE_SEEN) && !(changedsince && m->modseq <= changedsince))
				seen[w++] = seen[i];
		}
		struct store_flag_change ch = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN };
		uint32_t *mod = NULL;
		size_t nmod;
		nseen = w;
		if (nseen > 0 && imapd_mbox_store(s, seen, nseen, &ch, &mod, &nmod) < 0)
			nseen = 0;
		free(mod);
	}
	bool gone = false;
	unsigned batch = 0;
	struct imapd_set_iter it = { 0 };
	for (uint32_t seq; (seq = imapd_mbox_set_next(v, &set, s->uid_cmd, &it)) != 0;) {
		const struct store_msg *m = imapd_mbox_msg(s, seq);
		if (m == NULL) {
			gone = true;
			continue;
		}
		if (changedsince && m->modseq <= changedsince)
			continue;
		while (k < nseen && seen[k] < m->uid)	/* both ascending */
			k++;
		if (fetch_one(s, &f, seq, m, k < nseen && seen[k] == m->uid) < 0)
			gone = true;
		/* Bodies are not piled up in memory, nor the replies of a
		 * 100,000-message FETCH: out they go. */
		if ((f.needs_body || ++batch % 256 == 0) && conn_flush(s->conn) < 0) {
			s->fatal = true;
			return;
		}
	}
	/* A UID set may name UIDs that no longer exist: UID FETCH answers
	 * the others and says OK; FETCH by number says NO (RFC 2180 4.1
	 * allows both). */
	if (gone && s->uid_cmd)
		sess_reply(s, "OK", "UID FETCH completed; some of the messages no longer exist.");
	else if (gone)
		sess_reply(s, "NO", "Some of the messages no longer exist.");
}

const struct sess_command cmd_fetch_table[] = {
	{ "FETCH", cmd_fetch, SESS_SELECTED, true },
	{ NULL, NULL, 0, false },
};
