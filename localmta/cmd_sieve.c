/* cmd_sieve.c: `loft sieve check FILE` and `loft sieve test FILE MESSAGE
 * [-f sender] [-a rcpt]`.
 *
 * check prints nothing and exits 0 for a valid script; a compile error is
 * printed as FILE:LINE:COL: message and exits 65 (EX_DATAERR); an
 * unreadable file exits 66 (EX_NOINPUT).
 *
 * test prints the actions delivery would take, one a line, without
 * delivering anything:
 *     store message in folder: NAME[ (flags: F1 F2)]
 *     redirect message to: ADDRESS
 *     discard
 * A runtime error is printed on stderr, followed on stdout by what delivery
 * then does (the fallback "store message in folder: INBOX"), and the exit
 * status is still 0: the message would be delivered, safely.  A fileinto
 * folder name that delivery would refuse (store_folder_name_check) is
 * reported on stderr and shown as INBOX, where delivery keeps it.  The
 * envelope sender defaults to the Return-Path address (else the null sender ""), the
 * envelope recipient to none (envelope "to" then matches nothing). */
#include "localmta/localmta.h"
#include "localmta/sieve.h"
#include "lib/sanitize.h"
#include "lib/sbuf.h"
#include "store/message.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>

#define SCRIPT_READ_MAX (4 * 1024 * 1024)	/* the compiler's own limit is lower */

static int usage(void)
{
	fprintf(stderr, "usage: loft sieve check FILE | test FILE MESSAGE [-f sender] [-a rcpt]\n");
	return EX_USAGE;
}

/* An error on stderr, one line: a runtime error may quote what the
 * message held. */
static void print_error(const char *error)
{
	char *clean = sanitize_dup(error, SANITIZE_LINE);

	fprintf(stderr, "%s\n", clean);
	free(clean);
}

/* Reads and compiles FILE; prints the error.  Returns 0 or an exit code. */
static int load(const char *path, struct sieve_script **script_r)
{
	struct sbuf sb = SBUF_INIT;
	char *error;
	int ret;

	if (sbuf_read_file(&sb, path, SCRIPT_READ_MAX) < 0) {
		fprintf(stderr, "loft: sieve: %s: %s\n", path, strerror(errno));
		sbuf_release(&sb);
		return EX_NOINPUT;
	}
	ret = sieve_compile(path, sb.buf, sb.len, script_r, &error);
	sbuf_release(&sb);
	if (ret < 0) {
		print_error(error);
		free(error);
		return EX_DATAERR;
	}
	return 0;
}

/* Folder names, flags and addresses can come from the message through
 * variables (${1} of a :matches on Subject): sanitised, one line. */
static void print_action(const struct sieve_action *a)
{
	struct sbuf out = SBUF_INIT;
	const char *folder = a->type == SIEVE_FILEINTO ? a->folder : "INBOX", *why;

	switch (a->type) {
	case SIEVE_KEEP:
	case SIEVE_FILEINTO:
		/* What delivery does with a name it refuses (deliver.c). */
		if (strcasecmp(folder, "INBOX") != 0 && store_folder_name_check(folder, &why) < 0) {
			struct sbuf msg = SBUF_INIT;

			sanitize_add(&msg, folder, strlen(folder), SANITIZE_LINE);
			fflush(stdout);
			fprintf(stderr, "loft: sieve: fileinto '%s': refused: %s (kept in INBOX)\n",
				msg.buf, why);
			sbuf_release(&msg);
			folder = "INBOX";
		}
		sbuf_addstr(&out, "store message in folder: ");
		sanitize_add(&out, folder, strlen(folder), SANITIZE_LINE);
		if (a->flags) {
			sbuf_addstr(&out, " (flags:");
			for (size_t i = 0; a->flags[i]; i++) {
				sbuf_addch(&out, ' ');
				sanitize_add(&out, a->flags[i], strlen(a->flags[i]), SANITIZE_LINE);
			}
			sbuf_addch(&out, ')');
		}
		break;
	case SIEVE_REDIRECT:
		sbuf_addstr(&out, "redirect message to: ");
		sanitize_add(&out, a->address, strlen(a->address), SANITIZE_LINE);
		break;
	case SIEVE_DISCARD:
		sbuf_addstr(&out, "discard");
		break;
	}
	sbuf_addch(&out, '\n');
	fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&out);
}

/* "<a@b>" or "Name <a@b>" from Return-Path, as an envelope path. */
static char *return_path(const struct message *msg)
{
	const char *rp = message_header(msg, "Return-Path"), *lt, *gt;

	if (rp == NULL)
		return strdup("");
	lt = strchr(rp, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		return strndup(lt + 1, (size_t)(gt - lt - 1));
	return strdup(rp + strspn(rp, " \t"));
}

static int run_test(const char *script_path, const char *msg_path, const char *from,
		    const char *rcpt)
{
	struct sieve_script *script = NULL;
	struct sieve_result *res = NULL;
	struct message *msg;
	struct stat st;
	char *error, *rp = NULL;
	const char *perr;
	int err, ret;

	if ((ret = load(script_path, &script)) != 0)
		return ret;
	msg = message_parse_file(msg_path, NULL, &err, &perr);
	if (msg == NULL || stat(msg_path, &st) < 0) {
		fprintf(stderr, "loft: sieve: %s: %s\n", msg_path, msg ? strerror(errno) : perr);
		message_free(&msg);
		sieve_script_free(&script);
		return err ? EX_NOINPUT : EX_DATAERR;
	}
	if (from == NULL)
		from = rp = return_path(msg);
	struct sieve_input in = {
		.msg = msg, .size = (uint64_t)st.st_size,
		.envelope_from = from, .envelope_to = rcpt,
	};

	if (sieve_execute(script, &in, &res, &error) < 0) {
		print_error(error);
		free(error);
		printf("store message in folder: INBOX\n");
	} else {
		for (size_t i = 0; i < res->n_actions; i++)
			print_action(&res->actions[i]);
	}
	sieve_result_free(&res);
	sieve_script_free(&script);
	message_free(&msg);
	free(rp);
	return EX_OK;
}

int cmd_sieve(struct loft_ctx *ctx, int argc, char **argv)
{
	const char *pos[3], *from = NULL, *rcpt = NULL;
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "-a") == 0) && i + 1 < argc) {
			*(argv[i][1] == 'f' ? &from : &rcpt) = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return usage();
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return usage();
		}
	}
	if (npos == 2 && strcmp(pos[0], "check") == 0 && !from && !rcpt) {
		struct sieve_script *script = NULL;
		int ret = load(pos[1], &script);

		sieve_script_free(&script);
		return ret;
	}
	if (npos == 3 && strcmp(pos[0], "test") == 0)
		return run_test(pos[1], pos[2], from, rcpt);
	return usage();
}
