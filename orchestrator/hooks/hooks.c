/*
 * hooks.c — the webhook sender (see hooks.h): the event sink on the loop
 * thread, and one sender thread with a curl multi handle that ingests
 * events into the delivery log, claims due deliveries, POSTs them signed
 * and records each attempt.
 *
 * DESIGN
 * Shared between the loop thread (sink, hooks_stop), API workers
 * (hooks_wake) and the sender: the FIFO and the stop/kick flags, under
 * h->mu; curl_multi_wakeup is the only curl call made from other threads
 * (it is documented thread-safe). Everything else (transfers, next_due,
 * dirty) belongs to the sender thread. The catalog is reached as one short
 * unit on the writer at a time (ingest, claim, record), never across a
 * network wait; each waits for its commit before the sender acts on it (a
 * claim not stored is not sent).
 */
#include "hooks.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "catalog.h"
#include "hooks_sign.h"
#include "hooks_store.h"

#define HK_LOG "hooks"
#define HK_SNIPPET 160       /* bytes of a failed answer kept in the error */
#define HK_REPLAY_PAGE 500   /* events read per step of the start-up replay */
#define HK_PRUNE_EVERY 500   /* deliveries created between prunes */
#define HK_IDLE_MS 60000     /* longest poll without anything due */

/* An event from the sink, waiting for the sender. */
struct hk_ev {
	struct hk_ev *next;
	int64_t id, link_id;
	char *type, *json;
};

/* One attempt in flight. */
struct hk_xfer {
	struct hk_xfer *next;
	struct hooks *h;
	CURL *easy;
	struct curl_slist *hdrs;
	struct hooks_claim k;       /* strings owned */
	int64_t t0, at;             /* monotonic and wall start */
	const char *refused;        /* why the address was refused */
	char errbuf[CURL_ERROR_SIZE];
	char snippet[HK_SNIPPET + 1];
	size_t nsnippet;
};

struct hooks {
	struct app *app;
	struct hooks_opts o;
	CURLM *multi;
	pthread_t th;
	int running;                /* the thread was started, not joined */
	int stopped;                /* loop thread: hooks_stop ran */
	pthread_mutex_t mu;         /* guards q, qtail, stop, kicked */
	struct hk_ev *q, **qtail;
	int stop, kicked;
	/* sender thread only */
	struct hk_xfer *xfers;
	int nxfers, dirty;
	int64_t next_due;           /* wall ms of the next due delivery, 0 none */
	int64_t since_prune;
};

/* The running sender, for hooks_wake (one per process). */
static pthread_mutex_t hk_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hooks *hk_live;

int64_t hooks_retry_delay(int64_t base, int n)
{
	static const int64_t steps[] = {5, 30, 120, 600, 3600}; /* seconds */
	int i = n < 1 ? 0 : n > 5 ? 4 : n - 1;
	if (base <= 0)
		base = HOOKS_BACKOFF_MS;
	return steps[i] * base / 5;
}

int hooks_max_attempts(void)
{
	pthread_mutex_lock(&hk_reg_mu);
	int n = hk_live ? hk_live->o.max_attempts : HOOKS_ATTEMPTS;
	pthread_mutex_unlock(&hk_reg_mu);
	return n;
}

static void hk_kick(struct hooks *h, int stop)
{
	pthread_mutex_lock(&h->mu);
	h->kicked = 1;
	h->stop |= stop;
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
}

void hooks_wake(struct app *a)
{
	pthread_mutex_lock(&hk_reg_mu);
	if (hk_live && hk_live->app == a)
		hk_kick(hk_live, 0);
	pthread_mutex_unlock(&hk_reg_mu);
}

/* ---- the sink (loop thread) ---- */

static void hk_on_event(void *ud, const struct app_event *ev)
{
	struct hooks *h = ud;
	if (h->stopped || !hooks_store_event_bit(ev->type))
		return;
	struct hk_ev *e = sc_xcalloc(1, sizeof(*e));
	e->id = ev->id;
	e->link_id = ev->link_id;
	e->type = sc_xstrdup(ev->type);
	e->json = sc_xstrdup(ev->json);
	pthread_mutex_lock(&h->mu);
	*h->qtail = e;
	h->qtail = &e->next;
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
}

/* ---- ingest (sender thread) ---- */

