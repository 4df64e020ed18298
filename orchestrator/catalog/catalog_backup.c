/*
 * catalog_backup.c — an online copy of the open catalog (catalog_backup,
 * see catalog.h), with SQLite's backup API in steps.
 *
 *   io_backup_run (worker) -> catalog_backup -> sqlite3_backup_step ...
 *     (each step under o->hold: other threads use the connection between
 *     steps) -> the copy's file list (its own connection) -> backup dir
 *
 * The copy's file list is read on the copy's connection, not c's cache:
 * it is the state at the last step, whatever c did after.
 */
#include "catalog_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every file a catalog references, for catalog_backup's copy. */
static const char cat_backup_files_sql[] =
	"SELECT png_path, mhtml_path, thumb_path, diff_path, pdf_path "
	"FROM snapshots";

static void cat_hold(const struct catalog_backup_opts *o, int on)
{
	if (o && o->hold)
		o->hold(o->ud, on);
}

/* The files the copy at dst references (its own connection). */
static int cat_backup_list(sqlite3 *dst, struct catalog_strv **files)
{
	sqlite3_stmt *st = NULL;
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	size_t alloc = 0;
	int r = sqlite3_prepare_v2(dst, cat_backup_files_sql, -1, &st, NULL);
	while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < 5; i++)
			cat_strv_add(sv, &alloc, sqlite3_column_text(st, i));
		r = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		catalog_strv_free(&sv);
		return r;
	}
	*files = sv;
	return SQLITE_OK;
}

/* The copy itself: steps until done, each under o->hold. */
static int cat_backup_steps(struct catalog *c, sqlite3 *dst,
			    const struct catalog_backup_opts *o, int *canceled)
{
	int n = o && o->pages_per_step > 0 ? o->pages_per_step : -1, r;
	cat_hold(o, 1);
	sqlite3_backup *bk = sqlite3_backup_init(dst, "main", c->db, "main");
	cat_hold(o, 0);
	if (!bk)
		return sqlite3_errcode(dst);
	do {
		cat_hold(o, 1);
		r = sqlite3_backup_step(bk, n);
		int left = sqlite3_backup_remaining(bk);
		int total = sqlite3_backup_pagecount(bk);
		cat_hold(o, 0);
		if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
			sqlite3_sleep(5);
		else if (o && o->progress && o->progress(o->ud, left, total))
			*canceled = 1;
	} while (!*canceled &&
		 (r == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED));
	cat_hold(o, 1);
	int fr = sqlite3_backup_finish(bk);
	cat_hold(o, 0);
	return r == SQLITE_DONE ? fr : r;
}

sc_result catalog_backup(struct catalog *c, const char *dest_path,
			 const struct catalog_backup_opts *o,
			 struct catalog_strv **files, char *err, size_t errlen)
{
	sqlite3 *dst = NULL;
	int canceled = 0, r;
	sc_result rc = SC_OK;
	if (files)
		*files = NULL;
	FILE *f = fopen(dest_path, "wx"); /* must be new */
	if (!f) {
		snprintf(err, errlen, "%s: %s", dest_path, strerror(errno));
		return errno == EEXIST ? SC_ERR_INVALID : SC_ERR_IO;
	}
	fclose(f);
	r = sqlite3_open_v2(dest_path, &dst, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL);
	if (r == SQLITE_OK)
		r = cat_backup_steps(c, dst, o, &canceled);
	if (r == SQLITE_OK && files)
		r = cat_backup_list(dst, files);
	if (canceled) {
		rc = SC_ERR_CANCELED;
		snprintf(err, errlen, "backup canceled");
	} else if (r != SQLITE_OK) {
		rc = r == SQLITE_IOERR || (r & 0xff) == SQLITE_FULL ? SC_ERR_IO
								    : SC_ERR_DB;
		snprintf(err, errlen, "backup to %s: %s", dest_path,
			 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(r));
	}
	sqlite3_close(dst);
	if (rc) {
		if (files)
			catalog_strv_free(files);
		remove(dest_path);
	}
	return rc;
}
