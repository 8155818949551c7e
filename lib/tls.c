/* TLS contexts, the self-signed certificate, fingerprints; see lib/tls.h. */
#include "lib/tls.h"
#include "lib/atomic.h"
#include "lib/config.h"
#include "lib/path.h"
#include "lib/sbuf.h"
#include "lib/xalloc.h"
#include "lib/ossl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALID_DAYS (10 * 365 + 2)

const char *tls_error_text(const char *fallback, char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0) {
		snprintf(buf, size, "%s", fallback);
	} else {
		char reason[200];

		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(buf, size, "%s: %s", fallback, reason);
	}
	ERR_clear_error();
	return buf;
}

static char *ssl_error(const char *what)
{
	char buf[300];

	return xstrdup(tls_error_text(what, buf, sizeof(buf)));
}

int tls_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

/* ---- the self-signed pair ---- */

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_get_subject_name(cert);
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *san = xasprintf("%s:%s", is_ip_literal(hostname) ? "IP" : "DNS", hostname);
	int ok = 0;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto done;
	serial[0] &= 0x7f;	/* a positive serial number */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && X509_set_version(cert, 2) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL &&
	     X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(cert), (long)VALID_DAYS * 86400) != NULL &&
	     X509_set_pubkey(cert, key) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname,
					-1, -1, 0) &&
	     X509_set_issuer_name(cert, name) &&
	     add_ext(cert, NID_subject_alt_name, san) == 0 &&
	     add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
	     add_ext(cert, NID_key_usage, "critical,digitalSignature") == 0 &&
	     add_ext(cert, NID_ext_key_usage, "serverAuth") == 0 &&
	     add_ext(cert, NID_subject_key_identifier, "hash") == 0 &&
	     add_ext(cert, NID_authority_key_identifier, "keyid:always") == 0 &&
	     X509_sign(cert, key, EVP_sha256()) > 0;
done:
	BN_free(bn);
	free(san);
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* PEM of the key or the certificate, written with atomic_write_file. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, mode_t mode, char **error_r)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const char *step;
	char *data;
	long len;
	int ok = key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_X509(bio, cert);

	if (!ok) {
		BIO_free(bio);
		*error_r = ssl_error("cannot encode PEM");
		return -1;
	}
	len = BIO_get_mem_data(bio, &data);
	if (atomic_write_file(path, data, (size_t)len, mode, &step) < 0) {
		*error_r = xasprintf("%s: %s: %s", path, step, strerror(errno));
		BIO_free(bio);
		return -1;
	}
	BIO_free(bio);
	return 0;
}

int tls_ensure_selfsigned(const char *dir, const char *hostname, char **cert_path_r,
			  char **key_path_r, bool *created_r, char **error_r)
{
	char *cert_path = xasprintf("%s/cert.pem", dir), *key_path = xasprintf("%s/key.pem", dir);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	if (created_r != NULL)
		*created_r = false;
	if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
		goto done;
	if (path_mkdirs(dir, 0700) < 0) {
		*error_r = xasprintf("%s: %s", dir, strerror(errno));
		goto fail;
	}
	key = EVP_EC_gen("P-256");
	if (key == NULL || (cert = make_cert(key, hostname)) == NULL) {
		*error_r = ssl_error("cannot make a key and certificate");
		goto fail;
	}
	/* Key first: a crash between the two leaves no certificate, and the
	 * next start makes a fresh pair. */
	if (write_pem(key_path, key, NULL, 0600, error_r) < 0 ||
	    write_pem(cert_path, NULL, cert, 0644, error_r) < 0)
		goto fail;
	if (created_r != NULL)
		*created_r = true;
	EVP_PKEY_free(key);
	X509_free(cert);
done:
	*cert_path_r = cert_path;
	*key_path_r = key_path;
	return 0;
fail:
	EVP_PKEY_free(key);
	X509_free(cert);
	free(cert_path);
	free(key_path);
	return -1;
}

/* ---- contexts ---- */

SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path,
			    char **fingerprint_r, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		*error_r = ssl_error("cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		*error_r = ssl_error(cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = ssl_error(key_path);
		goto fail;
	}
	if (fingerprint_r != NULL) {
		char fp[TLS_FINGERPRINT_SIZE];

		if (tls_fingerprint(SSL_CTX_get0_certificate(ctx), fp) < 0) {
			*error_r = ssl_error("cannot compute the fingerprint");
			goto fail;
		}
		*fingerprint_r = xstrdup(fp);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static char *host_name(const struct config *cfg)
{
	const char *h = config_get(cfg, "hostname");
	char buf[256];

	if (h != NULL)
		return xstrdup(h);
	if (gethostname(buf, sizeof(buf)) < 0 || buf[0] == '\0')
		return xstrdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	return xstrdup(buf);
}

SSL_CTX *tls_server_ctx_from_config(const struct config *cfg, char **fingerprint_r, char **error_r)
{
	const char *cert = config_get(cfg, "tls_cert"), *key = config_get(cfg, "tls_key");
	const char *state = config_get(cfg, "state_dir");
	char *dir, *host, *cert_path, *key_path;
	SSL_CTX *ctx;

	if (cert != NULL || key != NULL) {
		if (cert == NULL || key == NULL) {
			*error_r = xstrdup("tls_cert and tls_key must be set together");
			return NULL;
		}
		return tls_server_ctx_new(cert, key, fingerprint_r, error_r);
	}
	dir = state ? xasprintf("%s/tls", state) : xasprintf("%s/.loft/tls", config_get(cfg, "folder"));
	host = host_name(cfg);
	if (tls_ensure_selfsigned(dir, host, &cert_path, &key_path, NULL, error_r) < 0) {
		ctx = NULL;
	} else {
		ctx = tls_server_ctx_new(cert_path, key_path, fingerprint_r, error_r);
		free(cert_path);
		free(key_path);
	}
	free(dir);
	free(host);
	return ctx;
}

/* The pinned fingerprint, 64 upper-case hex digits, hangs on the context. */
static int pin_index = -1;

static void pin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static const char *pin_of(SSL_CTX *ctx)
{
	return pin_index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, pin_index);
}

/* "AB:cd:..." or "SHA256:AB:cd:..." -> "ABCD..." (64 hex digits) or NULL. */
static char *normalise_pin(const char *fp)
{
	char out[65];
	size_t n = 0;

	if (strncasecmp(fp, "SHA256:", 7) == 0)
		fp += 7;
	for (; *fp != '\0'; fp++) {
		if (*fp == ':')
			continue;
		if (!isxdigit((unsigned char)*fp) || n == 64)
			return NULL;
		out[n++] = (char)toupper((unsigned char)*fp);
	}
	if (n != 64)
		return NULL;
	out[n] = '\0';
	return xstrdup(out);
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, const char *fingerprint, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char *pin = NULL;

	if (ctx == NULL) {
		*error_r = ssl_error("cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (fingerprint != NULL) {
		pin = normalise_pin(fingerprint);
		if (pin == NULL) {
			*error_r = xstrdup("a fingerprint is 32 bytes in hex (AB:CD:...)");
			goto fail;
		}
		if (pin_index < 0)
			pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, pin_free);
		SSL_CTX_set_ex_data(ctx, pin_index, pin);
		/* The chain means nothing here: the pin is checked after the
		 * handshake, before a byte is sent. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
			    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		*error_r = ssl_error(ca_file ? ca_file : "cannot load the system CA store");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_client_prepare(SSL *ssl, const char *hostname)
{
	if (hostname == NULL)
		return 0;
	if (!is_ip_literal(hostname) && !SSL_set_tlsext_host_name(ssl, hostname))
		return -1;
	if (pin_of(SSL_get_SSL_CTX(ssl)) != NULL)
		return 0;
	return SSL_set1_host(ssl, hostname) == 1 ? 0 : -1;
}

int tls_client_verify(SSL *ssl, const char *hostname, char *err, size_t errsize)
{
	const char *pin = pin_of(SSL_get_SSL_CTX(ssl));
	const char *host = hostname ? hostname : "the server";
	X509 *peer = SSL_get0_peer_certificate(ssl);
	char fp[TLS_FINGERPRINT_SIZE];
	long v;

	if (pin == NULL) {
		v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK) {
			snprintf(err, errsize, "certificate of %s not trusted: %s", host,
				 X509_verify_cert_error_string(v));
			return -1;
		}
		if (peer == NULL) {
			snprintf(err, errsize, "%s sent no certificate", host);
			return -1;
		}
		return 0;
	}
	if (peer == NULL || tls_fingerprint(peer, fp) < 0) {
		snprintf(err, errsize, "%s sent no certificate", host);
		return -1;
	}
	char *got = normalise_pin(fp);
	int same = strcmp(got, pin) == 0;

	free(got);
	if (!same) {
		snprintf(err, errsize, "certificate of %s has fingerprint %s, not the pinned one", host, fp);
		return -1;
	}
	return 0;
}
