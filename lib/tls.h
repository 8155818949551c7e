/* tls: OpenSSL 3 contexts for loft's servers and its relay client.
 *
 * Servers: TLS 1.2 minimum, OpenSSL's default cipher choice (secure), and
 * SSL_OP_IGNORE_UNEXPECTED_EOF so a peer that hangs up without close_notify
 * (phones do) is a normal disconnect.  A certificate comes from the
 * tls_cert/tls_key settings, or is made on first start: an EC P-256 key and
 * a self-signed certificate for the host name, valid 10 years, written
 * atomically (key mode 0600) so devices can pin its SHA-256 fingerprint.
 *
 * Clients verify the peer against the system CA store (or one CA file) and
 * its host name, or -- instead of both -- against a pinned SHA-256
 * fingerprint.  The checks themselves run in conn_starttls_client().
 *
 * Ownership: SSL_CTX objects returned belong to the caller (SSL_CTX_free);
 * strings returned through _r are malloc'd and the caller frees them.
 * Errors: -1 / NULL with *error_r, a malloc'd message the caller frees.
 * Key generation and file I/O block briefly; nothing prints. */
#ifndef LOFT_LIB_TLS_H
#define LOFT_LIB_TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct x509_st X509;
struct config;

/* "AB:CD:..." -- 32 bytes as 95 characters plus NUL. */
#define TLS_FINGERPRINT_SIZE 96

/* The SHA-256 fingerprint of cert in out.  0, or -1 on an OpenSSL error. */
int tls_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_SIZE]);

/* Makes sure DIR/cert.pem and DIR/key.pem exist, creating DIR (0700) and a
 * new key + self-signed certificate for hostname when either is missing.
 * *created_r (may be NULL) tells whether they were made now.  Sets
 * *cert_path_r and *key_path_r (malloc'd).  0 or -1 with *error_r. */
int tls_ensure_selfsigned(const char *dir, const char *hostname, char **cert_path_r,
			  char **key_path_r, bool *created_r, char **error_r);

/* A server context with cert_path (a PEM chain) and key_path.
 * *fingerprint_r (may be NULL) gets the leaf's fingerprint, malloc'd. */
SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path,
			    char **fingerprint_r, char **error_r);

/* The server context the settings ask for: tls_cert + tls_key when set,
 * else the generated pair under STATE_DIR/tls/ (state_dir setting, default
 * FOLDER/.loft); hostname as for the SMTP greeting. */
SSL_CTX *tls_server_ctx_from_config(const struct config *cfg, char **fingerprint_r,
				    char **error_r);

/* A client context.  ca_file: PEM file of trusted CAs, NULL for the system
 * store.  fingerprint: when non-NULL ("AB:CD:.." or "ab:cd..", colons
 * optional, an "SHA256:" prefix allowed), the peer's leaf certificate must have this SHA-256 fingerprint
 * and nothing else is checked (neither chain nor host name). */
SSL_CTX *tls_client_ctx_new(const char *ca_file, const char *fingerprint, char **error_r);

/* For lib/net.c: before the client handshake, sets SNI and the host-name
 * check on ssl (unless ctx pins a fingerprint); after it, checks the result.
 * 0, or -1 with a clear reason in err (NUL-terminated, truncated). */
int tls_client_prepare(SSL *ssl, const char *hostname);
int tls_client_verify(SSL *ssl, const char *hostname, char *err, size_t errsize);

/* The text of the most recent OpenSSL error (or fallback) in buf. */
const char *tls_error_text(const char *fallback, char *buf, size_t size);

#endif
