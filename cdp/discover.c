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

/* Replace the authority of ws_url with the one of base ("http://h:p"). */
static char *discover_rehost(const char *ws_url, const char *base)
{
	const char *rest = strstr(ws_url, "://");
	rest = rest ? strchr(rest + 3, '/') : NULL;
	return sc_xasprintf("ws://%s%s", base + 7, rest ? rest : "/");
}

static sc_result discover_get(const char *url, int timeout_ms,
			      struct sc_buf *body, char *err, size_t errlen)
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
		snprintf(err, errlen, "GET %s: %s", url, curl_easy_strerror(cc));
		return SC_ERR_BROWSER;
	}
	if (code != 200) {
		snprintf(err, errlen, "GET %s: HTTP %ld", url, code);
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
	char base[512], url[600];
	if (discover_base(endpoint, base, sizeof(base))) {
		snprintf(err, errlen, "not a browser endpoint: \"%.200s\" (use "
			 "ws://host:port/devtools/browser/ID or http://host:port)",
			 endpoint);
		return SC_ERR_INVALID;
	}
	snprintf(url, sizeof(url), "%s/json/version", base);
	struct sc_buf body;
	sc_buf_init(&body, 1 << 20);
	sc_result rc = discover_get(url, timeout_ms > 0 ? timeout_ms : 5000,
				    &body, err, errlen);
	if (rc)
		goto out;
	cJSON *j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "webSocketDebuggerUrl");
	if (cJSON_IsString(u) && !strncmp(u->valuestring, "ws://", 5))
		*ws_url = discover_rehost(u->valuestring, base);
	else {
		snprintf(err, errlen, "%s has no webSocketDebuggerUrl", url);
		rc = SC_ERR_BROWSER;
	}
	cJSON_Delete(j);
out:
	sc_buf_free(&body);
	return rc;
}
