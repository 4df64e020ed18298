/*
 * output.c — capture payloads to files (see output.h). Runs on a worker.
 */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"
#include "imgjoin.h"
#include "store.h"

static void out_set(struct output_file *f, sc_result rc, const char *what,
		    const char *detail)
{
	f->rc = rc;
	if (rc)
		snprintf(f->err, sizeof(f->err), "%s: %s", what,
			 detail && *detail ? detail : sc_strerror(rc));
}

/* Decode every tile's base64 in place; they become PNG bytes. */
static sc_result out_decode_tiles(struct capture_result *r)
{
	for (size_t i = 0; i < r->ntiles; i++) {
		size_t n;
		if (sc_base64_decode_inplace(r->tiles[i].data, r->tiles[i].len,
					     &n))
			return SC_ERR_PROTOCOL;
		r->tiles[i].len = n;
	}
	return SC_OK;
}

/* SC_ERR_TOO_LARGE (and err says so) if n bytes are over max (0: none). */
static sc_result out_limit(uint64_t n, uint64_t max, char *err, size_t errlen)
{
	if (!max || n <= max)
		return SC_OK;
	int mib = max >= (1u << 20);
	double unit = mib ? 1048576.0 : 1024.0;
	snprintf(err, errlen, "%.1f %s, over the limit of %.1f %s (--max-file)",
		 (double)n / unit, mib ? "MiB" : "KiB", (double)max / unit,
		 mib ? "MiB" : "KiB");
	return SC_ERR_TOO_LARGE;
}

/* libpng failed to write (SC_ERR_IO, errno set): the OS's reason, not
 * libpng's "write error", is what the job's error should say. */
static void out_io_reason(sc_result rc, const char *path, char *err,
			  size_t errlen)
{
	if (rc == SC_ERR_IO && !err[0])
		snprintf(err, errlen, "write %s: %s", path,
			 strerror(errno ? errno : EIO));
}

/* Join the tiles into a temp file (imgjoin.h: at the compression level,
 * or decoded and encoded again); commit it only if within max. */
static sc_result out_join(struct capture_result *r, const struct img_tile *t,
			  const char *path, uint64_t max, char *err,
			  size_t errlen)
{
	uint32_t crop = (uint32_t)(r->css_height * r->scale + 0.5);
	struct store_file *f = NULL;
	struct imgjoin_info info;
	sc_result rc = store_open(path, &f, err, errlen);
	if (rc)
		return rc;
	rc = imgjoin_write(t, r->ntiles, crop, 1, store_fp(f), &info);
	out_io_reason(rc, path, err, errlen);
	if (!rc) {
		sc_log(SC_LOG_DEBUG, "output", "%zu tiles %s (%zu first rows "
		       "re-encoded, %llu bytes)%s%s", info.tiles,
		       info.stitched ? "stitched" : "joined", info.refiltered,
		       (unsigned long long)info.reencoded,
		       info.why[0] ? ": " : "", info.why);
		long n = ftell(store_fp(f));
		rc = out_limit(n > 0 ? (uint64_t)n : 0, max, err, errlen);
	}
	if (!rc)
		return store_commit(&f, err, errlen);
	store_abort(&f);
	return rc;
}

static sc_result out_write_png(struct capture_result *r, const char *path,
			       uint64_t max, char *err, size_t errlen)
{
	sc_result rc;
	if (r->ntiles == 1) {
		rc = out_limit(r->tiles[0].len, max, err, errlen);
		return rc ? rc : store_write_file(path, r->tiles[0].data,
						  r->tiles[0].len, err, errlen);
	}
	struct img_tile *t = sc_xcalloc(r->ntiles, sizeof(*t));
	for (size_t i = 0; i < r->ntiles; i++) {
		t[i].png = r->tiles[i].data;
		t[i].len = r->tiles[i].len;
	}
	rc = out_join(r, t, path, max, err, errlen);
	free(t);
	return rc;
}

static sc_result out_write_thumb(const struct output_paths *p,
				 const struct capture_result *r,
				 char *err, size_t errlen)
{
	int w = p->thumb_w > 0 ? p->thumb_w : 400;
	int h = p->thumb_h > 0 ? p->thumb_h : 250;
	struct store_file *f = NULL;
	sc_result rc = store_open(p->thumb, &f, err, errlen);
	if (rc)
		return rc;
	/* the top tile holds the top of the page */
	rc = img_thumbnail(r->tiles[0].data, r->tiles[0].len, (uint32_t)w,
			   (uint32_t)h, store_fp(f));
	if (rc) {
		out_io_reason(rc, p->thumb, err, errlen);
		store_abort(&f);
		return rc;
	}
	return store_commit(&f, err, errlen);
}

