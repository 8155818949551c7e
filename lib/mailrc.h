/* mailrc: the incremental tokenizer of mailrc files (mailx/s-nail syntax).
 *
 * The parser is a state machine over the bytes the caller hands in: it may be
 * fed a whole file at once or one byte at a time and calls back the same
 * commands with the same positions either way.  It knows the lexical rules
 * only -- words, quotes, escapes, comments, continuation lines -- and leaves
 * the meaning of a command ("set", "account", ...) to the callback
 * (lib/config.c).
 *
 * Lexical rules, as a shell would read one line:
 *   - words are separated by blanks (space, tab, CR); a newline ends a command;
 *   - '#' at the start of a word starts a comment up to the end of the line;
 *   - "..." keeps blanks and '#'; inside, \" \\ \$ \~ \' \n \t \r are escapes,
 *     a backslash before a newline continues the line, any other backslash
 *     stays as it is;
 *   - '...' keeps every byte up to the next ' literally;
 *   - outside quotes a backslash makes the next byte literal, and a backslash
 *     before a newline continues the line;
 *   - a quote left open at the end of a line is an error at the quote's column.
 *
 * Limits: a logical line (after continuations) and a physical line may hold
 * at most MAILRC_LINE_MAX bytes; past that feeding fails with an error rather
 * than growing memory.  A NUL byte is an error.  Nothing here blocks. */
#ifndef LOFT_LIB_MAILRC_H
#define LOFT_LIB_MAILRC_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;

#define MAILRC_LINE_MAX (64 * 1024)

/* Per-byte flags of a word (mailrc_word.flags). */
#define MAILRC_QUOTED	0x01	/* came from inside "..." or '...' */
#define MAILRC_LITERAL	0x02	/* '...' or a backslash escape: no expansion */

struct mailrc_word {
	const char *text;	/* NUL-terminated; never holds a NUL */
	size_t len;
	const unsigned char *flags;	/* len bytes of MAILRC_* flags */
	unsigned long line, col;	/* where the word starts (1-based) */
	/* Offset of the first '=' outside quotes, or (size_t)-1 when none, and
	 * the position of the byte after it (where a value starts). */
	size_t eq;
	unsigned long val_line, val_col;
};

struct mailrc_cmd {
	size_t argc;			/* >= 1 */
	const struct mailrc_word *argv;	/* argv[0] is the command word */
};

struct mailrc_parser;

/* Called once per command, in order.  Returns 0 to go on; -1 to stop, after
 * setting the error with mailrc_error() or mailrc_error_str().  The command
 * and its words are valid only during the call. */
typedef int mailrc_cmd_fn(struct mailrc_parser *p, const struct mailrc_cmd *cmd, void *ctx);

/* name: the file name used in error messages (copied).  Never NULL. */
struct mailrc_parser *mailrc_new(const char *name, mailrc_cmd_fn *fn, void *ctx);
/* NULL-safe; sets *pp to NULL. */
void mailrc_free(struct mailrc_parser **pp);

/* Consumes len bytes, calling back every command they complete.  Returns 0,
 * or -1 on a syntax error or when the callback failed; after a failure every
 * later call returns -1 again and mailrc_get_error() says why. */
int mailrc_feed(struct mailrc_parser *p, const char *buf, size_t len);
/* Ends the input: reports a quote left open and calls back the last command
 * when the input did not end in a newline.  Returns 0 or -1 as above. */
int mailrc_finish(struct mailrc_parser *p);

/* Recovery mode, for a config that must be read even when broken: an
 * error drops only the faulty line (the rest of it is skipped, the
 * callback not called for it) and parsing goes on at the next line.
 * mailrc_feed() then returns 0, mailrc_finish() returns -1 when any error
 * was seen, and mailrc_get_error() gives every error, one a line.  Call
 * before the first mailrc_feed(). */
void mailrc_set_recover(struct mailrc_parser *p);

/* Sets the error to "NAME:LINE:COL: message".  Always returns -1. */
int mailrc_error(struct mailrc_parser *p, unsigned long line, unsigned long col,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets the error to msg exactly (an error already carrying its location, as
 * one from a sourced file).  Always returns -1. */
int mailrc_error_str(struct mailrc_parser *p, const char *msg);
/* The error of the last failure, owned by p; "" when none. */
const char *mailrc_get_error(const struct mailrc_parser *p);
/* The name given to mailrc_new(), owned by p. */
const char *mailrc_name(const struct mailrc_parser *p);
/* The position just after the last byte fed (for errors at end of input). */
void mailrc_position(const struct mailrc_parser *p, unsigned long *line_r, unsigned long *col_r);

/* Appends word->text[from..] to out with expansion: when expand_tilde, a
 * leading unescaped "~" alone or before '/' becomes $HOME; when expand_vars,
 * every $NAME and ${NAME} outside single quotes and escapes becomes the
 * environment variable's value (empty when unset, as in a shell).  Returns 0,
 * or -1 with *error_r (static string) for an unterminated "${". */
int mailrc_expand(const struct mailrc_word *word, size_t from, bool expand_tilde,
		  bool expand_vars, struct sbuf *out, const char **error_r);

/* Damerau-Levenshtein (optimal string alignment) distance between a and b;
 * strings longer than 64 bytes get a large distance without computation. */
unsigned mailrc_distance(const char *a, const char *b);

#endif
