/*
 * test_catalog_upgrade.c — a catalog written by older code opens with
 * today's: tests/unit/data/catalog-v5.db (schema 5, made by commit 287b983
 * with mkfixture.c; see data/README.md) is copied, migrated, and read back
 * through the public API exactly as the old code read it
 * (catalog-v5.expected, catalog_dump.h); then it takes writes, has the
 * schema of a fresh catalog, and opens for readers. A schema-5 file
 * without the webhook tables (a catalog that never ran `serve`) gets them
 * from migration 6.
 */
#include "catalog_testhelp.h"
#include "catalog_dump.h"
#include "hooks_store.h"

#define FIXTURE UNIT_DATA "/catalog-v5.db"
#define EXPECTED UNIT_DATA "/catalog-v5.expected"

/* Copy file from to tmpdir/name (dbpath); 0 on success. */
static int copy_fixture(const char *from, const char *name)
{
	char buf[65536];
	size_t n;
	int bad = 0;
	snprintf(dbpath, sizeof(dbpath), "%s/%s.db", tmpdir, name);
	FILE *in = fopen(from, "rb"), *out = fopen(dbpath, "wbx");
	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		bad |= fwrite(buf, 1, n, out) != n;
	bad |= !in || !out || ferror(in);
	if (in)
		fclose(in);
	if (out)
		bad |= fclose(out) != 0;
	return bad ? -1 : 0;
}

