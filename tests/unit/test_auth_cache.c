/* auth_cache: the verified-login cache of loft daemon, without a daemon:
 * tags against a password file (a changed password, another login
 * changed, an unknown name), the TTL and its clock, the slots, and the
 * messages children send the parent (garbled ones ignored). */
#include "daemon/auth_cache.h"
#include "localmta/auth.h"
#include "lib/xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64], path[128];

static int setup(void **state)
{
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/loft-authcache.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passwd", dir);
	assert_int_equal(auth_passwd_set(path, "phone", "pw-1", &err), 0);
	assert_int_equal(auth_passwd_set(path, "tablet", "pw-2", &err), 0);
	return 0;
}

static int teardown(void **state)
{
	char *lock = xasprintf("%s.lock", path);

	unlink(path);
	unlink(lock);
	free(lock);
	rmdir(dir);
	return 0;
}

static void test_hit_and_ttl(void **state)
{
	struct auth_cache *c = auth_cache_new(1000);
	unsigned char tag[AUTH_CACHE_TAG], other[AUTH_CACHE_TAG];

	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", tag), 1);
	assert_false(auth_cache_hit(c, "phone", tag, 5000));
	auth_cache_put(c, "phone", tag, 5000);
	assert_true(auth_cache_hit(c, "phone", tag, 5000));
	assert_true(auth_cache_hit(c, "phone", tag, 5999));
	assert_false(auth_cache_hit(c, "phone", tag, 6000));	/* the TTL is over */
	assert_false(auth_cache_hit(c, "phone", tag, 4999));	/* a clock before the check */
	assert_false(auth_cache_hit(c, "tablet", tag, 5000));	/* another name */
	/* A wrong password has another tag. */
	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-x", other), 1);
	assert_memory_not_equal(tag, other, AUTH_CACHE_TAG);
	assert_false(auth_cache_hit(c, "phone", other, 5000));
	/* No tag for a name without a login, or a name not valid. */
	assert_int_equal(auth_cache_tag(c, path, "laptop", "pw-1", other), 0);
	assert_int_equal(auth_cache_tag(c, path, "../x", "pw-1", other), 0);
	auth_cache_drop(c, "phone");
	assert_false(auth_cache_hit(c, "phone", tag, 5000));
	auth_cache_free(&c);
	assert_null(c);
}

static void test_file_changes(void **state)
{
	struct auth_cache *c = auth_cache_new(60000);
	unsigned char tag[AUTH_CACHE_TAG], again[AUTH_CACHE_TAG];
	char *err = NULL;

	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", tag), 1);
	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", again), 1);
	assert_memory_equal(tag, again, AUTH_CACHE_TAG);
	/* Another login's change rewrites the file: every tag is new. */
	assert_int_equal(auth_passwd_set(path, "tablet", "pw-3", &err), 0);
	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", again), 1);
	assert_memory_not_equal(tag, again, AUTH_CACHE_TAG);
	/* The same password set again: a new hash (salt), a new tag. */
	memcpy(tag, again, AUTH_CACHE_TAG);
	assert_int_equal(auth_passwd_set(path, "phone", "pw-1", &err), 0);
	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", again), 1);
	assert_memory_not_equal(tag, again, AUTH_CACHE_TAG);
	/* Two daemons (keys) never share a tag. */
	struct auth_cache *d = auth_cache_new(60000);
	assert_int_equal(auth_cache_tag(d, path, "phone", "pw-1", tag), 1);
	assert_memory_not_equal(tag, again, AUTH_CACHE_TAG);
	auth_cache_free(&d);
	/* Off: no tag, no hit, nothing kept. */
	auth_cache_reset(c, 0);
	assert_false(auth_cache_enabled(c));
	assert_int_equal(auth_cache_tag(c, path, "phone", "pw-1", tag), 0);
	auth_cache_put(c, "phone", again, 1);
	assert_false(auth_cache_hit(c, "phone", again, 1));
	auth_cache_free(&c);
}

static void test_slots(void **state)
{
	struct auth_cache *c = auth_cache_new(1000000);
	unsigned char tag[AUTH_CACHE_TAG] = { 1 };
	char name[16];

	for (int i = 0; i < AUTH_CACHE_SLOTS + 1; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		auth_cache_put(c, name, tag, 100 + i);
	}
	/* The oldest made room for the last. */
	assert_false(auth_cache_hit(c, "dev0", tag, 200));
	assert_true(auth_cache_hit(c, "dev1", tag, 200));
	snprintf(name, sizeof(name), "dev%d", AUTH_CACHE_SLOTS);
	assert_true(auth_cache_hit(c, name, tag, 200));
	auth_cache_free(&c);
}

static void test_messages(void **state)
{
	struct auth_cache *c = auth_cache_new(1000);
	unsigned char tag[AUTH_CACHE_TAG];
	char msg[AUTH_CACHE_MSG_MAX];
	size_t len;

	memset(tag, 7, sizeof(tag));
	len = auth_cache_msg_ok(msg, "phone", tag, 5000);
	assert_true(len > 0 && len <= AUTH_CACHE_MSG_MAX);
	/* A check said to begin later than the parent's now counts from now. */
	assert_true(auth_cache_receive(c, msg, len, 4000));
	assert_true(auth_cache_hit(c, "phone", tag, 4999));
	assert_false(auth_cache_hit(c, "phone", tag, 5000));
	/* Garbled or cut messages change nothing. */
	assert_false(auth_cache_receive(c, msg, len - 1, 4000));
	assert_false(auth_cache_receive(c, "x", 1, 4000));
	assert_false(auth_cache_receive(c, "k\0", 2, 4000));
	assert_false(auth_cache_receive(c, "fphone", 6, 4000));
	assert_true(auth_cache_hit(c, "phone", tag, 4500));
	len = auth_cache_msg_failed(msg, "phone");
	assert_true(auth_cache_receive(c, msg, len, 4000));
	assert_false(auth_cache_hit(c, "phone", tag, 4500));
	/* Names over AUTH_NAME_MAX are never sent. */
	char longname[AUTH_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(auth_cache_msg_ok(msg, longname, tag, 1), 0);
	assert_int_equal(auth_cache_msg_failed(msg, longname), 0);
	auth_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_ttl),
		cmocka_unit_test(test_file_changes),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
