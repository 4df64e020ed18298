/*
 * test_store.c — the atomic file store (orchestrator/base/store.c): writes leave
 * no temp files and replace content whole, failed writes leave the old file,
 * sweeping removes exactly the temp names, tree removal never follows links.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testhelp.h"

static char root[64];

/* A fresh directory under root for one test; caller frees. */
static char *mkroot(const char *name)
{
	char *d = sc_xasprintf("%s/%s", root, name);
	if (mkdir(d, 0755))
		perror(d);
	return d;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static int exists(const char *path)
{
	struct stat st;
	return !lstat(path, &st);
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (!fp) {
		perror(path);
		return;
	}
	fputs(text, fp);
	fclose(fp);
}

/* The file's content as a NUL-terminated string (up to 1 MB); caller frees. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	char *buf = sc_xmalloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static char *join(const char *a, const char *b)
{
	return sc_xasprintf("%s/%s", a, b);
}

TEST(write_atomic)
{
	char *d = mkroot("write");
	char *p = join(d, "a.txt");
	char err[256] = "";
	CHECK_EQ_INT(store_write_file(p, "hello", 5, err, sizeof(err)), SC_OK);
	CHECK_STR(err, "");
	char *s = slurp(p);
	CHECK_STR(s, "hello");
	free(s);
	CHECK_EQ_INT(entries(d), 1); /* no temp file stays */
	CHECK_EQ_INT(store_file_size(p), 5);
	/* empty files are files too */
	char *e = join(d, "empty");
	CHECK_EQ_INT(store_write_file(e, NULL, 0, NULL, 0), SC_OK);
	CHECK(exists(e));
	CHECK_EQ_INT(store_file_size(e), 0);
	CHECK_EQ_INT(store_file_size("/nonexistent/x"), 0);
	CHECK_EQ_INT(store_write_file(NULL, "x", 1, NULL, 0), SC_ERR_INVALID);
	CHECK_EQ_INT(store_write_file(e, NULL, 3, NULL, 0), SC_ERR_INVALID);
	free(e);
	free(p);
	free(d);
}

TEST(overwrite)
{
	char *d = mkroot("overwrite");
	char *p = join(d, "f");
	CHECK_EQ_INT(store_write_file(p, "first version", 13, NULL, 0), SC_OK);
	CHECK_EQ_INT(store_write_file(p, "second", 6, NULL, 0), SC_OK);
	char *s = slurp(p);
	CHECK_STR(s, "second");
	free(s);
	/* a large write, through the buffered stream */
	size_t big = 700 * 1000;
	char *data = sc_xmalloc(big + 1);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	data[big] = '\0';
	CHECK_EQ_INT(store_write_file(p, data, big, NULL, 0), SC_OK);
	s = slurp(p);
	CHECK(s && strlen(s) == big && !memcmp(s, data, big));
	free(s);
	free(data);
	CHECK_EQ_INT(entries(d), 1);
	free(p);
	free(d);
}

/* store_link: one file under two names, replacing what was there; a
 * missing source leaves the destination and no temp name. */
TEST(link_replace)
{
	char *d = mkroot("link");
	char *a = join(d, "a.png"), *b = join(d, "b.png");
	char err[256] = "";
	put(a, "same bytes");
	put(b, "old");
	CHECK_EQ_INT(store_link(a, b, err, sizeof(err)), SC_OK);
	struct stat sa, sb;
	REQUIRE(!stat(a, &sa) && !stat(b, &sb));
	CHECK(sa.st_ino == sb.st_ino);
	CHECK_EQ_INT(sb.st_nlink, 2);
	char *s = slurp(b);
	CHECK_STR(s, "same bytes");
	free(s);
	CHECK_EQ_INT(unlink(a), 0); /* the other name keeps the content */
	s = slurp(b);
	CHECK_STR(s, "same bytes");
	free(s);
	CHECK_EQ_INT(store_link(a, b, err, sizeof(err)), SC_ERR_IO);
	CHECK(strstr(err, "No such file") != NULL);
	s = slurp(b);
	CHECK_STR(s, "same bytes");
	free(s);
	CHECK_EQ_INT(entries(d), 1);
	CHECK_EQ_INT(store_link(NULL, b, NULL, 0), SC_ERR_INVALID);
	free(a);
	free(b);
	free(d);
}

