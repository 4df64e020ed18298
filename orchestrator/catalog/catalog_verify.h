/*
 * catalog_verify.h — is a catalog file sound enough to write into? A check
 * for every start that costs about the same for 6 MB as for 600 MB, and a
 * full one for a background thread.
 *
 *   snapcat serve start: catalog_verify_quick(path), before catalog_open
 *     -> the header (magic, page size, payload fractions; page count against
 *        the file's size and the freelist against the page count when no
 *        WAL holds newer pages)
 *     -> the schema, read through SQLite (every root page in range)
 *     -> a bounded sample: the first, last and random rows of every table,
 *        read through SQLite, which checks each b-tree page it reads
 *     -> a file up to CATALOG_VERIFY_FULL_MAX: PRAGMA quick_check too
 *   after the start (its own thread): catalog_verify_full(path)
 *     -> PRAGMA quick_check: every page (O(size): ~1 s per 100-200 MB)
 *
 * DESIGN
 * Each call opens its own connection (read-write, so that SQLite can run
 * WAL recovery after a crash, but PRAGMA query_only: nothing is written)
 * and closes it. Damage is what SQLite calls SQLITE_CORRUPT / SQLITE_NOTADB
 * or what the header itself contradicts; other failures (the file cannot
 * be opened, locked) are not damage and are left to catalog_open. The
 * sample cannot prove a large file sound (a damaged leaf it does not read
 * goes unseen): the full check covers that after the start, and any
 * statement that meets damage later stops writes (catalog_set_damaged).
 */
#ifndef CATALOG_VERIFY_H
#define CATALOG_VERIFY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sc.h"

/* Files up to this size get PRAGMA quick_check at start (about 0.1 s). */
#define CATALOG_VERIFY_FULL_MAX (32LL << 20)
/* The sample stops after this long (or 32 probes per table). */
#define CATALOG_VERIFY_SAMPLE_MS 150

struct catalog_verify_report {
	int64_t bytes;  /* the file's size; 0: no file yet (nothing checked) */
	int full;       /* PRAGMA quick_check ran (a small file) */
	int tables;     /* tables sampled */
	int probes;     /* rows read by the sample */
	int64_t ms;     /* the whole check */
};

/*
 * The start-up check of the catalog at path (see above); files up to
 * full_max bytes get PRAGMA quick_check too (0: CATALOG_VERIFY_FULL_MAX,
 * < 0: never). SC_OK: nothing wrong was found (or there is no file yet);
 * SC_ERR_DB: the file is damaged and err says where ("its header says ...",
 * "reading links: database disk image is malformed"). Other errors
 * (SC_ERR_IO: cannot stat, open or read it; err says why) leave the verdict
 * to catalog_open. rep may be NULL.
 */
sc_result catalog_verify_quick(const char *path, int64_t full_max,
			       struct catalog_verify_report *rep, char *err,
			       size_t errlen) SC_MUST_CHECK;

/*
 * PRAGMA quick_check of the whole file on a connection of its own: SC_OK,
 * SC_ERR_DB (damaged: err has SQLite's first finding), SC_ERR_CANCELED
 * (*stop became non-zero: checked every few thousand VM steps), or another
 * error (cannot open: err says why). Blocks for O(size): a thread of its
 * own, never the loop.
 */
sc_result catalog_verify_full(const char *path, atomic_int *stop, char *err,
			      size_t errlen) SC_MUST_CHECK;

#endif
