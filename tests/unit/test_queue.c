/* queue: envelope format, backoff, expiry and bounces, the intent record,
 * and two runners racing.  Delivery is a fake handler in this file. */
#include "localmta/queue.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "store/message.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define T0 1700000000LL

struct fake {
	enum queue_result result;	/* what deliver_local answers */
	unsigned calls;
	bool saw_maybe;
	char last_token[64];
	struct sbuf bounce;		/* data of the last "ID/bounce" delivery */
	const char *log;		/* append tokens here (race test) */
};

static enum queue_result fake_deliver(void *ctx, const struct queue_delivery *d, char **answer_r)
{
	struct fake *f = ctx;

	f->calls++;
	f->saw_maybe |= d->maybe_delivered;
	snprintf(f->last_token, sizeof(f->last_token), "%s", d->token);
	if (strstr(d->token, "/bounce") != NULL) {
		sbuf_reset(&f->bounce);
		sbuf_add(&f->bounce, d->data, d->len);
		return QUEUE_OK;
	}
	if (f->log != NULL) {
		int fd = open(f->log, O_WRONLY | O_APPEND | O_CREAT, 0600);

		assert_true(fd >= 0);
		dprintf(fd, "%s\n", d->token);
		close(fd);
	}
	if (d->maybe_delivered)
		return QUEUE_ALREADY;
	*answer_r = xstrdup(f->result == QUEUE_OK ? "250 2.0.0 delivered" :
			    f->result == QUEUE_PERMFAIL ? "550 5.1.1 no such user\r\nInjected: yes" :
			    "451 4.2.0 mailbox locked");
	return f->result;
}

static char tmpdir[] = "/tmp/loft-test-queue.XXXXXX";

static struct queue *open_queue(const char *sub)
{
	char *dir = xasprintf("%s/%s", tmpdir, sub);
	struct queue_settings set = { .dir = dir, .retry_min = 300, .retry_max = 3600,
				      .lifetime = 86400, .local_domains = "home.example, LOCAL.example",
				      .local_addresses = "me@mine.example", .domain = "test.example" };
	struct queue *q;
	const char *error;

	assert_int_equal(queue_open(&set, &q, &error), 0);
	free(dir);
	return q;
}

static void add(struct queue *q, const char *sender, const char *rcpt, int64_t now, char *id)
{
	static const char msg[] = "From: me\nTo: you\nSubject: test\n\nbody\n";
	const char *error;

	queue_new_id(now, id);
	assert_int_equal(queue_add(q, id, sender, &rcpt, 1, msg, strlen(msg), now, &error), 0);
}

static void test_env_roundtrip(void **state)
{
	const char *rcpts[] = { "a@b.example", "evil\nrcpt x@y", "-" };
	struct queue_env *env = queue_env_new("", T0, rcpts, 3), *back;
	struct sbuf out = SBUF_INIT, again = SBUF_INIT;
	const char *error;

	env->rcpts[0].answer = xstrdup("451 4.2.0 try\nlater 100%");
	env->rcpts[0].status = xstrdup("4.2.0");
	queue_env_format(env, &out);
	/* 3 fixed lines + 3 recipients: the newline in the address is escaped. */
	size_t lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.buf[i] == '\n';
	assert_int_equal(lines, 6);
	assert_int_equal(queue_env_parse(out.buf, out.len, &back, &error), 0);
	assert_string_equal(back->sender, "");
	assert_string_equal(back->rcpts[1].addr, "evil\nrcpt x@y");
	assert_string_equal(back->rcpts[2].addr, "-");
	assert_string_equal(back->rcpts[0].answer, "451 4.2.0 try\nlater 100%");
	queue_env_format(back, &again);
	assert_string_equal(out.buf, again.buf);
	queue_env_free(&env);
	queue_env_free(&back);
	sbuf_release(&out);
	sbuf_release(&again);
}

