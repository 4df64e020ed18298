/*
 * output.h — turn a capture's payloads into files, on a worker thread.
 *
 *   capture_result.tiles (base64 PNG) -> decode in place -> one tile: write
 *       Chromium's bytes as they are; several: imgjoin_write (their deflate
 *       streams joined; img_stitch, decoded and encoded again, when they
 *       cannot be) -> PNG file
 *   PNG -> img_thumbnail (top of the page, 400 px wide) -> thumbnail file
 *   capture_result.mhtml -> MHTML file [-> mhtml_index(path, bytes): the
 *       browsable copy's index beside it, given by a layer above]
 *   capture_result.pdf -> PDF file (with opts.pdf; pdf_over: too large)
 * Every file goes through store_* (temp + fsync + rename): a crash leaves the
 * old state or the new one. Each output succeeds or fails on its own: a
 * failed thumbnail never discards the PNG.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdint.h>

#include "capture.h"

struct output_paths {
	const char *png, *mhtml, *thumb, *pdf; /* NULL: do not write that
						  output */
	int thumb_w, thumb_h;            /* 0: 400 x 250 */
	uint64_t max_bytes;              /* per file; 0: no limit. A PNG or
					    MHTML or PDF over it is not
					    written and
					    its rc is SC_ERR_TOO_LARGE */
	/* After the MHTML is written, with its bytes (NULL: nothing); a
	 * failure is logged, never the MHTML's: the index can be built later */
	sc_result (*mhtml_index)(const char *path, const char *data,
				 size_t len, uint64_t max, char *err,
				 size_t errlen);
};

struct output_file {
	sc_result rc;     /* SC_OK, or why this output is missing */
	char err[256];    /* message when rc != SC_OK */
	uint64_t bytes;
	int written;      /* 1 if the file exists now */
};

struct output_report {
	struct output_file png, mhtml, thumb, pdf;
	uint32_t png_w, png_h; /* pixels */
	int64_t ms;
};

/*
 * Write the outputs of r (which must have no error other than http_status).
 * Blocking: call on a worker. Frees r's payloads (tiles, mhtml, pdf) as it goes so
 * that memory is returned early; the rest of r is left to the caller.
 */
void output_write(struct capture_result *r, const struct output_paths *p,
		  struct output_report *rep);

/* The error class of a failed output: "too_large" (over max_bytes), "io"
 * (disk full, permissions...) or "internal" (bad data from the browser). */
const char *output_error_class(const struct output_file *f);

/* The outputs of r cannot be written at all (e.g. its directory could not
 * be made): mark each one failed with rc and why, and free the payloads. */
void output_discard(struct capture_result *r, sc_result rc, const char *why,
		    struct output_report *rep);

#endif
