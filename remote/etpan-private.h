/* libetpan, loaded on first use (lib/dynlib.h): the functions remote/
 * calls, as a table of typed pointers filled by remote_etpan_load() (from
 * remote_connect), and each name redirected to its pointer so that the
 * code reads as plain libetpan calls.  `loft` is linked without -letpan:
 * the commands that never talk to an IMAP server (loft deliver above all)
 * do not map libetpan, GnuTLS, Berkeley DB and Cyrus SASL at start-up.
 * Included by remote-private.h only. */
#ifndef LOFT_REMOTE_ETPAN_PRIVATE_H
#define LOFT_REMOTE_ETPAN_PRIVATE_H

#include "lib/dynlib.h"

#include <libetpan/libetpan.h>

#define REMOTE_ETPAN_FUNCS(X) \
	X(mailimap_append) \
	X(mailimap_capability) \
	X(mailimap_capability_data_free) \
	X(mailimap_capability_data_new) \
	X(mailimap_capability_new) \
	X(mailimap_connect) \
	X(mailimap_expunge) \
	X(mailimap_fetch_att_new_body_peek_section) \
	X(mailimap_fetch_att_new_envelope) \
	X(mailimap_fetch_att_new_flags) \
	X(mailimap_fetch_att_new_internaldate) \
	X(mailimap_fetch_att_new_rfc822_size) \
	X(mailimap_fetch_att_new_uid) \
	X(mailimap_fetch_list_free) \
	X(mailimap_fetch_type_free) \
	X(mailimap_fetch_type_new_fetch_att_list_add) \
	X(mailimap_fetch_type_new_fetch_att_list_empty) \
	X(mailimap_flag_list_add) \
	X(mailimap_flag_list_free) \
	X(mailimap_flag_list_new_empty) \
	X(mailimap_flag_new_answered) \
	X(mailimap_flag_new_deleted) \
	X(mailimap_flag_new_draft) \
	X(mailimap_flag_new_flag_keyword) \
	X(mailimap_flag_new_flagged) \
	X(mailimap_flag_new_seen) \
	X(mailimap_free) \
	X(mailimap_has_authentication) \
	X(mailimap_has_extension) \
	X(mailimap_list) \
	X(mailimap_list_result_free) \
	X(mailimap_login) \
	X(mailimap_mailbox_data_status_free) \
	X(mailimap_new) \
	X(mailimap_parse_response) \
	X(mailimap_qresync_vanished_free) \
	X(mailimap_read_line) \
	X(mailimap_response_free) \
	X(mailimap_search_key_free) \
	X(mailimap_search_key_new_all) \
	X(mailimap_search_result_free) \
	X(mailimap_section_new) \
	X(mailimap_select) \
	X(mailimap_select_condstore) \
	X(mailimap_selection_info_free) \
	X(mailimap_selection_info_new) \
	X(mailimap_send_current_tag) \
	X(mailimap_set_add_interval) \
	X(mailimap_set_free) \
	X(mailimap_set_new_empty) \
	X(mailimap_set_new_interval) \
	X(mailimap_set_new_single) \
	X(mailimap_set_timeout) \
	X(mailimap_starttls) \
	X(mailimap_status) \
	X(mailimap_status_att_list_add) \
	X(mailimap_status_att_list_free) \
	X(mailimap_status_att_list_new_empty) \
	X(mailimap_store_att_flags_free) \
	X(mailimap_store_att_flags_new_add_flags_silent) \
	X(mailimap_store_att_flags_new_remove_flags_silent) \
	X(mailimap_store_att_flags_new_set_flags_silent) \
	X(mailimap_uid_copy) \
	X(mailimap_uid_expunge) \
	X(mailimap_uid_fetch) \
	X(mailimap_uid_fetch_changedsince) \
	X(mailimap_uid_fetch_qresync) \
	X(mailimap_uid_move) \
	X(mailimap_uid_search) \
	X(mailimap_uid_store) \
	X(mailstream_close) \
	X(mailstream_flush) \
	X(mailstream_low_free) \
	X(mailstream_low_get_fd) \
	X(mailstream_low_new) \
	X(mailstream_new) \
	X(mailstream_read) \
	X(mailstream_write) \
	X(mmap_string_append_c) \
	X(mmap_string_free) \
	X(mmap_string_new) \
	X(mmap_string_truncate) \
	X(clist_insert_after) \
	X(clist_new)

struct remote_etpan {
	REMOTE_ETPAN_FUNCS(DYNLIB_SLOT)
};
extern struct remote_etpan remote_etpan;

/* The soname loaded, for other tables of the same library (POP3). */
extern const char remote_etpan_soname[];

/* Loads libetpan (once; the first call pays for it).  0, or -1 with
 * *error_r a static "cannot load libetpan.so.N: why". */
int remote_etpan_load(const char **error_r);

