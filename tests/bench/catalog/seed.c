/*
 * seed.c — fill a fresh snapcat catalog with N links for the catalog
 * benchmark (tests/bench/catalog/run), through the catalog's own API so the
 * schema, triggers and FTS index are exactly the product's.
 *
 *   HTML paths on stdin -> corpus (tags stripped, words) -> per link:
 *   catalog_link_add -> catalog_link_set_tags (1-4, Zipf over TAGS)
 *   -> catalog_job_enqueue -> catalog_job_claim
 *   -> catalog_snapshot_create + catalog_snapshot_finish (title, page text:
 *      the links_fts triggers index them) -> catalog_job_done
 *   (or catalog_job_fail for SEED_FAIL_PCT % of links: no snapshot, no text)
 *   BATCH links per catalog_tx_begin/commit.
 *
 * usage: seed DB [LINKS] < html-paths
 * Environment: SEED_WORDS (mean words of page text, default 250),
 * SEED_RANDOM (PRNG seed, default 1). Without usable HTML on stdin the
 * corpus is generated: Zipf-distributed pseudo-words. The same inputs give
 * the same catalog. Prints one summary line on stdout.
 *
 * A bench tool, not product code: it exits on the first error.
 */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

#define NTAGS 200
#define NHOSTS 1000
#define BATCH 2000
#define CORPUS_MAX (48u << 20) /* bytes of corpus text kept */
#define FAIL_PCT 4

/* 200 tags; index = popularity rank (Zipf, s = 1). */
static const char *const tag_names[NTAGS] = {
	"to-read", "programming", "linux", "news", "reference", "python",
	"tutorial", "javascript", "design", "web", "tools", "security",
	"databases", "c", "rust", "devops", "docs", "science", "history",
	"music", "video", "recipes", "ai", "go", "career", "productivity",
	"networking", "cloud", "css", "html", "sql", "sqlite", "postgres",
	"kubernetes", "docker", "git", "vim", "emacs", "shell", "unix",
	"hardware", "electronics", "math", "physics", "biology", "health",
	"finance", "economics", "politics", "philosophy", "books", "writing",
	"photography", "travel", "games", "gamedev", "graphics", "audio",
	"mobile", "android", "ios", "macos", "windows", "bsd", "debian",
	"ubuntu", "arch", "nix", "compilers", "llvm", "gcc", "performance",
	"testing", "fuzzing", "cryptography", "privacy", "opensource",
	"licensing", "startups", "management", "hiring", "remote-work",
	"typescript", "react", "vue", "svelte", "node", "deno", "wasm",
	"java", "kotlin", "scala", "haskell", "ocaml", "lisp", "clojure",
	"erlang", "elixir", "ruby", "php", "perl", "lua", "zig", "cpp",
	"swift", "dotnet", "csharp", "fsharp", "r", "julia", "fortran",
	"assembly", "embedded", "fpga", "risc-v", "arm", "x86", "kernel",
	"filesystems", "storage", "distributed", "consensus", "raft",
	"messaging", "kafka", "redis", "nginx", "http", "tls", "dns", "ipv6",
	"email", "spam", "monitoring", "observability", "logging", "tracing",
	"incident", "sre", "architecture", "api", "rest", "graphql", "grpc",
	"json", "xml", "yaml", "regex", "unicode", "i18n", "accessibility",
	"ux", "typography", "fonts", "color", "maps", "gis", "weather",
	"climate", "energy", "space", "astronomy", "chemistry", "medicine",
	"nutrition", "fitness", "running", "cycling", "cooking", "baking",
	"coffee", "tea", "gardening", "diy", "woodworking", "3d-printing",
	"cars", "trains", "aviation", "urbanism", "buildings",
	"art", "film", "tv", "podcasts", "comics", "poetry", "language",
	"linguistics", "education", "parenting", "law", "patents",
	"archive-me", "read-later", "interesting", "funny", "inspiration",
	"long-read", "paper",
};

