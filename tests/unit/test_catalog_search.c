/*
 * test_catalog_search.c — the catalog (catalog_testhelp.h: a real SQLite
 * file in a temp dir): the link lists: full-text search (hostile input too),
 * tag filters, cursor paging over ties, and every list plan against a model.
 */
#include "catalog_testhelp.h"

TEST(fts)
{
	struct catalog *c = open_fresh("fts");
	REQUIRE(c);
	int64_t a = add_link(c, "https://alpha.example/page");
	int64_t b = add_link(c, "https://beta.example/");
	REQUIRE(a && b);
	CHECK(snap_ok(c, a, "Alpha Title",
		      "The quick brown xylophone jumps. Café au lait.") > 0);
	int64_t hit = 0;
	CHECK_EQ_INT(search(c, "xylophone", &hit), 1); /* only in page text */
	CHECK_EQ_INT(hit, a);
	CHECK_EQ_INT(search(c, "XYLOPHONE quick", &hit), 1);
	CHECK_EQ_INT(search(c, "xylo*", &hit), 1);
	CHECK_EQ_INT(search(c, "xylo", &hit), 0);
	CHECK_EQ_INT(search(c, "cafe", &hit), 1); /* accent-insensitive */
	CHECK_EQ_INT(search(c, "beta", &hit), 1); /* URL */
	CHECK_EQ_INT(hit, b);
	CHECK_EQ_INT(search(c, "alpha title", &hit), 1);
	CHECK_EQ_INT(search(c, "example", NULL), 2);
	CHECK_EQ_INT(search(c, "xylophone beta", NULL), 0); /* AND */

	/* the link's title follows the page unless set by hand */
	struct catalog_link *l = NULL;
	REQUIRE(catalog_link_get(c, a, &l) == SC_OK);
	CHECK_STR(l->title, "Alpha Title");
	CHECK(l->last_snapshot_id > 0);
	catalog_link_free(&l);

	/* a newer snapshot replaces the indexed text */
	CHECK(snap_ok(c, a, NULL, "zeppelin") > 0);
	CHECK_EQ_INT(search(c, "xylophone", NULL), 0);
	CHECK_EQ_INT(search(c, "zeppelin", NULL), 1);
	CHECK_EQ_INT(search(c, "alpha title", NULL), 1); /* title kept */

	const char *hostile[] = {
		"\"", "\"\"", "*", "**", "AND", "OR", "NOT", "NEAR(",
		"NEAR(a b", "(", ")", "((a)", "a AND", "OR b", "\"unbalanced",
		"a\"b", "col:umn", "url:beta", "-beta", "^beta", "+", "{url}",
		"title : x", "a OR OR b", "NEAR/3", "\xff\xfe", "zeppelin*\"",
		"\\", "'", ";DROP TABLE links;--", "a * b", "   ",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int n = search(c, hostile[i], NULL);
		if (n < 0)
			fprintf(stderr, "hostile #%zu failed\n", i);
		CHECK(n >= 0);
	}
	CHECK_EQ_INT(search(c, "NEAR( zeppelin", NULL), 0);
	CHECK_EQ_INT(search(c, "\"zeppelin\"", NULL), 1);
	CHECK_EQ_INT(search(c, "(zeppelin)", NULL), 1);
	CHECK_EQ_INT(search(c, "url:beta", NULL), 0); /* no column filters */
	CHECK_EQ_INT(search(c, "((", NULL), 2); /* nothing to search for */

	/* caps */
	char big[CATALOG_QUERY_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct catalog_link_query lq = {.q = big};
	struct catalog_link_list *ll = NULL;
	CHECK_EQ_INT(catalog_links_list(c, &lq, &ll), SC_ERR_TOO_LARGE);
	CHECK(ll == NULL);
	char many[200] = "";
	for (int i = 0; i < CATALOG_QUERY_TERMS + 1; i++)
		strncat(many, "w ", sizeof(many) - strlen(many) - 1);
	lq.q = many;
	CHECK_EQ_INT(catalog_links_list(c, &lq, &ll), SC_ERR_TOO_LARGE);
	CHECK_EQ_INT(catalog_check(c), SC_OK);
	catalog_close(&c);
}

/* Ids returned by a tag query, as a bit set over small ids. */
static unsigned tag_query(struct catalog *c, const char *const *tags,
			  size_t n, enum catalog_match m)
{
	struct catalog_link_query q = {.tags = tags, .ntags = n, .match = m};
	struct catalog_link_list *l = NULL;
	unsigned set = 0;
	if (catalog_links_list(c, &q, &l))
		return 1u << 31;
	for (size_t i = 0; i < l->n; i++)
		set |= 1u << l->items[i].id;
	catalog_link_list_free(&l);
	return set;
}

TEST(tag_filters)
{
	struct catalog *c = open_fresh("tagfilter");
	REQUIRE(c);
	int64_t id[4];
	const char *urls[] = {"https://1.example/", "https://2.example/",
			      "https://3.example/", "https://4.example/"};
	for (int i = 0; i < 4; i++)
		id[i] = add_link(c, urls[i]);
	REQUIRE(id[0] == 1 && id[3] == 4);
	const char *t1[] = {"red", "blue"};
	const char *t2[] = {"red"};
	const char *t3[] = {"blue", "green"};
	CHECK_EQ_INT(catalog_link_set_tags(c, 1, t1, 2), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, 2, t2, 1), SC_OK);
	CHECK_EQ_INT(catalog_link_set_tags(c, 3, t3, 2), SC_OK);
	const char *q_rb[] = {"RED", " blue"};
	const char *q_rr[] = {"red", "Red"};
	const char *q_x[] = {"nosuch"};
	CHECK_EQ_INT(tag_query(c, q_rb, 2, CATALOG_MATCH_ALL), 1u << 1);
	CHECK_EQ_INT(tag_query(c, q_rb, 2, CATALOG_MATCH_ANY),
		     1u << 1 | 1u << 2 | 1u << 3);
	CHECK_EQ_INT(tag_query(c, q_rr, 2, CATALOG_MATCH_ALL),
		     1u << 1 | 1u << 2); /* duplicates do not raise the bar */
	CHECK_EQ_INT(tag_query(c, q_x, 1, CATALOG_MATCH_ANY), 0);
	CHECK_EQ_INT(tag_query(c, NULL, 0, CATALOG_MATCH_ALL), 0x1e);
	const char *q_bad[] = {"   "};
	CHECK_EQ_INT(tag_query(c, q_bad, 1, CATALOG_MATCH_ALL), 1u << 31);
	/* tags and search together */
	CHECK(snap_ok(c, 3, "t", "walrus") > 0);
	CHECK(snap_ok(c, 2, "t", "walrus") > 0);
	struct catalog_link_query q = {.tags = q_rb + 1, .ntags = 1,
				       .q = "walrus"};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
	REQUIRE(l->n == 1);
	CHECK_EQ_INT(l->items[0].id, 3);
	catalog_link_list_free(&l);
	catalog_close(&c);
}

