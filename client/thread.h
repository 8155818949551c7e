/* thread: conversation threads of a folder, after JWZ's algorithm
 * (https://www.jwz.org/doc/threading.html) as mutt applies it.
 *
 * Input: one struct thread_input per message (Message-ID, In-Reply-To and
 * References as raw header values; decoded Subject; date).  Output: a
 * forest over the messages (parent / first_child / next_sibling indices
 * into the input array) and the display order, depth-first, with what the
 * UI needs to draw the tree and collapse threads.
 *
 * Robustness: ids are found in References even among garbage, with or
 * without <>; reference loops and self-references are cut, so the output
 * never has a cycle; a duplicate Message-ID makes a separate message (a
 * sibling of the first copy when the two carry the same References);
 * messages without ids are threaded by their references alone.  Parents
 * referenced but absent ("missing") never appear: their children are
 * joined to the nearest present ancestor, and children of a missing top
 * hang under the earliest of them.  Nothing here recurses, so a thread
 * 100,000 messages deep is fine.
 *
 * Memory: thread_build() copies nothing from the input (each string is
 * read once, during the call, and only its hash kept) and returns one
 * struct thread that owns all its arrays, freed by thread_free().  Besides the result (44 bytes a
 * message) it holds at most about 90 bytes a message while it works
 * (100,000 messages: 4.4 MB and ~9 MB, measured with massif).  Pure: no I/O, never blocks.  About
 * 100 ms for 100,000 messages is the budget (tests/unit/test_thread.c
 * prints the time). */
#ifndef LOFT_CLIENT_THREAD_H
#define LOFT_CLIENT_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct arena;

struct thread_input {
	const char *message_id;		/* raw Message-ID value, NULL if none */
	const char *in_reply_to;	/* raw value or NULL */
	const char *references;		/* raw value (whitespace-separated <ids>) or NULL */
	const char *subject;		/* decoded, or NULL */
	int64_t date;			/* seconds since the epoch */
};

struct thread_options {
	/* Mail without References/In-Reply-To joins the thread whose top has
	 * the same normalised subject (and is older). */
	bool subject_fallback;
	/* Only when its subject is a reply ("Re: ..."), as mutt's $sort_re. */
	bool subject_needs_reply;
	/* "[list] subject": tags in brackets are ignored when comparing. */
	bool strip_list_tags;
	/* Threads with the newest activity first (default: last, as mutt). */
	bool newest_first;
};
#define THREAD_OPTIONS_DEFAULT { true, true, true, false }

enum thread_node_flag {
	THREAD_MISSING_PARENT = 1 << 0,	/* its real parent is not in the folder */
	THREAD_BY_SUBJECT = 1 << 1,	/* attached by subject, not by reference */
	THREAD_DUPLICATE = 1 << 2,	/* a Message-ID seen on an earlier message */
	THREAD_LOOP_CUT = 1 << 3,	/* a reference loop was cut above it */
	THREAD_LAST = 1 << 4,		/* last of its siblings (draw "└─") */
};

struct thread_node {
	int32_t parent;		/* message index, -1 for a thread top */
	int32_t first_child;	/* earliest child, -1 for none */
	int32_t next_sibling;	/* next younger sibling (or next top), -1 */
	int32_t root;		/* the top of its thread */
	uint32_t depth;		/* 0 for a top */
	uint32_t row;		/* its position in thread->order */
	uint32_t size;		/* messages in its subtree, itself included */
	uint32_t flags;		/* enum thread_node_flag bits */
	int64_t activity;	/* newest date in its whole thread */
};

struct thread {
	size_t n;
	const struct thread_node *nodes;	/* n nodes, indexed like the input */
	/* Display order: message indices, each thread depth-first with
	 * children by date; the subtree of the message at row r is rows
	 * r .. r + size - 1, so collapsing is skipping size - 1 rows. */
	const uint32_t *order;
	int32_t first_root;			/* tops linked by next_sibling */
	size_t nroots;
	struct arena *arena;			/* private */
};

