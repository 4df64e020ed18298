/*
 * version.h — a new snapshot's place in its link's history: the PNG stored
 * once, and compared with the link's previous one. Worker thread, after the
 * files are written and before the snapshot is recorded.
 *
 *   page.png written -> version_record:
 *     SHA-256 of the PNG -> an identical PNG already stored (any link)?
 *        -> page.png becomes a hard link to it (store_link): stored once
 *     the link's previous PNG (catalog_snapshot_prev)
 *        -> same hash: unchanged (ratio 0, no diff image)
 *        -> else imgdiff_files(previous, new) -> diff.png beside page.png,
 *           the changed share and the changed regions
 *   -> the snapshot's png_sha256, png_shared, diff_* fields; the caller
 *      sends snapshot.changed when version_changed() says so
 *
 * Nothing here fails the capture: a hash, link or diff that cannot be made
 * is logged and the snapshot keeps its own PNG without that information.
 */
#ifndef VERSION_H
#define VERSION_H

#include "sc.h"

struct app;
struct catalog;
struct catalog_snapshot;
struct catalog_strv;

/* Changed share from which a new version counts as changed (0.1%). */
#define VERSION_THRESHOLD_DEFAULT 0.001

/*
 * Hash, store once and diff sn's PNG (sn->png_path, relative to data_dir;
 * sn->dir its directory; sn->id and link_id set). Fills sn's png_sha256,
 * png_shared and diff_* fields (diff_path relative like png_path; boxes a
 * JSON array, both malloc'd: the caller frees them). The catalog look-ups
 * run on a reader (a worker, outside any unit). Returns the milliseconds spent.
 */
int64_t version_record(struct app *a, const char *data_dir,
		       struct catalog_snapshot *sn, int64_t link_id);

/* Apply the link's retention policy after a new snapshot (c: the writer,
 * inside a unit): see catalog_snapshots_prune. Returns the directories to
 * remove with version_remove (once the unit committed), or NULL. */
struct catalog_strv *version_prune(struct catalog *c, int64_t link_id,
				   double threshold);
/* Remove the directories (relative to data_dir) and free the list. */
void version_remove(const char *data_dir, struct catalog_strv **dirs);

/* Did sn change enough (ratio >= threshold, against a previous one)? */
int version_changed(const struct catalog_snapshot *sn, double threshold);

/* The SHA-256 of a file as 64 lowercase hex digits. SC_ERR_IO (errno) if
 * it cannot be read. */
sc_result version_sha256_file(const char *path, char hex[65]) SC_MUST_CHECK;

#endif
