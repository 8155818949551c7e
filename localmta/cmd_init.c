/* loft init: the first set-up.  Asks a few questions on the terminal (or
 * takes them from flags: --yes takes the default of every question not
 * answered by one), writes a commented mailrc (keeping a backup of an old
 * one, replaced only after a yes or with --force), creates the store, the
 * TLS certificate and the first device login, and prints what to type
 * into a phone or Thunderbird.  --systemd installs a user unit for the
 * daemon.  Prompts are plain stdio lines: curses is not up yet. */
#include "localmta/init-private.h"
#include "localmta/auth.h"
#include "localmta/localmta.h"
#include "localmta/relay-private.h"
#include "localmta/sendmail-private.h"
#include "store/message.h"
#include "lib/config.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

/* Well-known providers' submission servers.  The domains pick the default
 * from the address; the user may always choose another. */
static const struct provider {
	const char *name, *url, *domains;
	bool login;		/* the address is the login */
} providers[] = {
	{ "Fastmail", "smtps://smtp.fastmail.com:465", "fastmail.com fastmail.fm", true },
	{ "Gmail", "smtp://smtp.gmail.com:587", "gmail.com googlemail.com", true },
	{ "Outlook", "smtp://smtp.office365.com:587", "outlook.com hotmail.com live.com", true },
	{ "iCloud", "smtp://smtp.mail.me.com:587", "icloud.com me.com mac.com", true },
	{ "Yahoo", "smtps://smtp.mail.yahoo.com:465", "yahoo.com ymail.com", true },
	{ "Posteo", "smtp://posteo.de:587", "posteo.de posteo.net", true },
	{ "mailbox.org", "smtps://smtp.mailbox.org:465", "mailbox.org", true },
	{ "other", NULL, "", false },		/* asks for the URL */
	{ "none", "", "", false },		/* remote mail stays queued */
};
#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))
#define OTHER (N_PROVIDERS - 2)
#define NONE (N_PROVIDERS - 1)

static bool opt_yes;

static int usage(void)
{
	fprintf(stderr, "usage: loft init [--name NAME] [--address ADDR] [--provider NAME | "
			"--smarthost URL]\n"
			"         [--smarthost-user USER] [--password-command CMD] "
			"[--folder DIR]\n"
			"         [--devices | --no-devices] [--listen HOST:PORT] "
			"[--imap-listen HOST:PORT]\n"
			"         [--device NAME]\n"
			"         [--systemd] [--yes] [--force]\n");
	return EX_USAGE;
}

/* No control bytes: every answer ends up on one mailrc line. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Asks question on stdout and reads one line from stdin.  Returns the
 * answer (malloc'd; def for an empty line), or NULL at the end of input
 * when there is no default.  With --yes, returns def without asking. */
static char *ask(const char *question, const char *def)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	if (opt_yes)
		return def ? xstrdup(def) : NULL;
	for (;;) {
		if (def && *def)
			printf("%s [%s]: ", question, def);
		else
			printf("%s: ", question);
		fflush(stdout);
		n = getline(&line, &size, stdin);
		if (n < 0) {
			free(line);
			printf("\n");
			return def ? xstrdup(def) : NULL;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (!printable(line)) {
			printf("  (no control characters, please)\n");
			continue;
		}
		if (n == 0 && def) {
			free(line);
			return xstrdup(def);
		}
		return line;
	}
}

/* A yes/no question: 1 yes, 0 no, def when unanswered or at the end of
 * input. */
static int ask_yes_no(const char *question, int def)
{
	char *q = xasprintf("%s [%s]", question, def ? "Y/n" : "y/N");
	int r = def;

	while (!opt_yes) {
		char *a = ask(q, "");

		if (a == NULL || a[0] == '\0') {
			free(a);
			break;
		}
		r = strchr("yY", a[0]) ? 1 : strchr("nN", a[0]) ? 0 : -1;
		free(a);
		if (r >= 0)
			break;
		r = def;
	}
	free(q);
	return r;
}

static bool address_valid(const char *addr, const char **why)
{
	struct addr_list list = { 0 };
	bool ok = addr_list_parse(addr, &list, why) == 0 && list.n == 1 &&
		  strcmp(list.addrs[0], addr) == 0 && strchr(addr, '@') != NULL;

	if (ok == false && *why == NULL)
		*why = "write it as name@example.org";
	addr_list_free(&list);
	return ok;
}

