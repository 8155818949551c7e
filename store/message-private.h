/* message-private.h: the inside of struct message and struct message_part,
 * shared by store/message*.c only.  Everything here is allocated in the
 * top message's arena (freed at once by message_free) except the GMime
 * objects, which the top message holds one reference to. */
#ifndef LOFT_STORE_MESSAGE_PRIVATE_H
#define LOFT_STORE_MESSAGE_PRIVATE_H

#include "store/message.h"
#include "store/gmime_lazy.h"

#define MESSAGE_MAX_DEFECTS 8

struct arena;

struct message_header {
	const char *name;
	const char *raw;	/* unfolded, undecoded */
	const char *value;	/* decoded UTF-8 */
};

struct message_addr_list {
	const char *name;	/* "From"... */
	struct message_address *addrs;
	size_t count;
};

struct message {
	struct message *top;		/* the message that owns the arena (self for the top) */
	struct arena *arena;		/* only in the top message */
	GMimeMessage *gm;		/* referenced by the top only */
	const char *raw;		/* top only: the input */
	char *raw_alloc;		/* top only: what to free, or NULL when borrowed */
	size_t raw_len;
	GByteArray *raw_array;		/* top only: raw lent to GMime's stream */
	struct message_limits lim;

	struct message_header *headers;
	int nheaders;
	struct message_addr_list addr_lists[6];
	int has_date;
	time_t date;
	int tz_offset;
	const char *msgid, *in_reply_to;
	const char **refs;
	size_t nrefs;

	struct message_part *root;
	const struct message_part **parts;	/* top only: depth-first */
	size_t nparts;
	const char *defects[MESSAGE_MAX_DEFECTS + 1];
	unsigned ndefects;
};

struct message_part {
	struct message *owner;		/* the top message */
	struct message *msg;		/* the (possibly embedded) message this part belongs to */
	GMimeObject *obj;
	const char *type, *declared, *section;
	unsigned id, depth;
	struct message_param *params;
	size_t nparams;
	const char *charset, *disposition, *filename, *encoding, *boundary;
	struct message_header *headers;
	int nheaders;
	int is_multipart;
	int flattened;			/* over a limit: shown as an empty leaf */
	int in_multipart;		/* body ends before a boundary line */
	int eof_trim;			/* last part of an unclosed multipart */
	const struct message_part **children;
	size_t nchildren;
	struct message *embedded;

	int content_done;
	char *content;
	size_t content_len;
	char sha256[65];
	const char *defects[MESSAGE_MAX_DEFECTS + 1];
	unsigned ndefects;
};

/* message.c */
void message_add_defect(const char **defects, unsigned *n, const char *defect);
void message_read_headers(struct message *top, GMimeHeaderList *list,
			  struct message_header **headers_r, int *count_r);
const char *message_headers_find(const struct message_header *h, int n, const char *name, int raw);
void message_fill_envelope(struct message *m, GMimeMessage *gm);
/* message_cap.c: the bytes to give GMime for data under lim: NULL when
 * data is within the caps (give it as is), else a new array (caller
 * unrefs) with the fields over a cap cut out and the view ended at a part
 * over the part or depth cap; the caps hit are added to defects. */
GByteArray *message_cap_view(const char *data, size_t len, const struct message_limits *lim,
			     const char **defects, unsigned *ndefects);
/* message_mime.c: builds top->root and top->parts from top->gm. */
void message_build_tree(struct message *top);

#endif
