/*
 * mhtml.h — a snapshot's MHTML as a browsable page: its parts found, decoded
 * and, for HTML and CSS, every URL that names another part rewritten to a
 * snapshot-local URL. Pure: no catalog, no I/O, no global state;
 * thread-safe (each struct mhtml belongs to its caller).
 *
 *   GET /api/snapshots/{id}/page[/{n}] (http/api_page.c, a worker)
 *     -> page.mhtml read whole (capped, MHTML_FILE_MAX) -> mhtml_parse
 *     -> mhtml_render(part n, prefix) -> the part's bytes, its type
 *
 * What Chromium writes (Page.captureSnapshot, see capture/capture_shot.c):
 * multipart/related with a boundary="..." parameter on a folded
 * Content-Type line; each part has Content-Type, Content-Transfer-Encoding
 * (quoted-printable for text, base64 for the rest), Content-Location (the
 * resource's absolute URL, or cid:... for generated style sheets) and, for
 * frames, Content-ID <...> (the HTML's iframes say src="cid:..."). The first
 * part is the main frame's HTML. URLs in the HTML are mostly absolute, with
 * '&' as "&amp;"; style attributes and <style> keep the page's own relative
 * url()s, resolved here against the part's Content-Location.
 *
 * Rewriting: in HTML, the values of src, href, poster, background and data
 * attributes, and every url(...) and @import "..." in HTML and CSS; a URL
 * that names a part becomes PREFIX/<n>[SUFFIX][#fragment]; any other URL
 * stays as it was (the page's CSP blocks its load; a link stays a link).
 * Hostile input: bounded parts (MHTML_PARTS_MAX), every length checked; a
 * file that is not multipart MHTML is SC_ERR_PROTOCOL.
 */
#ifndef IO_MHTML_H
#define IO_MHTML_H

#include <stddef.h>

#include "sc.h"

#define MHTML_FILE_MAX (256u << 20) /* bytes of page.mhtml read */
#define MHTML_PARTS_MAX 10000

struct mhtml;

/* Parse buf (len bytes; the caller keeps it alive and unchanged while *out
 * lives). SC_ERR_PROTOCOL (not MHTML, no boundary, no part),
 * SC_ERR_TOO_LARGE (over MHTML_PARTS_MAX parts). Free with mhtml_free. */
sc_result mhtml_parse(const char *buf, size_t len, struct mhtml **out)
	SC_MUST_CHECK;
void mhtml_free(struct mhtml **m);

/* How many parts; the type of part i ("application/octet-stream" if it has
 * none; a pointer into a static or m: valid while m lives). */
int mhtml_count(const struct mhtml *m);
const char *mhtml_type(const struct mhtml *m, int i);

/* Part i decoded into out (appended; out's cap applies: SC_ERR_TOO_LARGE);
 * HTML and CSS rewritten: a URL naming part n becomes prefix, n, suffix
 * (suffix: e.g. "?token=..." or ""). SC_ERR_NOT_FOUND for no such part,
 * SC_ERR_PROTOCOL for base64 that does not decode. */
sc_result mhtml_render(const struct mhtml *m, int i, const char *prefix,
		       const char *suffix, struct sc_buf *out) SC_MUST_CHECK;

#endif