/* End the sender's unit, waiting for its commit; a refusal is logged. */
static sc_result hk_commit(struct hooks *h, const char *what)
{
	sc_result rc = app_write_end(h->app);
	if (rc)
		sc_log(SC_LOG_WARN, HK_LOG, "%s not stored: %s", what,
		       sc_strerror(rc));
	return rc;
}

/* The body of an event's deliveries: the event JSON as on every channel,
 * plus the link's "url" when the event names a link. Caller frees. */
static char *hk_payload(struct catalog *c, const char *json, int64_t link_id)
{
	cJSON *o = cJSON_Parse(json);
	struct catalog_link *l = NULL;
	if (!o)
		return sc_xstrdup(json);
	if (link_id && !cJSON_GetObjectItem(o, "url") &&
	    catalog_link_get(c, link_id, &l) == SC_OK)
		cJSON_AddStringToObject(o, "url", l->url);
	catalog_link_free(&l);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *r = sc_xstrdup(s ? s : json);
	cJSON_free(s);
	return r;
}

/* Turn n events into deliveries (lock held); frees the payloads pl[i]
 * (ev[i].payload points to pl[i]). */
static void hk_ingest_events(struct hooks *h, struct catalog *c,
			     struct hooks_event *ev, char **pl, size_t n)
{
	int64_t made = 0;
	sc_result rc = n ? hooks_store_ingest(c, ev, n, &made) : SC_OK;
	if (rc)
		sc_log(SC_LOG_WARN, HK_LOG, "%zu events not turned into "
		       "deliveries: %s", n, sc_strerror(rc));
	for (size_t i = 0; i < n; i++)
		free(pl[i]);
	if (made) {
		h->dirty = 1;
		h->since_prune += made;
	}
	if (h->since_prune >= HK_PRUNE_EVERY) {
		h->since_prune = 0;
		(void)!hooks_store_prune(c, HOOKS_LOG_KEEP);
	}
}

static void hk_ingest_queue(struct hooks *h, struct hk_ev *q)
{
	size_t n = 0, i = 0;
	for (struct hk_ev *e = q; e; e = e->next)
		n++;
	if (!n)
		return;
	struct hooks_event *ev = sc_xcalloc(n, sizeof(*ev));
	char **pl = sc_xcalloc(n, sizeof(*pl));
	struct catalog *c = app_write_begin(h->app);
	for (struct hk_ev *e = q; e; e = e->next, i++) {
		pl[i] = hk_payload(c, e->json, e->link_id);
		ev[i] = (struct hooks_event){
			.id = e->id, .type = e->type, .payload = pl[i]};
	}
	hk_ingest_events(h, c, ev, pl, n);
	hk_commit(h, "deliveries made from events");
	free(pl);
	free(ev);
	while (q) {
		struct hk_ev *next = q->next;
		free(q->type);
		free(q->json);
		free(q);
		q = next;
	}
}

/* One page of the events log after the cursor; 1 if there may be more. */
static int hk_replay_page(struct hooks *h, struct catalog *c)
{
	const char *types[3];
	for (int i = 0; i < 3; i++)
		types[i] = hooks_store_event_name(i);
	struct catalog_event_filter f = {.types = types, .ntypes = 3};
	struct catalog_event_list *l = NULL;
	int64_t cursor = 0;
	if (hooks_store_cursor(c, &cursor) ||
	    catalog_events_list(c, cursor, &f, HK_REPLAY_PAGE, &l))
		return 0;
	struct hooks_event *ev = sc_xcalloc(l->n + 1, sizeof(*ev));
	char **pl = sc_xcalloc(l->n + 1, sizeof(*pl));
	for (size_t i = 0; i < l->n; i++) {
		const struct catalog_event *e = &l->items[i];
		char *json = app_event_json(e->id, e->type, e->ts, e->job_id,
					    e->link_id, e->json);
		pl[i] = hk_payload(c, json, e->link_id);
		ev[i] = (struct hooks_event){
			.id = e->id, .type = e->type, .payload = pl[i]};
		cJSON_free(json);
	}
	size_t n = l->n;
	hk_ingest_events(h, c, ev, pl, n);
	if (n)
		sc_log(SC_LOG_INFO, HK_LOG, "replayed %zu events from the log",
		       n);
	catalog_event_list_free(&l);
	free(pl);
	free(ev);
	return n == HK_REPLAY_PAGE;
}

