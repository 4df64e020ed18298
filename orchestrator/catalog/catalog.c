/*
 * catalog.c — the SQLite catalog (see catalog.h for the API and DESIGN).
 *
 *   catalog_* call -> cat_begin (BEGIN IMMEDIATE or SAVEPOINT)
 *     -> cached prepared statement (cat_sql[]) -> bind -> step -> reset
 *     -> cat_end (COMMIT / ROLLBACK)
 *
 * All SQL lives in this file's first part: the schema migrations
 * (cat_migrations[], applied in order, one transaction each, recorded in
 * PRAGMA user_version) and every statement the code runs (cat_sql[]),
 * prepared once per connection and bound with '?' parameters — no SQL text
 * is ever built from data. The migrations are constant scripts run with
 * sqlite3_exec.
 *
 * Search: links_fts is a regular FTS5 table whose rowid is the link id and
 * whose columns are the link's URL, title and the page text of its newest
 * usable snapshot (links.last_snapshot_id). Triggers keep it in step with
 * links (insert, update of url/title/last_snapshot_id, delete) and with a
 * change of that snapshot's text. It keeps its own copy of the text (at
 * most CATALOG_TEXT_MAX per link): simpler and safer than an external-content
 * table over a join, whose index breaks if a delete does not repeat the
 * exact old values. User text reaches MATCH only through cat_fts_build().
 *
 * Lists: newest first is also id order (created_at never decreases with
 * id, migration 2), so a page of links walks one index in id order -- all
 * links, one tag's part of link_tags_tag, or the FTS index's rowids -- and
 * stops when the page is full; tags.nlinks (kept by triggers) tells
 * cat_plan() which walk skips the fewest rows. No list sorts its whole
 * result set; only "any of these tags" gathers ids first, when they are few.
 */
#include "catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

/* PRAGMA application_id of a snapcat catalog: "Snap". */
#define CAT_APP_ID 0x536e6170

/* ======================= schema (all migrations) ======================= */

struct cat_migration {
	int version;
	const char *sql; /* must end by setting PRAGMA user_version */
};

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
	 * created_at (SQL_LINK_INSERT does the same from now on), so
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
};

/* ============================ statements ============================== */

/* Columns read by cat_link_read(), in this order. */
#define LINK_COLS                                                            \
	"l.id, l.url, l.title, l.title_locked, l.created_at, l.updated_at, " \
	"coalesce(l.last_snapshot_id, 0), "                                  \
	"(SELECT group_concat(t.name, char(31)) FROM link_tags lt "          \
	"  JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id), "       \
	"coalesce((SELECT max(id) FROM jobs WHERE link_id = l.id), 0), "     \
	"(SELECT state FROM jobs WHERE link_id = l.id ORDER BY id DESC LIMIT 1), " \
	"l.options, l.schedule, coalesce(l.next_capture_at, 0), "          \
	"coalesce(l.keep_last, 0), l.keep_changed, " LINK_SCHEDULE ", "    \
	"coalesce(l.bookmarked_at, 0) "

/* A link's schedule: its own, else the first (by name) of its tags'. */
#define LINK_SCHEDULE                                                        \
	"coalesce(l.schedule, (SELECT t.schedule FROM link_tags lt "         \
	"JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id AND "       \
	"t.schedule IS NOT NULL ORDER BY t.name LIMIT 1))"

/*
 * The link lists (see catalog_links_list for which runs when). Newest first
 * is (created_at, id) descending, which is also id descending (migration
 * 2): each list walks one index in id order and stops after ?5 rows.
 *   ?1, ?2  cursor (created_at, id): rows before it
 *   ?3, ?4  JSON array of tag ids, and how many of them a link needs
 *           (0: no tag filter)
 *   ?5      limit
 *   ?6      what drives the walk: a tag id, a JSON array of tag ids or an
 *           FTS5 expression
 * LINKS_WHERE(ID) is the cursor and tag filter on link ID; LINKS_START the
 * newest link id before the cursor, where a walk begins.
 */
#define LINKS_WHERE(ID)                                                      \
	"(l.created_at, l.id) < (?1, ?2) "                                   \
	"AND (?4 = 0 OR (SELECT count(*) FROM link_tags x "                  \
	"  WHERE x.link_id = " ID " AND x.tag_id IN "                        \
	"  (SELECT value FROM json_each(?3))) >= ?4) "
#define LINKS_START                                                          \
	"(SELECT id FROM links WHERE (created_at, id) < (?1, ?2) "           \
	"ORDER BY created_at DESC, id DESC LIMIT 1)"

/* Columns read by cat_job_read(), in this order. */
#define JOB_SELECT                                                           \
	"SELECT j.id, j.link_id, l.url, j.state, j.attempts, j.max_attempts, " \
	"j.options, j.created_at, coalesce(j.started_at, 0), "               \
	"coalesce(j.finished_at, 0), j.run_after, j.error_class, "           \
	"j.error_message, coalesce(j.snapshot_id, 0), j.progress, j.stage "  \
	"FROM jobs j JOIN links l ON l.id = j.link_id "

/* Columns read by cat_snap_read(), in this order; TEXT is the text column
 * expression. */
#define SNAP_SELECT(TEXT)                                                    \
	"SELECT s.id, s.link_id, coalesce(s.job_id, 0), s.created_at, "      \
	"coalesce(s.finished_at, 0), s.state, s.final_url, s.title, "        \
	"coalesce(s.http_status, 0), coalesce(s.width, 0), "                 \
	"coalesce(s.height, 0), s.truncated, s.dir, s.png_path, "            \
	"s.mhtml_path, s.thumb_path, coalesce(s.png_bytes, 0), "             \
	"coalesce(s.mhtml_bytes, 0), " TEXT ", s.timings, s.error_class, "   \
	"s.error_message, s.png_status, s.mhtml_status, s.thumb_status, "    \
	"s.text_status, coalesce(s.png_sha256, ''), s.png_shared, "           \
	"coalesce(s.diff_against, 0), coalesce(s.diff_ratio, 0), "           \
	"coalesce(s.diff_changed, 0), s.diff_boxes, s.diff_path "            \
	"FROM snapshots s "

enum cat_sql {
	SQL_BEGIN, SQL_BEGIN_READ, SQL_COMMIT, SQL_ROLLBACK, SQL_SAVEPOINT, SQL_RELEASE,
	SQL_ROLLBACK_TO, SQL_SYNC_FULL, SQL_SYNC_NORMAL,
	SQL_FOREIGN_KEYS, SQL_WAL, SQL_USER_VERSION, SQL_APP_ID,
	SQL_TABLE_COUNT, SQL_INTEGRITY, SQL_FK_CHECK, SQL_FTS_CHECK,
	SQL_LINK_INSERT, SQL_LINK_ID_BY_URL, SQL_LINK_EXISTS, SQL_LINK_GET,
	SQL_LINK_SET_TITLE, SQL_LINK_TOUCH, SQL_LINK_SET_OPTIONS,
	SQL_LINK_SET_BOOKMARKED,
	SQL_LINK_SET_SCHEDULE, SQL_TAG_SET_SCHEDULE, SQL_TAG_RESCHEDULE,
	SQL_LINKS_ADOPT, SQL_LINKS_DUE, SQL_LINK_SET_NEXT, SQL_LINK_RETENTION,
	SQL_SNAPS_OVER_KEEP, SQL_SNAPS_UNCHANGED, SQL_SNAP_DELETE,
	SQL_TAG_SCHEDULE, SQL_LINK_FILES, SQL_LINK_DELETE,
	SQL_LINKS_LIST, SQL_LINKS_BY_TAG, SQL_LINKS_BY_TAGS, SQL_LINKS_BY_FTS,
	SQL_LINKS_MAX_ID,
	SQL_TAG_INSERT, SQL_TAG_ID, SQL_TAG_PLAN, SQL_TAGS_PRUNE, SQL_LINK_TAGS_CLEAR,
	SQL_LINK_TAG_ADD, SQL_LINK_TAG_REMOVE, SQL_TAGS_LIST, SQL_TAG_RENAME,
	SQL_TAG_MERGE, SQL_TAG_DELETE,
	SQL_JOB_INSERT, SQL_JOB_GET, SQL_JOB_CLAIM, SQL_JOB_STATE,
	SQL_JOB_PROGRESS, SQL_JOB_DONE, SQL_JOB_FAIL, SQL_JOB_REQUEUE,
	SQL_JOB_CANCEL, SQL_JOB_RETRY, SQL_JOB_RELEASE, SQL_JOBS_RECOVER_FAIL,
	SQL_JOBS_RECOVER_QUEUE, SQL_SNAPS_RECOVER, SQL_JOBS_LIST,
	SQL_JOBS_COUNT, SQL_JOB_LINK, SQL_JOB_SET_SNAP,
	SQL_SNAP_INSERT, SQL_SNAP_STATE, SQL_SNAP_FINISH, SQL_LINK_SET_LAST,
	SQL_SNAP_GET, SQL_SNAPS_LIST, SQL_SNAP_PREV, SQL_SNAP_BY_SHA,
	SQL_EVENT_INSERT, SQL_EVENTS_LIST, SQL_EVENTS_BOUNDS, SQL_EVENTS_SEQ,
	SQL_EVENTS_PRUNE,
	SQL__COUNT
};

