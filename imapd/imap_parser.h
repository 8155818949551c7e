/* imap_parser: the IMAP command parser, fed bytes by the caller.
 *
 * The parser frames one command at a time: it scans the bytes handed to
 * imap_parser_feed() (any split, one byte at a time included), follows
 * quoted strings and literals, and stops to ask the caller about every
 * literal before taking its data, so the caller can check the size against
 * its limit and only then send "+ OK" (RFC 3501 7.5, RFC 7888).  A complete
 * command becomes a tree of arguments (struct imap_arg) in the caller's
 * arena.  Limits (line length, literal and command size, nesting depth,
 * number of arguments) are checked as the bytes arrive, before memory is
 * spent on them.  After an error the parser skips to the end of the line
 * (and past the data of a non-synchronising literal announced at its end),
 * then starts afresh: the next command is parsed normally.
 *
 * Memory: the parser owns its buffer (at most max_command bytes);
 * everything in a struct imap_command lives in the arena given to
 * imap_parser_command() and stays valid until that arena is cleared.
 * Nothing here blocks, prints or exits. */
#ifndef LOFT_IMAPD_IMAP_PARSER_H
#define LOFT_IMAPD_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mailbox names in modified UTF-7: imap_utf7_encode/decode. */
#include "lib/imap_utf7.h"

struct arena;
struct imap_parser;

struct imap_parser_limits {
	size_t max_line;	/* bytes of one line outside literals; 0: 64 KiB */
	size_t max_command;	/* bytes of a whole command, literals included;
				 * 0: 64 MiB */
	unsigned max_depth;	/* nesting of ( ) and [ ]; 0: 32 */
	unsigned max_args;	/* arguments in the whole tree; 0: 10,000 */
};

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* also flags (\Seen), sequence sets, BODY[...]<..> */
	IMAP_ARG_NIL,		/* the atom NIL (str is "NIL") */
	IMAP_ARG_STRING,	/* a quoted string, unescaped */
	IMAP_ARG_LITERAL,	/* {N} / {N+} / ~{N}: may hold NUL bytes */
	IMAP_ARG_LIST,		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;			/* LITERAL written as ~{N} */
	const char *str;		/* NUL-terminated (also for LIST: "") */
	size_t len;			/* bytes of str (NUL bytes possible) */
	const struct imap_arg *list;	/* LIST: its elements */
	unsigned count;			/* LIST: number of elements */
};

struct imap_command {
	const char *tag;
	const char *name;		/* as sent; compare case-insensitively */
	const struct imap_arg *args;
	unsigned count;
};

enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,	/* bad input: imap_parser_error() says why */
	IMAP_PARSE_MORE = 0,	/* every byte used, the command is incomplete */
	IMAP_PARSE_COMMAND = 1,	/* a command is complete: imap_parser_command() */
	IMAP_PARSE_LITERAL = 2,	/* a literal is announced: decide with
				 * imap_parser_literal_accept() or _reject() */
};

/* lim may be NULL for the defaults.  Never NULL. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim);
/* NULL-safe; sets *pp to NULL. */
void imap_parser_free(struct imap_parser **pp);

/* Scans up to len bytes; *used_r gets how many were taken (the rest must
 * be fed again, after the caller acted on the result).  Returns one of
 * enum imap_parse_result.  While a literal waits for a decision, feed
 * returns IMAP_PARSE_LITERAL again and takes nothing. */
int imap_parser_feed(struct imap_parser *p, const void *data, size_t len, size_t *used_r);

/* The literal announced (after IMAP_PARSE_LITERAL): its size and whether
 * it is synchronising ({N}: the client waits for "+").  The command so far
 * is known: its tag and name (either "" when not yet sent). */
uint64_t imap_parser_literal_size(const struct imap_parser *p);
bool imap_parser_literal_sync(const struct imap_parser *p);
/* Accepts the literal: its bytes are taken by the next feeds.  The caller
 * sends the continuation for a synchronising one. */
void imap_parser_literal_accept(struct imap_parser *p);
/* Refuses it: the command is dropped.  A synchronising literal is never
 * sent by the client, so the next bytes start a new command; for a
 * non-synchronising one the data follows anyway and the caller should
 * answer and end the connection (RFC 7888 section 4).  The parser skips
 * that data if it is fed on. */