/* Function-like, so that a struct member of the same name is left alone. */
#define mailimap_append(...) (*remote_etpan.mailimap_append)(__VA_ARGS__)
#define clist_insert_after(...) (*remote_etpan.clist_insert_after)(__VA_ARGS__)
#define clist_new(...) (*remote_etpan.clist_new)(__VA_ARGS__)
#define mailimap_capability(...) (*remote_etpan.mailimap_capability)(__VA_ARGS__)
#define mailimap_capability_data_free(...) (*remote_etpan.mailimap_capability_data_free)(__VA_ARGS__)
#define mailimap_capability_data_new(...) (*remote_etpan.mailimap_capability_data_new)(__VA_ARGS__)
#define mailimap_capability_new(...) (*remote_etpan.mailimap_capability_new)(__VA_ARGS__)
#define mailimap_connect(...) (*remote_etpan.mailimap_connect)(__VA_ARGS__)
#define mailimap_expunge(...) (*remote_etpan.mailimap_expunge)(__VA_ARGS__)
#define mailimap_fetch_att_new_body_peek_section(...) (*remote_etpan.mailimap_fetch_att_new_body_peek_section)(__VA_ARGS__)
#define mailimap_fetch_att_new_envelope(...) (*remote_etpan.mailimap_fetch_att_new_envelope)(__VA_ARGS__)
#define mailimap_fetch_att_new_flags(...) (*remote_etpan.mailimap_fetch_att_new_flags)(__VA_ARGS__)
#define mailimap_fetch_att_new_internaldate(...) (*remote_etpan.mailimap_fetch_att_new_internaldate)(__VA_ARGS__)
#define mailimap_fetch_att_new_rfc822_size(...) (*remote_etpan.mailimap_fetch_att_new_rfc822_size)(__VA_ARGS__)
#define mailimap_fetch_att_new_uid(...) (*remote_etpan.mailimap_fetch_att_new_uid)(__VA_ARGS__)
#define mailimap_fetch_list_free(...) (*remote_etpan.mailimap_fetch_list_free)(__VA_ARGS__)
#define mailimap_fetch_type_free(...) (*remote_etpan.mailimap_fetch_type_free)(__VA_ARGS__)
#define mailimap_fetch_type_new_fetch_att_list_add(...) (*remote_etpan.mailimap_fetch_type_new_fetch_att_list_add)(__VA_ARGS__)
#define mailimap_fetch_type_new_fetch_att_list_empty(...) (*remote_etpan.mailimap_fetch_type_new_fetch_att_list_empty)(__VA_ARGS__)
#define mailimap_flag_list_add(...) (*remote_etpan.mailimap_flag_list_add)(__VA_ARGS__)
#define mailimap_flag_list_free(...) (*remote_etpan.mailimap_flag_list_free)(__VA_ARGS__)
#define mailimap_flag_list_new_empty(...) (*remote_etpan.mailimap_flag_list_new_empty)(__VA_ARGS__)
#define mailimap_flag_new_answered(...) (*remote_etpan.mailimap_flag_new_answered)(__VA_ARGS__)
#define mailimap_flag_new_deleted(...) (*remote_etpan.mailimap_flag_new_deleted)(__VA_ARGS__)
#define mailimap_flag_new_draft(...) (*remote_etpan.mailimap_flag_new_draft)(__VA_ARGS__)
#define mailimap_flag_new_flag_keyword(...) (*remote_etpan.mailimap_flag_new_flag_keyword)(__VA_ARGS__)
#define mailimap_flag_new_flagged(...) (*remote_etpan.mailimap_flag_new_flagged)(__VA_ARGS__)
#define mailimap_flag_new_seen(...) (*remote_etpan.mailimap_flag_new_seen)(__VA_ARGS__)
#define mailimap_free(...) (*remote_etpan.mailimap_free)(__VA_ARGS__)
#define mailimap_has_authentication(...) (*remote_etpan.mailimap_has_authentication)(__VA_ARGS__)
#define mailimap_has_extension(...) (*remote_etpan.mailimap_has_extension)(__VA_ARGS__)
#define mailimap_list(...) (*remote_etpan.mailimap_list)(__VA_ARGS__)
#define mailimap_list_result_free(...) (*remote_etpan.mailimap_list_result_free)(__VA_ARGS__)
#define mailimap_login(...) (*remote_etpan.mailimap_login)(__VA_ARGS__)
#define mailimap_mailbox_data_status_free(...) (*remote_etpan.mailimap_mailbox_data_status_free)(__VA_ARGS__)
#define mailimap_new(...) (*remote_etpan.mailimap_new)(__VA_ARGS__)
#define mailimap_parse_response(...) (*remote_etpan.mailimap_parse_response)(__VA_ARGS__)
#define mailimap_qresync_vanished_free(...) (*remote_etpan.mailimap_qresync_vanished_free)(__VA_ARGS__)
#define mailimap_read_line(...) (*remote_etpan.mailimap_read_line)(__VA_ARGS__)
#define mailimap_response_free(...) (*remote_etpan.mailimap_response_free)(__VA_ARGS__)
#define mailimap_search_key_free(...) (*remote_etpan.mailimap_search_key_free)(__VA_ARGS__)
#define mailimap_search_key_new_all(...) (*remote_etpan.mailimap_search_key_new_all)(__VA_ARGS__)
#define mailimap_search_result_free(...) (*remote_etpan.mailimap_search_result_free)(__VA_ARGS__)
#define mailimap_section_new(...) (*remote_etpan.mailimap_section_new)(__VA_ARGS__)
#define mailimap_select(...) (*remote_etpan.mailimap_select)(__VA_ARGS__)
#define mailimap_select_condstore(...) (*remote_etpan.mailimap_select_condstore)(__VA_ARGS__)
#define mailimap_selection_info_free(...) (*remote_etpan.mailimap_selection_info_free)(__VA_ARGS__)
#define mailimap_selection_info_new(...) (*remote_etpan.mailimap_selection_info_new)(__VA_ARGS__)
#define mailimap_send_current_tag(...) (*remote_etpan.mailimap_send_current_tag)(__VA_ARGS__)
#define mailimap_set_add_interval(...) (*remote_etpan.mailimap_set_add_interval)(__VA_ARGS__)
#define mailimap_set_free(...) (*remote_etpan.mailimap_set_free)(__VA_ARGS__)
#define mailimap_set_new_empty(...) (*remote_etpan.mailimap_set_new_empty)(__VA_ARGS__)
#define mailimap_set_new_interval(...) (*remote_etpan.mailimap_set_new_interval)(__VA_ARGS__)
#define mailimap_set_new_single(...) (*remote_etpan.mailimap_set_new_single)(__VA_ARGS__)
#define mailimap_set_timeout(...) (*remote_etpan.mailimap_set_timeout)(__VA_ARGS__)
#define mailimap_starttls(...) (*remote_etpan.mailimap_starttls)(__VA_ARGS__)
#define mailimap_status(...) (*remote_etpan.mailimap_status)(__VA_ARGS__)
#define mailimap_status_att_list_add(...) (*remote_etpan.mailimap_status_att_list_add)(__VA_ARGS__)
#define mailimap_status_att_list_free(...) (*remote_etpan.mailimap_status_att_list_free)(__VA_ARGS__)
#define mailimap_status_att_list_new_empty(...) (*remote_etpan.mailimap_status_att_list_new_empty)(__VA_ARGS__)
#define mailimap_store_att_flags_free(...) (*remote_etpan.mailimap_store_att_flags_free)(__VA_ARGS__)
#define mailimap_store_att_flags_new_add_flags_silent(...) (*remote_etpan.mailimap_store_att_flags_new_add_flags_silent)(__VA_ARGS__)
#define mailimap_store_att_flags_new_remove_flags_silent(...) (*remote_etpan.mailimap_store_att_flags_new_remove_flags_silent)(__VA_ARGS__)
#define mailimap_store_att_flags_new_set_flags_silent(...) (*remote_etpan.mailimap_store_att_flags_new_set_flags_silent)(__VA_ARGS__)
#define mailimap_uid_copy(...) (*remote_etpan.mailimap_uid_copy)(__VA_ARGS__)
#define mailimap_uid_expunge(...) (*remote_etpan.mailimap_uid_expunge)(__VA_ARGS__)
#define mailimap_uid_fetch(...) (*remote_etpan.mailimap_uid_fetch)(__VA_ARGS__)
#define mailimap_uid_fetch_changedsince(...) (*remote_etpan.mailimap_uid_fetch_changedsince)(__VA_ARGS__)
#define mailimap_uid_fetch_qresync(...) (*remote_etpan.mailimap_uid_fetch_qresync)(__VA_ARGS__)
#define mailimap_uid_move(...) (*remote_etpan.mailimap_uid_move)(__VA_ARGS__)
#define mailimap_uid_search(...) (*remote_etpan.mailimap_uid_search)(__VA_ARGS__)
#define mailimap_uid_store(...) (*remote_etpan.mailimap_uid_store)(__VA_ARGS__)
#define mailstream_close(...) (*remote_etpan.mailstream_close)(__VA_ARGS__)
#define mailstream_flush(...) (*remote_etpan.mailstream_flush)(__VA_ARGS__)
#define mailstream_low_free(...) (*remote_etpan.mailstream_low_free)(__VA_ARGS__)
#define mailstream_low_get_fd(...) (*remote_etpan.mailstream_low_get_fd)(__VA_ARGS__)
#define mailstream_low_new(...) (*remote_etpan.mailstream_low_new)(__VA_ARGS__)
#define mailstream_new(...) (*remote_etpan.mailstream_new)(__VA_ARGS__)
#define mailstream_read(...) (*remote_etpan.mailstream_read)(__VA_ARGS__)
#define mailstream_write(...) (*remote_etpan.mailstream_write)(__VA_ARGS__)
#define mmap_string_append_c(...) (*remote_etpan.mmap_string_append_c)(__VA_ARGS__)
#define mmap_string_free(...) (*remote_etpan.mmap_string_free)(__VA_ARGS__)
#define mmap_string_new(...) (*remote_etpan.mmap_string_new)(__VA_ARGS__)
#define mmap_string_truncate(...) (*remote_etpan.mmap_string_truncate)(__VA_ARGS__)

#endif