TEST(stream_commit)
{
	char *d = mkroot("stream");
	char *p = join(d, "out.txt");
	struct store_file *f = NULL;
	REQUIRE(store_open(p, &f, NULL, 0) == SC_OK);
	REQUIRE(f && store_fp(f));
	CHECK(!exists(p)); /* nothing visible before commit */
	CHECK_EQ_INT(entries(d), 1); /* the temp */
	for (int i = 0; i < 1000; i++)
		fprintf(store_fp(f), "line %d\n", i);
	CHECK_EQ_INT(store_commit(&f, NULL, 0), SC_OK);
	CHECK(f == NULL);
	char *s = slurp(p);
	CHECK(s && !strncmp(s, "line 0\nline 1\n", 14) &&
	      strstr(s, "line 999\n"));
	free(s);
	CHECK_EQ_INT(entries(d), 1);
	CHECK_EQ_INT(store_commit(&f, NULL, 0), SC_ERR_INVALID);
	CHECK(store_fp(NULL) == NULL);
	free(p);
	free(d);
}

TEST(open_abort)
{
	char *d = mkroot("abort");
	char *p = join(d, "keep");
	struct store_file *f = NULL;
	/* abort of a new file leaves nothing */
	REQUIRE(store_open(p, &f, NULL, 0) == SC_OK);
	fputs("discarded", store_fp(f));
	store_abort(&f);
	CHECK(f == NULL);
	CHECK_EQ_INT(entries(d), 0);
	/* abort over an existing file leaves it as it was */
	put(p, "old");
	REQUIRE(store_open(p, &f, NULL, 0) == SC_OK);
	fputs("new", store_fp(f));
	fflush(store_fp(f));
	store_abort(&f);
	char *s = slurp(p);
	CHECK_STR(s, "old");
	free(s);
	CHECK_EQ_INT(entries(d), 1);
	store_abort(&f);  /* *f NULL */
	store_abort(NULL);
	/* paths without a file name */
	CHECK_EQ_INT(store_open("dir/", &f, NULL, 0), SC_ERR_INVALID);
	CHECK(f == NULL);
	CHECK_EQ_INT(store_open("", &f, NULL, 0), SC_ERR_INVALID);
	free(p);
	free(d);
}

TEST(missing_dir)
{
	char *d = mkroot("missing");
	char *p = sc_xasprintf("%s/nope/x.png", d);
	char err[256] = "";
	errno = 0;
	CHECK_EQ_INT(store_write_file(p, "x", 1, err, sizeof(err)), SC_ERR_IO);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK(strstr(err, "/nope/") != NULL);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	struct store_file *f = (struct store_file *)1;
	CHECK_EQ_INT(store_open(p, &f, err, sizeof(err)), SC_ERR_IO);
	CHECK(f == NULL);
	/* a tiny err buffer is truncated, not overrun */
	char small[8];
	CHECK_EQ_INT(store_write_file(p, "x", 1, small, sizeof(small)),
		     SC_ERR_IO);
	CHECK_EQ_INT(strlen(small), 7);
	free(p);
	free(d);
}

/* A write that fails half way (here EFBIG from RLIMIT_FSIZE, standing in for
 * ENOSPC) is reported with its errno and leaves the old file whole. */
TEST(write_error_keeps_old)
{
	char *d = mkroot("efbig");
	char *p = join(d, "f");
	put(p, "old");
	struct rlimit old, lim;
	REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 4096;
	REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	size_t big = 200 * 1000;
	char *data = sc_xcalloc(1, big);
	char err[256] = "";
	errno = 0;
	sc_result rc = store_write_file(p, data, big, err, sizeof(err));
	int e = errno;
	/* the streaming path reports the same at commit */
	struct store_file *f = NULL;
	sc_result rc2 = store_open(p, &f, NULL, 0);
	if (!rc2) {
		fwrite(data, 1, big, store_fp(f));
		rc2 = store_commit(&f, NULL, 0);
	}
	int e2 = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK_EQ_INT(rc, SC_ERR_IO);
	CHECK_EQ_INT(e, EFBIG);
	CHECK(strstr(err, strerror(EFBIG)) != NULL);
	CHECK_EQ_INT(rc2, SC_ERR_IO);
	CHECK_EQ_INT(e2, EFBIG);
	CHECK(f == NULL);
	char *s = slurp(p);
	CHECK_STR(s, "old");
	free(s);
	CHECK_EQ_INT(entries(d), 1);
	free(data);
	free(p);
	free(d);
}

