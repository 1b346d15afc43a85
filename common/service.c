/* Transport-neutral RPC calls: decode, run a handler on the worker pool under
 * a deadline, hand the outcome back to the transport (NNG or HTTP shim). */
#include "common/service.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pbjson.h"

#define ARENA_CHUNK   4096
#define ERR_MAX	      256
#define TIMER_IDLE_NS 100000000ull /* the timer thread wakes this often when idle */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct rdpi_call {
	struct rdpi_service *svc;
	const ProtobufCMethodDescriptor *method;
	unsigned method_index;
	atomic_int refs;
	pthread_mutex_t lock;
	bool started, done;
	enum rdpi_status status;
	ProtobufCMessage *req;
	ProtobufCMessage *reply;
	uint64_t deadline_ns;
	rdpi_call_done_fn done_fn;
	void *done_arg;
	/* queue and timer links, protected by the service lock */
	struct rdpi_call *qnext;
	struct rdpi_call *tprev, *tnext;
	bool in_timer;
	struct arena_chunk *arena;
	ProtobufCAllocator alloc;
	char handler_error[ERR_MAX];
	char error[ERR_MAX];
};

struct rdpi_service {
	struct rdpi_service_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t work_cond;
	pthread_cond_t timer_cond;
	struct rdpi_call *qhead, *qtail;
	unsigned qlen;
	struct rdpi_call *thead, *ttail; /* sorted by deadline */
	uint64_t timer_wake_ns;		 /* when the timer thread wakes up next */
	bool stopping;
	pthread_t *workers;
	unsigned nworkers;
	pthread_t timer;
	bool timer_started;
	atomic_uint_fast64_t calls, ok, errors, deadline_exceeded, rejected_full, not_found,
	    in_flight;
};