void imap_parser_literal_reject(struct imap_parser *p);

/* Tag and command name of the command being parsed, or of the one that just
 * failed ("" when not seen yet; the tag "*" stands for an invalid one).
 * Valid until the next feed. */
const char *imap_parser_tag(const struct imap_parser *p);
const char *imap_parser_name(const struct imap_parser *p);
/* Why the last IMAP_PARSE_ERROR: a static sentence for a BAD reply. */
const char *imap_parser_error(const struct imap_parser *p);
/* After IMAP_PARSE_COMMAND: fills *cmd with the command, allocated in
 * arena (valid until it is cleared), and readies the parser for the next
 * command.  Returns 0, or -1 with *error_r a static reason (the command is
 * dropped; answer BAD). */
int imap_parser_command(struct imap_parser *p, struct arena *arena,
			struct imap_command *cmd, const char **error_r);

/* ---- argument helpers ---- */

/* An astring (atom, quoted, literal, NIL as "NIL"): its text, or NULL. */
const char *imap_arg_astring(const struct imap_arg *arg);
/* A string (quoted or literal): its text, or NULL.  NIL gives NULL. */
const char *imap_arg_string(const struct imap_arg *arg);
/* True when arg is an atom equal to word (case-insensitive). */
bool imap_arg_is_atom(const struct imap_arg *arg, const char *word);

/* ---- sequence sets ---- */

#define IMAP_SEQSET_MAX_RANGES 10000

struct imap_range {
	uint32_t lo, hi;	/* lo <= hi once resolved */
};

struct imap_seqset {
	struct imap_range *ranges;	/* in the arena */
	unsigned count;
	bool saved;			/* "$": the saved search result */
	bool has_star;			/* "*" was used */
};

/* Parses "1,3:5,7:*" (or "$") into set, ranges in arena; "*" is kept as
 * 0 until imap_seqset_resolve().  Returns 0, or -1 with *error_r a static
 * reason: bad syntax, a zero, a number past 2^32-1, or more than
 * IMAP_SEQSET_MAX_RANGES ranges (checked before each range is stored). */
int imap_seqset_parse(const char *s, struct arena *arena, struct imap_seqset *set,
		      const char **error_r);
/* Replaces "*" by star (the largest number in use; 0 for an empty
 * mailbox), orders each range, sorts the ranges and merges overlapping
 * ones, so imap_seqset_contains() can search them. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t star);
/* Whether n is in a resolved set.  O(log ranges). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);

/* ---- dates ---- */

/* An IMAP date ("1-Feb-1994", "01-Feb-1994") or, with with_time, a
 * date-time ("17-Jul-1996 02:44:25 -0700"; the day may be space-padded).
 * Returns seconds since the epoch (a date alone: its UTC midnight), or -1
 * when s is not exactly that or names no real moment (31-Feb, 25:00,
 * a zone without its sign or with 60 minutes or more). */
int64_t imap_date_parse(const char *s, bool with_time);

/* ---- FETCH section specs ---- */

/* BODY[section]<partial> / BINARY[...] / BODY.PEEK[...] split up.  An item
 * atom such as "BODY.PEEK[1.2.HEADER.FIELDS (FROM TO)]<0.100>". */
struct imap_section {
	const char *item;	/* "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE" */
	const char *part;	/* "1.2", "" for the whole message */
	const char *text;	/* "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
				 * "TEXT", "MIME" (uppercased) */
	const char **fields;	/* HEADER.FIELDS(.NOT) names */
	unsigned n_fields;
	bool partial;		/* <offset.count> or <offset> given */
	uint64_t offset, count;	/* count UINT64_MAX: to the end */
	const char *spec;	/* "1.2.HEADER.FIELDS (FROM TO)" as it goes back
				 * in the reply, normalised */
};

/* Parses one FETCH item atom that has a '[': 0, or -1 with *error_r a
 * static reason.  Strings go to arena. */
int imap_section_parse(const char *atom, struct arena *arena, struct imap_section *sec,
		       const char **error_r);

#endif
