/* storetool: drives store/store.h from the shell for tests/store.t and
 * bench/open.sh.  Not part of loft.
 *
 *   storetool [-c] [-i] [-s STATEDIR] ROOT COMMAND ARGS...
 *     -c  create the root (STORE_OPEN_CREATE)   -i  be the notmuch writer
 *   commands:
 *     list                          folders, "NAME maildir|mbox"
 *     open FOLDER                   uidvalidity, uidnext, highestmodseq, then
 *                                   "uid flags size modseq location" per message
 *     time FOLDER                   "count N open SECONDS" (store_folder_open only)
 *     fill FOLDER [STEP]            after the open, store_folder_fill() STEP
 *                                   (default 2048) at a time until all are
 *                                   read: "count N steps S fill SECONDS"
 *     append FOLDER FILE [FLAGS]    prints the new UID (FLAGS: letters DFPRST)
 *     flags FOLDER UID +S -T =FS... +kw:WORD -kw:WORD
 *     copy|move FOLDER UID DEST     prints the new UID in DEST
 *     setflags FOLDER SET +S|-kw:W..  one store_set_flags_uids() per argument
 *                                   (SET: "1:5,7"); prints UIDs it left alone
 *                                   with unchangedsince (=FLAGS@MODSEQ)
 *     copyset|moveset FOLDER SET DEST  prints "UID NEWUID" per message
 *     range FOLDER UID OFFSET LEN   store_msg_read_range() on stdout
 *     sync FOLDER [N]               open, then N times (default 1): wait for
 *                                   the notify fd (prints "ready" first,
 *                                   "woke MS at EPOCH" after), sync, print
 *                                   the changes; N 0: once, told by a line
 *                                   on stdin instead of the notify fd
 *     expunge FOLDER [UID...]       no UID: every \Deleted message
 *     read FOLDER UID               the message on stdout
 *     create|delete NAME, rename FROM TO
 *     tagsync                       one tag_sync_store() pass: "quick Q full F
 *                                   messages M tags T keywords K seconds S"
 *   storetool floor DIR             readdir + stat of DIR/new and DIR/cur:
 *                                   "files N floor SECONDS"
 *   storetool envcheck DIR          the ENVELOPE of every file of DIR/new and
 *                                   DIR/cur without GMime (when the fast path
 *                                   takes it) against GMime's: "files N fast F
 *                                   differ D", and each difference */
#include "store/message.h"
#include "store/store.h"
#include "store/store-private.h"
#include "store/tag_sync.h"

#include "lib/header.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct { char letter; uint32_t flag; } letters[] = {
	{ 'D', STORE_DRAFT }, { 'F', STORE_FLAGGED }, { 'N', STORE_RECENT },
	{ 'P', STORE_PASSED }, { 'R', STORE_ANSWERED }, { 'S', STORE_SEEN },
	{ 'T', STORE_DELETED },
};

static uint32_t parse_flags(const char *s)
{
	uint32_t f = 0;

	for (; *s; s++)
		for (size_t i = 0; i < sizeof(letters) / sizeof(*letters); i++)
			if (letters[i].letter == *s)
				f |= letters[i].flag;
	return f;
}

static void print_flags(uint32_t f)
{
	char buf[16];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(letters) / sizeof(*letters); i++)
		if (f & letters[i].flag)
			buf[n++] = letters[i].letter;
	buf[n] = '\0';
	fputs(n ? buf : "-", stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const char *error)
{
	fprintf(stderr, "storetool: %s: %s\n", what, error);
	return 1;
}

/* The floor the open benchmark compares with: readdir + stat of every file. */
static int floor_cmd(const char *dir)
{
	static const char *const subs[] = { "new", "cur" };
	double t0 = now();
	size_t files = 0;

	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, subs[i]);
		DIR *d = opendir(p);
		struct dirent *de;
		struct stat st;

		if (d == NULL) {
			perror(p);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
				files++;
		}
		closedir(d);
		free(p);
	}
	printf("files %zu floor %.4f\n", files, now() - t0);
	return 0;
}

static int read_file(const char *path, struct sbuf *out);

