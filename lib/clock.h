/* clock: the current time, injectable so retry and expiry logic can be
 * tested in seconds instead of days.
 *
 * clock_now() is time(NULL), unless the environment variable LOFT_TEST_NOW
 * holds a decimal number of seconds since the epoch: then that number is
 * returned.  The variable is meant for tests only (tests/queue.t sets it to
 * walk a queue through five days of retries); nothing else should set it.
 * It is read at every call, so a test may change it between steps of one
 * process.  Never blocks, never fails. */
#ifndef LOFT_LIB_CLOCK_H
#define LOFT_LIB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Seconds since the epoch (LOFT_TEST_NOW when set and valid). */
int64_t clock_now(void);

/* Milliseconds of CLOCK_MONOTONIC (not affected by LOFT_TEST_NOW nor by
 * changes of the wall clock): for deadlines and timeouts. */
int64_t clock_monotonic_ms(void);

/* t as an RFC 5322 date in local time with its offset ("Tue, 04 Jun 2024
 * 09:30:00 +0200"), English names whatever the locale, into buf (size >= 40).
 * Returns buf. */
char *clock_rfc5322(int64_t t, char *buf, size_t size);

/* t as the date of an mbox From_ line, in UTC ("Thu Jan  1 00:00:00 1970",
 * asctime's layout), English names whatever the locale, into buf (size >= 25).
 * Returns buf. */
char *clock_mbox_date(int64_t t, char *buf, size_t size);

/* t as an IMAP date-time in UTC ("04-Dec-2026 15:57:47 +0000", RFC 3501's
 * date-time without the quotes), English month names whatever the locale,
 * into buf (size >= 27).  Returns buf. */
char *clock_imap_date(int64_t t, char *buf, size_t size);

#endif
