/* Bounded entry FIFO: a ring of pointers under one mutex with two condition variables. */
#include "lqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "entry.h"

struct lqueue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct lentry **ring;
	size_t cap, head, len, high;
	unsigned waiters;      /* consumers blocked in pop: a push wakes one only then */
	unsigned full_waiters; /* producers blocked in lqueue_push_wait() */
	bool closed;
};

int lqueue_new(size_t capacity, struct lqueue **ret)
{
	if (capacity == 0)
		return -EINVAL;
	struct lqueue *q = calloc(1, sizeof(*q));
	if (!q || !(q->ring = calloc(capacity, sizeof(*q->ring)))) {
		free(q);
		return -ENOMEM;
	}
	q->cap = capacity;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_empty, &ca);
	pthread_cond_init(&q->not_full, &ca);
	pthread_condattr_destroy(&ca);
	*ret = q;
	return 0;
}

void lqueue_free(struct lqueue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		lentry_free(q->ring[(q->head + i) % q->cap]);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->mu);
	free(q->ring);
	free(q);
}

static void put_locked(struct lqueue *q, struct lentry *e)
{
	q->ring[(q->head + q->len) % q->cap] = e;
	if (++q->len > q->high)
		q->high = q->len;
	/* a busy consumer finds the entry on its next pop; waking costs a futex call per
	 * packet on the NFLOG read path, so only when someone sleeps */
	if (q->waiters)
		pthread_cond_signal(&q->not_empty);
}

int lqueue_push(struct lqueue *q, struct lentry *e)
{
	int rv = 0;
	pthread_mutex_lock(&q->mu);
	if (q->closed)
		rv = -EPIPE;
	else if (q->len == q->cap)
		rv = -ENOSPC;
	else
		put_locked(q, e);
	pthread_mutex_unlock(&q->mu);
	return rv;
}

int lqueue_push_wait(struct lqueue *q, struct lentry *e)
{
	int rv = 0;
	pthread_mutex_lock(&q->mu);
	q->full_waiters++;
	while (!q->closed && q->len == q->cap)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->full_waiters--;
	if (q->closed)
		rv = -EPIPE;
	else
		put_locked(q, e);
	pthread_mutex_unlock(&q->mu);
	return rv;
}

static void deadline_after(struct timespec *ts, uint32_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)(us % 1000000) * 1000;
	ts->tv_sec += us / 1000000 + ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

static size_t take_locked(struct lqueue *q, struct lentry **out, size_t max)
{
	size_t n = 0;
	while (n < max && q->len > 0) {
		out[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	if (n && q->full_waiters)
		pthread_cond_broadcast(&q->not_full);
	return n;
}

static size_t pop(struct lqueue *q, struct lentry **out, size_t max, bool forever, uint32_t wait_us,
		  uint32_t linger_us)
{
	struct timespec dl;
	int rc = 0;
	pthread_mutex_lock(&q->mu);
	if (!forever)
		deadline_after(&dl, wait_us);
	q->waiters++;
	while (q->len == 0 && !q->closed && rc != ETIMEDOUT)
		rc = forever ? pthread_cond_wait(&q->not_empty, &q->mu)
			     : pthread_cond_timedwait(&q->not_empty, &q->mu, &dl);
	if (q->len > 0 && q->len < max && linger_us && !q->closed) {
		deadline_after(&dl, linger_us);
		rc = 0;
		while (q->len < max && !q->closed && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&q->not_empty, &q->mu, &dl);
	}
	q->waiters--;
	size_t n = take_locked(q, out, max);
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t lqueue_pop(struct lqueue *q, struct lentry **out, size_t max, uint32_t linger_us)
{
	return pop(q, out, max, true, 0, linger_us);
}

size_t lqueue_pop_timed(struct lqueue *q, struct lentry **out, size_t max, uint32_t wait_us)
{
	return pop(q, out, max, false, wait_us, 0);
}

void lqueue_close(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

size_t lqueue_depth(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t lqueue_capacity(const struct lqueue *q)
{
	return q->cap;
}

size_t lqueue_high_water(struct lqueue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->high;
	pthread_mutex_unlock(&q->mu);
	return n;
}
