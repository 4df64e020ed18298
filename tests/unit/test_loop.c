/*
 * test_loop.c — the event loop and the worker pool (orchestrator/base:
 * loop.c, workers.c) under load from several threads: work and its done
 * callback, posts from other threads, timers and their cancellation. Run
 * in the ThreadSanitizer build by scripts/test, as the place where the
 * loop's and the workers' shared state is exercised on its own.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "loop.h"
#include "testhelp.h"

static struct loop *L;
static pthread_t LoopThread;

/* ---- work: run on a worker, done on the loop ---- */

static atomic_int worked, done_wrong_thread;
static int done_count, want_done; /* loop thread only */

static void work_fn(void *arg)
{
	int *v = arg;
	*v *= 2; /* the worker owns arg until done runs */
	atomic_fetch_add(&worked, 1);
}

static void done_fn(void *arg)
{
	int *v = arg;
	if (!pthread_equal(pthread_self(), LoopThread))
		atomic_fetch_add(&done_wrong_thread, 1);
	if (*v % 2 == 0)
		done_count++;
	free(v);
	if (done_count == want_done)
		loop_stop(L);
}

static void submit_all(void *arg)
{
	for (int i = 0; i < want_done; i++) {
		int *v = malloc(sizeof(*v));
		*v = i + 1;
		loop_work(L, work_fn, done_fn, v);
	}
}

TEST(work_then_done_on_the_loop)
{
	want_done = 2000;
	done_count = 0;
	loop_post(L, submit_all, NULL);
	CHECK_EQ_INT(loop_run(L), 0);
	CHECK_EQ_INT(done_count, 2000);
	CHECK_EQ_INT(atomic_load(&worked), 2000);
	CHECK_EQ_INT(atomic_load(&done_wrong_thread), 0);
}

/* ---- posts from other threads ---- */

static int posted; /* loop thread only */
static atomic_int posted_wrong_thread;

static void post_fn(void *arg)
{
	if (!pthread_equal(pthread_self(), LoopThread))
		atomic_fetch_add(&posted_wrong_thread, 1);
	if (++posted == 4 * 1000)
		loop_stop(L);
}

static void *poster(void *arg)
{
	for (int i = 0; i < 1000; i++)
		loop_post(L, post_fn, NULL);
	return NULL;
}

TEST(posts_from_threads)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, poster, NULL);
	CHECK_EQ_INT(loop_run(L), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(posted, 4000);
	CHECK_EQ_INT(atomic_load(&posted_wrong_thread), 0);
}

/* ---- timers ---- */

static int fired[4];
static int order[4], norder;
static struct loop_timer *Cancelled;

static void timer_fn(void *arg)
{
	int i = (int)(intptr_t)arg;
	fired[i]++;
	order[norder++] = i;
	if (i == 3)
		loop_stop(L);
}

static void arm(void *arg)
{
	loop_timer(L, 30, timer_fn, (void *)(intptr_t)2);
	loop_timer(L, 10, timer_fn, (void *)(intptr_t)0);
	Cancelled = loop_timer(L, 20, timer_fn, (void *)(intptr_t)1);
	loop_timer(L, 60, timer_fn, (void *)(intptr_t)3);
	loop_timer_cancel(&Cancelled);
}

TEST(timers_in_order_and_cancelled)
{
	loop_post(L, arm, NULL);
	CHECK_EQ_INT(loop_run(L), 0);
	CHECK(Cancelled == NULL);
	CHECK_EQ_INT(fired[1], 0);
	CHECK_EQ_INT(norder, 3);
	CHECK(order[0] == 0 && order[1] == 2 && order[2] == 3);
}

int main(void)
{
	LoopThread = pthread_self();
	if (loop_create(&(struct loop_opts){.workers = 4}, &L))
		return 1;
	RUN(work_then_done_on_the_loop);
	RUN(posts_from_threads);
	RUN(timers_in_order_and_cancelled);
	loop_settle(L, 1000);
	loop_destroy(&L);
	return test_report();
}
