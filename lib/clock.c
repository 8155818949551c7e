#include "lib/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t clock_now(void)
{
	const char *fake = getenv("LOFT_TEST_NOW");

	if (fake != NULL && *fake >= '0' && *fake <= '9') {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(fake, &end, 10);
		/* A malformed value is ignored rather than trusted half-way. */
		if (errno == 0 && *end == '\0')
			return n;
	}
	return (int64_t)time(NULL);
}

int64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* strftime's %a/%b follow LC_TIME; dates in mail must be English. */
static const char days[] = "SunMonTueWedThuFriSat";
static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

char *clock_rfc5322(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	if (localtime_r(&tt, &tm) == NULL) {
		gmtime_r(&tt, &tm);
		tm.tm_gmtoff = 0;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%.3s, %02d %.3s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return buf;
}

/* t broken down in UTC (the epoch when t is out of range). */
static void utc(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, tm) == NULL) {
		tt = 0;
		gmtime_r(&tt, tm);
	}
}

char *clock_mbox_date(int64_t t, char *buf, size_t size)
{
	struct tm tm;

	utc(t, &tm);
	snprintf(buf, size, "%.3s %.3s %2d %02d:%02d:%02d %04d", days + 3 * tm.tm_wday,
		 months + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 tm.tm_year + 1900);
	return buf;
}

char *clock_imap_date(int64_t t, char *buf, size_t size)
{
	struct tm tm;

	utc(t, &tm);
	snprintf(buf, size, "%02d-%.3s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
		 months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}