/* Start-up: events committed but never ingested (a stop or a crash). */
static void hk_replay(struct hooks *h)
{
	int more = 1;
	while (more) {
		struct catalog *c = app_write_begin(h->app);
		more = hk_replay_page(h, c);
		if (hk_commit(h, "deliveries replayed from the log"))
			more = 0; /* the next start replays them */
	}
}

/* ---- transfers (sender thread) ---- */

static size_t hk_write(char *p, size_t size, size_t n, void *ud)
{
	struct hk_xfer *x = ud;
	size_t len = size * n, room = HK_SNIPPET - x->nsnippet;
	size_t k = len < room ? len : room;
	for (size_t i = 0; i < k; i++) /* printable ASCII only: it is logged */
		x->snippet[x->nsnippet++] =
			p[i] >= 0x20 && p[i] < 0x7f ? p[i] : ' ';
	x->snippet[x->nsnippet] = '\0';
	return len;
}

/* Every connection's address is checked (names are resolved by curl). */
static curl_socket_t hk_opensocket(void *ud, curlsocktype purpose,
				   struct curl_sockaddr *a)
{
	struct hk_xfer *x = ud;
	const char *why = hooks_sign_addr_refused(&a->addr,
						  x->h->o.allow_private);
	if (why) {
		x->refused = why;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void hk_header(struct hk_xfer *x, const char *fmt, ...)
	SC_PRINTF(2, 3);
static void hk_header(struct hk_xfer *x, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	struct curl_slist *l = curl_slist_append(x->hdrs, line);
	if (!l)
		abort(); /* a small allocation: the policy is abort */
	x->hdrs = l;
}

/* The request's headers; the signature covers "<ts>.<body>". */
static sc_result hk_headers(struct hk_xfer *x)
{
	char sig[HOOKS_SIGN_HEX];
	int64_t ts = x->at / 1000;
	sc_result rc = hooks_sign(x->k.secret, ts, x->k.payload,
				  strlen(x->k.payload), sig);
	if (rc)
		return rc;
	hk_header(x, "Content-Type: application/json");
	hk_header(x, "Expect:"); /* no 100-continue round trip */
	hk_header(x, "X-Snapcat-Event: %s", x->k.type);
	hk_header(x, "X-Snapcat-Delivery: %lld", (long long)x->k.id);
	hk_header(x, "X-Snapcat-Webhook: %lld", (long long)x->k.webhook_id);
	hk_header(x, "X-Snapcat-Attempt: %d", x->k.attempt);
	hk_header(x, "X-Snapcat-Timestamp: %lld", (long long)ts);
	hk_header(x, "X-Snapcat-Signature: sha256=%s", sig);
	return SC_OK;
}

static void hk_easy(struct hk_xfer *x)
{
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_URL, x->k.url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->k.payload);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(x->k.payload));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, HOOKS_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)x->h->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, hk_opensocket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, hk_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
}

