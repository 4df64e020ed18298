/*
 * catalog_schema.c — the catalog's schema: every migration, in order, in
 * one place, and the checks that a file is a catalog this code may open.
 *
 *   catalog_open -> cat_schema_migrate -> cat_schema_check (ours? newer?)
 *     -> for each migration above the file's PRAGMA user_version:
 *        cat_migrate_one (BEGIN IMMEDIATE, the script, COMMIT)
 *   catalog_open_reader -> cat_schema_check (and the version must be
 *     CATALOG_SCHEMA_VERSION: readers never migrate)
 *
 * A migration is a constant script run with sqlite3_exec in its own durable
 * transaction; it ends by setting PRAGMA user_version to its number, so a
 * file is always at the last migration that completed. Migrations are
 * never edited once released: a change of schema is a new one at the end
 * (and CATALOG_SCHEMA_VERSION in catalog.h goes up with it).
 *
 * Search: links_fts is a regular FTS5 table whose rowid is the link id and
 * whose columns are the link's URL, title and the page text of its newest
 * usable snapshot (links.last_snapshot_id). Triggers keep it in step with
 * links (insert, update of url/title/last_snapshot_id, delete) and with a
 * change of that snapshot's text. It keeps its own copy of the text (at
 * most CATALOG_TEXT_MAX per link): simpler and safer than an external-content
 * table over a join, whose index breaks if a delete does not repeat the
 * exact old values.
 */
#include "catalog_int.h"

#include <inttypes.h>
#include <stdlib.h>

/* PRAGMA application_id of a snapcat catalog: "Snap". */
#define CAT_APP_ID 0x536e6170

static const char SQL_USER_VERSION[] = "PRAGMA user_version";
static const char SQL_APP_ID[] = "PRAGMA application_id";
static const char SQL_TABLE_COUNT[] = "SELECT count(*) FROM sqlite_schema";

struct cat_migration {
	int version;
	const char *sql; /* must end by setting PRAGMA user_version */
};

