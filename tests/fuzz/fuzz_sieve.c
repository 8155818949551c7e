/* libFuzzer target for the Sieve compiler and interpreter: compile the
 * input; when it compiles, run it against a fixed small message with an
 * envelope, then free everything.  Compile errors must name a position. */
#include "localmta/sieve.h"
#include "store/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_message[] =
	"Return-Path: <list-bounces@lists.example.org>\n"
	"From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\n"
	"To: Bob <bob@example.net>, carol@example.com\n"
	"Cc: undisclosed-recipients:;\n"
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= [list] hello\n"
	"List-Id: List <list.lists.example.org>\n"
	"X-Empty:\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/alternative; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"plain body, unsubscribe\n"
	"--b\n"
	"Content-Type: text/html\n"
	"\n"
	"<b>html</b>\n"
	"--b--\n";

static struct message *msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_script *script = NULL;
	struct sieve_result *res = NULL;
	char *error = NULL;
	const char *perr;

	if (msg == NULL) {
		msg = message_parse(fixed_message, sizeof(fixed_message) - 1, NULL, &perr);
		if (msg == NULL)
			abort();
	}
	if (sieve_compile("fuzz", (const char *)data, size, &script, &error) < 0) {
		if (error == NULL || strncmp(error, "fuzz:", 5) != 0)
			abort();
		free(error);
		return 0;
	}
	struct sieve_input in = {
		.msg = msg, .size = sizeof(fixed_message) - 1,
		.envelope_from = "sender@example.org", .envelope_to = "bob+tag@example.net",
	};

	if (sieve_execute(script, &in, &res, &error) == 0) {
		if (res->n_actions == 0)
			abort();	/* something always happens to a message */
		sieve_result_free(&res);
	} else {
		free(error);
	}
	sieve_script_free(&script);
	return 0;
}