/* The whole of a file into a new string (NULL on error). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);
	char buf[8192];
	size_t n;
	while (f && m && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	if (f)
		fclose(f);
	if (m)
		fclose(m);
	return f ? s : (free(s), NULL);
}

/* Print where two texts first differ (a line of each). */
static void show_diff(const char *want, const char *got)
{
	int line = 1;
	const char *w = want, *g = got;
	while (*w && *w == *g) {
		line += *w == '\n';
		w++, g++;
	}
	while (w > want && w[-1] != '\n')
		w--, g--;
	fprintf(stderr, "dump differs at line %d:\n  want: %.*s\n  got:  %.*s\n",
		line, (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
}

TEST(fixture_reads_back)
{
	struct catalog *c = NULL;
	char err[256], *got = NULL;
	size_t len = 0;
	REQUIRE(raw_count(FIXTURE, "PRAGMA user_version") == 5);
	REQUIRE(copy_fixture(FIXTURE, "v5") == 0);
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
	FILE *m = open_memstream(&got, &len);
	REQUIRE(m);
	catalog_dump(m, c, 8);
	fclose(m);
	char *want = slurp(EXPECTED);
	REQUIRE(want);
	if (strcmp(want, got))
		show_diff(want, got);
	CHECK(!strcmp(want, got));
	free(want);
	free(got);
	/* migration 7: the old snapshots asked for no PDF */
	struct catalog_snapshot *sn = NULL;
	REQUIRE(catalog_snapshot_get(c, 1, 0, &sn) == SC_OK);
	CHECK_EQ_INT(sn->pdf_status, CATALOG_OUT_SKIPPED);
	CHECK(sn->pdf_path == NULL);
	CHECK_EQ_INT(sn->pdf_bytes, 0);
	catalog_snapshot_free(&sn);
	catalog_close(&c);
	/* the fixture itself is never written */
	CHECK_EQ_INT(raw_count(FIXTURE, "PRAGMA user_version"), 5);
}

/* Every schema object, "type name tbl sql" a line, sorted. */
static char *schema_of(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);
	if (m && sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, "
			       "coalesce(sql, '') FROM sqlite_schema "
			       "ORDER BY type, name", -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			fprintf(m, "%s %s %s %s\n", sqlite3_column_text(st, 0),
				sqlite3_column_text(st, 1),
				sqlite3_column_text(st, 2),
				sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (m)
		fclose(m);
	return s;
}

/* The migrated old file and a fresh one have the same schema, text for
 * text: migration 6 made nothing the old hooks_store_init had not. */
TEST(fixture_schema_matches_fresh)
{
	struct catalog *c = open_fresh("fresh");
	REQUIRE(c);
	catalog_close(&c);
	char *fresh = schema_of(dbpath);
	snprintf(dbpath, sizeof(dbpath), "%s/v5.db", tmpdir);
	char *old = schema_of(dbpath);
	REQUIRE(fresh && old);
	CHECK(strstr(fresh, "table webhook_deliveries webhook_deliveries "
			    "CREATE TABLE webhook_deliveries (") != NULL);
	if (strcmp(fresh, old))
		show_diff(fresh, old);
	CHECK(!strcmp(fresh, old));
	free(fresh);
	free(old);
}

/* After the upgrade the old data is worked with as usual. */
TEST(fixture_takes_writes)
{
	struct catalog *c = NULL;
	char err[256];
	snprintf(dbpath, sizeof(dbpath), "%s/v5.db", tmpdir);
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	int64_t requeued = 0, failed = 0, rec = -1, cur = 0, id = 0, made = 0;
	CHECK_EQ_INT(catalog_jobs_recover(c, &requeued, &failed), SC_OK);
	CHECK_EQ_INT(requeued, 1); /* the job left running */
	CHECK_EQ_INT(hooks_store_init(c, &rec), SC_OK);
	CHECK_EQ_INT(rec, 0);
	CHECK_EQ_INT(hooks_store_cursor(c, &cur), SC_OK);
	CHECK_EQ_INT(cur, 5); /* kept, not reset to the newest event (8) */
	int64_t link = add_link(c, "https://after.example/upgrade");
	REQUIRE(link == 7); /* ids go on after the deleted ones */
	CHECK_EQ_INT(catalog_link_add_tag(c, link, "news"), SC_OK);
	CHECK(snap_ok(c, link, "After", "the upgrade worked") > 0);
	CHECK_EQ_INT(search(c, "upgrade", &id), 1);
	CHECK_EQ_INT(id, link);
	CHECK_EQ_INT(tag_count(c, "news"), 3);
	REQUIRE(catalog_event_append(c, "job.done", 0, 9, link, "{}", &id) ==
		SC_OK);
	CHECK_EQ_INT(id, 9);
	struct hooks_event ev = {.id = id, .type = "job.done", .payload = "{}"};
	CHECK_EQ_INT(hooks_store_ingest(c, &ev, 1, &made), SC_OK);
	CHECK_EQ_INT(made, 1); /* webhook 1; webhook 2 is paused */
	CHECK_EQ_INT(catalog_check(c), SC_OK);
	struct catalog *r = NULL;
	REQUIRE(catalog_open_reader(dbpath, &r, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(search(r, "upgrade", NULL), 1);
	catalog_close(&r);
	catalog_close(&c);
}

/* A schema-5 catalog that never ran `serve` has no webhook tables:
 * migration 6 creates them, and the sender's first start sets the ingest
 * cursor at the newest event (no history replayed). */
TEST(v5_without_webhook_tables)
{
	struct catalog *c = NULL;
	char err[256];
	int64_t cur = -1, newest = 0;
	REQUIRE(copy_fixture(FIXTURE, "v5_nohooks") == 0);
	REQUIRE(raw_sql(dbpath, "DROP TABLE webhook_deliveries; "
				"DROP TABLE webhooks; DROP TABLE webhook_meta; "
				"DELETE FROM sqlite_sequence WHERE name LIKE "
				"'webhook%'") == SQLITE_OK);
	REQUIRE(catalog_open(dbpath, &c, err, sizeof(err)) == SC_OK);
	CHECK_EQ_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name LIKE 'webhook%'"), 5);
	CHECK_EQ_INT(hooks_store_cursor(c, &cur), SC_OK);
	CHECK_EQ_INT(cur, 0); /* no cursor before the sender's first start */
	CHECK_EQ_INT(hooks_store_init(c, NULL), SC_OK);
	CHECK_EQ_INT(catalog_events_bounds(c, NULL, &newest), SC_OK);
	CHECK_EQ_INT(hooks_store_cursor(c, &cur), SC_OK);
	CHECK_EQ_INT(cur, newest);
	CHECK(newest == 8);
	struct hooks_webhook_list *w = NULL;
	CHECK_EQ_INT(hooks_store_list(c, &w), SC_OK);
	CHECK(w && w->n == 0);
	hooks_webhook_list_free(&w);
	catalog_close(&c);
}

#define CATALOG_TESTS(T) \
	T(fixture_reads_back) T(fixture_schema_matches_fresh) \
	T(fixture_takes_writes) T(v5_without_webhook_tables)
CATALOG_TEST_MAIN("upgrade")
