/* The one table of loft's settings, the checks of each type, and the
 * documentation generated from them (`loft help settings`, loft-mailrc(5)).
 *
 * Values are stored as text: what the user wrote once checked (enum words,
 * durations and sizes keep their spelling so `loft check` shows "5m", not
 * "300"), except booleans, which become "yes" or "no".  Line breaks are
 * refused in every value: a From or host name with a CR/LF in it would end
 * up inside a mail header or an SMTP line. */
#include "lib/config.h"
#include "lib/config-private.h"
#include "lib/mailrc.h"
#include "lib/sbuf.h"
#include "lib/smtp_url.h"
#include "lib/url.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const log_words[] = { "stderr", "syslog", NULL };
static const char *const log_level_words[] = { "debug", "info", "warning", "error", NULL };
static const char *const sync_words[] = { "off", "mirror", "pull", NULL };
static const char *const sync_expunge_words[] = { "both", "local", "remote", "none", NULL };
static const char *const sort_words[] = { "date", "threads", "from", "subject", "size", NULL };

#define ACC SETTING_F_ACCOUNT
#define NONEMPTY SETTING_F_NONEMPTY
#define UNBUILT SETTING_F_UNBUILT

const struct setting settings_table[] = {
	{ "folder", SETTING_PATH, "~/Mail",
	  "Root of the mail store: one maildir per folder (INBOX, Sent, Lists/foo...).",
	  NULL, 0, 0, ACC | NONEMPTY },
	{ "notmuch_database", SETTING_PATH, "",
	  "Directory of the notmuch database; empty means FOLDER/.notmuch.",
	  NULL, 0, 0, 0 },
	{ "state_dir", SETTING_PATH, "",
	  "Directory of loft's own state (UID maps, caches, queue); empty means FOLDER/.loft.",
	  NULL, 0, 0, 0 },
	{ "from", SETTING_STRING, "",
	  "Your address on mail you write (me@example.org); empty means USER@HOSTNAME.",
	  NULL, 0, 0, ACC },
	{ "realname", SETTING_STRING, "",
	  "Display name put before the From address; empty means none.",
	  NULL, 0, 0, ACC },
	{ "hostname", SETTING_STRING, "",
	  "Host name for Message-IDs and the SMTP greeting; empty means the system host name.",
	  NULL, 0, 0, ACC },
	{ "domain", SETTING_STRING, "",
	  "Domain of your address when from is empty (USER@DOMAIN) and of the Message-IDs loft sendmail adds; empty means hostname, or the system host name, when it has a dot.",
	  NULL, 0, 0, ACC },
	{ "log", SETTING_ENUM, "stderr",
	  "Where loft's messages go: stderr, or syslog (mail facility).",
	  log_words, 0, 0, 0 },
	{ "log_level", SETTING_ENUM, "warning",
	  "Least severe messages logged.",
	  log_level_words, 0, 0, 0 },
	{ "editor", SETTING_STRING, "",
	  "Command that edits a message being composed; empty means $VISUAL, then $EDITOR, then vi.",
	  NULL, 0, 0, 0 },
	{ "imap_listen", SETTING_HOSTPORT, "127.0.0.1:1143",
	  "Address loft daemon's IMAP server (STARTTLS, device logins) listens on; empty disables it.",
	  NULL, 0, 0, 0 },
	{ "imaps_listen", SETTING_HOSTPORT, "",
	  "Address the IMAP server listens on with implicit TLS (port 993 style); empty disables it.",
	  NULL, 0, 0, 0 },
	{ "imap_autologout", SETTING_DURATION, "30m",
	  "How long a logged-in IMAP client may stay silent (IDLE included) before it is logged out; RFC 9051 asks for at least 30 minutes.",
	  NULL, 1, 86400, 0 },
	{ "imap_login_timeout", SETTING_DURATION, "1m",
	  "How long an IMAP client may stay silent before it logs in.",
	  NULL, 1, 3600, 0 },
	{ "imap_max_auth_failures", SETTING_INT, "3",
	  "Failed IMAP logins in one session before it is disconnected.",
	  NULL, 1, 100, 0 },
	{ "imap_auth_failure_delay", SETTING_DURATION, "1",
	  "Wait after a failed IMAP login, multiplied by the failures so far.",
	  NULL, 0, 60, 0 },
	{ "imap_auth_cache_ttl", SETTING_DURATION, "5m",
	  "How long loft daemon trusts an IMAP login it verified: a device's next login within it with the same name and password skips the password hash (a keyed hash of them is kept, never the password; a changed password file or a failed login forgets it); 0 checks every login in full.",
	  NULL, 0, 86400, 0 },
	{ "smtp_listen", SETTING_HOSTPORT, "127.0.0.1:1587",
	  "Address loft daemon's SMTP submission server (STARTTLS, AUTH) listens on; empty disables it.",
	  NULL, 0, 0, 0 },
	{ "smtps_listen", SETTING_HOSTPORT, "",
	  "Address the SMTP submission server listens on with implicit TLS (port 465 style); empty disables it.",
	  NULL, 0, 0, 0 },
	{ "smtp_inbound_listen", SETTING_HOSTPORT, "",
	  "Address of the inbound SMTP server (an MX: mail for local_domains only, no AUTH, no relaying); empty disables it.",
	  NULL, 0, 0, 0 },
	{ "smtp_trust_loopback", SETTING_BOOL, "no",
	  "Lets loopback clients submit mail without AUTH (off: every client must log in).",
	  NULL, 0, 0, 0 },
	{ "smtp_max_recipients", SETTING_INT, "100",
	  "Most recipients accepted for one SMTP message.",
	  NULL, 1, 100000, 0 },
	{ "smtp_max_errors", SETTING_INT, "10",
	  "Errors an SMTP client may make in one session before it is disconnected.",
	  NULL, 1, 1000, 0 },
	{ "smtp_max_auth_failures", SETTING_INT, "3",
	  "Failed SMTP logins in one session before it is disconnected.",
	  NULL, 1, 100, 0 },
	{ "smtp_auth_failure_delay", SETTING_DURATION, "1",
	  "Wait after a failed SMTP login, multiplied by the failures so far.",
	  NULL, 0, 60, 0 },
	{ "smtp_command_timeout", SETTING_DURATION, "5m",
	  "How long the SMTP server waits for a whole command line (RFC 5321 4.5.3.2).",
	  NULL, 1, 3600, 0 },
	{ "smtp_data_timeout", SETTING_DURATION, "3m",
	  "How long the SMTP server waits for message data, in all (plus the time its size takes at smtp_min_data_rate).",
	  NULL, 1, 3600, 0 },
	{ "smtp_min_data_rate", SETTING_INT, "500",
	  "Bytes per second a message must at least arrive at, in DATA, and leave at, to the smarthost; 0 lets DATA take any time.",
	  NULL, 0, 100000000, 0 },
	{ "smtp_max_junk_commands", SETTING_INT, "20",
	  "NOOP, RSET, VRFY, HELP, HELO and EHLO commands an SMTP client may send between two messages before it is disconnected.",
	  NULL, 1, 10000, 0 },
	{ "tls_cert", SETTING_PATH, "",
	  "PEM certificate chain of the SMTP and IMAP servers; empty means a self-signed one made under STATE_DIR/tls.",
	  NULL, 0, 0, 0 },
	{ "tls_key", SETTING_PATH, "",
	  "PEM private key of tls_cert.",
	  NULL, 0, 0, 0 },
	{ "smarthost", SETTING_SMTP_URL, "",
	  "Relay that mail for remote recipients is handed to: smtp://HOST:587 (STARTTLS required), smtps://HOST:465 (implicit TLS) or smtp+insecure://HOST:PORT (plaintext); empty keeps such mail queued.",
	  NULL, 0, 0, ACC },
	{ "smarthost_user", SETTING_STRING, "",
	  "Login at the smarthost (AUTH PLAIN or LOGIN); empty sends no AUTH.",
	  NULL, 0, 0, ACC },
	{ "smarthost_password_command", SETTING_STRING, "",
	  "Command (run by /bin/sh, 30 s at most) whose first line of output is the smarthost password, e.g. 'pass show mail'.",
	  NULL, 0, 0, ACC },
	{ "smarthost_ca", SETTING_PATH, "",
	  "PEM file of the CAs trusted for the smarthost's certificate; empty means the system store.",
	  NULL, 0, 0, ACC },
	{ "smarthost_fingerprint", SETTING_STRING, "",
	  "SHA-256 fingerprint the smarthost's certificate must have (AB:CD:...); when set, it replaces CA and host name checks.",
	  NULL, 0, 0, ACC },
	{ "helo_name", SETTING_STRING, "",
	  "Name loft gives in EHLO to the smarthost; empty means hostname.",
	  NULL, 0, 0, ACC },
	{ "relay_timeout", SETTING_DURATION, "5m",
	  "How long the relay client gives the smarthost for each step (a whole reply; the message also gets its size at smtp_min_data_rate).",
	  NULL, 1, 3600, 0 },
	{ "max_connections", SETTING_INT, "20",
	  "Most client connections the daemon serves at once; a new one closes the oldest not logged in, or gets 421 when all are.",
	  NULL, 1, 10000, 0 },
	{ "max_connections_per_ip", SETTING_INT, "10",
	  "Most connections from one client address at once, handled as max_connections; 0 means no limit of its own.",
	  NULL, 0, 10000, 0 },
	{ "queue_interval", SETTING_DURATION, "5m",
	  "How often the daemon runs the queue (it also runs it at once when mail is queued); the mail client does the same while no daemon runs.",
	  NULL, 1, 86400, 0 },
	{ "shutdown_timeout", SETTING_DURATION, "30",
	  "On SIGTERM, how long the daemon lets open connections and a queue run finish before ending them (unsent mail stays queued).",
	  NULL, 0, 3600, 0 },
	{ "sieve", SETTING_PATH, "~/.config/loft/sieve",
	  "Sieve script run on every local delivery (loft deliver, the queue runner); a missing file delivers to INBOX.",
	  NULL, 0, 0, 0 },
	{ "record", SETTING_PATH, "+Sent",
	  "Folder keeping a copy of the mail you send (+NAME is under folder; written on an IMAP folder, the server's \\Sent folder, else NAME there); empty (unset record) keeps none.",
	  NULL, 0, 0, ACC | SETTING_F_UNSET_OFF },
	{ "postponed", SETTING_PATH, "+Drafts",
	  "Folder for messages postponed while composing (+NAME is under folder; on an IMAP folder, the server's \\Drafts folder, else NAME there).",
	  NULL, 0, 0, ACC },
	{ "trash", SETTING_PATH, "+Trash",
	  "Folder deleted messages move to when purged (d, then $ or leaving the folder; +NAME is under folder; on an IMAP folder, the server's \\Trash folder, else NAME there); purged in the trash itself, or with trash empty (unset trash), they are deleted for good.",
	  NULL, 0, 0, ACC | SETTING_F_UNSET_OFF },
	{ "index_format", SETTING_STRING, "%4C %Z %{%b %d} %-15.15L (%?l?%4l&%4c?) %s",
	  "Format of a line of the message index, with mutt's % sequences (%g: the notmuch tags).",
	  NULL, 0, 0, ACC | NONEMPTY },
	{ "sort", SETTING_ENUM, "threads",
	  "Order of the message index.",
	  sort_words, 0, 0, ACC },
	{ "sort_reverse", SETTING_BOOL, "no",
	  "Reverses the order given by sort.",
	  NULL, 0, 0, ACC },
	{ "pager_headers", SETTING_STRING, "Date From To Cc Subject",
	  "Header fields the pager shows, in this order (space separated).",
	  NULL, 0, 0, 0 },
	{ "signature", SETTING_PATH, "",
	  "File whose text ends every message you write (after a \"-- \" line); empty means none.",
	  NULL, 0, 0, ACC },
	{ "mime_forward", SETTING_BOOL, "no",
	  "Forwards a message as an attachment (message/rfc822) instead of inline.",
	  NULL, 0, 0, 0 },
	{ "help", SETTING_BOOL, "yes",
	  "Shows a line of the main keys at the top of the index and the pager (as mutt).",
	  NULL, 0, 0, 0 },
	{ "abort_unmodified", SETTING_BOOL, "yes",
	  "Aborts a new message, reply or forward that the editor left unchanged (as mutt).",
	  NULL, 0, 0, 0 },
	{ "delete_confirm", SETTING_BOOL, "yes",
	  "Asks before purging the messages deleted in this session when leaving a folder or with $.",
	  NULL, 0, 0, 0 },
	{ "sidebar_visible", SETTING_BOOL, "no",
	  "Shows the folder list with unread/total counts beside the index (Esc b toggles it).",
	  NULL, 0, 0, 0 },
	{ "mailcap_path", SETTING_STRING, "~/.mailcap:/etc/mailcap",
	  "Mailcap files searched for viewers (text/html copiousoutput renders HTML mail), colon separated.",
	  NULL, 0, 0, 0 },
	{ "imap_url", SETTING_IMAP_URL, "",
	  "The account's IMAP folder: imaps://USER@HOST[:993]/FOLDER (implicit TLS), imap://USER@HOST[:143]/FOLDER (STARTTLS required) or imap+insecure://USER@HOST:PORT/FOLDER (plaintext, loopback only); user and folder percent-encoded.",
	  NULL, 0, 0, ACC },
	{ "imap_user", SETTING_STRING, "",
	  "Login at the IMAP server; empty means the user in imap_url.",
	  NULL, 0, 0, ACC },
	{ "imap_password_command", SETTING_STRING, "",
	  "Command (run by /bin/sh, 30 s at most) whose first line of output is the IMAP password, as smarthost_password_command.",
	  NULL, 0, 0, ACC },
	{ "imap_oauth_token_command", SETTING_STRING, "",
	  "Command whose first line of output is an OAuth 2 access token, sent with OAUTHBEARER or XOAUTH2 (Gmail, Microsoft) instead of a password.  A token the server refuses is replaced at once, once, by the command's next one (it may have expired before it reached the server).",
	  NULL, 0, 0, ACC },
	{ "imap_oauth_renew", SETTING_DURATION, "45m",
	  "How long after its login with imap_oauth_token_command loft daemon's IDLE connection logs in again with a new token; keep it below the tokens' lifetime (60 minutes at Google and Microsoft).  Every other login runs the command anew.",
	  NULL, 1, 86400, ACC },
	{ "imap_ca", SETTING_PATH, "",
	  "PEM file of the CAs trusted for the IMAP server's certificate; empty means the system store.",
	  NULL, 0, 0, ACC },
	{ "imap_fingerprint", SETTING_STRING, "",
	  "SHA-256 fingerprint the IMAP server's certificate must have (AB:CD:... or SHA256:AB:CD:...); when set, it replaces CA and host name checks.",
	  NULL, 0, 0, ACC },
	{ "imap_timeout", SETTING_DURATION, "1m",
	  "How long loft waits for each answer of the IMAP server before it drops the connection and connects again; Ctrl-G stops a wait in the client sooner.",
	  NULL, 1, 3600, ACC },
	{ "imap_poll", SETTING_DURATION, "10s",
	  "How often the client asks an IMAP server that has no IDLE for news of the open folder (a NOOP; what it reports is then fetched); a server with IDLE tells at once.",
	  NULL, 1, 3600, ACC },
	{ "sync", SETTING_ENUM, "off",
	  "What `loft sync` does with the account: off, mirror (two-way with the server: new messages, flags, IMAP keywords, expunges, folders) or pull (new messages fetched and delivered).",
	  sync_words, 0, 0, ACC },
	{ "sync_folders", SETTING_STRING, "INBOX",
	  "Folders `loft sync` mirrors: space-separated patterns (quote one with blanks), * matches any text including the hierarchy delimiter, a pattern led by ! excludes what it matches (\"INBOX\" \"Lists/*\" \"!Spam\").",
	  NULL, 0, 0, ACC },
	{ "sync_expunge", SETTING_ENUM, "both",
	  "Where `loft sync` applies an expunge made on the other side: both, local (expunges made on the server are applied to the store), remote (expunges made in the store are applied on the server) or none (an expunged message is left on the other side and not copied back).",
	  sync_expunge_words, 0, 0, ACC },
	{ "sync_interval", SETTING_DURATION, "5m",
	  "How often loft daemon runs a full sync of each account whose sync is not off; between them its INBOX is watched with IDLE (else a NOOP every sync_poll), the other synced folders of the server polled with STATUS every sync_poll and, in mirror mode, the synced folders of the store for local changes.  After an error the next try comes after 1 s, doubling up to this.",
	  NULL, 30, 7 * 86400, ACC },
	{ "sync_poll", SETTING_DURATION, "1m",
	  "How often loft daemon asks the server for news IDLE does not bring: the STATUS (UIDNEXT, MESSAGES, UNSEEN, HIGHESTMODSEQ) of the synced folders but INBOX, syncing each that changed, and a NOOP on INBOX when the server has no IDLE.",
	  NULL, 1, 86400, ACC },
	{ "pull_after", SETTING_PULL_AFTER, "keep",
	  "What `loft sync` does upstream with a message it pulled (sync = pull), once the local copy is fsynced and recorded: keep (leave it), seen (mark it \\Seen), move:FOLDER (move it there; FOLDER is created upstream when missing) or delete; a pop3_url account takes keep or delete.",
	  NULL, 0, 0, ACC },
	{ "pop3_url", SETTING_POP3_URL, "",
	  "POP3 server a sync = pull account fetches from instead of imap_url: pop3s://USER@HOST[:995] (implicit TLS), pop3://USER@HOST[:110] (STLS required) or pop3+insecure://USER@HOST:PORT (plaintext, loopback only); the login, password command, CA, fingerprint and timeout are the imap_* settings (SASL PLAIN where the server offers it, else USER/PASS).  The server must answer UIDL.",
	  NULL, 0, 0, ACC },
	{ "queue_retry_min", SETTING_DURATION, "5m",
	  "First delay before a failed delivery is tried again; it doubles after each attempt.",
	  NULL, 1, 86400, 0 },
	{ "queue_retry_max", SETTING_DURATION, "4h",
	  "Longest delay between two attempts to deliver a queued message.",
	  NULL, 1, 7 * 86400, 0 },
	{ "queue_lifetime", SETTING_DURATION, "5d",
	  "How long a message stays queued before loft gives up and bounces it to the sender.",
	  NULL, 60, 60 * 86400, 0 },
	{ "local_domains", SETTING_STRING, "",
	  "Domains delivered on this machine (space or comma separated); addresses without a domain, and localhost, always are.",
	  NULL, 0, 0, 0 },
	{ "local_addresses", SETTING_STRING, "",
	  "More addresses delivered on this machine instead of relayed (space or comma separated).",
	  NULL, 0, 0, 0 },
	{ "duplicate_window", SETTING_DURATION, "0",
	  "Drop a delivered message whose Message-ID was delivered within this time (0: off), as formail -D does.",
	  NULL, 0, 365LL * 86400, 0 },
	{ "index_on_delivery", SETTING_BOOL, "yes",
	  "Index delivered mail in notmuch (no: leave it to `loft index`); mail from `loft deliver` is indexed by the next `loft search`, `loft tag`, `loft index` or search folder opened in the client.",
	  NULL, 0, 0, 0 },
	{ "max_message_size", SETTING_INT, "50M",
	  "Largest message accepted by SMTP, IMAP APPEND, loft sendmail and loft deliver, in bytes (k, M, G suffixes).",
	  NULL, 1024, 2LL * 1024 * 1024 * 1024, 0 },
};