/* The migrations, oldest first (see the top of this file). */
static const struct cat_migration cat_migrations[] = {
	{1,
	 "PRAGMA application_id = 1399742832;\n" /* CAT_APP_ID */
	 "CREATE TABLE links (\n"
	 "  id INTEGER PRIMARY KEY,\n"
	 "  url TEXT NOT NULL UNIQUE,\n"
	 "  title TEXT,\n"
	 "  title_locked INTEGER NOT NULL DEFAULT 0,\n"
	 "  created_at INTEGER NOT NULL,\n"
	 "  updated_at INTEGER NOT NULL,\n"
	 "  last_snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL\n"
	 ");\n"
	 "CREATE INDEX links_created ON links(created_at);\n"
	 "CREATE INDEX links_last_snapshot ON links(last_snapshot_id);\n"
	 "CREATE TABLE tags (\n"
	 "  id INTEGER PRIMARY KEY,\n"
	 "  name TEXT NOT NULL UNIQUE COLLATE NOCASE\n"
	 "    CHECK (length(name) BETWEEN 1 AND 64)\n"
	 ");\n"
	 "CREATE TABLE link_tags (\n"
	 "  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,\n"
	 "  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,\n"
	 "  PRIMARY KEY (link_id, tag_id)\n"
	 ") WITHOUT ROWID;\n"
	 "CREATE INDEX link_tags_tag ON link_tags(tag_id);\n"
	 "CREATE TABLE jobs (\n"
	 "  id INTEGER PRIMARY KEY,\n"
	 "  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,\n"
	 "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN\n"
	 "    ('queued', 'running', 'done', 'failed', 'canceled')),\n"
	 "  attempts INTEGER NOT NULL DEFAULT 0,\n"
	 "  max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),\n"
	 "  options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),\n"
	 "  created_at INTEGER NOT NULL,\n"
	 "  started_at INTEGER,\n"
	 "  finished_at INTEGER,\n"
	 "  run_after INTEGER NOT NULL DEFAULT 0,\n"
	 "  error_class TEXT,\n"
	 "  error_message TEXT,\n"
	 "  snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,\n"
	 "  progress INTEGER NOT NULL DEFAULT 0\n"
	 "    CHECK (progress BETWEEN 0 AND 100),\n"
	 "  stage TEXT\n"
	 ");\n"
	 "CREATE INDEX jobs_state ON jobs(state, id);\n"
	 "CREATE INDEX jobs_link ON jobs(link_id, id);\n"
	 "CREATE INDEX jobs_snapshot ON jobs(snapshot_id);\n"
	 "CREATE TABLE snapshots (\n"
	 "  id INTEGER PRIMARY KEY,\n"
	 "  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,\n"
	 "  job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,\n"
	 "  created_at INTEGER NOT NULL,\n"
	 "  finished_at INTEGER,\n"
	 "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	 "    ('pending', 'ok', 'partial', 'failed')),\n"
	 "  final_url TEXT,\n"
	 "  http_status INTEGER,\n"
	 "  title TEXT,\n"
	 "  width INTEGER,\n"
	 "  height INTEGER,\n"
	 "  truncated INTEGER NOT NULL DEFAULT 0,\n"
	 "  dir TEXT,\n"
	 "  png_path TEXT,\n"
	 "  mhtml_path TEXT,\n"
	 "  thumb_path TEXT,\n"
	 "  png_bytes INTEGER,\n"
	 "  mhtml_bytes INTEGER,\n"
	 "  text TEXT,\n"
	 "  timings TEXT CHECK (timings IS NULL OR json_valid(timings)),\n"
	 "  error_class TEXT,\n"
	 "  error_message TEXT,\n"
	 "  png_status TEXT NOT NULL DEFAULT 'pending' CHECK (png_status IN\n"
	 "    ('pending', 'ok', 'failed', 'skipped')),\n"
	 "  mhtml_status TEXT NOT NULL DEFAULT 'pending' CHECK (mhtml_status IN\n"
	 "    ('pending', 'ok', 'failed', 'skipped')),\n"
	 "  thumb_status TEXT NOT NULL DEFAULT 'pending' CHECK (thumb_status IN\n"
	 "    ('pending', 'ok', 'failed', 'skipped')),\n"
	 "  text_status TEXT NOT NULL DEFAULT 'pending' CHECK (text_status IN\n"
	 "    ('pending', 'ok', 'failed', 'skipped'))\n"
	 ");\n"
	 "CREATE INDEX snapshots_link ON snapshots(link_id, id);\n"
	 "CREATE INDEX snapshots_job ON snapshots(job_id);\n"
	 "CREATE INDEX snapshots_pending ON snapshots(state)\n"
	 "  WHERE state = 'pending';\n"
	 "CREATE TABLE events (\n"
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	 "  type TEXT NOT NULL,\n"
	 "  ts INTEGER NOT NULL,\n"
	 "  job_id INTEGER,\n" /* no foreign keys: events outlive their rows */
	 "  link_id INTEGER,\n"
	 "  json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(json))\n"
	 ");\n"
	 "CREATE INDEX events_job ON events(job_id, id)\n"
	 "  WHERE job_id IS NOT NULL;\n"
	 "CREATE VIRTUAL TABLE links_fts USING fts5(url, title, text,\n"
	 "  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');\n"
	 "CREATE TRIGGER links_fts_ai AFTER INSERT ON links BEGIN\n"
	 "  INSERT INTO links_fts(rowid, url, title, text) VALUES (new.id,\n"
	 "    new.url, new.title,\n"
	 "    (SELECT text FROM snapshots WHERE id = new.last_snapshot_id));\n"
	 "END;\n"
	 "CREATE TRIGGER links_fts_au\n"
	 "  AFTER UPDATE OF url, title, last_snapshot_id ON links BEGIN\n"
	 "  DELETE FROM links_fts WHERE rowid = old.id;\n"
	 "  INSERT INTO links_fts(rowid, url, title, text) VALUES (new.id,\n"
	 "    new.url, new.title,\n"
	 "    (SELECT text FROM snapshots WHERE id = new.last_snapshot_id));\n"
	 "END;\n"
	 "CREATE TRIGGER links_fts_ad AFTER DELETE ON links BEGIN\n"
	 "  DELETE FROM links_fts WHERE rowid = old.id;\n"
	 "END;\n"
	 "CREATE TRIGGER snapshots_fts_au AFTER UPDATE OF text ON snapshots\n"
	 "BEGIN\n"
	 "  DELETE FROM links_fts WHERE rowid IN\n"
	 "    (SELECT id FROM links WHERE last_snapshot_id = new.id);\n"
	 "  INSERT INTO links_fts(rowid, url, title, text)\n"
	 "    SELECT id, url, title, new.text FROM links\n"
	 "    WHERE last_snapshot_id = new.id;\n"
	 "END;\n"
	 "PRAGMA user_version = 1;\n"},
	/* 2: what the link lists plan with (see catalog_links_list).
	 * tags.nlinks counts each tag's links (triggers keep it; a foreign
	 * key cascade fires them too). created_at never decreases with id:
	 * links added while the clock was behind get the previous newest
	 * created_at (SQL_LINK_INSERT in catalog_links.c does the same from now on), so
	 * "newest first" is also id order and every index on link ids can
	 * drive a page without sorting. */
	{2,
	 "ALTER TABLE tags ADD COLUMN nlinks INTEGER NOT NULL DEFAULT 0;\n"
	 "UPDATE tags SET nlinks =\n"
	 "  (SELECT count(*) FROM link_tags WHERE tag_id = tags.id);\n"
	 "CREATE TRIGGER link_tags_count_ai AFTER INSERT ON link_tags BEGIN\n"
	 "  UPDATE tags SET nlinks = nlinks + 1 WHERE id = new.tag_id;\n"
	 "END;\n"
	 "CREATE TRIGGER link_tags_count_ad AFTER DELETE ON link_tags BEGIN\n"
	 "  UPDATE tags SET nlinks = nlinks - 1 WHERE id = old.tag_id;\n"
	 "END;\n"
	 "UPDATE links SET created_at = m.newest FROM\n"
	 "  (SELECT id, max(created_at) OVER (ORDER BY id ROWS BETWEEN\n"
	 "     UNBOUNDED PRECEDING AND 1 PRECEDING) AS newest FROM links) AS m\n"
	 "  WHERE m.id = links.id AND links.created_at < m.newest;\n"
	 "PRAGMA user_version = 2;\n"},
	/* 3: the visual archive. png_sha256 is the PNG's content hash: an
	 * identical PNG already stored is hard-linked, not written again
	 * (png_shared). diff_* compare the PNG with the link's previous one:
	 * its id, the changed share and pixels, the changed regions as a
	 * JSON array of [x, y, w, h], and the diff image. */
	{3,
	 "ALTER TABLE snapshots ADD COLUMN png_sha256 TEXT;\n"
	 "ALTER TABLE snapshots ADD COLUMN png_shared INTEGER NOT NULL DEFAULT 0;\n"
	 "ALTER TABLE snapshots ADD COLUMN diff_against INTEGER;\n"
	 "ALTER TABLE snapshots ADD COLUMN diff_ratio REAL;\n"
	 "ALTER TABLE snapshots ADD COLUMN diff_changed INTEGER;\n"
	 "ALTER TABLE snapshots ADD COLUMN diff_boxes TEXT\n"
	 "  CHECK (diff_boxes IS NULL OR json_valid(diff_boxes));\n"
	 "ALTER TABLE snapshots ADD COLUMN diff_path TEXT;\n"
	 "CREATE INDEX snapshots_sha ON snapshots(png_sha256)\n"
	 "  WHERE png_sha256 IS NOT NULL;\n"
	 "PRAGMA user_version = 3;\n"},
	/* 4: per link, its capture options (a JSON object over the server's
	 * defaults, for every job of the link), its recapture schedule with
	 * the next due time (ms), and its retention policy (keep the newest
	 * keep_last snapshots; keep_changed: drop unchanged ones); per tag,
	 * a schedule and retention for its links without their own. */
	{4,
	 "ALTER TABLE links ADD COLUMN options TEXT\n"
	 "  CHECK (options IS NULL OR json_valid(options));\n"
	 "ALTER TABLE links ADD COLUMN schedule TEXT;\n"
	 "ALTER TABLE links ADD COLUMN next_capture_at INTEGER;\n"
	 "ALTER TABLE links ADD COLUMN keep_last INTEGER;\n"
	 "ALTER TABLE links ADD COLUMN keep_changed INTEGER NOT NULL DEFAULT 0;\n"
	 "CREATE INDEX links_next_capture ON links(next_capture_at)\n"
	 "  WHERE next_capture_at IS NOT NULL;\n"
	 "ALTER TABLE tags ADD COLUMN schedule TEXT;\n"
	 "ALTER TABLE tags ADD COLUMN keep_last INTEGER;\n"
	 "ALTER TABLE tags ADD COLUMN keep_changed INTEGER NOT NULL DEFAULT 0;\n"
	 "PRAGMA user_version = 4;\n"},
	/* 5: when the person bookmarked the link (ms), from an imported
	 * bookmark file's ADD_DATE or a date column: created_at stays the
	 * catalog's own (it orders the lists), this is kept beside it. */
	{5,
	 "ALTER TABLE links ADD COLUMN bookmarked_at INTEGER;\n"
	 "PRAGMA user_version = 5;\n"},
	/* 6: webhooks and their delivery log (hooks_store.c). Until this
	 * migration hooks_store_init created these tables itself, beside the
	 * migrations (IF NOT EXISTS): a file written then has them already,
	 * and this migration only records the version there. The text of
	 * each CREATE is the one hooks_store_init ran, so that old and new
	 * files have the same schema. The ingest cursor (webhook_meta
	 * 'events_cursor') is data, not schema: the webhook sender's first
	 * hooks_store_init sets it at the newest event, as it always did.
	 * AUTOINCREMENT: ids are never reused, so receivers may dedupe on
	 * X-Snapcat-Delivery and clients keep meaning one webhook by an id. */
	{6,
	 "CREATE TABLE IF NOT EXISTS webhooks ("
	 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 " url TEXT NOT NULL,"
	 " secret TEXT NOT NULL,"
	 " events TEXT NOT NULL,"          /* "job.done,job.failed" */
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " created_at INTEGER NOT NULL,"
	 " updated_at INTEGER NOT NULL);"
	 "CREATE TABLE IF NOT EXISTS webhook_deliveries ("
	 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 " webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
	 " event_id INTEGER NOT NULL,"     /* 0: a ping */
	 " event_type TEXT NOT NULL,"
	 " payload TEXT NOT NULL,"         /* the exact body sent */
	 " state TEXT NOT NULL,"           /* pending sending ok failed */
	 " attempts INTEGER NOT NULL DEFAULT 0,"
	 " next_at INTEGER,"               /* pending: due then */
	 " last_status INTEGER NOT NULL DEFAULT 0,"
	 " last_error TEXT,"
	 " duration_ms INTEGER NOT NULL DEFAULT 0,"
	 " history TEXT NOT NULL DEFAULT '[]'," /* [{at,status,error,ms}] */
	 " created_at INTEGER NOT NULL,"
	 " updated_at INTEGER NOT NULL);"
	 "CREATE INDEX IF NOT EXISTS webhook_deliveries_due"
	 " ON webhook_deliveries(state, next_at);"
	 "CREATE INDEX IF NOT EXISTS webhook_deliveries_hook"
	 " ON webhook_deliveries(webhook_id, id);"
	 "CREATE TABLE IF NOT EXISTS webhook_meta ("
	 " key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	 "PRAGMA user_version = 6;\n"},
	/* 7: the PDF output (issue 17): its file, size and status, as the
	 * MHTML's. Older snapshots never asked for one: 'skipped'. */
	{7,
	 "ALTER TABLE snapshots ADD COLUMN pdf_path TEXT;\n"
	 "ALTER TABLE snapshots ADD COLUMN pdf_bytes INTEGER;\n"
	 "ALTER TABLE snapshots ADD COLUMN pdf_status TEXT NOT NULL DEFAULT\n"
	 "  'skipped' CHECK (pdf_status IN\n"
	 "    ('pending', 'ok', 'failed', 'skipped'));\n"
	 "PRAGMA user_version = 7;\n"},
};