/* The account whose smarthost relays the entry: kept, escaped, optional. */
static void test_env_account(void **state)
{
	const char *rcpts[] = { "a@b.example" };
	struct queue_env *env = queue_env_new("me@x.example", T0, rcpts, 1), *back;
	struct sbuf out = SBUF_INIT;
	const char *error;

	env->account = xstrdup("work stuff");
	queue_env_format(env, &out);
	assert_non_null(strstr(out.buf, "\naccount work%20stuff\nrcpt "));
	assert_int_equal(queue_env_parse(out.buf, out.len, &back, &error), 0);
	assert_string_equal(back->account, "work stuff");
	queue_env_free(&back);
	sbuf_reset(&out);
	free(env->account);
	env->account = NULL;
	queue_env_format(env, &out);
	assert_null(strstr(out.buf, "account"));
	assert_int_equal(queue_env_parse(out.buf, out.len, &back, &error), 0);
	assert_null(back->account);
	queue_env_free(&back);
	queue_env_free(&env);
	sbuf_release(&out);
}

static void test_env_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"loft-queue 1\nsender a\ncreated 1\n",				/* no rcpt */
		"loft-queue 2\nsender a\ncreated 1\nrcpt pending 0 1 - b -\n",	/* version */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b -",	/* no final LF */
		"loft-queue 1\nsender a\ncreated x\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\ncreated 1\nrcpt sent 0 1 - b -\n",	/* state */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b\n",	/* fields */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b - x\n",
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - - -\n",	/* empty addr */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b%0 -\n",	/* bad escape */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b%00 -\n",	/* NUL */
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b -\n\n",	/* empty line */
		"loft-queue 1\nsender a\ncreated 01\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\r\ncreated 1\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a  b\ncreated 1\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\ncreated 1\nsender a\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\ncreated 99999999999999999999\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\ncreated 1\naccount -\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\ncreated 1\naccount a b\nrcpt pending 0 1 - b -\n",
		"loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b -\naccount a\n",
	};
	struct queue_env *env;
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (queue_env_parse(bad[i], strlen(bad[i]), &env, &error) == 0)
			fail_msg("accepted bad envelope %zu", i);
		assert_non_null(error);
	}
	const char *good = "loft-queue 1\nsender a\ncreated 1\nrcpt pending 0 1 - b -\n";
	assert_int_equal(queue_env_parse(good, strlen(good) - 1, &env, &error), -1);
	assert_int_equal(queue_env_parse(good, strlen(good), &env, &error), 0);
	queue_env_free(&env);
}

static void test_locality_and_ids(void **state)
{
	struct queue *q = open_queue("local");
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];

	assert_true(queue_addr_is_local(q, "user"));
	assert_true(queue_addr_is_local(q, "x@Home.Example"));
	assert_true(queue_addr_is_local(q, "x@local.example"));
	assert_true(queue_addr_is_local(q, "ME@mine.example"));
	assert_true(queue_addr_is_local(q, "loft@localhost"));
	assert_true(queue_addr_is_local(q, "x@LOCALHOST.localdomain"));
	assert_false(queue_addr_is_local(q, "x@localhost.example"));
	assert_false(queue_addr_is_local(q, "other@mine.example"));
	assert_false(queue_addr_is_local(q, "x@example.org"));
	queue_new_id(T0, id);
	queue_new_id(T0 + 1, id2);
	assert_true(queue_id_valid(id));
	assert_true(strcmp(id, id2) < 0);
	assert_false(queue_id_valid("../../etc/passwd"));
	assert_false(queue_id_valid("1700000000.zzzzzzzzzzzz"));
	queue_free(&q);
}

static void read_env(struct queue *q, const char *id, struct queue_env **env)
{
	const char *error;

	assert_int_equal(queue_read(q, id, env, NULL, NULL, &error), 0);
}

/* A held entry (a pull's Sieve redirect until the pull records it): in the
 * envelope, left alone by a forced run, counted under its key only, then
 * released and delivered. */