static void hk_xfer_free(struct hk_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(x->h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
	free(x->k.url);
	free(x->k.secret);
	free(x->k.type);
	free(x->k.payload);
	free(x);
}

static void hk_record(struct hooks *h, const struct hk_xfer *x,
		      const struct hooks_outcome *o, int pause);

/* Start the attempt of claim k (its strings move into the transfer). */
static void hk_start(struct hooks *h, struct hooks_claim *k)
{
	struct hk_xfer *x = sc_xcalloc(1, sizeof(*x));
	x->h = h;
	x->k = *k;
	memset(k, 0, sizeof(*k));
	x->at = sc_wall_ms();
	x->t0 = sc_now_ms();
	x->easy = curl_easy_init();
	if (!x->easy || hk_headers(x)) {
		struct hooks_outcome o = {.state = "failed", .at = x->at,
					  .error = "could not sign or set up "
						   "the request"};
		hk_record(h, x, &o, 0);
		hk_xfer_free(x);
		return;
	}
	hk_easy(x);
	curl_multi_add_handle(h->multi, x->easy);
	x->next = h->xfers;
	h->xfers = x;
	h->nxfers++;
}

/* ---- outcomes (sender thread) ---- */

static void hk_record(struct hooks *h, const struct hk_xfer *x,
		      const struct hooks_outcome *o, int pause)
{
	struct catalog *c = app_write_begin(h->app);
	sc_result rc = hooks_store_record(c, x->k.id, o);
	if (!rc && pause)
		rc = hooks_store_pause(c, x->k.webhook_id);
	sc_result crc = hk_commit(h, "a delivery's outcome");
	if (!rc)
		rc = crc;
	if (rc == SC_ERR_NOT_FOUND) /* the webhook was deleted meanwhile */
		return;
	char then[48] = "";
	if (!strcmp(o->state, "pending"))
		snprintf(then, sizeof(then), "; retry in %lld ms",
			 (long long)(o->next_at - sc_wall_ms()));
	sc_log(strcmp(o->state, "ok") ? SC_LOG_WARN : SC_LOG_INFO, HK_LOG,
	       "webhook %lld delivery %lld (%s) attempt %d: %s%s%s (%lld ms)%s%s",
	       (long long)x->k.webhook_id, (long long)x->k.id, x->k.type,
	       x->k.attempt, o->state, o->error ? ": " : "",
	       o->error ? o->error : "", (long long)o->duration_ms, then,
	       pause ? "; webhook paused" : "");
}

/* What one finished transfer means; err holds o->error. 1: pause the
 * webhook (410 Gone). */
static int hk_outcome(struct hooks *h, struct hk_xfer *x, CURLcode res,
		      long status, struct hooks_outcome *o, char *err,
		      size_t errlen)
{
	*o = (struct hooks_outcome){.at = x->at, .state = "failed",
				    .duration_ms = sc_now_ms() - x->t0,
				    .status = res == CURLE_OK ? (int)status : 0};
	if (res == CURLE_OK && status >= 200 && status < 300) {
		o->state = "ok";
		return 0;
	}
	if (x->refused)
		snprintf(err, errlen, "refused address (%s)", x->refused);
	else if (res != CURLE_OK)
		snprintf(err, errlen, "%s", x->errbuf[0] ? x->errbuf
					 : curl_easy_strerror(res));
	else
		snprintf(err, errlen, "HTTP %ld%s%s", status,
			 x->nsnippet ? ": " : "", x->snippet);
	o->error = err;
	if (res == CURLE_OK && status == 410)
		return 1; /* Gone: failed at once, the webhook paused */
	if (x->k.attempt < h->o.max_attempts) {
		o->state = "pending";
		o->next_at = sc_wall_ms() +
			     hooks_retry_delay(h->o.backoff_ms, x->k.attempt);
	}
	return 0;
}

static void hk_unlink(struct hooks *h, struct hk_xfer *x)
{
	for (struct hk_xfer **p = &h->xfers; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			h->nxfers--;
			return;
		}
}

/* Record every finished transfer. */
static void hk_reap(struct hooks *h)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct hk_xfer *x = NULL;
		long status = 0;
		CURLcode res = m->data.result;
		char err[CURL_ERROR_SIZE + HK_SNIPPET + 64];
		struct hooks_outcome o;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		int pause = hk_outcome(h, x, res, status, &o, err, sizeof(err));
		hk_record(h, x, &o, pause);
		hk_unlink(h, x);
		hk_xfer_free(x);
		h->dirty = 1;
	}
}

/* Claim what is due (up to the free slots) and start it. */
static void hk_claim(struct hooks *h)
{
	int64_t now = sc_wall_ms();
	int room = HOOKS_INFLIGHT - h->nxfers;
	struct hooks_claim_list *l = NULL;
	if (room <= 0 || (!h->dirty && (!h->next_due || h->next_due > now)))
		return;
	struct catalog *c = app_write_begin(h->app);
	sc_result rc = hooks_store_claim(c, now, room, &l);
	if (!rc)
		rc = hooks_store_next_due(c, &h->next_due);
	sc_result crc = hk_commit(h, "claimed deliveries");
	if (!rc)
		rc = crc;
	if (rc) { /* busy or broken: try again in a second */
		h->next_due = now + 1000;
		h->dirty = 0;
		hooks_claim_list_free(&l);
		return;
	}
	h->dirty = 0;
	for (size_t i = 0; i < l->n; i++)
		hk_start(h, &l->items[i]);
	hooks_claim_list_free(&l);
}

/* How long to poll: until the next due delivery, when a slot is free. */
static int hk_wait_ms(struct hooks *h)
{
	int64_t now = sc_wall_ms();
	if (h->nxfers >= HOOKS_INFLIGHT || !h->next_due)
		return HK_IDLE_MS; /* a transfer's end or a wake-up comes first */
	int64_t d = h->next_due - now;
	return d <= 0 ? 0 : d > HK_IDLE_MS ? HK_IDLE_MS : (int)d;
}

