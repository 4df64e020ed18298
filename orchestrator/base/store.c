/*
 * store.c — atomic file writes, temp sweeping and tree removal (see store.h).
 *
 * DESIGN: a write goes to ".<name>.tmp.<pid>.<n>" next to the final file
 * (same directory, so the rename is atomic on one file system), created with
 * O_EXCL. The FILE* handed to the caller is a fopencookie() stream over that
 * fd, so that the errno of a failed write (ENOSPC above all) is remembered and
 * reported by store_commit even when the writer (libpng, fwrite) loses it.
 * Commit = fflush, fsync(fd), close, rename, fsync(dir). The tree walkers use
 * openat/unlinkat with O_NOFOLLOW, so a symlink swapped in for a directory is
 * never followed, and they keep no global state (safe on any thread).
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX_DEPTH 64 /* directory nesting the walkers accept */
#define STORE_OPEN_TRIES 16

struct store_file {
	char *final; /* the name readers see */
	char *tmp;   /* where the bytes go until commit */
	char *dir;   /* final's directory, for the fsync after rename */
	int fd;
	FILE *fp;    /* cookie stream over fd */
	int werr;    /* errno of the first failed write, 0 if none */
	int created; /* tmp exists and is ours to unlink */
};

static atomic_ulong store_counter;

/* Fill err with "<what> <path>: <strerror(e)>", leave errno = e. */
static sc_result store_fail(char *err, size_t errlen, const char *what,
			    const char *path, int e)
{
	if (!e)
		e = EIO;
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	errno = e;
	return SC_ERR_IO;
}

/* Split path into a malloc'd directory ("." if none) and a pointer to the
 * base name inside path. SC_ERR_INVALID if there is no base name. */
static sc_result store_split(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	if (!*b || !strcmp(b, ".") || !strcmp(b, ".."))
		return SC_ERR_INVALID;
	if (!slash)
		*dir = sc_xstrdup(".");
	else if (slash == path)
		*dir = sc_xstrdup("/");
	else
		*dir = sc_xstrndup(path, (size_t)(slash - path));
	*base = b;
	return SC_OK;
}

/* fsync a directory so that entries created/renamed in it are durable.
 * File systems that cannot fsync a directory (EINVAL) count as success. */
static int store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	if (r && e != EINVAL && e != ENOTSUP) {
		errno = e;
		return -1;
	}
	return 0;
}

/* A copy of dir without trailing slashes ("/" stays "/"): "link/" would
 * make open() follow the symlink despite O_NOFOLLOW. */