sc_result cat_user_version(struct catalog *c, int64_t *v)
{
	return cat_int(c, SQL_USER_VERSION, v, "");
}

int catalog_schema_version(struct catalog *c)
{
	int64_t v = 0;
	if (cat_user_version(c, &v))
		return -1;
	return (int)v;
}

sc_result cat_schema_check(struct catalog *c, int64_t *version)
{
	int64_t app = 0, tables = 0;
	sc_result rc;
	if ((rc = cat_user_version(c, version)) ||
	    (rc = cat_int(c, SQL_APP_ID, &app, "")) ||
	    (rc = cat_int(c, SQL_TABLE_COUNT, &tables, "")))
		return rc;
	if (app != 0 && app != CAT_APP_ID)
		return cat_errf(c, SC_ERR_DB,
				"not a snapcat catalog (application_id %" PRId64
				")", app);
	if (app == 0 && *version == 0 && tables > 0)
		return cat_errf(c, SC_ERR_DB,
				"not a snapcat catalog (it already has tables)");
	if (*version > CATALOG_SCHEMA_VERSION)
		return cat_errf(c, SC_ERR_INVALID,
				"schema version %" PRId64 " is newer than %d, "
				"the newest this snapcat knows: use a newer "
				"snapcat (the file was left unchanged)",
				*version, CATALOG_SCHEMA_VERSION);
	return SC_OK;
}

