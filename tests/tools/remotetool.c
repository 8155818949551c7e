/* remotetool: remote/ from the shell, for tests/remote_tls.t and
 * tests/remote_dovecot.t.
 *
 *   remotetool [-F MAILRC] connect URL|ACCOUNT
 *       connected tls=FINGERPRINT|plain condstore=0|1 qresync=0|1
 *   remotetool [-F MAILRC] list URL|ACCOUNT
 *       folder NAME messages N unseen N uidnext N uidvalidity N   (one a line;
 *       "folder NAME noselect" / "folder NAME nocounts")
 *   remotetool [-F MAILRC] idle URL|ACCOUNT SECONDS
 *       selected FOLDER exists N, then idling, then (when mail comes)
 *       news exists N after MS ms, or "idle timeout"; then idle done
 *   remotetool [-F MAILRC] move URL|ACCOUNT UID TARGET
 *       moves UID of the URL's folder to TARGET (remote_copy with move):
 *       "moved", or "error: ..." (a server without UIDPLUS)
 *   remotetool [-F MAILRC] etpan-idle URL|ACCOUNT
 *       libetpan's own mailimap_idle on the selected folder, for the
 *       record of its defect: "mailimap_idle: R after MS ms" (R its code)
 *
 * -t MS sets the timeout of each wait for the server (default 60 s).
 * Errors print "error: MESSAGE" and exit 1.  Output is flushed line by
 * line so a test can act on "idling". */
#include "remote/remote.h"
#include "lib/clock.h"
#include "lib/config.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(char *error)
{
	printf("error: %s\n", error);
	free(error);
	return 1;
}

static int cmd_connect(struct remote_conn *c)
{
	const char *fp = remote_fingerprint(c);

	printf("connected tls=%s condstore=%d qresync=%d\n", fp ? fp : "plain",
	       remote_condstore(c), remote_qresync(c));
	return 0;
}

static int cmd_list(struct remote_conn *c)
{
	struct remote_folder *f;
	size_t n;
	char *err;

	if (remote_list_folders(c, &f, &n, &err) < 0)
		return fail(err);
	for (size_t i = 0; i < n; i++) {
		if (f[i].noselect)
			printf("folder %s noselect\n", f[i].name);
		else if (!f[i].has_counts)
			printf("folder %s nocounts\n", f[i].name);
		else
			printf("folder %s messages %u unseen %u uidnext %u uidvalidity %u\n",
			       f[i].name, f[i].messages, f[i].unseen, f[i].uidnext,
			       f[i].uidvalidity);
	}
	remote_folders_free(f, n);
	return 0;
}

static int cmd_idle(struct remote_conn *c, const char *folder, int seconds)
{
	struct remote_idle_news news = { 0 };
	uint32_t exists;
	char *err;
	int64_t start;
	int r;

	if (remote_select(c, folder, &exists, NULL, NULL, &err) < 0)
		return fail(err);
	printf("selected %s exists %u\n", folder, exists);
	start = clock_monotonic_ms();
	if (remote_idle_start(c, &news, &err) < 0)
		return fail(err);
	printf("idling\n");
	r = remote_idle_wait(c, seconds * 1000, &news, &err);
	if (r < 0)
		return fail(err);
	if (r == 0)
		printf("idle timeout\n");
	else
		printf("news exists %u after %lld ms\n", news.count,
		       (long long)(clock_monotonic_ms() - start));
	if (remote_idle_done(c, &news, &err) < 0)
		return fail(err);
	printf("idle done\n");
	return 0;
}

static int cmd_etpan_idle(struct remote_conn *c, const char *folder)
{
	uint32_t exists;
	char *err;
	int64_t start;
	int r;

	if (remote_select(c, folder, &exists, NULL, NULL, &err) < 0)
		return fail(err);
	start = clock_monotonic_ms();
	r = mailimap_idle(remote_imap(c));
	printf("mailimap_idle: %d after %lld ms\n", r, (long long)(clock_monotonic_ms() - start));
	if (r == MAILIMAP_NO_ERROR)
		mailimap_idle_done(remote_imap(c));
	return 0;
}

static int cmd_move(struct remote_conn *c, const char *folder, uint32_t uid, const char *target)
{
	char *err = NULL;

	if (remote_select(c, folder, NULL, NULL, NULL, &err) < 0 ||
	    remote_copy(c, &uid, 1, target, true, &err) < 0)
		return fail(err);
	printf("moved\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct config *cfg = config_new();
	struct remote_account a;
	struct remote_conn *c;
	const char *rc = NULL, *why;
	char *err;
	int opt, status, timeout_ms = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "F:t:")) != -1) {
		if (opt == 'F')
			rc = optarg;
		else if (opt == 't')
			timeout_ms = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: remotetool [-F MAILRC] [-t MS] connect|list|idle|etpan-idle|move "
			"URL|ACCOUNT [SECONDS | UID TARGET]\n");
		return 2;
	}
	if (rc != NULL && config_load(cfg, rc, &why) < 0) {
		printf("error: %s\n", why);
		config_free(&cfg);
		return 1;
	}
	const char *cmd = argv[optind], *target = argv[optind + 1];

	if ((remote_url_is(target) ? remote_account_from_url(cfg, target, &a, &err)
				   : remote_account_load(cfg, target, &a, &err)) < 0) {
		config_free(&cfg);
		return fail(err);
	}
	if (timeout_ms > 0)
		a.timeout_ms = timeout_ms;
	c = remote_connect(&a, &err);
	if (c == NULL) {
		remote_account_clear(&a);
		config_free(&cfg);
		return fail(err);
	}
	if (strcmp(cmd, "connect") == 0)
		status = cmd_connect(c);
	else if (strcmp(cmd, "list") == 0)
		status = cmd_list(c);
	else if (strcmp(cmd, "move") == 0 && argc - optind > 3)
		status = cmd_move(c, a.url.folder, (uint32_t)strtoul(argv[optind + 2], NULL, 10),
				  argv[optind + 3]);
	else if (strcmp(cmd, "etpan-idle") == 0)
		status = cmd_etpan_idle(c, a.url.folder);
	else if (strcmp(cmd, "idle") == 0)
		status = cmd_idle(c, a.url.folder, argc - optind > 2 ? atoi(argv[optind + 2]) : 10);
	else
		status = 2;
	remote_close(&c);
	remote_account_clear(&a);
	config_free(&cfg);
	return status;
}
