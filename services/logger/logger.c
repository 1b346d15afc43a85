/* Pipeline wiring: budget -> DPI client -> writer, and the store they end in. */
#include "logger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "ctwatch.h"
#include "dpiclient.h"
#include "entry.h"
#include "flowsdb.h"
#include "store.h"
#include "writer.h"

struct logger {
	struct logger_opts o;
	struct store *store;
	struct budget *budget;
	struct dpiclient *dc;
	struct writer *writer;
	struct flowsdb *flows;
	struct ctwatch *ct;
	bool started;
	struct logger_stats stats;
};

void logger_set_limits(struct logger *lg, unsigned first_payload_packets,
		       int64_t expired_flow_ttl_ns, int64_t traffic_ttl_ns, size_t traffic_limit)
{
	budget_set_first(lg->budget, first_payload_packets);
	writer_set_retention(lg->writer, expired_flow_ttl_ns, traffic_ttl_ns, traffic_limit);
}

int logger_open(const struct logger_opts *opts, char *errbuf, size_t errlen, struct logger **ret)
{
	struct logger *lg = calloc(1, sizeof(*lg));
	if (!lg)
		return -ENOMEM;
	lg->o = *opts;
	if (!lg->o.copy_range)
		lg->o.copy_range = 2048;
	struct store_opts so = {
	    .path = opts->path, .batch_max = opts->batch_max, .batch_age_ns = opts->batch_age_ns};
	int rv = store_open(&so, errbuf, errlen, &lg->store);
	if (rv < 0)
		goto fail;
	struct budget_opts bo = {.first_payload_packets = opts->first_payload_packets,
				 .flow_limit = opts->dpi_flow_limit,
				 .flow_ttl_ns = (uint64_t)opts->dpi_flow_ttl_ns};
	if ((rv = budget_new(&bo, &lg->budget)) < 0)
		goto oom;
	struct writer_opts wo = {.store = lg->store,
				 .flow_limit = opts->dpi_flow_limit,
				 .flow_ttl_ns = opts->dpi_flow_ttl_ns,
				 .dpi_flow_limit = opts->dpi_flow_limit,
				 .expired_ttl_ns = opts->expired_flow_ttl_ns,
				 .expired_limit = opts->expired_flow_limit,
				 .queue_limit = opts->writer_queue_limit,
				 .batch_max = opts->batch_max,
				 .batch_age_ns = opts->batch_age_ns,
				 .offline = opts->offline,
				 .correlate = opts->conntrack,
				 .traffic_ttl_ns = opts->traffic_ttl_ns,
				 .traffic_limit = opts->traffic_limit};
	if ((opts->conntrack || opts->capture_flows) && opts->traffic_path &&
	    opts->traffic_path[0]) {
		struct flowsdb_opts fo = {.path = opts->traffic_path,
					  .batch_max = opts->batch_max,
					  .batch_age_ns = opts->batch_age_ns};
		if ((rv = flowsdb_open(&fo, errbuf, errlen, &lg->flows)) < 0)
			goto fail;
		wo.flows = lg->flows;
		wo.capture_flows = opts->capture_flows && !opts->conntrack;
	}
	if ((rv = writer_new(&wo, &lg->writer)) < 0)
		goto oom;
	if (opts->conntrack) {
		struct ctwatch_opts cwo = {.writer = lg->writer,
					   .updates = lg->flows != NULL,
					   .dump_interval_ns =
					       lg->flows ? opts->ct_dump_interval_ns : 0};
		if ((rv = ctwatch_open(&cwo, errbuf, errlen, &lg->ct)) < 0)
			goto fail;
	}
	if (opts->dpi_url && opts->dpi_url[0]) {
		struct dpiclient_opts dco = {.url = opts->dpi_url,
					     .timeout_ms = opts->dpi_timeout_ms,
					     .inflight = opts->dpi_inflight,
					     .queue_limit = opts->dpi_queue_limit,
					     .wait = opts->offline,
					     .budget = lg->budget,
					     .writer = lg->writer};
		if ((rv = dpiclient_new(&dco, &lg->dc)) < 0) {
			snprintf(errbuf, errlen, "cannot set up the classifier client for %s: %s",
				 opts->dpi_url, strerror(-rv));
			goto fail;
		}
	}
	*ret = lg;
	return 0;
oom:
	snprintf(errbuf, errlen, "out of memory");
fail:
	logger_free(lg);
	return rv;
}