static void out_png(struct capture_result *r, const struct output_paths *p,
		    struct output_report *rep)
{
	char err[256] = "";
	sc_result rc = r->ntiles ? out_decode_tiles(r) : SC_ERR_NOT_FOUND;
	if (rc) {
		out_set(&rep->png, rc, "screenshot", "no valid PNG data");
		out_set(&rep->thumb, rc, "thumbnail", "no screenshot");
		return;
	}
	rep->png_w = 0;
	if (img_info_mem(r->tiles[0].data, r->tiles[0].len, &rep->png_w,
			 &rep->png_h) == SC_OK && r->ntiles > 1)
		rep->png_h = (uint32_t)(r->css_height * r->scale + 0.5);
	if (p->png) {
		rc = out_write_png(r, p->png, p->max_bytes, err, sizeof(err));
		out_set(&rep->png, rc, "png", err);
		rep->png.written = rc == SC_OK;
		rep->png.bytes = rc ? 0 : store_file_size(p->png);
	}
	if (p->thumb) {
		err[0] = '\0';
		rc = out_write_thumb(p, r, err, sizeof(err));
		out_set(&rep->thumb, rc, "thumbnail", err);
		rep->thumb.written = rc == SC_OK;
		rep->thumb.bytes = rc ? 0 : store_file_size(p->thumb);
	}
}

static void out_free_tiles(struct capture_result *r)
{
	for (size_t i = 0; i < r->ntiles; i++)
		free(r->tiles[i].mem);
	free(r->tiles);
	r->tiles = NULL;
	r->ntiles = 0;
}

static void out_mhtml(struct capture_result *r, const struct output_paths *p,
		      struct output_report *rep)
{
	char err[256] = "";
	if (!p->mhtml)
		return;
	if (!r->mhtml.data) {
		out_set(&rep->mhtml, SC_ERR_NOT_FOUND, "mhtml", "not captured");
		return;
	}
	sc_result rc = out_limit(r->mhtml.len, p->max_bytes, err, sizeof(err));
	if (!rc)
		rc = store_write_file(p->mhtml, r->mhtml.data, r->mhtml.len,
				      err, sizeof(err));
	out_set(&rep->mhtml, rc, "mhtml", err);
	if (!rc && p->mhtml_index) {
		err[0] = '\0';
		if (p->mhtml_index(p->mhtml, r->mhtml.data, r->mhtml.len,
				   p->max_bytes, err, sizeof(err)))
			sc_log(SC_LOG_WARN, "output", "%s (the copy builds it "
			       "when first asked)", err);
	}
	rep->mhtml.written = rc == SC_OK;
	rep->mhtml.bytes = rc ? 0 : r->mhtml.len;
}

static void out_pdf(struct capture_result *r, const struct output_paths *p,
		    struct output_report *rep)
{
	char err[256] = "";
	if (!p->pdf)
		return;
	sc_result rc = SC_OK;
	if (r->pdf_over)
		rc = out_limit(r->pdf_over, p->max_bytes ? p->max_bytes
							 : r->pdf_over - 1,
			       err, sizeof(err));
	else if (r->pdf_err[0] || !r->pdf.data)
		out_set(&rep->pdf, rc = SC_ERR_NOT_FOUND, "pdf",
			r->pdf_err[0] ? r->pdf_err : "not captured");
	else if (!(rc = out_limit(r->pdf.len, p->max_bytes, err, sizeof(err))))
		rc = store_write_file(p->pdf, r->pdf.data, r->pdf.len, err,
				      sizeof(err));
	if (rc != SC_ERR_NOT_FOUND)
		out_set(&rep->pdf, rc, "pdf", err);
	rep->pdf.written = rc == SC_OK;
	rep->pdf.bytes = rc ? 0 : r->pdf.len;
}

static void out_free_pdf(struct capture_result *r)
{
	free(r->pdf.mem);
	memset(&r->pdf, 0, sizeof(r->pdf));
}

void output_write(struct capture_result *r, const struct output_paths *p,
		  struct output_report *rep)
{
	int64_t t0 = sc_now_ms();
	memset(rep, 0, sizeof(*rep));
	out_png(r, p, rep);
	out_free_tiles(r);
	out_mhtml(r, p, rep);
	free(r->mhtml.mem);
	memset(&r->mhtml, 0, sizeof(r->mhtml));
	out_pdf(r, p, rep);
	out_free_pdf(r);
	rep->ms = sc_now_ms() - t0;
	r->t.write = rep->ms;
}

void output_discard(struct capture_result *r, sc_result rc, const char *why,
		    struct output_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	out_set(&rep->png, rc, "png", why);
	out_set(&rep->mhtml, rc, "mhtml", why);
	out_set(&rep->thumb, rc, "thumbnail", why);
	out_set(&rep->pdf, rc, "pdf", why);
	out_free_tiles(r);
	out_free_pdf(r);
	free(r->mhtml.mem);
	memset(&r->mhtml, 0, sizeof(r->mhtml));
}

const char *output_error_class(const struct output_file *f)
{
	return f->rc == SC_ERR_TOO_LARGE ? "too_large"
	       : f->rc == SC_ERR_IO      ? "io"
					 : "internal";
}
