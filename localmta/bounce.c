/* Delivery status notifications (RFC 3464) for recipients the queue gave
 * up on: a multipart/report (RFC 6522) with a human-readable part, the
 * message/delivery-status fields and the original's headers
 * (text/rfc822-headers, so a bounce never carries the whole message back).
 *
 * Everything copied from the envelope or the answers is forced to printable
 * ASCII on one line: those strings may come from a remote server, and a
 * CR/LF in them would forge header fields of the report. */
#include "localmta/queue-private.h"
#include "lib/clock.h"
#include "lib/header.h"
#include "lib/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Appends s as printable ASCII on one line, at most max bytes. */
static void add_clean(struct sbuf *out, const char *s, size_t max)
{
	for (size_t i = 0; s != NULL && s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		sbuf_addch(out, c >= 0x20 && c < 0x7f ? c : '?');
	}
}

static const char *diagnostic_type(const char *answer)
{
	/* RFC 3464 2.3.6: "smtp" for SMTP replies, else our own type. */
	if (answer != NULL && answer[0] >= '2' && answer[0] <= '5' && answer[1] >= '0' &&
	    answer[1] <= '9' && answer[2] >= '0' && answer[2] <= '9' &&
	    (answer[3] == ' ' || answer[3] == '-' || answer[3] == '\0'))
		return "smtp";
	return "X-Loft";
}

void queue_bounce_build(const struct queue *q, const char *id, const struct queue_env *env,
			const char *msg, size_t msg_len, int64_t now, struct sbuf *out)
{
	char date[64], arrival[64], boundary[QUEUE_ID_LEN + 32];
	size_t hlen = header_block_len(msg, msg_len, NULL);
	bool expired = false;

	clock_rfc5322(now, date, sizeof(date));
	clock_rfc5322(env->created, arrival, sizeof(arrival));
	snprintf(boundary, sizeof(boundary), "=_loft-report-%s", id);
	for (size_t i = 0; i < env->n_rcpts; i++)
		expired |= env->rcpts[i].state == QUEUE_RCPT_FAILED && env->rcpts[i].status != NULL &&
			   strcmp(env->rcpts[i].status, "4.4.7") == 0;

	sbuf_addf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", q->domain);
	sbuf_addstr(out, "To: <");
	add_clean(out, env->sender, 500);
	sbuf_addstr(out, ">\n");
	sbuf_addf(out, "Subject: %s\n", expired ? "Undelivered Mail Returned to Sender (delivery time expired)"
					        : "Undelivered Mail Returned to Sender");
	sbuf_addf(out, "Date: %s\n", date);
	sbuf_addf(out, "Message-ID: <%s.bounce@%s>\n", id, q->domain);
	/* RFC 3834: automatic replies must not trigger more of them. */
	sbuf_addstr(out, "Auto-Submitted: auto-replied\n");
	sbuf_addstr(out, "MIME-Version: 1.0\n");
	sbuf_addf(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
		       "\tboundary=\"%s\"\n\n", boundary);
	sbuf_addstr(out, "This is a MIME-encapsulated delivery status report.\n\n");

	/* 1. For people. */
	sbuf_addf(out, "--%s\nContent-Type: text/plain; charset=us-ascii\n"
		       "Content-Description: Notification\n\n", boundary);
	sbuf_addf(out, "This is the mail system at %s (loft).\n\n"
		       "Your message queued on %s\n(queue ID %s) could not be delivered\n"
		       "to the following recipients:\n\n", q->domain, arrival, id);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		if (r->state != QUEUE_RCPT_FAILED)
			continue;
		sbuf_addstr(out, "  <");
		add_clean(out, r->addr, 500);
		sbuf_addstr(out, ">\n    ");
		if (r->status != NULL && strcmp(r->status, "4.4.7") == 0)
			sbuf_addf(out, "gave up after %u attempts over %" PRId64 " hours; last answer:\n    ",
				  r->attempts, (now - env->created) / 3600);
		add_clean(out, r->answer ? r->answer : "no answer", 600);
		sbuf_addstr(out, "\n\n");
	}
	sbuf_addstr(out, "The headers of your message are attached.\n\n");

	/* 2. For programs (RFC 3464 section 2). */
	sbuf_addf(out, "--%s\nContent-Type: message/delivery-status\n"
		       "Content-Description: Delivery report\n\n", boundary);
	sbuf_addf(out, "Reporting-MTA: dns; %s\nX-Loft-Queue-ID: %s\nArrival-Date: %s\n",
		  q->domain, id, arrival);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		if (r->state != QUEUE_RCPT_FAILED)
			continue;
		sbuf_addstr(out, "\nFinal-Recipient: rfc822; ");
		add_clean(out, r->addr, 500);
		sbuf_addf(out, "\nAction: failed\nStatus: %s\n", r->status ? r->status : "5.0.0");
		if (r->answer != NULL) {
			sbuf_addf(out, "Diagnostic-Code: %s; ", diagnostic_type(r->answer));
			add_clean(out, r->answer, 600);
			sbuf_addch(out, '\n');
		}
		sbuf_addf(out, "Last-Attempt-Date: %s\n", date);
	}
	sbuf_addch(out, '\n');

	/* 3. The original's headers. */
	sbuf_addf(out, "--%s\nContent-Type: text/rfc822-headers\n"
		       "Content-Description: Undelivered message headers\n\n", boundary);
	sbuf_add(out, msg, hlen);
	if (hlen > 0 && msg[hlen - 1] != '\n')
		sbuf_addch(out, '\n');
	sbuf_addf(out, "\n--%s--\n", boundary);
}
