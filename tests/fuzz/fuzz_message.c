/* libFuzzer target for the message model: parse, walk every part, and
 * produce everything loft derives from a message (JSON of the tree, the
 * ENVELOPE and BODYSTRUCTURE strings, decoded content and UTF-8 text of
 * every part), then free it all.  Small limits keep each run quick. */
#include "lib/json.h"
#include "lib/sbuf.h"
#include "store/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct message *m, struct sbuf *out)
{
	const struct message_part *const *parts;
	size_t n = message_parts(m, &parts), i, len;
	struct json j;
	time_t t;
	int off;
	const char *const *refs;
	const struct message_address *a;

	json_init(&j, out, 0);
	json_object_begin(&j);
	json_key(&j, "subject");
	json_string(&j, message_header(m, "Subject"));
	json_key(&j, "date");
	json_int(&j, message_date(m, &t, &off) == 0 ? (long long)t : -1);
	json_key(&j, "refs");
	json_int(&j, (long long)message_references(m, &refs));
	json_key(&j, "from");
	json_int(&j, (long long)message_addresses(m, "From", &a));
	json_key(&j, "parts");
	json_array_begin(&j);
	for (i = 0; i < n; i++) {
		const struct message_part *p = parts[i];
		const struct message_param *params;
		size_t np = message_part_params(p, &params), k;
		const char *const *d;

		json_object_begin(&j);
		json_key(&j, "type");
		json_string(&j, message_part_type(p));
		json_key(&j, "section");
		json_string(&j, message_part_section(p));
		json_key(&j, "filename");
		json_string(&j, message_part_filename(p));
		for (k = 0; k < np; k++) {
			json_key(&j, params[k].name);
			json_string(&j, params[k].value);
		}
		json_key(&j, "sha");
		json_string(&j, message_part_sha256(p));
		json_key(&j, "defects");
		json_array_begin(&j);
		for (d = message_part_defects(p); *d; d++)
			json_string(&j, *d);
		json_array_end(&j);
		if (strncmp(message_part_type(p), "text/", 5) == 0) {
			char *txt = message_part_text(p, 1, &len);

			json_key(&j, "text");
			json_string_len(&j, txt, len);
			free(txt);
		}
		if (message_part_embedded(p)) {
			struct sbuf env = SBUF_INIT;

			message_imap_envelope(message_part_embedded(p), &env);
			json_key(&j, "envelope");
			json_string_len(&j, env.buf, env.len);
			sbuf_release(&env);
		}
		if (message_find_part(m, message_part_section(p)) == NULL)
			abort();
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct message_limits lim = { 32, 256 * 1024, 2000, 1000, 20000 };
	const char *error;
	struct message *m = message_parse((const char *)data, size, &lim, &error);
	struct sbuf sb = SBUF_INIT;

	if (m == NULL)
		return 0;
	walk(m, &sb);
	sbuf_reset(&sb);
	message_imap_envelope(m, &sb);
	sbuf_reset(&sb);
	message_imap_bodystructure(m, 1, &sb);
	sbuf_reset(&sb);
	message_imap_bodystructure(m, 0, &sb);
	sbuf_release(&sb);
	message_free(&m);
	return 0;
}