TEST(cursor_paging_ties)
{
	struct catalog *c = open_fresh("paging");
	REQUIRE(c);
	enum { N = 53 };
	char url[64];
	for (int i = 0; i < N; i++) {
		if (i % 10 == 0)
			fake_now += 1000; /* groups of 10 share created_at */
		snprintf(url, sizeof(url), "https://p%d.example/", i);
		REQUIRE(add_link(c, url) == i + 1);
	}
	int seen[N + 1] = {0};
	char cursor[CATALOG_CURSOR_SIZE] = "";
	int64_t prev_ts = INT64_MAX, prev_id = INT64_MAX;
	int pages = 0, total = 0;
	do {
		struct catalog_link_query q = {.cursor = cursor, .limit = 7};
		struct catalog_link_list *l = NULL;
		REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
		/* a link added while paging is not on a later page */
		if (pages == 2)
			REQUIRE(add_link(c, "https://late.example/") > 0);
		for (size_t i = 0; i < l->n; i++) {
			struct catalog_link *k = &l->items[i];
			REQUIRE(k->id >= 1 && k->id <= N);
			seen[k->id]++;
			CHECK(k->created_at < prev_ts ||
			      (k->created_at == prev_ts && k->id < prev_id));
			prev_ts = k->created_at;
			prev_id = k->id;
			total++;
		}
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		pages++;
		catalog_link_list_free(&l);
	} while (cursor[0] && pages < 100);
	CHECK_EQ_INT(total, N);
	CHECK_EQ_INT(pages, (N + 6) / 7);
	for (int i = 1; i <= N; i++)
		CHECK_EQ_INT(seen[i], 1);

	struct catalog_link_query bad = {.cursor = "garbage"};
	struct catalog_link_list *l = NULL;
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = "12_";
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = "1_2_3";
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	bad.cursor = NULL;
	bad.limit = CATALOG_LIST_MAX + 1;
	CHECK_EQ_INT(catalog_links_list(c, &bad, &l), SC_ERR_INVALID);
	CHECK(l == NULL);
	catalog_close(&c);
}

