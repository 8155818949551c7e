/* compose: reply address rules, subjects, References trimming, quoting,
 * the draft file, and built MIME messages parsed back by the model. */
#include "client/compose.h"

#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/message.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char *const alternates[] = { "*@me.example", NULL };
static const struct compose_identity me = { "me@example.org", "Me Myself", alternates };

static struct message *parse(const char *raw)
{
	const char *err = NULL;
	struct message *m = message_parse(raw, strlen(raw), NULL, &err);

	assert_non_null(m);
	return m;
}

static void test_reply_addresses(void **state)
{
	static const struct {
		const char *headers;
		enum compose_reply_kind kind;
		const char *to, *cc;	/* to NULL: an error is expected */
	} cases[] = {
		{ "From: Ann <ann@x.org>\nTo: me@example.org\n", COMPOSE_REPLY_SENDER,
		  "Ann <ann@x.org>", "" },
		{ "From: Ann <ann@x.org>\nReply-To: list@x.org\nTo: me@example.org\n",
		  COMPOSE_REPLY_SENDER, "list@x.org", "" },
		/* Own mail: to the original recipients. */
		{ "From: Me <ME@example.org>\nTo: Bob <bob@x.org>, c@x.org\nCc: d@x.org\n",
		  COMPOSE_REPLY_SENDER, "Bob <bob@x.org>, c@x.org", "" },
		{ "From: Me <me@example.org>\nTo: Bob <bob@x.org>\nCc: d@x.org, me@example.org\n",
		  COMPOSE_REPLY_ALL, "Bob <bob@x.org>", "d@x.org" },
		/* Reply-all: minus the user (alternates too), deduplicated. */
		{ "From: Ann <ann@x.org>\nTo: me@example.org, Bob <bob@x.org>, other@me.example\n"
		  "Cc: BOB@x.org, \"Doe, Jane\" <jane@x.org>, ANN@x.org\n",
		  COMPOSE_REPLY_ALL, "Ann <ann@x.org>", "Bob <bob@x.org>, \"Doe, Jane\" <jane@x.org>" },
		{ "From: Ann <ann@x.org>\nReply-To: r@x.org\nTo: me@example.org, b@x.org\n",
		  COMPOSE_REPLY_ALL, "r@x.org", "b@x.org" },
		{ "From: Ann <ann@x.org>\nTo: l@lists.org\n"
		  "List-Post: <mailto:l@lists.org?subject=help>\nMail-Followup-To: mft@x.org\n",
		  COMPOSE_REPLY_LIST, "l@lists.org", "" },
		{ "From: Ann <ann@x.org>\nTo: l@lists.org\n"
		  "Mail-Followup-To: Ann <ann@x.org>, l@lists.org\n",
		  COMPOSE_REPLY_LIST, "Ann <ann@x.org>, l@lists.org", "" },
		{ "From: Ann <ann@x.org>\nTo: me@example.org\nList-Post: NO\n", COMPOSE_REPLY_LIST,
		  NULL, NULL },
		{ "From: =?UTF-8?Q?J=C3=BCrgen?= <j@x.de>\nTo: me@example.org\n",
		  COMPOSE_REPLY_SENDER, "Jürgen <j@x.de>", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *raw = xasprintf("%sSubject: s\nMessage-ID: <m%zu@x>\n\nbody\n",
				      cases[i].headers, i);
		struct message *m = parse(raw);
		struct compose_draft *d = NULL;
		const char *err = NULL;
		int r = compose_reply(m, cases[i].kind, &me, NULL, &d, &err);

		if (cases[i].to == NULL) {
			assert_int_equal(r, -1);
			assert_string_equal(err, "no list address");
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(d->to, cases[i].to);
			assert_string_equal(d->cc, cases[i].cc);
			assert_string_equal(d->from, "Me Myself <me@example.org>");
		}
		compose_draft_free(&d);
		message_free(&m);
		free(raw);
	}
}

static void test_subjects(void **state)
{
	static const struct {
		const char *in, *re;
	} cases[] = {
		{ "hello", "Re: hello" },
		{ "Re: hello", "Re: hello" },
		{ "Re: Re: RE: hello", "Re: hello" },
		{ "AW: Re[2]: hello", "Re: hello" },
		{ "Fwd: hello", "Re: Fwd: hello" },
		{ "[list] Re: hello", "Re: hello" },
		{ "[list] hello", "Re: [list] hello" },
		{ "", "Re: " },
		{ NULL, "Re: " },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = compose_reply_subject(cases[i].in);

		assert_string_equal(s, cases[i].re);
		free(s);
	}
	char *f = compose_forward_subject("hi");

	assert_string_equal(f, "Fwd: hi");
	free(f);
	f = compose_forward_subject("Fwd: hi");
	assert_string_equal(f, "Fwd: hi");
	free(f);
}

static void test_references(void **state)
{
	struct sbuf raw = SBUF_INIT;

	sbuf_addstr(&raw, "From: a@x\nMessage-ID: <last@x>\nReferences:");
	for (int i = 0; i < 30; i++)
		sbuf_addf(&raw, " <r%d@x>", i);
	sbuf_addstr(&raw, "\nIn-Reply-To: <r29@x>\n\nb\n");

	struct message *m = parse(raw.buf);
	char *refs = compose_references(m, 0);
	struct sbuf want = SBUF_INIT;

	/* The first, then the last 19 (r12..r29 and the message itself). */
	sbuf_addstr(&want, "<r0@x>");
	for (int i = 12; i < 30; i++)
		sbuf_addf(&want, " <r%d@x>", i);
	sbuf_addstr(&want, " <last@x>");
	assert_string_equal(refs, want.buf);
	free(refs);
	refs = compose_references(m, 3);
	assert_string_equal(refs, "<r0@x> <r29@x> <last@x>");
	free(refs);
	message_free(&m);

	/* No References: In-Reply-To, then the id. */
	m = parse("From: a@x\nMessage-ID: <b@x>\nIn-Reply-To: <a@x>\n\nb\n");
	refs = compose_references(m, 0);
	assert_string_equal(refs, "<a@x> <b@x>");
	free(refs);
	message_free(&m);
	sbuf_release(&want);
	sbuf_release(&raw);
}

static void test_quote(void **state)
{
	struct sbuf sb = SBUF_INIT;
	const char *text = "first\n\n> quoted\r\n>> deeper\nlast";

	compose_quote(text, strlen(text), "> ", &sb);
	assert_string_equal(sb.buf, "> first\n>\n> > quoted\n> >> deeper\n> last\n");
	sbuf_release(&sb);
}

static void test_reply_body(void **state)
{
	struct message *m = parse("From: \"Ann Example\" <ann@x.org>\nTo: me@example.org\n"
				  "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
				  "Subject: Re: Lunch\nMessage-ID: <lunch@x>\n"
				  "References: <start@x>\n\nShall we?\n> earlier\n");
	struct compose_options opt = { NULL, "%Y-%m-%d", NULL, "my sig\n" };
	struct compose_draft *d;
	const char *err;

	setenv("TZ", "UTC", 1);
	assert_int_equal(compose_reply(m, COMPOSE_REPLY_SENDER, &me, &opt, &d, &err), 0);
	assert_string_equal(d->subject, "Re: Lunch");
	assert_string_equal(d->in_reply_to, "<lunch@x>");
	assert_string_equal(d->references, "<start@x> <lunch@x>");
	assert_string_equal(d->body, "On 2023-11-14, Ann Example wrote:\n"
				     "> Shall we?\n> > earlier\n\n-- \nmy sig\n");
	compose_draft_free(&d);
	message_free(&m);

	/* HTML only: made plain before quoting. */
	m = parse("From: b@x.org\nSubject: h\nMIME-Version: 1.0\n"
		  "Content-Type: text/html; charset=utf-8\n\n"
		  "<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;&amp; "
		  "caf&#233;</p><p>Second<br>line</p></body></html>\n");
	opt = (struct compose_options){ "%n:", NULL, NULL, NULL };
	assert_int_equal(compose_reply(m, COMPOSE_REPLY_SENDER, &me, &opt, &d, &err), 0);
	assert_string_equal(d->body, "b@x.org:\n> Hello & café\n>\n> Second\n> line\n\n");
	compose_draft_free(&d);
	message_free(&m);
}

static void test_forward(void **state)
{
	struct message *m = parse("From: Ann <ann@x.org>\nTo: me@example.org\n"
				  "Date: Tue, 14 Nov 2023 22:13:20 +0000\nSubject: Plans\n\nText.\n");
	struct compose_draft *d = compose_forward(m, true, &me, NULL);

	assert_string_equal(d->subject, "Fwd: Plans");
	assert_non_null(strstr(d->body, "---------- Forwarded message ----------\n"
					"From: Ann <ann@x.org>\n"));
	assert_non_null(strstr(d->body, "Subject: Plans\nTo: me@example.org\n\nText.\n"));
	compose_draft_free(&d);
	d = compose_forward(m, false, &me, NULL);
	assert_string_equal(d->body, "");
	compose_draft_free(&d);
	message_free(&m);
}

static void test_draft_roundtrip(void **state)
{
	struct compose_draft *d = compose_new(&me, &(struct compose_options){ .signature = "sig" });
	struct sbuf sb = SBUF_INIT;
	const char *err = NULL;

	assert_string_equal(d->body, "\n-- \nsig\n");
	free(d->in_reply_to);
	d->in_reply_to = xstrdup("<p@x>");
	compose_draft_write(d, false, &sb);
	assert_string_equal(sb.buf, "From: Me Myself <me@example.org>\nTo: \nCc: \nBcc: \n"
				    "Subject: \nReply-To: \n\n\n-- \nsig\n");	/* a line to write on */
	sbuf_release(&sb);

	const char *edited = "From: Me Myself <me@example.org>\nTo: ann@x.org,\n  bob@x.org\n"
			     "Subject: Grüße\nX-Mood: good\n\nHello\n\nFrom: not a header\n";

	assert_int_equal(compose_draft_parse(edited, strlen(edited), d, &err), 0);
	assert_string_equal(d->to, "ann@x.org,  bob@x.org");
	assert_string_equal(d->cc, "");
	assert_string_equal(d->subject, "Grüße");
	assert_string_equal(d->in_reply_to, "<p@x>");	/* hidden header kept */
	assert_int_equal(d->nextra, 1);
	assert_string_equal(d->extra[0].name, "X-Mood");
	assert_string_equal(d->body, "Hello\n\nFrom: not a header\n");

	compose_draft_write(d, true, &sb);
	assert_non_null(strstr(sb.buf, "X-Mood: good\nIn-Reply-To: <p@x>\n\nHello"));
	sbuf_release(&sb);

	const char *bad = "To: a@x\nthis is not a header\n\nbody\n";

	assert_int_equal(compose_draft_parse(bad, strlen(bad), d, &err), -1);
	assert_non_null(err);
	assert_string_equal(d->subject, "Grüße");	/* unchanged */
	compose_draft_free(&d);
	assert_null(d);
}

static const struct message_part *part_of_type(const struct message *m, const char *type)
{
	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts);

	for (size_t i = 0; i < n; i++)
		if (strcmp(message_part_type(parts[i]), type) == 0)
			return parts[i];
	return NULL;
}

