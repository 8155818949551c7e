/* envelope: the ENVELOPE cache's source — computed once per message, when it
 * first gets a UID, from its header block only.
 *
 * A first open of a big folder spends most of its time here (open, read
 * the first few KiB, parse with GMime, format), so the work is split over
 * two threads: GMime may parse different messages on different threads
 * once message_init() has run (every parse runs it first, once). */
#include "store/store-private.h"

#include "store/maildir.h"
#include "store/message.h"

#include "lib/header.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Below this many messages a second thread costs more than it saves. */
#define STORE_ENV_THREAD_MIN 256
/* Messages between two progress calls. */
#define STORE_ENV_CHUNK 1024
/* The first read; most header blocks fit. */
#define STORE_ENV_FIRST_READ (6 * 1024)

/* The fields ENVELOPE is made of (RFC 3501 7.4.2). */
static bool envelope_field(const struct header_field *f)
{
	static const char *const names[] = {
		"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
		"in-reply-to", "message-id",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (header_field_is(f, names[i]))
			return true;
	return false;
}

/* Keeps only the ENVELOPE's fields (with their continuation lines): real
 * header blocks are mostly Received, DKIM and list headers, and GMime's
 * cost grows with every field it is given.  The result parses to the same
 * ENVELOPE.  An mbox From_ line is no field: the walk skips it. */
static void envelope_fields(const char *data, size_t len, struct sbuf *out)
{
	struct header_iter it;
	struct header_field f;

	header_iter_init(&it, data, len);
	while (header_iter_next(&it, &f))
		if (envelope_field(&f))
			sbuf_add(out, f.raw, f.raw_len);
	sbuf_addch(out, '\n');
}

char *store_envelope_of(const char *data, size_t len)
{
	const char *err;
	struct message *msg;
	struct sbuf out = SBUF_INIT, fields = SBUF_INIT;

	if (len > STORE_HEADER_MAX)
		len = STORE_HEADER_MAX;
	/* The block with its empty line: a message that starts with one
	 * still has an (empty) envelope. */
	header_block_len(data, len, &len);
	if (len == 0)
		return NULL;
	char *fast = store_envelope_fast(data, len);

	if (fast)
		return fast;
	envelope_fields(data, len, &fields);
	msg = message_parse(fields.buf, fields.len, NULL, &err);
	sbuf_release(&fields);
	if (msg == NULL)
		return NULL;
	message_imap_envelope(msg, &out);
	message_free(&msg);
	return sbuf_detach(&out, NULL);
}

uint64_t store_crlf_size(const char *data, size_t len, char *last)
{
	uint64_t n = len;
	const char *p = data, *end = data + len;

	if (len == 0)
		return 0;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((p == data ? *last : p[-1]) != '\r')
			n++;
		p++;
	}
	*last = data[len - 1];
	return n;
}

/* The CRLF size of the file on fd, of which buf[0..have) was read first;
 * buf (alloc bytes) is reused for the rest.  0 on a read error. */
static uint64_t file_crlf_size(int fd, char **buf, size_t alloc, size_t have, uint64_t size)
{
	char last = '\0';
	uint64_t n = store_crlf_size(*buf, have, &last);

	if (have == size)
		return n;
	/* The rest in bigger reads: it is body, mostly bigger than the header. */
	if (alloc < 64 * 1024) {
		alloc = 64 * 1024;
		*buf = xreallocarray(*buf, alloc, 1);
	}
	for (;;) {
		ssize_t r = read(fd, *buf, alloc);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0;
		if (r == 0)
			return n;
		n += store_crlf_size(*buf, (size_t)r, &last);
	}
}

