/* libnotmuch, loaded on first use (lib/dynlib.h): the functions store/
 * calls, as a table of typed pointers filled by index_nm_load(), and each
 * name redirected to its pointer so that the index code reads as plain
 * notmuch calls.  `loft` is linked without -lnotmuch: commands that never
 * open the index (loft deliver above all) do not map notmuch, Xapian and
 * libstdc++ at start-up.  Included by index-private.h only. */
#ifndef LOFT_STORE_INDEX_NM_PRIVATE_H
#define LOFT_STORE_INDEX_NM_PRIVATE_H

#include "lib/dynlib.h"

#include <notmuch.h>

#define INDEX_NM_FUNCS(X) \
	X(notmuch_config_get) \
	X(notmuch_config_get_bool) \
	X(notmuch_config_get_values) \
	X(notmuch_config_values_destroy) \
	X(notmuch_config_values_get) \
	X(notmuch_config_values_move_to_next) \
	X(notmuch_config_values_valid) \
	X(notmuch_database_begin_atomic) \
	X(notmuch_database_create_with_config) \
	X(notmuch_database_destroy) \
	X(notmuch_database_end_atomic) \
	X(notmuch_database_find_message) \
	X(notmuch_database_find_message_by_filename) \
	X(notmuch_database_get_all_tags) \
	X(notmuch_database_get_default_indexopts) \
	X(notmuch_database_get_directory) \
	X(notmuch_database_get_revision) \
	X(notmuch_database_index_file) \
	X(notmuch_database_open_with_config) \
	X(notmuch_database_remove_message) \
	X(notmuch_database_reopen) \
	X(notmuch_database_set_config) \
	X(notmuch_database_status_string) \
	X(notmuch_directory_delete) \
	X(notmuch_directory_destroy) \
	X(notmuch_directory_get_child_directories) \
	X(notmuch_directory_get_child_files) \
	X(notmuch_directory_get_mtime) \
	X(notmuch_directory_set_mtime) \
	X(notmuch_filenames_destroy) \
	X(notmuch_filenames_get) \
	X(notmuch_filenames_move_to_next) \
	X(notmuch_filenames_valid) \
	X(notmuch_indexopts_destroy) \
	X(notmuch_indexopts_set_decrypt_policy) \
	X(notmuch_message_add_property) \
	X(notmuch_message_add_tag) \
	X(notmuch_message_destroy) \
	X(notmuch_message_freeze) \
	X(notmuch_message_get_filename) \
	X(notmuch_message_get_filenames) \
	X(notmuch_message_get_header) \
	X(notmuch_message_get_message_id) \
	X(notmuch_message_get_properties) \
	X(notmuch_message_get_tags) \
	X(notmuch_message_maildir_flags_to_tags) \
	X(notmuch_message_remove_all_properties) \
	X(notmuch_message_remove_tag) \
	X(notmuch_message_tags_to_maildir_flags) \
	X(notmuch_message_thaw) \
	X(notmuch_message_properties_destroy) \
	X(notmuch_message_properties_move_to_next) \
	X(notmuch_message_properties_valid) \
	X(notmuch_message_properties_value) \
	X(notmuch_messages_destroy) \
	X(notmuch_messages_get) \
	X(notmuch_messages_move_to_next) \
	X(notmuch_messages_valid) \
	X(notmuch_query_add_tag_exclude) \
	X(notmuch_query_count_messages) \
	X(notmuch_query_create_with_syntax) \
	X(notmuch_query_destroy) \
	X(notmuch_query_search_messages) \
	X(notmuch_query_search_threads) \
	X(notmuch_query_set_sort) \
	X(notmuch_status_to_string) \
	X(notmuch_tags_destroy) \
	X(notmuch_tags_get) \
	X(notmuch_tags_move_to_next) \
	X(notmuch_tags_valid) \
	X(notmuch_thread_destroy) \
	X(notmuch_thread_get_authors) \
	X(notmuch_thread_get_matched_messages) \
	X(notmuch_thread_get_newest_date) \
	X(notmuch_thread_get_oldest_date) \
	X(notmuch_thread_get_subject) \
	X(notmuch_thread_get_tags) \
	X(notmuch_thread_get_thread_id) \
	X(notmuch_thread_get_total_messages) \
	X(notmuch_threads_destroy) \
	X(notmuch_threads_get) \
	X(notmuch_threads_move_to_next) \
	X(notmuch_threads_valid)

struct index_nm {
	INDEX_NM_FUNCS(DYNLIB_SLOT)
};
extern struct index_nm index_nm;

/* Loads libnotmuch (once; the first call pays for it).  0, or -1 with
 * *error_r a static "cannot load libnotmuch.so.N: why". */
int index_nm_load(const char **error_r);