const size_t settings_count = sizeof(settings_table) / sizeof(settings_table[0]);

int settings_find(const char *name)
{
	for (size_t i = 0; i < settings_count; i++)
		if (strcmp(settings_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *settings_suggest(const char *name)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < settings_count; i++) {
		unsigned d = mailrc_distance(name, settings_table[i].name);

		if (d < best_d) {
			best_d = d;
			best = settings_table[i].name;
		}
	}
	/* One or two edits turn any short word into any other: no advice. */
	return best != NULL && strlen(name) > best_d ? best : NULL;
}

const char *settings_type_name(enum setting_type type)
{
	static const char *const names[] = {
		"string", "path", "bool", "int", "enum", "HOST:PORT", "duration", "URL", "URL",
		"URL", "keep|seen|move:FOLDER|delete",
	};
	return names[type];
}

static void add_words(struct sbuf *out, const char *const *words, const char *sep)
{
	for (size_t i = 0; words[i] != NULL; i++)
		sbuf_addf(out, "%s%s", i ? sep : "", words[i]);
}

static bool parse_bool(const char *v, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *b_r = true;
		if (strcasecmp(v, no[i]) == 0)
			return !(*b_r = false);
	}
	return false;
}

/* Decimal with an optional k, M or G suffix (powers of 1024). */
static bool parse_int(const char *v, long long *n_r)
{
	char *end;
	long long n, mul = 1;

	if (!((*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9')))
		return false;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0)
		return false;
	if (*end != '\0') {
		const char *p = strchr("kMG", *end);

		if (p == NULL || end[1] != '\0')
			return false;
		mul = 1LL << (10 * (p - "kMG" + 1));
	}
	if (n > LLONG_MAX / mul || n < LLONG_MIN / mul)
		return false;
	*n_r = n * mul;
	return true;
}

/* Numbers each followed by s, m, h, d or w; a last bare number is seconds. */
static bool parse_duration(const char *v, long long *secs_r)
{
	long long total = 0;

	if (*v == '\0')
		return false;
	while (*v != '\0') {
		long long n = 0, unit = 1;

		if (*v < '0' || *v > '9')
			return false;
		for (; *v >= '0' && *v <= '9'; v++) {
			if (n > (LLONG_MAX - 9) / 10)
				return false;
			n = n * 10 + (*v - '0');
		}
		switch (*v) {
		case 's': unit = 1; v++; break;
		case 'm': unit = 60; v++; break;
		case 'h': unit = 3600; v++; break;
		case 'd': unit = 86400; v++; break;
		case 'w': unit = 7 * 86400; v++; break;
		case '\0': break;
		default: return false;
		}
		if (n > (LLONG_MAX - total) / unit)
			return false;
		total += n * unit;
	}
	*secs_r = total;
	return true;
}

/* HOST:PORT where HOST is a name, an IPv4 address, "*" or [IPv6]. */
static bool valid_hostport(const char *v)
{
	const char *colon, *p;
	char *end;
	long port;

	if (*v == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close == v + 1 || close[1] != ':')
			return false;
		for (p = v + 1; p < close; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return false;
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v)
			return false;
		for (p = v; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || strchr(".-_*", *p)))
				return false;
	}
	if (colon[1] < '0' || colon[1] > '9')
		return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && port >= 1 && port <= 65535;
}

