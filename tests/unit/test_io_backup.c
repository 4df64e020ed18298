/*
 * test_io_backup.c — catalog_backup (steps under a hold callback, writes
 * between steps carried into the copy, the copy's file list) and
 * io_backup.c: a backup of a data dir with snapshot files (hard links, a
 * missing file), restore into a fresh dir, refusal of a non-empty one,
 * --force keeping the old data, a corrupt backup refused, io_path_safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "io_backup.h"
#include "testhelp.h"

static char root[256];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Does dir/rel exist (rel NULL: dir itself)? */
static int exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat sb;
	snprintf(p, sizeof(p), "%s%s%s", dir, rel ? "/" : "", rel ? rel : "");
	return stat(p, &sb) == 0;
}

/* DATA with a catalog of n links, link 1 with a snapshot whose png and
 * thumb exist and whose mhtml does not. Returns the open catalog. */
static struct catalog *make_data(const char *data, int n)
{
	char p[512], err[300];
	struct catalog *c = NULL;
	mkdir(data, 0755);
	snprintf(p, sizeof(p), "%s/catalog.db", data);
	if (catalog_open(p, &c, err, sizeof(err)))
		return NULL;
	for (int i = 0; i < n; i++) {
		char url[64];
		int64_t id;
		snprintf(url, sizeof(url), "https://b%d.example/", i);
		if (catalog_link_add(c, url, &id, NULL))
			return c;
	}
	int64_t sid = 0;
	(void)!catalog_snapshot_create(c, 1, 0, &sid);
	struct catalog_snapshot s = {
		.id = sid, .state = CATALOG_SNAP_OK, .dir = "snapshots/1/1",
		.png_path = "snapshots/1/1/page.png",
		.thumb_path = "snapshots/1/1/thumb.png",
		.mhtml_path = "snapshots/1/1/page.mhtml",
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_OK,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_SKIPPED};
	(void)!catalog_snapshot_finish(c, &s);
	snprintf(p, sizeof(p), "%s/snapshots", data);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/1", data);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/1/1", data);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/1/1/page.png", data);
	put(p, "PNGDATA");
	snprintf(p, sizeof(p), "%s/snapshots/1/1/thumb.png", data);
	put(p, "THUMB");
	return c;
}

struct holder {
	struct catalog *c;
	int holds, steps, wrote;
};

static void hold(void *ud, int on)
{
	struct holder *h = ud;
	h->holds += on;
}

/* Between steps: another "thread" writes through the same connection. */
static int progress(void *ud, int remaining, int total)
{
	struct holder *h = ud;
	int64_t id;
	h->steps++;
	if (remaining > 0 && !h->wrote)
		h->wrote = catalog_link_add(h->c, "https://during.example/", &id,
					    NULL) == SC_OK;
	return total <= 0;
}

TEST(catalog_backup_steps)
{
	char data[300], dst[350], err[300];
	snprintf(data, sizeof(data), "%s/cb", root);
	struct catalog *c = make_data(data, 300);
	REQUIRE(c);
	struct holder h = {.c = c};
	struct catalog_backup_opts o = {.pages_per_step = 2, .hold = hold,
					.progress = progress, .ud = &h};
	struct catalog_strv *files = NULL;
	snprintf(dst, sizeof(dst), "%s/copy.db", root);
	REQUIRE(catalog_backup(c, dst, &o, &files, err, sizeof(err)) == SC_OK);
	CHECK(h.steps > 2 && h.holds > h.steps && h.wrote);
	REQUIRE(files);
	CHECK_EQ_INT(files->n, 3);
	catalog_strv_free(&files);
	/* the copy opens, passes its checks and has the link written mid-way */
	struct catalog *k = NULL;
	REQUIRE(catalog_open(dst, &k, err, sizeof(err)) == SC_OK);
	CHECK(catalog_check(k) == SC_OK);
	struct catalog_link_query q = {.limit = 1};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(k, &q, &l) == SC_OK);
	CHECK_STR(l->items[0].url, "https://during.example/");
	catalog_link_list_free(&l);
	catalog_close(&k);
	/* never over an existing file */
	CHECK(catalog_backup(c, dst, NULL, NULL, err, sizeof(err)) == SC_ERR_INVALID);
	catalog_close(&c);
}

