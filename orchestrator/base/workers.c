/*
 * workers.c — the worker pool (see workers.h for the design).
 */
#include "workers.h"

#include <pthread.h>
#include <stdlib.h>

struct wjob {
	struct wjob *next;
	workers_fn work, done;
	void *arg;
};

struct wqueue {
	struct wjob *head, **tail;
};

struct workers {
	pthread_mutex_t lock; /* todo, busy, stopping, started */
	pthread_cond_t cond;
	struct wqueue todo;
	size_t busy; /* queued + running + finished-not-drained */
	int stopping;
	pthread_mutex_t done_lock;
	struct wqueue done;
	void (*notify)(void *ud);
	void *ud;
	int n;
	int started; /* threads that took their index (workers_index) */
	pthread_t threads[];
};

/* The pool the calling thread belongs to and its index there. */
static _Thread_local const struct workers *tl_pool;
static _Thread_local int tl_index = -1;

static void wq_push(struct wqueue *q, struct wjob *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
}

static struct wjob *wq_pop(struct wqueue *q)
{
	struct wjob *j = q->head;
	if (j && !(q->head = j->next))
		q->tail = &q->head;
	return j;
}

static void *workers_main(void *arg)
{
	struct workers *w = arg;
	pthread_mutex_lock(&w->lock);
	tl_index = w->started++;
	pthread_mutex_unlock(&w->lock);
	tl_pool = w;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->todo.head && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		struct wjob *j = wq_pop(&w->todo);
		pthread_mutex_unlock(&w->lock);
		if (!j)
			return NULL; /* stopping and nothing left */
		j->work(j->arg);
		pthread_mutex_lock(&w->done_lock);
		wq_push(&w->done, j);
		pthread_mutex_unlock(&w->done_lock);
		if (w->notify)
			w->notify(w->ud);
	}
}

sc_result workers_create(int n, void (*notify)(void *ud), void *ud,
			 struct workers **out)
{
	*out = NULL;
	if (n < 1)
		n = 1;
	struct workers *w = sc_xcalloc(1, sizeof(*w) + (size_t)n * sizeof(pthread_t));
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->done_lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->todo.tail = &w->todo.head;
	w->done.tail = &w->done.head;
	w->notify = notify;
	w->ud = ud;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, workers_main, w)) {
			workers_destroy(&w);
			return SC_ERR_INTERNAL;
		}
		w->n++;
	}
	*out = w;
	return SC_OK;
}

void workers_submit(struct workers *w, workers_fn work, workers_fn done,
		    void *arg)
{
	struct wjob *j = sc_xmalloc(sizeof(*j));
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	wq_push(&w->todo, j);
	w->busy++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

size_t workers_drain(struct workers *w)
{
	pthread_mutex_lock(&w->done_lock);
	struct wjob *list = w->done.head;
	w->done.head = NULL;
	w->done.tail = &w->done.head;
	pthread_mutex_unlock(&w->done_lock);
	size_t n = 0;
	while (list) {
		struct wjob *j = list;
		list = j->next;
		if (j->done)
			j->done(j->arg);
		free(j);
		n++;
	}
	if (n) {
		pthread_mutex_lock(&w->lock);
		w->busy -= n;
		pthread_mutex_unlock(&w->lock);
	}
	return n;
}

int workers_index(const struct workers *w)
{
	return w && tl_pool == w ? tl_index : -1;
}

int workers_count(const struct workers *w) { return w ? w->n : 0; }

size_t workers_busy(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	size_t n = w->busy;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void workers_destroy(struct workers **pw)
{
	struct workers *w = pw ? *pw : NULL;
	if (!w)
		return;
	*pw = NULL;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	workers_drain(w);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->done_lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
