/*
 * test_catalog_tags.c — the catalog (catalog_testhelp.h: a real SQLite file
 * in a temp dir): tags: the canonical name, a link's tags, rename and merge,
 * delete.
 */
#include "catalog_testhelp.h"

TEST(tag_normalize)
{
	char out[CATALOG_TAG_BUF];
	CHECK_EQ_INT(catalog_tag_normalize("  News \t", out, sizeof(out)),
		     SC_OK);
	CHECK_STR(out, "news");
	CHECK_EQ_INT(catalog_tag_normalize("   ", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_STR(out, "");
	CHECK_EQ_INT(catalog_tag_normalize("a\x01" "b", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_tag_normalize("bad\xff", out, sizeof(out)),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(catalog_tag_normalize(NULL, out, sizeof(out)),
		     SC_ERR_INVALID);
	char t[200];
	memset(t, 'X', 64);
	t[64] = '\0';
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)), SC_OK);
	CHECK_EQ_INT(strlen(out), 64);
	CHECK(out[0] == 'x');
	t[64] = 'x';
	t[65] = '\0';
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)),
		     SC_ERR_TOO_LARGE);
	/* the cap counts characters: 64 two-byte letters fit */
	t[0] = '\0';
	for (int i = 0; i < 64; i++)
		strncat(t, "\xc3\xa9", sizeof(t) - strlen(t) - 1);
	CHECK_EQ_INT(catalog_tag_normalize(t, out, sizeof(out)), SC_OK);
	CHECK_EQ_INT(strlen(out), 128);
	CHECK_EQ_INT(catalog_tag_normalize("Été", out, sizeof(out)), SC_OK);
	CHECK_STR(out, "\xc3\x89t\xc3\xa9"); /* only ASCII is lowercased */
}

TEST(tags)
{
	struct catalog *c = open_fresh("tags");
	REQUIRE(c);
	int64_t a = add_link(c, "https://a.example/");
	int64_t b = add_link(c, "https://b.example/");
	const char *ta[] = {" News ", "NEWS", "tech", "news"};
	CHECK_EQ_INT(catalog_link_set_tags(c, a, ta, 4), SC_OK);
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	REQUIRE(l->ntags == 2);
	CHECK_STR(l->tags[0], "news");
	CHECK_STR(l->tags[1], "tech");
	catalog_link_free(&l);

	CHECK_EQ_INT(catalog_link_add_tag(c, b, "Tech"), SC_OK);
	CHECK_EQ_INT(catalog_link_add_tag(c, b, "tech "), SC_OK);
	CHECK_EQ_INT(tag_count(c, "tech"), 2);
	CHECK_EQ_INT(tag_count(c, "news"), 1);

	/* a bad tag fails the whole call and changes nothing */
	char longtag[80];
	memset(longtag, 'q', 65);
	longtag[65] = '\0';
	const char *bad[] = {"fine", longtag};
	CHECK_EQ_INT(catalog_link_set_tags(c, a, bad, 2), SC_ERR_TOO_LARGE);
	CHECK(strstr(catalog_errmsg(c), "tag 2") != NULL);
	CHECK_EQ_INT(tag_count(c, "fine"), -1);
	CHECK_EQ_INT(tag_count(c, "news"), 1);
	CHECK_EQ_INT(catalog_link_set_tags(c, 12345, ta, 1), SC_ERR_NOT_FOUND);

	/* rename to a new name */
	int merged = -1;
	CHECK_EQ_INT(catalog_tag_rename(c, "NEWS", "Press", &merged), SC_OK);
	CHECK_EQ_INT(merged, 0);
	CHECK_EQ_INT(tag_count(c, "news"), -1);
	CHECK_EQ_INT(tag_count(c, "press"), 1);
	CHECK_EQ_INT(catalog_tag_rename(c, "press", "PRESS", &merged), SC_OK);
	CHECK_EQ_INT(catalog_tag_rename(c, "nope", "x", &merged),
		     SC_ERR_NOT_FOUND);
	/* rename onto an existing tag merges */
	CHECK_EQ_INT(catalog_link_add_tag(c, b, "press"), SC_OK);
	CHECK_EQ_INT(catalog_tag_rename(c, "tech", "press", &merged), SC_OK);
	CHECK_EQ_INT(merged, 1);
	CHECK_EQ_INT(tag_count(c, "tech"), -1);
	CHECK_EQ_INT(tag_count(c, "press"), 2);
	REQUIRE(catalog_link_get(c, b, &l) == SC_OK);
	REQUIRE(l->ntags == 1);
	CHECK_STR(l->tags[0], "press");
	catalog_link_free(&l);

	/* remove and delete; orphans go away */
	CHECK_EQ_INT(catalog_link_remove_tag(c, b, "PRESS"), SC_OK);
	CHECK_EQ_INT(catalog_link_remove_tag(c, b, "absent"), SC_OK);
	CHECK_EQ_INT(tag_count(c, "press"), 1);
	CHECK_EQ_INT(catalog_tag_delete(c, "Press"), SC_OK);
	CHECK_EQ_INT(tag_count(c, "press"), -1);
	CHECK_EQ_INT(catalog_tag_delete(c, "press"), SC_ERR_NOT_FOUND);
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK_EQ_INT(l->ntags, 0);
	catalog_link_free(&l);
	CHECK_EQ_INT(catalog_link_set_tags(c, a, ta, 1), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, a, NULL, 0), SC_OK);
	CHECK_EQ_INT(tag_count(c, "news"), -1);
	CHECK_EQ_INT(catalog_check(c), SC_OK);
	catalog_close(&c);
}

#define CATALOG_TESTS(T) T(tag_normalize) T(tags)
CATALOG_TEST_MAIN("tags")
