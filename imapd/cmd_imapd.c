/* `loft imapd`: one preauthenticated IMAP session on standard input and
 * output, for the owner's store (mbsync's Tunnel, imaplib's IMAP4_stream,
 * `ssh host loft imapd`).  No password: whoever can run loft as the owner
 * already has the mail. */
#include "imapd/imapd.h"

#include "lib/config.h"
#include "lib/log.h"
#include "lib/net.h"
#include "store/message.h"
#include "store/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

int cmd_imapd(struct loft_ctx *ctx, int argc, char **argv)
{
	struct store_settings set = {
		.root = config_get(ctx->cfg, "folder"),
		.state_dir = config_get(ctx->cfg, "state_dir"),
		.notmuch_db = config_get(ctx->cfg, "notmuch_database"),
	};
	struct store *store;
	const char *err;

	if (argc != 1) {
		fprintf(stderr, "usage: loft imapd\n");
		return EX_USAGE;
	}
	/* A client that goes away must not kill us in the middle of a write. */
	signal(SIGPIPE, SIG_IGN);
	if (store_open(&set, STORE_OPEN_CREATE | STORE_OPEN_NO_THREADKEYS, &store, &err) < 0) {
		printf("* BYE Cannot open the store.\r\n");
		log_error("imapd: %s", err);
		return EX_UNAVAILABLE;
	}
	struct passwd *pw = getpwuid(getuid());
	struct conn *conn = conn_new_pair(dup(STDIN_FILENO), dup(STDOUT_FILENO), 0);
	/* Only the conn holds the client's pipe from now on: the session's
	 * end (conn_finish) is then the end of stream the client waits for
	 * after LOGOUT. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	int r = imapd_session_run(conn, store, NULL, NULL, pw ? pw->pw_name : "owner");
	conn_free(&conn);
	store_close(&store);
	message_deinit();
	return r == 0 ? EX_OK : EX_IOERR;
}