/* Apply one migration in its own transaction, unless another process
 * applied it while we waited for the lock. */
static sc_result cat_migrate_one(struct catalog *c,
				 const struct cat_migration *m)
{
	int64_t v = 0;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if ((rc = cat_user_version(c, &v)) || v >= m->version)
		return cat_end(c, rc);
	char *msg = NULL;
	int r = sqlite3_exec(c->db, m->sql, NULL, NULL, &msg);
	if (r != SQLITE_OK) {
		rc = cat_errf(c, SC_ERR_DB, "migration to version %d failed: %s",
			      m->version, msg ? msg : sqlite3_errstr(r));
		sqlite3_free(msg);
		return cat_end(c, rc);
	}
	if (!(rc = cat_user_version(c, &v)) && v != m->version)
		rc = cat_errf(c, SC_ERR_INTERNAL,
			      "migration %d left user_version %" PRId64,
			      m->version, v);
	return cat_end(c, rc);
}

sc_result cat_schema_migrate(struct catalog *c)
{
	int64_t version = 0;
	sc_result rc = cat_schema_check(c, &version);
	for (size_t i = 0; !rc && i < CAT_COUNT(cat_migrations); i++)
		if (cat_migrations[i].version > version)
			rc = cat_migrate_one(c, &cat_migrations[i]);
	return rc;
}
