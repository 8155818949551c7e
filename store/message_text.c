/* message_text.c: charset conversion to UTF-8 and format=flowed reflow.
 *
 * Real mail names charsets the way Microsoft, Netscape and Japanese phone
 * carriers did, not the way the IANA registry does; the alias table maps
 * those names to the superset glibc's iconv knows (ks_c_5601-1987 is CP949,
 * "Shift_JIS" in practice is CP932, "gb2312" mail is GBK/GB18030...).
 * Conversion never fails: an undecodable byte becomes U+FFFD, an unknown
 * charset is read as UTF-8 with a windows-1252 fallback. */
#include "store/message.h"
#include "lib/utf8.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *alias, *iconv_name;
} charset_aliases[] = {
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" }, { "ksc5601", "CP949" },
	{ "ksc_5601", "CP949" }, { "euc-kr", "CP949" }, { "x-windows-949", "CP949" },
	{ "x-sjis", "CP932" }, { "shift_jis", "CP932" }, { "shift-jis", "CP932" },
	{ "sjis", "CP932" }, { "ms_kanji", "CP932" }, { "windows-31j", "CP932" },
	{ "x-ms-cp932", "CP932" }, { "csshiftjis", "CP932" },
	{ "euc-jp", "EUC-JP-MS" }, { "x-euc-jp", "EUC-JP-MS" },
	{ "iso-2022-jp", "ISO-2022-JP-2" }, { "csiso2022jp", "ISO-2022-JP-2" },
	{ "gb2312", "GB18030" }, { "gb_2312-80", "GB18030" }, { "gbk", "GB18030" },
	{ "x-gbk", "GB18030" }, { "cp936", "GB18030" }, { "euc-cn", "GB18030" },
	{ "x-euc-cn", "GB18030" }, { "chinese", "GB18030" }, { "csgb2312", "GB18030" },
	{ "big5", "BIG5-HKSCS" }, { "x-big5", "BIG5-HKSCS" }, { "cn-big5", "BIG5-HKSCS" },
	{ "big-5", "BIG5-HKSCS" }, { "csbig5", "BIG5-HKSCS" },
	{ "unknown-8bit", "WINDOWS-1252" }, { "x-unknown", "WINDOWS-1252" },
	{ "unknown", "WINDOWS-1252" }, { "x-user-defined", "WINDOWS-1252" },
	{ "default", "WINDOWS-1252" }, { "8bit", "WINDOWS-1252" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "windows-874", "CP874" }, { "tis-620", "CP874" },
	{ "utf8", "UTF-8" }, { "unicode-1-1-utf-7", "UTF-7" }, { "x-unicode-2-0-utf-7", "UTF-7" },
	{ "utf-7", "UTF-7" }, { "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "koi8", "KOI8-R" },
};

const char *message_charset_canon(const char *charset)
{
	size_t i;

	if (!charset || !*charset)
		return "US-ASCII";
	for (i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++)
		if (strcasecmp(charset, charset_aliases[i].alias) == 0)
			return charset_aliases[i].iconv_name;
	return charset;
}

/* windows-1252 0x80..0x9F; 0 marks the five unassigned bytes (kept as C1). */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0,
};

static void add_utf8(struct sbuf *out, unsigned cp)
{
	char b[4];

	if (cp < 0x80) {
		sbuf_addch(out, (int)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		sbuf_add(out, b, 2);
	} else {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		sbuf_add(out, b, 3);
	}
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
void message_utf8_or_latin1(const char *data, size_t len, struct sbuf *out)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, k;

	while (i < len) {
		k = utf8_seq_len(s + i, len - i);
		if (k) {
			sbuf_add(out, s + i, k);
			i += k;
			continue;
		}
		if (s[i] >= 0x80 && s[i] < 0xA0 && cp1252_high[s[i] - 0x80])
			add_utf8(out, cp1252_high[s[i] - 0x80]);
		else
			add_utf8(out, s[i]);
		i++;
	}
}

/* Copies valid UTF-8, U+FFFD for each invalid byte; -1 if any. */
static int utf8_clean(const char *data, size_t len, struct sbuf *out)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, k;
	int bad = 0;

	while (i < len) {
		k = utf8_seq_len(s + i, len - i);
		if (k) {
			sbuf_add(out, s + i, k);
			i += k;
		} else {
			sbuf_add(out, "\xEF\xBF\xBD", 3);
			bad = 1;
			i++;
		}
	}
	return bad ? -1 : 0;
}

int message_charset_to_utf8(const char *charset, const char *data, size_t len, struct sbuf *out)
{
	const char *name = message_charset_canon(charset);
	iconv_t cd;
	char buf[4096];
	char *in = (char *)data;
	size_t inleft = len;
	int bad = 0;

	if (strcasecmp(name, "US-ASCII") == 0 || strcasecmp(name, "ASCII") == 0 ||
	    strcasecmp(name, "ANSI_X3.4-1968") == 0) {
		/* Declared ASCII but 8-bit bytes present: UTF-8 if it is, else 1252. */
		message_utf8_or_latin1(data, len, out);
		return 0;
	}
	if (strcasecmp(name, "UTF-8") == 0)
		return utf8_clean(data, len, out);
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1) {
		message_utf8_or_latin1(data, len, out);
		return -1;
	}
	while (inleft > 0) {
		char *o = buf;
		size_t oleft = sizeof(buf);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);

		sbuf_add(out, buf, (size_t)(o - buf));
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): skip one byte. */
		sbuf_add(out, "\xEF\xBF\xBD", 3);
		bad = 1;
		in++;
		inleft--;
	}
	{	/* flush a stateful encoder (ISO-2022-JP shift back) */
		char *o = buf;
		size_t oleft = sizeof(buf);

		iconv(cd, NULL, NULL, &o, &oleft);
		sbuf_add(out, buf, (size_t)(o - buf));
	}
	iconv_close(cd);
	return bad ? -1 : 0;
}

/* RFC 3676 section 4: a line ending in a space is soft-broken and joins the
 * next line of the same quote depth; "-- " is the signature separator and
 * never flowed; one leading space after the quote marks is stuffing. */
void message_flowed_reflow(const char *text, size_t len, int delsp, struct sbuf *out)
{
	size_t pos = 0;
	int in_para = 0, para_depth = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		const char *eol = "\n";
		int depth = 0, flowed;

		pos += llen + (nl ? 1 : 0);
		if (llen > 0 && line[llen - 1] == '\r') {
			llen--;
			eol = "\r\n";
		}
		if (!nl)
			eol = "";
		while (depth < (int)llen && line[depth] == '>')
			depth++;
		line += depth;
		llen -= depth;
		if (llen > 0 && line[0] == ' ')
			line++, llen--;
		flowed = llen > 0 && line[llen - 1] == ' ' &&
			 !(llen == 3 && memcmp(line, "-- ", 3) == 0);
		if (in_para && depth != para_depth) {
			/* quote depth changed inside a paragraph: end it */
			sbuf_addstr(out, *eol ? eol : "\n");
			in_para = 0;
		}
		if (!in_para) {
			int i;

			for (i = 0; i < depth; i++)
				sbuf_addch(out, '>');
			if (depth)
				sbuf_addch(out, ' ');
			para_depth = depth;
		}
		if (flowed && delsp)
			llen--;
		sbuf_add(out, line, llen);
		if (flowed && nl) {
			in_para = 1;
		} else {
			sbuf_addstr(out, eol);
			in_para = 0;
		}
	}
}