int logger_start(struct logger *lg)
{
	int rv = writer_start(lg->writer);
	if (rv == 0 && lg->dc)
		rv = dpiclient_start(lg->dc);
	if (rv == 0 && lg->ct)
		rv = ctwatch_start(lg->ct);
	lg->started = rv == 0;
	return rv;
}

void logger_submit(struct logger *lg, struct lentry *e, const uint8_t *l3, size_t len)
{
	rdpi_counter_inc(&lg->stats.packets_in);
	bool cand = budget_admit(lg->budget, e, &e->client_dir) && l3 && len;
	if (cand) {
		rdpi_counter_inc(&lg->stats.candidates);
		if (!lg->dc) {
			rdpi_counter_inc(&lg->stats.no_dpi);
		} else {
			size_t n = len < lg->o.copy_range ? len : lg->o.copy_range;
			e->pkt = malloc(n);
			if (e->pkt) {
				memcpy(e->pkt, l3, n);
				e->pkt_len = (uint32_t)n;
				e->candidate = true;
				if (dpiclient_submit(lg->dc, e, lg->o.offline) == 0)
					return;
				free(e->pkt);
				e->pkt = NULL;
				e->pkt_len = 0;
			}
		}
	}
	writer_submit(lg->writer, e, lg->o.offline);
}

void logger_stop(struct logger *lg)
{
	if (!lg || !lg->started)
		return;
	ctwatch_stop(lg->ct);
	dpiclient_stop(lg->dc);
	writer_stop(lg->writer);
	lg->started = false;
}

void logger_free(struct logger *lg)
{
	if (!lg)
		return;
	logger_stop(lg);
	ctwatch_free(lg->ct);
	dpiclient_free(lg->dc);
	writer_free(lg->writer);
	flowsdb_free(lg->flows);
	budget_free(lg->budget);
	store_free(lg->store);
	free(lg);
}

void logger_tick(struct logger *lg, uint64_t wall_ns)
{
	budget_expire(lg->budget, lg->o.offline ? 0 : wall_ns);
}

static uint64_t budget_flows_fn(void *arg)
{
	struct budget_stats s;
	budget_stats(arg, &s);
	return s.flows;
}

static uint64_t budget_limit_fn(void *arg)
{
	struct budget_stats s;
	budget_stats(arg, &s);
	return s.limit_hits;
}

static uint64_t budget_over_fn(void *arg)
{
	struct budget_stats s;
	budget_stats(arg, &s);
	return s.over_budget + s.final_skips;
}

static uint64_t db_bytes_fn(void *arg)
{
	struct logger *lg = arg;
	FILE *f = fopen(lg->o.path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n > 0 ? (uint64_t)n : 0;
}

int logger_register(struct logger *lg, struct rdpi_counters *reg)
{
	int rv = 0;
#define REG(n, c, h)                                                                               \
	if (rv == 0)                                                                               \
	rv = rdpi_counters_register(reg, n, NULL, RDPI_COUNTER, h, c)
	REG("packets_in", &lg->stats.packets_in, "packets handed to the pipeline");
	REG("packet_errors", &lg->stats.packet_errors, "packets whose IP header did not parse");
	REG("dpi_candidates", &lg->stats.candidates, "payload packets within the flow budget");
	REG("dpi_disabled_candidates", &lg->stats.no_dpi, "candidates while DPI is disabled");
#undef REG
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "budget_flows", NULL, RDPI_GAUGE,
					       "flows in the DPI budget table", budget_flows_fn,
					       lg->budget);
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "budget_limit_hits", NULL, RDPI_COUNTER,
					       "budget table inserts at its limit", budget_limit_fn,
					       lg->budget);
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "budget_skipped", NULL, RDPI_COUNTER,
					       "payload packets past the budget or of final flows",
					       budget_over_fn, lg->budget);
	if (rv == 0)
		rv = rdpi_counters_register_fn(reg, "db_bytes", NULL, RDPI_GAUGE,
					       "size of firewall-logs.db (main file)", db_bytes_fn,
					       lg);
	if (rv == 0)
		rv = writer_register(lg->writer, reg);
	if (rv == 0)
		rv = lg->dc ? dpiclient_register(lg->dc, reg) : dpiclient_register_disabled(reg);
	if (rv == 0 && lg->ct)
		rv = ctwatch_register(lg->ct, reg);
	return rv;
}

const struct logger_stats *logger_stats(const struct logger *lg)
{
	return &lg->stats;
}

void logger_packet_error(struct logger *lg)
{
	rdpi_counter_inc(&lg->stats.packet_errors);
}
