/*
 * test_olddata.c — a data directory written by an older snapcat (commit
 * 368c10a, tests/fixtures/data-368c10a) is served unchanged by this one:
 *
 *   copy the fixture -> snapcat serve --data COPY (no browser needed)
 *   -> for each expected/<path>.json: GET /api/<path> -> every field of
 *      the old answer is in the new one with the same value (new fields
 *      may be added) -> every snapshot's files come back byte for byte
 *   -> the browsable copy of a snapshot taken before its MHTML index
 *      existed: the first request builds page.mhtml.idx, the next read it
 *
 * The catalog is migrated on open; a second start must find it as it left
 * it.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "srv_harness.h"
#include "testhelp.h"

#ifndef OLDDATA_DIR
#define OLDDATA_DIR "tests/fixtures/data-368c10a"
#endif

static struct srv S;
static char Tmp[256], Data[300];

/* Is every field of old in new, equal (objects recursively, arrays item
 * by item, same length)? Says where not. */
static int subset(const cJSON *old, const cJSON *new, const char *path)
{
	if (cJSON_IsObject(old)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, old) {
			char p[512];
			snprintf(p, sizeof(p), "%s.%s", path, it->string);
			if (!subset(it, cJSON_GetObjectItem(new, it->string), p))
				return 0;
		}
		return cJSON_IsObject(new);
	}
	if (cJSON_IsArray(old)) {
		int n = cJSON_GetArraySize(old);
		if (!cJSON_IsArray(new) || cJSON_GetArraySize(new) != n) {
			fprintf(stderr, "%s: array differs\n", path);
			return 0;
		}
		for (int i = 0; i < n; i++) {
			char p[512];
			snprintf(p, sizeof(p), "%s[%d]", path, i);
			if (!subset(cJSON_GetArrayItem(old, i),
				    cJSON_GetArrayItem(new, i), p))
				return 0;
		}
		return 1;
	}
	if (new && cJSON_Compare(old, new, 1))
		return 1;
	char *a = cJSON_PrintUnformatted(old);
	char *b = new ? cJSON_PrintUnformatted(new) : NULL;
	fprintf(stderr, "%s: was %s, now %s\n", path, a, b ? b : "(absent)");
	cJSON_free(a);
	cJSON_free(b);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct sc_buf b;
	char chunk[65536];
	size_t n;
	sc_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sc_buf_append(&b, chunk, n))
			break;
	fclose(f);
	*len = b.len;
	return b.data ? b.data : calloc(1, 1);
}

/* expected/links_1_snapshots.json -> /api/links/1/snapshots */
static void api_path(const char *file, char *out, size_t len)
{
	size_t n = strlen(file) - strlen(".json"), o = 0;
	o += (size_t)snprintf(out, len, "/api/");
	for (size_t i = 0; i < n && o + 1 < len; i++)
		out[o++] = file[i] == '_' ? '/' : file[i];
	out[o] = 0;
}

TEST(answers_unchanged)
{
	DIR *d = opendir(OLDDATA_DIR "/expected");
	REQUIRE(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".json"))
			continue;
		char file[512], path[256];
		size_t len;
		snprintf(file, sizeof(file), "%s/expected/%s", OLDDATA_DIR,
			 e->d_name);
		api_path(e->d_name, path, sizeof(path));
		char *text = slurp(file, &len);
		cJSON *old = text ? cJSON_Parse(text) : NULL;
		struct srv_resp r;
		CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
		if (!subset(old, r.json, path))
			CHECK(!"an answer changed");
		srv_resp_free(&r);
		cJSON_Delete(old);
		free(text);
		files++;
	}
	closedir(d);
	CHECK(files >= 10);
}

/* The files a snapshot names come back as they were written. */
static void same_file(long snap, const char *kind, const char *rel)
{
	char path[128], file[512];
	size_t len;
	struct srv_resp r;
	snprintf(path, sizeof(path), "/api/snapshots/%ld/%s", snap, kind);
	snprintf(file, sizeof(file), "%s/data/snapshots/%s", OLDDATA_DIR, rel);
	char *want = slurp(file, &len);
	REQUIRE(want);
	CHECK_EQ_INT(srv_req(&S, "GET", path, NULL, NULL, &r), 200);
	CHECK(r.body.len == len && !memcmp(r.body.data, want, len));
	srv_resp_free(&r);
	free(want);
}

TEST(files_unchanged)
{
	same_file(1, "png", "1/1/page.png");
	same_file(1, "mhtml", "1/1/page.mhtml");
	same_file(1, "thumb.png", "1/1/thumb.png");
	same_file(4, "png", "2/4/page.png");
	same_file(4, "diff.png", "2/4/diff.png");
	same_file(3, "png", "3/3/page.png");
}

/* An old snapshot has no page.mhtml.idx: its copy's first request builds
 * and stores it, the answers stay the same. */
TEST(copy_without_index)
{
	char idx[512];
	struct stat st;
	struct srv_resp r, r2;
	snprintf(idx, sizeof(idx), "%s/snapshots/1/1/page.mhtml.idx", Data);
	CHECK(stat(idx, &st) != 0);
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/snapshots/1/page", NULL, NULL, &r),
		     200);
	CHECK(r.body.len > 0 && strstr(r.body.data, "<html") != NULL);
	REQUIRE(stat(idx, &st) == 0);
	struct timespec built = st.st_mtim;
	CHECK_EQ_INT(srv_req(&S, "GET", "/api/snapshots/1/page", NULL, NULL, &r2),
		     200);
	CHECK(r2.body.len == r.body.len &&
	      !memcmp(r2.body.data, r.body.data, r.body.len));
	REQUIRE(stat(idx, &st) == 0);
	CHECK(st.st_mtim.tv_sec == built.tv_sec &&
	      st.st_mtim.tv_nsec == built.tv_nsec); /* read, not written again */
	srv_resp_free(&r);
	srv_resp_free(&r2);
}

TEST(search_and_filters)
{
	struct srv_resp r;
	srv_req(&S, "GET", "/api/links?tag=keep&tag=news&match=all", NULL, NULL,
		&r);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 1);
	srv_resp_free(&r);
	srv_req(&S, "GET", "/api/links?q=Versioned", NULL, NULL, &r);
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 1);
	srv_resp_free(&r);
}

static const char *const Args[] = {"--browser", "http://127.0.0.1:1",
				   "--no-prewarm", NULL};

int main(void)
{
	char tmpl[] = "/tmp/snapcat-olddata-XXXXXX", cmd[1024];
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(Tmp, sizeof(Tmp), "%s", tmpl);
	snprintf(Data, sizeof(Data), "%s/data", Tmp);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/data' '%s/'", OLDDATA_DIR, Tmp);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (system(cmd) || srv_start(&S, Data, Args))
		return 1;
	RUN(answers_unchanged);
	RUN(files_unchanged);
	RUN(copy_without_index);
	RUN(search_and_filters);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	/* started again on the migrated catalog: the same answers */
	if (srv_start(&S, Data, Args))
		return 1;
	RUN(answers_unchanged);
	CHECK_EQ_INT(srv_stop(&S, SIGTERM), 0);
	curl_global_cleanup();
	int rc = test_report();
	if (test_passed(rc))
		(void)!sc_remove_tree(Tmp);
	return rc;
}