/* Shutdown: transfers in flight go back to pending, not counted. */
static void hk_release_all(struct hooks *h)
{
	struct catalog *c = app_write_begin(h->app);
	for (struct hk_xfer *x = h->xfers; x; x = x->next)
		(void)!hooks_store_release(c, x->k.id);
	(void)!hk_commit(h, "deliveries given back");
	while (h->xfers) {
		struct hk_xfer *x = h->xfers;
		h->xfers = x->next;
		hk_xfer_free(x);
	}
	h->nxfers = 0;
}

static void *hk_main(void *arg)
{
	struct hooks *h = arg;
	int stop = 0, n;
	hk_replay(h);
	h->dirty = 1;
	while (!stop) {
		pthread_mutex_lock(&h->mu);
		struct hk_ev *q = h->q;
		h->q = NULL;
		h->qtail = &h->q;
		stop = h->stop;
		h->dirty |= h->kicked;
		h->kicked = 0;
		pthread_mutex_unlock(&h->mu);
		hk_ingest_queue(h, q);
		if (stop)
			break;
		hk_claim(h);
		curl_multi_perform(h->multi, &n);
		hk_reap(h);
		if (!h->dirty || h->nxfers >= HOOKS_INFLIGHT)
			curl_multi_poll(h->multi, NULL, 0, hk_wait_ms(h), NULL);
	}
	hk_release_all(h);
	return NULL;
}

/* ---- lifecycle ---- */

static sc_result hk_init_store(struct hooks *h, char *err, size_t errlen)
{
	int64_t recovered = 0;
	struct catalog *c = app_write_begin(h->app);
	sc_result rc = hooks_store_init(c, &recovered);
	if (!rc)
		(void)!hooks_store_prune(c, HOOKS_LOG_KEEP);
	sc_result crc = app_write_end(h->app);
	if (!rc)
		rc = crc;
	if (rc)
		snprintf(err, errlen, "webhooks: cannot set up the delivery "
			 "log: %s", sc_strerror(rc));
	else if (recovered)
		sc_log(SC_LOG_INFO, HK_LOG, "%lld deliveries interrupted by the "
		       "last stop are pending again", (long long)recovered);
	return rc;
}

sc_result hooks_create(struct app *a, const struct hooks_opts *o,
		       struct hooks **out, char *err, size_t errlen)
{
	struct hooks *h = sc_xcalloc(1, sizeof(*h));
	h->app = a;
	h->o = *o;
	if (h->o.max_attempts <= 0)
		h->o.max_attempts = HOOKS_ATTEMPTS;
	if (h->o.backoff_ms <= 0)
		h->o.backoff_ms = HOOKS_BACKOFF_MS;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = HOOKS_TIMEOUT_MS;
	pthread_mutex_init(&h->mu, NULL);
	h->qtail = &h->q;
	*out = NULL;
	sc_result rc = hk_init_store(h, err, errlen);
	if (!rc && !(h->multi = curl_multi_init())) {
		snprintf(err, errlen, "webhooks: curl_multi_init failed");
		rc = SC_ERR_INTERNAL;
	}
	if (!rc && pthread_create(&h->th, NULL, hk_main, h)) {
		snprintf(err, errlen, "webhooks: cannot start the sender");
		rc = SC_ERR_INTERNAL;
	}
	if (rc) {
		hooks_destroy(&h);
		return rc;
	}
	h->running = 1;
	app_add_sink(a, hk_on_event, h);
	pthread_mutex_lock(&hk_reg_mu);
	hk_live = h;
	pthread_mutex_unlock(&hk_reg_mu);
	*out = h;
	return SC_OK;
}

void hooks_stop(struct hooks *h)
{
	if (!h || h->stopped)
		return;
	h->stopped = 1; /* the sink drops what comes later: replayed later */
	pthread_mutex_lock(&hk_reg_mu);
	if (hk_live == h)
		hk_live = NULL;
	pthread_mutex_unlock(&hk_reg_mu);
	if (h->running) {
		hk_kick(h, 1);
		pthread_join(h->th, NULL);
		h->running = 0;
	}
}

void hooks_destroy(struct hooks **hp)
{
	struct hooks *h = hp ? *hp : NULL;
	if (!h)
		return;
	hooks_stop(h);
	while (h->q) { /* only if the thread never ran */
		struct hk_ev *e = h->q;
		h->q = e->next;
		free(e->type);
		free(e->json);
		free(e);
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	pthread_mutex_destroy(&h->mu);
	free(h);
	*hp = NULL;
}