TEST(mkdirs)
{
	char *d = mkroot("mkdirs");
	char *p = sc_xasprintf("%s/a/b//c/", d);
	char err[256] = "";
	CHECK_EQ_INT(store_mkdirs(p, err, sizeof(err)), SC_OK);
	char *c = sc_xasprintf("%s/a/b/c", d);
	struct stat st;
	CHECK(stat(c, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 0777, 0755 & ~(mode_t)022);
	CHECK_EQ_INT(store_mkdirs(p, NULL, 0), SC_OK); /* exists: fine */
	char *file = join(d, "file");
	put(file, "x");
	char *under = join(file, "sub");
	errno = 0;
	CHECK_EQ_INT(store_mkdirs(under, err, sizeof(err)), SC_ERR_IO);
	CHECK_EQ_INT(errno, ENOTDIR);
	CHECK_EQ_INT(store_mkdirs(file, NULL, 0), SC_ERR_IO);
	CHECK_EQ_INT(store_mkdirs("", NULL, 0), SC_ERR_INVALID);
	/* then a write into the new directory works */
	char *in = join(c, "x.png");
	CHECK_EQ_INT(store_write_file(in, "png", 3, NULL, 0), SC_OK);
	free(in);
	free(under);
	free(file);
	free(c);
	free(p);
	free(d);
}

TEST(sweep)
{
	char *d = mkroot("sweep");
	char *own = sc_xasprintf(".own.tmp.%ld.5", (long)getpid());
	static const char *const dirs[] = {"sub", "sub/deeper",
					   ".dir.tmp.1.2"};
	static const char *const gone[] = {
		".x.tmp.1.2", "sub/.y.png.tmp.99.0", "sub/deeper/.z.tmp.3.4",
		".dir.tmp.1.2/.w.mhtml.tmp.12345.678"};
	static const char *const kept[] = {
		"x.tmp.1.2", ".x.tmp.1", ".x.tmp.a.2", ".tmp.1.2",
		"keep.png", "sub/.hidden", ".x.tmp.1.2.bak", ".x.tmp.1.2x",
		".x.tmp..2", "sub/deeper/page.mhtml"};
	char *p;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		p = join(d, dirs[i]);
		mkdir(p, 0755);
		free(p);
	}
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		p = join(d, gone[i]);
		put(p, "t");
		free(p);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		p = join(d, kept[i]);
		put(p, "k");
		free(p);
	}
	p = join(d, own); /* this process's own temp: in use */
	put(p, "mine");
	free(p);
	char *target = join(d, "keep.png");
	char *link = join(d, "sub/.l.tmp.1.2"); /* a symlink: not a file */
	CHECK(symlink(target, link) == 0);
	unsigned removed = 99;
	CHECK_EQ_INT(store_sweep_tmp(d, &removed, NULL, 0), SC_OK);
	CHECK_EQ_INT(removed, 4);
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		p = join(d, gone[i]);
		CHECK(!exists(p));
		free(p);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		p = join(d, kept[i]);
		CHECK(exists(p));
		free(p);
	}
	p = join(d, own);
	CHECK(exists(p));
	free(p);
	CHECK(exists(link) && exists(target));
	p = join(d, ".dir.tmp.1.2");
	CHECK(exists(p));
	free(p);
	/* a second sweep finds nothing; a missing dir is fine */
	CHECK_EQ_INT(store_sweep_tmp(d, &removed, NULL, 0), SC_OK);
	CHECK_EQ_INT(removed, 0);
	p = join(d, "absent");
	removed = 7;
	CHECK_EQ_INT(store_sweep_tmp(p, &removed, NULL, 0), SC_OK);
	CHECK_EQ_INT(removed, 0);
	free(p);
	free(link);
	free(target);
	free(own);
	free(d);
}