/* The relay's own parser, so what loads is what the relay can use; the
 * message says how to fix the value, e.g. the scheme left out of
 * "smtp.example.org:587" (the example loft-mailrc(5) used to give). */
static int check_smtp_url(const struct setting *s, const char *value, struct sbuf *err)
{
	enum smtp_url_tls tls;
	const char *why;

	if (smtp_url_parse(value, &tls, NULL, NULL, &why) == 0)
		return 0;
	if (strstr(value, "://") == NULL) {
		const char *colon = strrchr(value, ':');
		bool tls_port = colon != NULL && strcmp(colon, ":465") == 0;

		sbuf_addf(err, "%s: '%s' has no scheme: write %s://%s (%s), or "
			  "smtp+insecure://%s for plaintext", s->name, value,
			  tls_port ? "smtps" : "smtp", value,
			  tls_port ? "implicit TLS" : "STARTTLS", value);
	} else {
		sbuf_addf(err, "%s: %s: '%s'", s->name, why, value);
	}
	return -1;
}

/* The grammar remote/ parses with, so a bad imap_url or pop3_url is a
 * FILE:LINE:COL error in `loft check` rather than at the first connection.
 * schemes: what the URL must start with, for the message. */
static int check_url(const struct setting *s, const char *value, const struct url_scheme *table,
		     size_t n, unsigned flags, const char *schemes, struct sbuf *err)
{
	struct url u;
	const char *why;

	if (url_parse(value, table, n, flags, &u, &why) == 0) {
		url_clear(&u);
		return 0;
	}
	if (why == NULL)
		sbuf_addf(err, "%s: '%s' must start with %s", s->name, value, schemes);
	else
		sbuf_addf(err, "%s: %s: '%s'", s->name, why, value);
	return -1;
}

