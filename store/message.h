/* message: the message model — one RFC 5322 / MIME message, parsed by GMime 3.
 *
 * Ownership, once for all: every pointer a message_* function returns (strings,
 * parts, arrays, address lists) is owned by the struct message it came from
 * and stays valid until message_free(), unless the comment says "caller
 * frees".  Strings are NUL-terminated UTF-8 unless said otherwise (decoded
 * content is bytes, with its length).  Nothing here prints: problems are
 * returned through error_r or recorded as defects.  Nothing blocks except
 * message_parse_file() reading its file.  Out of memory aborts.
 *
 * Not thread-safe per message; different messages may be used from
 * different threads once message_init() has run (it runs lazily, once). */
#ifndef LOFT_STORE_MESSAGE_H
#define LOFT_STORE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sbuf;
struct message;
struct message_part;

/* Bounds on what the model builds, so that its memory stays a small
 * multiple of the message's size whatever the message's shape (3 million
 * header fields, a million parts, a 40 MB folded header line...).  They are
 * applied before GMime sees the message (store/message_cap.c), to every
 * header block: the top one, each MIME part's, each embedded message's.
 * A message over a cap is still returned, with a defect recorded
 * ("header-limit", "part-limit", "depth-limit"), and message_raw() still
 * gives every byte; only the model's view is cut:
 *  - a header field past max_fields in its block, past max_total_fields in
 *    the message, or whose lines would take the header bytes past
 *    max_header_bytes, is left out together with the rest of its block
 *    (message_header*, Sieve's header/exists/address tests do not see it;
 *    the block's body is kept);
 *  - a part (a header block) past max_parts, or deeper than max_depth,
 *    ends the view: it and everything after it are not parsed (the
 *    enclosing multipart becomes a leaf, its content empty);
 *  - a part at the depth limit becomes a leaf (its content empty). */
struct message_limits {
	unsigned max_depth;		/* nesting of multiparts/messages; default 64 */
	size_t max_header_bytes;	/* header lines kept, all blocks, line ends included; 1 MiB */
	unsigned max_parts;		/* parts in the whole tree; default 10,000 */
	unsigned max_fields;		/* header fields kept per header block; default 1,000 */
	unsigned max_total_fields;	/* header fields kept, all blocks; default 20,000 */
};
#define MESSAGE_LIMITS_DEFAULT { 64, 1024 * 1024, 10000, 1000, 20000 }

/* Would message_parse() cut data to fit lim (NULL: the defaults)?  A scan
 * without GMime, linear in len, allocating only a boundary stack.  NULL
 * when within every cap, else the defect of the first cap exceeded (a
 * static string).  For callers that hand the message to another parser
 * with no caps (notmuch indexing). */
const char *message_over_limits(const char *data, size_t len, const struct message_limits *lim);
/* The same for a file (mapped, not read into memory); NULL also when it
 * cannot be read (the caller's own open will say why). */
const char *message_file_over_limits(const char *path, const struct message_limits *lim);

/* Initialises GMime once (LOOSE RFC 2047, parameter and address parsing;
 * addresses without a domain allowed).  Called by message_parse* on first
 * use; calling it yourself is harmless.  message_deinit() shuts GMime down
 * (call at exit so leak checkers stay quiet; no message may be alive). */
void message_init(void);
void message_deinit(void);

/* Parses len bytes (need not be NUL-terminated; copied).  lim may be NULL
 * for MESSAGE_LIMITS_DEFAULT.  Returns a new message (free with
 * message_free()) or NULL with *error_r set to a static string; only input
 * GMime cannot make a message of at all fails: broken MIME gives a message
 * with defects.  A leading UTF-8 BOM and an mbox "From " line are skipped. */
struct message *message_parse(const char *data, size_t len,
			      const struct message_limits *lim, const char **error_r);
/* The same without a copy: data must stay valid and unchanged until
 * message_free(); message_raw() then points into it.  For callers that
 * hold a big message already (delivery). */
struct message *message_parse_borrowed(const char *data, size_t len,
				       const struct message_limits *lim, const char **error_r);
/* The same for a file; NULL with *error_r (strerror text) when unreadable.
 * *errno_r, if not NULL, gets errno (0 when the file read but did not parse). */
