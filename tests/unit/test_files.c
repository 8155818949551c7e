/* lib/atomic and lib/path: durable writes and joins that cannot escape. */
#include "lib/atomic.h"
#include "lib/path.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char *read_all(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/loft-unit-XXXXXX";
	char path[256];
	const char *err = NULL;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_int_equal(atomic_write_file(path, "one", 3, 0600, &err), 0);
	assert_string_equal(read_all(path), "one");
	assert_int_equal(atomic_write_file(path, "two!", 4, 0644, &err), 0);
	assert_string_equal(read_all(path), "two!");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(count_entries(dir), 1);	/* no temporary left */

	/* failure: the directory does not exist; nothing is left behind */
	snprintf(path, sizeof(path), "%s/missing/file", dir);
	assert_int_equal(atomic_write_file(path, "x", 1, 0600, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "create temporary file");
	assert_int_equal(count_entries(dir), 1);

	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
}

static void test_join_safe(void **state)
{
	static const struct {
		const char *rel, *want;	/* want NULL: refused */
	} cases[] = {
		{ "INBOX", "/m/INBOX" },
		{ "Lists/foo", "/m/Lists/foo" },
		{ "a//b/./c", "/m/a/b/c" },
		{ "a/", "/m/a" },
		{ "..", NULL },
		{ "a/../../etc", NULL },
		{ "/etc/passwd", NULL },
		{ "", NULL },
		{ ".", NULL },
		{ "a\nb", NULL },
		{ "..foo", "/m/..foo" },	/* a name, not a climb */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = NULL;
		char *got = path_join_safe("/m/", cases[i].rel, &err);

		if (cases[i].want == NULL) {
			assert_null(got);
			assert_non_null(err);
			assert_false(path_is_safe_relative(cases[i].rel));
		} else {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
			assert_true(path_is_safe_relative(cases[i].rel));
		}
		free(got);
	}
	char *p = path_join("/", "x");
	assert_string_equal(p, "/x");
	free(p);
}

static void test_safe_filename(void **state)
{
	static const char *const cases[][2] = {
		{ "/evil/filename", "filename" },
		{ "C:\\TEMP\\nsmail.png", "nsmail.png" },
		{ "../../.bashrc", "bashrc" },
		{ "...", "attachment" },
		{ "", "attachment" },
		{ "r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf" },
		{ "a\tb", "a_b" },
		/* the bidi override that shows "invoice\u202Efdp.exe" as ...exe.pdf */
		{ "invoice\xe2\x80\xae" "fdp.exe", "invoice_fdp.exe" },
		{ "a\xe2\x81\xa6" "b\xe2\x81\xa9" "c", "a_b_c" },		/* isolates */
		{ "csi\xc2\x9b" "2J", "csi_2J" },			/* C1 CSI */
		{ "esc\x1b]0;x\x07", "esc_]0;x_" },
		{ "latin\xe9", "latin_" },				/* not UTF-8 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = path_safe_filename(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_join_safe),
		cmocka_unit_test(test_safe_filename),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
