/*
 * fuzz_import.c — libFuzzer target for orchestrator/io/io_import.c, the
 * parsers of the files users import (bookmark HTML, CSV, URL lists, JSON).
 *
 *   tests/fuzz/run-fuzzers 60 import     (clang, libFuzzer + ASan/UBSan)
 *   ctest -R fuzz.import                 (replays corpus_import/ under gcc)
 *
 * Seeds: corpus_import/ and the bookmark exports of tests/fixtures/import/
 * (both replayed by ctest, both read by run-fuzzers). A fixture's first
 * byte, '<', is read as the format byte (AUTO), and its HTML is found by
 * io_detect all the same.
 *
 * The first byte picks the format (0-4 mod 5: auto, html, csv, urls,
 * json); the rest is the file. Properties checked on every input (abort()
 * on violation):
 *   - the result is SC_OK, or SC_ERR_INVALID / SC_ERR_TOO_LARGE with a
 *     message and no result;
 *   - AUTO resolves to a concrete format;
 *   - every item's URL normalizes to itself (url_normalize is idempotent,
 *     so it is a canonical http(s) URL), URLs are unique, tags are
 *     normalized, unique (case-insensitively) and at most CATALOG_TAGS_MAX,
 *     titles are non-empty, valid UTF-8 without control characters and at
 *     most CATALOG_TITLE_MAX bytes;
 *   - every reject has a known code, a reason and text within
 *     IO_REJECT_TEXT_MAX bytes; lines are >= 1;
 *   - io_import_shrink then io_import_free leak nothing (ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "io_import.h"
#include "url.h"

#define FUZZ_NAME "fuzz_import"
#include "fuzz.h"

static int fuzz_clean_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static void fuzz_check_item(const struct io_item *it)
{
	static char norm[URL_BUF_SIZE];
	char err[300], tag[CATALOG_TAG_BUF];
	FUZZ_ASSERT(it->line >= 1);
	FUZZ_ASSERT(url_normalize(it->url, norm, sizeof(norm), err, sizeof(err)) == SC_OK);
	FUZZ_ASSERT(!strcmp(norm, it->url));
	FUZZ_ASSERT(it->ntags <= CATALOG_TAGS_MAX);
	for (size_t i = 0; i < it->ntags; i++) {
		FUZZ_ASSERT(catalog_tag_normalize(it->tags[i], tag, sizeof(tag)) == SC_OK);
		FUZZ_ASSERT(!strcmp(tag, it->tags[i]));
		for (size_t k = 0; k < i; k++)
			FUZZ_ASSERT(strcasecmp(it->tags[k], it->tags[i]));
	}
	if (it->title) {
		FUZZ_ASSERT(*it->title && strlen(it->title) <= CATALOG_TITLE_MAX);
		FUZZ_ASSERT(fuzz_clean_text(it->title));
	}
}

static void fuzz_check_reject(const struct io_reject *r)
{
	static const char *const codes[] = {"invalid_url", "unsupported_scheme",
		"too_long", "duplicate", "missing_url", "malformed"};
	int known = 0;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		known |= !strcmp(r->code, codes[i]);
	FUZZ_ASSERT(known);
	FUZZ_ASSERT(r->line >= 1 && r->reason && *r->reason);
	FUZZ_ASSERT(!r->text || strlen(r->text) <= IO_REJECT_TEXT_MAX);
	FUZZ_ASSERT(!r->text || fuzz_clean_text(r->text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum io_format f = (enum io_format)(data[0] % 5);
	struct io_import *r = NULL;
	char err[300] = "";
	sc_result rc = io_import_parse((const char *)data + 1, size - 1, f, &r,
				       err, sizeof(err));
	if (rc) {
		FUZZ_ASSERT(rc == SC_ERR_INVALID || rc == SC_ERR_TOO_LARGE);
		FUZZ_ASSERT(!r && err[0]);
		return 0;
	}
	FUZZ_ASSERT(r && r->format != IO_FMT_AUTO);
	FUZZ_ASSERT(f == IO_FMT_AUTO || r->format == f);
	for (size_t i = 0; i < r->nitems; i++) {
		fuzz_check_item(&r->items[i]);
		for (size_t k = 0; k < i && r->nitems < 64; k++)
			FUZZ_ASSERT(strcmp(r->items[k].url, r->items[i].url));
	}
	for (size_t i = 0; i < r->nrejects; i++)
		fuzz_check_reject(&r->rejects[i]);
	io_import_shrink(r, 2);
	io_import_free(&r);
	return 0;
}
