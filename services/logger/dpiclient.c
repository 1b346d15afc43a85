/* ClassifyBatch workers between the DPI queue and the writer. */
#include "dpiclient.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/service.h"
#include "entry.h"
#include "lqueue.h"
#include "lverdict.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "writer.h"

#define TAG	      "dpi"
#define BATCH_HARDMAX 256
#define WORKERS_MAX   32

struct dpiclient {
	struct dpiclient_opts o;
	struct rdpi_rpc_client *cl;
	/* one queue per worker, chosen by flow: a flow's packets reach the classifier in order
	 * even with several batches in flight */
	struct lqueue *q[WORKERS_MAX];
	pthread_t workers[WORKERS_MAX];
	unsigned nworkers;
	struct rdpi_ratelimit rl;
	struct dpiclient_stats stats;
};

const char *dpiclient_url(const char *s, char *buf, size_t len)
{
	if (!s || !s[0])
		return NULL;
	int n;
	if (strstr(s, "://"))
		n = snprintf(buf, len, "%s", s);
	else {
		size_t l = strlen(s);
		if (l > 5 && strcmp(s + l - 5, ".sock") == 0)
			n = snprintf(buf, len, "ipc://%.*s.ipc", (int)(l - 5), s);
		else
			n = snprintf(buf, len, "ipc://%s", s);
	}
	return n > 0 && (size_t)n < len ? buf : NULL;
}

int dpiclient_new(const struct dpiclient_opts *opts, struct dpiclient **ret)
{
	struct dpiclient *dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->o = *opts;
	if (!dc->o.timeout_ms)
		dc->o.timeout_ms = 500;
	if (!dc->o.inflight)
		dc->o.inflight = 4;
	if (dc->o.inflight > WORKERS_MAX)
		dc->o.inflight = WORKERS_MAX;
	if (!dc->o.batch_max)
		dc->o.batch_max = 64;
	if (dc->o.batch_max > BATCH_HARDMAX)
		dc->o.batch_max = BATCH_HARDMAX;
	if (!dc->o.linger_us)
		dc->o.linger_us = 2000;
	if (!dc->o.queue_limit)
		dc->o.queue_limit = 4096;
	size_t per = dc->o.queue_limit / dc->o.inflight;
	int rv = 0;
	for (unsigned i = 0; rv == 0 && i < dc->o.inflight; i++)
		rv = lqueue_new(per ? per : 1, &dc->q[i]);
	if (rv == 0)
		rv = rdpi_rpc_client_new(dc->o.url, NULL, &dc->cl);
	if (rv < 0) {
		for (unsigned i = 0; i < dc->o.inflight; i++)
			lqueue_free(dc->q[i]);
		free(dc);
		return rv;
	}
	dc->rl.interval_ms = 10000;
	dc->rl.burst = 1;
	*ret = dc;
	return 0;
}

static void hand_off(struct dpiclient *dc, struct lentry *e)
{
	free(e->pkt);
	e->pkt = NULL;
	e->pkt_len = 0;
	writer_submit(dc->o.writer, e, dc->o.wait);
}

