/* routerd-firewall-logger: argv and config, the inputs (NFLOG, --pcap, text lines), the
 * pipeline, the Status endpoints; subcommands daemon, selftest, help. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/counters.h"
#include "common/daemon.h"
#include "common/flags.h"
#include "common/httpshim.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/service.h"
#include "common/wire.h"
#include "dpiclient.h"
#include "input.h"
#include "lines.h"
#include "logger.h"
#include "routerd/dpi/v1/logger.pb-c.h"
#include "selftest.h"

#define PROG	       "routerd-firewall-logger"
#define TAG	       "logger"
#define DEFAULT_CONFIG "/etc/routerd/dpi.conf"
#define PCAP_PREFIX    "routerd firewall forward accept "

struct lcfg {
	char *name;
	char *path;
	int64_t nflog_group;
	char *input_file;
	char *input_format;
	char *pcap;
	char *dpi_socket;
	int64_t dpi_timeout;
	bool conntrack_events;
	int64_t expired_flow_ttl;
	int64_t expired_flow_limit;
	int64_t dpi_flow_ttl;
	int64_t dpi_flow_limit;
	int64_t dpi_flow_first_packets;
	char *socket;
	char *ipc;
	char *log_level;
	int64_t copy_range;
	int64_t accept_sample_rate;
	int64_t dpi_in_flight;
	int64_t dpi_queue_limit;
	int64_t writer_queue_limit;
	int64_t batch_rows;
	int64_t batch_interval;
	int64_t nflog_socket_buffer;
	int64_t nflog_recv_buffer;
	int64_t nflog_flush_timeout;
	int64_t nflog_qthreshold;
	/* section flows (traffic-flows.db) */
	char *traffic_path;
	int64_t traffic_dump_interval;
	int64_t traffic_retention;
	int64_t traffic_row_limit;
};

static const char *const formats[] = {"auto", "json", "kv", "nflog-tcpdump", NULL};

#define K(n, t, lo, hi, d, f, h)                                                                   \
	{                                                                                          \
		n, t, lo, hi, d, offsetof(struct lcfg, f), NULL, h                                 \
	}
