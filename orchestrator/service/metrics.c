/*
 * metrics.c — the registry of metrics.h: families of series behind one
 * mutex, and the Prometheus text exposition (format 0.0.4).
 *
 *   metrics_family (register) -> metrics_add / _set / _observe (any thread)
 *   -> metrics_expose -> "# HELP", "# TYPE", samples -> an sc_buf
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_LOG "metrics"

struct metrics_series {
	char *lv;          /* the label's value; NULL in an unlabelled family */
	double value;      /* counter, gauge; a histogram's sum */
	double count;      /* histogram: observations */
	double *buckets;   /* histogram: observations per bucket (not
			      cumulative), nbuckets of them */
};

struct metrics_family {
	struct metrics *m;
	enum metrics_type type;
	char *name, *help, *label;
	double bounds[METRICS_BUCKETS_MAX];
	int nbuckets;
	struct metrics_series *series;
	int n, alloc;
};

struct metrics {
	pthread_mutex_t lock; /* everything below and in the families */
	struct metrics_family **fams;
	int n, alloc;
};

struct metrics *metrics_create(void)
{
	struct metrics *m = sc_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void metrics_family_free(struct metrics_family *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->series[i].lv);
		free(f->series[i].buckets);
	}
	free(f->series);
	free(f->name);
	free(f->help);
	free(f->label);
	free(f);
}

void metrics_destroy(struct metrics **mp)
{
	struct metrics *m = *mp;
	if (!m)
		return;
	for (int i = 0; i < m->n; i++)
		metrics_family_free(m->fams[i]);
	free(m->fams);
	pthread_mutex_destroy(&m->lock);
	free(m);
	*mp = NULL;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for names; without ':' for labels. */
static int metrics_valid_name(const char *s, int label)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++) {
		int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			 (*s >= '0' && *s <= '9') || *s == '_' ||
			 (!label && *s == ':');
		if (!ok)
			return 0;
	}
	return 1;
}

static int metrics_valid_buckets(const double *b, int n)
{
	if (n < 1 || n > METRICS_BUCKETS_MAX || !b)
		return 0;
	for (int i = 0; i < n; i++)
		if (!isfinite(b[i]) || (i && b[i] <= b[i - 1]))
			return 0;
	return 1;
}

static struct metrics_series *metrics_series_get(struct metrics_family *f,
						 const char *lv);

static int metrics_family_ok(enum metrics_type t, const char *name,
			     const char *label, const double *buckets, int nb)
{
	if (!metrics_valid_name(name, 0))
		return 0;
	if (label && (!metrics_valid_name(label, 1) || !strncmp(label, "__", 2) ||
		      (t == METRICS_HISTOGRAM && !strcmp(label, "le"))))
		return 0;
	return t != METRICS_HISTOGRAM || metrics_valid_buckets(buckets, nb);
}

/* A new family, appended to m. Caller holds the lock. */
static struct metrics_family *metrics_family_new(
	struct metrics *m, enum metrics_type t, const char *name,
	const char *help, const char *label, const double *buckets, int nb)
{
	struct metrics_family *f = sc_xcalloc(1, sizeof(*f));
	f->m = m;
	f->type = t;
	f->name = sc_xstrdup(name);
	f->help = sc_xstrdup(help ? help : "");
	f->label = sc_xstrdup(label);
	if (t == METRICS_HISTOGRAM) {
		memcpy(f->bounds, buckets, sizeof(double) * (size_t)nb);
		f->nbuckets = nb;
	}
	if (!label)
		(void)metrics_series_get(f, NULL);
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->fams = sc_xrealloc(m->fams, sizeof(*m->fams) * (size_t)m->alloc);
	}
	m->fams[m->n++] = f;
	return f;
}

struct metrics_family *metrics_family(struct metrics *m, enum metrics_type t,
				      const char *name, const char *help,
				      const char *label, const double *buckets,
				      int nbuckets)
{
	if (!metrics_family_ok(t, name, label, buckets, nbuckets)) {
		sc_log(SC_LOG_ERROR, METRICS_LOG, "bad metric %s",
		       name ? name : "(null)");
		return NULL;
	}
	struct metrics_family *f = NULL;
	int clash = 0;
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < m->n && !f && !clash; i++)
		if (!strcmp(m->fams[i]->name, name)) {
			f = m->fams[i]->type == t ? m->fams[i] : NULL;
			clash = !f;
		}
	if (!f && !clash)
		f = metrics_family_new(m, t, name, help, label, buckets,
				       nbuckets);
	pthread_mutex_unlock(&m->lock);
	if (clash)
		sc_log(SC_LOG_ERROR, METRICS_LOG, "metric %s registered with "
		       "another type", name);
	return f;
}

/* The series of lv, created if missing (NULL past METRICS_SERIES_MAX or
 * for a label value where none belongs). Caller holds the lock. */
static struct metrics_series *metrics_series_get(struct metrics_family *f,
						 const char *lv)
{
	if (!f->label != !lv)
		return NULL;
	for (int i = 0; i < f->n; i++) {
		const char *s = f->series[i].lv;
		if (!lv || !strcmp(s, lv))
			return &f->series[i];
	}
	if (f->n >= METRICS_SERIES_MAX)
		return NULL;
	if (f->n == f->alloc) {
		f->alloc = f->alloc ? f->alloc * 2 : 8;
		f->series = sc_xrealloc(f->series,
					sizeof(*f->series) * (size_t)f->alloc);
	}
	struct metrics_series *s = &f->series[f->n++];
	*s = (struct metrics_series){.lv = sc_xstrdup(lv)};
	if (f->type == METRICS_HISTOGRAM)
		s->buckets = sc_xcalloc((size_t)f->nbuckets, sizeof(double));
	return s;
}