static const char *const cat_sql[SQL__COUNT] = {
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_BEGIN_READ] = "BEGIN DEFERRED",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_SAVEPOINT] = "SAVEPOINT catalog",
	[SQL_RELEASE] = "RELEASE catalog",
	[SQL_ROLLBACK_TO] = "ROLLBACK TO catalog",
	[SQL_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[SQL_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[SQL_FOREIGN_KEYS] = "PRAGMA foreign_keys = ON",
	[SQL_WAL] = "PRAGMA journal_mode = WAL",
	[SQL_USER_VERSION] = "PRAGMA user_version",
	[SQL_APP_ID] = "PRAGMA application_id",
	[SQL_TABLE_COUNT] = "SELECT count(*) FROM sqlite_schema",
	[SQL_INTEGRITY] = "PRAGMA integrity_check",
	[SQL_FK_CHECK] = "PRAGMA foreign_key_check",
	[SQL_FTS_CHECK] =
		"INSERT INTO links_fts(links_fts) VALUES ('integrity-check')",

	/* ---- links ---- */
	[SQL_LINK_INSERT] =
		"INSERT INTO links(url, created_at, updated_at) VALUES (?1, "
		"max(?2, coalesce((SELECT max(created_at) FROM links), ?2)), ?2) "
		"ON CONFLICT(url) DO NOTHING RETURNING id",
	[SQL_LINK_ID_BY_URL] = "SELECT id FROM links WHERE url = ?1",
	[SQL_LINK_EXISTS] = "SELECT id FROM links WHERE id = ?1",
	[SQL_LINK_GET] = "SELECT " LINK_COLS "FROM links l WHERE l.id = ?1",
	[SQL_LINK_SET_TITLE] =
		"UPDATE links SET title = ?2, title_locked = ?3, updated_at = ?4 "
		"WHERE id = ?1",
	[SQL_LINK_TOUCH] = "UPDATE links SET updated_at = ?2 WHERE id = ?1",
	[SQL_LINK_SET_OPTIONS] =
		"UPDATE links SET options = ?2, updated_at = ?3 WHERE id = ?1",
	[SQL_LINK_SET_BOOKMARKED] =
		"UPDATE links SET bookmarked_at = ?2 WHERE id = ?1 AND "
		"(bookmarked_at IS NULL OR bookmarked_at > ?2)",

	/* ---- schedules and retention ---- */
	[SQL_LINK_SET_SCHEDULE] =
		"UPDATE links SET schedule = ?2, next_capture_at = ?3, "
		"keep_last = ?4, keep_changed = ?5, updated_at = ?6 WHERE id = ?1",
	[SQL_TAG_SET_SCHEDULE] =
		"UPDATE tags SET schedule = ?2, keep_last = ?3, keep_changed = ?4 "
		"WHERE name = ?1",
	[SQL_TAG_SCHEDULE] =
		"SELECT schedule, coalesce(keep_last, 0), keep_changed, nlinks "
		"FROM tags WHERE name = ?1",
	/* the tag's links that follow a tag schedule: adopted again */
	[SQL_TAG_RESCHEDULE] =
		"UPDATE links SET next_capture_at = NULL WHERE schedule IS NULL "
		"AND id IN (SELECT link_id FROM link_tags WHERE tag_id = "
		"(SELECT id FROM tags WHERE name = ?1))",
	[SQL_LINKS_ADOPT] =
		"SELECT DISTINCT l.id, " LINK_SCHEDULE " FROM tags t "
		"JOIN link_tags lt ON lt.tag_id = t.id "
		"JOIN links l ON l.id = lt.link_id WHERE t.schedule IS NOT NULL "
		"AND l.schedule IS NULL AND l.next_capture_at IS NULL LIMIT ?1",
	[SQL_LINKS_DUE] =
		"SELECT l.id, l.url, " LINK_SCHEDULE ", (SELECT state FROM jobs "
		"WHERE link_id = l.id ORDER BY id DESC LIMIT 1) FROM links l "
		"WHERE l.next_capture_at <= ?1 ORDER BY l.next_capture_at "
		"LIMIT ?2",
	[SQL_LINK_SET_NEXT] =
		"UPDATE links SET next_capture_at = ?2 WHERE id = ?1",
	[SQL_LINK_RETENTION] =
		"SELECT coalesce(l.keep_last, (SELECT t.keep_last FROM link_tags lt "
		"JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = l.id AND "
		"t.keep_last IS NOT NULL ORDER BY t.name LIMIT 1), 0), "
		"l.keep_changed OR coalesce((SELECT max(t.keep_changed) FROM "
		"link_tags lt JOIN tags t ON t.id = lt.tag_id "
		"WHERE lt.link_id = l.id), 0) FROM links l WHERE l.id = ?1",
	[SQL_SNAPS_OVER_KEEP] =
		"SELECT id, dir FROM snapshots WHERE link_id = ?1 AND "
		"state <> 'pending' ORDER BY id DESC LIMIT -1 OFFSET ?2",
	/* unchanged versions, but never the newest usable one */
	[SQL_SNAPS_UNCHANGED] =
		"SELECT id, dir FROM snapshots WHERE link_id = ?1 AND state IN "
		"('ok', 'partial') AND diff_against IS NOT NULL AND "
		"coalesce(diff_ratio, 0) < ?2 AND id < (SELECT max(id) FROM "
		"snapshots WHERE link_id = ?1 AND state IN ('ok', 'partial'))",
	[SQL_SNAP_DELETE] =
		"DELETE FROM snapshots WHERE id = ?1 AND id IS NOT (SELECT "
		"last_snapshot_id FROM links WHERE id = snapshots.link_id)",
	[SQL_LINK_FILES] =
		"SELECT png_path, mhtml_path, thumb_path, dir FROM snapshots "
		"WHERE link_id = ?1 ORDER BY id",
	[SQL_LINK_DELETE] = "DELETE FROM links WHERE id = ?1",
	/* every link, newest first: the created_at index */
	[SQL_LINKS_LIST] =
		"SELECT " LINK_COLS "FROM links l WHERE " LINKS_WHERE("l.id")
		"ORDER BY l.created_at DESC, l.id DESC LIMIT ?5",
	/* the links of tag ?6: its part of the link_tags_tag index; ?7 an
	 * FTS5 expression each must match too (NULL: none) */
	[SQL_LINKS_BY_TAG] =
		"SELECT " LINK_COLS "FROM link_tags d CROSS JOIN links l "
		"ON l.id = d.link_id WHERE d.tag_id = ?6 AND d.link_id <= "
		LINKS_START " AND " LINKS_WHERE("d.link_id")
		"AND (?7 IS NULL OR EXISTS (SELECT 1 FROM links_fts WHERE "
		"links_fts MATCH ?7 AND links_fts.rowid = d.link_id)) "
		"ORDER BY d.link_id DESC LIMIT ?5",
	/* the links of any of the tags ?6: their ids gathered, then walked */
	[SQL_LINKS_BY_TAGS] =
		"SELECT " LINK_COLS "FROM links l WHERE l.id IN (SELECT link_id "
		"FROM link_tags WHERE tag_id IN (SELECT value FROM json_each(?6))) "
		"AND l.id <= " LINKS_START " AND " LINKS_WHERE("l.id")
		"ORDER BY l.id DESC LIMIT ?5",
	/* the links whose text matches ?6: FTS5 yields rowids in order */
	[SQL_LINKS_BY_FTS] =
		"SELECT " LINK_COLS "FROM links_fts CROSS JOIN links l "
		"ON l.id = links_fts.rowid WHERE links_fts MATCH ?6 "
		"AND links_fts.rowid <= " LINKS_START " AND "
		LINKS_WHERE("links_fts.rowid")
		"ORDER BY links_fts.rowid DESC LIMIT ?5",
	[SQL_LINKS_MAX_ID] = "SELECT coalesce(max(id), 0) FROM links",

	/* ---- tags ---- */
	[SQL_TAG_INSERT] =
		"INSERT INTO tags(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
	[SQL_TAG_ID] = "SELECT id FROM tags WHERE name = ?1",
	[SQL_TAG_PLAN] = "SELECT id, nlinks FROM tags WHERE name = ?1",
	[SQL_TAGS_PRUNE] =
		"DELETE FROM tags WHERE NOT EXISTS "
		"(SELECT 1 FROM link_tags WHERE tag_id = tags.id)",
	[SQL_LINK_TAGS_CLEAR] = "DELETE FROM link_tags WHERE link_id = ?1",
	[SQL_LINK_TAG_ADD] =
		"INSERT OR IGNORE INTO link_tags(link_id, tag_id) VALUES (?1, ?2)",
	[SQL_LINK_TAG_REMOVE] =
		"DELETE FROM link_tags WHERE link_id = ?1 AND tag_id = "
		"(SELECT id FROM tags WHERE name = ?2)",
	[SQL_TAGS_LIST] =
		"SELECT t.name, count(*) FROM tags t "
		"JOIN link_tags lt ON lt.tag_id = t.id GROUP BY t.id ORDER BY t.name",
	[SQL_TAG_RENAME] = "UPDATE tags SET name = ?2 WHERE id = ?1",
	[SQL_TAG_MERGE] =
		"INSERT OR IGNORE INTO link_tags(link_id, tag_id) "
		"SELECT link_id, ?2 FROM link_tags WHERE tag_id = ?1",
	[SQL_TAG_DELETE] = "DELETE FROM tags WHERE id = ?1",

	/* ---- jobs ---- */
	[SQL_JOB_INSERT] =
		"INSERT INTO jobs(link_id, options, max_attempts, created_at, "
		"run_after) VALUES (?1, ?2, ?3, ?4, ?4)",
	[SQL_JOB_GET] = JOB_SELECT "WHERE j.id = ?1",
	[SQL_JOB_CLAIM] =
		"UPDATE jobs SET state = 'running', attempts = attempts + 1, "
		"started_at = ?1, finished_at = NULL, progress = 0, stage = NULL "
		"WHERE id = (SELECT id FROM jobs WHERE state = 'queued' "
		"AND run_after <= ?1 ORDER BY id LIMIT 1) RETURNING id",
	[SQL_JOB_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	[SQL_JOB_PROGRESS] =
		"UPDATE jobs SET progress = ?2, stage = coalesce(?3, stage) "
		"WHERE id = ?1 AND state = 'running'",
	[SQL_JOB_DONE] =
		"UPDATE jobs SET state = 'done', progress = 100, finished_at = ?3, "
		"snapshot_id = coalesce(?2, snapshot_id), stage = NULL, "
		"error_class = NULL, error_message = NULL "
		"WHERE id = ?1 AND state = 'running'",
	[SQL_JOB_FAIL] =
		"UPDATE jobs SET state = 'failed', finished_at = ?2, "
		"error_class = ?3, error_message = ?4, stage = NULL "
		"WHERE id = ?1 AND state = 'running'",
	[SQL_JOB_REQUEUE] =
		"UPDATE jobs SET state = 'queued', run_after = ?2, error_class = ?3, "
		"error_message = ?4, started_at = NULL, progress = 0, stage = NULL "
		"WHERE id = ?1 AND state = 'running' AND attempts < max_attempts",
	[SQL_JOB_RELEASE] =
		"UPDATE jobs SET state = 'queued', attempts = max(attempts - 1, 0), "
		"run_after = ?2, error_class = ?3, error_message = ?4, "
		"started_at = NULL, progress = 0, stage = NULL "
		"WHERE id = ?1 AND state = 'running'",
	[SQL_JOB_CANCEL] =
		"UPDATE jobs SET state = 'canceled', finished_at = ?2, stage = NULL "
		"WHERE id = ?1 AND state IN ('queued', 'running')",
	[SQL_JOB_RETRY] =
		"UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?2, "
		"started_at = NULL, finished_at = NULL, error_class = NULL, "
		"error_message = NULL, snapshot_id = NULL, progress = 0, "
		"stage = NULL WHERE id = ?1 AND state IN ('failed', 'canceled')",
	[SQL_JOBS_RECOVER_FAIL] =
		"UPDATE jobs SET state = 'failed', finished_at = ?1, "
		"error_class = 'interrupted', error_message = 'snapcat stopped "
		"while the job was running and it has no attempts left', "
		"stage = NULL WHERE state = 'running' AND attempts >= max_attempts",
	[SQL_JOBS_RECOVER_QUEUE] =
		"UPDATE jobs SET state = 'queued', run_after = ?1, "
		"started_at = NULL, progress = 0, stage = NULL "
		"WHERE state = 'running'",
	[SQL_SNAPS_RECOVER] =
		"UPDATE snapshots SET state = 'failed', finished_at = ?1, "
		"error_class = 'interrupted', error_message = 'snapcat stopped "
		"during the capture' WHERE state = 'pending'",
	[SQL_JOBS_LIST] =
		JOB_SELECT "WHERE j.id < ?1 AND (?2 IS NULL OR j.state = ?2) "
		"AND (?3 = 0 OR j.link_id = ?3) AND (?5 = 0 OR j.id = (SELECT "
		"max(id) FROM jobs WHERE link_id = j.link_id)) "
		"ORDER BY j.id DESC LIMIT ?4",
	[SQL_JOBS_COUNT] = "SELECT count(*) FROM jobs WHERE ?1 IS NULL OR state = ?1",
	[SQL_JOB_LINK] = "SELECT link_id FROM jobs WHERE id = ?1",
	[SQL_JOB_SET_SNAP] = "UPDATE jobs SET snapshot_id = ?2 WHERE id = ?1",

	/* ---- snapshots ---- */
	[SQL_SNAP_INSERT] =
		"INSERT INTO snapshots(link_id, job_id, created_at) VALUES (?1, ?2, ?3)",
	[SQL_SNAP_STATE] = "SELECT state, link_id FROM snapshots WHERE id = ?1",
	[SQL_SNAP_FINISH] =
		"UPDATE snapshots SET state = ?2, finished_at = ?3, final_url = ?4, "
		"title = ?5, http_status = ?6, width = ?7, height = ?8, "
		"truncated = ?9, dir = ?10, png_path = ?11, mhtml_path = ?12, "
		"thumb_path = ?13, png_bytes = ?14, mhtml_bytes = ?15, text = ?16, "
		"timings = ?17, error_class = ?18, error_message = ?19, "
		"png_status = ?20, mhtml_status = ?21, thumb_status = ?22, "
		"text_status = ?23, png_sha256 = ?24, png_shared = ?25, "
		"diff_against = ?26, diff_ratio = ?27, diff_changed = ?28, "
		"diff_boxes = ?29, diff_path = ?30 "
		"WHERE id = ?1 AND state = 'pending'",
	[SQL_LINK_SET_LAST] =
		"UPDATE links SET last_snapshot_id = ?2, title = CASE "
		"WHEN title_locked OR ?3 IS NULL THEN title ELSE ?3 END, "
		"updated_at = ?4 WHERE id = ?1",
	[SQL_SNAP_GET] =
		SNAP_SELECT("CASE WHEN ?2 THEN s.text END") "WHERE s.id = ?1",
	[SQL_SNAPS_LIST] =
		SNAP_SELECT("NULL") "WHERE s.link_id = ?1 AND s.id < ?2 "
		"ORDER BY s.id DESC LIMIT ?3",
	[SQL_SNAP_PREV] =
		"SELECT id, png_path, coalesce(png_sha256, '') FROM snapshots "
		"WHERE link_id = ?1 AND id < ?2 AND state IN ('ok', 'partial') "
		"AND png_path IS NOT NULL ORDER BY id DESC LIMIT 1",
	[SQL_SNAP_BY_SHA] =
		"SELECT png_path FROM snapshots WHERE png_sha256 = ?1 "
		"AND png_path IS NOT NULL AND id <> ?2 ORDER BY id DESC LIMIT 1",

	/* ---- events ---- */
	[SQL_EVENT_INSERT] =
		"INSERT INTO events(id, type, ts, job_id, link_id, json) "
		"VALUES (CASE WHEN ?6 > coalesce((SELECT seq FROM "
		"sqlite_sequence WHERE name = 'events'), 0) THEN ?6 END, "
		"?1, ?2, ?3, ?4, ?5)",
	[SQL_EVENTS_LIST] =
		"SELECT id, type, ts, coalesce(job_id, 0), coalesce(link_id, 0), "
		"json FROM events WHERE id > ?1 AND (?2 = 0 OR job_id = ?2) "
		"AND (?3 = 0 OR link_id = ?3) AND (?4 IS NULL OR type IN "
		"(SELECT value FROM json_each(?4))) ORDER BY id LIMIT ?5",
	[SQL_EVENTS_BOUNDS] =
		"SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM events",
	[SQL_EVENTS_SEQ] = "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
	[SQL_EVENTS_PRUNE] =
		"DELETE FROM events WHERE id <= coalesce((SELECT id FROM events "
		"ORDER BY id DESC LIMIT 1 OFFSET ?1), 0)",
};

/* ============================ connection ============================== */

struct catalog {
	sqlite3 *db;
	sqlite3_stmt *st[SQL__COUNT]; /* prepared on first use */
	int depth;      /* open transactions: 0 none, 1 BEGIN, >1 savepoints */
	int durable;    /* the open BEGIN switched synchronous to FULL */
	int user_tx;    /* the outer transaction is catalog_tx_begin's */
	int read_tx;    /* catalog_read_begin's transaction is open */
	int64_t changes; /* rows changed by the last cat_exec */
	int64_t (*now_fn)(void *ud);
	void *now_ud;
	int max_attempts; /* enqueue's default; 0: CATALOG_JOB_MAX_ATTEMPTS */
	catalog_fault_fn fault_fn; /* catalog_set_fault_hook */
	void *fault_ud;
	int io_fault;     /* an IO fault since the last committed change */
	int damaged;      /* writes refused (catalog_set_damaged) */
	char damaged_why[256];
	int64_t tx_changes; /* total changes when the outer BEGIN ran */
	int64_t event_floor; /* catalog_events_skip: ids given, not stored */
	char err[512];
};

static const char *const cat_job_states[] = {
	"queued", "running", "done", "failed", "canceled",
};
static const char *const cat_snap_states[] = {
	"pending", "ok", "partial", "failed",
};
static const char *const cat_outs[] = {
	"pending", "ok", "failed", "skipped",
};
#define CAT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int cat_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static int64_t cat_now(struct catalog *c)
{
	return c->now_fn ? c->now_fn(c->now_ud) : sc_wall_ms();
}

/* Record a formatted error on c and return rc. */
SC_PRINTF(3, 4)
static sc_result cat_errf(struct catalog *c, sc_result rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

static void cat_damage(struct catalog *c, const char *why)
{
	if (c->damaged)
		return;
	c->damaged = 1;
	snprintf(c->damaged_why, sizeof(c->damaged_why), "%s", why);
	sc_log(SC_LOG_ERROR, "catalog", "the catalog file is damaged (%s): "
	       "writes stopped; restore the last backup (snapcat restore)",
	       why);
}

/* A failed SQLite call: a fault for the hook? (see catalog_fault) */
static void cat_fault(struct catalog *c, int code)
{
	int p = code & 0xff;
	enum catalog_fault f = CATALOG_FAULT_NONE;
	if (p == SQLITE_CORRUPT || p == SQLITE_NOTADB)
		f = CATALOG_FAULT_DAMAGED;
	else if (p == SQLITE_FULL || p == SQLITE_IOERR ||
		 p == SQLITE_READONLY || p == SQLITE_CANTOPEN)
		f = CATALOG_FAULT_IO;
	if (f == CATALOG_FAULT_NONE)
		return;
	const char *why = sqlite3_errmsg(c->db);
	if (f == CATALOG_FAULT_DAMAGED)
		cat_damage(c, why);
	else
		c->io_fault = 1;
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, f, why);
}

/* A write committed after an IO fault: the hook hears it is over. */
static void cat_fault_over(struct catalog *c)
{
	if (!c->io_fault)
		return;
	c->io_fault = 0;
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, CATALOG_FAULT_NONE, "");
}

/* Map an SQLite result to sc_result, record (and for SC_ERR_DB log) it. */
static sc_result cat_dberr(struct catalog *c, int code, const char *what)
{
	cat_fault(c, code);
	sc_result rc = SC_ERR_DB;
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rc = SC_ERR_BUSY;
		break;
	case SQLITE_NOMEM:
		rc = SC_ERR_NOMEM;
		break;
	case SQLITE_TOOBIG:
		rc = SC_ERR_TOO_LARGE;
		break;
	case SQLITE_CONSTRAINT:
		rc = code == SQLITE_CONSTRAINT_FOREIGNKEY ? SC_ERR_NOT_FOUND
							   : SC_ERR_INVALID;
		break;
	}
	cat_errf(c, rc, "%s: %s", what, sqlite3_errmsg(c->db));
	if (rc == SC_ERR_DB)
		sc_log(SC_LOG_WARN, "catalog", "%s", c->err);
	return rc;
}

