/*
 * catalog_verify.c — the catalog file's soundness: a bounded check for every
 * start and a full one for the background (see catalog_verify.h).
 */
#include "catalog_verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define CV_TABLES_MAX 64
#define CV_PROBES_PER_TABLE 32
#define CV_HEADER 100

/* What the file's first page and size say. */
struct cv_file {
	int64_t bytes, wal_bytes;
	uint32_t page_size, usable, header_pages, trunk, free_pages;
	int header_valid; /* the in-header page count is meant to be used */
};

struct cv_table {
	char name[128];
	int rowid;          /* 0: WITHOUT ROWID (no random probes) */
	int64_t lo, hi;     /* its rowids */
	int probes;
};

struct cv_sample {
	sqlite3 *db;
	struct cv_table t[CV_TABLES_MAX];
	int n;
	int64_t page_count, deadline;
	uint64_t rng;
	int probes;
	char *err;
	size_t errlen;
};

static uint32_t cv_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

SC_PRINTF(3, 4)
static sc_result cv_damaged(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SC_ERR_DB;
}

/* ---- the header, read from the file ---- */

static sc_result cv_read_at(int fd, void *buf, size_t n, off_t at)
{
	ssize_t r = pread(fd, buf, n, at);
	return r == (ssize_t)n ? SC_OK : SC_ERR_IO;
}

/* Page size and the fields of the 100-byte header that must hold. */
static sc_result cv_header_fields(const unsigned char *h, struct cv_file *f,
				  char *err, size_t errlen)
{
	if (memcmp(h, "SQLite format 3", 16))
		return cv_damaged(err, errlen, "its first page is not an SQLite "
				  "header");
	uint32_t ps = (uint32_t)h[16] << 8 | h[17];
	f->page_size = ps == 1 ? 65536 : ps;
	if (f->page_size < 512 || f->page_size > 65536 ||
	    (f->page_size & (f->page_size - 1)))
		return cv_damaged(err, errlen, "its header has a bad page size "
				  "(%u)", f->page_size);
	if (h[21] != 64 || h[22] != 32 || h[23] != 32 ||
	    f->page_size - h[20] < 480)
		return cv_damaged(err, errlen, "its header is damaged (payload "
				  "fractions or reserved space)");
	f->usable = f->page_size - h[20];
	f->header_pages = cv_be32(h + 28);
	f->header_valid = f->header_pages && !memcmp(h + 24, h + 92, 4);
	f->trunk = cv_be32(h + 32);
	f->free_pages = cv_be32(h + 36);
	return SC_OK;
}

/* The first freelist trunk page: its next pointer and leaves in range. */
static sc_result cv_trunk(int fd, const struct cv_file *f, uint32_t pages,
			  char *err, size_t errlen)
{
	unsigned char *p = sc_xmalloc(f->page_size);
	sc_result rc = cv_read_at(fd, p, f->page_size,
				  (off_t)(f->trunk - 1) * f->page_size);
	uint32_t next = rc ? 0 : cv_be32(p), n = rc ? 0 : cv_be32(p + 4);
	if (!rc && (next > pages || n > f->usable / 4 - 2))
		rc = cv_damaged(err, errlen, "its freelist trunk page %u is "
				"damaged", f->trunk);
	for (uint32_t i = 0; !rc && i < n; i++) {
		uint32_t leaf = cv_be32(p + 8 + 4 * i);
		if (!leaf || leaf > pages)
			rc = cv_damaged(err, errlen, "its freelist names page %u "
					"of %u", leaf, pages);
	}
	free(p);
	return rc;
}

/* Page count against the file's size, and the freelist; strict only when
 * no WAL holds newer pages (after a clean stop the file is all there is). */
static sc_result cv_sizes(int fd, const struct cv_file *f, char *err,
			  size_t errlen)
{
	uint32_t pages = (uint32_t)(f->bytes / f->page_size);
	if (f->wal_bytes > 32)
		return SC_OK; /* the WAL may extend or replace any page */
	if (f->bytes % f->page_size)
		return cv_damaged(err, errlen, "it is %lld bytes, not a whole "
				  "number of %u-byte pages", (long long)f->bytes,
				  f->page_size);
	if (f->header_valid && f->header_pages != pages)
		return cv_damaged(err, errlen, "its header says %u pages but "
				  "the file has %u (truncated or extended)",
				  f->header_pages, pages);
	if (f->trunk > pages || f->free_pages >= pages)
		return cv_damaged(err, errlen, "its freelist (page %u, %u "
				  "pages) does not fit in its %u pages", f->trunk,
				  f->free_pages, pages);
	return f->trunk ? cv_trunk(fd, f, pages, err, errlen) : SC_OK;
}

