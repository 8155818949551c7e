/* auth_cache: the daemon's verified-login cache (imap_auth_cache_ttl), so
 * that a device reconnecting within minutes does not pay a yescrypt check
 * (~25 ms of CPU and 16 MB of memory each; 75-100 ms on a busy machine)
 * every time, as Dovecot's auth cache spares it.
 *
 * What is kept: per login name, a tag HMAC-SHA256(K, name, password, the
 * stored hash, the identity of the password file (device, inode, size,
 * mtime)) and the monotonic time the check that verified it began.  K is
 * 32 random bytes made when the daemon starts, never written anywhere;
 * the password itself is never kept.  A login hits when its tag, compared
 * in constant time, equals the one kept for its name and less than the
 * TTL has passed since that check: so a changed password, a rewritten
 * password file (`loft passwd` renames a new one into place) or a removed
 * login never hits, and a wrong password costs the full check as before.
 * A failed check drops the name's entry.
 *
 * Where it lives: checks run in the connection children, after the
 * privilege drop.  The parent owns the table; a child reads the copy
 * fork() gave it (so no child ever writes another's memory) and tells the
 * parent of a success or a failure with a message on its status pipe
 * (server_child_message), which the parent reads before it accepts again:
 * the next connection's child inherits it.  A child runs as the owner of
 * the store, who can read the password file and every message anyway, so
 * a message from a subverted child gains it nothing it did not have.
 *
 * Nothing here blocks but auth_cache_tag (reads and stats the password
 * file) or prints. */
#ifndef LOFT_DAEMON_AUTH_CACHE_H
#define LOFT_DAEMON_AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_CACHE_TAG 32
/* Login names kept at once; the least recent is replaced. */
#define AUTH_CACHE_SLOTS 32

struct auth_cache;

/* A new, empty cache with a fresh random key; ttl_ms 0: off.  Never NULL
 * (no randomness aborts: a guessable key is never the better choice). */
struct auth_cache *auth_cache_new(int64_t ttl_ms);
/* NULL-safe; wipes the key; sets *cp NULL. */
void auth_cache_free(struct auth_cache **cp);
/* A new TTL (SIGHUP); every entry is dropped either way. */
void auth_cache_reset(struct auth_cache *c, int64_t ttl_ms);
/* Whether the cache is on (a TTL above 0). */
bool auth_cache_enabled(const struct auth_cache *c);

/* The tag of a login attempt against the password file at passwd_path as
 * it is now: 1 and tag_r, 0 when name has no login there (or the cache is
 * off), -1 when the file cannot be read. */
int auth_cache_tag(const struct auth_cache *c, const char *passwd_path, const char *name,
		   const char *password, unsigned char tag_r[AUTH_CACHE_TAG]);
/* Whether tag is the one kept for name, verified less than the TTL before
 * now_ms (clock_monotonic_ms()). */
bool auth_cache_hit(const struct auth_cache *c, const char *name,
		    const unsigned char tag[AUTH_CACHE_TAG], int64_t now_ms);
/* Keeps tag for name, verified by a check that began at verified_ms. */
void auth_cache_put(struct auth_cache *c, const char *name, const unsigned char tag[AUTH_CACHE_TAG],
		    int64_t verified_ms);
/* Forgets name's entry. */
void auth_cache_drop(struct auth_cache *c, const char *name);

/* The messages a child sends the parent: a success (name, tag, the
 * check's start) or a failure (name).  Each fills buf (at least
 * AUTH_CACHE_MSG_MAX bytes) and returns its length, 0 for a name too long. */
#define AUTH_CACHE_MSG_MAX 128
size_t auth_cache_msg_ok(char *buf, const char *name, const unsigned char tag[AUTH_CACHE_TAG],
			 int64_t verified_ms);
size_t auth_cache_msg_failed(char *buf, const char *name);
/* In the parent: applies a message (a put, never later than now_ms, or a
 * drop).  Whether it was one; anything else is ignored. */
bool auth_cache_receive(struct auth_cache *c, const void *msg, size_t len, int64_t now_ms);

#endif