static bool url_valid(const char *url, const char **why)
{
	enum relay_tls tls;
	char *host, *hostport;

	if (relay_parse_url(url, &tls, &host, &hostport, why) < 0)
		return false;
	free(host);
	free(hostport);
	return true;
}

/* Fills *slot by asking until check passes; a flag's value is checked
 * once.  0, or -1 (printed) when no valid answer came. */
static int get_checked(char **slot, const char *flag, const char *question, const char *def,
		       bool (*check)(const char *, const char **))
{
	const char *why = NULL;

	if (*slot != NULL) {
		if (check(*slot, &why))
			return 0;
		fprintf(stderr, "loft: init: %s %s: %s\n", flag, *slot, why);
		return -1;
	}
	while ((*slot = ask(question, def)) != NULL) {
		why = NULL;
		if (check(*slot, &why))
			return 0;
		if (opt_yes)
			break;
		printf("  %s: %s\n", *slot, why);
		free(*slot);
	}
	if (*slot == NULL)
		fprintf(stderr, "loft: init: %s is needed%s\n", flag, opt_yes ? " with --yes" : "");
	else
		fprintf(stderr, "loft: init: %s %s: %s\n", flag, *slot, why);
	return -1;
}

static bool any_text(const char *s, const char **why)
{
	*why = "it cannot be empty";
	return s[0] != '\0';
}

static bool any_value(const char *s, const char **why)
{
	(void)s;
	(void)why;
	return true;
}

static bool device_valid(const char *s, const char **why)
{
	*why = "letters, digits and . _ @ + -, not starting with . or -";
	return auth_name_valid(s);
}

/* The provider named (or numbered) s; N_PROVIDERS when none is. */
static size_t provider_find(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (*s && *end == '\0')
		return n >= 1 && n <= N_PROVIDERS ? n - 1 : N_PROVIDERS;
	for (size_t i = 0; i < N_PROVIDERS; i++)
		if (strcasecmp(s, providers[i].name) == 0)
			return i;
	return N_PROVIDERS;
}

static bool provider_valid(const char *s, const char **why)
{
	*why = "choose a number or a name from the list";
	return provider_find(s) < N_PROVIDERS;
}

/* The provider whose domains hold the address's domain, else "none". */
static size_t provider_guess(const char *address)
{
	const char *domain = strrchr(address, '@') + 1;
	size_t len = strlen(domain);

	for (size_t i = 0; i < N_PROVIDERS; i++) {
		for (const char *d = providers[i].domains; *d; d += strspn(d, " ")) {
			size_t n = strcspn(d, " ");

			if (n == len && strncasecmp(d, domain, n) == 0)
				return i;
			d += n;
		}
	}
	return NONE;
}

static int ask_smarthost(struct init_answers *a)
{
	size_t p = NONE;
	bool login = false;

	if (a->smarthost == NULL) {
		if (a->provider == NULL && !opt_yes) {
			printf("\nMail for other domains is handed to your provider's submission "
			       "server (the smarthost):\n");
			for (size_t i = 0; i < N_PROVIDERS; i++)
				printf("  %zu) %-12s %s\n", i + 1, providers[i].name,
				       i == OTHER ? "(type its URL)" :
				       i == NONE ? "(mail for other domains waits in the queue)" :
				       providers[i].url);
		}
		if (get_checked(&a->provider, "--provider", "Provider",
				providers[provider_guess(a->address)].name, provider_valid) < 0)
			return -1;
		p = provider_find(a->provider);
		free(a->provider);
		a->provider = xstrdup(providers[p].name);
		login = providers[p].login;
		if (p != OTHER)
			a->smarthost = xstrdup(providers[p].url);
	}
	if ((a->smarthost == NULL || a->smarthost[0]) &&
	    get_checked(&a->smarthost, "--smarthost",
			"Smarthost URL (smtp://HOST:587 STARTTLS, smtps://HOST:465 TLS)",
			NULL, url_valid) < 0)
		return -1;
	if (a->provider == NULL)
		a->provider = xstrdup("the smarthost");
	if (a->smarthost[0] == '\0') {
		free(a->smarthost_user);
		a->smarthost_user = xstrdup("");
		return 0;
	}
	if (get_checked(&a->smarthost_user, "--smarthost-user",
			"Login at the smarthost (empty: none)", login ? a->address : "",
			any_value) < 0)
		return -1;
	if (a->smarthost_user[0] == '\0')
		return 0;
	return get_checked(&a->password_command, "--password-command",
			   "Command that prints the password (e.g. pass show mail; the password "
			   "itself is never stored)", NULL, any_text);
}