char *store_envelope_file(int dirfd, const char *path, uint64_t *size_r, int64_t *mtime_r,
			  char **threadkey_r, uint64_t *vsize_r)
{
	struct stat st;
	char *buf = NULL, *env = NULL;
	size_t alloc = STORE_ENV_FIRST_READ, have = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*threadkey_r = NULL;
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	*size_r = (uint64_t)st.st_size;
	*mtime_r = (int64_t)st.st_mtime;
	buf = xmalloc(alloc);
	for (;;) {
		ssize_t n = read(fd, buf + have, alloc - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		size_t body;

		if (header_block_len(buf, have, &body) < body || have == STORE_HEADER_MAX)
			break;
		if (have == alloc) {
			alloc = alloc * 4 > STORE_HEADER_MAX ? STORE_HEADER_MAX : alloc * 4;
			buf = xreallocarray(buf, alloc, 1);
		}
	}
	if (have > 0) {
		env = store_envelope_of(buf, have);
		*threadkey_r = store_threadkey_of(buf, have);
	}
	if (vsize_r != NULL)
		*vsize_r = file_crlf_size(fd, &buf, alloc, have, (uint64_t)st.st_size);
out:
	if (*threadkey_r == NULL)
		*threadkey_r = xstrdup("");
	free(buf);
	if (fd >= 0)
		close(fd);
	return env;
}

/* glibc loads a gconv module on iconv_open() and unloads it when the last
 * descriptor closes, so GMime decoding one encoded word per message paid a
 * dlopen + dlclose per message (a third of a first open's time), and so
 * did a client decoding the subjects of a warm snapshot for its threads.
 * One descriptor per common charset, held for the life of the process,
 * keeps the modules loaded (about 1 ms, once). */
static void pin_gconv_once(void)
{
	static const char *const charsets[] = {
		"ISO-8859-1", "ISO-8859-2", "ISO-8859-5", "ISO-8859-7", "ISO-8859-9",
		"ISO-8859-15", "CP1250", "CP1252", "CP1251", "KOI8-R",
		"SHIFT_JIS", "CP932", "EUC-JP", "EUC-JP-MS", "ISO-2022-JP", "GB18030", "GBK", "BIG5",
		"BIG5-HKSCS", "EUC-KR", "CP949", "UTF-16", "UTF-7",
	};
	static iconv_t pinned[sizeof(charsets) / sizeof(*charsets)];

	for (size_t i = 0; i < sizeof(charsets) / sizeof(*charsets); i++)
		pinned[i] = iconv_open("UTF-8", charsets[i]);
	(void)pinned;
}

void store_gconv_pin(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, pin_gconv_once);
}

struct env_worker {
	int dirfd;			/* the folder */
	struct store_env_job *jobs;
	size_t n;
};

static void *env_work(void *arg)
{
	struct env_worker *w = arg;

	for (size_t i = 0; i < w->n; i++) {
		struct store_env_job *j = &w->jobs[i];

		/* A name's ",W=" (Dovecot's, mkcorpus's) spares reading the
		 * body to count the CRLF size. */
		const char *base = strrchr(j->location, '/');
		struct maildir_name mn;
		bool named = maildir_parse_name(base ? base + 1 : j->location, &mn) == 0 &&
			mn.vsize >= 0;

		j->vsize = named ? (uint64_t)mn.vsize : 0;
		if (j->stat_only) {
			struct stat st;

			if (fstatat(w->dirfd, j->location, &st, 0) == 0) {
				j->size = (uint64_t)st.st_size;
				j->date = (int64_t)st.st_mtime;
			}
			continue;
		}
		j->envelope = store_envelope_file(w->dirfd, j->location, &j->size, &j->date,
						  &j->threadkey, named ? NULL : &j->vsize);
	}
	return NULL;
}

static void env_chunk(int dirfd, struct store_env_job *jobs, size_t n, bool two)
{
	struct env_worker a = { dirfd, jobs, n }, b;
	pthread_t thread;

	if (!two || n < STORE_ENV_THREAD_MIN) {
		env_work(&a);
		return;
	}
	/* Interleaved halves would share cache lines; split in two blocks. */
	a.n = n / 2;
	b = (struct env_worker){ dirfd, jobs + a.n, n - a.n };
	if (pthread_create(&thread, NULL, env_work, &b) != 0) {
		a.n = n;
		env_work(&a);
		return;
	}
	env_work(&a);
	pthread_join(thread, NULL);
}

int store_envelope_jobs(const char *folder_path, struct store_env_job *jobs, size_t n,
			size_t done, size_t total, store_progress_fn *progress, void *ctx)
{
	if (n == 0)
		return 0;
	bool two = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	/* Without a progress callback one chunk is enough; with one, a chunk
	 * is ~50 ms of work, so the screen stays live. */
	size_t chunk = progress ? STORE_ENV_CHUNK : (n ? n : 1);
	/* Opened relative to the folder: the kernel walks two names per
	 * file, not the whole path. */
	int dirfd = open(folder_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	store_gconv_pin();
	if (progress && done == 0 && n > 0 && progress(0, total, ctx) < 0)
		goto cancel;
	for (size_t i = 0; i < n; ) {
		size_t k = n - i < chunk ? n - i : chunk;

		env_chunk(dirfd, jobs + i, k, two);
		i += k;
		if (progress && progress(done + i, total, ctx) < 0)
			goto cancel;
	}
	if (dirfd >= 0)
		close(dirfd);
	return 0;
cancel:
	if (dirfd >= 0)
		close(dirfd);
	return -1;
}