static const struct rdpi_cfg_key keys[] = {
    K("name", RDPI_CFG_STRING, 0, 0, "default", name, "instance name shown in status"),
    K("path", RDPI_CFG_STRING, 0, 0, "/var/lib/routerd/firewall-logs.db", path,
      "firewall-logs.db (created and migrated when needed)"),
    K("nflogGroup", RDPI_CFG_INT, 0, 65535, "1", nflog_group,
      "NFLOG group to read; 0 reads text lines from inputFile or stdin"),
    K("inputFile", RDPI_CFG_STRING, 0, 0, "", input_file,
      "text line input instead of NFLOG (\"-\" = stdin); exits at EOF"),
    {"inputFormat", RDPI_CFG_ENUM, 0, 0, "auto", offsetof(struct lcfg, input_format), formats,
     "auto | json | kv | nflog-tcpdump"},
    K("pcap", RDPI_CFG_STRING, 0, 0, "", pcap,
      "read packets from a capture instead of NFLOG (offline); exits at EOF"),
    K("dpiSocket", RDPI_CFG_STRING, 0, 0, "/run/routerd/dpi-classifier/default.sock", dpi_socket,
      "classifier socket (its .ipc sibling is dialled) or NNG URL; empty disables DPI"),
    K("dpiTimeout", RDPI_CFG_DURATION, 1000000, 60000000000, "500ms", dpi_timeout,
      "budget for one ClassifyBatch call"),
    K("conntrackEvents", RDPI_CFG_BOOL, 0, 0, "false", conntrack_events,
      "subscribe to conntrack DESTROY events (expired_flows)"),
    K("expiredFlowTTL", RDPI_CFG_DURATION, 0, 31536000000000000, "1h", expired_flow_ttl,
      "expired_flows retention (0: no TTL)"),
    K("expiredFlowLimit", RDPI_CFG_INT, 0, 100000000, "100000", expired_flow_limit,
      "expired_flows rows kept (0: no limit)"),
    K("dpiFlowTTL", RDPI_CFG_DURATION, 1000000000, 31536000000000000, "1h", dpi_flow_ttl,
      "idle time before a flow's budget and verdict are forgotten; dpi_flow retention"),
    K("dpiFlowLimit", RDPI_CFG_INT, 1, 10000000, "100000", dpi_flow_limit,
      "flows tracked in memory and dpi_flow rows kept"),
    K("dpiFlowFirstPackets", RDPI_CFG_INT, 1, 1000, "10", dpi_flow_first_packets,
      "payload packets per flow sent to the classifier"),
    K("socket", RDPI_CFG_STRING, 0, 0, "/run/routerd/firewall-logger/default.sock", socket,
      "HTTP+JSON /v1/ shim and /metrics (Unix socket, mode 0660)"),
    K("ipc", RDPI_CFG_STRING, 0, 0, "ipc:///run/routerd/firewall-logger/default.ipc", ipc,
      "NNG REP endpoint (Status, Healthz)"),
    K("logLevel", RDPI_CFG_STRING, 0, 0, "info", log_level, "emerg .. debug"),
    K("copyRange", RDPI_CFG_SIZE, 64, 65535, "2048", copy_range,
      "NFLOG copy range (nftables snaplen) and bytes sent to the classifier"),
    K("acceptSampleRate", RDPI_CFG_INT, 1, 1000000, "1", accept_sample_rate,
      "applied in nftables (numgen random mod N == 0 on the accept log rule)"),
    K("dpiInFlight", RDPI_CFG_INT, 1, 32, "4", dpi_in_flight, "ClassifyBatch calls in flight"),
    K("dpiQueueLimit", RDPI_CFG_INT, 16, 1000000, "4096", dpi_queue_limit,
      "DPI candidates waiting; beyond, packets are logged without DPI (counted)"),
    K("writerQueueLimit", RDPI_CFG_INT, 16, 10000000, "16384", writer_queue_limit,
      "records waiting for SQLite; beyond, records are dropped (counted)"),
    K("batchRows", RDPI_CFG_INT, 1, 100000, "512", batch_rows, "rows per transaction"),
    K("batchInterval", RDPI_CFG_DURATION, 1000000, 10000000000, "250ms", batch_interval,
      "longest a row waits for its transaction"),
    K("nflogSocketBuffer", RDPI_CFG_SIZE, 65536, 1073741824, "8m", nflog_socket_buffer,
      "netlink receive buffer (SO_RCVBUFFORCE when permitted)"),
    K("nflogRecvBuffer", RDPI_CFG_SIZE, 65536, 67108864, "256k", nflog_recv_buffer,
      "userspace buffer per recv (>= the kernel batch)"),
    K("nflogFlushTimeout", RDPI_CFG_DURATION, 10000000, 10000000000, "100ms", nflog_flush_timeout,
      "kernel flushes a partial NFLOG batch after this"),
    K("nflogQThreshold", RDPI_CFG_INT, 0, 65535, "0", nflog_qthreshold,
      "packets per NFLOG batch (0: kernel default)"),
};
#undef K
static const struct rdpi_cfg_section section = {"firewallLog", keys,
						sizeof(keys) / sizeof(keys[0])};

#define K(n, t, lo, hi, d, f, h)                                                                   \
	{                                                                                          \
		n, t, lo, hi, d, offsetof(struct lcfg, f), NULL, h                                 \
	}