static int ask_devices(struct init_answers *a)
{
	if (a->devices < 0) {
		if (!opt_yes)
			printf("\nOther devices (a phone, Thunderbird) can read this store over IMAP "
			       "and send mail\nthrough this machine (SMTP submission), both with "
			       "STARTTLS and a login of\ntheir own.\n");
		a->devices = ask_yes_no("Set up another device now?", 1);
	}
	if (a->devices == 0)
		return 0;
	if (get_checked(&a->listen, "--listen", "Address and port to listen on (SMTP)", "0.0.0.0:1587",
			any_text) < 0)
		return -1;
	char *imap = init_imap_listen(a->listen);
	int r = get_checked(&a->imap_listen, "--imap-listen", "Address and port to listen on (IMAP)",
			    imap, any_text);

	free(imap);
	if (r < 0)
		return -1;
	return get_checked(&a->device, "--device", "Name of its login", "phone", device_valid);
}

static char *default_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL || pw->pw_gecos == NULL)
		return xstrdup("");
	return xstrndup(pw->pw_gecos, strcspn(pw->pw_gecos, ","));
}

static int ask_all(struct init_answers *a)
{
	char *def = default_name();
	int rc = get_checked(&a->name, "--name", "Your name (as others see it)", def,
			     any_value);

	free(def);
	if (rc < 0 || get_checked(&a->address, "--address", "Your mail address", NULL,
				  address_valid) < 0)
		return -1;
	if (ask_smarthost(a) < 0 || ask_devices(a) < 0)
		return -1;
	return 0;
}

/* The mailrc to write: the one main.c picked (-F, $LOFTRC), else the
 * per-user file.  Malloc'd; *is_default_r when it is the per-user file. */
static char *mailrc_path(const struct loft_ctx *ctx, bool *is_default_r)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *def = xdg && *xdg ? xasprintf("%s/loft/mailrc", xdg) :
		xasprintf("%s/.config/loft/mailrc", home ? home : "");

	*is_default_r = ctx->config_path == NULL || strcmp(ctx->config_path, def) == 0;
	if (*is_default_r)
		return def;
	free(def);
	return xstrdup(ctx->config_path);
}

