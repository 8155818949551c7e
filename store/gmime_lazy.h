/* GMime (with GLib and GObject) loaded on first use, as lib/dynlib.h says
 * why: of the libraries every loft command mapped at start-up, GMime's
 * chain (GIO, libmount, libblkid, gpgme, libassuan...) was the largest, and
 * `loft deliver` with no Sieve script and no duplicate_window never parses
 * a message.  message_init() fills the table (it is the entry point every
 * GMime user already calls first: message_parse*, the envelope readers,
 * compose); a file that calls GMime includes this header instead of
 * <gmime/gmime.h>, and its calls, GMime's own macros (GMIME_IS_PART(),
 * G_OBJECT()...) included, go through the table.  A function missing from
 * the table is an undefined reference at link time, not a crash.  When the
 * library cannot be loaded, message_init() logs why and exits 69
 * (EX_UNAVAILABLE), as lib/ossl.c does for OpenSSL: a broken install, and
 * no caller could go on without parsing. */
#ifndef LOFT_STORE_GMIME_LAZY_H
#define LOFT_STORE_GMIME_LAZY_H

#include <gmime/gmime.h>

#include "lib/dynlib.h"

#define STORE_GMIME_FUNCS(X) \
	X(g_byte_array_append) \
	X(g_byte_array_free) \
	X(g_byte_array_new) \
	X(g_byte_array_new_take) \
	X(g_byte_array_sized_new) \
	X(g_date_time_get_utc_offset) \
	X(g_date_time_new_from_unix_local) \
	X(g_date_time_new_now_local) \
	X(g_date_time_to_unix) \
	X(g_date_time_unref) \
	X(g_free) \
	X(g_log_set_default_handler) \
	X(g_mime_content_disposition_get_disposition) \
	X(g_mime_content_disposition_get_parameters) \
	X(g_mime_content_type_get_media_subtype) \
	X(g_mime_content_type_get_media_type) \
	X(g_mime_content_type_get_parameter) \
	X(g_mime_content_type_get_parameters) \
	X(g_mime_content_type_parse) \
	X(g_mime_data_wrapper_get_encoding) \
	X(g_mime_data_wrapper_get_stream) \
	X(g_mime_data_wrapper_new_with_stream) \
	X(g_mime_encoding_flush) \
	X(g_mime_encoding_init_decode) \
	X(g_mime_encoding_outlen) \
	X(g_mime_header_get_name) \
	X(g_mime_header_get_raw_value) \
	X(g_mime_header_get_value) \
	X(g_mime_header_list_get_count) \
	X(g_mime_header_list_get_header_at) \
	X(g_mime_header_list_to_string) \
	X(g_mime_init) \
	X(g_mime_message_get_addresses) \
	X(g_mime_message_get_from) \
	X(g_mime_message_get_mime_part) \
	X(g_mime_message_get_reply_to) \
	X(g_mime_message_new) \
	X(g_mime_message_part_get_message) \
	X(g_mime_message_part_get_type) \
	X(g_mime_message_part_new_with_message) \
	X(g_mime_message_set_date) \
	X(g_mime_message_set_message_id) \
	X(g_mime_message_set_mime_part) \
	X(g_mime_message_set_subject) \
	X(g_mime_multipart_add) \
	X(g_mime_multipart_get_boundary) \
	X(g_mime_multipart_get_count) \
	X(g_mime_multipart_get_epilogue) \
	X(g_mime_multipart_get_part) \
	X(g_mime_multipart_get_prologue) \
	X(g_mime_multipart_get_type) \
	X(g_mime_multipart_new_with_subtype) \
	X(g_mime_object_append_header) \
	X(g_mime_object_get_content_disposition) \
	X(g_mime_object_get_content_type) \
	X(g_mime_object_get_header_list) \
	X(g_mime_object_get_type) \
	X(g_mime_object_set_content_type_parameter) \
	X(g_mime_object_set_disposition) \
	X(g_mime_object_set_header) \
	X(g_mime_object_write_content_to_stream) \
	X(g_mime_object_write_to_stream) \
	X(g_mime_param_get_name) \
	X(g_mime_param_get_value) \
	X(g_mime_param_list_get_parameter) \
	X(g_mime_param_list_get_parameter_at) \
	X(g_mime_param_list_length) \
	X(g_mime_param_set_charset) \
	X(g_mime_parser_construct_message) \
	X(g_mime_parser_new_with_stream) \
	X(g_mime_parser_options_clone) \
	X(g_mime_parser_options_free) \
	X(g_mime_parser_options_get_default) \
	X(g_mime_parser_options_set_address_compliance_mode) \
	X(g_mime_parser_options_set_allow_addresses_without_domain) \
	X(g_mime_parser_options_set_fallback_charsets) \
	X(g_mime_parser_options_set_parameter_compliance_mode) \
	X(g_mime_parser_options_set_rfc2047_compliance_mode) \
	X(g_mime_parser_options_set_warning_callback) \
	X(g_mime_parser_set_format) \
	X(g_mime_part_get_content) \
	X(g_mime_part_get_type) \
	X(g_mime_part_new_with_type) \
	X(g_mime_part_set_content) \
	X(g_mime_part_set_content_encoding) \
	X(g_mime_part_set_filename) \
	X(g_mime_references_free) \
	X(g_mime_references_get_message_id) \
	X(g_mime_references_length) \
	X(g_mime_references_parse) \
	X(g_mime_shutdown) \
	X(g_mime_stream_mem_get_byte_array) \
	X(g_mime_stream_mem_get_type) \
	X(g_mime_stream_mem_new) \
	X(g_mime_stream_mem_new_with_buffer) \
	X(g_mime_stream_mem_new_with_byte_array) \
	X(g_mime_stream_mem_set_owner) \
	X(g_mime_stream_read) \
	X(g_mime_stream_reset) \
	X(g_mime_text_part_new_with_subtype) \
	X(g_mime_utils_decode_message_id) \
	X(g_mime_utils_generate_message_id) \
	X(g_mime_utils_header_decode_date) \
	X(g_mime_utils_header_decode_phrase) \
	X(g_mime_utils_header_decode_text) \
	X(g_mime_utils_header_encode_phrase) \
	X(g_object_unref) \
	X(g_type_check_instance_cast) \
	X(g_type_check_instance_is_a) \
	X(g_utf8_validate) \
	X(internet_address_get_name) \
	X(internet_address_group_get_members) \
	X(internet_address_group_get_type) \
	X(internet_address_list_append) \
	X(internet_address_list_get_address) \
	X(internet_address_list_length) \
	X(internet_address_list_new) \
	X(internet_address_list_parse) \
	X(internet_address_mailbox_get_addr) \
	X(internet_address_mailbox_get_type) \
	X(internet_address_set_charset)