TEST(remove_tree)
{
	char *d = mkroot("rmtree");
	char *outside = mkroot("rmtree_outside");
	char *precious = join(outside, "precious");
	put(precious, "keep me");
	char *snap = join(d, "snap");
	char *deep = sc_xasprintf("%s/a/b/c", snap);
	REQUIRE(store_mkdirs(deep, NULL, 0) == SC_OK);
	char *f1 = join(deep, "x.png"), *f2 = join(snap, "y.mhtml");
	put(f1, "1");
	put(f2, "2");
	char *l1 = join(snap, "a/link_to_dir"), *l2 = join(snap, "link_file");
	CHECK(symlink(outside, l1) == 0);
	CHECK(symlink(precious, l2) == 0);
	char err[256] = "";
	CHECK_EQ_INT(store_remove_tree(snap, err, sizeof(err)), SC_OK);
	CHECK(!exists(snap));
	CHECK(exists(precious)); /* links were removed, not followed */
	CHECK_EQ_INT(entries(outside), 1);
	CHECK_EQ_INT(entries(d), 0);
	/* the tree itself is a symlink ("link/" too): only the link goes */
	char *ld = join(d, "linkdir");
	CHECK(symlink(outside, ld) == 0);
	char *lds = sc_xasprintf("%s/", ld);
	CHECK_EQ_INT(store_remove_tree(lds, NULL, 0), SC_OK);
	CHECK(!exists(ld));
	CHECK(exists(precious));
	CHECK_EQ_INT(store_remove_tree(snap, NULL, 0), SC_OK); /* missing */
	CHECK_EQ_INT(store_remove_tree("", NULL, 0), SC_ERR_INVALID);
	CHECK_EQ_INT(store_remove_tree("/", NULL, 0), SC_ERR_INVALID);
	CHECK_EQ_INT(store_remove_tree("//", NULL, 0), SC_ERR_INVALID);
	free(lds);
	free(ld);
	free(l1);
	free(l2);
	free(f1);
	free(f2);
	free(deep);
	free(snap);
	free(precious);
	free(outside);
	free(d);
}

struct writer_arg {
	const char *path;
	int id;
	int fails;
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	char buf[4096];
	memset(buf, 'a' + a->id, sizeof(buf));
	for (int i = 0; i < 40; i++)
		a->fails += store_write_file(a->path, buf, sizeof(buf), NULL,
					     0) != SC_OK;
	return NULL;
}

/* Threads replacing one file at once: every read sees one whole version. */
TEST(concurrent_writers)
{
	char *d = mkroot("threads");
	char *p = join(d, "shared");
	enum { N = 6 };
	pthread_t th[N];
	struct writer_arg args[N];
	for (int i = 0; i < N; i++) {
		args[i] = (struct writer_arg){.path = p, .id = i};
		REQUIRE(pthread_create(&th[i], NULL, writer_main, &args[i]) ==
			0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(args[i].fails, 0);
	char *s = slurp(p);
	REQUIRE(s);
	CHECK_EQ_INT(strlen(s), 4096);
	int whole = 1;
	for (size_t i = 1; i < 4096; i++)
		whole &= s[i] == s[0];
	CHECK(whole);
	free(s);
	CHECK_EQ_INT(entries(d), 1);
	free(p);
	free(d);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/test_store.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	umask(022);
	RUN(write_atomic);
	RUN(overwrite);
	RUN(link_replace);
	RUN(stream_commit);
	RUN(open_abort);
	RUN(missing_dir);
	RUN(write_error_keeps_old);
	RUN(mkdirs);
	RUN(sweep);
	RUN(remove_tree);
	RUN(concurrent_writers);
	if (store_remove_tree(root, NULL, 0))
		fprintf(stderr, "could not remove %s\n", root);
	return test_report();
}
