/* libFuzzer target for a whole IMAP session: the input is what a client
 * sends to a preauthenticated session (as `loft imapd` runs it) over a
 * small store of three messages; the session must end (the input's end is
 * the client going away) without a crash, a leak or a hang, whatever the
 * commands.  The store is made afresh every STORE_RUNS inputs so APPENDs
 * and EXPUNGEs of earlier inputs do not pile up.  Seeds: the conformance
 * scripts' commands (the .txt files in tests/imap/). */
#include "imapd/imapd.h"
#include "lib/log.h"
#include "lib/net.h"
#include "store/message.h"
#include "store/store.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STORE_RUNS 50
#define INPUT_MAX (256 * 1024)

static char dir[] = "/tmp/loft-fuzz-imap.XXXXXX";
static char root[sizeof(dir) + 8];
static struct store *store;
static unsigned runs;

static const char *const seed_msgs[] = {
	"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: lunch\r\n"
	"Date: Fri, 03 Nov 2023 10:15:00 +0100\r\nMessage-ID: <a@example.org>\r\n\r\nnoon?\r\n",
	"From: c@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
	"one\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nin\r\n--XX--\r\n",
	"Subject: bare\r\n\r\nno from\r\n",
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void store_drop(void)
{
	store_close(&store);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void store_make(void)
{
	struct store_settings set = { .root = root };
	struct store_folder *f;
	const char *err;

	if (store_open(&set, STORE_OPEN_CREATE, &store, &err) < 0 ||
	    store_folder_open_append(store, "INBOX", &f, &err) < 0) {
		fprintf(stderr, "fuzz_imap_session: %s\n", err);
		abort();
	}
	for (size_t i = 0; i < sizeof(seed_msgs) / sizeof(seed_msgs[0]); i++) {
		uint32_t uid;

		if (store_append(f, seed_msgs[i], strlen(seed_msgs[i]), i == 0 ? STORE_SEEN : 0,
				 i == 1 ? "$Work" : NULL, 1699000000 + (int64_t)i * 86400, &uid,
				 &err) < 0)
			abort();
	}
	store_folder_close(&f);
}

static void cleanup(void)
{
	char in_path[sizeof(dir) + 8];

	store_drop();
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	unlink(in_path);
	rmdir(dir);
	message_deinit();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Short timeouts: the input is all there is, so nothing waits long. */
	struct imapd_settings set = { .max_append = 64 * 1024, .idle_timeout = 2,
				      .command_timeout = 2 };
	char in_path[sizeof(dir) + 8];

	if (store == NULL) {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(root, sizeof(root), "%s/Mail", dir);
		log_set_level(LOG_LEVEL_ERROR);
		atexit(cleanup);
	}
	if (size > INPUT_MAX)
		return 0;
	if (store != NULL && ++runs % STORE_RUNS == 0)
		store_drop();
	if (store == NULL)
		store_make();

	/* The client's bytes come from a file: the session sees them, then
	 * end of stream; what it writes goes nowhere. */
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	int in = open(in_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int out = open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		abort();
	struct conn *c = conn_new_pair(in, out, 2000);
	imapd_session_run(c, store, &set, NULL, "fuzz");
	conn_free(&c);
	return 0;
}
