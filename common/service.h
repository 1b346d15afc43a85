/* Transport-neutral RPC calls: method lookup through protoc-c service
 * descriptors, a per-call arena, a bounded worker pool and deadlines. The NNG
 * server (rpc.c) and the HTTP+JSON shim (httpshim.c) both run calls here. */
#ifndef RDPI_COMMON_SERVICE_H
#define RDPI_COMMON_SERVICE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rdpi_pbjson_opts;

/* Mirrors routerd.dpi.v1.Status (gRPC numbering). */
enum rdpi_status {
	RDPI_STATUS_OK = 0,
	RDPI_STATUS_INVALID_ARGUMENT = 3,
	RDPI_STATUS_DEADLINE_EXCEEDED = 4,
	RDPI_STATUS_NOT_FOUND = 5,
	RDPI_STATUS_RESOURCE_EXHAUSTED = 8,
	RDPI_STATUS_INTERNAL = 13,
	RDPI_STATUS_UNAVAILABLE = 14,
	/* returned by a handler that completes later with rdpi_call_finish() */
	RDPI_STATUS_PENDING = -1,
};

const char *rdpi_status_name(enum rdpi_status st); /* "OK", "UNAVAILABLE", ... */
int rdpi_status_http_code(enum rdpi_status st);	   /* 200, 400, 504, 404, 429/413, 500, 503 */

struct rdpi_call;
struct rdpi_service;

/* A method handler. req is the decoded request, reply a zero-initialised
 * message of the method's output type; fill it with memory from
 * rdpi_call_alloc()/rdpi_call_strdup() (freed with the call). Return a final
 * status, or RDPI_STATUS_PENDING and call rdpi_call_finish() exactly once
 * later from any thread. On error set a message with rdpi_call_set_error(). */
typedef enum rdpi_status (*rdpi_method_fn)(void *arg, struct rdpi_call *call,
					   const ProtobufCMessage *req, ProtobufCMessage *reply);

struct rdpi_service_opts {
	const ProtobufCServiceDescriptor *desc;
	/* handlers indexed like desc->methods; a NULL entry answers NOT_FOUND */
	const rdpi_method_fn *handlers;
	void *arg;
	unsigned workers; /* worker threads, default 2 */
	/* run handlers on the transport's thread instead of the worker pool:
	 * saves two thread hand-offs per call; only for handlers that never block */
	bool run_inline;
	unsigned queue_limit;	     /* queued calls before RESOURCE_EXHAUSTED, default 1024 */
	uint32_t default_timeout_ms; /* when the caller gives none, default 1000 */
	uint32_t max_timeout_ms;     /* cap on any caller deadline, default 30000 */
	/* JSON options used by transports for this service's replies */
	const struct rdpi_pbjson_opts *json_opts;
};

/* Start the worker pool. Caller keeps opts->desc/handlers alive. */
int rdpi_service_new(const struct rdpi_service_opts *opts, struct rdpi_service **ret);
/* Stops workers after running queued calls to completion; NULL ok. Every
 * transport using the service must be stopped first. */
void rdpi_service_free(struct rdpi_service *svc);
const ProtobufCServiceDescriptor *rdpi_service_desc(const struct rdpi_service *svc);
const struct rdpi_pbjson_opts *rdpi_service_json_opts(const struct rdpi_service *svc);

struct rdpi_service_stats {
	uint64_t calls, ok, errors, deadline_exceeded, rejected_full, not_found, in_flight;
};
void rdpi_service_stats(const struct rdpi_service *svc, struct rdpi_service_stats *ret);

/* ---- transport side ------------------------------------------------------ */

/* Called once when the call has a final status (handler done or deadline
 * passed), possibly on a worker or timer thread. The transport then encodes
 * the reply and calls rdpi_call_free(). */
typedef void (*rdpi_call_done_fn)(void *arg, struct rdpi_call *call);

/* Create a call for method name. -ENOENT when the service has no such method. */
int rdpi_call_new(struct rdpi_service *svc, const char *method, struct rdpi_call **ret);
/* Drop the transport's reference; the call lives on until its handler ends. */
void rdpi_call_free(struct rdpi_call *call);

/* Decode the request body from protobuf or from JSON (NULL/empty = {}).
 * -EINVAL with a message in the call's error text on bad input. */
int rdpi_call_decode_pb(struct rdpi_call *call, const uint8_t *data, size_t len);
int rdpi_call_decode_json(struct rdpi_call *call, const char *text, size_t len);

/* Run the handler on the worker pool with a deadline (0 = service default,
 * capped at max). done_fn runs exactly once. If the queue is full, the call
 * finishes at once with RESOURCE_EXHAUSTED. */
void rdpi_call_start(struct rdpi_call *call, uint32_t timeout_ms, rdpi_call_done_fn done_fn,
		     void *arg);

/* Finish a call without running it (transport-level errors). */
void rdpi_call_fail(struct rdpi_call *call, enum rdpi_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Results, valid after done_fn until rdpi_call_free(). reply is NULL unless OK.
 * Before the call settles, rdpi_call_error() is the last decode error. */
enum rdpi_status rdpi_call_status(const struct rdpi_call *call);
const char *rdpi_call_error(const struct rdpi_call *call); /* "" when none */
const ProtobufCMessage *rdpi_call_reply(const struct rdpi_call *call);
const ProtobufCMethodDescriptor *rdpi_call_method(const struct rdpi_call *call);

/* ---- handler side ---------------------------------------------------------- */

void *rdpi_call_alloc(struct rdpi_call *call, size_t size); /* zeroed, NULL on OOM */
char *rdpi_call_strdup(struct rdpi_call *call, const char *s);
char *rdpi_call_printf(struct rdpi_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rdpi_call_set_error(struct rdpi_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Monotonic deadline (ns, CLOCK_MONOTONIC) and remaining budget in ms. */
uint64_t rdpi_call_deadline_ns(const struct rdpi_call *call);
uint32_t rdpi_call_remaining_ms(const struct rdpi_call *call);
/* Complete a PENDING call. A call whose deadline already passed ignores it. */
void rdpi_call_finish(struct rdpi_call *call, enum rdpi_status st);

/* Helpers shared by transports and tests. */
uint64_t rdpi_monotonic_ns(void);

#endif
