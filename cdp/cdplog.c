/*
 * cdplog.c — the DevTools conversation as JSON lines (see cdplog.h).
 */
#include "cdplog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct cdp_log {
	FILE *f;
	int64_t t0;
	pthread_mutex_t lock;
};

sc_result cdp_log_open(const char *path, struct cdp_log **out)
{
	*out = NULL;
	FILE *f = fopen(path, "w");
	if (!f)
		return SC_ERR_IO;
	struct cdp_log *l = sc_xcalloc(1, sizeof(*l));
	l->f = f;
	l->t0 = sc_now_ms();
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return SC_OK;
}

void cdp_log_tap(void *ud, int out, const char *text, size_t len)
{
	struct cdp_log *l = ud;
	pthread_mutex_lock(&l->lock);
	fprintf(l->f, "{\"t\":%lld,\"out\":%s,\"msg\":",
		(long long)(sc_now_ms() - l->t0), out ? "true" : "false");
	fwrite(text, 1, len, l->f);
	fputs("}\n", l->f);
	pthread_mutex_unlock(&l->lock);
}

void cdp_log_close(struct cdp_log **pl)
{
	struct cdp_log *l = pl ? *pl : NULL;
	if (!l)
		return;
	*pl = NULL;
	if (fclose(l->f))
		sc_log(SC_LOG_WARN, "cdp", "DevTools log: %m");
	pthread_mutex_destroy(&l->lock);
	free(l);
}