int settings_check(const struct setting *s, const char *value, char **canon_r,
		   struct sbuf *err, const char **error_r)
{
	long long n;
	bool b;

	sbuf_reset(err);
	*canon_r = NULL;
	if (strpbrk(value, "\r\n") != NULL) {
		sbuf_addf(err, "%s: line breaks are not allowed in a value", s->name);
		goto fail;
	}
	if (*value == '\0' && (s->type == SETTING_STRING || s->type == SETTING_PATH ||
			       s->type == SETTING_HOSTPORT || s->type == SETTING_SMTP_URL ||
			       s->type == SETTING_IMAP_URL || s->type == SETTING_POP3_URL)) {
		if (!(s->flags & SETTING_F_NONEMPTY))
			return 0;
		sbuf_addf(err, "%s: must not be empty", s->name);
		goto fail;
	}
	switch (s->type) {
	case SETTING_STRING:
	case SETTING_PATH:
		break;
	case SETTING_BOOL:
		if (!parse_bool(value, &b)) {
			sbuf_addf(err, "%s: expected yes or no", s->name);
			goto fail;
		}
		*canon_r = xstrdup(b ? "yes" : "no");
		return 0;
	case SETTING_INT:
		if (!parse_int(value, &n) || n < s->min || n > s->max) {
			sbuf_addf(err, "%s: expected a number from %lld to %lld", s->name, s->min, s->max);
			goto fail;
		}
		break;
	case SETTING_ENUM:
		for (size_t i = 0; s->words[i] != NULL; i++)
			if (strcmp(value, s->words[i]) == 0)
				goto ok;
		sbuf_addf(err, "%s: expected one of ", s->name);
		add_words(err, s->words, ", ");
		goto fail;
	case SETTING_HOSTPORT:
		if (!valid_hostport(value)) {
			sbuf_addf(err, "%s: expected HOST:PORT", s->name);
			goto fail;
		}
		break;
	case SETTING_SMTP_URL:
		if (check_smtp_url(s, value, err) < 0)
			goto fail;
		break;
	case SETTING_IMAP_URL:
		if (check_url(s, value, url_imap_schemes, URL_IMAP_SCHEMES, URL_USER | URL_PATH,
			      "imaps://, imap:// (STARTTLS) or imap+insecure:// (plaintext)",
			      err) < 0)
			goto fail;
		break;
	case SETTING_POP3_URL:
		if (check_url(s, value, url_pop3_schemes, URL_POP3_SCHEMES, URL_USER,
			      "pop3s://, pop3:// (STLS) or pop3+insecure:// (plaintext)", err) < 0)
			goto fail;
		break;
	case SETTING_PULL_AFTER:
		if (strcmp(value, "keep") != 0 && strcmp(value, "seen") != 0 &&
		    strcmp(value, "delete") != 0 && (strncmp(value, "move:", 5) != 0 || !value[5])) {
			sbuf_addf(err, "%s: expected keep, seen, move:FOLDER or delete", s->name);
			goto fail;
		}
		break;
	case SETTING_DURATION:
		if (!parse_duration(value, &n) || n < s->min || n > s->max) {
			sbuf_addf(err, "%s: expected a duration from %llds to %llds, such as 300, 5m, 4h or 1d",
				  s->name, s->min, s->max);
			goto fail;
		}
		break;
	}
ok:
	*canon_r = xstrdup(value);
	return 0;
fail:
	*error_r = err->buf;
	return -1;
}