static sc_result cv_file_check(const char *path, struct cv_file *f, char *err,
			       size_t errlen)
{
	struct stat st;
	char wal[4200];
	unsigned char h[CV_HEADER];
	memset(f, 0, sizeof(*f));
	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? SC_OK : SC_ERR_IO;
	}
	f->bytes = st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f->wal_bytes = stat(wal, &st) ? 0 : st.st_size;
	if (!f->bytes)
		return SC_OK; /* a new, empty file */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return SC_ERR_IO;
	}
	sc_result rc = cv_read_at(fd, h, sizeof(h), 0);
	if (rc)
		rc = cv_damaged(err, errlen, "it is %lld bytes: too short for "
				"an SQLite header", (long long)f->bytes);
	if (!rc)
		rc = cv_header_fields(h, f, err, errlen);
	if (!rc)
		rc = cv_sizes(fd, f, err, errlen);
	close(fd);
	return rc;
}

/* ---- through SQLite ---- */

/* An SQLite error: damage (SC_ERR_DB, err says where) or not. */
static sc_result cv_sqlerr(sqlite3 *db, int r, const char *where, char *err,
			   size_t errlen)
{
	int p = r & 0xff;
	snprintf(err, errlen, "%s: %s", where, db ? sqlite3_errmsg(db)
						: sqlite3_errstr(r));
	if (p == SQLITE_CORRUPT || p == SQLITE_NOTADB)
		return SC_ERR_DB;
	return p == SQLITE_INTERRUPT ? SC_ERR_CANCELED : SC_ERR_IO;
}

static sc_result cv_open(const char *path, sqlite3 **db, char *err,
			 size_t errlen)
{
	int r = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE |
				SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
				NULL);
	if (r == SQLITE_OK) {
		sqlite3_busy_timeout(*db, 5000);
		r = sqlite3_exec(*db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	}
	return r == SQLITE_OK ? SC_OK : cv_sqlerr(*db, r, "open", err, errlen);
}

/* Run sql (one row of integers wanted in out[0..n)); SQLite's verdict. */
static sc_result cv_ints(sqlite3 *db, const char *sql, int64_t *out, int n,
			 const char *where, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			out[i] = sqlite3_column_int64(st, i);
		r = SQLITE_OK;
	} else if (r == SQLITE_DONE) {
		r = SQLITE_OK;
	}
	sc_result rc = r == SQLITE_OK ? SC_OK
				      : cv_sqlerr(db, r, where, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Every schema row: root pages in range; the tables to sample. */
static sc_result cv_schema(struct cv_sample *s)
{
	sqlite3_stmt *st = NULL;
	const char *sql = "SELECT type, name, rootpage, coalesce(sql, '') "
			  "FROM sqlite_schema";
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int64_t root = sqlite3_column_int64(st, 2);
		const char *def = (const char *)sqlite3_column_text(st, 3);
		r = SQLITE_OK;
		if (root > s->page_count || root < 0) {
			sqlite3_finalize(st);
			return cv_damaged(s->err, s->errlen, "the root page of %s "
					  "(%lld) is past its last page (%lld)",
					  name ? name : "?", (long long)root,
					  (long long)s->page_count);
		}
		if (!type || strcmp(type, "table") || root <= 0 || !name ||
		    s->n >= CV_TABLES_MAX || strlen(name) >= sizeof(s->t[0].name))
			continue;
		struct cv_table *t = &s->t[s->n++];
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->rowid = !def || !strstr(def, "WITHOUT ROWID");
	}
	sc_result rc = r == SQLITE_DONE ? SC_OK
		: cv_sqlerr(s->db, r, "reading the schema", s->err, s->errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Step sql (with ?1 = arg if it has a parameter) to its end, reading every
 * column: SQLite checks each page it passes. *first (may be NULL): the
 * first column of the last row. */
static sc_result cv_read(struct cv_sample *s, const char *sql, int64_t arg,
			 const char *table, int64_t *first)
{
	sqlite3_stmt *st = NULL;
	char where[160];
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK && sqlite3_bind_parameter_count(st))
		r = sqlite3_bind_int64(st, 1, arg);
	while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++)
			(void)sqlite3_column_bytes(st, i);
		if (first)
			*first = sqlite3_column_int64(st, 0);
		r = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (r == SQLITE_DONE)
		return SC_OK;
	snprintf(where, sizeof(where), "reading %s", table);
	return cv_sqlerr(s->db, r, where, s->err, s->errlen);
}

/* The first and last rows of a table (both edges of its b-tree; one
 * ORDER BY rowid seek each: min() and max() in one query would scan). */
