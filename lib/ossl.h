/* OpenSSL (libssl and libcrypto), loaded on the first call instead of by
 * the dynamic loader at every start (lib/dynlib.h says why).
 *
 * Every file that calls OpenSSL includes this header instead of the
 * <openssl/...> ones: it includes them all first, then routes each
 * function loft calls through lib_ossl(), which loads the library on the
 * first call from any path.  There is no error path at the call sites: a
 * missing libssl.so.3 is the broken installation that the dynamic loader
 * used to refuse at start-up, so lib_ossl() then logs "cannot load
 * libssl.so.3: ..." and exits 69 (EX_UNAVAILABLE), as out of memory
 * aborts.  Commands that never use TLS or a digest (loft deliver without
 * duplicate_window) do not map OpenSSL at all; the daemon loads it when it
 * builds its TLS contexts, before it forks a connection. */
#ifndef LOFT_LIB_OSSL_H
#define LOFT_LIB_OSSL_H

#include "lib/dynlib.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LIB_OSSL_FUNCS(X) \
	X(SSL_CTX_check_private_key) \
	X(SSL_CTX_ctrl) \
	X(SSL_CTX_free) \
	X(SSL_CTX_get0_certificate) \
	X(SSL_CTX_get_ex_data) \
	X(SSL_CTX_load_verify_locations) \
	X(SSL_CTX_new) \
	X(SSL_CTX_set_default_verify_paths) \
	X(SSL_CTX_set_ex_data) \
	X(SSL_CTX_set_options) \
	X(SSL_CTX_set_verify) \
	X(SSL_CTX_use_PrivateKey_file) \
	X(SSL_CTX_use_certificate_chain_file) \
	X(SSL_accept) \
	X(SSL_connect) \
	X(SSL_ctrl) \
	X(SSL_free) \
	X(SSL_get0_peer_certificate) \
	X(SSL_get_SSL_CTX) \
	X(SSL_get_error) \
	X(SSL_get_verify_result) \
	X(SSL_new) \
	X(SSL_pending) \
	X(SSL_read) \
	X(SSL_set1_host) \
	X(SSL_set_fd) \
	X(SSL_set_verify) \
	X(SSL_shutdown) \
	X(SSL_write) \
	X(TLS_client_method) \
	X(TLS_server_method) \
	X(BIO_ctrl) \
	X(BIO_free) \
	X(BIO_new) \
	X(BIO_s_mem) \
	X(BN_bin2bn) \
	X(BN_free) \
	X(BN_to_ASN1_INTEGER) \
	X(CRYPTO_get_ex_new_index) \
	X(CRYPTO_memcmp) \
	X(ERR_clear_error) \
	X(ERR_error_string_n) \
	X(ERR_get_error) \
	X(ERR_peek_error) \
	X(EVP_DecodeBlock) \
	X(EVP_Digest) \
	X(EVP_EncodeBlock) \
	X(EVP_PKEY_Q_keygen) \
	X(EVP_PKEY_free) \
	X(EVP_sha256) \
	X(HMAC) \
	X(PEM_write_bio_PrivateKey) \
	X(PEM_write_bio_X509) \
	X(RAND_bytes) \
	X(X509V3_EXT_conf_nid) \
	X(X509V3_set_ctx) \
	X(X509_EXTENSION_free) \
	X(X509_NAME_add_entry_by_txt) \
	X(X509_add_ext) \
	X(X509_digest) \
	X(X509_free) \
	X(X509_get_serialNumber) \
	X(X509_get_subject_name) \
	X(X509_getm_notAfter) \
	X(X509_getm_notBefore) \
	X(X509_gmtime_adj) \
	X(X509_new) \
	X(X509_set_issuer_name) \
	X(X509_set_pubkey) \
	X(X509_set_version) \
	X(X509_sign) \
	X(X509_verify_cert_error_string)

struct lib_ossl {
	LIB_OSSL_FUNCS(DYNLIB_SLOT)
};

/* The table, loaded on the first call (thread-safe).  Never returns NULL:
 * when the library cannot be loaded the process exits 69 (see above). */
const struct lib_ossl *lib_ossl(void);

