/*
 * mhtml_idx.h — the index of a snapshot's MHTML, written once beside it
 * (page.mhtml.idx), so that the browsable copy reads the index and only
 * the bytes of the one part it serves instead of parsing the whole file
 * on every request.
 *
 *   capture (worker, output.c through output_paths.mhtml_index):
 *     page.mhtml bytes -> mhtml_parse -> index text -> page.mhtml.idx
 *     (store_write_file: temp + fsync + rename; capped like an output)
 *   GET …/page[/n] (http/api_page.c, a worker): mhtml_idx_open
 *     -> page.mhtml.idx read and checked against page.mhtml (size, mtime,
 *     version, checksum, every part inside the file); missing or damaged:
 *     page.mhtml parsed once more and the index written again
 *     -> mhtml_idx_render(n): part n's bytes read (pread) and decoded; HTML
 *     and CSS rewritten (mhtml_render) with the other parts' locations
 *     taken from the index
 *
 * The index format, version 1 (text; lengths, never delimiters, bound the
 * strings, so a location may hold any byte but a line break):
 *   "snapcat-mhtml-index 1 SIZE MTIME_S MTIME_NS NPARTS MAIN\n"
 *   per part "OFF LEN ENC TLEN LLEN CLEN\n" TYPE LOCATION CONTENT-ID "\n"
 *     (ENC: b base64, q quoted-printable, - none; OFF, LEN: the part's
 *     body in page.mhtml)
 *   "end FNV1A64\n" (16 hex digits: the FNV-1a hash of all bytes before)
 * MAIN is the first text/html part (the page; Chromium writes it first).
 */
#ifndef IO_MHTML_IDX_H
#define IO_MHTML_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

#define MHTML_IDX_MAX (64u << 20) /* bytes of an index read or written */

struct mhtml_idx;

/* Index data (len bytes, the content just written to path, an MHTML) into
 * path".idx", atomically. max: the outputs' byte cap (0: MHTML_IDX_MAX).
 * SC_ERR_TOO_LARGE over the cap (nothing written), SC_ERR_PROTOCOL for a
 * file that is not MHTML, SC_ERR_IO (err says why). Blocking. */
sc_result mhtml_idx_write(const char *path, const char *data, size_t len,
			  uint64_t max, char *err, size_t errlen) SC_MUST_CHECK;

/* The index of the MHTML at path, checked against it; built (and stored,
 * when it can be) if missing or damaged: *built is then 1. The MHTML stays
 * open in *out (its parts are read from that file). SC_ERR_NOT_FOUND (no
 * MHTML), SC_ERR_TOO_LARGE, SC_ERR_PROTOCOL (not MHTML). Blocking. */
sc_result mhtml_idx_open(const char *path, struct mhtml_idx **out,
			 int *built) SC_MUST_CHECK;
void mhtml_idx_free(struct mhtml_idx **x);

int mhtml_idx_count(const struct mhtml_idx *x);
int mhtml_idx_main(const struct mhtml_idx *x);
const char *mhtml_idx_type(const struct mhtml_idx *x, int i);

/* Part i as mhtml_render gives it (mhtml.h), its bytes read from the file.
 * SC_ERR_NOT_FOUND (no such part), SC_ERR_IO (short read),
 * SC_ERR_PROTOCOL (bad base64). */
sc_result mhtml_idx_render(struct mhtml_idx *x, int i, const char *prefix,
			   const char *suffix, struct sc_buf *out)
	SC_MUST_CHECK;

#endif