static sc_result cat_prepare(struct catalog *c, enum cat_sql id,
			     sqlite3_stmt **out)
{
	if (!c->st[id]) {
		int r = sqlite3_prepare_v3(c->db, cat_sql[id], -1,
					   SQLITE_PREPARE_PERSISTENT, &c->st[id],
					   NULL);
		if (r != SQLITE_OK)
			return cat_dberr(c, r, "prepare");
	}
	*out = c->st[id];
	return SC_OK;
}

static void cat_reset(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/*
 * Bind parameters 1, 2, ... from the arguments, one per fmt character:
 *   'i' int64_t;  'z' int64_t, 0 binds NULL (an id);
 *   't' const char * (NULL binds NULL);
 *   'T' const char *, size_t length (NULL binds NULL);
 *   'd' double.
 * Text is bound SQLITE_STATIC: it must live until the statement is reset.
 */
static sc_result cat_vbind(struct catalog *c, sqlite3_stmt *st,
			   const char *fmt, va_list ap)
{
	int r = SQLITE_OK;
	for (int i = 1; *fmt && r == SQLITE_OK; fmt++, i++) {
		int64_t v;
		const char *s;
		size_t n;
		switch (*fmt) {
		case 'i':
			r = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			r = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'z':
			v = va_arg(ap, int64_t);
			r = v ? sqlite3_bind_int64(st, i, v)
			      : sqlite3_bind_null(st, i);
			break;
		case 't':
			s = va_arg(ap, const char *);
			r = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
			      : sqlite3_bind_null(st, i);
			break;
		case 'T':
			s = va_arg(ap, const char *);
			n = va_arg(ap, size_t);
			r = s ? sqlite3_bind_text64(st, i, s, n, SQLITE_STATIC,
						    SQLITE_UTF8)
			      : sqlite3_bind_null(st, i);
			break;
		default:
			r = SQLITE_MISUSE;
		}
	}
	if (r != SQLITE_OK) {
		cat_reset(st);
		return cat_dberr(c, r, "bind");
	}
	return SC_OK;
}

/* Prepare statement id and bind it (see cat_vbind). */
static sc_result cat_stmt(struct catalog *c, enum cat_sql id,
			  sqlite3_stmt **out, const char *fmt, ...)
{
	sc_result rc = cat_prepare(c, id, out);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vbind(c, *out, fmt, ap);
	va_end(ap);
	return rc;
}

/* Step once: *row = 1 with a row, 0 when done. The statement is reset on
 * error. */
static sc_result cat_step(struct catalog *c, sqlite3_stmt *st, int *row)
{
	int r = sqlite3_step(st);
	*row = r == SQLITE_ROW;
	if (r == SQLITE_ROW || r == SQLITE_DONE)
		return SC_OK;
	sc_result rc = cat_dberr(c, r, sqlite3_sql(st));
	cat_reset(st);
	return rc;
}

/* Run statement id to completion (rows ignored); c->changes is set. */
static sc_result cat_exec(struct catalog *c, enum cat_sql id,
			  const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_prepare(c, id, &st);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vbind(c, st, fmt, ap);
	va_end(ap);
	int row = 1;
	while (!rc && row)
		rc = cat_step(c, st, &row);
	c->changes = sqlite3_changes(c->db);
	cat_reset(st);
	return rc;
}

/* The first column of the first row as an integer; SC_ERR_NOT_FOUND
 * without a row (or with a NULL). */
static sc_result cat_int(struct catalog *c, enum cat_sql id, int64_t *out,
			 const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_prepare(c, id, &st);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = cat_vbind(c, st, fmt, ap);
	va_end(ap);
	int row = 0;
	if (!rc)
		rc = cat_step(c, st, &row);
	if (!rc && (!row || sqlite3_column_type(st, 0) == SQLITE_NULL))
		rc = SC_ERR_NOT_FOUND;
	if (!rc)
		*out = sqlite3_column_int64(st, 0);
	cat_reset(st);
	return rc;
}

/* Run a control statement without recording its error (rollback paths
 * must keep the error that caused them). */
static void cat_quiet(struct catalog *c, enum cat_sql id)
{
	char saved[sizeof(c->err)];
	memcpy(saved, c->err, sizeof(saved));
	if (cat_exec(c, id, ""))
		sc_log(SC_LOG_WARN, "catalog", "%s failed: %s", cat_sql[id],
		       sqlite3_errmsg(c->db));
	memcpy(c->err, saved, sizeof(saved));
}

/*
 * Open a write transaction: BEGIN IMMEDIATE at depth 0 (with synchronous
 * FULL for the commit if durable), a savepoint inside another one.
 */
static sc_result cat_begin(struct catalog *c, int durable)
{
	sc_result rc;
	if (c->damaged)
		return cat_errf(c, SC_ERR_DB, "the catalog file is damaged (%s): "
				"writes are stopped; restore the last backup "
				"(snapcat restore BACKUP_DIR --data DIR)",
				c->damaged_why);
	if (c->read_tx)
		return cat_errf(c, SC_ERR_INVALID, "write inside a read "
				"transaction");
	if (c->depth > 0) {
		if ((rc = cat_exec(c, SQL_SAVEPOINT, "")))
			return rc;
		c->depth++;
		return SC_OK;
	}
	if (durable && (rc = cat_exec(c, SQL_SYNC_FULL, "")))
		return rc;
	c->durable = durable;
	c->tx_changes = sqlite3_total_changes64(c->db);
	if ((rc = cat_exec(c, SQL_BEGIN, ""))) {
		if (durable)
			cat_quiet(c, SQL_SYNC_NORMAL);
		c->durable = 0;
		return rc;
	}
	c->depth = 1;
	return SC_OK;
}

/* Close the transaction cat_begin opened: commit if rc is SC_OK, else roll
 * back. Returns rc, or the commit's error. */
static sc_result cat_end(struct catalog *c, sc_result rc)
{
	if (c->depth <= 0)
		return rc ? rc : cat_errf(c, SC_ERR_INTERNAL, "no transaction");
	if (--c->depth > 0) {
		if (rc)
			cat_quiet(c, SQL_ROLLBACK_TO);
		sc_result r2 = cat_exec(c, SQL_RELEASE, "");
		return rc ? rc : r2;
	}
	if (!rc)
		rc = cat_exec(c, SQL_COMMIT, "");
	if (!rc && sqlite3_total_changes64(c->db) != c->tx_changes)
		cat_fault_over(c);
	if (rc && !sqlite3_get_autocommit(c->db))
		cat_quiet(c, SQL_ROLLBACK);
	if (c->durable)
		cat_quiet(c, SQL_SYNC_NORMAL);
	c->durable = 0;
	return rc;
}

/* ---- small helpers ---- */

static char *cat_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? sc_xstrdup((const char *)s) : NULL;
}

/* Bytes of s to store under a cap: all of it, or cut at a UTF-8 character
 * boundary at most cap bytes in. */
static size_t cat_caplen(const char *s, size_t cap)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, cap + 1);
	if (n <= cap)
		return n;
	n = cap;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Grow an array of items of size sz so that it holds n + 1. */
static void *cat_grow(void *items, size_t *alloc, size_t n, size_t sz)
{
	if (n < *alloc)
		return items;
	*alloc = *alloc ? *alloc * 2 : 16;
	return sc_xrealloc(items, *alloc * sz);
}

static int cat_limit(struct catalog *c, int limit, int *out)
{
	if (limit == 0)
		limit = CATALOG_LIST_DEFAULT;
	if (limit < 1 || limit > CATALOG_LIST_MAX)
		return cat_errf(c, SC_ERR_INVALID, "limit must be 1..%d",
				CATALOG_LIST_MAX);
	*out = limit;
	return SC_OK;
}

/* Parse a decimal int64 that spans exactly [s, end). */
static int cat_parse_i64(const char *s, const char *end, int64_t *out)
{
	if (s == end || *s < '0' || *s > '9' || end - s > 19)
		return -1;
	char buf[24];
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	char *e;
	errno = 0;
	long long v = strtoll(buf, &e, 10);
	if (errno || *e)
		return -1;
	*out = v;
	return 0;
}

/* An id cursor ("123"): NULL or "" means from the newest. */
static sc_result cat_id_cursor(struct catalog *c, const char *cur,
			       int64_t *id)
{
	*id = INT64_MAX;
	if (!cur || !*cur)
		return SC_OK;
	if (cat_parse_i64(cur, cur + strlen(cur), id) || *id < 1)
		return cat_errf(c, SC_ERR_INVALID, "bad cursor");
	return SC_OK;
}

void catalog_strv_free(struct catalog_strv **sv)
{
	if (!sv || !*sv)
		return;
	for (size_t i = 0; i < (*sv)->n; i++)
		free((*sv)->v[i]);
	free((*sv)->v);
	free(*sv);
	*sv = NULL;
}

static void cat_strv_add(struct catalog_strv *sv, size_t *alloc,
			 const unsigned char *s)
{
	if (!s || !*s)
		return;
	sv->v = cat_grow(sv->v, alloc, sv->n, sizeof(*sv->v));
	sv->v[sv->n++] = sc_xstrdup((const char *)s);
}

/* ---- open / close ---- */

const char *catalog_errmsg(const struct catalog *c)
{
	return c ? c->err : "";
}

struct sqlite3 *catalog_sqlite(struct catalog *c) { return c->db; }

void catalog_set_clock(struct catalog *c, int64_t (*now_ms)(void *ud),
		       void *ud)
{
	c->now_fn = now_ms;
	c->now_ud = ud;
}

void catalog_set_max_attempts(struct catalog *c, int n)
{
	c->max_attempts = n;
}

void catalog_set_fault_hook(struct catalog *c, catalog_fault_fn fn, void *ud)
{
	c->fault_fn = fn;
	c->fault_ud = ud;
}

void catalog_set_damaged(struct catalog *c, const char *why)
{
	if (c->damaged)
		return;
	cat_damage(c, why && *why ? why : "damaged");
	if (c->fault_fn)
		c->fault_fn(c->fault_ud, CATALOG_FAULT_DAMAGED, c->damaged_why);
}

int catalog_damaged(const struct catalog *c) { return c->damaged; }

sc_result catalog_probe_write(struct catalog *c)
{
	int64_t v = 0;
	char sql[64];
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	if (!(rc = cat_int(c, SQL_USER_VERSION, &v, ""))) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v);
		int r = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if (r != SQLITE_OK)
			rc = cat_dberr(c, r, "write probe");
	}
	if (!(rc = cat_end(c, rc)))
		cat_fault_over(c);
	return rc;
}

int catalog_schema_version(struct catalog *c)
{
	int64_t v = 0;
	if (cat_int(c, SQL_USER_VERSION, &v, ""))
		return -1;
	return (int)v;
}

