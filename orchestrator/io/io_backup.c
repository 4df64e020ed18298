/*
 * io_backup.c — backup and restore of a data directory (see io_backup.h).
 *
 *   io_backup_run: bk_dest_name -> mkdir -> catalog_backup -> bk_files
 *                  (bk_store: link, else copy) -> bk_manifest
 *   io_restore:    catalog_open(backup) -> catalog_check -> catalog_backup
 *                  into a temp sibling -> bk_files -> bk_swap (rename)
 */
#include "io_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "catalog.h"

#define BK_PAGES_PER_STEP 256  /* 1 MiB of 4 KiB pages per lock hold */
#define BK_COPY_BUF (1 << 20)

int io_path_safe(const char *rel)
{
	if (!rel || !*rel || *rel == '/')
		return 0;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (!n || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 1 && *p == '.'))
			return 0;
		p += n + (p[n] == '/');
	}
	return 1;
}

/* mkdir -p of the directory part of path (no fsync: see DESIGN). */
static int bk_mkparents(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	struct stat sb;
	if (!stat(buf, &sb))
		return S_ISDIR(sb.st_mode) ? 0 : -1;
	if (bk_mkparents(buf))
		return -1;
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

/* Copy src to dst (a new file). 0, or -1 with errno. */
static int bk_copy(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char *buf = NULL;
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		goto out;
	buf = sc_xmalloc(BK_COPY_BUF);
	for (;;) {
		ssize_t n = read(in, buf, BK_COPY_BUF);
		if (n == 0)
			break;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			goto out;
	}
	rc = 0;
out:;
	int e = errno;
	free(buf);
	close(in);
	if (out >= 0 && close(out) && !rc)
		rc = -1, e = errno;
	if (rc && out >= 0)
		unlink(dst);
	errno = e;
	return rc;
}

/* Store one file of the backup: a hard link, else a copy. 0 stored,
 * 1 missing, -1 error (errno). */
static int bk_store(const char *src, const char *dst, struct io_backup_stats *st)
{
	struct stat sb;
	if (stat(src, &sb))
		return errno == ENOENT ? 1 : -1;
	if (bk_mkparents(dst))
		return -1;
	if (!link(src, dst) || errno == EEXIST) {
		st->linked++;
	} else if (errno == EXDEV || errno == EPERM || errno == EMLINK ||
		   errno == ENOTSUP) {
		if (bk_copy(src, dst))
			return -1;
		st->copied++;
	} else {
		return -1;
	}
	st->files++;
	st->files_bytes += sb.st_size;
	return 0;
}

struct bk_run {
	const struct io_backup_opts *o;
	int canceled;
};

static int bk_progress(void *ud, int remaining, int total)
{
	struct bk_run *r = ud;
	if (r->o->progress &&
	    r->o->progress(r->o->ud, "catalog", total - remaining, total))
		r->canceled = 1;
	return r->canceled;
}

static void bk_hold(void *ud, int on)
{
	struct bk_run *r = ud;
	if (r->o->hold)
		r->o->hold(r->o->ud, on);
}

/* Link or copy every file in files from src_root to dst_root. */
static sc_result bk_files(const struct catalog_strv *files, const char *src_root,
			  const char *dst_root, const struct io_backup_opts *o,
			  struct io_backup_stats *st, char *err, size_t errlen)
{
	char src[4096], dst[4096];
	for (size_t i = 0; files && i < files->n; i++) {
		const char *rel = files->v[i];
		if (!io_path_safe(rel)) {
			st->missing++;
			continue;
		}
		snprintf(src, sizeof(src), "%s/%s", src_root, rel);
		snprintf(dst, sizeof(dst), "%s/%s", dst_root, rel);
		int r = bk_store(src, dst, st);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", dst, strerror(errno));
			return SC_ERR_IO;
		}
		st->missing += r;
		if (o && o->progress && (i % 200 == 199 || i + 1 == files->n) &&
		    o->progress(o->ud, "files", (int64_t)i + 1, (int64_t)files->n)) {
			snprintf(err, errlen, "backup canceled");
			return SC_ERR_CANCELED;
		}
	}
	return SC_OK;
}

