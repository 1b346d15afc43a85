/* The logger's conntrack input: a thread that reads ctnetlink events (ct.c), dumps the table
 * periodically for byte/packet counters and after an overrun, and hands every entry to the
 * writer thread without ever waiting on it. */
#ifndef RDPI_SERVICES_LOGGER_CTWATCH_H
#define RDPI_SERVICES_LOGGER_CTWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/counters.h"

struct writer;
struct ctwatch;

struct ctwatch_opts {
	struct writer *writer;
	bool updates;		   /* NEW too (traffic-flows.db); else DESTROY only. UPDATE events
				    * are never needed: dumps refresh counters */
	uint64_t dump_interval_ns; /* periodic dump for counters; 0: only after overruns */
	uint32_t sock_buf;	   /* 0: ct default */
};

struct ctwatch_stats {
	struct rdpi_counter submitted, dump_errors, acct_off;
	struct rdpi_counter writer_drops, writer_resyncs;
};

/* Opens the conntrack socket (CAP_NET_ADMIN). errbuf gets the reason. Reports (log + the
 * ct_acct_off gauge) when nf_conntrack_acct is off: byte counters then stay empty. */
int ctwatch_open(const struct ctwatch_opts *o, char *errbuf, size_t errlen, struct ctwatch **ret);
int ctwatch_start(struct ctwatch *cw);
void ctwatch_stop(struct ctwatch *cw);
void ctwatch_free(struct ctwatch *cw);
/* ct_* counters (events, overruns, resyncs, dumps) and ours. */
int ctwatch_register(struct ctwatch *cw, struct rdpi_counters *reg);

#endif