static void test_held(void **state)
{
	static const char msg[] = "From: me\nTo: you\nSubject: held\n\nbody\n";
	const char *rcpt = "user", *error;
	struct queue *q = open_queue("held");
	struct fake f = { .result = QUEUE_OK, .bounce = SBUF_INIT };
	struct queue_handlers h = { &f, fake_deliver, NULL };
	struct queue_env *env;
	char id[QUEUE_ID_LEN + 1];

	queue_new_id(T0, id);
	assert_int_equal(queue_add_held(q, id, "pull a INBOX 12 <x@y>\tuser", "me", &rcpt, 1, msg,
					strlen(msg), T0, &error), 0);
	read_env(q, id, &env);
	assert_string_equal(env->hold, "pull a INBOX 12 <x@y>\tuser");
	queue_env_free(&env);
	assert_int_equal(queue_run(q, &h, T0 + 86400 * 30, QUEUE_RUN_FORCE, NULL), 0);
	assert_int_equal(f.calls, 0);
	assert_int_equal(queue_held(q, "pull a INBOX 12 <x@y>\tuser", &error), 1);
	assert_int_equal(queue_held(q, "pull a INBOX 13 <x@y>\tuser", &error), 0);
	assert_int_equal(queue_release(q, "pull a INBOX 13 <x@y>\tuser", &error), 0);
	assert_int_equal(queue_release(q, "pull a INBOX 12 <x@y>\tuser", &error), 1);
	assert_int_equal(queue_held(q, "pull a INBOX 12 <x@y>\tuser", &error), 0);
	assert_int_equal(queue_release(q, "pull a INBOX 12 <x@y>\tuser", &error), 0);
	assert_int_equal(queue_run(q, &h, T0, 0, NULL), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(queue_read(q, id, &env, NULL, NULL, &error), -1);
	sbuf_release(&f.bounce);
	queue_free(&q);
}

static void test_backoff(void **state)
{
	struct queue *q = open_queue("backoff");
	struct fake f = { .result = QUEUE_TEMPFAIL, .bounce = SBUF_INIT };
	struct queue_handlers h = { &f, fake_deliver, NULL };
	static const int64_t delays[] = { 300, 600, 1200, 2400, 3600, 3600 };
	struct queue_env *env;
	char id[QUEUE_ID_LEN + 1];
	int64_t now = T0;

	add(q, "me", "user", now, id);
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		/* Not yet due: nothing is tried. */
		unsigned before = f.calls;
		assert_int_equal(queue_run(q, &h, now - 1, 0, NULL), 0);
		assert_int_equal(f.calls, before);
		assert_int_equal(queue_run(q, &h, now, 0, NULL), 0);
		assert_int_equal(f.calls, before + 1);
		read_env(q, id, &env);
		assert_int_equal(env->rcpts[0].attempts, i + 1);
		assert_int_equal(env->rcpts[0].next_attempt - now, delays[i]);
		assert_string_equal(env->rcpts[0].answer, "451 4.2.0 mailbox locked");
		now = env->rcpts[0].next_attempt;
		queue_env_free(&env);
	}
	/* flush ignores the schedule. */
	assert_int_equal(queue_run(q, &h, now - 100, QUEUE_RUN_FORCE, NULL), 0);
	read_env(q, id, &env);
	assert_int_equal(env->rcpts[0].attempts, 7);
	queue_env_free(&env);
	/* Then it is delivered and the entry goes away. */
	f.result = QUEUE_OK;
	assert_int_equal(queue_run(q, &h, now + 86400, 0, NULL), 0);
	assert_int_equal(queue_read(q, id, &env, NULL, NULL, &(const char *){ 0 }), -1);
	sbuf_release(&f.bounce);
	queue_free(&q);
}

static const char *dsn_field(const char *text, const char *name, char *buf, size_t size)
{
	const char *p = strstr(text, name);

	if (p == NULL)
		return NULL;
	p += strlen(name);
	size_t n = strcspn(p, "\r\n");
	snprintf(buf, size, "%.*s", (int)n, p);
	return buf;
}

