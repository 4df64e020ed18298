/*
 * mhtml_idx.c — the index of an MHTML file beside it (see mhtml_idx.h):
 * written at capture, read and checked per request, rebuilt when missing
 * or damaged; a part's bytes read alone from the file.
 *
 *   write: mhtml_parse -> ix_text (header, parts, checksum) -> store
 *   open:  fstat page.mhtml -> ix_load(page.mhtml.idx) -> ok, or
 *          ix_rebuild (read, parse, ix_text, store, ix_load)
 */
#include "mhtml_idx.h"
#include "mhtml.h"
#include "mhtml_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define IX_MAGIC "snapcat-mhtml-index 1 "
#define IX_TRAILER 21 /* "end " + 16 hex + "\n" */

struct mhtml_idx {
	int fd;           /* page.mhtml, checked against the index */
	struct sc_buf raw; /* the index text; parts' loc and cid point in */
	struct mhtml m;   /* parts without bodies */
	uint64_t *off;    /* each part's body in the file */
	int main;
};

static uint64_t ix_fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static sc_result ix_append(struct sc_buf *o, const char *p, size_t n)
{
	return n ? sc_buf_append(o, p, n) : SC_OK;
}

/* One part's line and strings. */
static sc_result ix_part_text(const struct mhtml_part *pt, const char *base,
			      struct sc_buf *o)
{
	size_t tl = strlen(pt->type);
	sc_result rc = sc_buf_printf(
		o, "%zu %zu %c %zu %zu %zu\n", (size_t)(pt->body - base),
		pt->len, pt->b64 ? 'b' : pt->qp ? 'q' : '-', tl, pt->loclen,
		pt->cidlen);
	rc = rc ? rc : ix_append(o, pt->type, tl);
	rc = rc ? rc : ix_append(o, pt->loc, pt->loclen);
	rc = rc ? rc : ix_append(o, pt->cid, pt->cidlen);
	return rc ? rc : sc_buf_append(o, "\n", 1);
}

/* The index text of data (len bytes, the file st describes) into o. */
static sc_result ix_text(const char *data, size_t len, const struct stat *st,
			 struct sc_buf *o)
{
	struct mhtml *m = NULL;
	sc_result rc = mhtml_parse(data, len, &m);
	if (rc)
		return rc;
	int main = 0;
	while (main < m->n && strcmp(m->parts[main].type, "text/html"))
		main++;
	rc = sc_buf_printf(o, IX_MAGIC "%zu %lld %ld %d %d\n", len,
			   (long long)st->st_mtim.tv_sec,
			   (long)st->st_mtim.tv_nsec, m->n,
			   main < m->n ? main : 0);
	for (int i = 0; !rc && i < m->n; i++)
		rc = ix_part_text(&m->parts[i], data, o);
	if (!rc)
		rc = sc_buf_printf(o, "end %016llx\n",
				   (unsigned long long)ix_fnv(o->data, o->len));
	mhtml_free(&m);
	return rc;
}

static void ix_path(const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s.idx", path);
}

sc_result mhtml_idx_write(const char *path, const char *data, size_t len,
			  uint64_t max, char *err, size_t errlen)
{
	struct stat st;
	char ip[4200];
	if (stat(path, &st) || (uint64_t)st.st_size != len) {
		snprintf(err, errlen, "index: %s is not the MHTML written", path);
		return SC_ERR_IO;
	}
	struct sc_buf o;
	sc_buf_init(&o, max && max < MHTML_IDX_MAX ? (size_t)max
						   : MHTML_IDX_MAX);
	sc_result rc = ix_text(data, len, &st, &o);
	ix_path(path, ip, sizeof(ip));
	if (!rc)
		rc = store_write_file(ip, o.data, o.len, err, errlen);
	else
		snprintf(err, errlen, "index: %s", sc_strerror(rc));
	sc_buf_free(&o);
	return rc;
}

/* ---- reading an index ---- */

struct ix_rd {
	const char *p, *end;
};

/* A decimal number (1 to 19 digits, at most max) then the byte sep. */
static int ix_num(struct ix_rd *r, uint64_t max, char sep, uint64_t *v)
{
	uint64_t n = 0;
	int k = 0;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && k < 19) {
		n = n * 10 + (uint64_t)(*r->p++ - '0');
		k++;
	}
	if (!k || n > max || r->p >= r->end || *r->p != sep)
		return -1;
	r->p++;
	*v = n;
	return 0;
}

