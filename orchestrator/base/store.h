/*
 * store.h — the file store: every file snapcat writes goes through here.
 *
 *   capture payloads -> output_write (worker) -> store_write_file / store_open
 *       -> temp file ".<name>.tmp.<pid>.<n>" in the final directory -> write
 *       -> fflush + fsync -> rename over <name> -> fsync the directory
 *   start-up -> store_sweep_tmp (temps left by a crash)
 *   DELETE /api/links/{id} -> store_remove_tree (the link's snapshot files)
 *
 * A crash at any point leaves either the old file or the new one, never a
 * torn file; at worst a temp file stays behind for store_sweep_tmp.
 *
 * Errors: every function that can fail returns SC_ERR_INVALID for bad
 * arguments and SC_ERR_IO for a file-system error. On SC_ERR_IO, errno holds
 * the cause when the function returns (ENOSPC for a full disk, EDQUOT, EACCES,
 * ...), and if err is not NULL a NUL-terminated message such as
 * "write /data/x.png: No space left on device" is put into err[errlen]
 * (truncated to fit). err may be NULL (then errlen is ignored); it is left
 * untouched on success.
 *
 * Thread safety: all functions may be called from any thread; a single
 * struct store_file must be used by one thread at a time.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sc.h"

/* A file being written; opaque. */
struct store_file;

/*
 * mkdir -p dir with mode 0755 (less the umask). Existing directories are
 * fine; a path component that exists but is not a directory is SC_ERR_IO
 * (ENOTDIR). The parent of every directory created is fsynced, so a later
 * atomic write into it survives a crash.
 */
sc_result store_mkdirs(const char *dir, char *err, size_t errlen) SC_MUST_CHECK;

/*
 * Atomically replace (or create) path with len bytes of data. The directory
 * must exist. On error the old file, if any, is untouched and no temp file
 * remains. Does not take ownership of data.
 */
sc_result store_write_file(const char *path, const void *data, size_t len,
			   char *err, size_t errlen) SC_MUST_CHECK;

/*
 * Start writing final_path: creates the temp file in final_path's directory
 * (which must exist) and sets *out. On error *out is NULL. The caller owns
 * *out and must end it with exactly one of store_commit or store_abort.
 */
sc_result store_open(const char *final_path, struct store_file **out,
		     char *err, size_t errlen) SC_MUST_CHECK;

/*
 * The stream to write into (buffered; writes go to the temp file). Owned by
 * f: do not fclose it. A failed write sets the stream's error flag and is
 * reported again, with its errno, by store_commit.
 */
FILE *store_fp(struct store_file *f);

/*
 * Finish *f: flush, fsync, close, rename over the final name, fsync the
 * directory. *f is freed and set to NULL in every case (a NULL *f is
 * SC_ERR_INVALID). If any earlier write or any step up to the rename failed,
 * the temp file is removed, the old file is untouched and SC_ERR_IO is
 * returned. If only the directory fsync fails, the new file is already in
 * place but may not survive a crash; SC_ERR_IO is returned as well.
 */
sc_result store_commit(struct store_file **f, char *err, size_t errlen)
	SC_MUST_CHECK;

/* Drop *f: close and remove the temp file, free, set *f to NULL. f or *f may
 * be NULL. Preserves errno, so a caller can still read the errno of the
 * failure that made it abort. */
void store_abort(struct store_file **f);

/*
 * Recursively delete leftover temp files under dir: regular files named
 * ".<name>.tmp.<digits>.<digits>" (symlinks are neither followed nor
 * removed). Temps of the calling process (its own pid) are skipped; call it at
 * start-up, before any other process writes into dir. *removed (may be NULL)
 * gets the count. A missing dir is SC_OK with 0. Stops at the first error.
 */
sc_result store_sweep_tmp(const char *dir, unsigned *removed, char *err,
			  size_t errlen) SC_MUST_CHECK;

/*
 * rm -rf dir. Never follows symlinks: a symlink inside dir (or dir itself
 * being a symlink) is removed as a link, its target is untouched. A missing
 * dir is SC_OK. "" and "/" are SC_ERR_INVALID. Stops at the first error
 * (what was removed so far stays removed).
 */
sc_result store_remove_tree(const char *dir, char *err, size_t errlen)
	SC_MUST_CHECK;

/*
 * Atomically replace (or create) final_path with a hard link to src (same
 * file system): the content is stored once, and either name can be removed
 * without touching the other. The directory is fsynced. On error (EXDEV,
 * EMLINK, ...) final_path is untouched and no temp name remains.
 */
sc_result store_link(const char *src, const char *final_path, char *err,
		     size_t errlen) SC_MUST_CHECK;

/* Size of the file at path in bytes; 0 if it cannot be stat()ed. */
uint64_t store_file_size(const char *path);

#endif
