/* sieve-private.h: the pieces of the Sieve engine shared by its files
 * (sieve_lex.c, sieve_parse.c, sieve_match.c, sieve_eval.c, sieve_vars.c)
 * and by the unit test.  Not for use outside localmta/.
 *
 * Memory: a compiled script allocates everything (tokens' text, the AST) in
 * its own arena; a run allocates in the result's arena.  Sieve has no
 * loops, so each command runs at most once per message and a run's memory is
 * bounded by the script's size times SIEVE_MAX_VAR_SIZE. */
#ifndef LOFT_LOCALMTA_SIEVE_PRIVATE_H
#define LOFT_LOCALMTA_SIEVE_PRIVATE_H

#include "localmta/sieve.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct sbuf;

/* Limits (Pigeonhole's defaults where it has one). */
#define SIEVE_MAX_SCRIPT_SIZE (1024 * 1024)
#define SIEVE_MAX_DEPTH 32		/* nested blocks and tests */
#define SIEVE_MAX_ACTIONS 32
#define SIEVE_MAX_REDIRECTS 4
#define SIEVE_MAX_VARIABLES 255
#define SIEVE_MAX_VAR_SIZE 4096		/* longer values are truncated */
#define SIEVE_MAX_MATCH_VARS 10		/* ${0} .. ${9} */

/* ---- lexer (sieve_lex.c) ---- */

enum sieve_tok {
	SIEVE_TOK_EOF,
	SIEVE_TOK_IDENT,	/* text: the name */
	SIEVE_TOK_TAG,		/* text: the name without ':' */
	SIEVE_TOK_NUMBER,	/* num: with K/M/G applied */
	SIEVE_TOK_STRING,	/* text: unescaped value (quoted or text:) */
	SIEVE_TOK_PUNCT,	/* text: one of [ ] { } ( ) , ; */
};

struct sieve_token {
	enum sieve_tok kind;
	unsigned line, col;	/* where the token starts, 1-based */
	const char *text;	/* NUL-terminated, in the lexer's arena */
	size_t len;
	uint64_t num;
};

struct sieve_lexer {
	const char *p, *end;
	unsigned line, col;
	unsigned end_line, end_col;	/* just after the last token returned */
	struct arena *arena;
	const char *error;		/* set when sieve_lex returns -1 (arena) */
	unsigned err_line, err_col;
};

/* text must stay valid while lexing; strings go to arena. */
void sieve_lexer_init(struct sieve_lexer *lx, const char *text, size_t len,
		      struct arena *arena);
/* 0 with *tok (SIEVE_TOK_EOF at the end); -1 with lx->error and its position. */
int sieve_lex(struct sieve_lexer *lx, struct sieve_token *tok);

/* ---- the compiled script ---- */

enum sieve_ext {
	SIEVE_EXT_FILEINTO = 1 << 0,
	SIEVE_EXT_ENVELOPE = 1 << 1,
	SIEVE_EXT_IMAP4FLAGS = 1 << 2,
	SIEVE_EXT_VARIABLES = 1 << 3,
	SIEVE_EXT_BODY = 1 << 4,
	SIEVE_EXT_COPY = 1 << 5,
	SIEVE_EXT_MAILBOX = 1 << 6,
	SIEVE_EXT_CMP_OCTET = 1 << 7,	/* always available; require accepted */
	SIEVE_EXT_CMP_CASEMAP = 1 << 8,
};

enum sieve_op {
	/* commands */
	SIEVE_OP_REQUIRE, SIEVE_OP_IF, SIEVE_OP_ELSIF, SIEVE_OP_ELSE,
	SIEVE_OP_STOP, SIEVE_OP_KEEP, SIEVE_OP_DISCARD, SIEVE_OP_FILEINTO,
	SIEVE_OP_REDIRECT, SIEVE_OP_SETFLAG, SIEVE_OP_ADDFLAG,
	SIEVE_OP_REMOVEFLAG, SIEVE_OP_SET,
	/* tests */
	SIEVE_OP_ADDRESS, SIEVE_OP_HEADER, SIEVE_OP_ENVELOPE, SIEVE_OP_EXISTS,
	SIEVE_OP_SIZE, SIEVE_OP_ALLOF, SIEVE_OP_ANYOF, SIEVE_OP_NOT,
	SIEVE_OP_TRUE, SIEVE_OP_FALSE, SIEVE_OP_HASFLAG, SIEVE_OP_STRING,
	SIEVE_OP_BODY,
};

enum sieve_match { SIEVE_MATCH_IS, SIEVE_MATCH_CONTAINS, SIEVE_MATCH_MATCHES };
enum sieve_cmp { SIEVE_CMP_CASEMAP, SIEVE_CMP_OCTET };
enum sieve_part { SIEVE_PART_ALL, SIEVE_PART_LOCAL, SIEVE_PART_DOMAIN };
enum sieve_transform { SIEVE_BODY_TEXT, SIEVE_BODY_RAW, SIEVE_BODY_CONTENT };