/* The header: the file it describes must be st; sets x->m.n, x->main. */
static int ix_header(struct ix_rd *r, const struct stat *st,
		     struct mhtml_idx *x)
{
	uint64_t size, sec, ns, n, main;
	size_t ml = sizeof(IX_MAGIC) - 1;
	if ((size_t)(r->end - r->p) < ml || memcmp(r->p, IX_MAGIC, ml))
		return -1;
	r->p += ml;
	if (ix_num(r, MHTML_FILE_MAX, ' ', &size) ||
	    ix_num(r, UINT64_MAX / 2, ' ', &sec) ||
	    ix_num(r, 999999999, ' ', &ns) ||
	    ix_num(r, MHTML_PARTS_MAX, ' ', &n) || ix_num(r, n, '\n', &main))
		return -1;
	if (size != (uint64_t)st->st_size ||
	    sec != (uint64_t)st->st_mtim.tv_sec ||
	    ns != (uint64_t)st->st_mtim.tv_nsec || n == 0 || main >= n)
		return -1;
	x->m.n = x->m.alloc = (int)n;
	x->main = (int)main;
	return 0;
}

/* Part i's line and strings; its body must lie inside a file of size. */
static int ix_part(struct ix_rd *r, uint64_t size, struct mhtml_idx *x,
		   int i)
{
	struct mhtml_part *pt = &x->m.parts[i];
	uint64_t off, len, tl, ll, cl;
	if (ix_num(r, size, ' ', &off) || ix_num(r, size - off, ' ', &len) ||
	    r->end - r->p < 2 || !strchr("bq-", r->p[0]) || r->p[1] != ' ')
		return -1;
	pt->b64 = r->p[0] == 'b';
	pt->qp = r->p[0] == 'q';
	r->p += 2;
	if (ix_num(r, sizeof(pt->type) - 1, ' ', &tl) ||
	    ix_num(r, MHTML_IDX_MAX, ' ', &ll) ||
	    ix_num(r, MHTML_IDX_MAX, '\n', &cl) ||
	    (uint64_t)(r->end - r->p) < tl + ll + cl + 1 ||
	    r->p[tl + ll + cl] != '\n')
		return -1;
	memcpy(pt->type, r->p, tl);
	pt->type[tl] = 0;
	pt->loc = ll ? r->p + tl : NULL;
	pt->loclen = ll;
	pt->cid = cl ? r->p + tl + ll : NULL;
	pt->cidlen = cl;
	pt->len = len;
	x->off[i] = off;
	r->p += tl + ll + cl + 1;
	return 0;
}

/* x->raw checked (checksum, header against st, every part) and its parts
 * set up; 0, or -1 for a damaged or stale index. */
static int ix_load(struct mhtml_idx *x, const struct stat *st)
{
	const char *d = x->raw.data;
	size_t n = x->raw.len;
	unsigned long long sum;
	char tail[IX_TRAILER + 1];
	if (n < IX_TRAILER + sizeof(IX_MAGIC))
		return -1;
	memcpy(tail, d + n - IX_TRAILER, IX_TRAILER);
	tail[IX_TRAILER] = 0;
	if (strncmp(tail, "end ", 4) || tail[IX_TRAILER - 1] != '\n' ||
	    strspn(tail + 4, "0123456789abcdef") != 16 ||
	    sscanf(tail + 4, "%16llx", &sum) != 1 ||
	    sum != ix_fnv(d, n - IX_TRAILER))
		return -1;
	struct ix_rd r = {d, d + n - IX_TRAILER};
	if (ix_header(&r, st, x))
		return -1;
	x->m.parts = sc_xcalloc((size_t)x->m.n, sizeof(*x->m.parts));
	x->off = sc_xcalloc((size_t)x->m.n, sizeof(*x->off));
	for (int i = 0; i < x->m.n; i++)
		if (ix_part(&r, (uint64_t)st->st_size, x, i))
			return -1;
	return r.p == r.end ? 0 : -1;
}