/* envelope_fast.c's answer against GMime's on a whole corpus. */
static int envcheck_cmd(const char *dir)
{
	static const char *const subs[] = { "new", "cur" };
	size_t files = 0, fast = 0, differ = 0;

	message_init();
	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, subs[i]);
		DIR *d = opendir(p);
		struct dirent *de;

		if (d == NULL) {
			perror(p);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			struct sbuf data = SBUF_INIT, gm = SBUF_INIT;
			char *path = xasprintf("%s/%s", p, de->d_name);
			const char *err;
			size_t len;

			if (de->d_name[0] != '.' && read_file(path, &data) == 0) {
				files++;
				header_block_len(data.buf, data.len, &len);
				char *env = store_envelope_fast(data.buf, len);
				struct message *m = env ? message_parse(data.buf, len, NULL, &err) : NULL;

				if (m) {
					fast++;
					message_imap_envelope(m, &gm);
					if (strcmp(env, gm.buf) != 0) {
						differ++;
						printf("%s\n  fast  %s\n  gmime %s\n", path, env, gm.buf);
					}
					message_free(&m);
				}
				free(env);
			}
			sbuf_release(&gm);
			sbuf_release(&data);
			free(path);
		}
		closedir(d);
		free(p);
	}
	printf("files %zu fast %zu differ %zu\n", files, fast, differ);
	return differ != 0;
}

static int read_file(const char *path, struct sbuf *out)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sbuf_add(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/* "1:5,7" -> UIDs (malloc'd). */
static uint32_t *parse_set(const char *s, size_t *n_r)
{
	uint32_t *v = NULL;
	size_t n = 0, alloc = 0;

	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (*end == ':')
			b = strtoul(end + 1, &end, 10);
		for (unsigned long u = a; u <= b; u++) {
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				v = xreallocarray(v, alloc, sizeof(*v));
			}
			v[n++] = (uint32_t)u;
		}
		s = *end == ',' ? end + 1 : end + strlen(end);
	}
	*n_r = n;
	return v;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double ms_since(double t0)
{
	return (now() - t0) * 1000.0;
}

static void print_uids(const char *what, const uint32_t *v, size_t n)
{
	printf("%s", what);
	for (size_t i = 0; i < n; i++)
		printf(" %u", v[i]);
	printf("\n");
}

/* sync: waits on the notify fd, syncs and prints what changed, count times. */
static int sync_cmd(struct store_folder *f, int count)
{
	struct store_changes ch;
	const char *err;
	int fd = store_folder_notify_fd(f);

	for (int i = 0; i < (count ? count : 1); i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double t0 = now();

		char line[16];

		printf("ready\n");
		fflush(stdout);
		if (count == 0) {
			/* Told by a line on stdin, not by the notify fd. */
			if (fgets(line, sizeof(line), stdin) == NULL)
				return die("sync", "stdin closed");
		} else if (fd >= 0 && poll(&pfd, 1, 10000) <= 0) {
			return die("sync", "no notification within 10 s");
		}
		printf("woke %.1f at %.6f\n", ms_since(t0), wall());
		t0 = now();
		if (store_folder_sync(f, &ch, &err) < 0)
			return die("sync", err);
		printf("synced %.3f ms count %zu new %zu rescanned %d\n", ms_since(t0),
		       store_folder_count(f), ch.n_new, ch.rescanned);
		print_uids("expunged", ch.expunged, ch.n_expunged);
		print_uids("changed", ch.changed, ch.n_changed);
		for (size_t k = 0; k < ch.n_changed; k++) {
			const struct store_msg *m = store_folder_find(f, ch.changed[k]);

			printf("msg %u ", m->uid);
			print_flags(m->flags);
			printf(" %llu kw:%s\n", (unsigned long long)m->modseq, m->keywords);
		}
		fflush(stdout);
		store_changes_free(&ch);
	}
	return 0;
}

/* -k: the folder's snapshot is kept as the server's image at close (as an
 * IMAP session's is: no thread keys). */
static bool keep_image;