/* ---- list plans: every way of reading a page gives the same pages ---- */

enum { PL_N = 2500, PL_TAGS = 5, PL_WORDS = 3 };
static const char *const pl_tags[PL_TAGS] = {"pop", "mid", "few1", "few2",
					     "odd"};
static const char *const pl_words[PL_WORDS] = {"alpha", "beta", "gamma"};
static unsigned pl_tagset[PL_N + 1], pl_wordset[PL_N + 1];

/* Tags and words of link i (1-based): "pop" on 80 %, "mid" on 40 %, "few1"
 * and "few2" on 1 % (never both), "odd" on odd ids; alpha on every 3rd,
 * beta on every 7th, gamma on every 50th. */
static void plan_model(int i)
{
	unsigned t = 0, w = 0;
	t |= (i * 7919 % 100 < 80) << 0;
	t |= (i * 104729 % 100 < 40) << 1;
	t |= (i % 100 == 13) << 2;
	t |= (i % 100 == 77) << 3;
	t |= (i % 2) << 4;
	w |= (i % 3 == 0) << 0;
	w |= (i % 7 == 0) << 1;
	w |= (i % 50 == 0) << 2;
	pl_tagset[i] = t;
	pl_wordset[i] = w;
}

static int plan_seed(struct catalog *c)
{
	char url[64], text[64];
	if (catalog_tx_begin(c))
		return -1;
	for (int i = 1; i <= PL_N; i++) {
		const char *tags[PL_TAGS];
		size_t n = 0;
		plan_model(i);
		/* the clock: ties, and now and then a step back */
		fake_now += i % 5 ? 1000 : 0;
		if (i % 97 == 0)
			fake_now -= 30000;
		snprintf(url, sizeof(url), "https://plan%d.example/", i);
		if (add_link(c, url) != i)
			return -1;
		for (int k = 0; k < PL_TAGS; k++)
			if (pl_tagset[i] >> k & 1)
				tags[n++] = pl_tags[k];
		text[0] = '\0';
		for (int k = 0; k < PL_WORDS; k++)
			if (pl_wordset[i] >> k & 1)
				snprintf(text + strlen(text),
					 sizeof(text) - strlen(text), " %s",
					 pl_words[k]);
		if ((n && catalog_link_set_tags(c, i, tags, n)) ||
		    !snap_ok(c, i, "t", text))
			return -1;
	}
	return catalog_tx_commit(c) ? -1 : 0;
}

/* Does link i pass tags (mask, all or any) and words (mask, all)? */
static int plan_match(int i, unsigned tags, enum catalog_match m,
		      unsigned words)
{
	unsigned have = pl_tagset[i] & tags;
	if (tags && (m == CATALOG_MATCH_ALL ? have != tags : !have))
		return 0;
	return (pl_wordset[i] & words) == words;
}

