/* etpan_probe: libetpan's own IMAP client (mailimap) against `loft imapd`,
 * for tests/imap_etpan.t.  The server runs as a child on one end of a
 * socketpair, already logged in (PREAUTH); the probe drives it through
 * mailimap and prints one line per thing it got, so the test checks what
 * libetpan parsed, not what the server sent:
 *
 *   etpan_probe MAILBOX IMAPD-ARGV...
 *
 *   connect preauth|authenticated|...     the greeting as libetpan saw it
 *   capability NAME...
 *   select exists N uidvalidity V uidnext U
 *   msg UID flags=F,.. subject=S from=M@H mid=ID body=STRUCTURE
 *   store OK | store error N
 *   search KEY: UID...
 *   copy uidvalidity V src SET dst SET
 *   move OK | move error N
 *   idle exists N (after the command in $ETPAN_IDLE_RUN ran)
 *   error WHAT N                           a call that failed (libetpan code)
 *
 * $ETPAN_IDLE_BEFORE runs just before IDLE is sent.
 *
 * STRUCTURE is libetpan's parse of BODYSTRUCTURE: type/subtype of a leaf,
 * subtype(part,part...) of a multipart, message/rfc822[inner] of an
 * attached message.  Exit status 0 when every call worked. */
#include <libetpan/libetpan.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void fail(const char *what, int r)
{
	printf("error %s %d\n", what, r);
	failures++;
}

static void print_body(const struct mailimap_body *b);

static void print_1part(const struct mailimap_body_type_1part *p)
{
	static const char *const basic[] = { "application", "audio", "image", "message",
					     "video" };
	const struct mailimap_media_basic *mb;

	switch (p->bd_type) {
	case MAILIMAP_BODY_TYPE_1PART_TEXT:
		printf("text/%s", p->bd_data.bd_type_text->bd_media_text);
		break;
	case MAILIMAP_BODY_TYPE_1PART_MSG:
		printf("message/rfc822[");
		print_body(p->bd_data.bd_type_msg->bd_body);
		printf("]");
		break;
	case MAILIMAP_BODY_TYPE_1PART_BASIC:
		mb = p->bd_data.bd_type_basic->bd_media_basic;
		printf("%s/%s", mb->med_type >= 0 && mb->med_type < 5 ? basic[mb->med_type] :
		       mb->med_basic_type ? mb->med_basic_type : "?", mb->med_subtype);
		break;
	default:
		printf("?");
	}
}

static void print_body(const struct mailimap_body *b)
{
	if (b->bd_type == MAILIMAP_BODY_1PART) {
		print_1part(b->bd_data.bd_body_1part);
		return;
	}
	const struct mailimap_body_type_mpart *m = b->bd_data.bd_body_mpart;
	const char *sep = "";

	printf("%s(", m->bd_media_subtype);
	for (clistiter *it = clist_begin(m->bd_list); it; it = clist_next(it)) {
		printf("%s", sep);
		print_body(clist_content(it));
		sep = ",";
	}
	printf(")");
}

static void print_flag(const struct mailimap_flag *f, const char **sep)
{
	static const char *const names[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
					     "\\Draft" };

	printf("%s", *sep);
	*sep = ",";
	if (f->fl_type == MAILIMAP_FLAG_KEYWORD)
		printf("%s", f->fl_data.fl_keyword);
	else if (f->fl_type == MAILIMAP_FLAG_EXTENSION)
		printf("\\%s", f->fl_data.fl_extension);
	else if (f->fl_type >= 0 && f->fl_type < 5)
		printf("%s", names[f->fl_type]);
}

