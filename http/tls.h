/*
 * tls.h — the certificate of `snapcat serve --tls-cert --tls-key`: checked
 * before lws gets it (a sentence for the user instead of lws's log), put
 * on the vhost with ALPN "h2,http/1.1", loaded again on SIGHUP.
 *
 *   serve --tls-cert C --tls-key K -> tls_check -> tls_vhost (info)
 *   SIGHUP -> server_tls_reload -> tls_reload: tls_check -> lws_tls_cert_updated
 */
#ifndef HTTP_TLS_H
#define HTTP_TLS_H

#include <stddef.h>

#include "sc.h"

struct lws_context;
struct lws_context_creation_info;

/* Are cert (PEM chain) and key (PEM) readable, and a pair? Else err says
 * why. Any thread. */
sc_result tls_check(const char *cert, const char *key, char *err,
		    size_t errlen) SC_MUST_CHECK;

/* Make info's vhost serve TLS from these files, HTTP/2 (h2) or HTTP/1.1
 * by ALPN; plain HTTP on the port gets no answer. */
void tls_vhost(struct lws_context_creation_info *info, const char *cert,
	       const char *key);

/* tls_check, then every vhost of cx using these paths loads them again
 * (new handshakes; open connections keep theirs). Loop thread. */
sc_result tls_reload(struct lws_context *cx, const char *cert,
		     const char *key, char *err, size_t errlen) SC_MUST_CHECK;

#endif