struct message *message_parse_file(const char *path, const struct message_limits *lim,
				   int *errno_r, const char **error_r);
/* Frees the message and everything it returned; sets *msgp to NULL. */
void message_free(struct message **msgp);

/* The raw bytes given to message_parse (after BOM/From-line skipping). */
const char *message_raw(const struct message *msg, size_t *len_r);

/* ---- headers ---- */

/* First header called name (case-insensitive), unfolded, RFC 2047 decoded,
 * as UTF-8 (raw 8-bit bytes: UTF-8 if valid, else windows-1252).  NULL when
 * absent. */
const char *message_header(const struct message *msg, const char *name);
/* The same value unfolded but not decoded (bytes as in the message). */
const char *message_header_raw(const struct message *msg, const char *name);
/* Number of header fields; message_header_at gives name and decoded value
 * of the i-th (0-based).  Returns -1 when i is out of range. */
int message_header_count(const struct message *msg);
int message_header_at(const struct message *msg, int i, const char **name_r,
		      const char **value_r);
/* The same with the value unfolded but not decoded (for parsers that
 * must see the header's syntax, such as Sieve's address test: a decoded
 * display name may contain commas).  -1 when i is out of range. */
int message_header_raw_at(const struct message *msg, int i, const char **name_r,
			  const char **raw_r);

struct message_address {
	const char *name;	/* display name, decoded; "" when none */
	const char *addr;	/* addr-spec; "" for an empty group */
	const char *group;	/* group display name, or NULL outside a group */
};
/* Address list of header name ("From", "To", "Cc", "Bcc", "Reply-To",
 * "Sender"), groups flattened.  Returns the count (0 when absent) and the
 * array in *addrs_r (owned by the message). */
size_t message_addresses(const struct message *msg, const char *name,
			 const struct message_address **addrs_r);

/* Date header: 0 and *t_r, *tz_offset_r (seconds east of UTC) when it parses;
 * -1 when absent or unparsable ("no date"). */
int message_date(const struct message *msg, time_t *t_r, int *tz_offset_r);
/* Message-ID / In-Reply-To without angle brackets (NULL when absent or
 * empty).  References: count returned, ids (without <>) in *ids_r. */
const char *message_id(const struct message *msg);
const char *message_in_reply_to(const struct message *msg);
size_t message_references(const struct message *msg, const char *const **ids_r);

/* ---- the MIME tree ---- */

struct message_param {
	const char *name;	/* lowercased */
	const char *value;	/* RFC 2231 (and RFC 2047 in quotes) decoded, UTF-8 */
};

/* The top part (the message body; never NULL). */
const struct message_part *message_root(const struct message *msg);
/* Every part in depth-first order (embedded messages' parts included); the
 * part's index in this array is its message_part_id() - 1. */
size_t message_parts(const struct message *msg, const struct message_part *const **parts_r);
/* The part with IMAP section number section ("1", "2.1", "3.1.2"; "" or
 * "0" is the root), or NULL. */
const struct message_part *message_find_part(const struct message *msg, const char *section);

/* Defects found in the message (top-level headers) or a part: a NULL-ended
 * array of static strings such as "missing-boundary". */
const char *const *message_defects(const struct message *msg);
const char *const *message_part_defects(const struct message_part *part);

const char *message_part_type(const struct message_part *part);		/* "text/plain", lowercased */
const char *message_part_declared_type(const struct message_part *part); /* raw Content-Type value or NULL */
const char *message_part_section(const struct message_part *part);	/* "1.2"; "" for the root */
unsigned message_part_id(const struct message_part *part);		/* 1-based depth-first number */
unsigned message_part_depth(const struct message_part *part);		/* 0 for the root */
const char *message_part_param(const struct message_part *part, const char *name); /* or NULL */
size_t message_part_params(const struct message_part *part, const struct message_param **params_r);
const char *message_part_charset(const struct message_part *part);	/* declared, or NULL */
const char *message_part_disposition(const struct message_part *part); /* lowercased, or NULL */
const char *message_part_filename(const struct message_part *part);	/* disposition filename, else type name, or NULL */
const char *message_part_encoding(const struct message_part *part);	/* lowercased CTE header, or NULL */
const char *message_part_boundary(const struct message_part *part);	/* multipart boundary or NULL */
/* A header of this part's own header block (decoded) or NULL. */
const char *message_part_header(const struct message_part *part, const char *name);
int message_part_is_multipart(const struct message_part *part);
int message_part_is_attachment(const struct message_part *part);	/* disposition attachment, or a filename on a non-text part */
/* Children of a multipart, or for message/rfc822 the one top part of the
 * embedded message; count returned. */