static const char *const status_names[] = {
    [RDPI_STATUS_OK] = "OK",
    [RDPI_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [RDPI_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
    [RDPI_STATUS_NOT_FOUND] = "NOT_FOUND",
    [RDPI_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
    [RDPI_STATUS_INTERNAL] = "INTERNAL",
    [RDPI_STATUS_UNAVAILABLE] = "UNAVAILABLE",
};

static const int status_http[] = {
    [RDPI_STATUS_OK] = 200,
    [RDPI_STATUS_INVALID_ARGUMENT] = 400,
    [RDPI_STATUS_DEADLINE_EXCEEDED] = 504,
    [RDPI_STATUS_NOT_FOUND] = 404,
    [RDPI_STATUS_RESOURCE_EXHAUSTED] = 429,
    [RDPI_STATUS_INTERNAL] = 500,
    [RDPI_STATUS_UNAVAILABLE] = 503,
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) ==
		   sizeof(status_http) / sizeof(status_http[0]),
	       "status tables differ");

const char *rdpi_status_name(enum rdpi_status st)
{
	if (st < 0 || (size_t)st >= sizeof(status_names) / sizeof(status_names[0]) ||
	    !status_names[st])
		return "UNKNOWN";
	return status_names[st];
}

int rdpi_status_http_code(enum rdpi_status st)
{
	if (st < 0 || (size_t)st >= sizeof(status_http) / sizeof(status_http[0]) ||
	    !status_http[st])
		return 500;
	return status_http[st];
}

uint64_t rdpi_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- per-call arena ------------------------------------------------------ */

static void *arena_alloc(struct rdpi_call *call, size_t size)
{
	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (size == 0)
		size = sizeof(max_align_t);
	struct arena_chunk *c = call->arena;
	if (!c || c->size - c->used < size) {
		size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* a big block gets its own chunk behind the current one so the
		 * current chunk's free space stays usable */
		if (call->arena && size > ARENA_CHUNK) {
			c->next = call->arena->next;
			call->arena->next = c;
		} else {
			c->next = call->arena;
			call->arena = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

static void *pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
	/* arena memory goes with the call */
}

void *rdpi_call_alloc(struct rdpi_call *call, size_t size)
{
	return arena_alloc(call, size);
}

char *rdpi_call_strdup(struct rdpi_call *call, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(call, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *rdpi_call_printf(struct rdpi_call *call, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = arena_alloc(call, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void rdpi_call_set_error(struct rdpi_call *call, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->handler_error, sizeof(call->handler_error), fmt, ap);
	va_end(ap);
}

uint64_t rdpi_call_deadline_ns(const struct rdpi_call *call)
{
	return call->deadline_ns;
}

uint32_t rdpi_call_remaining_ms(const struct rdpi_call *call)
{
	uint64_t now = rdpi_monotonic_ns();
	if (now >= call->deadline_ns)
		return 0;
	return (uint32_t)((call->deadline_ns - now) / 1000000u);
}

/* ---- timer list (service lock held) -------------------------------------- */

static void timer_insert(struct rdpi_service *svc, struct rdpi_call *call)
{
	/* deadlines mostly arrive in order: scan from the tail */
	struct rdpi_call *after = svc->ttail;
	while (after && after->deadline_ns > call->deadline_ns)
		after = after->tprev;
	call->tprev = after;
	call->tnext = after ? after->tnext : svc->thead;
	if (call->tnext)
		call->tnext->tprev = call;
	else
		svc->ttail = call;
	if (after)
		after->tnext = call;
	else
		svc->thead = call;
	call->in_timer = true;
	/* the timer thread wakes at least every TIMER_IDLE_NS anyway: only an
	 * earlier deadline needs a (costly) wake-up */
	if (call->deadline_ns < svc->timer_wake_ns)
		pthread_cond_signal(&svc->timer_cond);
}

static void timer_remove(struct rdpi_service *svc, struct rdpi_call *call)
{
	if (!call->in_timer)
		return;
	if (call->tprev)
		call->tprev->tnext = call->tnext;
	else
		svc->thead = call->tnext;
	if (call->tnext)
		call->tnext->tprev = call->tprev;
	else
		svc->ttail = call->tprev;
	call->tprev = call->tnext = NULL;
	call->in_timer = false;
}

/* ---- completion ------------------------------------------------------------ */

static void call_unref(struct rdpi_call *call)
{
	if (atomic_fetch_sub(&call->refs, 1) != 1)
		return;
	struct arena_chunk *c = call->arena;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	pthread_mutex_destroy(&call->lock);
	free(call);
}

static void count_outcome(struct rdpi_service *svc, enum rdpi_status st)
{
	if (st == RDPI_STATUS_OK)
		atomic_fetch_add(&svc->ok, 1);
	else
		atomic_fetch_add(&svc->errors, 1);
	if (st == RDPI_STATUS_DEADLINE_EXCEEDED)
		atomic_fetch_add(&svc->deadline_exceeded, 1);
}

/* Settle the call once; returns false when it was already settled. */
static bool call_settle(struct rdpi_call *call, enum rdpi_status st, const char *err)
{
	pthread_mutex_lock(&call->lock);
	if (call->done) {
		pthread_mutex_unlock(&call->lock);
		return false;
	}
	call->done = true;
	call->status = st;
	snprintf(call->error, sizeof(call->error), "%s", err ? err : "");
	pthread_mutex_unlock(&call->lock);

	struct rdpi_service *svc = call->svc;
	pthread_mutex_lock(&svc->lock);
	timer_remove(svc, call);
	pthread_mutex_unlock(&svc->lock);
	count_outcome(svc, st);
	if (call->started)
		atomic_fetch_sub(&svc->in_flight, 1);
	if (call->done_fn)
		call->done_fn(call->done_arg, call);
	return true;
}

void rdpi_call_finish(struct rdpi_call *call, enum rdpi_status st)
{
	if (st == RDPI_STATUS_PENDING)
		st = RDPI_STATUS_INTERNAL;
	if (st != RDPI_STATUS_OK && call->handler_error[0] == '\0')
		snprintf(call->handler_error, sizeof(call->handler_error), "%s",
			 rdpi_status_name(st));
	call_settle(call, st, st == RDPI_STATUS_OK ? "" : call->handler_error);
	call_unref(call); /* the handler's reference */
}

void rdpi_call_fail(struct rdpi_call *call, enum rdpi_status st, const char *fmt, ...)
{
	char buf[ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	call_settle(call, st, buf);
}

/* ---- workers and timer ------------------------------------------------------- */

static void run_call(struct rdpi_call *call)
{
	pthread_mutex_lock(&call->lock);
	bool done = call->done;
	pthread_mutex_unlock(&call->lock);
	if (done) {
		/* deadline passed while queued: do not run the handler */
		call_unref(call);
		return;
	}
	const ProtobufCMessageDescriptor *od = call->method->output;
	ProtobufCMessage *reply = arena_alloc(call, od->sizeof_message);
	if (!reply) {
		rdpi_call_set_error(call, "out of memory");
		rdpi_call_finish(call, RDPI_STATUS_INTERNAL);
		return;
	}
	od->message_init(reply);
	call->reply = reply;
	rdpi_method_fn fn = call->svc->opts.handlers[call->method_index];
	enum rdpi_status st = fn(call->svc->opts.arg, call, call->req, reply);
	if (st != RDPI_STATUS_PENDING)
		rdpi_call_finish(call, st);
}

static void *worker_main(void *arg)
{
	struct rdpi_service *svc = arg;
	pthread_mutex_lock(&svc->lock);
	for (;;) {
		while (!svc->qhead && !svc->stopping)
			pthread_cond_wait(&svc->work_cond, &svc->lock);
		struct rdpi_call *call = svc->qhead;
		if (!call)
			break; /* stopping and drained */
		svc->qhead = call->qnext;
		if (!svc->qhead)
			svc->qtail = NULL;
		svc->qlen--;
		pthread_mutex_unlock(&svc->lock);
		run_call(call);
		pthread_mutex_lock(&svc->lock);
	}
	pthread_mutex_unlock(&svc->lock);
	return NULL;
}

static void *timer_main(void *arg)
{
	struct rdpi_service *svc = arg;
	pthread_mutex_lock(&svc->lock);
	while (!svc->stopping) {
		struct rdpi_call *call = svc->thead;
		uint64_t now = rdpi_monotonic_ns();
		if (!call || now < call->deadline_ns) {
			uint64_t wake = now + TIMER_IDLE_NS;
			if (call && call->deadline_ns < wake)
				wake = call->deadline_ns;
			svc->timer_wake_ns = wake;
			struct timespec ts = {
			    .tv_sec = (time_t)(wake / 1000000000ull),
			    .tv_nsec = (long)(wake % 1000000000ull),
			};
			pthread_cond_timedwait(&svc->timer_cond, &svc->lock, &ts);
			svc->timer_wake_ns = 0;
			continue;
		}
		timer_remove(svc, call);
		/* keep the call alive while settling outside the lock */
		atomic_fetch_add(&call->refs, 1);
		pthread_mutex_unlock(&svc->lock);
		call_settle(call, RDPI_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
		call_unref(call);
		pthread_mutex_lock(&svc->lock);
	}
	pthread_mutex_unlock(&svc->lock);
	return NULL;
}

/* ---- service ------------------------------------------------------------------- */

int rdpi_service_new(const struct rdpi_service_opts *opts, struct rdpi_service **ret)
{
	if (!opts || !opts->desc || !opts->handlers)
		return -EINVAL;
	struct rdpi_service *svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->opts = *opts;
	if (!svc->opts.workers)
		svc->opts.workers = 2;
	if (!svc->opts.queue_limit)
		svc->opts.queue_limit = 1024;
	if (!svc->opts.default_timeout_ms)
		svc->opts.default_timeout_ms = 1000;
	if (!svc->opts.max_timeout_ms)
		svc->opts.max_timeout_ms = 30000;
	pthread_mutex_init(&svc->lock, NULL);
	pthread_cond_init(&svc->work_cond, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&svc->timer_cond, &ca);
	pthread_condattr_destroy(&ca);

	int rv = 0;
	svc->workers = calloc(svc->opts.workers, sizeof(pthread_t));
	if (!svc->workers) {
		rv = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < svc->opts.workers; i++) {
		rv = -pthread_create(&svc->workers[i], NULL, worker_main, svc);
		if (rv)
			goto out;
		svc->nworkers++;
	}
	rv = -pthread_create(&svc->timer, NULL, timer_main, svc);
	if (rv)
		goto out;
	svc->timer_started = true;
	*ret = svc;
	return 0;
out:
	rdpi_service_free(svc);
	return rv;
}

void rdpi_service_free(struct rdpi_service *svc)
{
	if (!svc)
		return;
	pthread_mutex_lock(&svc->lock);
	svc->stopping = true;
	pthread_cond_broadcast(&svc->work_cond);
	pthread_cond_broadcast(&svc->timer_cond);
	pthread_mutex_unlock(&svc->lock);
	for (unsigned i = 0; i < svc->nworkers; i++)
		pthread_join(svc->workers[i], NULL);
	if (svc->timer_started)
		pthread_join(svc->timer, NULL);
	/* calls still pending (async handlers) stay referenced by their owners */
	free(svc->workers);
	pthread_cond_destroy(&svc->work_cond);
	pthread_cond_destroy(&svc->timer_cond);
	pthread_mutex_destroy(&svc->lock);
	free(svc);
}

const ProtobufCServiceDescriptor *rdpi_service_desc(const struct rdpi_service *svc)
{
	return svc->opts.desc;
}

const struct rdpi_pbjson_opts *rdpi_service_json_opts(const struct rdpi_service *svc)
{
	return svc->opts.json_opts;
}

void rdpi_service_stats(const struct rdpi_service *svc, struct rdpi_service_stats *ret)
{
	struct rdpi_service *s = (struct rdpi_service *)svc;
	ret->calls = atomic_load(&s->calls);
	ret->ok = atomic_load(&s->ok);
	ret->errors = atomic_load(&s->errors);
	ret->deadline_exceeded = atomic_load(&s->deadline_exceeded);
	ret->rejected_full = atomic_load(&s->rejected_full);
	ret->not_found = atomic_load(&s->not_found);
	ret->in_flight = atomic_load(&s->in_flight);
}

/* ---- transport side -------------------------------------------------------------- */

int rdpi_call_new(struct rdpi_service *svc, const char *method, struct rdpi_call **ret)
{
	const ProtobufCMethodDescriptor *md =
	    method ? protobuf_c_service_descriptor_get_method_by_name(svc->opts.desc, method)
		   : NULL;
	if (!md || !svc->opts.handlers[md - svc->opts.desc->methods]) {
		atomic_fetch_add(&svc->not_found, 1);
		return -ENOENT;
	}
	struct rdpi_call *call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->svc = svc;
	call->method = md;
	call->method_index = (unsigned)(md - svc->opts.desc->methods);
	atomic_init(&call->refs, 1);
	pthread_mutex_init(&call->lock, NULL);
	call->alloc.alloc = pb_alloc;
	call->alloc.free = pb_free;
	call->alloc.allocator_data = call;
	call->status = RDPI_STATUS_INTERNAL;
	atomic_fetch_add(&svc->calls, 1);
	*ret = call;
	return 0;
}

void rdpi_call_free(struct rdpi_call *call)
{
	if (call)
		call_unref(call);
}

int rdpi_call_decode_pb(struct rdpi_call *call, const uint8_t *data, size_t len)
{
	ProtobufCMessage *m =
	    protobuf_c_message_unpack(call->method->input, &call->alloc, len, data);
	if (!m) {
		snprintf(call->handler_error, sizeof(call->handler_error),
			 "cannot decode %s request as %s", call->method->name,
			 call->method->input->name);
		return -EINVAL;
	}
	call->req = m;
	return 0;
}

int rdpi_call_decode_json(struct rdpi_call *call, const char *text, size_t len)
{
	const ProtobufCMessageDescriptor *in = call->method->input;
	size_t i = 0;
	while (text && i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (!text || i == len) {
		ProtobufCMessage *m = arena_alloc(call, in->sizeof_message);
		if (!m)
			return -ENOMEM;
		in->message_init(m);
		call->req = m;
		return 0;
	}
	ProtobufCMessage *m = NULL;
	int rv = rdpi_pbjson_loads(text, len, in, &call->alloc, &m, call->handler_error,
				   sizeof(call->handler_error));
	if (rv < 0)
		return rv;
	call->req = m;
	return 0;
}

void rdpi_call_start(struct rdpi_call *call, uint32_t timeout_ms, rdpi_call_done_fn done_fn,
		     void *arg)
{
	struct rdpi_service *svc = call->svc;
	call->done_fn = done_fn;
	call->done_arg = arg;
	if (!call->req && rdpi_call_decode_json(call, NULL, 0) < 0) {
		rdpi_call_fail(call, RDPI_STATUS_INTERNAL, "out of memory");
		return;
	}
	if (timeout_ms == 0)
		timeout_ms = svc->opts.default_timeout_ms;
	if (timeout_ms > svc->opts.max_timeout_ms)
		timeout_ms = svc->opts.max_timeout_ms;
	call->deadline_ns = rdpi_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;

	pthread_mutex_lock(&svc->lock);
	if (svc->qlen >= svc->opts.queue_limit || svc->stopping) {
		bool stopping = svc->stopping;
		pthread_mutex_unlock(&svc->lock);
		atomic_fetch_add(&svc->rejected_full, 1);
		rdpi_call_fail(call,
			       stopping ? RDPI_STATUS_UNAVAILABLE : RDPI_STATUS_RESOURCE_EXHAUSTED,
			       stopping ? "service is stopping" : "request queue is full (%u)",
			       svc->opts.queue_limit);
		return;
	}
	call->started = true;
	atomic_fetch_add(&svc->in_flight, 1);
	atomic_fetch_add(&call->refs, 1); /* the handler's reference */
	timer_insert(svc, call);
	if (svc->opts.run_inline) {
		pthread_mutex_unlock(&svc->lock);
		run_call(call);
		return;
	}
	call->qnext = NULL;
	if (svc->qtail)
		svc->qtail->qnext = call;
	else
		svc->qhead = call;
	svc->qtail = call;
	svc->qlen++;
	pthread_cond_signal(&svc->work_cond);
	pthread_mutex_unlock(&svc->lock);
}

enum rdpi_status rdpi_call_status(const struct rdpi_call *call)
{
	return call->status;
}

const char *rdpi_call_error(const struct rdpi_call *call)
{
	/* before the call settles this is the decode error, if any */
	return call->done ? call->error : call->handler_error;
}

const ProtobufCMessage *rdpi_call_reply(const struct rdpi_call *call)
{
	return call->status == RDPI_STATUS_OK ? call->reply : NULL;
}

const ProtobufCMethodDescriptor *rdpi_call_method(const struct rdpi_call *call)
{
	return call->method;
}