static const struct rdpi_cfg_key flow_keys[] = {
    K("path", RDPI_CFG_STRING, 0, 0, "/var/lib/routerd/traffic-flows.db", traffic_path,
      "traffic-flows.db, written when firewallLog.conntrackEvents is on; empty disables"),
    K("dumpInterval", RDPI_CFG_DURATION, 0, 3600000000000, "30s", traffic_dump_interval,
      "conntrack table dump for byte/packet counters of open connections (0: none)"),
    K("retention", RDPI_CFG_DURATION, 0, 31536000000000000, "168h", traffic_retention,
      "flows rows older than this are pruned (0: no TTL)"),
    K("rowLimit", RDPI_CFG_INT, 0, 100000000, "1000000", traffic_row_limit,
      "flows rows kept (0: no limit)"),
};
#undef K
static const struct rdpi_cfg_section flows_section = {"flows", flow_keys,
						      sizeof(flow_keys) / sizeof(flow_keys[0])};

/* Both sections fill struct lcfg; each touches only its own fields. */
static void cfg_free(struct lcfg *c)
{
	rdpi_cfg_free(&section, c);
	rdpi_cfg_free(&flows_section, c);
}

static int cfg_defaults(struct lcfg *c, char *err, size_t errlen)
{
	int rv = rdpi_cfg_defaults(&section, c, err, errlen);
	return rv < 0 ? rv : rdpi_cfg_defaults(&flows_section, c, err, errlen);
}

/* "flows.path" -> the flows section's "path"; anything else is firewallLog's. */
static int cfg_set(struct lcfg *c, const char *key, const char *value, char *err, size_t errlen)
{
	if (strncmp(key, "flows.", 6) == 0)
		return rdpi_cfg_set(&flows_section, c, key + 6, value, err, errlen);
	return rdpi_cfg_set(&section, c, key, value, err, errlen);
}

