/*
 * io_backup.h — backup and restore of a data directory: the catalog through
 * SQLite's online backup API plus the snapshot files it references.
 *
 *   POST /api/backup, `snapcat backup` -> io_backup_run:
 *     mkdir DEST -> catalog_backup (DEST/catalog.db, in steps, each under
 *     the caller's lock) -> every file the copy references: hard link
 *     DATA/<path> to DEST/<path> (copy when the file systems differ) ->
 *     DEST/backup.json (what was copied)
 *   `snapcat restore BACKUP --data DIR` -> io_restore:
 *     catalog_open(BACKUP/catalog.db) -> catalog_check (integrity) ->
 *     catalog_backup into DIR.restore-<pid>/ -> link or copy its files ->
 *     rename over DIR (an existing DIR, with force, is moved aside first)
 *
 * DESIGN
 * Snapshot files are immutable once written (a new capture writes new
 * files; retention and deletes remove them), so a hard link is a copy that
 * costs no space and stays whole when the original is deleted. The
 * catalog copy is taken first and the file list comes from the copy, so
 * the backup references exactly the files it holds; a file deleted between
 * the two steps (its link was deleted meanwhile) is counted as missing.
 * Files are not fsynced one by one (the catalog copy is, by SQLite): after
 * a power loss, take the backup again.
 */
#ifndef IO_BACKUP_H
#define IO_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

struct catalog;

/* What a backup or restore did. */
struct io_backup_stats {
	char dir[4096];          /* the backup (or restored data) directory */
	int64_t catalog_bytes;   /* size of the catalog copy */
	int64_t files;           /* files referenced and present */
	int64_t files_bytes;
	int64_t linked, copied;  /* how they were stored */
	int64_t missing;         /* referenced but not found */
	int64_t ms;              /* wall time */
	char moved_aside[4096];  /* restore --force: where the old data went */
};

/* stage "catalog" (done/total pages) or "files" (done/total files).
 * Non-zero stops the backup (SC_ERR_CANCELED). */
typedef int (*io_backup_progress)(void *ud, const char *stage, int64_t done,
				  int64_t total);

struct io_backup_opts {
	struct catalog *catalog;        /* the open catalog of data_dir */
	void (*hold)(void *ud, int on); /* lock around catalog steps, or NULL */
	io_backup_progress progress;    /* may be NULL */
	void *ud;
	const char *data_dir;
	const char *dest_dir;           /* NULL: DATA/backups/<UTC time> */
};

/*
 * Back up data_dir into a new directory (see above). Returns SC_OK with
 * *st filled; on error err says why and the partial directory is removed:
 * SC_ERR_INVALID (dest exists), SC_ERR_IO, SC_ERR_DB, SC_ERR_CANCELED.
 * Blocks on disk for as long as it takes: call on a worker.
 */
sc_result io_backup_run(const struct io_backup_opts *o,
			struct io_backup_stats *st, char *err, size_t errlen)
	SC_MUST_CHECK;

/*
 * Restore backup_dir into data_dir (the server must be stopped). Refuses
 * (SC_ERR_INVALID) a data_dir that exists and is not empty unless force,
 * and a backup whose catalog fails its integrity check (SC_ERR_DB).
 * Atomic: everything is built in a sibling temp directory renamed into
 * place at the end; with force an existing data_dir is first renamed to
 * data_dir.old-<time> (st->moved_aside), never deleted.
 */
sc_result io_restore(const char *backup_dir, const char *data_dir, int force,
		     struct io_backup_stats *st, char *err, size_t errlen)
	SC_MUST_CHECK;

/* Is rel a safe relative path inside a directory (not absolute, no ".."
 * component, no empty name)? 1 yes. */
int io_path_safe(const char *rel);

#endif