static int folder_cmd(struct store *store, const char *cmd, int argc, char **argv)
{
	struct store_folder *f = NULL, *dst = NULL;
	const char *err;
	double t0 = now();
	int rc = 0;

	if (argc < 1)
		return die(cmd, "folder name missing");
	if (store_folder_open(store, argv[0], &f, &err) < 0)
		return die(argv[0], err);
	if (strcmp(cmd, "time") == 0) {
		printf("count %zu open %.4f\n", store_folder_count(f), now() - t0);
	} else if (strcmp(cmd, "fill") == 0) {
		size_t step = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048, left = 1, steps = 0;

		for (t0 = now(); left > 0 && rc == 0; steps++)
			if (store_folder_fill(f, step, &left, &err) < 0)
				rc = die("fill", err);
		printf("count %zu steps %zu fill %.4f\n", store_folder_count(f), steps, now() - t0);
	} else if (strcmp(cmd, "open") == 0) {
		printf("uidvalidity %u\nuidnext %u\nhighestmodseq %llu\n",
		       store_folder_uidvalidity(f), store_folder_uidnext(f),
		       (unsigned long long)store_folder_highestmodseq(f));
		for (size_t i = 0; i < store_folder_count(f); i++) {
			const struct store_msg *m = store_folder_msg(f, i);

			printf("%u ", m->uid);
			print_flags(m->flags);
			printf(" %llu %llu %s%s%s\n", (unsigned long long)m->size,
			       (unsigned long long)m->modseq, m->location ? m->location : "-",
			       m->keywords[0] ? " kw:" : "", m->keywords);
		}
	} else if (strcmp(cmd, "append") == 0 && argc >= 2) {
		struct sbuf data = SBUF_INIT;
		uint32_t uid;

		if (read_file(argv[1], &data) < 0) {
			perror(argv[1]);
			rc = 1;
		} else if (store_append(f, data.buf, data.len, argc > 2 ? parse_flags(argv[2]) : 0,
					NULL, 0, &uid, &err) < 0) {
			rc = die("append", err);
		} else {
			printf("%u\n", uid);
		}
		sbuf_release(&data);
	} else if (strcmp(cmd, "flags") == 0 && argc >= 3) {
		uint32_t uid = (uint32_t)strtoul(argv[1], NULL, 10);

		for (int i = 2; i < argc && rc == 0; i++) {
			const char *a = argv[i];
			enum store_flag_op op = a[0] == '+' ? STORE_FLAGS_ADD :
				a[0] == '-' ? STORE_FLAGS_REMOVE : STORE_FLAGS_SET;
			int r = strncmp(a + 1, "kw:", 3) == 0 ?
				store_set_flags(f, uid, op, 0, a + 4, &err) :
				store_set_flags(f, uid, op, parse_flags(a + 1), NULL, &err);

			if (r < 0)
				rc = die("flags", err);
		}
	} else if ((strcmp(cmd, "copy") == 0 || strcmp(cmd, "move") == 0) && argc >= 3) {
		uint32_t uid = (uint32_t)strtoul(argv[1], NULL, 10), nuid;

		if (store_folder_open(store, argv[2], &dst, &err) < 0)
			rc = die(argv[2], err);
		else if ((cmd[0] == 'c' ? store_copy : store_move)(f, uid, dst, &nuid, &err) < 0)
			rc = die(cmd, err);
		else
			printf("%u\n", nuid);
		store_folder_close(&dst);
	} else if (strcmp(cmd, "setflags") == 0 && argc >= 3) {
		size_t n, n_mod = 0;
		uint32_t *uids = parse_set(argv[1], &n), *mod = NULL;

		for (int i = 2; i < argc && rc == 0; i++) {
			const char *a = argv[i], *at = strchr(a, '@');
			char *word = xstrndup(a + 1, at ? (size_t)(at - a - 1) : strlen(a + 1));
			bool kw = strncmp(word, "kw:", 3) == 0;
			struct store_flag_change ch = {
				a[0] == '+' ? STORE_FLAGS_ADD : a[0] == '-' ? STORE_FLAGS_REMOVE :
				STORE_FLAGS_SET, kw ? 0 : parse_flags(word), kw ? word + 3 : NULL,
				at ? strtoull(at + 1, NULL, 10) : 0,
			};
			printf("start-at %.6f\n", wall());
			if (store_set_flags_uids(f, uids, n, &ch, &mod, &n_mod, &err) < 0)
				rc = die("setflags", err);
			else if (n_mod)
				print_uids("modified", mod, n_mod);
			free(mod);
			free(word);
		}
		free(uids);
	} else if ((strcmp(cmd, "copyset") == 0 || strcmp(cmd, "moveset") == 0) && argc >= 3) {
		size_t n;
		uint32_t *uids = parse_set(argv[1], &n), *nuids = xcalloc(n + 1, sizeof(*nuids));

		if (store_folder_open(store, argv[2], &dst, &err) < 0)
			rc = die(argv[2], err);
		else if ((cmd[0] == 'c' ? store_copy_uids : store_move_uids)(f, uids, n, dst, nuids,
									   &err) < 0)
			rc = die(cmd, err);
		else
			for (size_t i = 0; i < n; i++)
				printf("%u %u\n", uids[i], nuids[i]);
		store_folder_close(&dst);
		free(uids);
		free(nuids);
	} else if (strcmp(cmd, "range") == 0 && argc >= 4) {
		struct sbuf out = SBUF_INIT;

		if (store_msg_read_range(f, (uint32_t)strtoul(argv[1], NULL, 10),
					 strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
					 &out, &err) < 0)
			rc = die("range", err);
		else
			fwrite(out.buf, 1, out.len, stdout);
		sbuf_release(&out);
	} else if (strcmp(cmd, "sync") == 0) {
		rc = sync_cmd(f, argc > 1 ? atoi(argv[1]) : 1);
	} else if (strcmp(cmd, "expunge") == 0) {
		uint32_t *uids = xcalloc((size_t)argc, sizeof(*uids));

		for (int i = 1; i < argc; i++)
			uids[i - 1] = (uint32_t)strtoul(argv[i], NULL, 10);
		if (store_expunge(f, uids, (size_t)argc - 1, &err) < 0)
			rc = die("expunge", err);
		free(uids);
	} else if (strcmp(cmd, "read") == 0 && argc >= 2) {
		struct sbuf out = SBUF_INIT;

		if (store_msg_read(f, (uint32_t)strtoul(argv[1], NULL, 10), &out, &err) < 0)
			rc = die("read", err);
		else
			fwrite(out.buf, 1, out.len, stdout);
		sbuf_release(&out);
	} else {
		rc = die(cmd, "unknown command or missing arguments");
	}
	if (keep_image && rc == 0 && store_folder_keep_snapshot(f, &err) < 0)
		rc = die("keep", err);
	store_folder_close(&f);
	return rc;
}