/* DEST/backup.json: what the directory holds. */
static void bk_manifest(const char *dir, const struct io_backup_stats *st)
{
	char path[4200], t[40];
	cJSON *o = cJSON_CreateObject();
	sc_iso8601(sc_wall_ms(), t, sizeof(t));
	cJSON_AddStringToObject(o, "format", "snapcat-backup");
	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "created_at", t);
	cJSON_AddNumberToObject(o, "schema_version", CATALOG_SCHEMA_VERSION);
	cJSON_AddNumberToObject(o, "catalog_bytes", (double)st->catalog_bytes);
	cJSON_AddNumberToObject(o, "files", (double)st->files);
	cJSON_AddNumberToObject(o, "files_bytes", (double)st->files_bytes);
	cJSON_AddNumberToObject(o, "missing", (double)st->missing);
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	snprintf(path, sizeof(path), "%s/backup.json", dir);
	FILE *f = s ? fopen(path, "w") : NULL;
	if (f) {
		fputs(s, f);
		fputc('\n', f);
		fclose(f);
	}
	cJSON_free(s);
}

/* Create the backup directory: o->dest_dir, or DATA/backups/<UTC time>
 * (-2, -3... if taken). */
static sc_result bk_make_dest(const struct io_backup_opts *o, char *out,
			      size_t outlen, char *err, size_t errlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1; i < 100; i++) {
		int n = o->dest_dir ? snprintf(out, outlen, "%s", o->dest_dir)
			: i == 1 ? snprintf(out, outlen, "%s/backups/%s",
					    o->data_dir, stamp)
				 : snprintf(out, outlen, "%s/backups/%s-%d",
					    o->data_dir, stamp, i);
		if (n < 0 || (size_t)n >= outlen - 256) {
			snprintf(err, errlen, "the backup path is too long");
			return SC_ERR_INVALID;
		}
		if (bk_mkparents(out) == 0 && mkdir(out, 0755) == 0)
			return SC_OK;
		if (errno != EEXIST || o->dest_dir)
			break;
	}
	int e = errno;
	snprintf(err, errlen, "cannot create %s: %s", out,
		 e == EEXIST ? "it exists already" : strerror(e));
	return e == EEXIST ? SC_ERR_INVALID : SC_ERR_IO;
}

sc_result io_backup_run(const struct io_backup_opts *o,
			struct io_backup_stats *st, char *err, size_t errlen)
{
	char db[4200];
	struct catalog_strv *files = NULL;
	struct bk_run run = {.o = o};
	struct catalog_backup_opts co = {.pages_per_step = BK_PAGES_PER_STEP,
		.hold = bk_hold, .progress = bk_progress, .ud = &run};
	int64_t t0 = sc_now_ms();
	memset(st, 0, sizeof(*st));
	sc_result rc = bk_make_dest(o, st->dir, sizeof(st->dir), err, errlen);
	if (rc)
		return rc;
	snprintf(db, sizeof(db), "%s/catalog.db", st->dir);
	rc = catalog_backup(o->catalog, db, &co, &files, err, errlen);
	if (!rc) {
		struct stat sb;
		st->catalog_bytes = stat(db, &sb) ? 0 : sb.st_size;
		rc = bk_files(files, o->data_dir, st->dir, o, st, err, errlen);
	}
	catalog_strv_free(&files);
	if (rc) {
		(void)!sc_remove_tree(st->dir);
		return rc;
	}
	bk_manifest(st->dir, st);
	st->ms = sc_now_ms() - t0;
	return SC_OK;
}

/* ---- restore ---- */

/* 1 if dir exists and holds anything, 0 if empty or absent. */
static int bk_nonempty(const char *dir)
{
	if (rmdir(dir) == 0)
		return 0; /* it was empty: gone, the rename makes it again */
	return errno == ENOENT ? 0 : 1;
}