static void run_batch(struct dpiclient *dc, struct lentry **items, size_t n)
{
	Routerd__Dpi__V1__ClassifyRequest reqs[BATCH_HARDMAX];
	Routerd__Dpi__V1__ClassifyRequest *preqs[BATCH_HARDMAX];
	char ids[BATCH_HARDMAX][33];
	for (size_t i = 0; i < n; i++) {
		routerd__dpi__v1__classify_request__init(&reqs[i]);
		reqs[i].packet.data = items[i]->pkt;
		reqs[i].packet.len = items[i]->pkt_len;
		reqs[i].timestampns = items[i]->ts_ns;
		rdpi_flowkey_hex(&items[i]->key, ids[i]);
		reqs[i].flowid = ids[i];
		reqs[i].direction = items[i]->dir == items[i]->client_dir
					? ROUTERD__DPI__V1__DIRECTION__DIRECTION_ORIGINAL
					: ROUTERD__DPI__V1__DIRECTION__DIRECTION_REPLY;
		preqs[i] = &reqs[i];
	}
	Routerd__Dpi__V1__ClassifyBatchRequest br = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	br.n_requests = n;
	br.requests = preqs;
	ProtobufCMessage *reply = NULL;
	char err[256] = "";
	uint64_t t0 = rdpi_monotonic_ns();
	enum rdpi_status st = rdpi_rpc_client_call(
	    dc->cl, "ClassifyBatch", &br.base, &routerd__dpi__v1__classify_batch_reply__descriptor,
	    dc->o.timeout_ms, &reply, err, sizeof(err));
	uint64_t us = (rdpi_monotonic_ns() - t0) / 1000;
	rdpi_counter_inc(&dc->stats.batches);
	rdpi_counter_add(&dc->stats.packets, n);
	rdpi_counter_add(&dc->stats.latency_us_total, us);
	rdpi_counter_set(&dc->stats.latency_us_last, us);
	if (us > rdpi_counter_get(&dc->stats.latency_us_max))
		rdpi_counter_set(&dc->stats.latency_us_max, us);
	Routerd__Dpi__V1__ClassifyBatchReply *r = (Routerd__Dpi__V1__ClassifyBatchReply *)reply;
	if (st == RDPI_STATUS_OK && r && r->n_results != n) {
		st = RDPI_STATUS_INTERNAL;
		snprintf(err, sizeof(err), "%zu results for %zu requests", r->n_results, n);
	}
	if (st != RDPI_STATUS_OK) {
		rdpi_counter_inc(&dc->stats.errors);
		rdpi_counter_add(&dc->stats.undelivered, n);
		if (st == RDPI_STATUS_DEADLINE_EXCEEDED)
			rdpi_counter_inc(&dc->stats.timeouts);
		else if (st == RDPI_STATUS_UNAVAILABLE)
			rdpi_counter_inc(&dc->stats.unavailable);
		rdpi_log_rl(&dc->rl, LOG_WARNING, TAG,
			    "ClassifyBatch to %s failed (%s: %s); records are written without DPI",
			    dc->o.url, rdpi_status_name(st), err);
	} else {
		for (size_t i = 0; i < n; i++) {
			const Routerd__Dpi__V1__ClassifyResult *res = r->results[i];
			items[i]->v = lverdict_from_result(res);
			if (lverdict_known(items[i]->v))
				rdpi_counter_inc(&dc->stats.classified);
			if (res->final) {
				rdpi_counter_inc(&dc->stats.finals);
				if (dc->o.budget)
					budget_mark_final(dc->o.budget, &items[i]->key);
			}
		}
	}
	if (reply)
		protobuf_c_message_free_unpacked(reply, NULL);
	for (size_t i = 0; i < n; i++)
		hand_off(dc, items[i]);
}

struct worker_arg {
	struct dpiclient *dc;
	struct lqueue *q;
};

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct dpiclient *dc = wa->dc;
	struct lqueue *q = wa->q;
	free(wa);
	struct lentry *items[BATCH_HARDMAX];
	for (;;) {
		size_t n = lqueue_pop(q, items, dc->o.batch_max, dc->o.linger_us);
		if (n == 0)
			break; /* closed and drained */
		run_batch(dc, items, n);
	}
	return NULL;
}

int dpiclient_start(struct dpiclient *dc)
{
	for (unsigned i = 0; i < dc->o.inflight; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa) {
			dpiclient_stop(dc);
			return -ENOMEM;
		}
		wa->dc = dc;
		wa->q = dc->q[i];
		int rv = pthread_create(&dc->workers[i], NULL, worker_main, wa);
		if (rv) {
			free(wa);
			dpiclient_stop(dc);
			return -rv;
		}
		dc->nworkers++;
	}
	return 0;
}

void dpiclient_stop(struct dpiclient *dc)
{
	if (!dc)
		return;
	for (unsigned i = 0; i < dc->o.inflight; i++)
		lqueue_close(dc->q[i]);
	for (unsigned i = 0; i < dc->nworkers; i++)
		pthread_join(dc->workers[i], NULL);
	dc->nworkers = 0;
	rdpi_log_rl_flush(&dc->rl, LOG_WARNING, TAG);
}