static void print_msg(const struct mailimap_msg_att *att)
{
	uint32_t uid = 0;
	const struct mailimap_envelope *env = NULL;
	const struct mailimap_body *body = NULL;
	const struct mailimap_msg_att_dynamic *dyn = NULL;

	for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			dyn = item->att_data.att_dyn;
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		const struct mailimap_msg_att_static *st = item->att_data.att_static;

		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_ENVELOPE)
			env = st->att_data.att_env;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE)
			body = st->att_data.att_bodystructure;
	}
	printf("msg %u flags=", uid);
	const char *sep = "";
	for (clistiter *it = dyn && dyn->att_list ? clist_begin(dyn->att_list) : NULL; it;
	     it = clist_next(it)) {
		const struct mailimap_flag_fetch *ff = clist_content(it);

		if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
			printf("%s\\Recent", sep);
			sep = ",";
		} else if (ff->fl_flag) {
			print_flag(ff->fl_flag, &sep);
		}
	}
	if (env == NULL) {
		printf(" envelope=missing");
	} else {
		const struct mailimap_address *a = NULL;

		if (env->env_from && clist_begin(env->env_from->frm_list))
			a = clist_content(clist_begin(env->env_from->frm_list));
		printf(" subject=%s from=%s@%s mid=%s", env->env_subject ? env->env_subject : "NIL",
		       a && a->ad_mailbox_name ? a->ad_mailbox_name : "NIL",
		       a && a->ad_host_name ? a->ad_host_name : "NIL",
		       env->env_message_id ? env->env_message_id : "NIL");
	}
	printf(" body=");
	if (body)
		print_body(body);
	else
		printf("missing");
	printf("\n");
}

static void do_fetch(mailimap *imap)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = mailimap_set_new_interval(1, 0);
	clist *result = NULL;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
	r = mailimap_uid_fetch(imap, set, ft, &result);
	if (r != MAILIMAP_NO_ERROR)
		fail("fetch", r);
	else
		for (clistiter *it = clist_begin(result); it; it = clist_next(it))
			print_msg(clist_content(it));
	if (result)
		mailimap_fetch_list_free(result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
}

static void do_search(mailimap *imap, const char *label, struct mailimap_search_key *key)
{
	clist *result = NULL;
	int r = mailimap_uid_search(imap, NULL, key, &result);

	if (r != MAILIMAP_NO_ERROR) {
		fail("search", r);
	} else {
		printf("search %s:", label);
		for (clistiter *it = clist_begin(result); it; it = clist_next(it))
			printf(" %u", *(uint32_t *)clist_content(it));
		printf("\n");
		mailimap_search_result_free(result);
	}
	mailimap_search_key_free(key);
}

static void print_set(const struct mailimap_set *set)
{
	const char *sep = "";

	for (clistiter *it = set ? clist_begin(set->set_list) : NULL; it; it = clist_next(it)) {
		const struct mailimap_set_item *i = clist_content(it);

		if (i->set_first == i->set_last)
			printf("%s%u", sep, i->set_first);
		else
			printf("%s%u:%u", sep, i->set_first, i->set_last);
		sep = ",";
	}
}

/* IDLE: starts it, runs $ETPAN_IDLE_RUN (a delivery), waits for the
 * server's untagged response, then DONE. */
