/* IDLE (RFC 2177) written by loft on libetpan's stream; see remote.h.
 *
 * Why not mailimap_idle: libetpan 1.9.4 expects "+ idling" as the very
 * next line and fails when an untagged response (a new message's EXISTS)
 * arrives first, which is exactly when IDLE matters.  Here any number of
 * untagged lines may come before the "+", during the wait and before the
 * tagged answer to DONE. */
#include "remote/remote-private.h"
#include "lib/clock.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Adds an untagged line (after "* ") to news.  -1 for BYE. */
static int note(const char *line, struct remote_idle_news *news)
{
	char *end;
	unsigned long n = strtoul(line, &end, 10);

	if (strncasecmp(line, "BYE", 3) == 0)
		return -1;
	if (strncasecmp(line, "VANISHED", 8) == 0) {
		news->expunge = true;
		return 0;
	}
	if (end == line || *end != ' ')
		return 0;
	end++;
	if (strncasecmp(end, "EXISTS", 6) == 0) {
		news->exists = true;
		news->count = (uint32_t)n;
	} else if (strncasecmp(end, "EXPUNGE", 7) == 0) {
		news->expunge = true;
	} else if (strncasecmp(end, "FETCH", 5) == 0) {
		news->fetch = true;
	}
	return 0;
}

static bool has_news(const struct remote_idle_news *news)
{
	return news->exists || news->expunge || news->fetch;
}

bool remote_idle_pending(const struct remote_conn *c)
{
	return c->imap->imap_stream->read_buffer_len > 0 || remote_stream_pending(c->low);
}

/* Reads lines until one that is not untagged; that one stays in line.
 * 0, or -1 with *error_r (BYE included). */
static int read_until_not_untagged(struct remote_conn *c, MMAPString *line,
				   struct remote_idle_news *news, char **error_r)
{
	for (;;) {
		if (remote_read_line(c, line, error_r) < 0)
			return -1;
		if (strncmp(line->str, "* ", 2) != 0)
			return 0;
		if (note(line->str + 2, news) < 0) {
			*error_r = xasprintf("%s closed the connection: %s", c->host, line->str + 2);
			return -1;
		}
	}
}

int remote_idle_start(struct remote_conn *c, struct remote_idle_news *news, char **error_r)
{
	char cmd[32];
	MMAPString *line = mmap_string_new("");
	int r = -1;

	free(c->idle_tag);
	c->idle_tag = xasprintf("L%u", ++c->tag);
	snprintf(cmd, sizeof(cmd), "%s IDLE\r\n", c->idle_tag);
	if (remote_write(c, cmd, strlen(cmd), error_r) < 0 ||
	    read_until_not_untagged(c, line, news, error_r) < 0)
		goto done;
	if (line->str[0] != '+') {
		*error_r = xasprintf("%s refused IDLE: %s", c->host, line->str);
		goto done;
	}
	c->idling = true;
	r = 0;
done:
	mmap_string_free(line);
	return r;
}

int remote_idle_wait(struct remote_conn *c, int timeout_ms, struct remote_idle_news *news,
		     char **error_r)
{
	int64_t deadline = clock_monotonic_ms() + timeout_ms;
	MMAPString *line = mmap_string_new("");
	bool got = has_news(news);
	int r = -1;

	for (;;) {
		if (!remote_idle_pending(c)) {
			int64_t left = deadline - clock_monotonic_ms();
			struct pollfd pf = { .fd = remote_fd(c), .events = POLLIN };

			/* Once something came, return with what is buffered. */
			if (got || left <= 0)
				break;
			int p = poll(&pf, 1, (int)left);

			if (p < 0 && errno == EINTR)
				continue;
			if (p <= 0)
				break;
		}
		if (remote_read_line(c, line, error_r) < 0)
			goto done;
		if (strncmp(line->str, "* ", 2) != 0)
			continue;	/* nothing else is expected while idling */
		if (note(line->str + 2, news) < 0) {
			*error_r = xasprintf("%s closed the connection: %s", c->host, line->str + 2);
			goto done;
		}
		got = true;
	}
	r = got ? 1 : 0;
done:
	mmap_string_free(line);
	return r;
}

int remote_idle_done(struct remote_conn *c, struct remote_idle_news *news, char **error_r)
{
	MMAPString *line = mmap_string_new("");
	size_t tl = strlen(c->idle_tag);
	int r = -1;

	if (remote_write(c, "DONE\r\n", 6, error_r) < 0)
		goto done;
	for (;;) {
		if (read_until_not_untagged(c, line, news, error_r) < 0)
			goto done;
		if (strncmp(line->str, c->idle_tag, tl) == 0 && line->str[tl] == ' ')
			break;
	}
	c->idling = false;
	if (strncasecmp(line->str + tl + 1, "OK", 2) != 0) {
		*error_r = xasprintf("%s ended IDLE with: %s", c->host, line->str + tl + 1);
		goto done;
	}
	r = 0;
done:
	mmap_string_free(line);
	return r;
}

static void noop_line(const char *line, void *ctx)
{
	/* A BYE here ends the connection; the tagged answer then fails. */
	(void)note(line, ctx);
}

int remote_noop(struct remote_conn *c, struct remote_idle_news *news, char **error_r)
{
	int r = remote_raw_command(c, "NOOP", NULL, noop_line, news, error_r);

	if (r > 0) {
		char *why = *error_r;

		*error_r = xasprintf("NOOP: %s answered: %s", c->host, why);
		free(why);
	}
	return r == 0 ? 0 : -1;
}
