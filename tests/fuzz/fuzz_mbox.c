/* libFuzzer target for store/mbox: the input is written to a temporary
 * file, scanned, and every message read back; the input is also appended
 * as one message to a fresh mbox, which must then hold exactly one message,
 * and must survive the quoting round trip. */
#include "store/mbox.h"
#include "store/store.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/loft-fuzz-mbox.XXXXXX";
static char *path, *path2;

static void cleanup(void)
{
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

static void scan_and_read(const char *p)
{
	struct mbox *mb = NULL;
	struct mbox_entry *e = NULL;
	const char *error;
	size_t n = 0;

	if (mbox_open(p, false, 0, &mb, &error) < 0)
		abort();
	if (mbox_scan(mb, &e, &n, &error) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct sbuf sb = SBUF_INIT;

			if (mbox_read(mb, &e[i], &sb, &error) < 0)
				abort();
			sbuf_release(&sb);
		}
		mbox_entries_free(e, n);
	} else if (strstr(error, p) == NULL) {
		abort();		/* errors name the path */
	}
	mbox_close(&mb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf q = SBUF_INIT, u = SBUF_INIT;
	struct mbox *mb = NULL;
	struct mbox_entry *e = NULL;
	const char *error;
	size_t n = 0;
	FILE *f;

	if (path == NULL) {
		if (mkdtemp(dir) == NULL)
			abort();
		path = xasprintf("%s/in", dir);
		path2 = xasprintf("%s/out", dir);
		atexit(cleanup);
		log_set_level(LOG_LEVEL_ERROR);
	}
	/* the input as an mbox file */
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	scan_and_read(path);

	/* quoting round trip */
	mbox_quote((const char *)data, size, &q);
	mbox_unquote(q.buf, q.len, &u);
	if (u.len != size || memcmp(u.buf, data, size) != 0)
		abort();

	/* the input as one message */
	unlink(path2);
	if (mbox_open(path2, true, 0, &mb, &error) < 0 ||
	    mbox_append(mb, data, size, "fuzz@example.org", 1704067200, STORE_RECENT,
			NULL, &error) < 0 ||
	    mbox_scan(mb, &e, &n, &error) < 0 || n != 1)
		abort();
	mbox_entries_free(e, n);
	mbox_close(&mb);
	sbuf_release(&q);
	sbuf_release(&u);
	return 0;
}
