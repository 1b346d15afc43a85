/* Bounded FIFO of logger entries between threads (reader -> DPI workers -> writer). Pushing
 * from the NFLOG read path never waits: a full queue is the caller's drop decision. */
#ifndef RDPI_SERVICES_LOGGER_LQUEUE_H
#define RDPI_SERVICES_LOGGER_LQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lentry;
struct lqueue;

/* capacity >= 1 entries. -ENOMEM. */
int lqueue_new(size_t capacity, struct lqueue **ret);
/* Frees the queue and every entry still in it (lentry_free); NULL ok. */
void lqueue_free(struct lqueue *q);

/* Appends e; -ENOSPC when full (e untouched), -EPIPE once closed. Never blocks. */
int lqueue_push(struct lqueue *q, struct lentry *e);
/* Same, but waits for room (offline inputs, where nothing can be lost by waiting). */
int lqueue_push_wait(struct lqueue *q, struct lentry *e);

/* Takes up to max entries. Waits until at least one is there (or the queue is closed, then
 * returns what is left, 0 when drained). When fewer than max were there, waits up to
 * linger_us more for the batch to fill (0: return at once). */
size_t lqueue_pop(struct lqueue *q, struct lentry **out, size_t max, uint32_t linger_us);
/* Like lqueue_pop but gives up after wait_us with 0 when nothing arrived. */
size_t lqueue_pop_timed(struct lqueue *q, struct lentry **out, size_t max, uint32_t wait_us);

/* Wakes every waiter; later pushes fail, pops drain what is left. */
void lqueue_close(struct lqueue *q);

size_t lqueue_depth(struct lqueue *q);
size_t lqueue_capacity(const struct lqueue *q);
/* Highest depth seen. */
size_t lqueue_high_water(struct lqueue *q);

#endif
