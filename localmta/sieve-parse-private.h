/* sieve-parse-private.h: what the Sieve parser (sieve_parse.c) and its
 * validation step (sieve_validate.c) share.  Not for use elsewhere. */
#ifndef LOFT_LOCALMTA_SIEVE_PARSE_PRIVATE_H
#define LOFT_LOCALMTA_SIEVE_PARSE_PRIVATE_H

#include "localmta/sieve-private.h"

#include <setjmp.h>

/* Tag groups a command or test accepts. */
enum {
	TG_MATCH = 1 << 0, TG_CMP = 1 << 1, TG_PART = 1 << 2, TG_SIZE = 1 << 3,
	TG_CREATE = 1 << 4, TG_FLAGS = 1 << 5, TG_COPY = 1 << 6, TG_BODY = 1 << 7,
	TG_MODS = 1 << 8,
};

struct sieve_spec {
	const char *name;
	enum sieve_op op;
	unsigned ext;		/* needed extension, 0 for core */
	bool test;
	unsigned tags;
	/* Positional arguments: S string, L string list, N number; a leading
	 * '?' is an optional string list before the rest (imap4flags'
	 * variable name). */
	const char *args;
	int tests;		/* 0 none, 1 one test, 2 a test list */
	bool block;
};
enum arg_kind { ARG_TAG, ARG_NUMBER, ARG_LIST };

struct sieve_arg {
	enum arg_kind kind;
	bool single;		/* a bare string, not [ ... ] */
	unsigned line, col;
	const char *tag;
	uint64_t num;
	struct sieve_strlist sl;
};

struct sieve_parser {
	struct sieve_lexer lx;
	struct sieve_token tok;		/* the current token */
	struct arena *arena;
	struct sieve_script *script;
	const char *name;
	unsigned prev_line, prev_col;	/* just after the token before tok */
	unsigned depth;
	bool seen_command;		/* require only before any other command */
	char *error;
	jmp_buf fail;
};

/* Reports an error at line:col and unwinds to sieve_compile; everything
 * allocated so far is in the script's arena, so nothing leaks. */
__attribute__((noreturn, format(printf, 4, 5)))
void sieve_perr(struct sieve_parser *p, unsigned line, unsigned col, const char *fmt, ...);

/* The command or test called name (case-insensitive), or NULL. */
const struct sieve_spec *sieve_spec_find(const char *name);
/* The closest known command (test false) or test name to name, or NULL
 * when none is close enough for a "did you mean". */
const char *sieve_spec_suggest(const char *name, bool test);
/* Checks a parsed command or test against its spec and fills node from
 * the generic arguments; errors unwind through sieve_perr.  list: the
 * tests came as a parenthesised list. */
void sieve_validate(struct sieve_parser *p, const struct sieve_spec *sp,
		    const struct sieve_token *id, struct sieve_node *node,
		    struct sieve_arg *args, size_t n, bool list);

#endif
