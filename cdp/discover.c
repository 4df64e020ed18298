/*
 * discover.c — endpoint -> ws:// URL through GET /json/version (libcurl).
 */
#include "discover.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discover_write(char *p, size_t sz, size_t n, void *ud)
{
	struct sc_buf *b = ud;
	return sc_buf_append(b, p, sz * n) ? 0 : sz * n;
}

/* "http://h:p/x" or "h:p" -> "http://h:p" (no trailing slash or path). */
static sc_result discover_base(const char *endpoint, char *out, size_t outlen)
{
	const char *hp = endpoint;
	if (!strncmp(hp, "http://", 7))
		hp += 7;
	else if (strstr(hp, "://"))
		return SC_ERR_INVALID;
	size_t n = strcspn(hp, "/?#");
	if (!n || !memchr(hp, ':', n))
		return SC_ERR_INVALID;
	return sc_snprintf(out, outlen, "http://%.*s", (int)n, hp);
}

/* The endpoint's query without '?' (a token: "token=T"), or "". */
static const char *discover_query(const char *endpoint, size_t *len)
{
	const char *q = strchr(endpoint, '?');
	q = q ? q + 1 : "";
	*len = strcspn(q, "#");
	return q;
}

/* Replace the authority of ws_url with the one of base ("http://h:p"); the
 * endpoint's query goes on a URL that has none (browserless answers
 * "ws://host:port", without the token it was asked with). */
static char *discover_rehost(const char *ws_url, const char *base,
			     const char *query, size_t qlen)
{
	const char *rest = strstr(ws_url, "://");
	rest = rest ? rest + 3 + strcspn(rest + 3, "/?#") : NULL;
	if (!rest || !*rest)
		rest = "/";
	int add = qlen && !strchr(rest, '?');
	return sc_xasprintf("ws://%s%s%s%.*s", base + 7, rest, add ? "?" : "",
			    add ? (int)qlen : 0, query);
}

/* GET url; errors name shown (url without its query: no token). */
static sc_result discover_get(const char *url, const char *shown,
			      int timeout_ms, struct sc_buf *body, char *err,
			      size_t errlen)
{
	CURL *h = curl_easy_init();
	if (!h)
		return SC_ERR_NOMEM;
	long code = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discover_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "GET %s: %s", shown,
			 curl_easy_strerror(cc));
		return SC_ERR_BROWSER;
	}
	if (code != 200) {
		snprintf(err, errlen, "GET %s: HTTP %ld", shown, code);
		return SC_ERR_BROWSER;
	}
	return SC_OK;
}

sc_result cdp_discover(const char *endpoint, int timeout_ms, char **ws_url,
		       char *err, size_t errlen)
{
	*ws_url = NULL;
	if (!strncmp(endpoint, "ws://", 5)) {
		*ws_url = sc_xstrdup(endpoint);
		return SC_OK;
	}
	char base[512], url[1600];
	if (discover_base(endpoint, base, sizeof(base))) {
		snprintf(err, errlen, "not a browser endpoint: \"%.200s\" (use "
			 "ws://host:port/devtools/browser/ID or http://host:port)",
			 endpoint);
		return SC_ERR_INVALID;
	}
	size_t qlen;
	const char *query = discover_query(endpoint, &qlen);
	snprintf(url, sizeof(url), "%s/json/version%s%.*s", base,
		 qlen ? "?" : "", (int)qlen, query);
	struct sc_buf body;
	sc_buf_init(&body, 1 << 20);
	char shown[600];
	snprintf(shown, sizeof(shown), "%s/json/version", base);
	sc_result rc = discover_get(url, shown, timeout_ms > 0 ? timeout_ms
						: 5000, &body, err, errlen);
	if (rc)
		goto out;
	cJSON *j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "webSocketDebuggerUrl");
	if (cJSON_IsString(u) && !strncmp(u->valuestring, "ws://", 5))
		*ws_url = discover_rehost(u->valuestring, base, query, qlen);
	else {
		snprintf(err, errlen, "%s has no webSocketDebuggerUrl", shown);
		rc = SC_ERR_BROWSER;
	}
	cJSON_Delete(j);
out:
	sc_buf_free(&body);
	return rc;
}
