/* loft's one entry point: global options, the mailrc, and the dispatch table.
 *
 * This is the only file allowed to include every layer (DESIGN.md).  The
 * program name is looked at too, so that loft installed as `sendmail` or
 * `mailq` (or `loft-CMD`) runs that command directly. */
#include "client/commands.h"
#include "daemon/daemon.h"
#include "imapd/imapd.h"
#include "localmta/localmta.h"
#include "ui/ui.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifndef LOFT_VERSION
#define LOFT_VERSION "0.0.0"
#endif

struct command {
	const char *name;
	loft_cmd_fn *fn;
	const char *usage;	/* arguments after the name */
	const char *summary;	/* one line for the overview */
	const char *help;	/* the rest of `loft help NAME` */
};

static loft_cmd_fn cmd_help;

static const struct command commands[] = {
	{ "init", cmd_init,
	  "[--name NAME] [--address ADDR] [--provider NAME | --smarthost URL]\n"
	  "                 [--smarthost-user USER] [--password-command CMD] [--folder DIR]\n"
	  "                 [--devices | --no-devices] [--listen HOST:PORT]\n"
	  "                 [--imap-listen HOST:PORT] [--device NAME]\n"
	  "                 [--systemd] [--yes] [--force]",
	  "first set-up: mailrc, store, TLS certificate, a login for your phone",
	  "Asks your name, your address, your provider's submission server (a list of\n"
	  "well-known ones, or any smtp://, smtps:// or smtp+insecure:// URL, with the\n"
	  "login and a command that prints the password -- never the password itself)\n"
	  "and whether other devices should use this loft.  Then writes a commented\n"
	  "mailrc (-F FILE, $LOFTRC, else ~/.config/loft/mailrc), creates the store\n"
	  "with a welcome message, the TLS certificate and the first device login,\n"
	  "and prints what to type into a phone or Thunderbird: server, port,\n"
	  "STARTTLS, the certificate's SHA-256 fingerprint, the login and its new\n"
	  "password (shown once), for IMAP (port 1143) and SMTP submission.\n"
	  "Every question has a flag; --yes takes the default of the others, so\n"
	  "`loft init --address ADDR --provider gmail --password-command CMD --yes`\n"
	  "runs unattended.  An existing mailrc is replaced only after a yes or with\n"
	  "--force, and the old one is kept as MAILRC.bak (or .bak.N).\n"
	  "--systemd writes ~/.config/systemd/user/loft-daemon.service and runs\n"
	  "`systemctl --user enable --now` on it (a failure is reported, not fatal).\n" },
	{ "ui", cmd_ui, "[-R] [-f MAILBOX]",
	  "the mail client (what `loft` with no command runs)",
	  "Opens INBOX of the store (the `folder` setting), or MAILBOX: a maildir\n"
	  "path, an mbox file, +Folder (under the store), or search:QUERY (a notmuch\n"
	  "query as a virtual folder).  With no mailrc at all the store is ~/Mail,\n"
	  "created on first run with INBOX, Sent, Drafts, Trash and a welcome\n"
	  "message.  Keys are mutt's; press ? on any screen for its bindings.\n"
	  "-R opens the mailbox read-only: no flag changes, nothing expunged.\n" },
	{ "check", cmd_check, "",
	  "validate the mailrc and print the effective settings",
	  "Reads the mailrc (-F FILE, $LOFTRC, or ~/.config/loft/mailrc) and prints\n"
	  "every setting with its value and where it came from (\"; not built yet\"\n"
	  "after a setting of a part loft does not have yet).  An error in the\n"
	  "file is reported as FILE:LINE:COLUMN and exits 78 (EX_CONFIG).\n" },
	{ "show", cmd_show, "[--format=text|json|raw] [--part N] FILE...",
	  "print a message as loft sees it",
	  "Parses FILE (a single message; - for standard input) and prints it:\n"
	  "  text  the chosen headers decoded, the body, the attachments (default)\n"
	  "  json  every header and MIME part, in the shape of notmuch show --format=json\n"
	  "  raw   the bytes as they are\n"
	  "--part N prints the decoded content of the part with IMAP section N (1, 2.1...).\n" },
	{ "index", cmd_index, "[--full] [--verbose]",
	  "index new, changed and vanished mail in the notmuch database",
	  "Brings the notmuch database (the `notmuch_database` setting, by default\n"
	  "FOLDER/.notmuch) up to date with the maildirs under `folder`, as\n"
	  "`notmuch new` does: new files are indexed and tagged (new.tags, \"inbox\n"
	  "unread\", then the maildir flags), vanished ones removed, renames picked\n"
	  "up.  Unchanged directories are skipped; --full rechecks every one.\n"
	  "A file or folder that cannot be indexed (not mail, a path too long for\n"
	  "notmuch, unreadable) is skipped and named on stderr, as is a file\n"
	  "indexed with a warning: the first 10, all with --verbose.\n"
	  "On a terminal a progress bar shows count, rate and time left.  SIGINT\n"
	  "stops at the next message keeping what was done (exit 130); run it\n"
	  "again to go on.\n" },
	{ "search", cmd_search, "[--output=summary|threads|files|json] [--limit N] QUERY...",
	  "search the notmuch index",
	  "QUERY is in notmuch's syntax (notmuch-search-terms(7)).  Results are\n"
	  "printed as they are found, newest first:\n"
	  "  summary  thread:ID date [matched/total] authors; subject (tags) (default)\n"
	  "  threads  thread ids\n"
	  "  files    the file of every matching message, one per line\n"
	  "  json     an array of thread objects, as notmuch search --format=json\n"
	  "--limit N stops after N threads (files: N messages).  No match exits 0;\n"
	  "a malformed query exits 65 (EX_DATAERR).\n" },
	{ "tag", cmd_tag, "+TAG|-TAG... [--] QUERY...",
	  "add or remove tags on the messages matching a query",
	  "Changes the tags of every message matching QUERY, then renames its maildir\n"
	  "files so that their flags agree with the tags (unread = no S, replied R,\n"
	  "flagged F, draft D, passed P, deleted T).  Prints nothing on success.\n" },
	{ "sendmail", cmd_sendmail,
	  "[-t] [-i|-oi] [-f SENDER] [-F NAME] [-odq] [-v] [-bs|-bp|-q] [--] [RECIPIENT...]",
	  "queue a message from standard input (sendmail-compatible)",
	  "Reads one message on standard input, adds Date, Message-ID and From when\n"
	  "missing (From from `from` and `realname`; Message-ID <ID@DOMAIN> where DOMAIN\n"
	  "is `domain`, else a host name with a dot, else localhost.localdomain),\n"
	  "removes Bcc, queues it durably and starts a queue runner in the background.\n"
	  "Input that does not begin with a header field is taken as the body.\n"
	  "  -t        recipients also from To, Cc and Bcc\n"
	  "  -i, -oi   a line with a single \".\" does not end the input\n"
	  "  -f ADDR   envelope sender (\"<>\": none); default `from`, else USER@DOMAIN\n"
	  "  -F NAME   full name for an added From\n"
	  "  -odq      queue only: no background runner\n"
	  "  -bs       speak SMTP on standard input/output   -bp  list the queue\n"
	  "  -q        run the queue now                    -v   say the queue ID\n"
	  "Accepted and ignored: -oem -oee -odb -odi -oX... -L -O -B -N -R -V -X -C -h\n"
	  "-U -G -m -n -e -A -bm.  Exit status (sysexits.h): 0 queued (fsynced);\n"
	  "64 bad option; 65 empty message, NUL byte, line over 998 bytes, malformed\n"
	  "header block, no recipient, too large; 67 unparseable address;\n"
	  "75 the queue could not be written (nothing is left half-queued).\n" },
	{ "queue", cmd_queue, "[list | show ID | flush | run | rm ID...]",
	  "list and manage the outgoing queue (mailq)",
	  "  list     each entry: ID, size, age, sender, recipients with their state\n"
	  "           and last answer (the default; also `mailq` and sendmail -bp)\n"
	  "  show ID  the envelope and the message headers of one entry\n"
	  "  flush    try every queued recipient now, whatever its retry time\n"
	  "  run      one normal pass: only recipients whose retry time has come\n"
	  "  rm ID    remove entries (waits for a runner working on them)\n"
	  "Retries back off from `queue_retry_min` doubling to `queue_retry_max`;\n"
	  "after `queue_lifetime` the sender gets an RFC 3464 bounce.  Queue files\n"
	  "live in STATE_DIR/queue (state_dir, else FOLDER/.loft).\n" },
	{ "sync", cmd_sync, "[--status] [--delete-folders] [ACCOUNT...]",
	  "mirror an upstream IMAP account with the store, or pull from it",
	  "Syncs each ACCOUNT (an `account NAME { }` block with imap_url), or with\n"
	  "none every account whose `sync` is not off.  sync=mirror is two-way, as\n"
	  "mbsync: new messages both ways, flags and IMAP keywords both\n"
	  "ways, expunges as sync_expunge says, folders (sync_folders patterns)\n"
	  "created on the side that lacks them.  A folder deleted on one side is\n"
	  "only reported, unless --delete-folders.  Merge rule: a flag changed on\n"
	  "one side since the last sync takes that side's value; with no agreed\n"
	  "state (after a UIDVALIDITY change, a first sync of two full folders) a\n"
	  "flag set on either side stays set.  sync=pull fetches new messages into\n"
	  "delivery.  The state is in STATE_DIR/sync/ACCOUNT; a run\n"
	  "killed at any point is completed by the next without duplicates.\n"
	  "--status prints per folder the last success, the last error and the\n"
	  "messages paired, without connecting.\n"
	  "Exit status: 0 done; 64 bad usage or no such account; 69 an account\n"
	  "that cannot be synced (sync off, no imap_url, mode not built); 75 a\n"
	  "temporary failure (network, server, locked store): run it again.\n" },
	{ "sieve", cmd_sieve, "check FILE | test FILE MESSAGE [-f sender] [-a rcpt]",
	  "check a Sieve script, or show what it would do with a message",
	  "check: compiles FILE (RFC 5228 with fileinto, envelope, imap4flags,\n"
	  "variables, body, copy, mailbox); prints nothing and exits 0 when it is\n"
	  "valid, else FILE:LINE:COL: message on stderr and exits 65.\n"
	  "test: runs FILE against the message in MESSAGE and prints the actions\n"
	  "delivery would take, one a line, without delivering:\n"
	  "  store message in folder: NAME (flags: ...)\n"
	  "  redirect message to: ADDRESS\n"
	  "  discard\n"
	  "-f gives the envelope sender (default: the Return-Path address), -a the\n"
	  "envelope recipient.  A runtime error is printed on stderr followed by\n"
	  "the fallback delivery (store message in folder: INBOX); exit 0.\n"
	  "The `sieve` setting names the script delivery runs; see loft-sieve(5).\n" },
	{ "deliver", cmd_deliver, "[-f SENDER] [-a RECIPIENT] [-m FOLDER]",
	  "deliver one message from standard input into the store (MDA)",
	  "Runs the `sieve` script on the message, then stores it in the folders it\n"
	  "chooses (INBOX, or FOLDER with -m, when it keeps), fsynced, with its\n"
	  "imap4flags.  With `index_on_delivery` the next `loft search`, `loft tag`\n"
	  "or `loft index` indexes it in notmuch first (deliver itself does not open\n"
	  "notmuch, unless Sieve gave the message keywords).  A Sieve\n"
	  "error keeps the message and logs the error.  A leading mbox \"From \" line\n"
	  "is dropped (its address is the sender unless -f says otherwise).\n"
	  "Sieve's header, address and exists tests see the first 1,000 fields of\n"
	  "each header block (20,000 and 1 MiB of header in the whole message); a\n"
	  "message over those caps, with over 10,000 parts or nested deeper than 64\n"
	  "is stored byte for byte but not indexed in notmuch (a warning says so).\n"
	  "  -f SENDER     envelope sender (Return-Path)\n"
	  "  -a RECIPIENT  envelope recipient (Delivered-To); also -d\n"
	  "  -m FOLDER     default folder instead of INBOX\n"
	  "Exit status: 0 delivered; 75 temporary failure (retry: disk full, lock\n"
	  "timeout); 65 the message cannot be accepted (empty, mail loop, too large);\n"
	  "64 bad usage.  Usable where procmail, maildrop or dovecot-lda are.\n" },
	{ "daemon", cmd_daemon, "[--detach] [--pidfile FILE]",
	  "run the IMAP and SMTP listeners and the queue runner",
	  "Binds imap_listen (IMAP, STARTTLS), imaps_listen (IMAP, implicit TLS),\n"
	  "smtp_listen (submission, STARTTLS), smtps_listen (implicit TLS) and\n"
	  "smtp_inbound_listen (an MX), each when set; forks one process per\n"
	  "connection (at most max_connections; as root, they run as the owner of\n"
	  "`folder`), runs the queue every queue_interval and whenever mail is\n"
	  "queued, relays remote mail to the smarthost.  SIGHUP re-reads the mailrc\n"
	  "without dropping connections; SIGTERM lets open connections finish (up\n"
	  "to shutdown_timeout) and exits 0.  Runs in the foreground and logs to\n"
	  "stderr (or syslog: log=syslog) unless --detach, which writes --pidfile.\n"
	  "At start it warns once about each setting the mailrc sets that is not\n"
	  "built yet (sync_interval) and about account blocks, which nothing uses yet.\n" },
	{ "imapd", cmd_imapd, "",
	  "an IMAP session on standard input and output (for tunnels)",
	  "Serves the store over IMAP on standard input and output, already logged\n"
	  "in as you (PREAUTH), for clients that start the server themselves:\n"
	  "mbsync's `Tunnel \"loft imapd\"` (or `Tunnel \"ssh host loft imapd\"`),\n"
	  "Python's imaplib.IMAP4_stream, mutt's `tunnel`.  Logs go to stderr.\n"
	  "Exit status: 0 after LOGOUT or end of input; 69 the store cannot be\n"
	  "opened; 74 an I/O error on the connection.\n" },
	{ "passwd", cmd_passwd, "[--stdin] [NAME] | --list | --remove NAME",
	  "set, list or revoke the logins of your devices (IMAP, SMTP submission)",
	  "Each device (phone, laptop...) gets its own login, so one can be revoked\n"
	  "without touching the others.  A login is for reading mail through\n"
	  "`loft daemon`'s IMAP listeners (imap_listen with STARTTLS, imaps_listen)\n"
	  "and sending it through its submission listeners (smtp_listen with\n"
	  "STARTTLS, smtps_listen).\n"
	  "`loft passwd NAME` makes a new random password for NAME (default:\n"
	  "\"default\") and prints it once; with --stdin the password is read from\n"
	  "the first line of standard input.  --list prints the names, --remove NAME\n"
	  "revokes one and ends its open IMAP sessions.  The file is STATE_DIR/passwd (mode 0600) with yescrypt hashes.\n"
	  "Exit status: 0 done; 64 bad usage; 65 a --stdin password shorter than 8\n"
	  "characters; 67 --remove of a name that has no login; 74 the file cannot\n"
	  "be read or written.\n" },
	{ "help", cmd_help, "[COMMAND | settings [--man]]",
	  "show help for a command, or the list of settings",
	  "With no argument, lists the commands.  `loft help settings` lists every\n"
	  "mailrc setting with its type, default and meaning (--man: as roff).\n" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Names loft answers to when installed under another name (argv[0]). */
static const struct {
	const char *progname, *command;
} argv0_aliases[] = {
	{ "sendmail", "sendmail" },
	{ "mailq", "queue" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: loft [-F MAILRC] [-R] [-f MAILBOX] [COMMAND [ARGS...]]\n"
		"       loft --help | --version | help COMMAND\n\n"
		"commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nWith no command, loft starts the mail client on INBOX "
		     "(-f MAILBOX: another folder).\n");
}

static int cmd_help(struct loft_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return EX_OK;
	}
	if (strcmp(argv[1], "settings") == 0) {
		struct sbuf sb = SBUF_INIT;
		bool man = argc > 2 && strcmp(argv[2], "--man") == 0;

		config_settings_doc(&sb, man);
		fwrite(sb.buf, 1, sb.len, stdout);
		sbuf_release(&sb);
		return EX_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "loft: help: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EX_USAGE;
	}
	printf("usage: loft %s %s\n\n%s\n%s", c->name, c->usage, c->summary, c->help);
	return EX_OK;
}

/* The mailrc to read: -F, then $LOFTRC, then the per-user file if present.
 * Returns NULL for "none: embedded defaults". */
static const char *pick_config(const char *opt_file, char *buf, size_t bufsize)
{
	const char *env = getenv("LOFTRC");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (opt_file)
		return opt_file;
	if (env && *env)
		return env;
	if (xdg && *xdg)
		snprintf(buf, bufsize, "%s/loft/mailrc", xdg);
	else if (home && *home)
		snprintf(buf, bufsize, "%s/.config/loft/mailrc", home);
	else
		return NULL;
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* Commands that accept mail from other programs run on a mailrc with
 * errors (the faulty lines skipped); every other command stops. */
static bool accepts_mail(const struct command *cmd)
{
	static const char *const names[] = { "sendmail", "deliver", "daemon" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(cmd->name, names[i]) == 0)
			return true;
	return false;
}

/* config_load()'s errors, one a line: on stderr before exiting, or
 * logged (stderr or syslog, as the mailrc says) when the command goes on. */
static void report_config_errors(const char *errors, bool going_on)
{
	for (const char *e = errors; *e != '\0';) {
		size_t n = strcspn(e, "\n");

		if (going_on)
			log_error("config error, line ignored (run loft check): %.*s", (int)n, e);
		else
			fprintf(stderr, "loft: %.*s\n", (int)n, e);
		e += n + (e[n] == '\n');
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct loft_ctx ctx = { .progname = base_name(argc > 0 ? argv[0] : "loft") };
	const char *opt_file = NULL, *opt_mailbox = NULL, *cmdname = NULL, *error;
	bool opt_readonly = false;
	char pathbuf[4096];
	int c, status;

	/* Installed as sendmail, mailq or loft-CMD: the name is the command and
	 * every argument belongs to it (sendmail's own -F is the full name). */
	for (size_t i = 0; i < sizeof(argv0_aliases) / sizeof(argv0_aliases[0]); i++)
		if (strcmp(ctx.progname, argv0_aliases[i].progname) == 0)
			cmdname = argv0_aliases[i].command;
	if (cmdname == NULL && strncmp(ctx.progname, "loft-", 5) == 0)
		cmdname = ctx.progname + 5;

	if (cmdname == NULL) {
		/* '+': stop at the first non-option, the command's name. */
		while ((c = getopt_long(argc, argv, "+F:f:RhV", longopts, NULL)) != -1) {
			switch (c) {
			case 'F':
				opt_file = optarg;
				break;
			case 'f':
				opt_mailbox = optarg;
				break;
			case 'R':
				opt_readonly = true;
				break;
			case 'h':
				usage(stdout);
				return EX_OK;
			case 'V':
				printf("loft %s\n", LOFT_VERSION);
				return EX_OK;
			default:
				usage(stderr);
				return EX_USAGE;
			}
		}
		argc -= optind;
		argv += optind;
		cmdname = argc > 0 ? argv[0] : "ui";
		/* `loft CMD -F FILE ...` also works: every command takes -F. */
		if (argc >= 3 && strcmp(argv[1], "-F") == 0) {
			opt_file = argv[2];
			argv[2] = argv[0];
			argv += 2;
			argc -= 2;
		}
	}

	const struct command *cmd = find_command(cmdname);
	if (cmd == NULL) {
		fprintf(stderr, "loft: unknown command '%s'\n", cmdname);
		usage(stderr);
		return EX_USAGE;
	}

	config_set_ui_checks(&ui_config_checks);
	ctx.cfg = config_new();
	ctx.config_path = pick_config(opt_file, pathbuf, sizeof(pathbuf));
	/* init writes the mailrc: it may be missing or broken. */
	if (cmd->fn == cmd_init) {
		if (ctx.config_path == pathbuf)
			ctx.config_path = NULL;
		optind = 1;
		status = cmd->fn(&ctx, argc, argv);
		config_free(&ctx.cfg);
		return status;
	}
	/* A file that is not there is a missing input (66); anything wrong
	 * inside one is a configuration error (78). */
	if (ctx.config_path && access(ctx.config_path, R_OK) < 0) {
		fprintf(stderr, "loft: %s: %s\n", ctx.config_path, strerror(errno));
		config_free(&ctx.cfg);
		return EX_NOINPUT;
	}
	bool config_bad = ctx.config_path && config_load(ctx.cfg, ctx.config_path, &error) < 0;
	if (config_bad && !accepts_mail(cmd)) {
		report_config_errors(error, false);
		config_free(&ctx.cfg);
		return EX_CONFIG;
	}
	int level = log_level_parse(config_get(ctx.cfg, "log_level"));
	if (level >= 0)
		log_set_level((enum log_level)level);
	const char *log_to = config_get(ctx.cfg, "log");
	if (log_to && strcmp(log_to, "syslog") == 0)
		log_use_syslog("loft");
	/* Mail handed over by cron, git or an MTA is accepted all the same:
	 * the broken lines keep their defaults, and this says so every time. */
	if (config_bad)
		report_config_errors(error, true);

	char *noargs[] = { (char *)cmdname, NULL, NULL, NULL, NULL };
	if (argc <= 0) {
		argc = 1;
		argv = noargs;
	}
	/* `loft [-R] [-f MAILBOX]`: the mail client's own options. */
	if ((opt_mailbox != NULL || opt_readonly) && cmd->fn == cmd_ui && argc == 1) {
		noargs[0] = argv[0];
		argc = 1;
		if (opt_readonly)
			noargs[argc++] = (char *)"-R";
		if (opt_mailbox) {
			noargs[argc++] = (char *)"-f";
			noargs[argc++] = (char *)opt_mailbox;
		}
		argv = noargs;
	}
	optind = 1;	/* commands run their own getopt from argv[1] */
	status = cmd->fn(&ctx, argc, argv);
	config_free(&ctx.cfg);
	return status;
}
