#include "lib/crash.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool loaded;
static const char *trace_file;
static char at_name[128];
static long at_count;	/* 0: no crash requested */
static long seen;
static char pause_name[128];

static void load(void)
{
	const char *at = getenv("LOFT_CRASH_AT");

	loaded = true;
	trace_file = getenv("LOFT_CRASH_TRACE");
	const char *pause_at = getenv("LOFT_CRASH_PAUSE");
	if (pause_at)
		snprintf(pause_name, sizeof(pause_name), "%s", pause_at);
	if (at && *at) {
		const char *hash = strchr(at, '#');
		size_t n = hash ? (size_t)(hash - at) : strlen(at);

		if (n >= sizeof(at_name))
			n = sizeof(at_name) - 1;
		memcpy(at_name, at, n);
		at_name[n] = '\0';
		at_count = hash ? strtol(hash + 1, NULL, 10) : 1;
		if (at_count < 1)
			at_count = 1;
	}
}

void crash_point(const char *name)
{
	if (!loaded)
		load();
	if (trace_file) {
		/* O_APPEND so parallel processes' lines do not interleave. */
		int fd = open(trace_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0) {
			dprintf(fd, "%s\n", name);
			close(fd);
		}
	}
	if (at_count && strcmp(name, at_name) == 0 && ++seen == at_count)
		kill(getpid(), SIGKILL);
	if (pause_name[0] && strcmp(name, pause_name) == 0) {
		pause_name[0] = '\0';
		kill(getpid(), SIGSTOP);
	}
}