size_t message_part_children(const struct message_part *part,
			     const struct message_part *const **children_r);
/* For message/rfc822 (and message/global): the embedded message's header
 * view (use with message_header() etc.), else NULL. */
const struct message *message_part_embedded(const struct message_part *part);

/* Bytes of a leaf part after transfer decoding (multiparts: empty).  Computed
 * once and cached; *len_r gets the size.  Never NULL. */
const char *message_part_content(const struct message_part *part, size_t *len_r);
size_t message_part_decoded_size(const struct message_part *part);
/* SHA-256 of the decoded content as 64 hex digits. */
const char *message_part_sha256(const struct message_part *part);
/* The content of a text part converted to UTF-8 (charset aliases applied;
 * invalid input becomes U+FFFD); format=flowed reflowed when reflow != 0.
 * Caller frees.  Line endings are kept as in the decoded content. */
char *message_part_text(const struct message_part *part, int reflow, size_t *len_r);

/* ---- text helpers (store/message_text.c) ---- */

/* Converts len bytes in charset (NULL = us-ascii) to UTF-8, appended to out.
 * Aliases: ks_c_5601-1987 -> CP949, x-sjis/shift_jis -> CP932, gb2312 ->
 * GB18030, big5 -> BIG5-HKSCS, unknown-8bit/x-unknown -> windows-1252...
 * An unknown charset is treated as UTF-8 with windows-1252 fallback.  Returns
 * 0, or -1 when some bytes were invalid (replaced by U+FFFD). */
int message_charset_to_utf8(const char *charset, const char *data, size_t len, struct sbuf *out);
/* The iconv name loft uses for a MIME charset name (static or charset). */
const char *message_charset_canon(const char *charset);
/* Appends a UTF-8 version of data: valid UTF-8 is copied; otherwise each
 * invalid byte is taken as windows-1252. */
void message_utf8_or_latin1(const char *data, size_t len, struct sbuf *out);
/* RFC 3676 reflow of UTF-8 text (lines ending in LF or CRLF): soft breaks
 * (a line ending in a space) are joined; delsp removes that space; quote
 * depth and space-stuffing are honoured.  Appended to out. */
void message_flowed_reflow(const char *text, size_t len, int delsp, struct sbuf *out);

/* ---- IMAP (store/message_imap.c) ---- */

/* ENVELOPE and BODYSTRUCTURE (extended) / BODY (extensible = 0) strings of
 * RFC 3501 7.4.2, appended to out, with literals where a string needs one.
 * Sizes and line counts are those of the message with CRLF line ends. */
void message_imap_envelope(const struct message *msg, struct sbuf *out);
void message_imap_bodystructure(const struct message *msg, int extensible, struct sbuf *out);
/* BODY from a BODYSTRUCTURE string message_imap_bodystructure() wrote
 * (bs[0..len), extension data included): the same string without the
 * extension data, as message_imap_bodystructure(msg, 0) would write it,
 * so FETCH BODY can use the cached BODYSTRUCTURE instead of a parse.
 * Appended to out; 0, or -1 (out unchanged) when bs is not such a
 * string. */
int message_imap_body_of(const char *bs, size_t len, struct sbuf *out);
/* The raw bytes of IMAP body section part ("1.2"; the whole message has
 * no section of its own here) appended to out: with mime 0 the part's body
 * as it is in the message (still transfer-encoded; for message/rfc822 the
 * embedded message), with mime 1 its header block and the blank line after
 * it (the MIME section).  Line ends as stored.  Returns 0, or -1 when the
 * message has no such part. */
int message_imap_section(const struct message *msg, const char *part, int mime,
			 struct sbuf *out);
/* Appends s as an IMAP nstring: NIL for NULL, a quoted string, or a literal
 * when s has CR, LF, NUL or 8-bit bytes. */
void message_imap_nstring(struct sbuf *out, const char *s);

#endif
