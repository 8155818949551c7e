/* bounce: mutt's `b` — the message sent on unchanged to other addresses,
 * with Resent-From/To/Date/Message-ID on top (RFC 5322 3.6.6), through
 * loft's sendmail and the queue like any other mail. */
#include "ui/ui-private.h"

#include "store/message.h"

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The addr-specs of a comma-separated list ("Ann <a@x>, b@y"): each the
 * text inside <> when there is one.  Returns the count (0 when an entry
 * is empty, has no '@', or starts with '-', which sendmail would read as
 * an option); *v_r malloc'd strings, caller frees. */
static size_t bounce_addresses(const char *list, char ***v_r)
{
	char *copy = xstrdup(list), *save = NULL;
	char **v = NULL;
	size_t n = 0;
	bool bad = false;

	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *lt = strchr(w, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (lt && gt) {
			w = lt + 1;
			*gt = '\0';
		}
		w += strspn(w, " \t");
		w[strcspn(w, " \t")] = '\0';
		if (*w == '\0' || *w == '-' || strchr(w, '@') == NULL)
			bad = true;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(w);
	}
	free(copy);
	if (bad || n == 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return 0;
	}
	*v_r = v;
	return n;
}

void ui_bounce(struct ui *ui, size_t i)
{
	char *to = ui_prompt(ui, "Bounce message to: ", NULL, ui_complete_address);
	char **addrs = NULL, *domain = NULL, *from = NULL;
	size_t n = 0;
	struct message *m = NULL;
	struct sbuf q = SBUF_INIT, msg = SBUF_INIT, out = SBUF_INIT;

	if (to == NULL || *to == '\0')
		goto out;
	n = bounce_addresses(to, &addrs);
	if (n == 0) {
		ui_message(ui, true, "Bad address: %s", to);
		goto out;
	}
	sbuf_addf(&q, "Bounce message to %s?", to);
	if (!ui_yesno(ui, q.buf, true)) {
		ui_message(ui, false, "Message not bounced.");
		goto out;
	}
	m = ui_msg_load(ui, i);
	if (m == NULL)
		goto out;

	char date[64];
	size_t len;
	const char *raw = message_raw(m, &len);

	domain = config_mail_domain(ui->cfg);
	from = config_sender(ui->cfg);
	sbuf_addf(&msg, "Resent-From: %s\nResent-To: %s\nResent-Date: %s\n", from, to,
		  clock_rfc5322(clock_now(), date, sizeof(date)));
	sbuf_addf(&msg, "Resent-Message-ID: <%lld.%ld.bounce@%s>\n", (long long)clock_now(),
		  (long)getpid(), domain);
	sbuf_add(&msg, raw, len);

	/* The recipients are the arguments: the message's own To and Cc
	 * are not read (no -t). */
	const char **args = xcalloc(n + 6, sizeof(*args));
	size_t k = 0;
	args[k++] = "sendmail";
	args[k++] = "-i";
	args[k++] = "-odq";
	args[k++] = "-v";
	for (size_t a = 0; a < n; a++)
		args[k++] = addrs[a];
	int st = ui_run_loft(ui, args, msg.buf, msg.len, &out);
	const char *id = strstr(out.buf, "queued as ");
	free(args);
	sbuf_rtrim(&out);
	if (st != 0 || id == NULL) {
		ui_message(ui, true, "not bounced: %s", out.len ? out.buf : "sendmail failed");
	} else {
		char *qid = xstrndup(id + 10, strcspn(id + 10, " \n"));
		ui_queue_sent(ui, qid);
		free(qid);
	}
out:
	for (size_t a = 0; a < n; a++)
		free(addrs[a]);
	free(addrs);
	free(to);
	free(domain);
	free(from);
	message_free(&m);
	sbuf_release(&q);
	sbuf_release(&msg);
	sbuf_release(&out);
}