long long settings_number(const struct setting *s, const char *value)
{
	long long n = 0;
	bool b = false;

	switch (s->type) {
	case SETTING_BOOL:
		parse_bool(value, &b);
		return b;
	case SETTING_INT:
		parse_int(value, &n);
		return n;
	case SETTING_DURATION:
		parse_duration(value, &n);
		return n;
	default:
		abort();
	}
}

/* roff-safe text: backslashes and hyphens escaped, no leading control char. */
static void add_roff(struct sbuf *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		sbuf_addstr(out, "\\&");
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			sbuf_addstr(out, "\\e");
		else if (*s == '-')
			sbuf_addstr(out, "\\-");
		else
			sbuf_addch(out, *s);
	}
}

static void add_type(struct sbuf *out, const struct setting *s)
{
	if (s->type == SETTING_ENUM) {
		sbuf_addstr(out, "one of ");
		add_words(out, s->words, "|");
	} else {
		sbuf_addstr(out, settings_type_name(s->type));
	}
	if (s->type == SETTING_INT)
		sbuf_addf(out, " from %lld to %lld", s->min, s->max);
	else if (s->type == SETTING_DURATION)
		sbuf_addf(out, " from %llds to %llds", s->min, s->max);
}

/* Said of every setting marked SETTING_F_UNBUILT; no roff escapes needed. */
#define SETTINGS_UNBUILT_NOTE \
	"Not built yet: loft ignores this setting for now (loft daemon warns when a mailrc sets it)."

