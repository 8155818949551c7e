/* mailcap: RFC 1524 entries ("type; command; flags") from the files in
 * mailcap_path, and running a copiousoutput filter with a time limit so
 * a hung w3m never freezes the pager. */
#include "ui/ui-private.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

void ui_mailcap_parse(const char *text, size_t len, struct ui_mailcap_entry **v, size_t *n)
{
	struct sbuf line = SBUF_INIT;
	size_t i = 0;

	while (i < len) {
		sbuf_reset(&line);
		/* A logical line: backslash-newline continues it. */
		while (i < len && text[i] != '\n') {
			if (text[i] == '\\' && i + 1 < len && text[i + 1] == '\n') {
				i += 2;
				continue;
			}
			sbuf_addch(&line, text[i++]);
		}
		i++;
		char *s = trim(line.buf);
		if (*s == '#' || *s == '\0')
			continue;
		/* Split on ';' not escaped by a backslash. */
		char *fields[32];
		size_t nf = 0;
		char *start = s;
		for (char *p = s;; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				continue;
			}
			if (*p == ';' || *p == '\0') {
				bool end = *p == '\0';
				*p = '\0';
				if (nf < 32)
					fields[nf++] = trim(start);
				if (end)
					break;
				start = p + 1;
			}
		}
		if (nf < 2 || *fields[0] == '\0')
			continue;
		struct ui_mailcap_entry e = { xstrdup(fields[0]), xstrdup(fields[1]), false, false };
		for (size_t k = 2; k < nf; k++) {
			if (strcasecmp(fields[k], "copiousoutput") == 0)
				e.copiousoutput = true;
			else if (strcasecmp(fields[k], "needsterminal") == 0)
				e.needsterminal = true;
		}
		/* "text" alone means "text/ *". */
		if (strchr(e.type, '/') == NULL) {
			char *t = xasprintf("%s/*", e.type);
			free(e.type);
			e.type = t;
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = e;
	}
	sbuf_release(&line);
}

void ui_mailcap_free(struct ui_mailcap_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].command);
	}
	free(v);
}

static struct ui_mailcap_entry *cache;
static size_t ncache;
static bool loaded;

static char *mailcap_path;

void ui_mailcap_set_path(const char *path)
{
	free(mailcap_path);
	mailcap_path = path ? xstrdup(path) : NULL;
	ui_mailcap_free(cache, ncache);
	cache = NULL;
	ncache = 0;
	loaded = false;
}

static void load(void)
{
	const char *path = mailcap_path;
	const char *home = getenv("HOME");
	char *copy, *save = NULL;

	loaded = true;
	copy = xstrdup(path ? path : "~/.mailcap:/etc/mailcap");
	for (char *f = strtok_r(copy, ":", &save); f; f = strtok_r(NULL, ":", &save)) {
		char *full = f[0] == '~' && home ? xasprintf("%s%s", home, f + 1) : xstrdup(f);
		FILE *fp = fopen(full, "r");

		if (fp) {
			struct sbuf sb = SBUF_INIT;
			char buf[4096];
			size_t r;
			while ((r = fread(buf, 1, sizeof(buf), fp)) > 0)
				sbuf_add(&sb, buf, r);
			fclose(fp);
			ui_mailcap_parse(sb.buf, sb.len, &cache, &ncache);
			sbuf_release(&sb);
		}
		free(full);
	}
	free(copy);
}

static bool type_matches(const char *pat, const char *type)
{
	size_t pl = strlen(pat);

	if (pl >= 2 && strcmp(pat + pl - 2, "/*") == 0)
		return strncasecmp(pat, type, pl - 1) == 0;
	return strcasecmp(pat, type) == 0;
}

const struct ui_mailcap_entry *ui_mailcap_find(const char *type, bool copious)
{
	if (!loaded)
		load();
	for (size_t i = 0; i < ncache; i++)
		if (type_matches(cache[i].type, type) && (!copious || cache[i].copiousoutput))
			return &cache[i];
	return NULL;
}

int ui_mailcap_filter(const char *command, const char *data, size_t len, int timeout_ms,
		      struct sbuf *out)
{
	char *tmpl = ui_tmpfile_template("loft-mailcap");
	int fd = mkstemp(tmpl), pfd[2], status, ret = -1;
	struct sbuf cmd = SBUF_INIT;
	pid_t pid;

	if (fd < 0) {
		free(tmpl);
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(tmpl);
		free(tmpl);
		return -1;
	}
	close(fd);
	/* %s is the file; the name is ours (no quoting problem). */
	for (const char *p = command; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			sbuf_addf(&cmd, "'%s'", tmpl);
			p++;
		} else if (p[0] == '%' && p[1] == 't') {
			sbuf_addstr(&cmd, "text/html");
			p++;
		} else {
			sbuf_addch(&cmd, *p);
		}
	}
	if (strstr(command, "%s") == NULL)
		sbuf_addf(&cmd, " < '%s'", tmpl);
	if (pipe(pfd) < 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(null, 2);
		close(pfd[0]);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd.buf, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		goto out;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { pfd[0], POLLIN, 0 };
		char buf[8192];

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		ssize_t r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = 0;
			break;
		}
		sbuf_add(out, buf, (size_t)r);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		ret = -1;
out:
	unlink(tmpl);
	free(tmpl);
	sbuf_release(&cmd);
	return ret;
}