static char *store_strip_slashes(const char *dir)
{
	char *p = sc_xstrdup(dir);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* ---- mkdirs ---- */

/* mkdir one component; EEXIST is fine if it is a directory. *made = 1 if it
 * was created by us. */
static int store_mkdir1(const char *p, int *made)
{
	struct stat st;
	*made = 0;
	if (!mkdir(p, 0755)) {
		*made = 1;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	if (stat(p, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* fsync the parent of the directory p just created. */
static int store_sync_parent(const char *p)
{
	char *dir = NULL;
	const char *base;
	if (store_split(p, &dir, &base))
		return 0; /* "x/.." and the like: nothing sensible to sync */
	int r = store_fsync_dir(dir);
	int e = errno;
	free(dir);
	errno = e;
	return r;
}

sc_result store_mkdirs(const char *dir, char *err, size_t errlen)
{
	if (!dir || !*dir)
		return SC_ERR_INVALID;
	sc_result rc = SC_OK;
	char *p = store_strip_slashes(dir);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		int made;
		*s = '\0';
		if (store_mkdir1(p, &made) || (made && store_sync_parent(p))) {
			rc = store_fail(err, errlen, "mkdir", p, errno);
			goto out;
		}
		*s = c;
		if (!c)
			break;
		while (s[1] == '/')
			s++;
	}
out:
	free(p);
	return rc;
}

/* ---- atomic writes ---- */

/* fopencookie write: all of size bytes or 0 (the stream's error flag). */
static ssize_t store_cookie_write(void *cookie, const char *buf, size_t size)
{
	struct store_file *f = cookie;
	size_t done = 0;
	if (f->werr) {
		errno = f->werr;
		return 0;
	}
	while (done < size) {
		ssize_t w = write(f->fd, buf + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			f->werr = w < 0 ? errno : EIO;
			errno = f->werr;
			return 0;
		}
		done += (size_t)w;
	}
	return (ssize_t)size;
}

static void store_file_free(struct store_file *f)
{
	free(f->final);
	free(f->tmp);
	free(f->dir);
	free(f);
}

/* Create the temp file with O_EXCL; a name left by a dead process with our
 * pid is skipped by taking the next counter value. */
static int store_create_tmp(struct store_file *f, const char *base)
{
	for (int i = 0; i < STORE_OPEN_TRIES; i++) {
		unsigned long n = atomic_fetch_add(&store_counter, 1);
		free(f->tmp);
		f->tmp = sc_xasprintf("%s/.%s.tmp.%ld.%lu", f->dir, base,
				      (long)getpid(), n);
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0644);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	f->created = f->fd >= 0;
	return f->fd;
}

sc_result store_open(const char *final_path, struct store_file **out,
		     char *err, size_t errlen)
{
	static const cookie_io_functions_t io = {
		.write = store_cookie_write,
	};
	const char *base;
	sc_result rc;
	if (!out)
		return SC_ERR_INVALID;
	*out = NULL;
	if (!final_path)
		return SC_ERR_INVALID;
	struct store_file *f = sc_xcalloc(1, sizeof(*f));
	f->fd = -1;
	if ((rc = store_split(final_path, &f->dir, &base)))
		goto out;
	f->final = sc_xstrdup(final_path);
	if (store_create_tmp(f, base) < 0) {
		rc = store_fail(err, errlen, "create", f->tmp, errno);
		goto out;
	}
	f->fp = fopencookie(f, "w", io);
	if (!f->fp) {
		rc = store_fail(err, errlen, "fopencookie", f->tmp, errno);
		goto out;
	}
	setvbuf(f->fp, NULL, _IOFBF, 64 * 1024);
	*out = f;
	f = NULL;
out:
	store_abort(&f);
	return rc;
}

FILE *store_fp(struct store_file *f)
{
	return f ? f->fp : NULL;
}

/* flush, fsync, close: the temp file holds all data on disk, or an error. */
static sc_result store_finish_tmp(struct store_file *f, char *err,
				  size_t errlen)
{
	int fl = fflush(f->fp);
	int bad = ferror(f->fp);
	int e = f->werr ? f->werr : fl ? errno : EIO;
	fclose(f->fp); /* the cookie has no close: fd stays open */
	f->fp = NULL;
	if (fl || bad || f->werr)
		return store_fail(err, errlen, "write", f->tmp, e);
	if (fsync(f->fd))
		return store_fail(err, errlen, "fsync", f->tmp, errno);
	int r = close(f->fd);
	f->fd = -1;
	if (r)
		return store_fail(err, errlen, "close", f->tmp, errno);
	return SC_OK;
}

sc_result store_commit(struct store_file **fp, char *err, size_t errlen)
{
	if (!fp || !*fp)
		return SC_ERR_INVALID;
	struct store_file *f = *fp;
	sc_result rc = store_finish_tmp(f, err, errlen);
	if (rc)
		goto out;
	if (rename(f->tmp, f->final)) {
		rc = store_fail(err, errlen, "rename", f->final, errno);
		goto out;
	}
	f->created = 0; /* the temp name is gone: nothing to remove */
	if (store_fsync_dir(f->dir))
		rc = store_fail(err, errlen, "fsync", f->dir, errno);
out:
	store_abort(fp);
	return rc;
}

void store_abort(struct store_file **fp)
{
	if (!fp || !*fp)
		return;
	int e = errno;
	struct store_file *f = *fp;
	if (f->fp)
		fclose(f->fp);
	if (f->fd >= 0)
		close(f->fd);
	if (f->created)
		unlink(f->tmp);
	store_file_free(f);
	*fp = NULL;
	errno = e;
}

sc_result store_write_file(const char *path, const void *data, size_t len,
			   char *err, size_t errlen)
{
	struct store_file *f = NULL;
	if (!data && len)
		return SC_ERR_INVALID;
	sc_result rc = store_open(path, &f, err, errlen);
	if (rc)
		return rc;
	if (len)
		fwrite(data, 1, len, f->fp); /* errors surface in commit */
	return store_commit(&f, err, errlen);
}

/* Hard-link src as a temp name in final_path's directory (the name is in
 * *tmp_out); -1 with errno on failure. */
static int store_link_tmp(const char *src, const char *dir, const char *base,
			  char **tmp_out)
{
	for (int i = 0; i < STORE_OPEN_TRIES; i++) {
		unsigned long n = atomic_fetch_add(&store_counter, 1);
		free(*tmp_out);
		*tmp_out = sc_xasprintf("%s/.%s.tmp.%ld.%lu", dir, base,
					(long)getpid(), n);
		if (!link(src, *tmp_out))
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

sc_result store_link(const char *src, const char *final_path, char *err,
		     size_t errlen)
{
	char *dir = NULL, *tmp = NULL;
	const char *base;
	if (!src || !final_path || store_split(final_path, &dir, &base))
		return SC_ERR_INVALID;
	sc_result rc = SC_OK;
	if (store_link_tmp(src, dir, base, &tmp)) {
		rc = store_fail(err, errlen, "link", src, errno);
	} else if (rename(tmp, final_path)) {
		int e = errno;
		unlink(tmp);
		rc = store_fail(err, errlen, "rename", tmp, e);
	} else if (store_fsync_dir(dir)) {
		rc = store_fail(err, errlen, "fsync", dir, errno);
	}
	free(tmp);
	free(dir);
	return rc;
}

uint64_t store_file_size(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st))
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- tree walking ---- */

struct store_walk {
	/* called for every entry, children before their directory */
	int (*visit)(struct store_walk *w, int dirfd, const char *name,
		     int isdir, int isreg);
	unsigned count;
	char failed[256]; /* name of the entry that failed ("" if dir itself) */
	int err;          /* its errno */
};

/* Record a failure of the walk at entry name. */
static int store_walk_fail(struct store_walk *w, const char *name, int e)
{
	w->err = e;
	snprintf(w->failed, sizeof(w->failed), "%s", name);
	return -1;
}

/* store_fail for a walk: "<what> <dir>: <strerror> (at <entry>)". */
static sc_result store_fail_walk(char *err, size_t errlen, const char *what,
				 const char *dir, const struct store_walk *w)
{
	sc_result rc = store_fail(err, errlen, what, dir, w->err);
	size_t n = err ? strnlen(err, errlen) : 0;
	if (err && w->failed[0] && n + 1 < errlen)
		snprintf(err + n, errlen - n, " (at %s)", w->failed);
	errno = w->err ? w->err : EIO;
	return rc;
}

/* The type of dirfd/name without following a symlink: 'd', 'r' or 'o'. */
static int store_type(int dirfd, const struct dirent *de)
{
	struct stat st;
	if (de->d_type == DT_DIR)
		return 'd';
	if (de->d_type == DT_REG)
		return 'r';
	if (de->d_type != DT_UNKNOWN)
		return 'o';
	if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
		return 'o';
	return S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'r' : 'o';
}

static int store_walk_fd(struct store_walk *w, int fd, int depth);

/* Descend into the subdirectory name of dirfd (never through a symlink). */
static int store_walk_sub(struct store_walk *w, int dirfd, const char *name,
			  int depth)
{
	if (depth >= STORE_MAX_DEPTH)
		return store_walk_fail(w, name, ELOOP);
	int fd = openat(dirfd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return store_walk_fail(w, name, errno);
	}
	return store_walk_fd(w, fd, depth + 1); /* closes fd */
}

/* Walk the directory open on fd (consumed). 0 or -1 with w->err set. */
static int store_walk_fd(struct store_walk *w, int fd, int depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		w->err = errno;
		close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *de;
	while (!r && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		int t = store_type(dirfd(d), de);
		if (t == 'd')
			r = store_walk_sub(w, dirfd(d), n, depth);
		if (!r)
			r = w->visit(w, dirfd(d), n, t == 'd', t == 'r');
	}
	if (!r && errno) {
		w->err = errno;
		r = -1;
	}
	closedir(d);
	return r;
}

/* Open dir for walking; -1 with errno (ENOENT, ENOTDIR, ELOOP, ...). */
static int store_open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* ---- sweep ---- */

/* ".<name>.tmp.<digits>.<digits>" with a non-empty name. */
static int store_is_tmp(const char *n)
{
	size_t len = strlen(n);
	size_t i = len;
	for (int part = 0; part < 2; part++) {
		size_t end = i;
		while (i > 0 && n[i - 1] >= '0' && n[i - 1] <= '9')
			i--;
		if (i == end || i == 0 || n[i - 1] != '.')
			return 0;
		i--;
	}
	return n[0] == '.' && i >= 6 && !memcmp(n + i - 4, ".tmp", 4);
}

/* The pid field of a temp name (already checked by store_is_tmp). */
static long store_tmp_pid(const char *n)
{
	const char *last = strrchr(n, '.');
	const char *p = last - 1;
	while (p > n && *p != '.')
		p--;
	return strtol(p + 1, NULL, 10);
}

static int store_sweep_visit(struct store_walk *w, int dirfd,
			     const char *name, int isdir, int isreg)
{
	if (isdir || !isreg || !store_is_tmp(name) ||
	    store_tmp_pid(name) == (long)getpid())
		return 0;
	if (unlinkat(dirfd, name, 0) && errno != ENOENT)
		return store_walk_fail(w, name, errno);
	w->count++;
	return 0;
}

sc_result store_sweep_tmp(const char *dir, unsigned *removed, char *err,
			  size_t errlen)
{
	struct store_walk w = {.visit = store_sweep_visit};
	sc_result rc = SC_OK;
	if (removed)
		*removed = 0;
	if (!dir || !*dir)
		return SC_ERR_INVALID;
	char *p = store_strip_slashes(dir);
	int fd = store_open_dir(p);
	if (fd < 0) {
		if (errno != ENOENT)
			rc = store_fail(err, errlen, "open", p, errno);
		goto out;
	}
	if (store_walk_fd(&w, fd, 0))
		rc = store_fail_walk(err, errlen, "sweep", p, &w);
	if (removed)
		*removed = w.count;
out:
	free(p);
	return rc;
}

/* ---- remove tree ---- */

static int store_rm_visit(struct store_walk *w, int dirfd, const char *name,
			  int isdir, int isreg)
{
	(void)isreg;
	if (unlinkat(dirfd, name, isdir ? AT_REMOVEDIR : 0) &&
	    errno != ENOENT)
		return store_walk_fail(w, name, errno);
	w->count++;
	return 0;
}

/* rm -rf of p, already stripped of trailing slashes. */
static sc_result store_rm_path(const char *p, char *err, size_t errlen)
{
	struct store_walk w = {.visit = store_rm_visit};
	int fd = store_open_dir(p);
	if (fd < 0) {
		if (errno == ENOENT)
			return SC_OK;
		if (errno != ENOTDIR && errno != ELOOP)
			return store_fail(err, errlen, "open", p, errno);
		/* a file or a symlink (to anything): remove the name only */
		if (unlink(p) && errno != ENOENT)
			return store_fail(err, errlen, "unlink", p, errno);
		return SC_OK;
	}
	if (store_walk_fd(&w, fd, 0))
		return store_fail_walk(err, errlen, "remove", p, &w);
	if (rmdir(p) && errno != ENOENT)
		return store_fail(err, errlen, "rmdir", p, errno);
	return SC_OK;
}

sc_result store_remove_tree(const char *dir, char *err, size_t errlen)
{
	if (!dir || !*dir)
		return SC_ERR_INVALID;
	char *p = store_strip_slashes(dir);
	sc_result rc = strcmp(p, "/") ? store_rm_path(p, err, errlen)
				      : SC_ERR_INVALID;
	int e = errno;
	free(p);
	errno = e;
	return rc;
}
