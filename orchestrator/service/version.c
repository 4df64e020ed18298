/*
 * version.c — content-hash dedupe and the visual diff of a new snapshot
 * (see version.h).
 *
 * DESIGN: dedupe uses hard links, not shared paths: every snapshot keeps its
 * own page.png name, so deleting a link or a snapshot removes only its
 * names and the content goes when the last name does. The diff is streamed
 * (imgdiff), so a 200,000 px page costs a few rows of memory.
 */
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "app.h"
#include "catalog.h"
#include "imgdiff.h"
#include "store.h"

#define VERSION_LOG "version"

sc_result version_sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SC_ERR_IO;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	unsigned char buf[65536], sum[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ssize_t r;
	while (ok && (r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		ok = r > 0 && EVP_DigestUpdate(md, buf, (size_t)r);
	}
	ok = ok && EVP_DigestFinal_ex(md, sum, &n) && n == 32;
	int e = errno;
	EVP_MD_CTX_free(md);
	close(fd);
	for (unsigned int i = 0; ok && i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	errno = e;
	return ok ? SC_OK : SC_ERR_IO;
}

/* An identical PNG stored before: make page.png a hard link to it. */
static void version_share(struct app *a, const char *dd,
			  struct catalog_snapshot *sn, const char *abs_png)
{
	char *other = NULL, err[256];
	struct catalog *c = app_read_begin(a);
	sc_result rc = catalog_png_by_sha(c, sn->png_sha256, sn->id, &other);
	app_read_end(a, c);
	if (rc)
		return;
	char *src = sc_xasprintf("%s/%s", dd, other);
	char again[65];
	/* the other file still holds these bytes (not replaced meanwhile) */
	if (!version_sha256_file(src, again) && !strcmp(again, sn->png_sha256)) {
		if (store_link(src, abs_png, err, sizeof(err)))
			sc_log(SC_LOG_WARN, VERSION_LOG, "snapshot %lld: kept "
			       "its own PNG: %s", (long long)sn->id, err);
		else
			sn->png_shared = 1;
	}
	free(src);
	free(other);
}

/* The changed regions as [[x, y, w, h], ...]. */
static char *version_boxes_json(const struct imgdiff_result *d)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < d->nboxes; i++) {
		const struct imgdiff_box *b = &d->boxes[i];
		double v[4] = {b->x, b->y, b->w, b->h};
		cJSON_AddItemToArray(a, cJSON_CreateDoubleArray(v, 4));
	}
	char *s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

/* Diff prev (absolute path) against the new PNG into sn->dir/diff.png. */
static void version_diff(const char *dd, struct catalog_snapshot *sn,
			 const char *prev, const char *abs_png)
{
	char *diff = sc_xasprintf("%s/%s/diff.png", dd, sn->dir), err[256];
	struct store_file *f = NULL;
	struct imgdiff_result d;
	sc_result rc = store_open(diff, &f, err, sizeof(err));
	if (!rc && (rc = imgdiff_files(prev, abs_png, NULL, store_fp(f), &d)))
		snprintf(err, sizeof(err), "diff: %s", sc_strerror(rc));
	if (!rc && (rc = store_commit(&f, err, sizeof(err))) == SC_OK) {
		sn->diff_ratio = d.ratio;
		sn->diff_changed = (int64_t)d.changed;
		sn->diff_boxes = version_boxes_json(&d);
		sn->diff_path = sc_xasprintf("%s/diff.png", sn->dir);
	}
	store_abort(&f);
	if (rc) {
		sc_log(SC_LOG_WARN, VERSION_LOG, "snapshot %lld: no diff: %s",
		       (long long)sn->id, err);
		sn->diff_against = 0;
	}
	free(diff);
}

/* Compare with the link's previous PNG, if any. */
static void version_compare(struct app *a, const char *dd,
			    struct catalog_snapshot *sn, int64_t link_id,
			    const char *abs_png)
{
	struct catalog_png prev;
	struct catalog *c = app_read_begin(a);
	sc_result rc = catalog_snapshot_prev(c, link_id, sn->id, &prev);
	app_read_end(a, c);
	if (rc)
		return;
	sn->diff_against = prev.id;
	if (sn->png_sha256[0] && !strcmp(prev.sha256, sn->png_sha256)) {
		sn->diff_boxes = sc_xstrdup("[]"); /* identical bytes */
	} else {
		char *p = sc_xasprintf("%s/%s", dd, prev.path);
		version_diff(dd, sn, p, abs_png);
		free(p);
	}
	free(prev.path);
}

int64_t version_record(struct app *a, const char *data_dir,
		       struct catalog_snapshot *sn, int64_t link_id)
{
	int64_t t0 = sc_now_ms();
	if (!sn->png_path || !sn->dir)
		return 0;
	char *abs_png = sc_xasprintf("%s/%s", data_dir, sn->png_path);
	if (version_sha256_file(abs_png, sn->png_sha256)) {
		sc_log(SC_LOG_WARN, VERSION_LOG, "snapshot %lld: hash %s: %s",
		       (long long)sn->id, abs_png, strerror(errno));
		sn->png_sha256[0] = '\0';
	}
	if (sn->png_sha256[0])
		version_share(a, data_dir, sn, abs_png);
	version_compare(a, data_dir, sn, link_id, abs_png);
	free(abs_png);
	return sc_now_ms() - t0;
}

struct catalog_strv *version_prune(struct catalog *c, int64_t link_id,
				   double threshold)
{
	struct catalog_strv *dirs = NULL;
	if (catalog_snapshots_prune(c, link_id, threshold, &dirs)) {
		sc_log(SC_LOG_WARN, VERSION_LOG, "link %lld: retention: %s",
		       (long long)link_id, catalog_errmsg(c));
		return NULL;
	}
	if (dirs && !dirs->n)
		catalog_strv_free(&dirs);
	return dirs;
}

void version_remove(const char *data_dir, struct catalog_strv **dirs)
{
	if (!dirs || !*dirs)
		return;
	for (size_t i = 0; i < (*dirs)->n; i++) {
		char *p = sc_xasprintf("%s/%s", data_dir, (*dirs)->v[i]), err[256];
		if (store_remove_tree(p, err, sizeof(err)))
			sc_log(SC_LOG_WARN, VERSION_LOG, "retention: %s", err);
		else
			sc_log(SC_LOG_INFO, VERSION_LOG, "retention: removed %s",
			       (*dirs)->v[i]);
		free(p);
	}
	catalog_strv_free(dirs);
}

int version_changed(const struct catalog_snapshot *sn, double threshold)
{
	return sn->diff_against && sn->diff_changed > 0 &&
	       sn->diff_ratio >= threshold;
}