static void test_expiry_bounce(void **state)
{
	struct queue *q = open_queue("expiry");
	struct fake f = { .result = QUEUE_TEMPFAIL, .bounce = SBUF_INIT };
	struct queue_handlers h = { &f, fake_deliver, NULL };
	const struct message_part *const *parts;
	struct message *msg;
	char id[QUEUE_ID_LEN + 1], buf[256];
	const char *error;
	int64_t now;

	/* Remote recipient, no relay: deferred until the lifetime is over. */
	add(q, "me", "friend@example.org", T0, id);
	for (now = T0; now < T0 + 86400; now += 3600)
		assert_int_equal(queue_run(q, &h, now, 0, NULL), 0);
	assert_int_equal(f.calls, 0);
	struct queue_run_stats st;
	assert_int_equal(queue_run(q, &h, T0 + 86400, 0, &st), 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.bounces, 1);
	assert_int_equal(f.calls, 1);
	(void)snprintf(buf, sizeof(buf), "%s/bounce", id);
	assert_string_equal(f.last_token, buf);
	assert_true(f.bounce.len > 0);
	/* The entry is finished. */
	struct queue_env *env;
	assert_int_equal(queue_read(q, id, &env, NULL, NULL, &error), -1);

	msg = message_parse(f.bounce.buf, f.bounce.len, NULL, &error);
	assert_non_null(msg);
	assert_string_equal(message_part_type(message_root(msg)), "multipart/report");
	assert_string_equal(message_part_param(message_root(msg), "report-type"), "delivery-status");
	size_t n = message_parts(msg, &parts);
	assert_true(n >= 4);
	assert_string_equal(message_part_type(parts[1]), "text/plain");
	assert_string_equal(message_part_type(parts[2]), "message/delivery-status");
	assert_string_equal(message_part_type(parts[3]), "text/rfc822-headers");
	size_t len;
	const char *ds = message_part_content(parts[2], &len);
	assert_string_equal(dsn_field(ds, "Reporting-MTA: ", buf, sizeof(buf)), "dns; test.example");
	assert_non_null(dsn_field(ds, "Arrival-Date: ", buf, sizeof(buf)));
	assert_string_equal(dsn_field(ds, "Final-Recipient: ", buf, sizeof(buf)), "rfc822; friend@example.org");
	assert_string_equal(dsn_field(ds, "Action: ", buf, sizeof(buf)), "failed");
	assert_string_equal(dsn_field(ds, "Status: ", buf, sizeof(buf)), "4.4.7");
	assert_string_equal(dsn_field(ds, "Diagnostic-Code: ", buf, sizeof(buf)),
			    "X-Loft; no relay configured (smarthost unset)");
	const char *hdrs = message_part_content(parts[3], &len);
	assert_non_null(strstr(hdrs, "Subject: test"));
	assert_null(strstr(hdrs, "body"));
	assert_string_equal(message_header(msg, "Auto-Submitted"), "auto-replied");
	message_free(&msg);
	sbuf_release(&f.bounce);
	queue_free(&q);
}

static void test_permfail_and_null_sender(void **state)
{
	struct queue *q = open_queue("perm");
	struct fake f = { .result = QUEUE_PERMFAIL, .bounce = SBUF_INIT };
	struct queue_handlers h = { &f, fake_deliver, NULL };
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], **ids;
	struct message *msg;
	const char *error;
	size_t n;

	/* A permanent failure bounces at once, with the answer's status and
	 * the CR/LF of the answer gone. */
	add(q, "me@mine.example", "nobody", T0, id);
	assert_int_equal(queue_run(q, &h, T0, 0, NULL), 0);
	assert_true(f.bounce.len > 0);
	assert_null(strstr(f.bounce.buf, "\nInjected: yes"));
	msg = message_parse(f.bounce.buf, f.bounce.len, NULL, &error);
	const struct message_part *const *parts;
	message_parts(msg, &parts);
	size_t len;
	const char *ds = message_part_content(parts[2], &len);
	assert_non_null(strstr(ds, "Status: 5.1.1"));
	assert_non_null(strstr(ds, "Diagnostic-Code: smtp; 550 5.1.1 no such user  Injected: yes"));
	message_free(&msg);
	/* Null sender: no bounce, entry dropped. */
	sbuf_reset(&f.bounce);
	add(q, "", "nobody", T0, id2);
	assert_int_equal(queue_run(q, &h, T0, 0, NULL), 0);
	assert_int_equal(f.bounce.len, 0);
	/* A remote sender's bounce is queued with the null sender. */
	add(q, "someone@example.org", "nobody", T0, id);
	assert_int_equal(queue_run(q, &h, T0, 0, NULL), 0);
	assert_int_equal(queue_list(q, &ids, &n, &error), 0);
	assert_int_equal(n, 1);
	struct queue_env *env;
	read_env(q, ids[0], &env);
	assert_string_equal(env->sender, "");
	assert_string_equal(env->rcpts[0].addr, "someone@example.org");
	queue_env_free(&env);
	queue_ids_free(&ids);
	sbuf_release(&f.bounce);
	queue_free(&q);
}