void config_settings_doc(struct sbuf *out, bool man)
{
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		const char *acc = (s->flags & SETTING_F_ACCOUNT) ? "; per account" : "";
		bool unbuilt = (s->flags & SETTING_F_UNBUILT) != 0;
		struct sbuf type = SBUF_INIT;

		add_type(&type, s);
		if (!man) {
			sbuf_addf(out, "%s%s  %s  (default: %s%s%s)\n    %s\n%s", i ? "\n" : "", s->name,
				  type.buf, *s->def ? s->def : "empty", acc, unbuilt ? "; not built yet" : "",
				  s->desc, unbuilt ? "    " SETTINGS_UNBUILT_NOTE "\n" : "");
			sbuf_release(&type);
			continue;
		}
		sbuf_addf(out, ".TP\n.B %s\n(\\fI", s->name);
		add_roff(out, type.buf);
		sbuf_addstr(out, "\\fP; default ");
		if (*s->def) {
			sbuf_addstr(out, "\\fB");
			add_roff(out, s->def);
			sbuf_addstr(out, "\\fP");
		} else {
			sbuf_addstr(out, "empty");
		}
		sbuf_addf(out, "%s%s)\n.br\n", acc, unbuilt ? "; \\fBnot built yet\\fP" : "");
		add_roff(out, s->desc);
		sbuf_addch(out, '\n');
		if (unbuilt)
			sbuf_addstr(out, SETTINGS_UNBUILT_NOTE "\n");
		sbuf_release(&type);
	}
}