/* Page through a query with limit; compare with the model, newest first. */
static void plan_check(struct catalog *c, unsigned tags, enum catalog_match m,
		       unsigned words, int limit, const char *extra_tag)
{
	const char *tv[PL_TAGS + 1];
	char q[64] = "";
	size_t nt = 0;
	for (int k = 0; k < PL_TAGS; k++)
		if (tags >> k & 1)
			tv[nt++] = pl_tags[k];
	if (extra_tag)
		tv[nt++] = extra_tag;
	for (int k = 0; k < PL_WORDS; k++)
		if (words >> k & 1)
			snprintf(q + strlen(q), sizeof(q) - strlen(q), "%s ",
				 pl_words[k]);
	char cursor[CATALOG_CURSOR_SIZE] = "";
	int want = PL_N + 1, bad = 0, pages = 0;
	do {
		struct catalog_link_query lq = {.tags = tv, .ntags = nt,
						.match = m, .q = q,
						.cursor = cursor, .limit = limit};
		struct catalog_link_list *l = NULL;
		if (catalog_links_list(c, &lq, &l)) {
			bad = 1;
			break;
		}
		for (size_t i = 0; i < l->n; i++) {
			while (--want > 0 && !plan_match(want, tags, m, words))
				;
			bad |= l->items[i].id != want;
		}
		snprintf(cursor, sizeof(cursor), "%s", l->next_cursor);
		catalog_link_list_free(&l);
	} while (cursor[0] && !bad && ++pages < PL_N);
	while (--want > 0 && !plan_match(want, tags, m, words))
		;
	if (bad || want > 0)
		fprintf(stderr, "plan_check tags %x %s words %x limit %d "
			"extra %s: %s\n", tags, m ? "any" : "all", words, limit,
			extra_tag ? extra_tag : "-",
			bad ? "wrong page" : "links missing");
	CHECK(!bad && want <= 0);
}

TEST(list_plans)
{
	struct catalog *c = open_fresh("plans");
	REQUIRE(c);
	REQUIRE(plan_seed(c) == 0);
	/* created_at never goes down with id, even when the clock does */
	struct catalog_link *a = NULL, *b = NULL;
	REQUIRE(catalog_link_get(c, 96, &a) == SC_OK);
	REQUIRE(catalog_link_get(c, 97, &b) == SC_OK);
	CHECK_EQ_INT(b->created_at, a->created_at);
	catalog_link_free(&a);
	catalog_link_free(&b);
	CHECK_EQ_INT(raw_count(dbpath, "SELECT count(*) FROM links a JOIN "
				       "links b ON b.id = a.id + 1 "
				       "WHERE b.created_at < a.created_at"), 0);
	static const struct { unsigned tags, words; enum catalog_match m; } qs[] = {
		{0, 0, 0}, {1, 0, 0}, {4, 0, 0}, {3, 0, 0}, {12, 0, 0},
		{12, 0, 1}, {3, 0, 1}, {5, 0, 1}, {19, 0, 1}, {0, 1, 0},
		{0, 4, 0}, {0, 3, 0}, {4, 1, 0}, {6, 2, 1}, {17, 1, 0},
		{3, 1, 1}};
	static const int limits[] = {7, 50, 1000};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		for (size_t k = 0; k < 3; k++)
			plan_check(c, qs[i].tags, qs[i].m, qs[i].words,
				   limits[k], NULL);
	/* an unknown tag: "all" matches nothing, "any" ignores it */
	plan_check(c, 4, CATALOG_MATCH_ANY, 0, 7, "nosuch");
	struct catalog_link_query q = {.tags = (const char *[]){"few1", "nosuch"},
				       .ntags = 2};
	struct catalog_link_list *l = NULL;
	REQUIRE(catalog_links_list(c, &q, &l) == SC_OK);
	CHECK_EQ_INT(l->n, 0);
	CHECK_STR(l->next_cursor, "");
	catalog_link_list_free(&l);
	catalog_close(&c);
}

#define CATALOG_TESTS(T) T(fts) T(tag_filters) T(cursor_paging_ties) T(list_plans)
CATALOG_TEST_MAIN("search")