int cmd_init(struct loft_ctx *ctx, int argc, char **argv)
{
	enum { O_NAME = 256, O_ADDRESS, O_PROVIDER, O_SMARTHOST, O_USER, O_PWCMD, O_FOLDER,
	       O_DEVICES, O_NODEVICES, O_LISTEN, O_IMAP_LISTEN, O_DEVICE, O_SYSTEMD, O_YES, O_FORCE };
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, O_NAME },
		{ "address", required_argument, NULL, O_ADDRESS },
		{ "provider", required_argument, NULL, O_PROVIDER },
		{ "smarthost", required_argument, NULL, O_SMARTHOST },
		{ "smarthost-user", required_argument, NULL, O_USER },
		{ "password-command", required_argument, NULL, O_PWCMD },
		{ "folder", required_argument, NULL, O_FOLDER },
		{ "devices", no_argument, NULL, O_DEVICES },
		{ "no-devices", no_argument, NULL, O_NODEVICES },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "imap-listen", required_argument, NULL, O_IMAP_LISTEN },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "systemd", no_argument, NULL, O_SYSTEMD },
		{ "yes", no_argument, NULL, O_YES },
		{ "force", no_argument, NULL, O_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct init_answers a = { .devices = -1 };
	struct init_result r = { 0 };
	struct config *cfg = NULL;
	struct sbuf text = SBUF_INIT, summary = SBUF_INIT;
	bool force = false, systemd = false, is_default;
	char *err = NULL, **slot;
	const char *cerr;
	int c, status = EX_SOFTWARE;

	opt_yes = false;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_NAME: slot = &a.name; break;
		case O_ADDRESS: slot = &a.address; break;
		case O_PROVIDER: slot = &a.provider; break;
		case O_SMARTHOST: slot = &a.smarthost; break;
		case O_USER: slot = &a.smarthost_user; break;
		case O_PWCMD: slot = &a.password_command; break;
		case O_FOLDER: slot = &a.folder; break;
		case O_LISTEN: slot = &a.listen; break;
		case O_IMAP_LISTEN: slot = &a.imap_listen; break;
		case O_DEVICE: slot = &a.device; break;
		case O_DEVICES: a.devices = 1; continue;
		case O_NODEVICES: a.devices = 0; continue;
		case O_SYSTEMD: systemd = true; continue;
		case O_YES: opt_yes = true; continue;
		case O_FORCE: force = true; continue;
		default: status = usage(); goto out;
		}
		if (!printable(optarg)) {
			fprintf(stderr, "loft: init: --%s: no control characters\n",
				longopts[c - O_NAME].name);
			status = EX_USAGE;
			goto out;
		}
		free(*slot);
		*slot = xstrdup(optarg);
	}
	if (argc > optind) {
		status = usage();
		goto out;
	}
	r.mailrc = mailrc_path(ctx, &is_default);
	r.loft_cmd = is_default ? xstrdup("loft") : xasprintf("loft -F %s", r.mailrc);

	/* A mailrc already there is replaced only after a yes, or with --force. */
	if (access(r.mailrc, F_OK) == 0 && !force) {
		char *q = xasprintf("%s exists.  Replace it (the old one is kept as a backup)?",
				    r.mailrc);
		int yes = ask_yes_no(q, 0);

		free(q);
		if (yes != 1) {
			fprintf(stderr, "loft: init: %s exists and is left as it is (--force "
					"replaces it, keeping a backup)\n", r.mailrc);
			status = EX_CANTCREAT;
			goto out;
		}
	}
	if (!opt_yes)
		printf("Setting up loft: press Enter to take the [default].\n\n");
	if (ask_all(&a) < 0) {
		status = EX_USAGE;
		goto out;
	}

	/* Check the text as `loft check` would before anything is written. */
	init_mailrc_text(&a, &text);
	cfg = config_new();
	if (config_load_buffer(cfg, r.mailrc, text.buf, text.len, &cerr) < 0) {
		fprintf(stderr, "loft: init: the mailrc would not be valid: %s\n", cerr);
		status = EX_USAGE;
		goto out;
	}
	if (config_get(cfg, "folder")[0] != '/') {
		fprintf(stderr, "loft: init: --folder %s: give an absolute path or one under ~/\n",
			a.folder);
		status = EX_USAGE;
		goto out;
	}
	status = EX_CANTCREAT;
	if (init_write_mailrc(r.mailrc, text.buf, &r.backup, &err) < 0 ||
	    init_make_store(cfg, &r, &err) < 0 || init_make_cert(cfg, &r, &err) < 0 ||
	    (a.devices == 1 && init_make_login(cfg, &a, &r, &err) < 0) ||
	    (systemd && init_systemd(r.mailrc, &r, &err) < 0))
		goto out;

	/* The store's first message says what was set up, without the
	 * password (mail is no place for it). */
	if (r.store_created) {
		sbuf_addstr(&summary, "Welcome to loft.  `loft init` set it up like this:\n\n");
		init_summary(&a, &r, false, &summary);
		sbuf_addstr(&summary, "\nKeys work as in mutt: j/k move, Enter reads, m writes a new "
				      "message,\nr replies, d deletes (into Trash), q goes back; ? on "
				      "any screen lists them all.\n");
		if (init_welcome(cfg, a.address, "Welcome to loft", summary.buf, &err) < 0)
			goto out;
		sbuf_reset(&summary);
	}
	init_summary(&a, &r, true, &summary);
	printf("\nloft is set up:\n\n%s", summary.buf);
	status = EX_OK;
out:
	if (err != NULL)
		fprintf(stderr, "loft: init: %s\n", err);
	free(err);
	config_free(&cfg);
	sbuf_release(&text);
	sbuf_release(&summary);
	init_answers_release(&a);
	init_result_release(&r);
	message_deinit();
	return status;
}
