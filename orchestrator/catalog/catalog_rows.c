/*
 * catalog_rows.c — rows into C values for the catalog's entity files and
 * hooks_store.c (see catalog_int.h): the paging skeleton every list uses,
 * one-row gets, cursors, limits, columns, string lists.
 *
 *   catalog_jobs_list & co: cat_page_args (cat_limit + cat_id_cursor)
 *     -> cat_stmt (limit + 1) -> CAT_PAGE_LIST: cat_page_read (read each row
 *        into a grown array, stop at limit, write next_cursor if one more
 *        row came) -> list; *_list_free -> cat_list_free (each item cleared)
 *   an entity's row: its struct cat_col table -> cat_cols_read (column i
 *     into field i) / cat_cols_clear (its strings freed)
 *   catalog_job_get & co: cat_stmt -> cat_get (cat_row_one, "not found")
 */
#include "catalog_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================ pages ================================ */

sc_result cat_page_read(struct catalog *c, sqlite3_stmt *st,
			struct cat_page *p)
{
	size_t alloc = 0;
	int row = 1;
	sc_result rc;
	unsigned char *items = p->items;
	p->more = 0;
	if (p->next && p->nextlen)
		p->next[0] = '\0';
	while (!(rc = cat_step(c, st, &row)) && row) {
		if (p->limit && p->n == p->limit) {
			p->more = 1;
			if (p->cursor && p->n)
				p->cursor(items + (p->n - 1) * p->size, p->next,
					  p->nextlen);
			break;
		}
		items = cat_grow(items, &alloc, p->n, p->size);
		p->items = items;
		void *item = items + p->n++ * p->size;
		memset(item, 0, p->size);
		p->read(st, item);
	}
	if (!rc)
		cat_reset(st);
	return rc;
}

sc_result cat_row_one(struct catalog *c, sqlite3_stmt *st, size_t size,
		      cat_row_fn read, void **out)
{
	int row = 0;
	*out = NULL;
	sc_result rc = cat_step(c, st, &row);
	if (!rc && row) {
		*out = sc_xcalloc(1, size);
		read(st, *out);
	}
	if (!rc)
		cat_reset(st);
	return rc ? rc : row ? SC_OK : SC_ERR_NOT_FOUND;
}

void cat_list_free(void *list, void *items, size_t n, size_t size,
		   cat_clear_fn clear)
{
	unsigned char *p = items;
	for (size_t i = 0; clear && p && i < n; i++)
		clear(p + i * size);
	free(items);
	free(list);
}

void cat_cursor_id(const void *last, char *buf, size_t len)
{
	/* a pointer to a struct is a pointer to its first member */
	snprintf(buf, len, "%" PRId64, *(const int64_t *)last);
}

sc_result cat_limit(struct catalog *c, int limit, int *out)
{
	if (limit == 0)
		limit = CATALOG_LIST_DEFAULT;
	if (limit < 1 || limit > CATALOG_LIST_MAX)
		return cat_errf(c, SC_ERR_INVALID, "limit must be 1..%d",
				CATALOG_LIST_MAX);
	*out = limit;
	return SC_OK;
}

int cat_parse_i64(const char *s, const char *end, int64_t *out)
{
	if (s == end || *s < '0' || *s > '9' || end - s > 19)
		return -1;
	char buf[24];
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	char *e;
	errno = 0;
	long long v = strtoll(buf, &e, 10);
	if (errno || *e)
		return -1;
	*out = v;
	return 0;
}

sc_result cat_id_cursor(struct catalog *c, const char *cur, int64_t *id)
{
	*id = INT64_MAX;
	if (!cur || !*cur)
		return SC_OK;
	if (cat_parse_i64(cur, cur + strlen(cur), id) || *id < 1)
		return cat_errf(c, SC_ERR_INVALID, "bad cursor");
	return SC_OK;
}

sc_result cat_page_args(struct catalog *c, int *limit, const char *cursor,
			int64_t *before)
{
	sc_result rc = cat_limit(c, *limit, limit);
	return rc ? rc : cat_id_cursor(c, cursor, before);
}

sc_result cat_get(struct catalog *c, sc_result rc, sqlite3_stmt *st,
		  size_t size, cat_row_fn read, void **out, const char *what,
		  int64_t id)
{
	*out = NULL;
	if (!rc)
		rc = cat_row_one(c, st, size, read, out);
	if (rc == SC_ERR_NOT_FOUND)
		cat_errf(c, rc, "%s %" PRId64 " not found", what, id);
	return rc;
}

/* =============================== columns =============================== */

char *cat_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? sc_xstrdup((const char *)s) : NULL;
}

int cat_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int cat_col_enum(sqlite3_stmt *st, int i, const char *const *names, size_t n)
{
	int v = cat_lookup(names, n, (const char *)sqlite3_column_text(st, i));
	return v < 0 ? 0 : v;
}

size_t cat_caplen(const char *s, size_t cap)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, cap + 1);
	if (n <= cap)
		return n;
	n = cap;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void *cat_grow(void *items, size_t *alloc, size_t n, size_t sz)
{
	if (n < *alloc)
		return items;
	*alloc = *alloc ? *alloc * 2 : 16;
	return sc_xrealloc(items, *alloc * sz);
}

/* ============================ column tables ============================ */

void cat_cols_read(sqlite3_stmt *st, void *item, const struct cat_col *cols,
		   size_t n)
{
	unsigned char *base = item;
	for (size_t i = 0; i < n; i++) {
		void *f = base + cols[i].off;
		int k = (int)i;
		switch (cols[i].kind) {
		case CAT_I64: *(int64_t *)f = sqlite3_column_int64(st, k); break;
		case CAT_INT: *(int *)f = sqlite3_column_int(st, k); break;
		case CAT_STR: *(char **)f = cat_col_str(st, k); break;
		case CAT_DBL: *(double *)f = sqlite3_column_double(st, k); break;
		default: break;
		}
	}
}

void cat_cols_clear(void *item, const struct cat_col *cols, size_t n)
{
	unsigned char *base = item;
	for (size_t i = 0; i < n; i++) {
		if (cols[i].kind != CAT_STR)
			continue;
		char **f = (char **)(void *)(base + cols[i].off);
		free(*f);
		*f = NULL;
	}
}

/* ============================= string lists ============================ */

static void cat_str_clear(void *item)
{
	free(*(char **)item);
}

void catalog_strv_free(struct catalog_strv **sv)
{
	if (sv && *sv)
		cat_list_free(*sv, (*sv)->v, (*sv)->n, sizeof(*(*sv)->v),
			      cat_str_clear);
	if (sv)
		*sv = NULL;
}

void cat_strv_add(struct catalog_strv *sv, size_t *alloc,
		  const unsigned char *s)
{
	if (!s || !*s)
		return;
	sv->v = cat_grow(sv->v, alloc, sv->n, sizeof(*sv->v));
	sv->v[sv->n++] = sc_xstrdup((const char *)s);
}