TEST(backup_and_restore)
{
	char data[300], dest[4096], target[350], err[300];
	struct io_backup_stats st;
	snprintf(data, sizeof(data), "%s/data", root);
	struct catalog *c = make_data(data, 5);
	REQUIRE(c);
	struct io_backup_opts o = {.catalog = c, .data_dir = data};
	REQUIRE(io_backup_run(&o, &st, err, sizeof(err)) == SC_OK);
	CHECK(strstr(st.dir, "/data/backups/") != NULL);
	CHECK_EQ_INT(st.files, 2);
	CHECK_EQ_INT(st.linked, 2);
	CHECK_EQ_INT(st.missing, 1); /* page.mhtml was never written */
	CHECK(st.catalog_bytes > 0);
	CHECK(exists(st.dir, "snapshots/1/1/page.png"));
	CHECK(exists(st.dir, "backup.json"));
	snprintf(dest, sizeof(dest), "%s", st.dir);
	/* a second one the same second gets another name */
	REQUIRE(io_backup_run(&o, &st, err, sizeof(err)) == SC_OK);
	CHECK(strcmp(st.dir, dest));
	catalog_close(&c);

	snprintf(target, sizeof(target), "%s/restored", root);
	REQUIRE(io_restore(dest, target, 0, &st, err, sizeof(err)) == SC_OK);
	CHECK(exists(target, "catalog.db"));
	CHECK(exists(target, "snapshots/1/1/thumb.png"));
	CHECK_EQ_INT(st.files, 2);
	/* not over a non-empty dir without force; with force, kept aside */
	CHECK(io_restore(dest, target, 0, &st, err, sizeof(err)) == SC_ERR_INVALID);
	CHECK(strstr(err, "not empty") != NULL);
	REQUIRE(io_restore(dest, target, 1, &st, err, sizeof(err)) == SC_OK);
	CHECK(st.moved_aside[0] && exists(st.moved_aside, "catalog.db"));
	struct catalog *r = NULL;
	char p[400];
	snprintf(p, sizeof(p), "%s/catalog.db", target);
	REQUIRE(catalog_open(p, &r, err, sizeof(err)) == SC_OK);
	struct catalog_link *l = NULL;
	CHECK(catalog_link_get(r, 5, &l) == SC_OK);
	catalog_link_free(&l);
	catalog_close(&r);
}

TEST(corrupt_backup_refused)
{
	char dir[300], p[350], target[350], err[300];
	struct io_backup_stats st;
	snprintf(dir, sizeof(dir), "%s/bad", root);
	mkdir(dir, 0755);
	snprintf(p, sizeof(p), "%s/catalog.db", dir);
	put(p, "this is not an SQLite database at all, not even close......");
	snprintf(target, sizeof(target), "%s/never", root);
	CHECK(io_restore(dir, target, 0, &st, err, sizeof(err)) != SC_OK);
	CHECK(!exists(target, NULL));
	CHECK(io_restore("/nonexistent-backup", target, 0, &st, err, sizeof(err)) ==
	      SC_ERR_INVALID);
}

TEST(path_safe)
{
	CHECK(io_path_safe("snapshots/1/2/page.png"));
	CHECK(!io_path_safe("/etc/passwd"));
	CHECK(!io_path_safe("snapshots/../../x"));
	CHECK(!io_path_safe("a//b"));
	CHECK(!io_path_safe("./a"));
	CHECK(!io_path_safe(""));
}

int main(void)
{
	snprintf(root, sizeof(root), "%s/snapcat-test-io-backup-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return 1;
	RUN(catalog_backup_steps);
	RUN(backup_and_restore);
	RUN(corrupt_backup_refused);
	RUN(path_safe);
	(void)!sc_remove_tree(root);
	return test_report();
}
