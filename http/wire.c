/*
 * wire.c — see wire.h.
 */
#include "wire.h"

#include <libwebsockets.h>
#include <string.h>
#include <strings.h>

/* The extra header lines, added one by one (lws wants "name:"). */
static int wire_extra(struct lws *wsi, const struct sc_buf *extra,
		      unsigned char **p, unsigned char *end)
{
	const char *line = extra ? extra->data : NULL;
	char name[128];
	while (line && *line) {
		const char *colon = strchr(line, ':'), *eol = strstr(line, "\r\n");
		if (!colon || !eol || colon > eol ||
		    (size_t)(colon - line) + 2 > sizeof(name))
			return -1;
		size_t nl = (size_t)(colon - line);
		if (nl == 10 && !strncasecmp(line, "connection", 10) &&
		    lws_get_network_wsi(wsi) != wsi) { /* forbidden on h2 */
			line = eol + 2;
			continue;
		}
		for (size_t i = 0; i < nl; i++)
			name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z'
						 ? line[i] + 32 : line[i]);
		name[nl] = ':';
		name[nl + 1] = 0;
		const char *v = colon + 1 + (colon[1] == ' ');
		if (lws_add_http_header_by_name(wsi, (unsigned char *)name,
						(const unsigned char *)v,
						(int)(eol - v), p, end))
			return -1;
		line = eol + 2;
	}
	return 0;
}

/* The status line and headers into [start, *p), without the final CRLF. */
static int wire_build(struct lws *wsi, int status, const char *ctype,
		      uint64_t len, const struct sc_buf *extra,
		      unsigned char **p, unsigned char *end)
{
	lws_filepos_t cl = len == UINT64_MAX ? LWS_ILLEGAL_HTTP_CONTENT_LEN
					     : (lws_filepos_t)len;
	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, cl, p,
					end) ||
	    wire_extra(wsi, extra, p, end))
		return -1;
	return 0;
}

int wire_headers(struct lws *wsi, int status, const char *ctype, uint64_t len,
		 const struct sc_buf *extra)
{
	unsigned char buf[LWS_PRE + 16384], *start = buf + LWS_PRE, *p = start,
		      *end = buf + sizeof(buf) - 1;
	if (wire_build(wsi, status, ctype, len, extra, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

int wire_head(struct lws *wsi, int status, const char *ctype, uint64_t len,
	      const struct sc_buf *extra, struct sc_buf *out)
{
	unsigned char buf[16384], *p = buf, *end = buf + sizeof(buf) - 1;
	if (wire_build(wsi, status, ctype, len, extra, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) ||
	    sc_buf_append(out, buf, (size_t)(p - buf)))
		return -1;
	return 0;
}