static uint64_t rng_state = 1;

static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static size_t rndn(size_t n) { return (size_t)(rnd() % n); }

/* A Zipf (s = 1) sampler over ranks 0..n-1: the cumulative weights. */
struct zipf {
	double *cdf;
	size_t n;
};

static void zipf_init(struct zipf *z, size_t n)
{
	z->cdf = malloc(n * sizeof(*z->cdf));
	z->n = n;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		z->cdf[i] = (sum += 1.0 / (double)(i + 1));
	for (size_t i = 0; i < n; i++)
		z->cdf[i] /= sum;
}

static size_t zipf_draw(const struct zipf *z)
{
	double u = rnd01();
	size_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void die(const char *what, struct catalog *c)
{
	fprintf(stderr, "seed: %s: %s\n", what, c ? catalog_errmsg(c) : "");
	exit(1);
}

/* ---- corpus: words separated by one space in text[0..len) ---- */

struct corpus {
	char *text;
	size_t len, cap;
	uint32_t *word; /* start offset of each word */
	size_t nwords, wcap;
};

static void corpus_word(struct corpus *k, const char *w, size_t n)
{
	if (n < 1 || n > 24 || k->len + n + 2 > CORPUS_MAX)
		return;
	if (k->len + n + 2 > k->cap) {
		k->cap = k->cap ? k->cap * 2 : 1 << 20;
		k->text = realloc(k->text, k->cap);
	}
	if (k->nwords == k->wcap) {
		k->wcap = k->wcap ? k->wcap * 2 : 1 << 16;
		k->word = realloc(k->word, k->wcap * sizeof(*k->word));
	}
	if (!k->text || !k->word)
		die("out of memory", NULL);
	k->word[k->nwords++] = (uint32_t)k->len;
	memcpy(k->text + k->len, w, n);
	k->len += n;
	k->text[k->len++] = ' ';
}

static int is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* Is the tag at s (after '<') a script or style element? */
static int skip_element(const char *s)
{
	return !strncmp(s, "script", 6) || !strncmp(s, "style", 5);
}

/* The visible words of one HTML document. */
static void corpus_html(struct corpus *k, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] == '<') {
			const char *end = skip_element(s + i + 1)
				? strstr(s + i, "</") : NULL;
			const char *gt = memchr(s + i, '>', n - i);
			if (end && gt && end > gt)
				gt = memchr(end, '>', n - (size_t)(end - s));
			i = gt ? (size_t)(gt - s) + 1 : n;
		} else if (s[i] == '&') {
			while (i < n && s[i] != ';' && s[i] != ' ')
				i++;
			i++;
		} else if (is_alnum((unsigned char)s[i]) &&
			   !(s[i] >= '0' && s[i] <= '9')) {
			size_t w = i;
			while (i < n && is_alnum((unsigned char)s[i]))
				i++;
			corpus_word(k, s + w, i - w);
		} else {
			i++;
		}
	}
}

