/*
 * catalog_tags.c — tags: the canonical form of a name, a link's tags (set,
 * add, remove), the tag list with counts, rename (or merge) and delete
 * (see catalog.h). Tag schedules: catalog_schedule.c.
 *
 *   PUT /api/links/N/tags -> catalog_link_set_tags -> cat_tagset_make
 *        (normalize, dedupe) -> link_tags rows -> unused tags pruned
 *   GET /api/tags -> catalog_tags_list
 *
 * tags.nlinks counts each tag's links; triggers keep it (migration 2) and
 * the list planner (catalog_search.c) reads it.
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_TAG_INSERT[] =
	"INSERT INTO tags(name) VALUES (?1) ON CONFLICT(name) DO NOTHING";
static const char SQL_TAG_ID[] = "SELECT id FROM tags WHERE name = ?1";
static const char SQL_TAGS_PRUNE[] =
	"DELETE FROM tags WHERE NOT EXISTS "
	"(SELECT 1 FROM link_tags WHERE tag_id = tags.id)";
static const char SQL_LINK_TAGS_CLEAR[] =
	"DELETE FROM link_tags WHERE link_id = ?1";
static const char SQL_LINK_TAG_ADD[] =
	"INSERT OR IGNORE INTO link_tags(link_id, tag_id) VALUES (?1, ?2)";
static const char SQL_LINK_TAG_REMOVE[] =
	"DELETE FROM link_tags WHERE link_id = ?1 AND tag_id = "
	"(SELECT id FROM tags WHERE name = ?2)";
static const char SQL_LINK_TOUCH[] =
	"UPDATE links SET updated_at = ?2 WHERE id = ?1";
static const char SQL_TAGS_LIST[] =
	"SELECT t.name, count(*) FROM tags t "
	"JOIN link_tags lt ON lt.tag_id = t.id GROUP BY t.id ORDER BY t.name";
static const char SQL_TAG_RENAME[] = "UPDATE tags SET name = ?2 WHERE id = ?1";
static const char SQL_TAG_MERGE[] =
	"INSERT OR IGNORE INTO link_tags(link_id, tag_id) "
	"SELECT link_id, ?2 FROM link_tags WHERE tag_id = ?1";
static const char SQL_TAG_DELETE[] = "DELETE FROM tags WHERE id = ?1";

/* ============================== names ================================== */

int cat_isspace(int ch)
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
		if (!(len = sc_utf8_char(s + i, n - i)))
			return SC_ERR_INVALID;
	}
	if (chars > CATALOG_TAG_MAX || n >= outlen)
		return SC_ERR_TOO_LARGE;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[n] = '\0';
	return SC_OK;
}

sc_result cat_tagset_make(struct catalog *c, const char *const *tags,
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

sc_result cat_tags_prune(struct catalog *c)
{
	return cat_exec(c, SQL_TAGS_PRUNE, "");
}

/* =========================== a link's tags ============================= */

/* The id of tag name, created if needed (inside a transaction). */
static sc_result cat_tag_id(struct catalog *c, const char *name, int64_t *id)
{
	sc_result rc = cat_exec(c, SQL_TAG_INSERT, "t", name);
	if (!rc)
		rc = cat_int(c, SQL_TAG_ID, id, "t", name);
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
		rc = cat_tags_prune(c);
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

/* ============================= every tag =============================== */

static void cat_tag_read(sqlite3_stmt *st, void *item)
{
	struct catalog_tag *t = item;
	t->name = cat_col_str(st, 0);
	t->count = sqlite3_column_int64(st, 1);
}

static void cat_tag_clear(void *item)
{
	free(((struct catalog_tag *)item)->name);
}

void catalog_tag_list_free(struct catalog_tag_list **l)
{
	CAT_LIST_FREE(l, cat_tag_clear);
}

sc_result catalog_tags_list(struct catalog *c, struct catalog_tag_list **out)
{
	struct catalog_tag_list *l = sc_xcalloc(1, sizeof(*l));
	struct cat_page p = {.size = sizeof(*l->items), .read = cat_tag_read};
	sqlite3_stmt *st = NULL;
	sc_result rc = cat_stmt(c, SQL_TAGS_LIST, &st, "");
	CAT_PAGE_LIST(rc, c, st, p, l, catalog_tag_list_free);
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