/* len bytes at off of fd into b (appended). */
static sc_result ix_pread(int fd, uint64_t off, size_t len, struct sc_buf *b)
{
	sc_result rc = sc_buf_reserve(b, len);
	size_t got = 0;
	while (!rc && got < len) {
		ssize_t k = pread(fd, b->data + b->len + got, len - got,
				  (off_t)(off + got));
		if (k <= 0)
			rc = SC_ERR_IO;
		else
			got += (size_t)k;
	}
	if (!rc) {
		b->len += len;
		b->data[b->len] = 0;
	}
	return rc;
}

/* The index file at path".idx" into x->raw (capped); 0 if it loads. */
static int ix_read(const char *path, struct mhtml_idx *x,
		   const struct stat *st)
{
	char ip[4200];
	struct stat is;
	ix_path(path, ip, sizeof(ip));
	int fd = open(ip, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = !fstat(fd, &is) && S_ISREG(is.st_mode) &&
		 (uint64_t)is.st_size <= MHTML_IDX_MAX &&
		 !ix_pread(fd, 0, (size_t)is.st_size, &x->raw);
	close(fd);
	return ok ? ix_load(x, st) : -1;
}

static void ix_clear(struct mhtml_idx *x)
{
	free(x->m.parts);
	free(x->off);
	x->m.parts = NULL;
	x->off = NULL;
	x->m.n = x->m.alloc = 0;
	sc_buf_reset(&x->raw);
}

/* The MHTML parsed again: the index built, stored (if it can be) and
 * loaded. */
static sc_result ix_rebuild(const char *path, struct mhtml_idx *x,
			    const struct stat *st)
{
	struct sc_buf file;
	char ip[4200], err[256];
	ix_clear(x);
	sc_buf_init(&file, MHTML_FILE_MAX);
	sc_result rc = ix_pread(x->fd, 0, (size_t)st->st_size, &file);
	rc = rc ? rc : ix_text(file.data, file.len, st, &x->raw);
	sc_buf_free(&file);
	if (rc)
		return rc;
	ix_path(path, ip, sizeof(ip));
	if (store_write_file(ip, x->raw.data, x->raw.len, err, sizeof(err)))
		sc_log(SC_LOG_WARN, "mhtml", "the index of %s is not stored: %s",
		       path, err);
	return ix_load(x, st) ? SC_ERR_INTERNAL : SC_OK;
}

sc_result mhtml_idx_open(const char *path, struct mhtml_idx **out,
			 int *built)
{
	struct stat st;
	*out = NULL;
	*built = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SC_ERR_NOT_FOUND;
	struct mhtml_idx *x = sc_xcalloc(1, sizeof(*x));
	x->fd = fd;
	sc_buf_init(&x->raw, MHTML_IDX_MAX);
	sc_result rc = fstat(fd, &st) || !S_ISREG(st.st_mode) ? SC_ERR_NOT_FOUND
							      : SC_OK;
	if (!rc && (uint64_t)st.st_size > MHTML_FILE_MAX)
		rc = SC_ERR_TOO_LARGE;
	if (!rc && ix_read(path, x, &st)) {
		*built = 1;
		rc = ix_rebuild(path, x, &st);
	}
	if (rc)
		mhtml_idx_free(&x);
	*out = x;
	return rc;
}

void mhtml_idx_free(struct mhtml_idx **x)
{
	if (!x || !*x)
		return;
	ix_clear(*x);
	sc_buf_free(&(*x)->raw);
	close((*x)->fd);
	free(*x);
	*x = NULL;
}

int mhtml_idx_count(const struct mhtml_idx *x) { return x->m.n; }

int mhtml_idx_main(const struct mhtml_idx *x) { return x->main; }

const char *mhtml_idx_type(const struct mhtml_idx *x, int i)
{
	return mhtml_type(&x->m, i);
}

sc_result mhtml_idx_render(struct mhtml_idx *x, int i, const char *prefix,
			   const char *suffix, struct sc_buf *out)
{
	if (i < 0 || i >= x->m.n)
		return SC_ERR_NOT_FOUND;
	struct mhtml_part *pt = &x->m.parts[i];
	struct sc_buf b;
	sc_buf_init(&b, MHTML_FILE_MAX);
	sc_result rc = ix_pread(x->fd, x->off[i], pt->len, &b);
	if (!rc) {
		pt->body = b.data;
		rc = mhtml_render(&x->m, i, prefix, suffix, out);
		pt->body = NULL;
	}
	sc_buf_free(&b);
	return rc;
}