static const struct rdpi_flag flags[] = {
    {"config", NULL, false, "libconfig file (default " DEFAULT_CONFIG " when present)"},
    {"check-config", NULL, true, "validate the configuration and exit"},
    {"print-config", NULL, true, "print the effective configuration (libconfig) and exit"},
    {"path", "path", false, "firewall-logs.db path"},
    {"nflog-group", "nflogGroup", false, "NFLOG group (0 disables; 1..65535)"},
    {"input-file", "inputFile", false, "text line input (\"-\" = stdin)"},
    {"input-format", "inputFormat", false, "auto | json | kv | nflog-tcpdump"},
    {"pcap", "pcap", false, "read packets from a capture file instead of NFLOG"},
    {"dpi-socket", "dpiSocket", false, "classifier socket or NNG URL; empty disables DPI"},
    {"dpi-timeout", "dpiTimeout", false, "ClassifyBatch budget (500ms)"},
    {"conntrack-events", "conntrackEvents", true,
     "conntrack events: expired_flows, orphan-return correlation, traffic-flows.db"},
    {"traffic-path", "flows.path", false, "traffic-flows.db path (empty disables it)"},
    {"expired-flow-ttl", "expiredFlowTTL", false, "expired_flows retention (1h)"},
    {"expired-flow-limit", "expiredFlowLimit", false, "expired_flows rows kept (100000)"},
    {"dpi-flow-ttl", "dpiFlowTTL", false, "flow budget/verdict TTL and dpi_flow retention (1h)"},
    {"dpi-flow-limit", "dpiFlowLimit", false, "flows tracked / dpi_flow rows kept (100000)"},
    {"dpi-flow-first-packets", "dpiFlowFirstPackets", false, "payload packets per flow (10)"},
    {"socket", "socket", false, "HTTP+JSON Unix socket"},
    {"ipc", "ipc", false, "NNG endpoint"},
    {"name", "name", false, "instance name"},
    {"copy-range", "copyRange", false, "NFLOG copy range (2048)"},
    {"log-level", "logLevel", false, "emerg .. debug (info)"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

struct opts {
	struct lcfg cfg;
	struct rdpi_cfg_flags cf;
	bool format_explicit;
	bool traffic_explicit; /* --traffic-path given: with --pcap, flows from the capture */
};

static int on_flag(void *arg, const struct rdpi_flag *f, const char *value, char *err,
		   size_t errlen)
{
	struct opts *o = arg;
	if (rdpi_cfg_flags_common(&o->cf, f, value))
		return 0;
	if (strcmp(f->name, "input-format") == 0)
		o->format_explicit = true;
	if (strcmp(f->name, "traffic-path") == 0)
		o->traffic_explicit = true;
	int rv = cfg_set(&o->cfg, f->cfg_key, value, err, errlen);
	return rv < 0 ? rv : rdpi_cfg_flags_keep(&o->cf, f->cfg_key, value, err, errlen);
}

static int load_config(struct opts *o, struct lcfg *cfg, char *err, size_t errlen)
{
	struct lcfg tmp = {0};
	int rv;
	if (rdpi_cfg_flags_read_file(&o->cf)) {
		rv = rdpi_cfg_load_file(o->cf.config_path, &section, rdpi_cfg_sections, &tmp, err,
					errlen);
		if (rv == 0)
			rv = rdpi_cfg_load_file(o->cf.config_path, &flows_section, rdpi_cfg_sections,
						&tmp, err, errlen);
	} else {
		rv = cfg_defaults(&tmp, err, errlen);
	}
	for (size_t i = 0; rv == 0 && i < o->cf.n; i++)
		rv = cfg_set(&tmp, o->cf.key[i], o->cf.value[i], err, errlen);
	if (rv == 0 && tmp.pcap[0] && tmp.input_file[0]) {
		snprintf(err, errlen, "--pcap and --input-file exclude each other");
		rv = -EINVAL;
	}
	if (rv < 0) {
		cfg_free(&tmp);
		return rv;
	}
	*cfg = tmp;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROG " [daemon|selftest|help] [flags]\n"
	    "  daemon    read NFLOG (or --pcap / --input-file), classify the first payload\n"
	    "            packets of each flow through the classifier, keep firewall-logs.db\n"
	    "            (default); serves Status on --ipc and /v1/status, /metrics on --socket\n"
	    "  selftest  write four synthetic records to --path and print {\"ok\":true,...}\n"
	    "flags:\n");
	rdpi_flags_usage(out, flags, NFLAGS);
}

/* ---- Status ----------------------------------------------------------------------------- */

struct app {
	const struct lcfg *cfg;
	struct logger *lg;
	struct input *in;
	struct rdpi_counters *reg;
	char dpi_url[512];
	bool capture_flows;
	volatile sig_atomic_t input_status;
};

struct stat_fill {
	struct rdpi_call *call;
	Routerd__Dpi__V1__LoggerStatus *st;
	size_t cap;
	bool dpi_connected;
};

static void add_stat(void *arg, const char *name, const char *label, enum rdpi_counter_kind kind,
		     uint64_t value)
{
	struct stat_fill *f = arg;
	if (label || f->st->n_stats >= f->cap)
		return;
	if (strcmp(name, "dpi_connected") == 0)
		f->dpi_connected = value != 0;
	Routerd__Dpi__V1__LoggerStatus__StatsEntry *e = rdpi_call_alloc(f->call, sizeof(*e));
	if (!e)
		return;
	routerd__dpi__v1__logger_status__stats_entry__init(e);
	e->key = rdpi_call_strdup(f->call, name);
	e->value = value;
	f->st->stats[f->st->n_stats++] = e;
}

/* SIGHUP changes live keys of the running configuration under this lock. */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Status "config": every key as in dpi.conf, flows keys as "flows.<key>". */
static int add_config(struct rdpi_call *call, const struct lcfg *c,
		      Routerd__Dpi__V1__LoggerStatus *st)
{
	const struct rdpi_cfg_section *secs[] = {&section, &flows_section};
	st->config =
	    rdpi_call_alloc(call, (section.nkeys + flows_section.nkeys) * sizeof(*st->config));
	if (!st->config)
		return -ENOMEM;
	pthread_mutex_lock(&cfg_lock);
	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < secs[s]->nkeys; i++) {
			const struct rdpi_cfg_key *k = &secs[s]->keys[i];
			char buf[512];
			Routerd__Dpi__V1__LoggerStatus__ConfigEntry *e =
			    rdpi_call_alloc(call, sizeof(*e));
			if (!e)
				break;
			routerd__dpi__v1__logger_status__config_entry__init(e);
			e->key = s ? rdpi_call_printf(call, "flows.%s", k->name) : (char *)k->name;
			e->value = rdpi_call_strdup(call, rdpi_cfg_format(k, c, buf, sizeof(buf)));
			st->config[st->n_config++] = e;
		}
	}
	pthread_mutex_unlock(&cfg_lock);
	return 0;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	struct app *a = arg;
	Routerd__Dpi__V1__LoggerStatus *st = (void *)reply;
	st->ok = 1;
	st->name = a->cfg->name;
	st->version = RDPI_VERSION;
	st->path = a->cfg->path;
	st->nfloggroup =
	    a->cfg->pcap[0] || a->cfg->input_file[0] ? 0 : (uint32_t)a->cfg->nflog_group;
	st->dpisocket = a->cfg->dpi_socket;
	st->trafficpath = a->cfg->conntrack_events || a->capture_flows ? a->cfg->traffic_path : "";
	st->dpiurl = a->dpi_url;
	st->input = (char *)input_describe(a->in);
	struct stat_fill f = {.call = call, .st = st, .cap = 256};
	st->stats = rdpi_call_alloc(call, f.cap * sizeof(*st->stats));
	Routerd__Dpi__V1__Resources *rs = rdpi_call_alloc(call, sizeof(*rs));
	if (!st->stats || !rs)
		return RDPI_STATUS_INTERNAL;
	rdpi_counters_foreach(a->reg, add_stat, &f);
	st->dpiconnected = f.dpi_connected;
	routerd__dpi__v1__resources__init(rs);
	rs->rssbytes = rdpi_process_rss_bytes();
	uint64_t v = 0;
	if (rdpi_counters_get(a->reg, "writer_flows", NULL, &v) == 0)
		rs->activeflows = v;
	if (rdpi_counters_get(a->reg, "writer_flows_bytes", NULL, &v) == 0)
		rs->flowtablebytes = v;
	st->resources = rs;
	if (add_config(call, a->cfg, st) < 0)
		return RDPI_STATUS_INTERNAL;
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	struct app *a = arg;
	Routerd__Dpi__V1__HealthzReply *h = (void *)reply;
	h->name = a->cfg->name;
	h->ok = 1;
	h->status = "ok";
	uint64_t errs = 0;
	if (rdpi_counters_get(a->reg, "commit_errors", NULL, &errs) == 0 && errs) {
		h->status = rdpi_call_printf(call, "degraded: %llu failed commits",
					     (unsigned long long)errs);
	}
	return RDPI_STATUS_OK;
}