static void do_idle(mailimap *imap)
{
	const char *run = getenv("ETPAN_IDLE_RUN");
	int r;

	if (run == NULL)
		return;
	if (!mailimap_has_idle(imap)) {
		fail("idle-capability", 0);
		return;
	}
	/* A change the session has not reported yet when IDLE starts: the
	 * server may send it before or after "+ idling". */
	const char *before = getenv("ETPAN_IDLE_BEFORE");

	if (before && system(before) != 0)
		fail("idle-before", 0);
	r = mailimap_idle(imap);
	if (r != MAILIMAP_NO_ERROR) {
		fail("idle", r);
		return;
	}
	if (system(run) != 0)
		fail("idle-run", 0);
	struct pollfd p = { .fd = mailimap_idle_get_fd(imap), .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		fail("idle-wait", 0);
	r = mailimap_idle_done(imap);
	if (r != MAILIMAP_NO_ERROR)
		fail("idle-done", r);
	else
		printf("idle exists %u\n", imap->imap_selection_info->sel_exists);
}

static pid_t spawn(char **argv, int *fd_r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	*fd_r = sv[0];
	return pid;
}

int main(int argc, char **argv)
{
	const char *mbox;
	mailimap *imap;
	mailstream *s;
	int fd, r, status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: etpan_probe MAILBOX IMAPD-ARGV...\n");
		return 2;
	}
	mbox = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);	/* what came before a hang is kept */
	pid = spawn(argv + 2, &fd);
	if (pid < 0) {
		perror("etpan_probe: spawn");
		return 2;
	}
	s = mailstream_socket_open(fd);
	imap = mailimap_new(0, NULL);
	mailimap_set_timeout(imap, 20);
	r = mailimap_connect(imap, s);
	printf("connect %s\n", r == MAILIMAP_NO_ERROR_AUTHENTICATED ? "preauth" :
	       r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED ? "not-authenticated" : "failed");
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		fail("connect", r);
		goto out;
	}
	struct mailimap_capability_data *caps = NULL;

	r = mailimap_capability(imap, &caps);
	if (r != MAILIMAP_NO_ERROR) {
		fail("capability", r);
	} else {
		printf("capability");
		for (clistiter *it = clist_begin(caps->cap_list); it; it = clist_next(it)) {
			const struct mailimap_capability *c = clist_content(it);

			if (c->cap_type == MAILIMAP_CAPABILITY_NAME)
				printf(" %s", c->cap_data.cap_name);
		}
		printf("\n");
		mailimap_capability_data_free(caps);
	}
	r = mailimap_select(imap, mbox);
	if (r != MAILIMAP_NO_ERROR) {
		fail("select", r);
		goto out;
	}
	printf("select exists %u uidvalidity %u uidnext %u\n",
	       imap->imap_selection_info->sel_exists, imap->imap_selection_info->sel_uidvalidity,
	       imap->imap_selection_info->sel_uidnext);
	do_fetch(imap);

	/* STORE +FLAGS (\Flagged $Etpan) on UIDs 1 and 3, then the flags again. */
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(strdup("$Etpan")));
	struct mailimap_store_att_flags *sa = mailimap_store_att_flags_new_add_flags(fl);
	struct mailimap_set *set = mailimap_set_new_single(1);
	mailimap_set_add_single(set, 3);
	r = mailimap_uid_store(imap, set, sa);
	if (r != MAILIMAP_NO_ERROR)
		fail("store", r);
	else
		printf("store OK\n");
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);

	do_search(imap, "keyword $Etpan", mailimap_search_key_new_keyword(strdup("$Etpan")));
	do_search(imap, "subject parts", mailimap_search_key_new_subject(strdup("parts")));
	do_search(imap, "all", mailimap_search_key_new_all());

	/* UIDPLUS COPY: libetpan parses COPYUID. */
	uint32_t uidvalidity = 0;
	struct mailimap_set *src = NULL, *dst = NULL;
	set = mailimap_set_new_single(2);
	r = mailimap_uidplus_uid_copy(imap, set, "Archive", &uidvalidity, &src, &dst);
	if (r != MAILIMAP_NO_ERROR) {
		fail("copy", r);
	} else {
		printf("copy uidvalidity %u src ", uidvalidity);
		print_set(src);
		printf(" dst ");
		print_set(dst);
		printf("\n");
	}
	if (src)
		mailimap_set_free(src);
	if (dst)
		mailimap_set_free(dst);
	r = mailimap_uid_move(imap, set, "Archive");
	if (r != MAILIMAP_NO_ERROR)
		fail("move", r);
	else
		printf("move OK\n");
	mailimap_set_free(set);
	do_fetch(imap);
	do_idle(imap);
	r = mailimap_logout(imap);
	if (r != MAILIMAP_NO_ERROR)
		fail("logout", r);
out:
	mailimap_free(imap);
	waitpid(pid, &status, 0);
	return failures ? 1 : 0;
}
