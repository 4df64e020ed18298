/*
 * io_import.h — the import parsers: the bytes of a bookmark file in, a list
 * of links to add plus the records that cannot be, each with its reason.
 * Pure: no catalog, no I/O, no global state; thread-safe.
 *
 *   POST /api/import (body) -> io_import_parse -> items[] + rejects[]
 *        -> io_run.c: batches of catalog_link_add + tags (+ jobs)
 *   snapcat import FILE -> the same endpoint
 *
 * Formats (IO_FMT_AUTO picks one from the first bytes, see io_detect):
 *   html  Netscape bookmark file as Chrome, Firefox, Edge and Safari export
 *         it: <DT><H3>Folder</H3><DL><p> ... </DL><p> nesting and
 *         <DT><A HREF="..." ADD_DATE="secs" TAGS="a,b">Title</A>. Every
 *         enclosing folder's name is a tag (the browsers' own roots, marked
 *         PERSONAL_TOOLBAR_FOLDER or UNFILED_BOOKMARKS_FOLDER, are not), so
 *         are Firefox's TAGS; ADD_DATE becomes add_date. Entities decoded.
 *   csv   RFC 4180: a header row naming the columns (url required; title,
 *         tags optional; any order, any case; unknown columns ignored),
 *         quoted fields with "" escapes and line breaks; tags separated
 *         by ';' or '|'.
 *   urls  one URL per line; blank lines and lines starting with '#' are
 *         skipped; text after the URL (a space, then anything) is its title.
 *   json  snapcat's own export ({"links":[{url,title,tags,created_at}]}) or
 *         a bare array of such objects; created_at (ISO 8601 or ms) becomes
 *         add_date. "line" is then the object's position in the list.
 *
 * Every URL goes through url_normalize and every tag through
 * catalog_tag_normalize (names over CATALOG_TAG_MAX characters are cut).
 * A URL seen earlier in the same file is rejected as "duplicate" and its
 * tags are merged into the first occurrence (a bookmark filed in two
 * folders gets both tags). Titles are cut at CATALOG_TITLE_MAX bytes and
 * invalid UTF-8 in them becomes '?'.
 *
 * Order: if every item has an add_date, items are sorted oldest first
 * (stable), so that the catalog, which lists newest first, shows them in the
 * browser's order; otherwise they stay in file order.
 */
#ifndef IO_IMPORT_H
#define IO_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

/* Most records one file may hold (items + rejects). */
#define IO_IMPORT_MAX_RECORDS 1000000
/* Bytes of the offending text kept in a reject. */
#define IO_REJECT_TEXT_MAX 200

enum io_format {
	IO_FMT_AUTO = 0,
	IO_FMT_HTML,
	IO_FMT_CSV,
	IO_FMT_URLS,
	IO_FMT_JSON,
};

/* "auto", "html", "csv", "urls", "json". Static. */
const char *io_format_name(enum io_format f);
/* Parse a format name (exact, lowercase). SC_ERR_INVALID if unknown. */
sc_result io_format_parse(const char *s, enum io_format *out) SC_MUST_CHECK;
/* The format of data as IO_FMT_AUTO would pick it (never AUTO). */
enum io_format io_detect(const char *data, size_t len);

/* One link to add. */
struct io_item {
	int line;          /* 1-based line of the record (json: position) */
	char *url;         /* normalized (url_normalize) */
	char *title;       /* NULL: none */
	char **tags;       /* normalized, no duplicates, at most
			      CATALOG_TAGS_MAX */
	size_t ntags;
	int64_t add_date;  /* ms since the epoch; 0 = unknown (the import's
			      order, and when it was bookmarked) */
	int64_t bookmarked_at; /* ms: when bookmarked, if not add_date (a
				  snapcat JSON export's bookmarked_at) */
};

/* One record that is not imported. */
struct io_reject {
	int line;
	const char *code;  /* static: "invalid_url", "unsupported_scheme",
			      "too_long", "duplicate", "missing_url",
			      "malformed" */
	char *text;        /* the record's URL or text, cut at
			      IO_REJECT_TEXT_MAX bytes, invalid UTF-8 as '?' */
	char *reason;      /* one sentence for a person */
};

struct io_import {
	enum io_format format; /* the one parsed (detected for AUTO) */
	struct io_item *items;
	size_t nitems;
	struct io_reject *rejects; /* in file order */
	size_t nrejects;
};

/*
 * Parse len bytes of data (need not be NUL-terminated) as fmt. On SC_OK
 * *out holds the result (free with io_import_free), possibly with no
 * items. On error *out is NULL and err (if errlen > 0) says why:
 * SC_ERR_INVALID when the whole file is unusable (JSON that does not
 * parse or has no link list, CSV without a url column, a NUL byte
 * anywhere or a \u0000 in a JSON string: either would cut a URL short),
 * SC_ERR_TOO_LARGE over IO_IMPORT_MAX_RECORDS records.
 */
sc_result io_import_parse(const char *data, size_t len, enum io_format fmt,
			  struct io_import **out, char *err, size_t errlen)
	SC_MUST_CHECK;

/* Free the items and every reject after the first keep_rejects (the counts
 * nitems/nrejects are kept; items becomes NULL): what a finished import's
 * report still needs. */
void io_import_shrink(struct io_import *r, size_t keep_rejects);

/* Free a result and everything in it. NULL-safe; *p = NULL. */
void io_import_free(struct io_import **p);

#endif