static void corpus_file(struct corpus *k, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	static char buf[16 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	corpus_html(k, buf, n);
}

/* No HTML: pseudo-words from syllables, Zipf-distributed. */
static void corpus_generate(struct corpus *k, size_t nwords)
{
	static const char *const syl[] = {
		"ka", "ro", "mi", "ten", "sa", "lo", "ve", "dor", "an", "pli",
		"qu", "est", "ul", "mar", "ne", "zi", "bo", "ther", "in", "gra"};
	enum { LEX = 20000 };
	static char lex[LEX][16];
	for (size_t i = 0; i < LEX; i++) {
		size_t ns = 1 + rndn(4), len = 0;
		for (size_t j = 0; j < ns; j++) {
			const char *y = syl[rndn(20)];
			memcpy(lex[i] + len, y, strlen(y));
			len += strlen(y);
		}
	}
	struct zipf z;
	zipf_init(&z, LEX);
	for (size_t i = 0; i < nwords; i++) {
		const char *w = lex[zipf_draw(&z)];
		corpus_word(k, w, strlen(w));
	}
	free(z.cdf);
}

static void corpus_load(struct corpus *k)
{
	char path[4096];
	while (fgets(path, sizeof(path), stdin) && k->len < CORPUS_MAX - 64) {
		path[strcspn(path, "\r\n")] = '\0';
		if (path[0])
			corpus_file(k, path);
	}
	if (k->nwords < 100000) {
		fprintf(stderr, "seed: %zu words of HTML: generating a corpus\n",
			k->nwords);
		k->len = k->nwords = 0;
		corpus_generate(k, 4000000);
	}
}

/* Copy words [w, w + n) of the corpus into buf (NUL-terminated). */
static char *corpus_slice(const struct corpus *k, size_t n, char *buf,
			  size_t buflen, size_t *words)
{
	size_t w = rndn(k->nwords - n);
	size_t end = w + n < k->nwords ? k->word[w + n] - 1 : k->len - 1;
	size_t len = end - k->word[w];
	if (len >= buflen)
		len = buflen - 1;
	memcpy(buf, k->text + k->word[w], len);
	buf[len] = '\0';
	if (words)
		*words += n;
	return buf;
}

/* ---- the catalog ---- */

static int64_t clock_ms;

static int64_t seed_clock(void *ud)
{
	(void)ud;
	return clock_ms;
}

struct seeder {
	struct catalog *c;
	struct corpus k;
	struct zipf tags, hosts;
	char hostnames[NHOSTS][48];
	double mean_words;
	size_t words, failed, tagrefs;
};

static void make_hosts(struct seeder *s)
{
	static const char *const tld[] = {".com", ".org", ".io", ".dev", ".net",
					  ".blog", ".co.uk", ".de"};
	char w[32];
	for (size_t i = 0; i < NHOSTS; i++) {
		corpus_slice(&s->k, 1, w, 20, NULL);
		for (char *p = w; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		snprintf(s->hostnames[i], sizeof(s->hostnames[i]), "%s%s%s",
			 i % 5 ? "" : "www.", w, tld[rndn(8)]);
	}
}

static void add_tags(struct seeder *s, int64_t id)
{
	const char *tags[4];
	size_t n = 1 + rndn(4);
	for (size_t i = 0; i < n; i++)
		tags[i] = tag_names[zipf_draw(&s->tags)];
	if (catalog_link_set_tags(s->c, id, tags, n))
		die("set tags", s->c);
	s->tagrefs += n;
}

/* The capture's outcome: a finished snapshot with title and text. */
static void add_snapshot(struct seeder *s, int64_t id, int64_t job,
			 const char *url)
{
	static char text[CATALOG_TEXT_MAX], title[512];
	char dir[64], png[96], mhtml[96], thumb[96];
	int64_t sid;
	if (catalog_snapshot_create(s->c, id, job, &sid))
		die("snapshot create", s->c);
	double u = rnd01() * 0.999 + 0.001;
	size_t nw = (size_t)(s->mean_words * (0.2 + 0.8 * -log(u)));
	snprintf(dir, sizeof(dir), "snapshots/%lld/%lld", (long long)id,
		 (long long)sid);
	snprintf(png, sizeof(png), "%s/page.png", dir);
	snprintf(mhtml, sizeof(mhtml), "%s/page.mhtml", dir);
	snprintf(thumb, sizeof(thumb), "%s/thumb.png", dir);
	struct catalog_snapshot snap = {
		.id = sid, .state = CATALOG_SNAP_OK, .final_url = (char *)url,
		.title = corpus_slice(&s->k, 3 + rndn(7), title, sizeof(title),
				      NULL),
		.http_status = 200, .width = 1280,
		.height = 800 + (int)rndn(12000), .dir = dir, .png_path = png,
		.mhtml_path = mhtml, .thumb_path = thumb,
		.png_bytes = 50000 + (int64_t)rndn(3000000),
		.mhtml_bytes = 20000 + (int64_t)rndn(2000000),
		.text = corpus_slice(&s->k, nw < 20 ? 20 : nw, text, sizeof(text),
				     &s->words),
		.timings = "{\"total\":2400}",
		.png_status = CATALOG_OUT_OK, .mhtml_status = CATALOG_OUT_OK,
		.thumb_status = CATALOG_OUT_OK, .text_status = CATALOG_OUT_OK};
	clock_ms += 1000 + (int64_t)rndn(8000);
	if (catalog_snapshot_finish(s->c, &snap))
		die("snapshot finish", s->c);
	if (catalog_job_done(s->c, job, sid))
		die("job done", s->c);
}

static void add_link(struct seeder *s, size_t i)
{
	char url[256], path[64];
	int64_t id, job;
	int created;
	corpus_slice(&s->k, 2, path, 40, NULL);
	for (char *p = path; *p; p++)
		*p = (char)(*p == ' ' ? '-' : *p);
	snprintf(url, sizeof(url), "https://%s/%s/%zu",
		 s->hostnames[zipf_draw(&s->hosts)], path, i);
	if (catalog_link_add(s->c, url, &id, &created) || !created)
		die("link add", s->c);
	add_tags(s, id);
	if (catalog_job_enqueue(s->c, id, NULL, 0, &job))
		die("job enqueue", s->c);
	struct catalog_job *j = NULL;
	if (catalog_job_claim(s->c, &j) || j->id != job)
		die("job claim", s->c);
	catalog_job_free(&j);
	if (rndn(100) < FAIL_PCT) {
		clock_ms += 60000;
		if (catalog_job_fail(s->c, job, "timeout", "deadline passed"))
			die("job fail", s->c);
		s->failed++;
	} else {
		add_snapshot(s, id, job, url);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: seed DB [LINKS] < html-paths\n");
		return 2;
	}
	size_t nlinks = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	const char *env = getenv("SEED_WORDS");
	static struct seeder s;
	s.mean_words = env ? strtod(env, NULL) : 250;
	rng_state = (env = getenv("SEED_RANDOM")) ? strtoull(env, NULL, 10) : 1;
	char err[512];
	/* glibc otherwise gives the heap top back and takes it again on
	 * every few statements: a third of the run in page faults */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	corpus_load(&s.k);
	zipf_init(&s.tags, NTAGS);
	zipf_init(&s.hosts, NHOSTS);
	make_hosts(&s);
	if (catalog_open(argv[1], &s.c, err, sizeof(err)))
		die(err, NULL);
	catalog_set_clock(s.c, seed_clock, NULL);
	/* two years of links, about 10 minutes apart, some in bursts */
	int64_t now = 1767225600000; /* 2026-01-01 */
	int64_t step = 2 * 365 * 86400000ll / (int64_t)(nlinks ? nlinks : 1);
	int64_t base = now - step * (int64_t)nlinks;
	for (size_t i = 0; i < nlinks; i++) {
		if (i % BATCH == 0 && catalog_tx_begin(s.c))
			die("begin", s.c);
		if (rndn(10))
			base += (int64_t)rndn((size_t)(2 * step));
		clock_ms = base; /* 1 in 10 shares the previous created_at */
		add_link(&s, i + 1);
		if ((i + 1) % BATCH == 0 || i + 1 == nlinks) {
			if (catalog_tx_commit(s.c))
				die("commit", s.c);
			fprintf(stderr, "\rseed: %zu links", i + 1);
		}
	}
	catalog_close(&s.c);
	printf("SEEDED links=%zu failed=%zu tagrefs=%zu corpus_words=%zu "
	       "text_words=%zu\n", nlinks, s.failed, s.tagrefs, s.k.nwords,
	       s.words);
	return 0;
}