/* Function-like, so that a struct member of the same name is left alone. */
#define notmuch_config_get(...) (*index_nm.notmuch_config_get)(__VA_ARGS__)
#define notmuch_config_get_bool(...) (*index_nm.notmuch_config_get_bool)(__VA_ARGS__)
#define notmuch_config_get_values(...) (*index_nm.notmuch_config_get_values)(__VA_ARGS__)
#define notmuch_config_values_destroy(...) (*index_nm.notmuch_config_values_destroy)(__VA_ARGS__)
#define notmuch_config_values_get(...) (*index_nm.notmuch_config_values_get)(__VA_ARGS__)
#define notmuch_config_values_move_to_next(...) (*index_nm.notmuch_config_values_move_to_next)(__VA_ARGS__)
#define notmuch_config_values_valid(...) (*index_nm.notmuch_config_values_valid)(__VA_ARGS__)
#define notmuch_database_begin_atomic(...) (*index_nm.notmuch_database_begin_atomic)(__VA_ARGS__)
#define notmuch_database_create_with_config(...) (*index_nm.notmuch_database_create_with_config)(__VA_ARGS__)
#define notmuch_database_destroy(...) (*index_nm.notmuch_database_destroy)(__VA_ARGS__)
#define notmuch_database_end_atomic(...) (*index_nm.notmuch_database_end_atomic)(__VA_ARGS__)
#define notmuch_database_find_message(...) (*index_nm.notmuch_database_find_message)(__VA_ARGS__)
#define notmuch_database_find_message_by_filename(...) (*index_nm.notmuch_database_find_message_by_filename)(__VA_ARGS__)
#define notmuch_database_get_all_tags(...) (*index_nm.notmuch_database_get_all_tags)(__VA_ARGS__)
#define notmuch_database_get_default_indexopts(...) (*index_nm.notmuch_database_get_default_indexopts)(__VA_ARGS__)
#define notmuch_database_get_directory(...) (*index_nm.notmuch_database_get_directory)(__VA_ARGS__)
#define notmuch_database_get_revision(...) (*index_nm.notmuch_database_get_revision)(__VA_ARGS__)
#define notmuch_database_index_file(...) (*index_nm.notmuch_database_index_file)(__VA_ARGS__)
#define notmuch_database_open_with_config(...) (*index_nm.notmuch_database_open_with_config)(__VA_ARGS__)
#define notmuch_database_remove_message(...) (*index_nm.notmuch_database_remove_message)(__VA_ARGS__)
#define notmuch_database_reopen(...) (*index_nm.notmuch_database_reopen)(__VA_ARGS__)
#define notmuch_database_set_config(...) (*index_nm.notmuch_database_set_config)(__VA_ARGS__)
#define notmuch_database_status_string(...) (*index_nm.notmuch_database_status_string)(__VA_ARGS__)
#define notmuch_directory_delete(...) (*index_nm.notmuch_directory_delete)(__VA_ARGS__)
#define notmuch_directory_destroy(...) (*index_nm.notmuch_directory_destroy)(__VA_ARGS__)
#define notmuch_directory_get_child_directories(...) (*index_nm.notmuch_directory_get_child_directories)(__VA_ARGS__)
#define notmuch_directory_get_child_files(...) (*index_nm.notmuch_directory_get_child_files)(__VA_ARGS__)
#define notmuch_directory_get_mtime(...) (*index_nm.notmuch_directory_get_mtime)(__VA_ARGS__)
#define notmuch_directory_set_mtime(...) (*index_nm.notmuch_directory_set_mtime)(__VA_ARGS__)
#define notmuch_filenames_destroy(...) (*index_nm.notmuch_filenames_destroy)(__VA_ARGS__)
#define notmuch_filenames_get(...) (*index_nm.notmuch_filenames_get)(__VA_ARGS__)
#define notmuch_filenames_move_to_next(...) (*index_nm.notmuch_filenames_move_to_next)(__VA_ARGS__)
#define notmuch_filenames_valid(...) (*index_nm.notmuch_filenames_valid)(__VA_ARGS__)
#define notmuch_indexopts_destroy(...) (*index_nm.notmuch_indexopts_destroy)(__VA_ARGS__)
#define notmuch_indexopts_set_decrypt_policy(...) (*index_nm.notmuch_indexopts_set_decrypt_policy)(__VA_ARGS__)
#define notmuch_message_add_property(...) (*index_nm.notmuch_message_add_property)(__VA_ARGS__)
#define notmuch_message_add_tag(...) (*index_nm.notmuch_message_add_tag)(__VA_ARGS__)
#define notmuch_message_destroy(...) (*index_nm.notmuch_message_destroy)(__VA_ARGS__)
#define notmuch_message_freeze(...) (*index_nm.notmuch_message_freeze)(__VA_ARGS__)
#define notmuch_message_get_filename(...) (*index_nm.notmuch_message_get_filename)(__VA_ARGS__)
#define notmuch_message_get_filenames(...) (*index_nm.notmuch_message_get_filenames)(__VA_ARGS__)
#define notmuch_message_get_header(...) (*index_nm.notmuch_message_get_header)(__VA_ARGS__)
#define notmuch_message_get_message_id(...) (*index_nm.notmuch_message_get_message_id)(__VA_ARGS__)
#define notmuch_message_get_properties(...) (*index_nm.notmuch_message_get_properties)(__VA_ARGS__)
#define notmuch_message_get_tags(...) (*index_nm.notmuch_message_get_tags)(__VA_ARGS__)
#define notmuch_message_maildir_flags_to_tags(...) (*index_nm.notmuch_message_maildir_flags_to_tags)(__VA_ARGS__)
#define notmuch_message_remove_all_properties(...) (*index_nm.notmuch_message_remove_all_properties)(__VA_ARGS__)
#define notmuch_message_remove_tag(...) (*index_nm.notmuch_message_remove_tag)(__VA_ARGS__)
#define notmuch_message_tags_to_maildir_flags(...) (*index_nm.notmuch_message_tags_to_maildir_flags)(__VA_ARGS__)
#define notmuch_message_thaw(...) (*index_nm.notmuch_message_thaw)(__VA_ARGS__)
#define notmuch_message_properties_destroy(...) (*index_nm.notmuch_message_properties_destroy)(__VA_ARGS__)
#define notmuch_message_properties_move_to_next(...) (*index_nm.notmuch_message_properties_move_to_next)(__VA_ARGS__)
#define notmuch_message_properties_valid(...) (*index_nm.notmuch_message_properties_valid)(__VA_ARGS__)
#define notmuch_message_properties_value(...) (*index_nm.notmuch_message_properties_value)(__VA_ARGS__)
#define notmuch_messages_destroy(...) (*index_nm.notmuch_messages_destroy)(__VA_ARGS__)
#define notmuch_messages_get(...) (*index_nm.notmuch_messages_get)(__VA_ARGS__)
#define notmuch_messages_move_to_next(...) (*index_nm.notmuch_messages_move_to_next)(__VA_ARGS__)
#define notmuch_messages_valid(...) (*index_nm.notmuch_messages_valid)(__VA_ARGS__)
#define notmuch_query_add_tag_exclude(...) (*index_nm.notmuch_query_add_tag_exclude)(__VA_ARGS__)
#define notmuch_query_count_messages(...) (*index_nm.notmuch_query_count_messages)(__VA_ARGS__)
#define notmuch_query_create_with_syntax(...) (*index_nm.notmuch_query_create_with_syntax)(__VA_ARGS__)
#define notmuch_query_destroy(...) (*index_nm.notmuch_query_destroy)(__VA_ARGS__)
#define notmuch_query_search_messages(...) (*index_nm.notmuch_query_search_messages)(__VA_ARGS__)
#define notmuch_query_search_threads(...) (*index_nm.notmuch_query_search_threads)(__VA_ARGS__)
#define notmuch_query_set_sort(...) (*index_nm.notmuch_query_set_sort)(__VA_ARGS__)
#define notmuch_status_to_string(...) (*index_nm.notmuch_status_to_string)(__VA_ARGS__)
#define notmuch_tags_destroy(...) (*index_nm.notmuch_tags_destroy)(__VA_ARGS__)
#define notmuch_tags_get(...) (*index_nm.notmuch_tags_get)(__VA_ARGS__)
#define notmuch_tags_move_to_next(...) (*index_nm.notmuch_tags_move_to_next)(__VA_ARGS__)
#define notmuch_tags_valid(...) (*index_nm.notmuch_tags_valid)(__VA_ARGS__)
#define notmuch_thread_destroy(...) (*index_nm.notmuch_thread_destroy)(__VA_ARGS__)
#define notmuch_thread_get_authors(...) (*index_nm.notmuch_thread_get_authors)(__VA_ARGS__)
#define notmuch_thread_get_matched_messages(...) (*index_nm.notmuch_thread_get_matched_messages)(__VA_ARGS__)
#define notmuch_thread_get_newest_date(...) (*index_nm.notmuch_thread_get_newest_date)(__VA_ARGS__)
#define notmuch_thread_get_oldest_date(...) (*index_nm.notmuch_thread_get_oldest_date)(__VA_ARGS__)
#define notmuch_thread_get_subject(...) (*index_nm.notmuch_thread_get_subject)(__VA_ARGS__)
#define notmuch_thread_get_tags(...) (*index_nm.notmuch_thread_get_tags)(__VA_ARGS__)
#define notmuch_thread_get_thread_id(...) (*index_nm.notmuch_thread_get_thread_id)(__VA_ARGS__)
#define notmuch_thread_get_total_messages(...) (*index_nm.notmuch_thread_get_total_messages)(__VA_ARGS__)
#define notmuch_threads_destroy(...) (*index_nm.notmuch_threads_destroy)(__VA_ARGS__)
#define notmuch_threads_get(...) (*index_nm.notmuch_threads_get)(__VA_ARGS__)
#define notmuch_threads_move_to_next(...) (*index_nm.notmuch_threads_move_to_next)(__VA_ARGS__)
#define notmuch_threads_valid(...) (*index_nm.notmuch_threads_valid)(__VA_ARGS__)

#endif