void catalog_close(struct catalog **cp)
{
	if (!cp || !*cp)
		return;
	struct catalog *c = *cp;
	catalog_read_end(c);
	if (c->depth > 0) {
		c->depth = 1;
		(void)cat_end(c, SC_ERR_CANCELED);
	}
	for (size_t i = 0; i < SQL__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	int r = sqlite3_close(c->db);
	if (r != SQLITE_OK)
		sc_log(SC_LOG_WARN, "catalog", "close: %s", sqlite3_errstr(r));
	free(c);
	*cp = NULL;
}

/* Connection settings: busy timeout, foreign keys, WAL, NORMAL sync. */
static sc_result cat_setup(struct catalog *c)
{
	sc_result rc;
	sqlite3_busy_timeout(c->db, CATALOG_BUSY_MS);
	if ((rc = cat_exec(c, SQL_FOREIGN_KEYS, "")) ||
	    (rc = cat_exec(c, SQL_SYNC_NORMAL, "")))
		return rc;
	sqlite3_stmt *st = NULL;
	int row = 0;
	if ((rc = cat_stmt(c, SQL_WAL, &st, "")) ||
	    (rc = cat_step(c, st, &row)))
		return rc;
	const char *mode = row ? (const char *)sqlite3_column_text(st, 0) : "";
	if (!mode || (strcmp(mode, "wal") && strcmp(mode, "memory")))
		rc = cat_errf(c, SC_ERR_DB, "cannot switch to WAL mode (%s)",
			      mode ? mode : "?");
	cat_reset(st);
	return rc;
}

/* Refuse files that are not ours or are newer than this code. */
static sc_result cat_check_version(struct catalog *c, int64_t *version)
{
	int64_t app = 0, tables = 0;
	sc_result rc;
	if ((rc = cat_int(c, SQL_USER_VERSION, version, "")) ||
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
	if ((rc = cat_int(c, SQL_USER_VERSION, &v, "")) || v >= m->version)
		return cat_end(c, rc);
	char *msg = NULL;
	int r = sqlite3_exec(c->db, m->sql, NULL, NULL, &msg);
	if (r != SQLITE_OK) {
		rc = cat_errf(c, SC_ERR_DB, "migration to version %d failed: %s",
			      m->version, msg ? msg : sqlite3_errstr(r));
		sqlite3_free(msg);
		return cat_end(c, rc);
	}
	if (!(rc = cat_int(c, SQL_USER_VERSION, &v, "")) && v != m->version)
		rc = cat_errf(c, SC_ERR_INTERNAL,
			      "migration %d left user_version %" PRId64,
			      m->version, v);
	return cat_end(c, rc);
}

static sc_result cat_migrate(struct catalog *c)
{
	int64_t version = 0;
	sc_result rc = cat_check_version(c, &version);
	for (size_t i = 0; !rc && i < CAT_COUNT(cat_migrations); i++)
		if (cat_migrations[i].version > version)
			rc = cat_migrate_one(c, &cat_migrations[i]);
	return rc;
}

sc_result catalog_open(const char *path, struct catalog **out, char *err,
		       size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	struct catalog *c = sc_xcalloc(1, sizeof(*c));
	sc_result rc = SC_OK;
	int r = sqlite3_open_v2(path, &c->db,
				SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					SQLITE_OPEN_NOMUTEX |
					SQLITE_OPEN_EXRESCODE,
				NULL);
	if (r != SQLITE_OK) {
		rc = cat_errf(c, SC_ERR_DB, "%s",
			      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
		goto out;
	}
	if ((rc = cat_setup(c)) || (rc = cat_migrate(c)))
		goto out;
out:
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "catalog %s: %s", path, c->err);
		catalog_close(&c);
		return rc;
	}
	*out = c;
	return SC_OK;
}

/* ---- caller transactions and checks ---- */

sc_result catalog_tx_begin(struct catalog *c)
{
	if (c->depth > 0)
		return cat_errf(c, SC_ERR_INVALID, "a transaction is open");
	sc_result rc = cat_begin(c, 1);
	if (!rc)
		c->user_tx = 1;
	return rc;
}

sc_result catalog_tx_commit(struct catalog *c)
{
	if (!c->user_tx || c->depth != 1)
		return cat_errf(c, SC_ERR_INVALID, "no transaction to commit");
	c->user_tx = 0;
	return cat_end(c, SC_OK);
}

void catalog_tx_rollback(struct catalog *c)
{
	if (!c || !c->user_tx || c->depth != 1)
		return;
	c->user_tx = 0;
	(void)cat_end(c, SC_ERR_CANCELED);
}

sc_result catalog_read_begin(struct catalog *c)
{
	if (c->depth > 0 || c->read_tx)
		return cat_errf(c, SC_ERR_INVALID, "a transaction is open");
	sc_result rc = cat_exec(c, SQL_BEGIN_READ, "");
	if (!rc)
		c->read_tx = 1;
	return rc;
}

void catalog_read_end(struct catalog *c)
{
	if (!c || !c->read_tx)
		return;
	c->read_tx = 0;
	cat_quiet(c, SQL_COMMIT);
}

sc_result catalog_check(struct catalog *c)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_stmt(c, SQL_INTEGRITY, &st, "");
	if (!rc)
		rc = cat_step(c, st, &row);
	if (!rc && row) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		if (!s || strcmp(s, "ok"))
			rc = cat_errf(c, SC_ERR_DB, "integrity: %s",
				      s ? s : "?");
	}
	cat_reset(st);
	if (rc || (rc = cat_stmt(c, SQL_FK_CHECK, &st, "")) ||
	    (rc = cat_step(c, st, &row)))
		return rc;
	if (row)
		rc = cat_errf(c, SC_ERR_DB, "foreign key violation in %s",
			      (const char *)sqlite3_column_text(st, 0));
	cat_reset(st);
	if (rc || (rc = cat_begin(c, 0)))
		return rc;
	rc = cat_exec(c, SQL_FTS_CHECK, "");
	return cat_end(c, rc);
}

/* ============================== tags =================================== */

/* Length of the UTF-8 character at s (n bytes left), 0 if invalid. */
static size_t cat_utf8_char(const unsigned char *s, size_t n)
{
	return sc_utf8_char(s, n);
}

static int cat_isspace(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

sc_result catalog_tag_normalize(const char *in, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!in)
		return SC_ERR_INVALID;
	while (cat_isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n && cat_isspace((unsigned char)in[n - 1]))
		n--;
	if (!n)
		return SC_ERR_INVALID;
	const unsigned char *s = (const unsigned char *)in;
	size_t chars = 0;
	for (size_t i = 0, len; i < n; i += len, chars++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return SC_ERR_INVALID;
		if (!(len = cat_utf8_char(s + i, n - i)))
			return SC_ERR_INVALID;
	}
	if (chars > CATALOG_TAG_MAX || n >= outlen)
		return SC_ERR_TOO_LARGE;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[n] = '\0';
	return SC_OK;
}

/* A normalized, duplicate-free set of tags. */
struct cat_tagset {
	char (*v)[CATALOG_TAG_BUF];
	size_t n;
};

static sc_result cat_tagset_make(struct catalog *c, const char *const *tags,
				 size_t n, struct cat_tagset *ts)
{
	ts->v = NULL;
	ts->n = 0;
	if (n > CATALOG_TAGS_MAX)
		return cat_errf(c, SC_ERR_TOO_LARGE, "more than %d tags",
				CATALOG_TAGS_MAX);
	if (!n)
		return SC_OK;
	ts->v = sc_xcalloc(n, sizeof(*ts->v));
	for (size_t i = 0; i < n; i++) {
		sc_result rc = catalog_tag_normalize(tags[i], ts->v[ts->n],
						     sizeof(ts->v[0]));
		if (rc) {
			free(ts->v);
			ts->v = NULL;
			return cat_errf(c, rc, "tag %zu: %s (1..%d characters, "
					"no control characters)", i + 1,
					sc_strerror(rc), CATALOG_TAG_MAX);
		}
		size_t k = 0;
		while (k < ts->n && strcmp(ts->v[k], ts->v[ts->n]))
			k++;
		if (k == ts->n)
			ts->n++;
	}
	return SC_OK;
}

/* The id of tag name, created if needed (inside a transaction). */
static sc_result cat_tag_id(struct catalog *c, const char *name, int64_t *id)
{
	sc_result rc = cat_exec(c, SQL_TAG_INSERT, "t", name);
	if (!rc)
		rc = cat_int(c, SQL_TAG_ID, id, "t", name);
	return rc;
}

static sc_result cat_link_must_exist(struct catalog *c, int64_t link_id)
{
	int64_t id;
	sc_result rc = cat_int(c, SQL_LINK_EXISTS, &id, "i", link_id);
	if (rc == SC_ERR_NOT_FOUND)
		return cat_errf(c, rc, "link %" PRId64 " not found", link_id);
	return rc;
}

/* Body of set/add: attach every tag of ts to the link (in a tx). */
static sc_result cat_tags_attach(struct catalog *c, int64_t link_id,
				 const struct cat_tagset *ts)
{
	sc_result rc = SC_OK;
	for (size_t i = 0; !rc && i < ts->n; i++) {
		int64_t tag_id;
		if (!(rc = cat_tag_id(c, ts->v[i], &tag_id)))
			rc = cat_exec(c, SQL_LINK_TAG_ADD, "ii", link_id,
				      tag_id);
	}
	return rc;
}

/* mode: 's' replace the link's tags, 'a' add, 'r' remove. */
static sc_result cat_tags_change(struct catalog *c, int64_t link_id,
				 const char *const *tags, size_t n, int mode)
{
	struct cat_tagset ts;
	sc_result rc = cat_tagset_make(c, tags, n, &ts);
	if (rc)
		return rc;
	if ((rc = cat_begin(c, 1)))
		goto out;
	if (!(rc = cat_link_must_exist(c, link_id)) && mode == 's')
		rc = cat_exec(c, SQL_LINK_TAGS_CLEAR, "i", link_id);
	if (!rc && mode != 'r')
		rc = cat_tags_attach(c, link_id, &ts);
	for (size_t i = 0; !rc && mode == 'r' && i < ts.n; i++)
		rc = cat_exec(c, SQL_LINK_TAG_REMOVE, "it", link_id, ts.v[i]);
	if (!rc)
		rc = cat_exec(c, SQL_TAGS_PRUNE, "");
	if (!rc)
		rc = cat_exec(c, SQL_LINK_TOUCH, "ii", link_id, cat_now(c));
	rc = cat_end(c, rc);
out:
	free(ts.v);
	return rc;
}

sc_result catalog_link_set_tags(struct catalog *c, int64_t link_id,
				const char *const *tags, size_t n)
{
	return cat_tags_change(c, link_id, tags, n, 's');
}

sc_result catalog_link_add_tag(struct catalog *c, int64_t link_id,
			       const char *tag)
{
	return cat_tags_change(c, link_id, &tag, 1, 'a');
}

sc_result catalog_link_remove_tag(struct catalog *c, int64_t link_id,
				  const char *tag)
{
	return cat_tags_change(c, link_id, &tag, 1, 'r');
}

void catalog_tag_list_free(struct catalog_tag_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		free((*l)->items[i].name);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

sc_result catalog_tags_list(struct catalog *c, struct catalog_tag_list **out)
{
	struct catalog_tag_list *l = sc_xcalloc(1, sizeof(*l));
	size_t alloc = 0;
	sqlite3_stmt *st = NULL;
	int row = 1;
	sc_result rc = cat_stmt(c, SQL_TAGS_LIST, &st, "");
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		l->items[l->n].name = cat_col_str(st, 0);
		l->items[l->n++].count = sqlite3_column_int64(st, 1);
	}
	if (!rc)
		cat_reset(st);
	else
		catalog_tag_list_free(&l);
	*out = l;
	return rc;
}

/* Look up both names; the tag ids in *from_id and *to_id (0: absent). */
static sc_result cat_tag_pair(struct catalog *c, const char *from,
			      const char *to, int64_t *from_id, int64_t *to_id)
{
	sc_result rc = cat_int(c, SQL_TAG_ID, from_id, "t", from);
	if (rc == SC_ERR_NOT_FOUND)
		return cat_errf(c, rc, "tag \"%s\" not found", from);
	if (rc)
		return rc;
	*to_id = 0;
	rc = cat_int(c, SQL_TAG_ID, to_id, "t", to);
	return rc == SC_ERR_NOT_FOUND ? SC_OK : rc;
}

sc_result catalog_tag_rename(struct catalog *c, const char *from,
			     const char *to, int *merged)
{
	char f[CATALOG_TAG_BUF], t[CATALOG_TAG_BUF];
	int64_t from_id, to_id;
	sc_result rc;
	if (merged)
		*merged = 0;
	if ((rc = catalog_tag_normalize(from, f, sizeof(f))) ||
	    (rc = catalog_tag_normalize(to, t, sizeof(t))))
		return cat_errf(c, rc, "bad tag name: %s", sc_strerror(rc));
	if ((rc = cat_begin(c, 1)))
		return rc;
	if ((rc = cat_tag_pair(c, f, t, &from_id, &to_id)) || from_id == to_id)
		return cat_end(c, rc);
	if (!to_id) {
		rc = cat_exec(c, SQL_TAG_RENAME, "it", from_id, t);
	} else {
		if (!(rc = cat_exec(c, SQL_TAG_MERGE, "ii", from_id, to_id)))
			rc = cat_exec(c, SQL_TAG_DELETE, "i", from_id);
		if (!rc && merged)
			*merged = 1;
	}
	return cat_end(c, rc);
}

sc_result catalog_tag_delete(struct catalog *c, const char *name)
{
	char n[CATALOG_TAG_BUF];
	int64_t id;
	sc_result rc = catalog_tag_normalize(name, n, sizeof(n));
	if (rc)
		return cat_errf(c, rc, "bad tag name: %s", sc_strerror(rc));
	if ((rc = cat_begin(c, 1)))
		return rc;
	rc = cat_int(c, SQL_TAG_ID, &id, "t", n);
	if (rc == SC_ERR_NOT_FOUND)
		cat_errf(c, rc, "tag \"%s\" not found", n);
	if (!rc)
		rc = cat_exec(c, SQL_TAG_DELETE, "i", id);
	return cat_end(c, rc);
}

/* ============================== links ================================== */

const char *catalog_job_state_name(enum catalog_job_state s)
{
	if (s >= 0 && (size_t)s < CAT_COUNT(cat_job_states))
		return cat_job_states[s];
	return "any";
}

sc_result catalog_job_state_parse(const char *s, enum catalog_job_state *out)
{
	int i = cat_lookup(cat_job_states, CAT_COUNT(cat_job_states), s);
	if (i < 0)
		return SC_ERR_INVALID;
	*out = (enum catalog_job_state)i;
	return SC_OK;
}

static enum catalog_job_state cat_job_state_col(sqlite3_stmt *st, int i)
{
	int s = cat_lookup(cat_job_states, CAT_COUNT(cat_job_states),
			   (const char *)sqlite3_column_text(st, i));
	return s < 0 ? CATALOG_JOB_QUEUED : (enum catalog_job_state)s;
}

static int cat_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split a char(31)-separated tag list into l->tags, sorted. */
static void cat_link_tags(struct catalog_link *l, const unsigned char *s)
{
	if (!s || !*s)
		return;
	size_t n = 1;
	for (const unsigned char *p = s; *p; p++)
		n += *p == 31;
	l->tags = sc_xcalloc(n, sizeof(*l->tags));
	const char *p = (const char *)s;
	for (;;) {
		const char *e = strchr(p, 31);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		l->tags[l->ntags++] = sc_xstrndup(p, len);
		if (!e)
			break;
		p = e + 1;
	}
	qsort(l->tags, l->ntags, sizeof(*l->tags), cat_strcmp_p);
}