/* op: 'a' add, 's' set, 'o' observe, 't' touch. */
static void metrics_update(struct metrics_family *f, const char *lv, double v,
			   char op)
{
	if (!f || ((op == 'o') != (f->type == METRICS_HISTOGRAM) && op != 't'))
		return;
	if (op == 'a' && f->type == METRICS_COUNTER && !(v >= 0))
		return;
	pthread_mutex_lock(&f->m->lock);
	struct metrics_series *s = metrics_series_get(f, lv);
	if (s && op == 'a')
		s->value += v;
	else if (s && op == 's')
		s->value = v;
	else if (s && op == 'o') {
		s->value += v;
		s->count++;
		for (int i = 0; i < f->nbuckets; i++)
			if (v <= f->bounds[i]) {
				s->buckets[i]++;
				break;
			}
	}
	pthread_mutex_unlock(&f->m->lock);
}

void metrics_add(struct metrics_family *f, const char *lv, double v)
{
	metrics_update(f, lv, v, 'a');
}

void metrics_set(struct metrics_family *f, const char *lv, double v)
{
	metrics_update(f, lv, v, 's');
}

void metrics_observe(struct metrics_family *f, const char *lv, double v)
{
	metrics_update(f, lv, v, 'o');
}

void metrics_touch(struct metrics_family *f, const char *lv)
{
	metrics_update(f, lv, 0, 't');
}

double metrics_value(struct metrics_family *f, const char *lv)
{
	double v = 0;
	if (!f)
		return 0;
	pthread_mutex_lock(&f->m->lock);
	for (int i = 0; i < f->n; i++) {
		const struct metrics_series *s = &f->series[i];
		if ((!lv && !s->lv) || (lv && s->lv && !strcmp(s->lv, lv))) {
			v = f->type == METRICS_HISTOGRAM ? s->count : s->value;
			break;
		}
	}
	pthread_mutex_unlock(&f->m->lock);
	return v;
}

/* ---- exposition ---- */

/* The shortest of %.15g / %.17g that reads back as v; NaN, +Inf, -Inf. */
static void metrics_num(double v, char *out, size_t n)
{
	if (isnan(v))
		snprintf(out, n, "NaN");
	else if (isinf(v))
		snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (snprintf(out, n, "%.15g", v), strtod(out, NULL) != v)
		snprintf(out, n, "%.17g", v);
}

/* Append s with \\ and \n escaped, and \" too in a label value. */
static sc_result metrics_escaped(struct sc_buf *b, const char *s, int quote)
{
	sc_result rc = SC_OK;
	for (const char *p = s; !rc && *p; p++) {
		size_t n = strcspn(p, quote ? "\\\n\"" : "\\\n");
		if (n && (rc = sc_buf_append(b, p, n)))
			break;
		p += n;
		if (!*p)
			break;
		rc = sc_buf_appends(b, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\");
	}
	return rc;
}

/* name{label="lv",le="x"} value\n ; suffix and le may be NULL. */
static sc_result metrics_sample(struct sc_buf *b, const struct metrics_family *f,
				const char *suffix, const char *lv,
				const char *le, double v)
{
	char num[40];
	sc_result rc = sc_buf_printf(b, "%s%s", f->name, suffix ? suffix : "");
	if (!rc && (lv || le))
		rc = sc_buf_appends(b, "{");
	if (!rc && lv && !(rc = sc_buf_printf(b, "%s=\"", f->label)) &&
	    !(rc = metrics_escaped(b, lv, 1)))
		rc = sc_buf_appends(b, "\"");
	if (!rc && le)
		rc = sc_buf_printf(b, "%sle=\"%s\"", lv ? "," : "", le);
	if (!rc && (lv || le))
		rc = sc_buf_appends(b, "}");
	metrics_num(v, num, sizeof(num));
	return rc ? rc : sc_buf_printf(b, " %s\n", num);
}

static sc_result metrics_histogram(struct sc_buf *b,
				   const struct metrics_family *f,
				   const struct metrics_series *s)
{
	sc_result rc = SC_OK;
	double cum = 0;
	char le[40];
	for (int i = 0; !rc && i < f->nbuckets; i++) {
		cum += s->buckets[i];
		metrics_num(f->bounds[i], le, sizeof(le));
		rc = metrics_sample(b, f, "_bucket", s->lv, le, cum);
	}
	if (!rc)
		rc = metrics_sample(b, f, "_bucket", s->lv, "+Inf", s->count);
	if (!rc)
		rc = metrics_sample(b, f, "_sum", s->lv, NULL, s->value);
	if (!rc)
		rc = metrics_sample(b, f, "_count", s->lv, NULL, s->count);
	return rc;
}

static sc_result metrics_expose_family(struct sc_buf *b,
				       const struct metrics_family *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	sc_result rc = sc_buf_printf(b, "# HELP %s ", f->name);
	if (!rc)
		rc = metrics_escaped(b, f->help, 0);
	if (!rc)
		rc = sc_buf_printf(b, "\n# TYPE %s %s\n", f->name, types[f->type]);
	for (int i = 0; !rc && i < f->n; i++) {
		const struct metrics_series *s = &f->series[i];
		rc = f->type == METRICS_HISTOGRAM
			     ? metrics_histogram(b, f, s)
			     : metrics_sample(b, f, NULL, s->lv, NULL, s->value);
	}
	return rc;
}

sc_result metrics_expose(struct metrics *m, struct sc_buf *out)
{
	sc_result rc = SC_OK;
	pthread_mutex_lock(&m->lock);
	for (int i = 0; !rc && i < m->n; i++)
		rc = metrics_expose_family(out, m->fams[i]);
	pthread_mutex_unlock(&m->lock);
	return rc;
}
