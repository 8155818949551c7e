/* clock: the injectable clock and the three C-locale date formatters (mail
 * headers, mbox From_ lines, IMAP INTERNALDATE), whatever LC_TIME says. */
#include "lib/clock.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_now_injectable(void **state)
{
	setenv("LOFT_TEST_NOW", "1715689800", 1);
	assert_int_equal(clock_now(), 1715689800);
	setenv("LOFT_TEST_NOW", "garbage", 1);
	assert_true(clock_now() > 1715689800);	/* ignored: the real time */
	unsetenv("LOFT_TEST_NOW");
}

static void test_formats(void **state)
{
	static const struct {
		int64_t t;
		const char *mbox, *imap, *rfc5322;
	} cases[] = {
		{ 1715689800, "Tue May 14 12:30:00 2024", "14-May-2024 12:30:00 +0000",
		  "Tue, 14 May 2024 12:30:00 +0000" },
		{ 5 * 86400 + 3600, "Tue Jan  6 01:00:00 1970", "06-Jan-1970 01:00:00 +0000",
		  "Tue, 06 Jan 1970 01:00:00 +0000" },
		{ 1798761599, "Thu Dec 31 23:59:59 2026", "31-Dec-2026 23:59:59 +0000",
		  "Thu, 31 Dec 2026 23:59:59 +0000" },
	};
	char buf[64];

	setenv("TZ", "UTC", 1);	/* clock_rfc5322 is local time with its offset */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(clock_mbox_date(cases[i].t, buf, sizeof(buf)), cases[i].mbox);
		assert_string_equal(clock_imap_date(cases[i].t, buf, sizeof(buf)), cases[i].imap);
		assert_string_equal(clock_rfc5322(cases[i].t, buf, sizeof(buf)), cases[i].rfc5322);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_injectable),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
