/* crash points: named places in code that writes mail, where a test can
 * have the process killed (SIGKILL, as a power cut or kill -9 would) to
 * prove that nothing accepted is lost and nothing is corrupted.
 *
 * Driven by two environment variables, read once:
 *   LOFT_CRASH_TRACE=FILE  append the name of every crash point reached to
 *                          FILE, one per line (so a test learns the steps)
 *   LOFT_CRASH_AT=NAME[#N] SIGKILL this process at the N-th (default 1st)
 *                          time it reaches point NAME
 *   LOFT_CRASH_PAUSE=NAME  SIGSTOP this process the first time it reaches
 *                          NAME (a race test then changes files behind its
 *                          back and sends SIGCONT)
 * Without them a crash point costs one branch.  Never blocks. */
#ifndef LOFT_LIB_CRASH_H
#define LOFT_LIB_CRASH_H

void crash_point(const char *name);

#endif