struct store_gmime { STORE_GMIME_FUNCS(DYNLIB_SLOT) };
/* Filled by message_init(); read-only after. */
extern struct store_gmime store_gmime;
/* Loads libgmime-3.0 (once per process, any thread): 0, or -1 with
 * *error_r a static message naming the library and why. */
int store_gmime_load(const char **error_r);

#define g_byte_array_append(...) (*store_gmime.g_byte_array_append)(__VA_ARGS__)
#define g_byte_array_free(...) (*store_gmime.g_byte_array_free)(__VA_ARGS__)
#define g_byte_array_new(...) (*store_gmime.g_byte_array_new)(__VA_ARGS__)
#define g_byte_array_new_take(...) (*store_gmime.g_byte_array_new_take)(__VA_ARGS__)
#define g_byte_array_sized_new(...) (*store_gmime.g_byte_array_sized_new)(__VA_ARGS__)
#define g_date_time_get_utc_offset(...) (*store_gmime.g_date_time_get_utc_offset)(__VA_ARGS__)
#define g_date_time_new_from_unix_local(...) (*store_gmime.g_date_time_new_from_unix_local)(__VA_ARGS__)
#define g_date_time_new_now_local(...) (*store_gmime.g_date_time_new_now_local)(__VA_ARGS__)
#define g_date_time_to_unix(...) (*store_gmime.g_date_time_to_unix)(__VA_ARGS__)
#define g_date_time_unref(...) (*store_gmime.g_date_time_unref)(__VA_ARGS__)
#define g_free(...) (*store_gmime.g_free)(__VA_ARGS__)
#define g_log_set_default_handler(...) (*store_gmime.g_log_set_default_handler)(__VA_ARGS__)
#define g_mime_content_disposition_get_disposition(...) (*store_gmime.g_mime_content_disposition_get_disposition)(__VA_ARGS__)
#define g_mime_content_disposition_get_parameters(...) (*store_gmime.g_mime_content_disposition_get_parameters)(__VA_ARGS__)
#define g_mime_content_type_get_media_subtype(...) (*store_gmime.g_mime_content_type_get_media_subtype)(__VA_ARGS__)
#define g_mime_content_type_get_media_type(...) (*store_gmime.g_mime_content_type_get_media_type)(__VA_ARGS__)
#define g_mime_content_type_get_parameter(...) (*store_gmime.g_mime_content_type_get_parameter)(__VA_ARGS__)
#define g_mime_content_type_get_parameters(...) (*store_gmime.g_mime_content_type_get_parameters)(__VA_ARGS__)
#define g_mime_content_type_parse(...) (*store_gmime.g_mime_content_type_parse)(__VA_ARGS__)
#define g_mime_data_wrapper_get_encoding(...) (*store_gmime.g_mime_data_wrapper_get_encoding)(__VA_ARGS__)
#define g_mime_data_wrapper_get_stream(...) (*store_gmime.g_mime_data_wrapper_get_stream)(__VA_ARGS__)
#define g_mime_data_wrapper_new_with_stream(...) (*store_gmime.g_mime_data_wrapper_new_with_stream)(__VA_ARGS__)
#define g_mime_encoding_flush(...) (*store_gmime.g_mime_encoding_flush)(__VA_ARGS__)
#define g_mime_encoding_init_decode(...) (*store_gmime.g_mime_encoding_init_decode)(__VA_ARGS__)
#define g_mime_encoding_outlen(...) (*store_gmime.g_mime_encoding_outlen)(__VA_ARGS__)
#define g_mime_header_get_name(...) (*store_gmime.g_mime_header_get_name)(__VA_ARGS__)
#define g_mime_header_get_raw_value(...) (*store_gmime.g_mime_header_get_raw_value)(__VA_ARGS__)
#define g_mime_header_get_value(...) (*store_gmime.g_mime_header_get_value)(__VA_ARGS__)
#define g_mime_header_list_get_count(...) (*store_gmime.g_mime_header_list_get_count)(__VA_ARGS__)
#define g_mime_header_list_get_header_at(...) (*store_gmime.g_mime_header_list_get_header_at)(__VA_ARGS__)
#define g_mime_header_list_to_string(...) (*store_gmime.g_mime_header_list_to_string)(__VA_ARGS__)
#define g_mime_init(...) (*store_gmime.g_mime_init)(__VA_ARGS__)
#define g_mime_message_get_addresses(...) (*store_gmime.g_mime_message_get_addresses)(__VA_ARGS__)
#define g_mime_message_get_from(...) (*store_gmime.g_mime_message_get_from)(__VA_ARGS__)
#define g_mime_message_get_mime_part(...) (*store_gmime.g_mime_message_get_mime_part)(__VA_ARGS__)
#define g_mime_message_get_reply_to(...) (*store_gmime.g_mime_message_get_reply_to)(__VA_ARGS__)
#define g_mime_message_new(...) (*store_gmime.g_mime_message_new)(__VA_ARGS__)
#define g_mime_message_part_get_message(...) (*store_gmime.g_mime_message_part_get_message)(__VA_ARGS__)
#define g_mime_message_part_get_type(...) (*store_gmime.g_mime_message_part_get_type)(__VA_ARGS__)
#define g_mime_message_part_new_with_message(...) (*store_gmime.g_mime_message_part_new_with_message)(__VA_ARGS__)
#define g_mime_message_set_date(...) (*store_gmime.g_mime_message_set_date)(__VA_ARGS__)
#define g_mime_message_set_message_id(...) (*store_gmime.g_mime_message_set_message_id)(__VA_ARGS__)
#define g_mime_message_set_mime_part(...) (*store_gmime.g_mime_message_set_mime_part)(__VA_ARGS__)
#define g_mime_message_set_subject(...) (*store_gmime.g_mime_message_set_subject)(__VA_ARGS__)
#define g_mime_multipart_add(...) (*store_gmime.g_mime_multipart_add)(__VA_ARGS__)
#define g_mime_multipart_get_boundary(...) (*store_gmime.g_mime_multipart_get_boundary)(__VA_ARGS__)
#define g_mime_multipart_get_count(...) (*store_gmime.g_mime_multipart_get_count)(__VA_ARGS__)
#define g_mime_multipart_get_epilogue(...) (*store_gmime.g_mime_multipart_get_epilogue)(__VA_ARGS__)
#define g_mime_multipart_get_part(...) (*store_gmime.g_mime_multipart_get_part)(__VA_ARGS__)
#define g_mime_multipart_get_prologue(...) (*store_gmime.g_mime_multipart_get_prologue)(__VA_ARGS__)
#define g_mime_multipart_get_type(...) (*store_gmime.g_mime_multipart_get_type)(__VA_ARGS__)
#define g_mime_multipart_new_with_subtype(...) (*store_gmime.g_mime_multipart_new_with_subtype)(__VA_ARGS__)
#define g_mime_object_append_header(...) (*store_gmime.g_mime_object_append_header)(__VA_ARGS__)
#define g_mime_object_get_content_disposition(...) (*store_gmime.g_mime_object_get_content_disposition)(__VA_ARGS__)
#define g_mime_object_get_content_type(...) (*store_gmime.g_mime_object_get_content_type)(__VA_ARGS__)
#define g_mime_object_get_header_list(...) (*store_gmime.g_mime_object_get_header_list)(__VA_ARGS__)
#define g_mime_object_get_type(...) (*store_gmime.g_mime_object_get_type)(__VA_ARGS__)
#define g_mime_object_set_content_type_parameter(...) (*store_gmime.g_mime_object_set_content_type_parameter)(__VA_ARGS__)
#define g_mime_object_set_disposition(...) (*store_gmime.g_mime_object_set_disposition)(__VA_ARGS__)
#define g_mime_object_set_header(...) (*store_gmime.g_mime_object_set_header)(__VA_ARGS__)
#define g_mime_object_write_content_to_stream(...) (*store_gmime.g_mime_object_write_content_to_stream)(__VA_ARGS__)
#define g_mime_object_write_to_stream(...) (*store_gmime.g_mime_object_write_to_stream)(__VA_ARGS__)
#define g_mime_param_get_name(...) (*store_gmime.g_mime_param_get_name)(__VA_ARGS__)
#define g_mime_param_get_value(...) (*store_gmime.g_mime_param_get_value)(__VA_ARGS__)
#define g_mime_param_list_get_parameter(...) (*store_gmime.g_mime_param_list_get_parameter)(__VA_ARGS__)
#define g_mime_param_list_get_parameter_at(...) (*store_gmime.g_mime_param_list_get_parameter_at)(__VA_ARGS__)
#define g_mime_param_list_length(...) (*store_gmime.g_mime_param_list_length)(__VA_ARGS__)
#define g_mime_param_set_charset(...) (*store_gmime.g_mime_param_set_charset)(__VA_ARGS__)
#define g_mime_parser_construct_message(...) (*store_gmime.g_mime_parser_construct_message)(__VA_ARGS__)
#define g_mime_parser_new_with_stream(...) (*store_gmime.g_mime_parser_new_with_stream)(__VA_ARGS__)
#define g_mime_parser_options_clone(...) (*store_gmime.g_mime_parser_options_clone)(__VA_ARGS__)
#define g_mime_parser_options_free(...) (*store_gmime.g_mime_parser_options_free)(__VA_ARGS__)
#define g_mime_parser_options_get_default(...) (*store_gmime.g_mime_parser_options_get_default)(__VA_ARGS__)
#define g_mime_parser_options_set_address_compliance_mode(...) (*store_gmime.g_mime_parser_options_set_address_compliance_mode)(__VA_ARGS__)
#define g_mime_parser_options_set_allow_addresses_without_domain(...) (*store_gmime.g_mime_parser_options_set_allow_addresses_without_domain)(__VA_ARGS__)
#define g_mime_parser_options_set_fallback_charsets(...) (*store_gmime.g_mime_parser_options_set_fallback_charsets)(__VA_ARGS__)
#define g_mime_parser_options_set_parameter_compliance_mode(...) (*store_gmime.g_mime_parser_options_set_parameter_compliance_mode)(__VA_ARGS__)
#define g_mime_parser_options_set_rfc2047_compliance_mode(...) (*store_gmime.g_mime_parser_options_set_rfc2047_compliance_mode)(__VA_ARGS__)
#define g_mime_parser_options_set_warning_callback(...) (*store_gmime.g_mime_parser_options_set_warning_callback)(__VA_ARGS__)
#define g_mime_parser_set_format(...) (*store_gmime.g_mime_parser_set_format)(__VA_ARGS__)
#define g_mime_part_get_content(...) (*store_gmime.g_mime_part_get_content)(__VA_ARGS__)
#define g_mime_part_get_type(...) (*store_gmime.g_mime_part_get_type)(__VA_ARGS__)
#define g_mime_part_new_with_type(...) (*store_gmime.g_mime_part_new_with_type)(__VA_ARGS__)
#define g_mime_part_set_content(...) (*store_gmime.g_mime_part_set_content)(__VA_ARGS__)
#define g_mime_part_set_content_encoding(...) (*store_gmime.g_mime_part_set_content_encoding)(__VA_ARGS__)
#define g_mime_part_set_filename(...) (*store_gmime.g_mime_part_set_filename)(__VA_ARGS__)
#define g_mime_references_free(...) (*store_gmime.g_mime_references_free)(__VA_ARGS__)
#define g_mime_references_get_message_id(...) (*store_gmime.g_mime_references_get_message_id)(__VA_ARGS__)
#define g_mime_references_length(...) (*store_gmime.g_mime_references_length)(__VA_ARGS__)
#define g_mime_references_parse(...) (*store_gmime.g_mime_references_parse)(__VA_ARGS__)
#define g_mime_shutdown(...) (*store_gmime.g_mime_shutdown)(__VA_ARGS__)
#define g_mime_stream_mem_get_byte_array(...) (*store_gmime.g_mime_stream_mem_get_byte_array)(__VA_ARGS__)
#define g_mime_stream_mem_get_type(...) (*store_gmime.g_mime_stream_mem_get_type)(__VA_ARGS__)
#define g_mime_stream_mem_new(...) (*store_gmime.g_mime_stream_mem_new)(__VA_ARGS__)
#define g_mime_stream_mem_new_with_buffer(...) (*store_gmime.g_mime_stream_mem_new_with_buffer)(__VA_ARGS__)
#define g_mime_stream_mem_new_with_byte_array(...) (*store_gmime.g_mime_stream_mem_new_with_byte_array)(__VA_ARGS__)
#define g_mime_stream_mem_set_owner(...) (*store_gmime.g_mime_stream_mem_set_owner)(__VA_ARGS__)
#define g_mime_stream_read(...) (*store_gmime.g_mime_stream_read)(__VA_ARGS__)
#define g_mime_stream_reset(...) (*store_gmime.g_mime_stream_reset)(__VA_ARGS__)
#define g_mime_text_part_new_with_subtype(...) (*store_gmime.g_mime_text_part_new_with_subtype)(__VA_ARGS__)
#define g_mime_utils_decode_message_id(...) (*store_gmime.g_mime_utils_decode_message_id)(__VA_ARGS__)
#define g_mime_utils_generate_message_id(...) (*store_gmime.g_mime_utils_generate_message_id)(__VA_ARGS__)
#define g_mime_utils_header_decode_date(...) (*store_gmime.g_mime_utils_header_decode_date)(__VA_ARGS__)
#define g_mime_utils_header_decode_phrase(...) (*store_gmime.g_mime_utils_header_decode_phrase)(__VA_ARGS__)
#define g_mime_utils_header_decode_text(...) (*store_gmime.g_mime_utils_header_decode_text)(__VA_ARGS__)
#define g_mime_utils_header_encode_phrase(...) (*store_gmime.g_mime_utils_header_encode_phrase)(__VA_ARGS__)
#define g_object_unref(...) (*store_gmime.g_object_unref)(__VA_ARGS__)
#define g_type_check_instance_cast(...) (*store_gmime.g_type_check_instance_cast)(__VA_ARGS__)
#define g_type_check_instance_is_a(...) (*store_gmime.g_type_check_instance_is_a)(__VA_ARGS__)
#define g_utf8_validate(...) (*store_gmime.g_utf8_validate)(__VA_ARGS__)
#define internet_address_get_name(...) (*store_gmime.internet_address_get_name)(__VA_ARGS__)
#define internet_address_group_get_members(...) (*store_gmime.internet_address_group_get_members)(__VA_ARGS__)
#define internet_address_group_get_type(...) (*store_gmime.internet_address_group_get_type)(__VA_ARGS__)
#define internet_address_list_append(...) (*store_gmime.internet_address_list_append)(__VA_ARGS__)
#define internet_address_list_get_address(...) (*store_gmime.internet_address_list_get_address)(__VA_ARGS__)
#define internet_address_list_length(...) (*store_gmime.internet_address_list_length)(__VA_ARGS__)
#define internet_address_list_new(...) (*store_gmime.internet_address_list_new)(__VA_ARGS__)
#define internet_address_list_parse(...) (*store_gmime.internet_address_list_parse)(__VA_ARGS__)
#define internet_address_mailbox_get_addr(...) (*store_gmime.internet_address_mailbox_get_addr)(__VA_ARGS__)
#define internet_address_mailbox_get_type(...) (*store_gmime.internet_address_mailbox_get_type)(__VA_ARGS__)
#define internet_address_set_charset(...) (*store_gmime.internet_address_set_charset)(__VA_ARGS__)

#endif
