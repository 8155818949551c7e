#include "lib/log.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static enum log_level min_level = LOG_LEVEL_WARNING;
static bool to_syslog;
static char context[64];

static const char *const names[] = { "debug", "info", "warning", "error" };

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	to_syslog = true;
}

void log_set_context(const char *ctx)
{
	snprintf(context, sizeof(context), "%s", ctx ? ctx : "");
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
	char msg[2048];
	struct sbuf line = SBUF_INIT;
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Arguments carry text from outside (SMTP user names, smarthost
	 * replies, addresses): a log entry is one line with no controls, so
	 * no one can forge a line or drive the terminal that shows the log. */
	sanitize_add(&line, msg, strlen(msg), SANITIZE_LINE);
	if (to_syslog)
		syslog(prio[level], "%s%s%s", context, context[0] ? ": " : "", line.buf);
	else
		fprintf(stderr, "loft: %s%s%s%s%s\n",
			level >= LOG_LEVEL_WARNING ? names[level] : "",
			level >= LOG_LEVEL_WARNING ? ": " : "",
			context, context[0] ? ": " : "", line.buf);
	sbuf_release(&line);
}