static void cat_link_read(sqlite3_stmt *st, struct catalog_link *l)
{
	memset(l, 0, sizeof(*l));
	l->id = sqlite3_column_int64(st, 0);
	l->url = cat_col_str(st, 1);
	l->title = cat_col_str(st, 2);
	l->title_locked = sqlite3_column_int(st, 3);
	l->created_at = sqlite3_column_int64(st, 4);
	l->updated_at = sqlite3_column_int64(st, 5);
	l->last_snapshot_id = sqlite3_column_int64(st, 6);
	cat_link_tags(l, sqlite3_column_text(st, 7));
	l->last_job_id = sqlite3_column_int64(st, 8);
	l->last_job_state = cat_job_state_col(st, 9);
	l->options = cat_col_str(st, 10);
	l->schedule = cat_col_str(st, 11);
	l->next_capture_at = sqlite3_column_int64(st, 12);
	l->keep_last = sqlite3_column_int(st, 13);
	l->keep_changed = sqlite3_column_int(st, 14);
	l->schedule_effective = cat_col_str(st, 15);
	l->bookmarked_at = sqlite3_column_int64(st, 16);
}

static void cat_link_clear(struct catalog_link *l)
{
	free(l->url);
	free(l->title);
	free(l->options);
	free(l->schedule);
	free(l->schedule_effective);
	for (size_t i = 0; i < l->ntags; i++)
		free(l->tags[i]);
	free(l->tags);
}

void catalog_link_free(struct catalog_link **l)
{
	if (!l || !*l)
		return;
	cat_link_clear(*l);
	free(*l);
	*l = NULL;
}

sc_result catalog_link_add(struct catalog *c, const char *url, int64_t *id,
			   int *created)
{
	if (!url || !*url)
		return cat_errf(c, SC_ERR_INVALID, "empty URL");
	if (strnlen(url, CATALOG_URL_MAX + 1) > CATALOG_URL_MAX)
		return cat_errf(c, SC_ERR_TOO_LARGE, "URL over %d bytes",
				CATALOG_URL_MAX);
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	int isnew = 1;
	rc = cat_int(c, SQL_LINK_INSERT, id, "ti", url, cat_now(c));
	if (rc == SC_ERR_NOT_FOUND) { /* ON CONFLICT: no row returned */
		isnew = 0;
		rc = cat_int(c, SQL_LINK_ID_BY_URL, id, "t", url);
	}
	if (!(rc = cat_end(c, rc)) && created)
		*created = isnew;
	return rc;
}

/* Read the row of st into obj (a struct catalog_link / _job ...). */
typedef void (*cat_row_reader)(sqlite3_stmt *st, void *obj);

/* One row by id through sql ("i" bound to id) into a new object of size
 * bytes filled by read; SC_ERR_NOT_FOUND ("<what> N not found") if none. */
static sc_result cat_get_one(struct catalog *c, enum cat_sql sql, int64_t id,
			     size_t size, cat_row_reader read, const char *what,
			     void **out)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*out = NULL;
	sc_result rc = cat_stmt(c, sql, &st, "i", id);
	if (!rc && !(rc = cat_step(c, st, &row)) && row) {
		*out = sc_xmalloc(size);
		read(st, *out);
	}
	if (!rc)
		cat_reset(st);
	if (!rc && !row)
		rc = cat_errf(c, SC_ERR_NOT_FOUND, "%s %" PRId64 " not found",
			      what, id);
	return rc;
}

static void cat_link_read_any(sqlite3_stmt *st, void *obj)
{
	cat_link_read(st, obj);
}

sc_result catalog_link_get(struct catalog *c, int64_t id,
			   struct catalog_link **out)
{
	return cat_get_one(c, SQL_LINK_GET, id, sizeof(**out),
			   cat_link_read_any, "link",
			   (void **)out);
}

sc_result catalog_link_set_title(struct catalog *c, int64_t id,
				 const char *title)
{
	int locked = title && *title;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_TITLE, "iTii", id,
			      locked ? title : NULL,
			      cat_caplen(title, CATALOG_TITLE_MAX),
			      (int64_t)locked, cat_now(c));
	return cat_end(c, rc);
}

sc_result catalog_link_set_bookmarked(struct catalog *c, int64_t id,
				      int64_t ms)
{
	if (ms <= 0)
		return SC_OK;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_BOOKMARKED, "ii", id, ms);
	return cat_end(c, rc);
}

sc_result catalog_link_set_options(struct catalog *c, int64_t id,
				   const char *json)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_OPTIONS, "iTi", id, json,
			      cat_caplen(json, CATALOG_JSON_MAX), cat_now(c));
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "link options are not a JSON object");
	return cat_end(c, rc);
}

/* ---- schedules and retention ---- */

sc_result catalog_link_set_schedule(struct catalog *c, int64_t id,
				    const struct catalog_schedule *s)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, id)))
		rc = cat_exec(c, SQL_LINK_SET_SCHEDULE, "itzzii", id, s->spec,
			      s->spec ? s->next_at : 0, (int64_t)s->keep_last,
			      (int64_t)(s->keep_changed != 0), cat_now(c));
	return cat_end(c, rc);
}

sc_result catalog_tag_set_schedule(struct catalog *c, const char *name,
				   const struct catalog_schedule *s)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_TAG_SET_SCHEDULE, "ttzi", name, s->spec,
		      (int64_t)s->keep_last, (int64_t)(s->keep_changed != 0));
	if (!rc && !c->changes)
		rc = cat_errf(c, SC_ERR_NOT_FOUND, "no tag \"%s\"", name);
	if (!rc)
		rc = cat_exec(c, SQL_TAG_RESCHEDULE, "t", name);
	return cat_end(c, rc);
}

sc_result catalog_tag_schedule(struct catalog *c, const char *name,
			       struct catalog_schedule *s, char **spec,
			       int64_t *nlinks)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*spec = NULL;
	sc_result rc = cat_stmt(c, SQL_TAG_SCHEDULE, &st, "t", name);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	if (row) {
		*spec = cat_col_str(st, 0);
		s->spec = *spec;
		s->keep_last = sqlite3_column_int(st, 1);
		s->keep_changed = sqlite3_column_int(st, 2);
		*nlinks = sqlite3_column_int64(st, 3);
	}
	cat_reset(st);
	return row ? SC_OK : cat_errf(c, SC_ERR_NOT_FOUND, "no tag \"%s\"",
				      name);
}

void catalog_due_list_free(struct catalog_due_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++) {
		free((*l)->items[i].url);
		free((*l)->items[i].spec);
	}
	free((*l)->items);
	free(*l);
	*l = NULL;
}

/* Rows (id, [url,] spec[, last job state]) of a due/adopt query. */
static sc_result cat_due_rows(struct catalog *c, sqlite3_stmt *st, int due,
			      struct catalog_due_list *l)
{
	size_t alloc = 0;
	int row = 1;
	sc_result rc;
	while (!(rc = cat_step(c, st, &row)) && row) {
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		struct catalog_due *d = &l->items[l->n++];
		memset(d, 0, sizeof(*d));
		d->link_id = sqlite3_column_int64(st, 0);
		d->url = due ? cat_col_str(st, 1) : NULL;
		d->spec = cat_col_str(st, due ? 2 : 1);
		d->job_active = due && sqlite3_column_type(st, 3) != SQLITE_NULL &&
				cat_job_state_col(st, 3) <= CATALOG_JOB_RUNNING;
	}
	if (!rc)
		cat_reset(st);
	return rc;
}

sc_result catalog_links_due(struct catalog *c, int64_t now, int limit,
			    int adopt, struct catalog_due_list **out)
{
	struct catalog_due_list *l = sc_xcalloc(1, sizeof(*l));
	sqlite3_stmt *st = NULL;
	sc_result rc = adopt ? cat_stmt(c, SQL_LINKS_ADOPT, &st, "i",
					(int64_t)limit)
			     : cat_stmt(c, SQL_LINKS_DUE, &st, "ii", now,
					(int64_t)limit);
	if (!rc)
		rc = cat_due_rows(c, st, !adopt, l);
	if (rc)
		catalog_due_list_free(&l);
	*out = l;
	return rc;
}

sc_result catalog_link_set_next(struct catalog *c, int64_t id, int64_t next)
{
	return cat_exec(c, SQL_LINK_SET_NEXT, "iz", id, next);
}

/* The link's effective retention. */
static sc_result cat_retention(struct catalog *c, int64_t id, int *keep_last,
			       int *keep_changed)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_stmt(c, SQL_LINK_RETENTION, &st, "i", id);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	*keep_last = row ? sqlite3_column_int(st, 0) : 0;
	*keep_changed = row ? sqlite3_column_int(st, 1) : 0;
	cat_reset(st);
	return SC_OK;
}

/* Delete the snapshots a query lists (id, dir), never the link's last one;
 * the directories of those deleted go to dirs. */
static sc_result cat_snaps_drop(struct catalog *c, sqlite3_stmt *st,
				struct catalog_strv *dirs, size_t *alloc)
{
	struct catalog_strv ids = {0}, ds = {0};
	size_t ialloc = 0, dalloc = 0;
	int row = 1;
	sc_result rc;
	while (!(rc = cat_step(c, st, &row)) && row) {
		const unsigned char *dir = sqlite3_column_text(st, 1);
		cat_strv_add(&ids, &ialloc, sqlite3_column_text(st, 0));
		cat_strv_add(&ds, &dalloc, (const unsigned char *)
			     (dir && *dir ? (const char *)dir : "-"));
	}
	if (!rc)
		cat_reset(st);
	for (size_t i = 0; !rc && i < ids.n; i++) {
		rc = cat_exec(c, SQL_SNAP_DELETE, "i",
			      (int64_t)strtoll(ids.v[i], NULL, 10));
		if (!rc && c->changes && strcmp(ds.v[i], "-"))
			cat_strv_add(dirs, alloc, (const unsigned char *)ds.v[i]);
	}
	for (size_t i = 0; i < ids.n; i++) {
		free(ids.v[i]);
		free(ds.v[i]);
	}
	free(ids.v);
	free(ds.v);
	return rc;
}

sc_result catalog_snapshots_prune(struct catalog *c, int64_t link_id,
				  double threshold, struct catalog_strv **dirs)
{
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	size_t alloc = 0;
	int keep_last = 0, keep_changed = 0;
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_begin(c, 1);
	if (!rc)
		rc = cat_retention(c, link_id, &keep_last, &keep_changed);
	if (!rc && keep_changed &&
	    !(rc = cat_stmt(c, SQL_SNAPS_UNCHANGED, &st, "id", link_id,
			    threshold)))
		rc = cat_snaps_drop(c, st, sv, &alloc);
	if (!rc && keep_last > 0 &&
	    !(rc = cat_stmt(c, SQL_SNAPS_OVER_KEEP, &st, "ii", link_id,
			    (int64_t)keep_last)))
		rc = cat_snaps_drop(c, st, sv, &alloc);
	rc = cat_end(c, rc);
	if (rc)
		catalog_strv_free(&sv);
	*dirs = sv;
	return rc;
}

/* Every file, then every directory, of a link's snapshots. */
static sc_result cat_link_files(struct catalog *c, int64_t id,
				struct catalog_strv *sv)
{
	struct catalog_strv dirs = {0};
	size_t alloc = 0, dalloc = 0;
	sqlite3_stmt *st = NULL;
	int row = 1;
	sc_result rc = cat_stmt(c, SQL_LINK_FILES, &st, "i", id);
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		for (int i = 0; i < 3; i++)
			cat_strv_add(sv, &alloc, sqlite3_column_text(st, i));
		cat_strv_add(&dirs, &dalloc, sqlite3_column_text(st, 3));
	}
	if (!rc)
		cat_reset(st);
	for (size_t i = 0; i < dirs.n; i++) {
		sv->v = cat_grow(sv->v, &alloc, sv->n, sizeof(*sv->v));
		sv->v[sv->n++] = dirs.v[i];
	}
	free(dirs.v);
	return rc;
}

sc_result catalog_link_delete(struct catalog *c, int64_t id,
			      struct catalog_strv **files)
{
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	if (files)
		*files = NULL;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		goto out;
	if (!(rc = cat_link_must_exist(c, id)) && files)
		rc = cat_link_files(c, id, sv);
	if (!rc)
		rc = cat_exec(c, SQL_LINK_DELETE, "i", id);
	if (!rc)
		rc = cat_exec(c, SQL_TAGS_PRUNE, "");
	rc = cat_end(c, rc);
out:
	if (!rc && files)
		*files = sv;
	else
		catalog_strv_free(&sv);
	return rc;
}

/* ---- link search ---- */

/* Does s[0..n) hold something the tokenizer indexes (letter, digit,
 * any non-ASCII character)? */
static int cat_has_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x80 || (ch >= '0' && ch <= '9') ||
		    ((ch | 32) >= 'a' && (ch | 32) <= 'z'))
			return 1;
	}
	return 0;
}

/*
 * Turn user text into an FTS5 expression that cannot be a syntax error:
 * each white-space separated word becomes a quoted string ("" inside for
 * a quote), so FTS5 only tokenizes it; a trailing '*' becomes a prefix
 * query on that string. Words without letters or digits are dropped.
 * b->len is 0 if nothing is left.
 */
static sc_result cat_fts_build(struct catalog *c, const char *q,
			       struct sc_buf *b)
{
	if (strnlen(q, CATALOG_QUERY_MAX + 1) > CATALOG_QUERY_MAX)
		return cat_errf(c, SC_ERR_TOO_LARGE, "search over %d bytes",
				CATALOG_QUERY_MAX);
	int terms = 0;
	sc_result rc = SC_OK;
	for (const char *p = q; *p && !rc;) {
		while (cat_isspace((unsigned char)*p))
			p++;
		const char *w = p;
		while (*p && !cat_isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - w);
		int prefix = 0;
		while (n && w[n - 1] == '*')
			n--, prefix = 1;
		if (!cat_has_word(w, n))
			continue;
		if (++terms > CATALOG_QUERY_TERMS)
			return cat_errf(c, SC_ERR_TOO_LARGE,
					"search over %d words",
					CATALOG_QUERY_TERMS);
		rc = sc_buf_appends(b, b->len ? " \"" : "\"");
		for (size_t i = 0; !rc && i < n; i++)
			rc = w[i] == '"' ? sc_buf_appends(b, "\"\"")
					 : sc_buf_append(b, &w[i], 1);
		if (!rc)
			rc = sc_buf_appends(b, prefix ? "\"*" : "\"");
	}
	return rc ? cat_errf(c, rc, "search: %s", sc_strerror(rc)) : SC_OK;
}

