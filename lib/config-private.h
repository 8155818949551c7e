/* The settings table shared by lib/config.c (parsing, values, dump) and
 * lib/settings.c (the table itself, value checking, documentation). */
#ifndef LOFT_LIB_CONFIG_PRIVATE_H
#define LOFT_LIB_CONFIG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/sbuf.h"

enum setting_type {
	SETTING_STRING,
	SETTING_PATH,		/* ~ and $VAR expanded when set */
	SETTING_BOOL,
	SETTING_INT,		/* decimal, k/M/G suffixes (x1024), min..max */
	SETTING_ENUM,		/* one of words[] */
	SETTING_HOSTPORT,	/* HOST:PORT, [IPV6]:PORT */
	SETTING_DURATION,	/* "300", "5m", "1h30m"; seconds, min..max */
	SETTING_SMTP_URL,	/* smtp[s]://HOST[:PORT], smtp+insecure://... */
	SETTING_IMAP_URL,	/* imap[s]://[USER@]HOST[:PORT][/FOLDER], imap+insecure:// */
	SETTING_POP3_URL,	/* pop3[s]://[USER@]HOST[:PORT], pop3+insecure:// */
	SETTING_PULL_AFTER,	/* keep, seen, move:FOLDER, delete */
};

#define SETTING_F_ACCOUNT	0x01	/* may be set inside an account block */
#define SETTING_F_NONEMPTY	0x02	/* an empty value is an error */
/* No code reads it yet: the help, the man page and `loft check` say "not
 * built yet", and `loft daemon` warns when a mailrc sets it. */
#define SETTING_F_UNBUILT	0x04
/* `unset NAME` / `set noNAME` switch it off (empty), as in mutt, instead
 * of bringing back the default: a folder the user can do without. */
#define SETTING_F_UNSET_OFF	0x08

struct setting {
	const char *name;
	enum setting_type type;
	const char *def;		/* as it would be written in a mailrc; "" for none */
	const char *desc;		/* one line, full sentence */
	const char *const *words;	/* SETTING_ENUM: NULL-terminated */
	long long min, max;		/* SETTING_INT and SETTING_DURATION */
	unsigned flags;
};

extern const struct setting settings_table[];
extern const size_t settings_count;

/* The index of name in settings_table, or -1. */
int settings_find(const char *name);
/* The closest setting name to name (edit distance <= 2), or NULL. */
const char *settings_suggest(const char *name);
/* "string", "path", "bool"... */
const char *settings_type_name(enum setting_type type);

/* Checks value (already expanded) against s's type.  Returns 0 and sets
 * *canon_r to the string to store (malloc'd, caller frees; NULL for an empty
 * value), or -1 with *error_r pointing into err (e.g. "log_level: expected
 * one of debug, info, warning, error"). */
int settings_check(const struct setting *s, const char *value, char **canon_r,
		   struct sbuf *err, const char **error_r);
/* Parses a value that settings_check() accepted: SETTING_INT -> the number,
 * SETTING_DURATION -> seconds, SETTING_BOOL -> 0/1. */
long long settings_number(const struct setting *s, const char *value);

/* config_load_buffer() feeding the parser chunk bytes at a time (0: all at
 * once), for the tests and the fuzzer that compare the two. */
int config_load_chunked(struct config *cfg, const char *name, const char *data, size_t len,
			size_t chunk, const char **error_r);

/* The inside of struct config, for lib/config.c (loading) and
 * lib/config-get.c (accessors and dump). */
struct value {
	char *text;		/* NULL: empty */
	const char *file;	/* interned in config.files; NULL: default */
	unsigned long line;
	bool set;		/* accounts: overrides the global value */
};

struct account {
	char *name;
	struct value *vals;	/* [settings_count] */
};

struct alias {
	char *name;
	char **addrs;
	size_t n;
	struct sbuf joined;	/* addrs joined by ", " */
	const char *file;
	unsigned long line;
};

/* A `bind`, `macro` or `color` line, kept for the UI (lib/config-ui.c). */
struct config_uiline {
	char kind;		/* 'b' bind, 'm' macro, 'c' color */
	char *a, *b, *c, *d;	/* bind/macro: menus, key, action/keys; color:
				 * object, fg, bg, pattern (NULL when none) */
};

struct mailrc_parser;
struct mailrc_cmd;
/* config-ui.c: the handlers of bind, macro and color. */
int config_cmd_ui(struct mailrc_parser *p, struct config *cfg, const struct mailrc_cmd *cmd);
void config_uilines_free(struct config *cfg);

struct config {
	struct value *vals;	/* [settings_count] */
	char **defaults;	/* [settings_count], expanded; NULL: empty */
	struct account *accounts;
	size_t n_accounts;
	struct alias *aliases;
	size_t n_aliases;
	struct config_uiline *uilines;	/* bind, macro and color lines, in order */
	size_t n_uilines;
	char **files;		/* names of the files read, for value sources */
	size_t n_files;
	struct sbuf error, scratch;
};

#endif