static void test_build_mime(void **state)
{
	struct compose_draft *d = compose_new(&me, NULL);
	struct sbuf out = SBUF_INIT;
	const char *err = NULL;
	char binary[300];
	struct sbuf longline = SBUF_INIT;

	free(d->from);
	d->from = xstrdup("Jürgen Müller <me@example.org>");
	free(d->to);
	d->to = xstrdup("山田太郎 <taro@example.jp>, plain@x.org");
	free(d->bcc);
	d->bcc = xstrdup("hidden@x.org");
	free(d->subject);
	d->subject = xstrdup("Grüße aus Köln — 日本語の件名");
	free(d->in_reply_to);
	d->in_reply_to = xstrdup("<orig@x>");
	free(d->references);
	d->references = xstrdup("<start@x> <orig@x>");
	sbuf_addstr(&longline, "Größe: ");
	for (int i = 0; i < 100; i++)
		sbuf_addstr(&longline, "wort ");
	sbuf_addch(&longline, '\n');
	free(d->body);
	d->body = sbuf_detach(&longline, NULL);
	for (size_t i = 0; i < sizeof(binary); i++)
		binary[i] = (char)(i * 7);

	const char *fwd = "From: a@x\nSubject: inner\n\ninner body\n";
	const struct compose_attachment att[] = {
		{ "résumé.pdf", NULL, binary, sizeof(binary), "CV" },
		{ "notes.txt", NULL, "just ascii\n", 11, NULL },
		{ "fwd.eml", "message/rfc822", fwd, strlen(fwd), NULL },
	};
	const struct compose_build bo = { "mail.example.net", 1700000000, NULL, false, NULL };

	assert_int_equal(compose_build_mime(d, att, 3, &bo, &out, &err), 0);
	/* Encoded on the wire, decoded back by the model. */
	assert_null(strstr(out.buf, "Grüße"));
	assert_non_null(strstr(out.buf, "From: =?UTF-8?"));
	assert_null(strstr(out.buf, "hidden@x.org"));
	assert_non_null(strstr(out.buf, "MIME-Version: 1.0"));
	assert_non_null(strstr(out.buf, "User-Agent: loft/"));

	struct message *m = parse(out.buf);
	const struct message_address *a;

	assert_string_equal(message_header(m, "Subject"), "Grüße aus Köln — 日本語の件名");
	assert_int_equal(message_addresses(m, "From", &a), 1);
	assert_string_equal(a[0].name, "Jürgen Müller");
	assert_int_equal(message_addresses(m, "To", &a), 2);
	assert_string_equal(a[0].name, "山田太郎");
	assert_string_equal(a[1].addr, "plain@x.org");
	assert_int_equal(message_addresses(m, "Bcc", &a), 0);
	assert_string_equal(message_in_reply_to(m), "orig@x");
	assert_non_null(strstr(message_id(m), "@mail.example.net"));

	const char *const *refs;

	assert_int_equal(message_references(m, &refs), 2);
	assert_string_equal(refs[1], "orig@x");

	time_t t;
	int tz;

	assert_int_equal(message_date(m, &t, &tz), 0);
	assert_int_equal(t, 1700000000);

	const struct message_part *p = part_of_type(m, "text/plain");

	assert_non_null(p);
	assert_string_equal(message_part_charset(p), "utf-8");
	assert_string_equal(message_part_encoding(p), "quoted-printable");
	char *text = message_part_text(p, 0, NULL);

	assert_string_equal(text, d->body);
	free(text);

	p = part_of_type(m, "application/pdf");
	assert_non_null(p);
	assert_string_equal(message_part_filename(p), "résumé.pdf");
	assert_string_equal(message_part_encoding(p), "base64");
	assert_string_equal(message_part_disposition(p), "attachment");
	assert_string_equal(message_part_header(p, "Content-Description"), "CV");
	size_t len;
	const char *content = message_part_content(p, &len);

	assert_int_equal(len, sizeof(binary));
	assert_memory_equal(content, binary, len);
	assert_non_null(strstr(out.buf, "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"));

	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts);
	bool seen_txt = false;

	for (size_t i = 0; i < n; i++) {
		const char *fn = message_part_filename(parts[i]);

		if (fn && strcmp(fn, "notes.txt") == 0) {
			seen_txt = true;
			assert_string_equal(message_part_charset(parts[i]), "us-ascii");
			assert_string_equal(message_part_encoding(parts[i]), "7bit");
		}
	}
	assert_true(seen_txt);
	p = part_of_type(m, "message/rfc822");
	assert_non_null(p);
	assert_non_null(message_part_embedded(p));
	assert_string_equal(message_header(message_part_embedded(p), "Subject"), "inner");
	message_free(&m);
	sbuf_release(&out);

	/* ASCII only, no attachments: us-ascii 7bit, a single part; Bcc kept
	 * for the saved copy. */
	free(d->body);
	d->body = xstrdup("plain text\n");
	free(d->subject);
	d->subject = xstrdup("ascii");
	const struct compose_build keep = { NULL, 0, "fixed@id", true, "test/1" };

	assert_int_equal(compose_build_mime(d, NULL, 0, &keep, &out, &err), 0);
	m = parse(out.buf);
	assert_string_equal(message_part_type(message_root(m)), "text/plain");
	assert_string_equal(message_part_charset(message_root(m)), "us-ascii");
	assert_string_equal(message_id(m), "fixed@id");
	assert_string_equal(message_header(m, "User-Agent"), "test/1");
	assert_int_equal(message_addresses(m, "Bcc", &a), 1);
	assert_null(message_part_encoding(message_root(m)) &&
			    strcmp(message_part_encoding(message_root(m)), "7bit") != 0
		    ? "not 7bit" : NULL);
	message_free(&m);
	sbuf_release(&out);

	char **rcpt = compose_recipients(d);

	assert_string_equal(rcpt[0], "taro@example.jp");
	assert_string_equal(rcpt[1], "plain@x.org");
	assert_string_equal(rcpt[2], "hidden@x.org");
	assert_null(rcpt[3]);
	compose_strv_free(rcpt);

	/* Errors: no recipient, no From. */
	free(d->to);
	d->to = xstrdup("");
	free(d->bcc);
	d->bcc = xstrdup("");
	assert_int_equal(compose_build_mime(d, NULL, 0, NULL, &out, &err), -1);
	assert_string_equal(err, "no recipient");
	free(d->from);
	d->from = xstrdup("");
	assert_int_equal(compose_build_mime(d, NULL, 0, NULL, &out, &err), -1);
	assert_string_equal(err, "no From address");
	sbuf_release(&out);
	compose_draft_free(&d);
}

static int teardown(void **state)
{
	message_deinit();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_addresses),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_reply_body),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_draft_roundtrip),
		cmocka_unit_test(test_build_mime),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