static const rdpi_method_fn handlers[] = {h_status, h_healthz};

/* ---- daemon ----------------------------------------------------------------------------- */

static struct {
	struct opts *o;
	struct app *a;
} reload_ctx;

/* Keys SIGHUP applies to the running daemon; the others need a restart.
 * acceptSampleRate is applied by nftables: the logger only shows it. */
static const char *const live_keys[] = {"dpiFlowFirstPackets", "expiredFlowTTL", "acceptSampleRate",
					"logLevel", NULL};
static const char *const live_flow_keys[] = {"retention", "rowLimit", NULL};

static int on_reload(void *arg)
{
	char err[512];
	struct lcfg fresh;
	if (load_config(reload_ctx.o, &fresh, err, sizeof(err)) < 0) {
		rdpi_log(LOG_ERR, TAG, "reload failed, keeping the running configuration: %s", err);
		return -EINVAL;
	}
	struct lcfg *cur = &reload_ctx.o->cfg;
	logger_set_limits(reload_ctx.a->lg, (unsigned)fresh.dpi_flow_first_packets,
			  fresh.expired_flow_ttl, fresh.traffic_retention,
			  (size_t)fresh.traffic_row_limit);
	int lvl;
	if (rdpi_log_level_parse(fresh.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);
	char live[512] = "", restart[1024] = "";
	rdpi_cfg_changes(&section, cur, &fresh, live_keys, NULL, live, sizeof(live), restart,
			 sizeof(restart));
	rdpi_cfg_changes(&flows_section, cur, &fresh, live_flow_keys, "flows.", live, sizeof(live),
			 restart, sizeof(restart));
	rdpi_cfg_log_reload(TAG, reload_ctx.o->cf.config_path, live, restart);
	/* keys that need a restart keep their running values, so status tells the truth */
	pthread_mutex_lock(&cfg_lock);
	cur->dpi_flow_first_packets = fresh.dpi_flow_first_packets;
	cur->expired_flow_ttl = fresh.expired_flow_ttl;
	cur->accept_sample_rate = fresh.accept_sample_rate;
	cur->traffic_retention = fresh.traffic_retention;
	cur->traffic_row_limit = fresh.traffic_row_limit;
	char *tmp = cur->log_level;
	cur->log_level = fresh.log_level;
	fresh.log_level = tmp;
	pthread_mutex_unlock(&cfg_lock);
	cfg_free(&fresh);
	return 0;
}

static void on_tick(void *arg)
{
	struct app *a = arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	logger_tick(a->lg, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static void on_input_done(void *arg, int status)
{
	struct app *a = arg;
	a->input_status = status;
	kill(getpid(), SIGTERM); /* the main loop flushes and exits */
}

static int cmd_daemon(struct opts *o)
{
	static const struct rdpi_httpshim_route routes[] = {
	    {"GET", "/v1/status", "Status", 0},
	    {"GET", "/v1/healthz", "Healthz", RDPI_HTTPSHIM_NOT_OK_503},
	};
	const struct lcfg *c = &o->cfg;
	struct app a = {.cfg = c};
	struct rdpi_service *svc = NULL;
	struct rdpi_rpc_server *rpc = NULL;
	struct rdpi_httpshim *shim = NULL;
	char err[512] = "";
	int rv = 0;
	/* --nflog-group 0 reads stdin only when asked to (--input-file - or an explicit
	 * --input-format): under a supervisor stdin is /dev/null, and the logger then just
	 * serves its status until the conntrack side or an operator needs it */
	bool stdin_lines =
	    c->nflog_group == 0 && !c->pcap[0] && !c->input_file[0] && o->format_explicit;
	bool idle = c->nflog_group == 0 && !c->pcap[0] && !c->input_file[0] && !stdin_lines;
	bool offline = c->pcap[0] || c->input_file[0] || stdin_lines;

	if (c->dpi_socket[0] && !dpiclient_url(c->dpi_socket, a.dpi_url, sizeof(a.dpi_url))) {
		fprintf(stderr, PROG ": --dpi-socket too long\n");
		return 1;
	}
	struct logger_opts lo = {
	    .path = c->path,
	    .first_payload_packets = (unsigned)c->dpi_flow_first_packets,
	    .copy_range = (uint32_t)c->copy_range,
	    .dpi_flow_limit = (size_t)c->dpi_flow_limit,
	    .dpi_flow_ttl_ns = c->dpi_flow_ttl,
	    .expired_flow_limit = (size_t)c->expired_flow_limit,
	    .expired_flow_ttl_ns = c->expired_flow_ttl,
	    .dpi_url = a.dpi_url[0] ? a.dpi_url : NULL,
	    .dpi_timeout_ms = (uint32_t)(c->dpi_timeout / 1000000),
	    .dpi_inflight = (unsigned)c->dpi_in_flight,
	    .dpi_queue_limit = (size_t)c->dpi_queue_limit,
	    .writer_queue_limit = (size_t)c->writer_queue_limit,
	    .batch_max = (size_t)c->batch_rows,
	    .batch_age_ns = (uint64_t)c->batch_interval,
	    .offline = offline,
	    .conntrack = c->conntrack_events,
	    .traffic_path = c->traffic_path,
	    .capture_flows = c->pcap[0] && o->traffic_explicit,
	    .traffic_ttl_ns = c->traffic_retention,
	    .traffic_limit = (size_t)c->traffic_row_limit,
	    .ct_dump_interval_ns = (uint64_t)c->traffic_dump_interval,
	};
	a.capture_flows = lo.capture_flows;
	if ((c->conntrack_events || lo.capture_flows) && c->traffic_path[0])
		rdpi_daemon_mkdir_for(c->traffic_path);
	rdpi_daemon_mkdir_for(c->path);
	if ((rv = logger_open(&lo, err, sizeof(err), &a.lg)) < 0) {
		rdpi_log(LOG_ERR, TAG, "%s: %s", c->path, err);
		return 1;
	}
	struct nflogrd_opts no = {.group = (uint16_t)c->nflog_group,
				  .copy_range = (uint32_t)c->copy_range,
				  .sock_buf = (uint32_t)c->nflog_socket_buffer,
				  .recv_buf = (uint32_t)c->nflog_recv_buffer,
				  .timeout = (uint32_t)(c->nflog_flush_timeout / 10000000),
				  .qthresh = (uint32_t)c->nflog_qthreshold};
	enum lines_format lf = LINES_AUTO;
	lines_format_parse(c->input_format, &lf);
	struct input_opts io = {.lg = a.lg,
				.pcap_prefix = PCAP_PREFIX,
				.lines_format = lf,
				.done_fn = on_input_done,
				.done_arg = &a};
	if (c->pcap[0])
		io.pcap_path = c->pcap;
	else if (c->input_file[0])
		io.lines_path = c->input_file;
	else if (stdin_lines)
		io.lines_path = "-";
	else if (!idle)
		io.nflog = &no;
	if (!idle && (rv = input_open(&io, err, sizeof(err), &a.in)) < 0) {
		rdpi_log(LOG_ERR, TAG, "%s", err);
		goto out;
	}
	if ((rv = rdpi_counters_new("routerd_dpi_logger_", &a.reg)) < 0 ||
	    (rv = logger_register(a.lg, a.reg)) < 0 || (rv = input_register(a.in, a.reg)) < 0 ||
	    (rv = rdpi_counters_register_process(a.reg)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot register counters: %s", strerror(-rv));
		goto out;
	}
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__logger__descriptor,
				       .handlers = handlers,
				       .arg = &a,
				       .workers = 1,
				       .run_inline = true,
				       .default_timeout_ms = 5000,
				       .json_opts = rdpi_wire_json_opts()};
	if ((rv = rdpi_service_new(&so, &svc)) < 0)
		goto out;
	rdpi_daemon_mkdir_for(c->ipc);
	rdpi_daemon_mkdir_for(c->socket);
	if (c->ipc[0]) {
		struct rdpi_rpc_server_opts ro = {.url = c->ipc, .svc = svc};
		if ((rv = rdpi_rpc_server_start(&ro, &rpc)) < 0) {
			rdpi_log(LOG_ERR, TAG, "cannot listen on %s: %s", c->ipc, strerror(-rv));
			goto out;
		}
	}
	if (c->socket[0]) {
		struct rdpi_httpshim_opts ho = {.unix_path = c->socket,
						.svc = svc,
						.routes = routes,
						.nroutes = sizeof(routes) / sizeof(routes[0]),
						.metrics = a.reg};
		if ((rv = rdpi_httpshim_start(&ho, &shim)) < 0) {
			rdpi_log(LOG_ERR, TAG, "cannot serve %s: %s", c->socket, strerror(-rv));
			goto out;
		}
	}
	if ((rv = logger_start(a.lg)) < 0 || (a.in && (rv = input_start(a.in)) < 0)) {
		rdpi_log(LOG_ERR, TAG, "cannot start threads: %s", strerror(-rv));
		goto out;
	}
	rdpi_log(LOG_NOTICE, TAG, "reading %s, writing %s, DPI %s", input_describe(a.in), c->path,
		 a.dpi_url[0] ? a.dpi_url : "disabled");
	reload_ctx.o = o;
	reload_ctx.a = &a;
	struct rdpi_daemon_ops ops = {
	    .reload_fn = on_reload, .tick_fn = on_tick, .tick_ms = 1000, .arg = &a};
	rv = rdpi_daemon_run(&ops);
	rdpi_log(LOG_NOTICE, TAG, "stopping: flushing queues");
	if (rv == 0 && a.input_status < 0)
		rv = a.input_status;
out:
	input_stop(a.in); /* stop reading first, then drain DPI and the writer */
	logger_stop(a.lg);
	rdpi_httpshim_stop(shim);
	rdpi_rpc_server_stop(rpc);
	if (c->ipc[0] && rdpi_daemon_ipc_path(c->ipc))
		unlink(rdpi_daemon_ipc_path(c->ipc));
	rdpi_service_free(svc);
	input_free(a.in);
	logger_free(a.lg);
	rdpi_counters_free(a.reg);
	return rv < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = {"daemon", "selftest", NULL};
	const char *cmd;
	int first;
	int ex = rdpi_flags_command(argc, argv, PROG, cmds, usage, &cmd, &first);
	if (ex >= 0)
		return ex;
	/* entries are allocated by the input threads and freed by the writer: with one arena
	 * per thread, glibc keeps every thread's peak; two arenas keep the footprint close to
	 * what is live */
	mallopt(M_ARENA_MAX, 2);
	rdpi_daemon_block_signals();
	rdpi_log_init(PROG, RDPI_LOG_STDERR, LOG_INFO);

	struct opts o = {.cf.config_path = DEFAULT_CONFIG};
	char err[512];
	int next = 0;
	if (cfg_defaults(&o.cfg, err, sizeof(err)) < 0 ||
	    rdpi_flags_parse(argc - first, argv + first, flags, NFLAGS, on_flag, &o, &next, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		cfg_free(&o.cfg);
		return 1;
	}
	if (next < argc - first) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[first + next]);
		cfg_free(&o.cfg);
		return 1;
	}
	cfg_free(&o.cfg);
	if (load_config(&o, &o.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (o.cf.print_config) {
		rdpi_cfg_dump(&section, &o.cfg, stdout);
		rdpi_cfg_dump(&flows_section, &o.cfg, stdout);
		cfg_free(&o.cfg);
		return 0;
	}
	if (o.cf.check_config) {
		printf("configuration OK\n");
		cfg_free(&o.cfg);
		return 0;
	}
	int lvl;
	if (rdpi_log_level_parse(o.cfg.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);
	int rc;
	if (strcmp(cmd, "selftest") == 0) {
		char url[512] = "";
		struct selftest_opts so = {
		    .path = o.cfg.path,
		    .dpi_url = dpiclient_url(o.cfg.dpi_socket, url, sizeof(url)),
		    .dpi_timeout_ms = (uint32_t)(o.cfg.dpi_timeout / 1000000)};
		rc = selftest_run(&so, stdout) < 0 ? 1 : 0;
	} else {
		rc = cmd_daemon(&o);
	}
	cfg_free(&o.cfg);
	rdpi_rpc_fini();
	return rc;
}
