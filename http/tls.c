/*
 * tls.c — see tls.h. The pair is checked in a scratch OpenSSL SSL_CTX
 * (libwebsockets' own TLS library on Debian), so that a bad file is a
 * sentence and, on reload, the certificate being served stays.
 */
#include "tls.h"

#include <errno.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static int tls_readable(const char *flag, const char *path, char *err,
			size_t errlen)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (f) {
		fclose(f);
		return 0;
	}
	snprintf(err, errlen, "%s %s%s%s", flag, path ? "\"" : "",
		 path ? path : "is missing (both --tls-cert and --tls-key are "
			       "needed)", path ? "\": " : "");
	if (path)
		snprintf(err + strlen(err), errlen - strlen(err), "%s",
			 strerror(errno));
	return -1;
}

/* OpenSSL's reason for its last error. */
static const char *tls_why(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());
	return r ? r : "not PEM";
}

sc_result tls_check(const char *cert, const char *key, char *err,
		    size_t errlen)
{
	if (tls_readable("--tls-cert", cert, err, errlen) ||
	    tls_readable("--tls-key", key, err, errlen))
		return SC_ERR_IO;
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	if (!c) {
		snprintf(err, errlen, "OpenSSL cannot start");
		return SC_ERR_INTERNAL;
	}
	sc_result rc = SC_ERR_INVALID;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1)
		snprintf(err, errlen, "--tls-cert \"%s\" is not a PEM "
			 "certificate (%s)", cert, tls_why());
	else if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)
		snprintf(err, errlen, "--tls-key \"%s\" is not the PEM private "
			 "key of --tls-cert (%s)", key, tls_why());
	else if (SSL_CTX_check_private_key(c) != 1)
		snprintf(err, errlen, "--tls-key \"%s\" does not belong to "
			 "--tls-cert \"%s\"", key, cert);
	else
		rc = SC_OK;
	ERR_clear_error();
	SSL_CTX_free(c);
	return rc;
}

void tls_vhost(struct lws_context_creation_info *info, const char *cert,
	       const char *key)
{
	info->ssl_cert_filepath = cert;
	info->ssl_private_key_filepath = key;
	info->alpn = "h2,http/1.1"; /* lws 4.1.6 on Debian has LWS_WITH_HTTP2 */
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
}

sc_result tls_reload(struct lws_context *cx, const char *cert,
		     const char *key, char *err, size_t errlen)
{
	sc_result rc = tls_check(cert, key, err, errlen);
	if (rc)
		return rc;
	if (lws_tls_cert_updated(cx, cert, key, NULL, 0, NULL, 0)) {
		snprintf(err, errlen, "libwebsockets did not take the new "
			 "certificate");
		return SC_ERR_INTERNAL;
	}
	return SC_OK;
}