/* Threads n messages (n < 2^31).  opt NULL means THREAD_OPTIONS_DEFAULT.
 * Never fails (out of memory aborts); the caller frees the result with
 * thread_free(). */
struct thread *thread_build(const struct thread_input *in, size_t n,
			    const struct thread_options *opt);

/* What thread_build_fn asks for, in three passes over the messages. */
enum thread_field {
	THREAD_FIELD_ID = 1 << 0,	/* message_id and date */
	THREAD_FIELD_REFS = 1 << 1,	/* in_reply_to and references */
	THREAD_FIELD_SUBJECT = 1 << 2,	/* subject (thread tops only) */
};
/* Sets the fields of message i that fields names (others may be set
 * too; in_r comes zeroed).  The strings need to stay valid only until fn
 * is called again (or thread_build_fn returns): the builder keeps no
 * pointer into them, so fn may hand out one reused buffer. */
typedef void thread_input_fn(void *ctx, size_t i, unsigned fields, struct thread_input *in_r);
/* thread_build with the input read through fn, about three calls per
 * message, instead of an array: a caller whose fields are in its own
 * rows (a snapshot's thread keys) builds no n-sized copy of pointers.
 * The same result as thread_build on the same fields. */
struct thread *thread_build_fn(size_t n, thread_input_fn *fn, void *ctx,
			       const struct thread_options *opt);
/* NULL-safe; sets *tp to NULL. */
void thread_free(struct thread **tp);

/* The threads as bytes, to keep for the next open of the same messages
 * (client/thread_cache.c): thread_save writes t and key (the caller's
 * fingerprint of what t was built from) to dst, thread_save_size(t)
 * bytes (written in place: no copy of ours).  thread_load gives back a
 * thread equal to the one saved (free with thread_free), or NULL when the
 * bytes are not a thread of n messages saved with key by this build of
 * loft, or do not hold together (every link is checked: garbled bytes
 * never give an index out of range or a loop).  Pure; O(n). */
size_t thread_save_size(const struct thread *t);
void thread_save(const struct thread *t, uint64_t key, void *dst);
struct thread *thread_load(const void *data, size_t len, size_t n, uint64_t key);

/* Appends the tree drawing for message msg (its depth in cells: "│ ", "  ",
 * then "├─>" or "└─>"; nothing for a top) to out.  At most max_levels
 * levels are drawn (the nearest ones), so deep threads stay on screen.
 * Returns the cells appended. */
size_t thread_draw_prefix(const struct thread *t, uint32_t msg, unsigned max_levels,
			  struct sbuf *out);

/* Messages in the subtree of msg (the whole thread for a top) and how many
 * of them have unread[i] != 0 (unread may be NULL).  O(size). */
void thread_count(const struct thread *t, uint32_t msg, const uint8_t *unread,
		  size_t *total_r, size_t *unread_r);

/* The subject without reply/forward prefixes ("Re:", "RE:", "Aw:", "SV:",
 * "Antw:", "Fwd:", "Fw:", counters such as "Re[2]:" or "Re^3:"), without
 * list tags ("[foo]") when strip_tags, and without surrounding white
 * space.  Returns the length; *start_r points into subject.  *reply_r (may
 * be NULL) tells whether a reply prefix was removed.  subject NULL is "". */
size_t thread_subject_normalize(const char *subject, bool strip_tags,
				const char **start_r, bool *reply_r);

/* Length of one reply/forward prefix at p ("Re:", "re[2]:", "Fwd:",
 * "Re :"), 0 when there is none; *reply_r tells a reply prefix from a
 * forward one. */
size_t thread_subject_prefix_len(const char *p, bool *reply_r);

/* Extracts message ids from a raw header value (References, In-Reply-To):
 * each <...> pair, or, when the value has no '<' at all, each
 * whitespace-separated word containing '@'.  Calls fn(id, len, ctx) for
 * each in order (len > 0, no <>).  Returns the number found. */
size_t thread_parse_ids(const char *value,
			void (*fn)(const char *id, size_t len, void *ctx), void *ctx);

#endif