/* The (created_at, id) cursor of links: "<created_at>_<id>". */
static sc_result cat_link_cursor(struct catalog *c, const char *cur,
				 int64_t *ts, int64_t *id)
{
	*ts = INT64_MAX;
	*id = INT64_MAX;
	if (!cur || !*cur)
		return SC_OK;
	const char *sep = strchr(cur, '_');
	if (!sep || cat_parse_i64(cur, sep, ts) ||
	    cat_parse_i64(sep + 1, sep + 1 + strlen(sep + 1), id) || *id < 1)
		return cat_errf(c, SC_ERR_INVALID, "bad cursor");
	return SC_OK;
}

void catalog_link_list_free(struct catalog_link_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		cat_link_clear(&(*l)->items[i]);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

/* Read up to limit + 1 rows; keep limit, and set the cursor if more. */
static sc_result cat_links_fetch(struct catalog *c, sqlite3_stmt *st,
				 int limit, struct catalog_link_list *l)
{
	size_t alloc = 0;
	int row = 1;
	sc_result rc;
	while (!(rc = cat_step(c, st, &row)) && row) {
		if (l->n == (size_t)limit) {
			struct catalog_link *last = &l->items[l->n - 1];
			snprintf(l->next_cursor, sizeof(l->next_cursor),
				 "%" PRId64 "_%" PRId64, last->created_at,
				 last->id);
			break;
		}
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		cat_link_read(st, &l->items[l->n++]);
	}
	if (!rc)
		cat_reset(st);
	return rc;
}

/*
 * How a page of links is read: every list walks one index newest first
 * (id descending, see migration 2) and stops after limit + 1 rows that
 * pass the filters, so its cost is the rows it must skip, never the size of
 * the catalog or of a sort:
 *   q given            the FTS index (rowids in order), tags filter each
 *                      row; but with a rare tag (of one, or the rarest of
 *                      "all"): that tag's links, the text checked for each
 *   tags, all of them  the rarest tag's links; the others filter each row
 *   tags, any of them  few links in all: their ids gathered (one sort of
 *                      the tags' links); many: every link, tags filter each
 *   nothing            every link
 * A walk filtered by a tag carried by n of N links visits about
 * (limit + 1) * N / n rows before it has its page (N: the largest link id).
 */
struct cat_links_plan {
	enum cat_sql sql;
	cJSON *ids;      /* the filter's known tag ids (?3) */
	int64_t need;    /* ?4: 0 no tag filter */
	int64_t drive;   /* ?6 of SQL_LINKS_BY_TAG: the rarest tag */
	int64_t fewest;  /* its links */
	int64_t sum;     /* links of all the tags, with repeats */
	int64_t most;    /* links of the most used tag */
	int none;        /* no link can match (a tag of "all" is unknown) */
	int probe;       /* SQL_LINKS_BY_TAG checks the text (?7) */
};

/* Relative costs, in rows walked: gathering one tagged id costs about 1/4
 * of a walked row (CAT_GATHER_COST), checking one link's text about 60
 * (CAT_PROBE_COST; an FTS5 query per link). A few ids are always gathered. */
#define CAT_GATHER_COST 4
#define CAT_PROBE_COST 60
#define CAT_GATHER_ALWAYS 2000

/* Look the tags up (id, links) into p. */
static sc_result cat_plan_tags(struct catalog *c, const struct cat_tagset *ts,
			       enum catalog_match match,
			       struct cat_links_plan *p)
{
	p->fewest = INT64_MAX;
	for (size_t i = 0; i < ts->n; i++) {
		sqlite3_stmt *st = NULL;
		int row = 0;
		sc_result rc = cat_stmt(c, SQL_TAG_PLAN, &st, "t", ts->v[i]);
		if (rc || (rc = cat_step(c, st, &row)))
			return rc;
		int64_t id = row ? sqlite3_column_int64(st, 0) : 0;
		int64_t n = row ? sqlite3_column_int64(st, 1) : 0;
		cat_reset(st);
		if (!row) {
			p->none |= match == CATALOG_MATCH_ALL;
			continue;
		}
		cJSON *v = cJSON_CreateNumber((double)id);
		if (!v || !cJSON_AddItemToArray(p->ids, v)) {
			cJSON_Delete(v);
			return cat_errf(c, SC_ERR_NOMEM, "tag list");
		}
		if (n < p->fewest)
			p->fewest = n, p->drive = id;
		p->sum += n;
		p->most = n > p->most ? n : p->most;
	}
	int known = cJSON_GetArraySize(p->ids);
	p->none |= !known;
	p->need = match == CATALOG_MATCH_ALL ? known : 1;
	return SC_OK;
}

static sc_result cat_plan(struct catalog *c, const struct cat_tagset *ts,
			  const struct catalog_link_query *q, int has_fts,
			  int limit, struct cat_links_plan *p)
{
	p->sql = has_fts ? SQL_LINKS_BY_FTS : SQL_LINKS_LIST;
	if (!ts->n)
		return SC_OK;
	sc_result rc = cat_plan_tags(c, ts, q->match, p);
	if (rc || p->none)
		return rc;
	int one = cJSON_GetArraySize(p->ids) == 1 ||
		  q->match == CATALOG_MATCH_ALL;
	int64_t links = 0;
	if ((has_fts || !one) && (rc = cat_int(c, SQL_LINKS_MAX_ID, &links, "")))
		return rc;
	/* rows a walk filtered by the rarest / the most used tag visits */
	int64_t rare_walk = (limit + 1) * (links / (p->fewest ? p->fewest : 1));
	int64_t most_walk = (limit + 1) * (links / (p->most ? p->most : 1));
	if (one && (!has_fts || p->fewest * CAT_PROBE_COST < rare_walk)) {
		p->sql = SQL_LINKS_BY_TAG;
		p->probe = has_fts;
		p->need = p->need > 1 ? p->need : 0; /* the walk is the filter */
	} else if (!one && !has_fts &&
		   (p->sum <= CAT_GATHER_ALWAYS ||
		    p->sum <= CAT_GATHER_COST * most_walk)) {
		p->sql = SQL_LINKS_BY_TAGS;
		p->need = 0; /* the gathered ids are the filter */
	}
	return SC_OK;
}

/* Bind the plan's statement. */
static sc_result cat_plan_stmt(struct catalog *c, const struct cat_links_plan *p,
			       const char *ids, int64_t cts, int64_t cid,
			       int limit, const char *fts, sqlite3_stmt **st)
{
	int64_t lim = (int64_t)limit + 1;
	switch (p->sql) {
	case SQL_LINKS_BY_TAG:
		return cat_stmt(c, p->sql, st, "iitiiit", cts, cid, ids, p->need,
				lim, p->drive, p->probe ? fts : NULL);
	case SQL_LINKS_BY_TAGS:
		return cat_stmt(c, p->sql, st, "iitiit", cts, cid, ids, p->need,
				lim, ids);
	case SQL_LINKS_BY_FTS:
		return cat_stmt(c, p->sql, st, "iitiit", cts, cid, ids, p->need,
				lim, fts);
	default:
		return cat_stmt(c, SQL_LINKS_LIST, st, "iitii", cts, cid, ids,
				p->need, lim);
	}
}

sc_result catalog_links_list(struct catalog *c,
			     const struct catalog_link_query *q,
			     struct catalog_link_list **out)
{
	struct catalog_link_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_tagset ts = {0};
	struct cat_links_plan p = {.ids = cJSON_CreateArray()};
	struct sc_buf fts;
	char *ids = NULL;
	int64_t cts = 0, cid = 0;
	int limit = 0;
	sqlite3_stmt *st = NULL;
	sc_buf_init(&fts, 8 * CATALOG_QUERY_MAX);
	sc_result rc;
	if (!p.ids)
		rc = cat_errf(c, SC_ERR_NOMEM, "tag list");
	else if (!(rc = cat_limit(c, q->limit, &limit)) &&
		 !(rc = cat_link_cursor(c, q->cursor, &cts, &cid)) &&
		 !(rc = cat_tagset_make(c, q->tags, q->ntags, &ts)) &&
		 !(q->q && (rc = cat_fts_build(c, q->q, &fts))))
		rc = cat_plan(c, &ts, q, fts.len > 0, limit, &p);
	if (rc || p.none)
		goto out;
	if (!(ids = cJSON_PrintUnformatted(p.ids)))
		rc = cat_errf(c, SC_ERR_NOMEM, "tag list");
	else if (!(rc = cat_plan_stmt(c, &p, ids, cts, cid, limit, fts.data,
				      &st)))
		rc = cat_links_fetch(c, st, limit, l);
out:
	if (rc)
		catalog_link_list_free(&l);
	*out = l;
	cJSON_free(ids);
	cJSON_Delete(p.ids);
	free(ts.v);
	sc_buf_free(&fts);
	return rc;
}

/* =============================== jobs ================================== */

static void cat_job_read(sqlite3_stmt *st, struct catalog_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->link_id = sqlite3_column_int64(st, 1);
	j->url = cat_col_str(st, 2);
	j->state = cat_job_state_col(st, 3);
	j->attempts = sqlite3_column_int(st, 4);
	j->max_attempts = sqlite3_column_int(st, 5);
	j->options = cat_col_str(st, 6);
	if (!j->options)
		j->options = sc_xstrdup("{}");
	j->created_at = sqlite3_column_int64(st, 7);
	j->started_at = sqlite3_column_int64(st, 8);
	j->finished_at = sqlite3_column_int64(st, 9);
	j->run_after = sqlite3_column_int64(st, 10);
	j->error_class = cat_col_str(st, 11);
	j->error_message = cat_col_str(st, 12);
	j->snapshot_id = sqlite3_column_int64(st, 13);
	j->progress = sqlite3_column_int(st, 14);
	j->stage = cat_col_str(st, 15);
}

static void cat_job_clear(struct catalog_job *j)
{
	free(j->url);
	free(j->options);
	free(j->error_class);
	free(j->error_message);
	free(j->stage);
}

void catalog_job_free(struct catalog_job **j)
{
	if (!j || !*j)
		return;
	cat_job_clear(*j);
	free(*j);
	*j = NULL;
}

static void cat_job_read_any(sqlite3_stmt *st, void *obj)
{
	cat_job_read(st, obj);
}

sc_result catalog_job_get(struct catalog *c, int64_t id,
			  struct catalog_job **out)
{
	return cat_get_one(c, SQL_JOB_GET, id, sizeof(**out),
			   cat_job_read_any, "job",
			   (void **)out);
}

sc_result catalog_job_enqueue(struct catalog *c, int64_t link_id,
			      const char *options_json, int max_attempts,
			      int64_t *id)
{
	if (max_attempts <= 0)
		max_attempts = c->max_attempts > 0 ? c->max_attempts
						   : CATALOG_JOB_MAX_ATTEMPTS;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_link_must_exist(c, link_id)))
		rc = cat_exec(c, SQL_JOB_INSERT, "itii", link_id,
			      options_json ? options_json : "{}",
			      (int64_t)max_attempts, cat_now(c));
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "job options are not valid JSON");
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	return cat_end(c, rc);
}

sc_result catalog_job_claim(struct catalog *c, struct catalog_job **out)
{
	int64_t id;
	*out = NULL;
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_int(c, SQL_JOB_CLAIM, &id, "i", cat_now(c));
	if (rc == SC_ERR_NOT_FOUND)
		cat_errf(c, rc, "no runnable job");
	if (!rc)
		rc = catalog_job_get(c, id, out);
	if ((rc = cat_end(c, rc)))
		catalog_job_free(out);
	return rc;
}

/* A transition of job id matched no row: say why (inside the tx). */
static sc_result cat_job_why(struct catalog *c, int64_t id, const char *want)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_stmt(c, SQL_JOB_STATE, &st, "i", id);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	if (!row) {
		rc = cat_errf(c, SC_ERR_NOT_FOUND, "job %" PRId64 " not found",
			      id);
	} else {
		enum catalog_job_state s = cat_job_state_col(st, 0);
		rc = cat_errf(c, s == CATALOG_JOB_CANCELED ? SC_ERR_CANCELED
							   : SC_ERR_INVALID,
			      "job %" PRId64 " is %s, not %s", id,
			      catalog_job_state_name(s), want);
	}
	cat_reset(st);
	return rc;
}

/* Run one transition statement (already bound through the arguments) and
 * explain a miss. */
static sc_result cat_job_step(struct catalog *c, int durable, int64_t id,
			      const char *want, enum cat_sql sql,
			      const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	int row = 1;
	sc_result rc = cat_begin(c, durable);
	if (rc)
		return rc;
	if (!(rc = cat_prepare(c, sql, &st))) {
		va_list ap;
		va_start(ap, fmt);
		rc = cat_vbind(c, st, fmt, ap);
		va_end(ap);
	}
	while (!rc && row)
		rc = cat_step(c, st, &row);
	if (!rc) {
		c->changes = sqlite3_changes(c->db);
		cat_reset(st);
		if (!c->changes)
			rc = cat_job_why(c, id, want);
	}
	return cat_end(c, rc);
}

sc_result catalog_job_progress(struct catalog *c, int64_t id, int progress,
			       const char *stage)
{
	progress = progress < 0 ? 0 : progress > 100 ? 100 : progress;
	return cat_job_step(c, 0, id, "running", SQL_JOB_PROGRESS, "iiT", id,
			    (int64_t)progress, stage, cat_caplen(stage, 64));
}

sc_result catalog_job_done(struct catalog *c, int64_t id, int64_t snapshot_id)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_DONE, "izi", id,
			    snapshot_id, cat_now(c));
}