/* set modifiers (RFC 5229 4.1) */
enum sieve_mod {
	SIEVE_MOD_LOWER = 1 << 0, SIEVE_MOD_UPPER = 1 << 1,
	SIEVE_MOD_LOWERFIRST = 1 << 2, SIEVE_MOD_UPPERFIRST = 1 << 3,
	SIEVE_MOD_QUOTEWILDCARD = 1 << 4, SIEVE_MOD_LENGTH = 1 << 5,
};

struct sieve_strlist {
	char **v;
	size_t n;
};

/* One command or test.  Which fields matter depends on op:
 *   tests with keys: a = header names / sources / variable names, b = keys
 *   fileinto: a = folder; redirect: a = address; set: a = name, b = value
 *   setflag/addflag/removeflag: a = variable name (n 0: internal), b = flags
 *   if/elsif: tests[0], block; else: block; els links the chain. */
struct sieve_node {
	enum sieve_op op;
	unsigned line, col;
	enum sieve_match match;
	enum sieve_cmp cmp;
	enum sieve_part part;
	enum sieve_transform transform;
	struct sieve_strlist content_types;	/* body :content */
	bool over, create, copy, has_flags;
	uint64_t num;				/* size */
	unsigned mods;				/* set */
	struct sieve_strlist a, b, flags;
	struct sieve_node **tests;
	size_t n_tests;
	struct sieve_node *block;		/* first command of the block */
	struct sieve_node *els;			/* if/elsif: the next branch */
	struct sieve_node *next;		/* next command in the block */
};

struct sieve_script {
	struct arena *arena;
	char *name;
	unsigned exts;			/* enum sieve_ext, from require */
	struct sieve_node *first;
};

/* ---- matching (sieve_match.c) ---- */

struct sieve_capture {
	size_t off, len;
};

/* Compares value (len bytes) against key with the match type and
 * comparator.  For :matches, caps (room for SIEVE_MAX_MATCH_VARS - 1
 * entries, may be NULL) gets one entry per wildcard and *ncaps_r their
 * number.  O(len * strlen(key)) at worst, never exponential.  1 = match. */
int sieve_match(enum sieve_match mt, enum sieve_cmp cmp, const char *value,
		size_t len, const char *key, struct sieve_capture *caps,
		unsigned *ncaps_r);

/* An address split for the address and envelope tests. */
struct sieve_addr {
	const char *all;	/* addr-spec (or the raw text if invalid) */
	const char *local, *domain;	/* NULL when the address is invalid */
};
/* Parses an RFC 5322 address list (undecoded header value) into at most
 * max entries, allocated in arena; returns the count.  Group names and
 * display names are dropped, empty groups give nothing. */
size_t sieve_addr_parse_list(const char *value, struct arena *arena,
			     struct sieve_addr *out, size_t max);
/* The same for one envelope path ("<a@b>" or "a@b"). */
void sieve_addr_parse_one(const char *path, struct arena *arena, struct sieve_addr *out);
/* 0 when addr is a valid RFC 5321 mailbox for redirect, else -1 with a
 * static reason. */
int sieve_addr_check_redirect(const char *addr, const char **why_r);

/* ---- evaluation (sieve_eval.c) and variables (sieve_vars.c) ---- */

struct sieve_vars;
struct sieve_vars *sieve_vars_new(struct arena *arena);
/* The value of variable name (case-insensitive), "" when unset. */
const char *sieve_vars_get(struct sieve_vars *vars, const char *name);
/* -1 when there are already SIEVE_MAX_VARIABLES variables. */
int sieve_vars_set(struct sieve_vars *vars, const char *name, const char *value);
/* Match variables ${0}..${9}: value is the matched string. */
void sieve_vars_set_matches(struct sieve_vars *vars, const char *value,
			    const struct sieve_capture *caps, unsigned ncaps);
/* Expands ${name} and ${N} in s; returns s itself when nothing changed. */
const char *sieve_vars_expand(struct sieve_vars *vars, const char *s);
/* Applies the set modifiers to value (RFC 5229 4.1 order). */
const char *sieve_vars_modify(struct arena *arena, const char *value, unsigned mods);
/* True when s is a valid variable name (identifier, for set). */
bool sieve_vars_valid_name(const char *s);

/* imap4flags (RFC 5232) on a space-separated flag string: returns the new
 * value, allocated in arena; duplicates (case-insensitive) dropped. */
const char *sieve_flags_add(struct arena *arena, const char *cur, const char *add);
const char *sieve_flags_remove(struct arena *arena, const char *cur, const char *rm);
/* True when s (one flag) is a flag delivery can store. */
bool sieve_flag_valid(const char *s);

/* The edit distance used for "did you mean" (bounded by 3). */
unsigned sieve_distance(const char *a, const char *b);

#endif