void dpiclient_free(struct dpiclient *dc)
{
	if (!dc)
		return;
	dpiclient_stop(dc);
	/* anything left (workers never started): written without DPI */
	struct lentry *e;
	for (unsigned i = 0; i < dc->o.inflight; i++) {
		while (lqueue_pop_timed(dc->q[i], &e, 1, 0) == 1)
			hand_off(dc, e);
		lqueue_free(dc->q[i]);
	}
	rdpi_rpc_client_free(dc->cl);
	free(dc);
}

int dpiclient_submit(struct dpiclient *dc, struct lentry *e, bool wait)
{
	struct lqueue *q = dc->q[rdpi_flowkey_hash(&e->key) % dc->o.inflight];
	int rv = wait ? lqueue_push_wait(q, e) : lqueue_push(q, e);
	if (rv < 0) {
		rdpi_counter_inc(&dc->stats.queue_drops);
		return -ENOSPC;
	}
	return 0;
}

static uint64_t connected_fn(void *arg)
{
	return rdpi_rpc_client_connected(arg) > 0;
}

static uint64_t depth_fn(void *arg)
{
	struct dpiclient *dc = arg;
	uint64_t n = 0;
	for (unsigned i = 0; i < dc->o.inflight; i++)
		n += lqueue_depth(dc->q[i]);
	return n;
}

static int register_stats(struct dpiclient_stats *s, struct rdpi_counters *reg)
{
	const struct {
		const char *name;
		struct rdpi_counter *c;
		enum rdpi_counter_kind kind;
		const char *help;
	} t[] = {
	    {"dpi_queue_drops", &s->queue_drops, RDPI_COUNTER,
	     "candidates written without DPI because the DPI queue was full"},
	    {"dpi_batches", &s->batches, RDPI_COUNTER, "ClassifyBatch calls"},
	    {"dpi_packets", &s->packets, RDPI_COUNTER, "packets sent to the classifier"},
	    {"dpi_classified", &s->classified, RDPI_COUNTER, "results with an application label"},
	    {"dpi_finals", &s->finals, RDPI_COUNTER, "flows the classifier called final"},
	    {"dpi_errors", &s->errors, RDPI_COUNTER, "failed ClassifyBatch calls"},
	    {"dpi_timeouts", &s->timeouts, RDPI_COUNTER, "ClassifyBatch calls past --dpi-timeout"},
	    {"dpi_unavailable", &s->unavailable, RDPI_COUNTER,
	     "ClassifyBatch calls that found no classifier"},
	    {"dpi_undelivered", &s->undelivered, RDPI_COUNTER,
	     "candidates written without DPI because their call failed"},
	    {"dpi_latency_us_total", &s->latency_us_total, RDPI_COUNTER,
	     "sum of ClassifyBatch round trips"},
	    {"dpi_latency_us_max", &s->latency_us_max, RDPI_GAUGE, "slowest round trip"},
	    {"dpi_latency_us_last", &s->latency_us_last, RDPI_GAUGE, "last round trip"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rv = rdpi_counters_register(reg, t[i].name, NULL, t[i].kind, t[i].help, t[i].c);
		if (rv < 0)
			return rv;
	}
	return 0;
}

int dpiclient_register_disabled(struct rdpi_counters *reg)
{
	static struct dpiclient_stats zero;
	static struct rdpi_counter zero_gauge;
	int rv = register_stats(&zero, reg);
	if (rv == 0)
		rv = rdpi_counters_register(reg, "dpi_queue_depth", NULL, RDPI_GAUGE,
					    "candidates waiting for a batch", &zero_gauge);
	if (rv == 0)
		rv = rdpi_counters_register(reg, "dpi_connected", NULL, RDPI_GAUGE,
					    "1 when the classifier connection is up", &zero_gauge);
	return rv;
}

int dpiclient_register(struct dpiclient *dc, struct rdpi_counters *reg)
{
	int rv = register_stats(&dc->stats, reg);
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "dpi_queue_depth", NULL, RDPI_GAUGE,
					       "candidates waiting for a batch", depth_fn, dc);
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "dpi_connected", NULL, RDPI_GAUGE,
					       "1 when the classifier connection is up",
					       connected_fn, dc->cl);
	return rv;
}

const struct dpiclient_stats *dpiclient_stats(const struct dpiclient *dc)
{
	return &dc->stats;
}