static void test_intent_record(void **state)
{
	struct queue *q = open_queue("intent");
	struct fake f = { .result = QUEUE_OK, .bounce = SBUF_INIT };
	struct queue_handlers h = { &f, fake_deliver, NULL };
	char id[QUEUE_ID_LEN + 1], *path;
	struct queue_env *env;
	struct sbuf sb = SBUF_INIT;
	const char *error;

	/* As if a runner died after handing the recipient over. */
	add(q, "me", "user", T0, id);
	read_env(q, id, &env);
	env->rcpts[0].state = QUEUE_RCPT_DELIVERING;
	queue_env_format(env, &sb);
	path = xasprintf("%s/intent/%s.env", tmpdir, id);
	FILE *fp = fopen(path, "w");
	fwrite(sb.buf, 1, sb.len, fp);
	fclose(fp);
	assert_int_equal(queue_run(q, &h, T0 + 1, 0, NULL), 0);
	assert_true(f.saw_maybe);
	char want[64];
	snprintf(want, sizeof(want), "%s/0", id);
	assert_string_equal(f.last_token, want);
	struct queue_env *gone = NULL;
	assert_int_equal(queue_read(q, id, &gone, NULL, NULL, &error), -1);
	queue_env_free(&env);
	free(path);
	sbuf_release(&sb);
	queue_free(&q);
}

static void test_two_runners(void **state)
{
	struct queue *q = open_queue("race");
	char *log = xasprintf("%s/race.log", tmpdir), id[QUEUE_ID_LEN + 1];
	pid_t pids[2];

	for (int i = 0; i < 50; i++)
		add(q, "me", i % 2 ? "user" : "x@home.example", T0 + i, id);
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			struct fake f = { .result = QUEUE_OK, .log = log, .bounce = SBUF_INIT };
			struct queue_handlers h = { &f, fake_deliver, NULL };

			/* Both passes overlap: each runner goes over all 50. */
			for (int pass = 0; pass < 3; pass++)
				queue_run(q, &h, T0 + 100, QUEUE_RUN_FORCE, NULL);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status;

		waitpid(pids[k], &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* Each token exactly once, and the queue empty. */
	char *cmd = xasprintf("test $(wc -l < %s) = 50 && test $(sort -u %s | wc -l) = 50", log, log);
	assert_int_equal(system(cmd), 0);
	char **ids;
	size_t n;
	const char *error;
	assert_int_equal(queue_list(q, &ids, &n, &error), 0);
	assert_int_equal(n, 0);
	queue_ids_free(&ids);
	free(cmd);
	free(log);
	queue_free(&q);
}

static void test_answer_status(void **state)
{
	char buf[16];

	queue_answer_status("550 5.1.1 no such user", true, "5.0.0", buf);
	assert_string_equal(buf, "5.1.1");
	queue_answer_status("5.7.1 refused", true, "5.0.0", buf);
	assert_string_equal(buf, "5.7.1");
	queue_answer_status("550 4.2.2 odd", true, "5.0.0", buf);
	assert_string_equal(buf, "5.0.0");
	queue_answer_status("mailbox full", true, "5.0.0", buf);
	assert_string_equal(buf, "5.0.0");
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	int ret = system(cmd);

	free(cmd);
	message_deinit();
	return ret;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_roundtrip),
		cmocka_unit_test(test_env_account),
		cmocka_unit_test(test_env_garbage),
		cmocka_unit_test(test_locality_and_ids),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_expiry_bounce),
		cmocka_unit_test(test_permfail_and_null_sender),
		cmocka_unit_test(test_intent_record),
		cmocka_unit_test(test_two_runners),
		cmocka_unit_test(test_answer_status),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