/* Function-like, so that a struct member of the same name is left alone. */
#define SSL_CTX_check_private_key(...) (*lib_ossl()->SSL_CTX_check_private_key)(__VA_ARGS__)
#define SSL_CTX_ctrl(...) (*lib_ossl()->SSL_CTX_ctrl)(__VA_ARGS__)
#define SSL_CTX_free(...) (*lib_ossl()->SSL_CTX_free)(__VA_ARGS__)
#define SSL_CTX_get0_certificate(...) (*lib_ossl()->SSL_CTX_get0_certificate)(__VA_ARGS__)
#define SSL_CTX_get_ex_data(...) (*lib_ossl()->SSL_CTX_get_ex_data)(__VA_ARGS__)
#define SSL_CTX_load_verify_locations(...) (*lib_ossl()->SSL_CTX_load_verify_locations)(__VA_ARGS__)
#define SSL_CTX_new(...) (*lib_ossl()->SSL_CTX_new)(__VA_ARGS__)
#define SSL_CTX_set_default_verify_paths(...) (*lib_ossl()->SSL_CTX_set_default_verify_paths)(__VA_ARGS__)
#define SSL_CTX_set_ex_data(...) (*lib_ossl()->SSL_CTX_set_ex_data)(__VA_ARGS__)
#define SSL_CTX_set_options(...) (*lib_ossl()->SSL_CTX_set_options)(__VA_ARGS__)
#define SSL_CTX_set_verify(...) (*lib_ossl()->SSL_CTX_set_verify)(__VA_ARGS__)
#define SSL_CTX_use_PrivateKey_file(...) (*lib_ossl()->SSL_CTX_use_PrivateKey_file)(__VA_ARGS__)
#define SSL_CTX_use_certificate_chain_file(...) (*lib_ossl()->SSL_CTX_use_certificate_chain_file)(__VA_ARGS__)
#define SSL_accept(...) (*lib_ossl()->SSL_accept)(__VA_ARGS__)
#define SSL_connect(...) (*lib_ossl()->SSL_connect)(__VA_ARGS__)
#define SSL_ctrl(...) (*lib_ossl()->SSL_ctrl)(__VA_ARGS__)
#define SSL_free(...) (*lib_ossl()->SSL_free)(__VA_ARGS__)
#define SSL_get0_peer_certificate(...) (*lib_ossl()->SSL_get0_peer_certificate)(__VA_ARGS__)
#define SSL_get_SSL_CTX(...) (*lib_ossl()->SSL_get_SSL_CTX)(__VA_ARGS__)
#define SSL_get_error(...) (*lib_ossl()->SSL_get_error)(__VA_ARGS__)
#define SSL_get_verify_result(...) (*lib_ossl()->SSL_get_verify_result)(__VA_ARGS__)
#define SSL_new(...) (*lib_ossl()->SSL_new)(__VA_ARGS__)
#define SSL_pending(...) (*lib_ossl()->SSL_pending)(__VA_ARGS__)
#define SSL_read(...) (*lib_ossl()->SSL_read)(__VA_ARGS__)
#define SSL_set1_host(...) (*lib_ossl()->SSL_set1_host)(__VA_ARGS__)
#define SSL_set_fd(...) (*lib_ossl()->SSL_set_fd)(__VA_ARGS__)
#define SSL_set_verify(...) (*lib_ossl()->SSL_set_verify)(__VA_ARGS__)
#define SSL_shutdown(...) (*lib_ossl()->SSL_shutdown)(__VA_ARGS__)
#define SSL_write(...) (*lib_ossl()->SSL_write)(__VA_ARGS__)
#define TLS_client_method(...) (*lib_ossl()->TLS_client_method)(__VA_ARGS__)
#define TLS_server_method(...) (*lib_ossl()->TLS_server_method)(__VA_ARGS__)
#define BIO_ctrl(...) (*lib_ossl()->BIO_ctrl)(__VA_ARGS__)
#define BIO_free(...) (*lib_ossl()->BIO_free)(__VA_ARGS__)
#define BIO_new(...) (*lib_ossl()->BIO_new)(__VA_ARGS__)
#define BIO_s_mem(...) (*lib_ossl()->BIO_s_mem)(__VA_ARGS__)
#define BN_bin2bn(...) (*lib_ossl()->BN_bin2bn)(__VA_ARGS__)
#define BN_free(...) (*lib_ossl()->BN_free)(__VA_ARGS__)
#define BN_to_ASN1_INTEGER(...) (*lib_ossl()->BN_to_ASN1_INTEGER)(__VA_ARGS__)
#define CRYPTO_get_ex_new_index(...) (*lib_ossl()->CRYPTO_get_ex_new_index)(__VA_ARGS__)
#define CRYPTO_memcmp(...) (*lib_ossl()->CRYPTO_memcmp)(__VA_ARGS__)
#define ERR_clear_error(...) (*lib_ossl()->ERR_clear_error)(__VA_ARGS__)
#define ERR_error_string_n(...) (*lib_ossl()->ERR_error_string_n)(__VA_ARGS__)
#define ERR_get_error(...) (*lib_ossl()->ERR_get_error)(__VA_ARGS__)
#define ERR_peek_error(...) (*lib_ossl()->ERR_peek_error)(__VA_ARGS__)
#define EVP_DecodeBlock(...) (*lib_ossl()->EVP_DecodeBlock)(__VA_ARGS__)
#define EVP_Digest(...) (*lib_ossl()->EVP_Digest)(__VA_ARGS__)
#define EVP_EncodeBlock(...) (*lib_ossl()->EVP_EncodeBlock)(__VA_ARGS__)
#define EVP_PKEY_Q_keygen(...) (*lib_ossl()->EVP_PKEY_Q_keygen)(__VA_ARGS__)
#define EVP_PKEY_free(...) (*lib_ossl()->EVP_PKEY_free)(__VA_ARGS__)
#define EVP_sha256(...) (*lib_ossl()->EVP_sha256)(__VA_ARGS__)
#define HMAC(...) (*lib_ossl()->HMAC)(__VA_ARGS__)
#define PEM_write_bio_PrivateKey(...) (*lib_ossl()->PEM_write_bio_PrivateKey)(__VA_ARGS__)
#define PEM_write_bio_X509(...) (*lib_ossl()->PEM_write_bio_X509)(__VA_ARGS__)
#define RAND_bytes(...) (*lib_ossl()->RAND_bytes)(__VA_ARGS__)
#define X509V3_EXT_conf_nid(...) (*lib_ossl()->X509V3_EXT_conf_nid)(__VA_ARGS__)
#define X509V3_set_ctx(...) (*lib_ossl()->X509V3_set_ctx)(__VA_ARGS__)
#define X509_EXTENSION_free(...) (*lib_ossl()->X509_EXTENSION_free)(__VA_ARGS__)
#define X509_NAME_add_entry_by_txt(...) (*lib_ossl()->X509_NAME_add_entry_by_txt)(__VA_ARGS__)
#define X509_add_ext(...) (*lib_ossl()->X509_add_ext)(__VA_ARGS__)
#define X509_digest(...) (*lib_ossl()->X509_digest)(__VA_ARGS__)
#define X509_free(...) (*lib_ossl()->X509_free)(__VA_ARGS__)
#define X509_get_serialNumber(...) (*lib_ossl()->X509_get_serialNumber)(__VA_ARGS__)
#define X509_get_subject_name(...) (*lib_ossl()->X509_get_subject_name)(__VA_ARGS__)
#define X509_getm_notAfter(...) (*lib_ossl()->X509_getm_notAfter)(__VA_ARGS__)
#define X509_getm_notBefore(...) (*lib_ossl()->X509_getm_notBefore)(__VA_ARGS__)
#define X509_gmtime_adj(...) (*lib_ossl()->X509_gmtime_adj)(__VA_ARGS__)
#define X509_new(...) (*lib_ossl()->X509_new)(__VA_ARGS__)
#define X509_set_issuer_name(...) (*lib_ossl()->X509_set_issuer_name)(__VA_ARGS__)
#define X509_set_pubkey(...) (*lib_ossl()->X509_set_pubkey)(__VA_ARGS__)
#define X509_set_version(...) (*lib_ossl()->X509_set_version)(__VA_ARGS__)
#define X509_sign(...) (*lib_ossl()->X509_sign)(__VA_ARGS__)
#define X509_verify_cert_error_string(...) (*lib_ossl()->X509_verify_cert_error_string)(__VA_ARGS__)

#endif
