/* loft passwd: the per-device logins of the SMTP submission and IMAP
 * listeners.
 *
 *   loft passwd [NAME]            new random password for NAME (default
 *                                 "default"), printed once
 *   loft passwd --stdin [NAME]    the password is the first line of stdin
 *   loft passwd --list            the device names
 *   loft passwd --remove NAME     revoke NAME's login, end its IMAP sessions */
#include "localmta/auth.h"
#include "localmta/localmta.h"
#include "lib/config.h"
#include "lib/sbuf.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define MIN_PASSWORD 8

static int usage(void)
{
	fprintf(stderr, "usage: loft passwd [--stdin] [NAME] | --list | --remove NAME\n");
	return EX_USAGE;
}

static int list(const char *path)
{
	char **names, *err;
	size_t n;

	if (auth_passwd_list(path, &names, &n, &err) < 0) {
		fprintf(stderr, "loft: passwd: %s\n", err);
		free(err);
		return EX_IOERR;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return EX_OK;
}

static int read_stdin_password(struct sbuf *pw)
{
	int c;

	while ((c = getchar()) != EOF && c != '\n')
		if (sbuf_addch(pw, c) < 0)
			return -1;
	if (pw->len > 0 && pw->buf[pw->len - 1] == '\r')
		sbuf_setlen(pw, pw->len - 1);
	return pw->len >= MIN_PASSWORD && strlen(pw->buf) == pw->len ? 0 : -1;
}

int cmd_passwd(struct loft_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "remove", required_argument, NULL, 'r' },
		{ "stdin", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	char *path = auth_passwd_path(ctx->cfg), *err = NULL, *generated = NULL;
	const char *remove = NULL, *name = "default";
	bool do_list = false, from_stdin = false;
	struct sbuf pw = SBUF_INIT;
	int c, status = EX_OK, r;

	sbuf_init(&pw, 1024);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': do_list = true; break;
		case 'r': remove = optarg; break;
		case 's': from_stdin = true; break;
		default: status = usage(); goto done;
		}
	}
	if (argc - optind > 1 || ((do_list || remove) && (argc > optind || from_stdin)) ||
	    (do_list && remove)) {
		status = usage();
		goto done;
	}
	if (do_list) {
		status = list(path);
		goto done;
	}
	if (remove != NULL) {
		r = auth_passwd_remove(path, remove, &err);
		if (r < 0)
			status = EX_IOERR;
		else if (r == 0) {
			fprintf(stderr, "loft: passwd: no login named '%s'\n", remove);
			status = EX_NOUSER;
		} else {
			printf("removed the login of %s\n", remove);
			/* After the removal: a session logging in now sees the
			 * login gone (auth_session_begin checks again). */
			r = auth_sessions_kill(path, remove, &err);
			if (r > 0)
				printf("ended %d open IMAP session%s of %s\n", r, r == 1 ? "" : "s",
				       remove);
			else if (r < 0)
				status = EX_IOERR;
		}
		goto done;
	}
	if (argc > optind)
		name = argv[optind];
	if (!auth_name_valid(name)) {
		fprintf(stderr, "loft: passwd: '%s' is not a valid device name "
				"(letters, digits and . _ @ + -, up to %d)\n", name, AUTH_NAME_MAX);
		status = EX_USAGE;
		goto done;
	}
	if (from_stdin) {
		if (read_stdin_password(&pw) < 0) {
			fprintf(stderr, "loft: passwd: the password on stdin must be one line of "
					"%d or more characters\n", MIN_PASSWORD);
			status = EX_DATAERR;
			goto done;
		}
	} else {
		generated = auth_generate_password();
		sbuf_addstr(&pw, generated);
	}
	if (auth_passwd_set(path, name, pw.buf, &err) < 0) {
		status = EX_IOERR;
		goto done;
	}
	if (generated != NULL)
		printf("login %s, password %s\n"
		       "(shown only this once.  Enter it in the device's mail program as the login\n"
		       "for SMTP submission and IMAP: loft daemon's smtp_listen and imap_listen\n"
		       "(STARTTLS), or smtps_listen and imaps_listen (implicit TLS).)\n",
		       name, generated);
	else
		printf("password of %s set\n", name);
done:
	if (err != NULL)
		fprintf(stderr, "loft: passwd: %s\n", err);
	free(err);
	if (generated != NULL)
		explicit_bzero(generated, strlen(generated));
	free(generated);
	explicit_bzero(pw.buf, pw.len);
	sbuf_release(&pw);
	free(path);
	return status;
}
