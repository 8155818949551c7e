/* log: the only way lib/ and store/ may say anything.
 *
 * Messages go to stderr ("loft: warning: ...") until log_use_syslog()
 * switches them to syslog (the daemon).  Messages below the level set by
 * log_set_level() are dropped.  Each message is one line: newlines and
 * other controls in the formatted text are escaped (lib/sanitize.h).  Never
 * blocks for long; never fails. */
#ifndef LOFT_LIB_LOG_H
#define LOFT_LIB_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warning", "error"; -1 if unknown. */
int log_level_parse(const char *name);
/* ident: the program name shown in syslog ("loft"). */
void log_use_syslog(const char *ident);
/* A short prefix added to every message (a connection id), or NULL. */
void log_set_context(const char *context);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
