/*
 * capture_pdf.c — the page printed to PDF (the pdf step, with opts.pdf):
 *
 *   Page.printToPDF {printBackground, preferCSSPageSize,
 *                    transferMode: ReturnAsStream} -> a stream handle
 *   -> IO.read {handle, size: PDF_CHUNK} ... until eof (each chunk base64,
 *      decoded and appended to res->pdf)
 *   -> IO.close {handle} -> cap_next
 *
 * The page prints with its own print CSS (@media print, @page size), as
 * the browser's Print to PDF would. A stream, not one reply: a large PDF
 * never arrives as one base64 string, and reading stops as soon as the
 * bytes pass max_file (res->pdf_over; output.c reports it too large).
 * The browser refusing to print (a CDP error) is the PDF's failure, not
 * the job's: res->pdf_err says why and the job goes on. A timeout or a
 * lost browser fails the job as in every step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"

#define PDF_CHUNK (1 << 20) /* bytes asked per IO.read */

/* The PDF cannot be had: say why, keep nothing, go on. */
static void pdf_skip(struct capture *c, const char *why)
{
	snprintf(c->res->pdf_err, sizeof(c->res->pdf_err), "%s", why);
	free(c->res->pdf.mem);
	memset(&c->res->pdf, 0, sizeof(c->res->pdf));
	cap_next(c);
}

static void pdf_on_close(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	/* a stream the browser no longer knows costs nothing: the tab and
	 * its streams go with the job */
	if (r->rc != SC_ERR_CDP && !cap_ok(c, r))
		return;
	free(c->pdf_stream);
	c->pdf_stream = NULL;
	cap_next(c);
}

static void pdf_close(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "handle", c->pdf_stream);
	cap_call(c, "IO.close", p, pdf_on_close);
}

/* Append n bytes of chunk s (base64 if b64) to res->pdf. -1: bad data. */
static int pdf_append(struct capture *c, const char *s, size_t n, int b64)
{
	struct capture_blob *b = &c->res->pdf;
	size_t need = b->len + n;
	if (!b->mem)
		c->pdf_cap = 0;
	if (need > c->pdf_cap) {
		c->pdf_cap = c->pdf_cap * 2 > need ? c->pdf_cap * 2 : need;
		b->mem = sc_xrealloc(b->mem, c->pdf_cap);
		b->data = b->mem;
	}
	char *at = b->data + b->len;
	memcpy(at, s, n);
	if (b64 && sc_base64_decode_inplace(at, n, &n))
		return -1;
	b->len += n;
	return 0;
}

static void pdf_read(struct capture *c);

static void pdf_on_read(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	if (!cap_ok(c, r))
		return;
	const char *s = "";
	size_t n = 0;
	cdp_reply_str(r, "data", &s, &n);
	int b64 = cJSON_IsTrue(cJSON_GetObjectItem(r->result, "base64Encoded"));
	int eof = cJSON_IsTrue(cJSON_GetObjectItem(r->result, "eof"));
	c->pdf_read += b64 ? n / 4 * 3 : n;
	if (c->pdf_read > c->o.max_file) { /* stop reading: too large */
		c->res->pdf_over = c->pdf_read;
		free(c->res->pdf.mem);
		memset(&c->res->pdf, 0, sizeof(c->res->pdf));
		pdf_close(c);
		return;
	}
	if (n && pdf_append(c, s, n, b64)) {
		snprintf(c->res->pdf_err, sizeof(c->res->pdf_err),
			 "IO.read returned bad base64");
		free(c->res->pdf.mem);
		memset(&c->res->pdf, 0, sizeof(c->res->pdf));
		pdf_close(c);
		return;
	}
	if (eof || !n)
		pdf_close(c);
	else
		pdf_read(c);
}

static void pdf_read(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "handle", c->pdf_stream);
	cJSON_AddNumberToObject(p, "size", PDF_CHUNK);
	cap_call(c, "IO.read", p, pdf_on_read);
}

static void pdf_on_print(void *owner, const struct cdp_reply *r)
{
	struct capture *c = owner;
	char why[200];
	if (r->rc == SC_ERR_CDP) { /* the browser would not print this page */
		snprintf(why, sizeof(why), "Page.printToPDF failed: %s",
			 r->error ? r->error : "refused");
		pdf_skip(c, why);
		return;
	}
	if (!cap_ok(c, r))
		return;
	const cJSON *h = cJSON_GetObjectItem(r->result, "stream");
	if (!cJSON_IsString(h) || !*h->valuestring) {
		pdf_skip(c, "Page.printToPDF returned no stream");
		return;
	}
	c->pdf_stream = sc_xstrdup(h->valuestring);
	c->pdf_read = 0;
	pdf_read(c);
}

void cap_step_pdf(struct capture *c)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "printBackground", 1);
	cJSON_AddBoolToObject(p, "preferCSSPageSize", 1);
	cJSON_AddStringToObject(p, "transferMode", "ReturnAsStream");
	cap_call(c, "Page.printToPDF", p, pdf_on_print);
}
