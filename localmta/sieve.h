/* sieve: the mail filter language of RFC 5228 with the extensions people
 * use (fileinto + :create, envelope, imap4flags, variables, body...), for
 * delivery.  A script is compiled once and run per message; running never
 * touches a mailbox: it returns the list of actions, and delivery carries
 * them out.
 *
 * Ownership: a compiled script owns everything it returns; a result owns its
 * actions and their strings (valid until sieve_result_free).  Errors: 0 / -1
 * with *error_r, a malloc'd message the caller frees: "NAME:LINE:COL:
 * message" for compile errors.  Nothing prints, nothing blocks (the message
 * is already in memory). */
#ifndef LOFT_LOCALMTA_SIEVE_H
#define LOFT_LOCALMTA_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct message;
struct sieve_script;

/* name appears in error messages (the file name). */
int sieve_compile(const char *name, const char *text, size_t len,
		  struct sieve_script **script_r, char **error_r);
void sieve_script_free(struct sieve_script **scriptp);

struct sieve_input {
	const struct message *msg;	/* the parsed message (store/message.h) */
	uint64_t size;			/* its size in bytes, for `size` */
	const char *envelope_from;	/* MAIL FROM, "" for the null sender */
	const char *envelope_to;	/* RCPT TO of this delivery */
};

enum sieve_action_type {
	SIEVE_KEEP,		/* into the default folder (INBOX) */
	SIEVE_FILEINTO,
	SIEVE_REDIRECT,
	SIEVE_DISCARD,		/* only present when nothing else delivers */
};

struct sieve_action {
	enum sieve_action_type type;
	const char *folder;		/* FILEINTO: folder name as the script says */
	bool create;			/* FILEINTO :create */
	const char *address;		/* REDIRECT */
	const char *const *flags;	/* imap4flags for KEEP/FILEINTO, NULL-terminated
					 * ("\\Seen", "$Label1"...) */
};

struct sieve_result {
	size_t n_actions;
	struct sieve_action *actions;	/* in the order they were taken, deduplicated */
};

/* Runs the script.  On a runtime error returns -1 with *error_r: the caller
 * must then keep the message in INBOX (a filter mistake never loses mail). */
int sieve_execute(const struct sieve_script *script, const struct sieve_input *in,
		  struct sieve_result **result_r, char **error_r);
void sieve_result_free(struct sieve_result **resultp);

#endif
