/* config: loft's settings, read from a mailrc (see loft-mailrc(5)).
 *
 * One typed table (lib/settings.c) names every setting with its type,
 * default and description; it drives parsing, `loft check`, `loft help
 * settings` and the man page.  A struct config starts on the embedded
 * defaults and is changed by loading mailrc files or buffers:
 *
 *   set NAME=VALUE | set NAME | set noNAME | unset NAME
 *   account NAME {  ...set/unset only...  }
 *   alias NAME ADDRESS...
 *   source FILE
 *   bind MENU[,MENU] KEY ACTION      macro MENU KEY "KEYS" [DESCRIPTION]
 *   color OBJECT FOREGROUND BACKGROUND [PATTERN]
 *
 * Memory: every string returned is owned by the config and valid until the
 * next config_load*() or config_free(), unless said otherwise.  Nothing here
 * prints; errors come back as strings.  Loading reads files (blocking I/O);
 * nothing else blocks.  Asking for a setting name that is not in the table is
 * a programmer error and abort()s. */
#ifndef LOFT_LIB_CONFIG_H
#define LOFT_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;
struct config;

/* Deepest chain of `source` commands followed (a loop stops here). */
#define CONFIG_SOURCE_DEPTH_MAX 10

/* A config on the embedded defaults (paths expanded with the current $HOME).
 * Never NULL; the caller frees it with config_free(). */
struct config *config_new(void);
/* NULL-safe; sets *cfgp to NULL. */
void config_free(struct config **cfgp);

/* Reads and applies the mailrc file at path, following `source` commands.
 * Returns 0 on success.  On failure returns -1 with *error_r set to every
 * error, one a line, each "FILE:LINE:COL: message" (or "FILE: message" when
 * the file cannot be read; then errno is that of the failed open/read, e.g.
 * ENOENT; errno is 0 when the file was read and the errors are in its
 * lines), owned by cfg and valid until the next load or config_free().
 * A faulty line is skipped and the rest of the file still applied, so on
 * failure cfg holds every good line and the previous value (the default)
 * where a line was bad: commands that accept mail from other programs go on
 * with it (a colour typo must not refuse cron's mail), the others stop. */
int config_load(struct config *cfg, const char *path, const char **error_r);
/* The same over len bytes of data; name is used in messages and as the base
 * directory of relative `source` paths (its dirname, or "." without '/'). */
int config_load_buffer(struct config *cfg, const char *name, const char *data, size_t len,
		       const char **error_r);

/* The effective value of a string, path, enum, address or duration setting
 * (paths expanded), or NULL when it is empty/unset. */
const char *config_get(const struct config *cfg, const char *name);
/* The value of a bool setting. */
bool config_bool(const struct config *cfg, const char *name);
/* The value of an int setting, or a duration setting in seconds. */
long long config_int(const struct config *cfg, const char *name);

/* The domain for Message-IDs and unqualified senders: `domain`, else
 * `hostname` or the system host name if it has a dot, else
 * "localhost.localdomain" (a bare host name is never used).  Caller frees. */
char *config_mail_domain(const struct config *cfg);
/* USER@config_mail_domain(), USER the login name.  Caller frees. */
char *config_default_address(const struct config *cfg);
/* The user's address on mail loft writes, as a From: value: the `from`
 * setting as written ("Ann <ann@example.org>"), else the default address.
 * The one rule for the client, `loft sendmail` and `loft check`.  Caller
 * frees. */
char *config_sender(const struct config *cfg);

/* Appends the effective settings to out in mailrc syntax: one `set` per line
 * followed by its source ("# default" or "# FILE:LINE", then "; not built
 * yet" for a setting no code reads yet), then the accounts
 * and the aliases.  Reading the output back gives the same settings. */
void config_dump(const struct config *cfg, struct sbuf *out);
/* Walks the settings a mailrc sets (globally or in an account block) that
 * loft does not use yet ("not built yet" in their help) to a non-empty
 * value (an empty one asks for nothing, which is what loft does).  Start with
 * *pos = 0 and call until NULL.  Returns the setting's name with
 * *account_r (NULL: global), *file_r and *line_r telling where it was set;
 * the strings are owned by cfg. */
const char *config_next_unbuilt(const struct config *cfg, size_t *pos, const char **account_r,
				const char **file_r, unsigned long *line_r);
/* Appends the documentation of every setting: plain text when man is false
 * (each entry starts with "NAME  TYPE" at column 0), else roff for the
 * SETTINGS section of loft-mailrc(5). */
void config_settings_doc(struct sbuf *out, bool man);

/* Accounts in the order they were defined.  i < config_account_count(). */
size_t config_account_count(const struct config *cfg);
const char *config_account_name(const struct config *cfg, size_t i);
/* Whether the mailrc has an `account name { }` block. */
bool config_account_exists(const struct config *cfg, const char *name);
/* The value of setting name inside account (as config_get); falls back to
 * the global value when the account does not set it or does not exist. */
const char *config_account_get(const struct config *cfg, const char *account, const char *name);
/* The same for an int or duration setting (seconds), as config_int. */
long long config_account_int(const struct config *cfg, const char *account, const char *name);
/* The addresses of alias name joined by ", ", or NULL when there is none. */
const char *config_alias(const struct config *cfg, const char *name);

/* The mailrc's bind and macro lines in file order; i < config_bind_count().
 * Menus are checked at load time (generic, index, pager, attach, compose,
 * browser, editor; comma-separated); keys and actions are the UI's to
 * interpret (checked through config_set_ui_checks()).  *is_macro_r tells a macro (what_r: the keys) from a bind
 * (what_r: the action name). */
size_t config_bind_count(const struct config *cfg);
void config_bind_get(const struct config *cfg, size_t i, const char **menus_r, const char **key_r,
		     const char **what_r, bool *is_macro_r);
/* What lib/ cannot know about bind, macro and color lines: the client's
 * action names, its key syntax and its pattern language.  The entry point
 * registers the client's checks once, before any mailrc is loaded, so that
 * `loft check` and every command report an unknown action, key or pattern
 * as FILE:LINE:COL (with "did you mean" for actions) like any other error.
 * Without them (unit tests, tools) those words are not checked.  checks
 * must stay valid for the life of the process. */
struct config_ui_checks {
	const char *const *actions;	/* every action name, NULL-terminated */
	bool (*key_valid)(const char *key);
	/* 0, or -1 with *error_r (static text) */
	int (*pattern_check)(const char *pattern, const char **error_r);
};
void config_set_ui_checks(const struct config_ui_checks *checks);

/* The color lines in file order; objects and colour names are checked at
 * load time; *pattern_r is NULL when the line has none. */
size_t config_color_count(const struct config *cfg);
void config_color_get(const struct config *cfg, size_t i, const char **object_r, const char **fg_r,
		      const char **bg_r, const char **pattern_r);
/* The colour objects `color` lines accept, NULL-terminated; the client
 * draws each of them.  config_color_object() gives the index of name in
 * it (case-insensitive), or -1. */
#define CONFIG_COLOR_OBJECTS 20
extern const char *const config_color_objects[CONFIG_COLOR_OBJECTS + 1];
int config_color_object(const char *name);
/* True for a colour name color lines accept (default, red, brightred,
 * color0..color255...). */
bool config_color_valid(const char *name);

#endif
