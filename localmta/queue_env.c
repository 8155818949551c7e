/* The envelope file of a queue entry.  One record per line, fields
 * separated by one space, every value %XX-escaped:
 *
 *   loft-queue 1
 *   sender ADDR                      ("-" for the null sender)
 *   created EPOCH
 *   account NAME                     (optional: relayed through that
 *                                     account's smarthost)
 *   hold KEY                         (optional: held by its maker)
 *   rcpt STATE ATTEMPTS NEXT STATUS ADDR ANSWER     (one per recipient)
 *
 * STATUS and ANSWER are "-" when empty; an empty ADDR is refused.  The
 * escaping covers every byte up to the space, 0x7f and '%', so a recipient
 * address or an answer from a remote server can never break a line or add a
 * field.  A value that is literally "-" is written "%2D".
 *
 * The parser is strict on purpose (anything the formatter would not write is
 * an error) and bounded (QUEUE_ENV_MAX bytes, QUEUE_RCPTS_MAX recipients):
 * a damaged file is reported and left alone rather than half understood.
 * It takes the whole file at once: envelope files are small and local. */
#include "localmta/queue.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ENV_VERSION_LINE "loft-queue 1"

static const char *const state_names[] = {
	"pending", "delivering", "delivered", "failed", "bounced",
};

const char *queue_rcpt_state_name(enum queue_rcpt_state state)
{
	return (unsigned)state < sizeof(state_names) / sizeof(state_names[0]) ?
		state_names[state] : "?";
}

static void add_value(struct sbuf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	if (v == NULL || *v == '\0') {
		sbuf_addch(out, '-');
		return;
	}
	if (strcmp(v, "-") == 0) {
		sbuf_addstr(out, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '%') {
			sbuf_addch(out, '%');
			sbuf_addch(out, hex[*p >> 4]);
			sbuf_addch(out, hex[*p & 15]);
		} else {
			sbuf_addch(out, *p);
		}
	}
}

void queue_env_format(const struct queue_env *env, struct sbuf *out)
{
	sbuf_addstr(out, ENV_VERSION_LINE "\nsender ");
	add_value(out, env->sender);
	sbuf_addf(out, "\ncreated %" PRId64 "\n", env->created);
	if (env->account != NULL) {
		sbuf_addstr(out, "account ");
		add_value(out, env->account);
		sbuf_addch(out, '\n');
	}
	if (env->hold != NULL) {
		sbuf_addstr(out, "hold ");
		add_value(out, env->hold);
		sbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		sbuf_addf(out, "rcpt %s %u %" PRId64 " ", queue_rcpt_state_name(r->state),
			  r->attempts, r->next_attempt);
		add_value(out, r->status);
		sbuf_addch(out, ' ');
		add_value(out, r->addr);
		sbuf_addch(out, ' ');
		add_value(out, r->answer);
		sbuf_addch(out, '\n');
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes one field [p, end) into a fresh string; "-" is "".  Refuses raw
 * bytes the formatter would have escaped, and escapes that decode to NUL. */
static int get_value(const char *p, const char *end, char **v_r)
{
	struct sbuf sb = SBUF_INIT;

	if (end - p == 1 && *p == '-') {
		*v_r = xstrdup("");
		return 0;
	}
	if (p == end)
		return -1;
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c == 0x7f)
			goto fail;
		if (c == '%') {
			int hi, lo;

			if (end - p < 3 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0 ||
			    hi * 16 + lo == 0)
				goto fail;
			c = (unsigned char)(hi * 16 + lo);
			p += 3;
		} else {
			p++;
		}
		sbuf_addch(&sb, c);
	}
	*v_r = sbuf_detach(&sb, NULL);
	return 0;
fail:
	sbuf_release(&sb);
	return -1;
}

/* A decimal number with no sign, no leading zeros (but "0"), <= max. */
static int get_number(const char *p, const char *end, int64_t max, int64_t *n_r)
{
	int64_t n = 0;

	if (p == end || end - p > 19 || (*p == '0' && end - p > 1))
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || n > (max - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*n_r = n;
	return 0;
}

/* Splits line [p, end) at single spaces into at most max fields. */
static size_t split(const char *p, const char *end, const char **f, const char **fe, size_t max)
{
	size_t n = 0;

	while (n < max) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		f[n] = p;
		fe[n] = sp ? sp : end;
		n++;
		if (sp == NULL)
			return n;
		p = sp + 1;
	}
	return n + 1;	/* too many */
}