static sc_result cv_edges(struct cv_sample *s, struct cv_table *t)
{
	char *q;
	sc_result rc;
	if (!t->rowid) {
		q = sqlite3_mprintf("SELECT * FROM \"%w\" LIMIT 1", t->name);
		rc = cv_read(s, q, 0, t->name, NULL);
		sqlite3_free(q);
		return rc;
	}
	q = sqlite3_mprintf("SELECT rowid, * FROM \"%w\" ORDER BY rowid "
			    "LIMIT 1", t->name);
	rc = cv_read(s, q, 0, t->name, &t->lo);
	sqlite3_free(q);
	q = sqlite3_mprintf("SELECT rowid, * FROM \"%w\" ORDER BY rowid DESC "
			    "LIMIT 1", t->name);
	if (!rc)
		rc = cv_read(s, q, 0, t->name, &t->hi);
	sqlite3_free(q);
	return rc;
}

static uint64_t cv_rand(struct cv_sample *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* Random rows of every rowid table, round robin, until each had its probes
 * or the time is up. */
static sc_result cv_probes(struct cv_sample *s)
{
	sc_result rc = SC_OK;
	for (int more = 1; !rc && more && sc_now_ms() < s->deadline;) {
		more = 0;
		for (int i = 0; !rc && i < s->n; i++) {
			struct cv_table *t = &s->t[i];
			if (!t->rowid || t->hi <= t->lo ||
			    t->probes >= CV_PROBES_PER_TABLE)
				continue;
			uint64_t span = (uint64_t)(t->hi - t->lo) + 1;
			int64_t at = t->lo + (int64_t)(cv_rand(s) % span);
			char *q = sqlite3_mprintf("SELECT * FROM \"%w\" WHERE "
						  "rowid >= ?1 LIMIT 1", t->name);
			rc = cv_read(s, q, at, t->name, NULL);
			sqlite3_free(q);
			t->probes++;
			s->probes++;
			more = 1;
		}
	}
	return rc;
}

/* PRAGMA quick_check(1) on db: "ok" or the first finding. */
static sc_result cv_quick_check(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	sc_result rc = SC_OK;
	if (r == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (!v || strcmp(v, "ok"))
			rc = cv_damaged(err, errlen, "quick_check: %s",
					v ? v : "?");
		for (char *p = rc ? err : NULL; p && *p; p++)
			if (*p == '\n')
				*p = ' '; /* one line for the log */
	} else {
		rc = cv_sqlerr(db, r, "quick_check", err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Schema, edges, probes (and quick_check for a small file), in one read
 * transaction. */
static sc_result cv_sample_run(struct cv_sample *s, int full)
{
	sc_result rc = cv_ints(s->db, "BEGIN", NULL, 0, "begin", s->err,
			       s->errlen);
	if (!rc)
		rc = cv_ints(s->db, "PRAGMA page_count", &s->page_count, 1,
			     "page count", s->err, s->errlen);
	if (!rc)
		rc = cv_schema(s);
	for (int i = 0; !rc && i < s->n; i++)
		rc = cv_edges(s, &s->t[i]);
	if (!rc)
		rc = cv_probes(s);
	if (!rc && full)
		rc = cv_quick_check(s->db, s->err, s->errlen);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

sc_result catalog_verify_quick(const char *path, int64_t full_max,
			       struct catalog_verify_report *rep, char *err,
			       size_t errlen)
{
	struct catalog_verify_report dummy;
	struct cv_file f;
	int64_t t0 = sc_now_ms();
	rep = rep ? rep : &dummy;
	memset(rep, 0, sizeof(*rep));
	sc_result rc = cv_file_check(path, &f, err, errlen);
	rep->bytes = f.bytes;
	if (rc || !f.bytes)
		return rc;
	struct cv_sample *s = sc_xcalloc(1, sizeof(*s));
	s->err = err;
	s->errlen = errlen;
	s->deadline = t0 + CATALOG_VERIFY_SAMPLE_MS;
	s->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b9u;
	rc = cv_open(path, &s->db, err, errlen);
	rep->full = f.bytes <= (full_max ? full_max : CATALOG_VERIFY_FULL_MAX);
	if (!rc)
		rc = cv_sample_run(s, rep->full);
	rep->tables = s->n;
	rep->probes = s->probes;
	sqlite3_close(s->db);
	free(s);
	rep->ms = sc_now_ms() - t0;
	return rc;
}

/* sqlite3_progress_handler: non-zero stops the statement. */
static int cv_stop(void *arg)
{
	return atomic_load((atomic_int *)arg) != 0;
}

sc_result catalog_verify_full(const char *path, atomic_int *stop, char *err,
			      size_t errlen)
{
	sqlite3 *db = NULL;
	sc_result rc = cv_open(path, &db, err, errlen);
	if (!rc && stop)
		sqlite3_progress_handler(db, 10000, cv_stop, stop);
	if (!rc)
		rc = cv_quick_check(db, err, errlen);
	sqlite3_close(db);
	return rc;
}