int main(int argc, char **argv)
{
	struct store_settings set = { 0 };
	unsigned flags = 0;
	struct store *store;
	const char *err;
	int opt, rc = 0;

	if (argc == 3 && strcmp(argv[1], "floor") == 0)
		return floor_cmd(argv[2]);
	if (argc == 3 && strcmp(argv[1], "envcheck") == 0)
		return envcheck_cmd(argv[2]);
	while ((opt = getopt(argc, argv, "+ciks:")) != -1) {
		switch (opt) {
		case 'c': flags |= STORE_OPEN_CREATE; break;
		case 'i': flags |= STORE_OPEN_INDEX; break;
		case 'k': flags |= STORE_OPEN_NO_THREADKEYS; keep_image = true; break;
		case 's': set.state_dir = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: storetool [-c] [-i] [-k] [-s STATEDIR] ROOT COMMAND ARGS...\n");
		return 2;
	}
	set.root = argv[optind];
	if (store_open(&set, flags, &store, &err) < 0)
		return die(set.root, err);
	const char *cmd = argv[optind + 1];
	int n = argc - optind - 2;
	char **args = argv + optind + 2;

	if (strcmp(cmd, "list") == 0) {
		struct store_folder_info *list;
		size_t count;

		if (store_folder_list(store, &list, &count, &err) < 0) {
			rc = die("list", err);
		} else {
			for (size_t i = 0; i < count; i++)
				printf("%s %s\n", list[i].name,
				       list[i].kind == STORE_MBOX ? "mbox" : "maildir");
			store_folder_list_free(list, count);
		}
	} else if (strcmp(cmd, "tagsync") == 0 && n == 0) {
		struct tag_sync_result res;
		double t0 = now();

		if (tag_sync_store(store, &res, &err) < 0)
			rc = die("tagsync", err);
		else
			printf("quick %d full %d messages %zu tags %zu keywords %zu seconds %.4f\n",
			       res.quick, res.full, res.messages, res.tags_changed,
			       res.keywords_changed, now() - t0);
	} else if (strcmp(cmd, "create") == 0 && n == 1) {
		if (store_folder_create(store, args[0], &err) < 0)
			rc = die("create", err);
	} else if (strcmp(cmd, "delete") == 0 && n == 1) {
		if (store_folder_delete(store, args[0], &err) < 0)
			rc = die("delete", err);
	} else if (strcmp(cmd, "rename") == 0 && n == 2) {
		if (store_folder_rename(store, args[0], args[1], &err) < 0)
			rc = die("rename", err);
	} else {
		rc = folder_cmd(store, cmd, n, args);
	}
	store_close(&store);
	message_deinit();
	return rc;
}