static int parse_rcpt(const char **f, const char **fe, struct queue_rcpt *r)
{
	int64_t n;
	size_t st;

	for (st = 0; st < sizeof(state_names) / sizeof(state_names[0]); st++)
		if ((size_t)(fe[0] - f[0]) == strlen(state_names[st]) &&
		    memcmp(f[0], state_names[st], (size_t)(fe[0] - f[0])) == 0)
			break;
	if (st == sizeof(state_names) / sizeof(state_names[0]))
		return -1;
	r->state = (enum queue_rcpt_state)st;
	if (get_number(f[1], fe[1], 1000000, &n) < 0)
		return -1;
	r->attempts = (unsigned)n;
	if (get_number(f[2], fe[2], INT64_MAX / 2, &r->next_attempt) < 0)
		return -1;
	if (get_value(f[3], fe[3], &r->status) < 0 || get_value(f[4], fe[4], &r->addr) < 0 ||
	    get_value(f[5], fe[5], &r->answer) < 0)
		return -1;
	if (*r->addr == '\0')
		return -1;
	if (*r->status == '\0') {
		free(r->status);
		r->status = NULL;
	}
	if (*r->answer == '\0') {
		free(r->answer);
		r->answer = NULL;
	}
	return 0;
}

int queue_env_parse(const char *data, size_t len, struct queue_env **env_r,
		    const char **error_r)
{
	struct queue_env *env = xcalloc(1, sizeof(*env));
	const char *p = data, *end = data + len;
	size_t alloc = 0;
	unsigned lineno = 0;

	*error_r = NULL;
	if (len > QUEUE_ENV_MAX) {
		*error_r = "envelope too large";
		goto fail;
	}
	if (len == 0 || data[len - 1] != '\n') {
		*error_r = "envelope does not end with a newline";
		goto fail;
	}
	if (memchr(data, '\0', len) != NULL || memchr(data, '\r', len) != NULL) {
		*error_r = "control byte in envelope";
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *f[8], *fe[8];
		size_t nf = split(p, nl, f, fe, 7);
		size_t key = (size_t)(fe[0] - f[0]);

		lineno++;
		if (lineno == 1) {
			if ((size_t)(nl - p) != strlen(ENV_VERSION_LINE) ||
			    memcmp(p, ENV_VERSION_LINE, (size_t)(nl - p)) != 0) {
				*error_r = "not a loft queue envelope (version line)";
				goto fail;
			}
		} else if (lineno == 2) {
			if (nf != 2 || key != 6 || memcmp(f[0], "sender", 6) != 0 ||
			    get_value(f[1], fe[1], &env->sender) < 0) {
				*error_r = "bad sender line";
				goto fail;
			}
		} else if (lineno == 3) {
			if (nf != 2 || key != 7 || memcmp(f[0], "created", 7) != 0 ||
			    get_number(f[1], fe[1], INT64_MAX / 2, &env->created) < 0) {
				*error_r = "bad created line";
				goto fail;
			}
		} else if (lineno == 4 && key == 7 && memcmp(f[0], "account", 7) == 0) {
			if (nf != 2 || get_value(f[1], fe[1], &env->account) < 0 ||
			    *env->account == '\0') {
				*error_r = "bad account line";
				goto fail;
			}
		} else if (env->n_rcpts == 0 && env->hold == NULL && key == 4 &&
			   memcmp(f[0], "hold", 4) == 0) {
			if (nf != 2 || get_value(f[1], fe[1], &env->hold) < 0 || *env->hold == '\0') {
				*error_r = "bad hold line";
				goto fail;
			}
		} else {
			if (nf != 7 || key != 4 || memcmp(f[0], "rcpt", 4) != 0) {
				*error_r = "bad recipient line";
				goto fail;
			}
			if (env->n_rcpts == QUEUE_RCPTS_MAX) {
				*error_r = "too many recipients";
				goto fail;
			}
			if (env->n_rcpts == alloc) {
				alloc = alloc ? alloc * 2 : 4;
				env->rcpts = xreallocarray(env->rcpts, alloc, sizeof(*env->rcpts));
			}
			memset(&env->rcpts[env->n_rcpts], 0, sizeof(env->rcpts[0]));
			/* Counted first so a half-filled recipient is freed too. */
			if (parse_rcpt(f + 1, fe + 1, &env->rcpts[env->n_rcpts++]) < 0) {
				*error_r = "bad recipient line";
				goto fail;
			}
		}
		p = nl + 1;
	}
	if (env->n_rcpts == 0) {
		*error_r = "envelope has no recipient";
		goto fail;
	}
	*env_r = env;
	return 0;
fail:
	queue_env_free(&env);
	return -1;
}

struct queue_env *queue_env_new(const char *sender, int64_t created,
				const char *const *rcpts, size_t n)
{
	struct queue_env *env = xcalloc(1, sizeof(*env));

	env->sender = xstrdup(sender ? sender : "");
	env->created = created;
	env->n_rcpts = n;
	env->rcpts = xcalloc(n ? n : 1, sizeof(*env->rcpts));
	for (size_t i = 0; i < n; i++) {
		env->rcpts[i].addr = xstrdup(rcpts[i]);
		env->rcpts[i].state = QUEUE_RCPT_PENDING;
		env->rcpts[i].next_attempt = created;
	}
	return env;
}

void queue_env_free(struct queue_env **envp)
{
	struct queue_env *env = *envp;

	if (env == NULL)
		return;
	for (size_t i = 0; i < env->n_rcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].status);
		free(env->rcpts[i].answer);
	}
	free(env->rcpts);
	free(env->sender);
	free(env->account);
	free(env->hold);
	free(env);
	*envp = NULL;
}