/* Move the finished temp dir into place (data_dir moved aside first). */
static sc_result bk_swap(const char *tmp, const char *data_dir, int force,
			 struct io_backup_stats *st, char *err, size_t errlen)
{
	if (bk_nonempty(data_dir)) {
		if (!force) {
			snprintf(err, errlen, "%s is not empty (use --force to "
				 "replace it; it is then kept as %s.old-...)",
				 data_dir, data_dir);
			return SC_ERR_INVALID;
		}
		snprintf(st->moved_aside, sizeof(st->moved_aside), "%.3800s.old-%lld",
			 data_dir, (long long)(sc_wall_ms() / 1000));
		if (rename(data_dir, st->moved_aside)) {
			snprintf(err, errlen, "move %s aside: %s", data_dir,
				 strerror(errno));
			return SC_ERR_IO;
		}
	}
	if (rename(tmp, data_dir)) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, data_dir,
			 strerror(errno));
		return SC_ERR_IO;
	}
	snprintf(st->dir, sizeof(st->dir), "%.3800s", data_dir);
	return SC_OK;
}

/* Check the backup's catalog and copy it and its files into tmp. */
static sc_result bk_restore_into(const char *backup_dir, const char *tmp,
				 struct io_backup_stats *st, char *err,
				 size_t errlen)
{
	char src[4200], db[4200];
	struct catalog *c = NULL;
	struct catalog_strv *files = NULL;
	struct stat sb;
	snprintf(src, sizeof(src), "%.3800s/catalog.db", backup_dir);
	if (stat(src, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: no catalog.db there (%s)", backup_dir,
			 strerror(errno ? errno : EINVAL));
		return SC_ERR_INVALID;
	}
	sc_result rc = catalog_open(src, &c, err, errlen);
	if (!rc && (rc = catalog_check(c)))
		snprintf(err, errlen, "the backup's catalog fails its integrity "
			 "check: %s", catalog_errmsg(c));
	snprintf(db, sizeof(db), "%.3800s/catalog.db", tmp);
	if (!rc)
		rc = catalog_backup(c, db, NULL, &files, err, errlen);
	catalog_close(&c);
	if (!rc) {
		st->catalog_bytes = stat(db, &sb) ? 0 : sb.st_size;
		rc = bk_files(files, backup_dir, tmp, NULL, st, err, errlen);
	}
	catalog_strv_free(&files);
	return rc;
}

sc_result io_restore(const char *backup_dir, const char *data_dir, int force,
		     struct io_backup_stats *st, char *err, size_t errlen)
{
	char tmp[4200];
	int64_t t0 = sc_now_ms();
	memset(st, 0, sizeof(*st));
	size_t n = strlen(data_dir);
	if (n > 3800 || strlen(backup_dir) > 3800) {
		snprintf(err, errlen, "the path is too long");
		return SC_ERR_INVALID;
	}
	while (n > 1 && data_dir[n - 1] == '/')
		n--;
	snprintf(tmp, sizeof(tmp), "%.*s.restore-%d", (int)n, data_dir,
		 (int)getpid());
	char dd[4200];
	snprintf(dd, sizeof(dd), "%.*s", (int)n, data_dir);
	if (!force && bk_nonempty(dd)) { /* say so before any work */
		snprintf(err, errlen, "%s is not empty (use --force to replace "
			 "it; it is then kept as %s.old-...)", dd, dd);
		return SC_ERR_INVALID;
	}
	(void)!sc_remove_tree(tmp);
	if (bk_mkparents(tmp) || mkdir(tmp, 0755)) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return SC_ERR_IO;
	}
	sc_result rc = bk_restore_into(backup_dir, tmp, st, err, errlen);
	if (!rc)
		rc = bk_swap(tmp, dd, force, st, err, errlen);
	if (rc)
		(void)!sc_remove_tree(tmp);
	st->ms = sc_now_ms() - t0;
	return rc;
}
