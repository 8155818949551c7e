/* auth: the passwd file (add, replace, list, remove), yescrypt checks,
 * wrong passwords and names, generated passwords. */
#include "localmta/auth.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64], path[128];

static int setup(void **state)
{
	strcpy(dir, "/tmp/loft-test-auth.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/state/passwd", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_add_check_list_remove(void **state)
{
	char *err = NULL, **names;
	size_t n;
	struct stat st;

	assert_int_equal(auth_check(path, "phone", "x"), 0);	/* no file yet */
	assert_int_equal(auth_passwd_set(path, "phone", "correct horse", &err), 0);
	assert_int_equal(auth_passwd_set(path, "laptop", "battery staple", &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(auth_check(path, "phone", "correct horse"), 1);
	assert_int_equal(auth_check(path, "phone", "correct horsE"), 0);
	assert_int_equal(auth_check(path, "phone", ""), 0);
	assert_int_equal(auth_check(path, "laptop", "correct horse"), 0);
	assert_int_equal(auth_check(path, "tablet", "correct horse"), 0);
	assert_int_equal(auth_check(path, "pho", "correct horse"), 0);
	assert_int_equal(auth_check(path, "phone:x", "correct horse"), 0);

	/* Replacing keeps one line and the order. */
	assert_int_equal(auth_passwd_set(path, "phone", "new one!", &err), 0);
	assert_int_equal(auth_check(path, "phone", "correct horse"), 0);
	assert_int_equal(auth_check(path, "phone", "new one!"), 1);
	assert_int_equal(auth_passwd_list(path, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "phone");
	assert_string_equal(names[1], "laptop");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);

	assert_int_equal(auth_passwd_remove(path, "phone", &err), 1);
	assert_int_equal(auth_passwd_remove(path, "phone", &err), 0);
	assert_int_equal(auth_check(path, "phone", "new one!"), 0);
	assert_int_equal(auth_check(path, "laptop", "battery staple"), 1);
}

static void test_hash_format(void **state)
{
	char *err = NULL, buf[512];
	FILE *f;

	assert_int_equal(auth_passwd_set(path, "dev", "pw123456", &err), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_true(strncmp(buf, "dev:$y$", 7) == 0);
	assert_null(strstr(buf, "pw123456"));
}

static void test_names_and_generated(void **state)
{
	char *err = NULL;

	assert_true(auth_name_valid("phone"));
	assert_true(auth_name_valid("me@laptop.home"));
	assert_false(auth_name_valid(""));
	assert_false(auth_name_valid("a:b"));
	assert_false(auth_name_valid("a b"));
	assert_false(auth_name_valid("-x"));
	assert_false(auth_name_valid("a\nb"));
	assert_int_equal(auth_passwd_set(path, "bad:name", "x", &err), -1);
	assert_non_null(err);
	free(err);

	char *a = auth_generate_password(), *b = auth_generate_password();

	assert_int_equal(strlen(a), AUTH_PASSWORD_LEN);
	assert_true(AUTH_PASSWORD_LEN >= 20);
	assert_string_not_equal(a, b);
	assert_null(strpbrk(a, "0O1lI:\n "));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_check_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_generated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