sc_result catalog_job_fail(struct catalog *c, int64_t id,
			   const char *error_class, const char *error_message)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_FAIL, "iiTT", id,
			    cat_now(c), error_class, cat_caplen(error_class, 64),
			    error_message,
			    cat_caplen(error_message, CATALOG_MESSAGE_MAX));
}

sc_result catalog_job_requeue(struct catalog *c, int64_t id, int64_t delay_ms,
			      const char *error_class,
			      const char *error_message,
			      enum catalog_job_state *state)
{
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	int64_t after = cat_now(c) + (delay_ms > 0 ? delay_ms : 0);
	rc = cat_exec(c, SQL_JOB_REQUEUE, "iiTT", id, after, error_class,
		      cat_caplen(error_class, 64), error_message,
		      cat_caplen(error_message, CATALOG_MESSAGE_MAX));
	enum catalog_job_state s = CATALOG_JOB_QUEUED;
	if (!rc && !c->changes) { /* no attempts left, or not running */
		s = CATALOG_JOB_FAILED;
		rc = catalog_job_fail(c, id, error_class, error_message);
	}
	if (!(rc = cat_end(c, rc)) && state)
		*state = s;
	return rc;
}

sc_result catalog_job_release(struct catalog *c, int64_t id,
			      const char *error_class,
			      const char *error_message)
{
	return cat_job_step(c, 1, id, "running", SQL_JOB_RELEASE, "iiTT", id,
			    cat_now(c), error_class, cat_caplen(error_class, 64),
			    error_message,
			    cat_caplen(error_message, CATALOG_MESSAGE_MAX));
}

sc_result catalog_job_cancel(struct catalog *c, int64_t id,
			     enum catalog_job_state *was)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_stmt(c, SQL_JOB_STATE, &st, "i", id)) &&
	    !(rc = cat_step(c, st, &row))) {
		enum catalog_job_state s = row ? cat_job_state_col(st, 0)
					       : CATALOG_JOB_QUEUED;
		cat_reset(st);
		if (!row)
			rc = cat_errf(c, SC_ERR_NOT_FOUND,
				      "job %" PRId64 " not found", id);
		else if (s == CATALOG_JOB_DONE || s == CATALOG_JOB_FAILED)
			rc = cat_errf(c, SC_ERR_INVALID,
				      "job %" PRId64 " is already %s", id,
				      catalog_job_state_name(s));
		else if (s != CATALOG_JOB_CANCELED)
			rc = cat_exec(c, SQL_JOB_CANCEL, "ii", id, cat_now(c));
		if (!rc && was)
			*was = s;
	}
	return cat_end(c, rc);
}

sc_result catalog_job_retry(struct catalog *c, int64_t id)
{
	return cat_job_step(c, 1, id, "failed or canceled", SQL_JOB_RETRY,
			    "ii", id, cat_now(c));
}

sc_result catalog_jobs_recover(struct catalog *c, int64_t *requeued,
			       int64_t *failed)
{
	int64_t now = cat_now(c), nfail = 0, nqueue = 0;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if (!(rc = cat_exec(c, SQL_JOBS_RECOVER_FAIL, "i", now)))
		nfail = c->changes;
	if (!rc && !(rc = cat_exec(c, SQL_JOBS_RECOVER_QUEUE, "i", now)))
		nqueue = c->changes;
	if (!rc)
		rc = cat_exec(c, SQL_SNAPS_RECOVER, "i", now);
	if ((rc = cat_end(c, rc)))
		return rc;
	if (nfail || nqueue)
		sc_log(SC_LOG_INFO, "catalog",
		       "recovered interrupted jobs: %" PRId64 " queued again, "
		       "%" PRId64 " failed", nqueue, nfail);
	if (requeued)
		*requeued = nqueue;
	if (failed)
		*failed = nfail;
	return SC_OK;
}

void catalog_job_list_free(struct catalog_job_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		cat_job_clear(&(*l)->items[i]);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

sc_result catalog_jobs_list(struct catalog *c,
			    const struct catalog_job_query *q,
			    struct catalog_job_list **out)
{
	struct catalog_job_list *l = sc_xcalloc(1, sizeof(*l));
	size_t alloc = 0;
	int64_t before;
	int limit = 0, row = 1;
	sqlite3_stmt *st = NULL;
	const char *state = q->state == CATALOG_JOB_ANY
				    ? NULL
				    : catalog_job_state_name(q->state);
	sc_result rc;
	if (state && !strcmp(state, "any"))
		rc = cat_errf(c, SC_ERR_INVALID, "bad job state");
	else if (!(rc = cat_limit(c, q->limit, &limit)) &&
		 !(rc = cat_id_cursor(c, q->cursor, &before)))
		rc = cat_stmt(c, SQL_JOBS_LIST, &st, "itiii", before, state,
			      q->link_id, (int64_t)limit + 1,
			      (int64_t)(q->latest != 0));
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		if (l->n == (size_t)limit) {
			snprintf(l->next_cursor, sizeof(l->next_cursor),
				 "%" PRId64, l->items[l->n - 1].id);
			break;
		}
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		cat_job_read(st, &l->items[l->n++]);
	}
	if (!rc)
		cat_reset(st);
	else
		catalog_job_list_free(&l);
	*out = l;
	return rc;
}

sc_result catalog_jobs_count(struct catalog *c, enum catalog_job_state state,
			     int64_t *n)
{
	const char *s = state == CATALOG_JOB_ANY ? NULL
						 : catalog_job_state_name(state);
	if (s && !strcmp(s, "any"))
		return cat_errf(c, SC_ERR_INVALID, "bad job state");
	return cat_int(c, SQL_JOBS_COUNT, n, "t", s);
}

/* For GET /metrics (metrics_app.c): one query, prepared per call (a scrape
 * is rare) and finalized; each result row goes to row(). */
static sc_result cat_tally(struct catalog *c, const char *sql, int64_t bind,
			   void (*row)(sqlite3_stmt *, void *), void *ud)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK && sqlite3_bind_parameter_count(st))
		r = sqlite3_bind_int64(st, 1, bind);
	while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		row(st, ud);
		r = SQLITE_OK;
	}
	sc_result rc = r == SQLITE_DONE ? SC_OK : cat_dberr(c, r, sql);
	sqlite3_finalize(st);
	return rc;
}

static void cat_tally_state(sqlite3_stmt *st, void *ud)
{
	enum catalog_job_state s;
	if (!catalog_job_state_parse((const char *)sqlite3_column_text(st, 0), &s))
		((int64_t *)ud)[s] = sqlite3_column_int64(st, 1);
}

static void cat_tally_ints(sqlite3_stmt *st, void *ud)
{
	for (int i = 0; i < sqlite3_column_count(st); i++)
		((int64_t **)ud)[i][0] = sqlite3_column_int64(st, i);
}

sc_result catalog_jobs_count_by_state(struct catalog *c,
				      int64_t counts[CATALOG_JOB_CANCELED + 1],
				      int64_t *backoff)
{
	memset(counts, 0, sizeof(int64_t) * (CATALOG_JOB_CANCELED + 1));
	*backoff = 0;
	int64_t *out[] = {backoff};
	sc_result rc = cat_tally(c, "SELECT state, count(*) FROM jobs "
				 "GROUP BY state", 0, cat_tally_state, counts);
	return rc ? rc : cat_tally(c, "SELECT count(*) FROM jobs WHERE "
				   "state = 'queued' AND run_after > ?1",
				   cat_now(c), cat_tally_ints, out);
}

sc_result catalog_snapshots_stored(struct catalog *c, int64_t *n,
				   int64_t *png_bytes, int64_t *mhtml_bytes)
{
	int64_t *out[] = {n, png_bytes, mhtml_bytes};
	*n = *png_bytes = *mhtml_bytes = 0;
	/* columns before `text` only: no overflow pages are read */
	return cat_tally(c, "SELECT count(*), coalesce(sum(CASE WHEN png_path "
			 "IS NOT NULL THEN png_bytes END), 0), coalesce(sum("
			 "CASE WHEN mhtml_path IS NOT NULL THEN mhtml_bytes "
			 "END), 0) FROM snapshots WHERE state IN ('ok', "
			 "'partial')", 0, cat_tally_ints, out);
}

/* ============================ snapshots ================================ */

const char *catalog_snap_state_name(enum catalog_snap_state s)
{
	if ((size_t)s < CAT_COUNT(cat_snap_states))
		return cat_snap_states[s];
	return "?";
}

const char *catalog_out_name(enum catalog_out o)
{
	if ((size_t)o < CAT_COUNT(cat_outs))
		return cat_outs[o];
	return "?";
}

static int cat_col_enum(sqlite3_stmt *st, int i, const char *const *names,
			size_t n)
{
	int v = cat_lookup(names, n, (const char *)sqlite3_column_text(st, i));
	return v < 0 ? 0 : v;
}

static void cat_snap_read(sqlite3_stmt *st, struct catalog_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->link_id = sqlite3_column_int64(st, 1);
	s->job_id = sqlite3_column_int64(st, 2);
	s->created_at = sqlite3_column_int64(st, 3);
	s->finished_at = sqlite3_column_int64(st, 4);
	s->state = cat_col_enum(st, 5, cat_snap_states,
				CAT_COUNT(cat_snap_states));
	s->final_url = cat_col_str(st, 6);
	s->title = cat_col_str(st, 7);
	s->http_status = sqlite3_column_int(st, 8);
	s->width = sqlite3_column_int(st, 9);
	s->height = sqlite3_column_int(st, 10);
	s->truncated = sqlite3_column_int(st, 11);
	s->dir = cat_col_str(st, 12);
	s->png_path = cat_col_str(st, 13);
	s->mhtml_path = cat_col_str(st, 14);
	s->thumb_path = cat_col_str(st, 15);
	s->png_bytes = sqlite3_column_int64(st, 16);
	s->mhtml_bytes = sqlite3_column_int64(st, 17);
	s->text = cat_col_str(st, 18);
	s->timings = cat_col_str(st, 19);
	s->error_class = cat_col_str(st, 20);
	s->error_message = cat_col_str(st, 21);
	s->png_status = cat_col_enum(st, 22, cat_outs, CAT_COUNT(cat_outs));
	s->mhtml_status = cat_col_enum(st, 23, cat_outs, CAT_COUNT(cat_outs));
	s->thumb_status = cat_col_enum(st, 24, cat_outs, CAT_COUNT(cat_outs));
	s->text_status = cat_col_enum(st, 25, cat_outs, CAT_COUNT(cat_outs));
	const unsigned char *sha = sqlite3_column_text(st, 26);
	snprintf(s->png_sha256, sizeof(s->png_sha256), "%s",
		 sha ? (const char *)sha : "");
	s->png_shared = sqlite3_column_int(st, 27);
	s->diff_against = sqlite3_column_int64(st, 28);
	s->diff_ratio = sqlite3_column_double(st, 29);
	s->diff_changed = sqlite3_column_int64(st, 30);
	s->diff_boxes = cat_col_str(st, 31);
	s->diff_path = cat_col_str(st, 32);
}

static void cat_snap_clear(struct catalog_snapshot *s)
{
	char **f[] = {&s->final_url, &s->title, &s->dir, &s->png_path,
		      &s->mhtml_path, &s->thumb_path, &s->text, &s->timings,
		      &s->error_class, &s->error_message, &s->diff_boxes,
		      &s->diff_path};
	for (size_t i = 0; i < CAT_COUNT(f); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

void catalog_snapshot_free(struct catalog_snapshot **s)
{
	if (!s || !*s)
		return;
	cat_snap_clear(*s);
	free(*s);
	*s = NULL;
}

sc_result catalog_snapshot_create(struct catalog *c, int64_t link_id,
				  int64_t job_id, int64_t *id)
{
	int64_t job_link = link_id;
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	rc = cat_link_must_exist(c, link_id);
	if (!rc && job_id) {
		rc = cat_int(c, SQL_JOB_LINK, &job_link, "i", job_id);
		if (rc == SC_ERR_NOT_FOUND)
			cat_errf(c, rc, "job %" PRId64 " not found", job_id);
	}
	if (!rc && job_link != link_id)
		rc = cat_errf(c, SC_ERR_INVALID, "job %" PRId64 " is not of "
			      "link %" PRId64, job_id, link_id);
	if (!rc)
		rc = cat_exec(c, SQL_SNAP_INSERT, "izi", link_id, job_id,
			      cat_now(c));
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	if (!rc && job_id)
		rc = cat_exec(c, SQL_JOB_SET_SNAP, "ii", job_id, *id);
	return cat_end(c, rc);
}

/* Bind every result field of s to SQL_SNAP_FINISH. */
static int cat_snap_bind(sqlite3_stmt *st, const struct catalog_snapshot *s,
			 int64_t now)
{
	struct { int i; const char *v; size_t cap; } txt[] = {
		{4, s->final_url, CATALOG_URL_MAX},
		{5, s->title, CATALOG_TITLE_MAX},
		{10, s->dir, 4096}, {11, s->png_path, 4096},
		{12, s->mhtml_path, 4096}, {13, s->thumb_path, 4096},
		{16, s->text, CATALOG_TEXT_MAX},
		{17, s->timings, CATALOG_JSON_MAX},
		{18, s->error_class, 64},
		{19, s->error_message, CATALOG_MESSAGE_MAX},
		{24, s->png_sha256[0] ? s->png_sha256 : NULL, 64},
		{29, s->diff_boxes, CATALOG_JSON_MAX}, {30, s->diff_path, 4096},
	};
	struct { int i; int64_t v; } num[] = {
		{1, s->id}, {3, now}, {6, s->http_status}, {7, s->width},
		{8, s->height}, {9, s->truncated != 0}, {14, s->png_bytes},
		{15, s->mhtml_bytes}, {25, s->png_shared != 0},
		{28, s->diff_changed},
	};
	enum catalog_out outs[] = {s->png_status, s->mhtml_status,
				   s->thumb_status, s->text_status};
	int r = sqlite3_bind_text(st, 2, catalog_snap_state_name(s->state), -1,
				  SQLITE_STATIC);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(txt); k++)
		r = txt[k].v ? sqlite3_bind_text64(st, txt[k].i, txt[k].v,
						   cat_caplen(txt[k].v,
							      txt[k].cap),
						   SQLITE_STATIC, SQLITE_UTF8)
			     : sqlite3_bind_null(st, txt[k].i);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(num); k++)
		r = sqlite3_bind_int64(st, num[k].i, num[k].v);
	for (size_t k = 0; r == SQLITE_OK && k < CAT_COUNT(outs); k++)
		r = sqlite3_bind_text(st, 20 + (int)k, catalog_out_name(outs[k]),
				      -1, SQLITE_STATIC);
	if (r == SQLITE_OK) /* no previous PNG: no diff */
		r = s->diff_against ? sqlite3_bind_int64(st, 26, s->diff_against)
				    : sqlite3_bind_null(st, 26);
	if (r == SQLITE_OK)
		r = s->diff_against ? sqlite3_bind_double(st, 27, s->diff_ratio)
				    : sqlite3_bind_null(st, 27);
	return r;
}

