/*
 * fuzz_lws.h — a fake connection for the feed fuzz targets (fuzz_ws.c,
 * fuzz_sse.c); included by exactly one file of each.
 *
 * http/feed.c, ws.c and wire.c touch their connection only through a few
 * lws calls. This file defines those functions: the executable's own
 * definitions win over libwebsockets.so's at link time, so the product code
 * runs unchanged against FUZZ_WSI, a fake `struct lws *`:
 *   lws_callback_on_writable   counts a writable request (fw.writable)
 *   lws_is_final_fragment      returns fw.final (set by the harness)
 *   lws_send_pipe_choked       says "choked" on every third call
 *   lws_write                  appends the bytes to fw.out and the frame to
 *                              fw.frames (one callback per write)
 *   lws_add_http_common_headers, lws_add_http_header_by_name,
 *   lws_finalize_write_http_header
 *                              write the header block as text into fw.head
 *   lws_http_mark_sse, lws_set_timer_usecs
 *                              recorded
 * A call with any other wsi (lws's own, inside lws_service) goes to the
 * real function (dlsym RTLD_NEXT). A new lws call on the connection in
 * those files needs a stub here: the real one would crash on FUZZ_WSI.
 */
#ifndef FUZZ_LWS_H
#define FUZZ_LWS_H

#include <dlfcn.h>
#include <libwebsockets.h>

static char fuzz_wsi_mem[64];
#define FUZZ_WSI ((struct lws *)fuzz_wsi_mem)

struct fuzz_wire {
	int writable;       /* lws_callback_on_writable calls not yet served */
	int final;          /* what lws_is_final_fragment says */
	int sse, timer_set; /* lws_http_mark_sse called; a timer is armed */
	int head_done;      /* headers written */
	unsigned choke;     /* lws_send_pipe_choked calls */
	struct sc_buf head; /* the header block, as text */
	/* each lws_write, as it comes */
	void (*on_write)(const unsigned char *buf, size_t len,
			 enum lws_write_protocol wp);
};
static struct fuzz_wire fw;

#define FUZZ_REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

int lws_callback_on_writable(struct lws *wsi)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_callback_on_writable",
				 int (*)(struct lws *))(wsi);
	fw.writable++;
	return 1;
}

int lws_is_final_fragment(struct lws *wsi)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_is_final_fragment",
				 int (*)(struct lws *))(wsi);
	return fw.final;
}

int lws_send_pipe_choked(struct lws *wsi)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_send_pipe_choked",
				 int (*)(struct lws *))(wsi);
	return ++fw.choke % 3 == 0;
}

int lws_write(struct lws *wsi, unsigned char *buf, size_t len,
	      enum lws_write_protocol wp)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_write",
				 int (*)(struct lws *, unsigned char *, size_t,
					 enum lws_write_protocol))(wsi, buf,
								   len, wp);
	if (fw.on_write)
		fw.on_write(buf, len, wp);
	return (int)len;
}

int lws_http_mark_sse(struct lws *wsi)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_http_mark_sse", int (*)(struct lws *))(wsi);
	fw.sse = 1;
	return 0;
}

void lws_set_timer_usecs(struct lws *wsi, lws_usec_t usecs)
{
	if (wsi != FUZZ_WSI) {
		FUZZ_REAL("lws_set_timer_usecs",
			  void (*)(struct lws *, lws_usec_t))(wsi, usecs);
		return;
	}
	fw.timer_set = usecs >= 0;
}

/* Append text to the header block at *p, -1 when it does not fit. */
static int fuzz_head_put(unsigned char **p, unsigned char *end,
			 const char *s, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(*p, s, n);
	*p += n;
	return 0;
}

int lws_add_http_common_headers(struct lws *wsi, unsigned int code,
				const char *content_type,
				lws_filepos_t content_len, unsigned char **p,
				unsigned char *end)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_add_http_common_headers",
				 int (*)(struct lws *, unsigned int,
					 const char *, lws_filepos_t,
					 unsigned char **, unsigned char *))(
			wsi, code, content_type, content_len, p, end);
	char t[512];
	int n = snprintf(t, sizeof(t), "HTTP/1.1 %u\r\n", code);
	if (fuzz_head_put(p, end, t, (size_t)n))
		return 1;
	if (content_type) {
		n = snprintf(t, sizeof(t), "content-type: %s\r\n", content_type);
		if (n >= (int)sizeof(t) || fuzz_head_put(p, end, t, (size_t)n))
			return 1;
	}
	if (content_len != LWS_ILLEGAL_HTTP_CONTENT_LEN) {
		n = snprintf(t, sizeof(t), "content-length: %llu\r\n",
			     (unsigned long long)content_len);
		if (fuzz_head_put(p, end, t, (size_t)n))
			return 1;
	}
	return 0;
}

int lws_add_http_header_by_name(struct lws *wsi, const unsigned char *name,
				const unsigned char *value, int length,
				unsigned char **p, unsigned char *end)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_add_http_header_by_name",
				 int (*)(struct lws *, const unsigned char *,
					 const unsigned char *, int,
					 unsigned char **, unsigned char *))(
			wsi, name, value, length, p, end);
	size_t nl = strlen((const char *)name);
	if (length < 0 || fuzz_head_put(p, end, (const char *)name, nl) ||
	    fuzz_head_put(p, end, " ", 1) ||
	    fuzz_head_put(p, end, (const char *)value, (size_t)length) ||
	    fuzz_head_put(p, end, "\r\n", 2))
		return 1;
	return 0;
}

int lws_finalize_write_http_header(struct lws *wsi, unsigned char *start,
				   unsigned char **p, unsigned char *end)
{
	if (wsi != FUZZ_WSI)
		return FUZZ_REAL("lws_finalize_write_http_header",
				 int (*)(struct lws *, unsigned char *,
					 unsigned char **, unsigned char *))(
			wsi, start, p, end);
	if (fuzz_head_put(p, end, "\r\n", 2))
		return 1;
	sc_buf_reset(&fw.head);
	if (sc_buf_append(&fw.head, start, (size_t)(*p - start)))
		abort();
	fw.head_done++;
	return 0;
}

/* The header block as written: a status line, then "name: value" lines
 * (names lower case, ending in ':' as lws wants them) with no CR or LF
 * inside, then an empty line. Returns the status. */
static __attribute__((unused)) int fuzz_check_head(void)
{
	const char *p = fw.head.data;
	unsigned status = 0;
	int n = 0;
	if (!p || sscanf(p, "HTTP/1.1 %3u\r\n%n", &status, &n) != 1 || !n)
		abort();
	p += n;
	while (strncmp(p, "\r\n", 2)) {
		size_t name = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
		if (!name || p[name] != ':' || p[name + 1] != ' ')
			abort();
		size_t v = strcspn(p, "\r\n");
		if (p[v] != '\r' || p[v + 1] != '\n')
			abort();
		p += v + 2;
	}
	if (p + 2 != fw.head.data + fw.head.len)
		abort();
	return (int)status;
}

#endif