/* Check that snapshot id is pending; its link in *link_id. */
static sc_result cat_snap_pending(struct catalog *c, int64_t id,
				  int64_t *link_id)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	sc_result rc = cat_stmt(c, SQL_SNAP_STATE, &st, "i", id);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	const char *state = row ? (const char *)sqlite3_column_text(st, 0) : "";
	if (!row)
		rc = cat_errf(c, SC_ERR_NOT_FOUND,
			      "snapshot %" PRId64 " not found", id);
	else if (!state || strcmp(state, "pending"))
		rc = cat_errf(c, SC_ERR_INVALID,
			      "snapshot %" PRId64 " is already finished", id);
	if (row)
		*link_id = sqlite3_column_int64(st, 1);
	cat_reset(st);
	return rc;
}

sc_result catalog_snapshot_finish(struct catalog *c,
				  const struct catalog_snapshot *s)
{
	int64_t link_id = 0, now = cat_now(c);
	sqlite3_stmt *st = NULL;
	int row = 1;
	if (s->state == CATALOG_SNAP_PENDING ||
	    (size_t)s->state >= CAT_COUNT(cat_snap_states))
		return cat_errf(c, SC_ERR_INVALID, "bad snapshot state");
	sc_result rc = cat_begin(c, 1);
	if (rc)
		return rc;
	if ((rc = cat_snap_pending(c, s->id, &link_id)) ||
	    (rc = cat_prepare(c, SQL_SNAP_FINISH, &st)))
		return cat_end(c, rc);
	int r = cat_snap_bind(st, s, now);
	if (r != SQLITE_OK)
		rc = cat_dberr(c, r, "bind");
	while (!rc && row)
		rc = cat_step(c, st, &row);
	cat_reset(st);
	if (rc == SC_ERR_INVALID)
		cat_errf(c, rc, "snapshot timings are not valid JSON");
	if (!rc && s->state != CATALOG_SNAP_FAILED)
		rc = cat_exec(c, SQL_LINK_SET_LAST, "iiTi", link_id, s->id,
			      s->title, cat_caplen(s->title, CATALOG_TITLE_MAX),
			      now);
	return cat_end(c, rc);
}

sc_result catalog_snapshot_get(struct catalog *c, int64_t id, int with_text,
			       struct catalog_snapshot **out)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*out = NULL;
	sc_result rc = cat_stmt(c, SQL_SNAP_GET, &st, "ii", id,
				(int64_t)(with_text != 0));
	if (!rc && !(rc = cat_step(c, st, &row)) && row) {
		*out = sc_xmalloc(sizeof(**out));
		cat_snap_read(st, *out);
	}
	if (!rc)
		cat_reset(st);
	if (!rc && !row)
		rc = cat_errf(c, SC_ERR_NOT_FOUND,
			      "snapshot %" PRId64 " not found", id);
	return rc;
}

void catalog_snapshot_list_free(struct catalog_snapshot_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++)
		cat_snap_clear(&(*l)->items[i]);
	free((*l)->items);
	free(*l);
	*l = NULL;
}

sc_result catalog_snapshots_list(struct catalog *c, int64_t link_id,
				 const char *cursor, int limit,
				 struct catalog_snapshot_list **out)
{
	struct catalog_snapshot_list *l = sc_xcalloc(1, sizeof(*l));
	size_t alloc = 0;
	int64_t before;
	int row = 1;
	sqlite3_stmt *st = NULL;
	sc_result rc;
	if (!(rc = cat_limit(c, limit, &limit)) &&
	    !(rc = cat_id_cursor(c, cursor, &before)))
		rc = cat_stmt(c, SQL_SNAPS_LIST, &st, "iii", link_id, before,
			      (int64_t)limit + 1);
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		if (l->n == (size_t)limit) {
			snprintf(l->next_cursor, sizeof(l->next_cursor),
				 "%" PRId64, l->items[l->n - 1].id);
			break;
		}
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		cat_snap_read(st, &l->items[l->n++]);
	}
	if (!rc)
		cat_reset(st);
	else
		catalog_snapshot_list_free(&l);
	*out = l;
	return rc;
}

sc_result catalog_snapshot_prev(struct catalog *c, int64_t link_id,
				int64_t before_id, struct catalog_png *out)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	memset(out, 0, sizeof(*out));
	sc_result rc = cat_stmt(c, SQL_SNAP_PREV, &st, "ii", link_id,
				before_id);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	if (row) {
		out->id = sqlite3_column_int64(st, 0);
		out->path = cat_col_str(st, 1);
		snprintf(out->sha256, sizeof(out->sha256), "%s",
			 (const char *)sqlite3_column_text(st, 2));
	}
	cat_reset(st);
	return row ? SC_OK : SC_ERR_NOT_FOUND;
}

sc_result catalog_png_by_sha(struct catalog *c, const char *sha256,
			     int64_t except_id, char **path)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	*path = NULL;
	sc_result rc = cat_stmt(c, SQL_SNAP_BY_SHA, &st, "ti", sha256,
				except_id);
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	if (row)
		*path = cat_col_str(st, 0);
	cat_reset(st);
	return row ? SC_OK : SC_ERR_NOT_FOUND;
}

/* ============================== events ================================= */

sc_result catalog_event_append(struct catalog *c, const char *type,
			       int64_t ts_ms, int64_t job_id, int64_t link_id,
			       const char *json, int64_t *id)
{
	if (!type || !*type || strlen(type) > 64)
		return cat_errf(c, SC_ERR_INVALID, "event type must be 1..64 "
				"bytes");
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_EVENT_INSERT, "tizzti", type,
		      ts_ms ? ts_ms : cat_now(c), job_id, link_id,
		      json ? json : "{}",
		      c->event_floor ? c->event_floor + 1 : (int64_t)0);
	if (rc == SC_ERR_INVALID &&
	    sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_CHECK)
		cat_errf(c, rc, "event JSON is not valid");
	if (!rc)
		*id = sqlite3_last_insert_rowid(c->db);
	return cat_end(c, rc);
}

void catalog_events_skip(struct catalog *c, int64_t id)
{
	if (id > c->event_floor)
		c->event_floor = id;
}

void catalog_event_list_free(struct catalog_event_list **l)
{
	if (!l || !*l)
		return;
	for (size_t i = 0; i < (*l)->n; i++) {
		free((*l)->items[i].type);
		free((*l)->items[i].json);
	}
	free((*l)->items);
	free(*l);
	*l = NULL;
}

/* The type filter as a JSON array text (cJSON_free it), NULL for none. */
static sc_result cat_types_json(struct catalog *c,
				const struct catalog_event_filter *f,
				char **json)
{
	*json = NULL;
	if (!f || !f->types || !f->ntypes)
		return SC_OK;
	if (f->ntypes > 64)
		return cat_errf(c, SC_ERR_TOO_LARGE, "more than 64 event types");
	cJSON *a = cJSON_CreateStringArray(f->types, (int)f->ntypes);
	*json = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return *json ? SC_OK : cat_errf(c, SC_ERR_NOMEM, "event types");
}

static void cat_event_read(sqlite3_stmt *st, struct catalog_event *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->type = cat_col_str(st, 1);
	e->ts = sqlite3_column_int64(st, 2);
	e->job_id = sqlite3_column_int64(st, 3);
	e->link_id = sqlite3_column_int64(st, 4);
	e->json = cat_col_str(st, 5);
}

sc_result catalog_events_list(struct catalog *c, int64_t after_id,
			      const struct catalog_event_filter *f, int limit,
			      struct catalog_event_list **out)
{
	struct catalog_event_list *l = sc_xcalloc(1, sizeof(*l));
	size_t alloc = 0;
	char *types = NULL;
	int row = 1;
	sqlite3_stmt *st = NULL;
	sc_result rc;
	if (!(rc = cat_limit(c, limit, &limit)) &&
	    !(rc = cat_types_json(c, f, &types)))
		rc = cat_stmt(c, SQL_EVENTS_LIST, &st, "iiiti", after_id,
			      f ? f->job_id : 0, f ? f->link_id : 0, types,
			      (int64_t)limit);
	while (!rc && !(rc = cat_step(c, st, &row)) && row) {
		l->items = cat_grow(l->items, &alloc, l->n, sizeof(*l->items));
		cat_event_read(st, &l->items[l->n++]);
	}
	if (!rc)
		cat_reset(st);
	else
		catalog_event_list_free(&l);
	cJSON_free(types);
	*out = l;
	return rc;
}

sc_result catalog_events_bounds(struct catalog *c, int64_t *oldest,
				int64_t *newest)
{
	sqlite3_stmt *st = NULL;
	int row = 0;
	int64_t lo = 0, hi = 0;
	sc_result rc = cat_stmt(c, SQL_EVENTS_BOUNDS, &st, "");
	if (rc || (rc = cat_step(c, st, &row)))
		return rc;
	if (row) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
	}
	cat_reset(st);
	if (!hi) { /* emptied by a prune: the sequence remembers */
		rc = cat_int(c, SQL_EVENTS_SEQ, &hi, "");
		if (rc == SC_ERR_NOT_FOUND)
			rc = SC_OK;
	}
	if (!rc && oldest)
		*oldest = lo;
	if (!rc && newest)
		*newest = hi;
	return rc;
}

sc_result catalog_events_prune(struct catalog *c, int64_t keep,
			       int64_t *deleted)
{
	if (keep < 0)
		return cat_errf(c, SC_ERR_INVALID, "keep must be >= 0");
	sc_result rc = cat_begin(c, 0);
	if (rc)
		return rc;
	rc = cat_exec(c, SQL_EVENTS_PRUNE, "i", keep);
	if (!rc && deleted)
		*deleted = c->changes;
	return cat_end(c, rc);
}

/* ============================ online backup ============================ */

/* Every file a catalog references, for catalog_backup's copy. */
static const char cat_backup_files_sql[] =
	"SELECT png_path, mhtml_path, thumb_path, diff_path FROM snapshots";

static void cat_hold(const struct catalog_backup_opts *o, int on)
{
	if (o && o->hold)
		o->hold(o->ud, on);
}

/* The files the copy at dst references (its own connection). */
static int cat_backup_list(sqlite3 *dst, struct catalog_strv **files)
{
	sqlite3_stmt *st = NULL;
	struct catalog_strv *sv = sc_xcalloc(1, sizeof(*sv));
	size_t alloc = 0;
	int r = sqlite3_prepare_v2(dst, cat_backup_files_sql, -1, &st, NULL);
	while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < 4; i++)
			cat_strv_add(sv, &alloc, sqlite3_column_text(st, i));
		r = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		catalog_strv_free(&sv);
		return r;
	}
	*files = sv;
	return SQLITE_OK;
}

/* The copy itself: steps until done, each under o->hold. */
static int cat_backup_steps(struct catalog *c, sqlite3 *dst,
			    const struct catalog_backup_opts *o, int *canceled)
{
	int n = o && o->pages_per_step > 0 ? o->pages_per_step : -1, r;
	cat_hold(o, 1);
	sqlite3_backup *bk = sqlite3_backup_init(dst, "main", c->db, "main");
	cat_hold(o, 0);
	if (!bk)
		return sqlite3_errcode(dst);
	do {
		cat_hold(o, 1);
		r = sqlite3_backup_step(bk, n);
		int left = sqlite3_backup_remaining(bk);
		int total = sqlite3_backup_pagecount(bk);
		cat_hold(o, 0);
		if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
			sqlite3_sleep(5);
		else if (o && o->progress && o->progress(o->ud, left, total))
			*canceled = 1;
	} while (!*canceled &&
		 (r == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED));
	cat_hold(o, 1);
	int fr = sqlite3_backup_finish(bk);
	cat_hold(o, 0);
	return r == SQLITE_DONE ? fr : r;
}

sc_result catalog_backup(struct catalog *c, const char *dest_path,
			 const struct catalog_backup_opts *o,
			 struct catalog_strv **files, char *err, size_t errlen)
{
	sqlite3 *dst = NULL;
	int canceled = 0, r;
	sc_result rc = SC_OK;
	if (files)
		*files = NULL;
	FILE *f = fopen(dest_path, "wx"); /* must be new */
	if (!f) {
		snprintf(err, errlen, "%s: %s", dest_path, strerror(errno));
		return errno == EEXIST ? SC_ERR_INVALID : SC_ERR_IO;
	}
	fclose(f);
	r = sqlite3_open_v2(dest_path, &dst, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL);
	if (r == SQLITE_OK)
		r = cat_backup_steps(c, dst, o, &canceled);
	if (r == SQLITE_OK && files)
		r = cat_backup_list(dst, files);
	if (canceled) {
		rc = SC_ERR_CANCELED;
		snprintf(err, errlen, "backup canceled");
	} else if (r != SQLITE_OK) {
		rc = r == SQLITE_IOERR || (r & 0xff) == SQLITE_FULL ? SC_ERR_IO
								    : SC_ERR_DB;
		snprintf(err, errlen, "backup to %s: %s", dest_path,
			 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(r));
	}
	sqlite3_close(dst);
	if (rc) {
		if (files)
			catalog_strv_free(files);
		remove(dest_path);
	}
	return rc;
}
