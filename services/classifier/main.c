/* routerd-dpi-classifier: argv, config and wiring of the engine, the NNG
 * endpoint and the HTTP+JSON shim; subcommands daemon, classify, selftest. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentlink.h"
#include "common/cfg.h"
#include "common/counters.h"
#include "common/daemon.h"
#include "common/flags.h"
#include "common/httpshim.h"
#include "common/log.h"
#include "common/pbjson.h"
#include "common/rpc.h"
#include "common/service.h"
#include "common/synth.h"
#include "common/wire.h"
#include "engine.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "server.h"

#define TAG	       "classifier"
#define DEFAULT_CONFIG "/etc/routerd/dpi.conf"

struct ccfg {
	char *name;
	char *engine;
	char *socket;
	char *ipc;
	char *ndpi_agent_socket;
	char *ndpi_reader;
	char *log_level;
	int64_t timeout;
	int64_t flow_ttl;
	int64_t flow_limit;
	int64_t first_payload_packets;
	int64_t copy_range;
	int64_t workers;
	int64_t dns_cache_limit;
	int64_t sni_cache_limit;
};

#define K(n, t, lo, hi, d, f, h)                                                                   \
	{                                                                                          \
		n, t, lo, hi, d, offsetof(struct ccfg, f), NULL, h                                 \
	}
static const struct rdpi_cfg_key keys[] = {
    K("name", RDPI_CFG_STRING, 0, 0, "default", name, "instance name shown in status"),
    K("engine", RDPI_CFG_STRING, 0, 0, "builtin", engine, "builtin | ndpi-agent | auto"),
    K("socket", RDPI_CFG_STRING, 0, 0, "/run/routerd/dpi-classifier/default.sock", socket,
      "HTTP+JSON /v1/ shim (Unix socket, mode 0660)"),
    K("ipc", RDPI_CFG_STRING, 0, 0, "ipc:///run/routerd/dpi-classifier/default.ipc", ipc,
      "NNG REP endpoint (protobuf envelopes, JSON for nngcat)"),
    K("ndpiAgentSocket", RDPI_CFG_STRING, 0, 0, "/run/routerd/ndpi-agent/default.sock",
      ndpi_agent_socket, "agent socket; its .ipc sibling is used for NNG"),
    K("ndpiReader", RDPI_CFG_STRING, 0, 0, "", ndpi_reader, "deprecated, echoed in status only"),
    K("logLevel", RDPI_CFG_STRING, 0, 0, "info", log_level, "emerg .. debug"),
    K("requestTimeout", RDPI_CFG_DURATION, 1000000, 60000000000, "200ms", timeout,
      "budget for one agent call"),
    K("flowTTL", RDPI_CFG_DURATION, 1000000000, 604800000000000, "1h", flow_ttl,
      "idle time before a flow's verdict is forgotten"),
    K("flowLimit", RDPI_CFG_INT, 1, 10000000, "100000", flow_limit,
      "flows in the verdict cache (LRU beyond)"),
    K("firstPayloadPackets", RDPI_CFG_INT, 1, 1000, "10", first_payload_packets,
      "payload packets per flow worth inspecting"),
    K("copyRange", RDPI_CFG_SIZE, 64, 65535, "2048", copy_range,
      "bytes of each packet considered (nftables snaplen)"),
    K("workers", RDPI_CFG_INT, 1, 64, "4", workers, "request worker threads"),
    K("dnsCacheLimit", RDPI_CFG_INT, 16, 10000000, "65536", dns_cache_limit,
      "entries in the dns-cache"),
    K("sniCacheLimit", RDPI_CFG_INT, 16, 10000000, "65536", sni_cache_limit,
      "entries in the sni-cache"),
};
#undef K
static const struct rdpi_cfg_section section = {"classifier", keys, sizeof(keys) / sizeof(keys[0])};

static const struct rdpi_flag flags[] = {
    {"config", NULL, false, "libconfig file (default " DEFAULT_CONFIG " when present)"},
    {"check-config", NULL, true, "validate the configuration and exit"},
    {"print-config", NULL, true, "print the effective configuration (libconfig) and exit"},
    {"socket", "socket", false, "HTTP+JSON Unix socket"},
    {"ipc", "ipc", false, "NNG endpoint"},
    {"name", "name", false, "instance name"},
    {"engine", "engine", false, "builtin | ndpi-agent | auto"},
    {"ndpi-agent-socket", "ndpiAgentSocket", false, "routerd-ndpi-agent socket"},
    {"ndpi-reader", "ndpiReader", false, "deprecated, ignored for classification"},
    {"timeout", "requestTimeout", false, "agent call budget (200ms)"},
    {"flow-ttl", "flowTTL", false, "verdict cache idle TTL (1h)"},
    {"flow-limit", "flowLimit", false, "verdict cache size (100000)"},
    {"first-payload-packets", "firstPayloadPackets", false, "payload packets per flow (10)"},
    {"copy-range", "copyRange", false, "bytes per packet considered (2048)"},
    {"log-level", "logLevel", false, "emerg .. debug (info)"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

struct opts {
	struct ccfg cfg;
	struct rdpi_cfg_flags cf;
};

static int on_flag(void *arg, const struct rdpi_flag *f, const char *value, char *err,
		   size_t errlen)
{
	struct opts *o = arg;
	return rdpi_cfg_flags_take(&o->cf, &section, &o->cfg, f, value, err, errlen);
}

/* defaults <- file <- flags, all validated; cfg written only on success */
static int load_config(struct opts *o, struct ccfg *cfg, char *err, size_t errlen)
{
	struct ccfg tmp = {0};
	int rv = rdpi_cfg_flags_load(&o->cf, &section, &tmp, err, errlen);
	enum engine_kind k;
	if (rv == 0 && engine_kind_parse(tmp.engine, &k) < 0) {
		snprintf(err, errlen, "unsupported engine \"%s\"", tmp.engine);
		rv = -EINVAL;
	}
	if (rv < 0) {
		rdpi_cfg_free(&section, &tmp);
		return rv;
	}
	*cfg = tmp;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: routerd-dpi-classifier [daemon|classify|selftest|help] [flags]\n"
		"  daemon    serve Classify/ClassifyBatch/Status/Healthz on --ipc and the /v1/ "
		"JSON shim on --socket (default)\n"
		"  classify  read one JSON ClassifyRequest on stdin, print the result\n"
		"  selftest  classify a synthetic TLS ClientHello and print the result\n"
		"flags:\n");
	rdpi_flags_usage(out, flags, NFLAGS);
}

/* The running configuration, shown under "config" in Status; swapped by SIGHUP. */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct ccfg *status_cfg;
static rdpi_method_fn server_status_fn;

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	enum rdpi_status rv = server_status_fn(arg, call, req, reply);
	Routerd__Dpi__V1__ClassifierStatus *st = (void *)reply;
	if (rv != RDPI_STATUS_OK || !status_cfg)
		return rv;
	st->config = rdpi_call_alloc(call, section.nkeys * sizeof(*st->config));
	if (!st->config)
		return RDPI_STATUS_INTERNAL;
	pthread_mutex_lock(&cfg_lock);
	for (size_t i = 0; i < section.nkeys; i++) {
		char buf[512];
		Routerd__Dpi__V1__ClassifierStatus__ConfigEntry *e =
		    rdpi_call_alloc(call, sizeof(*e));
		if (!e)
			break;
		routerd__dpi__v1__classifier_status__config_entry__init(e);
		e->key = (char *)section.keys[i].name;
		e->value = rdpi_call_strdup(
		    call, rdpi_cfg_format(&section.keys[i], status_cfg, buf, sizeof(buf)));
		st->config[st->n_config++] = e;
	}
	pthread_mutex_unlock(&cfg_lock);
	return RDPI_STATUS_OK;
}

/* The server's handlers with Status wrapped to add the configuration. */
static const rdpi_method_fn *status_handlers(void)
{
	static rdpi_method_fn h[8];
	const ProtobufCServiceDescriptor *d = &routerd__dpi__v1__classifier__descriptor;
	const rdpi_method_fn *orig = server_handlers();
	for (unsigned i = 0; i < d->n_methods && i < 8; i++) {
		h[i] = orig[i];
		if (strcmp(d->methods[i].name, "Status") == 0) {
			server_status_fn = orig[i];
			h[i] = h_status;
		}
	}
	return h;
}

struct stack {
	struct engine *engine;
	struct agentlink *agent;
	struct server *server;
	struct rdpi_service *svc;
};

static int stack_start(const struct ccfg *c, struct stack *s, char *err, size_t errlen)
{
	enum engine_kind kind = ENGINE_BUILTIN;
	engine_kind_parse(c->engine, &kind);
	int rv = 0;
	if (kind != ENGINE_BUILTIN) {
		struct agentlink_opts ao = {.endpoint = c->ndpi_agent_socket};
		if ((rv = agentlink_new(&ao, &s->agent)) < 0) {
			snprintf(err, errlen, "cannot set up the agent link to %s: %s",
				 c->ndpi_agent_socket, strerror(-rv));
			return rv;
		}
	}
	struct engine_opts eo = {
	    .kind = kind,
	    .first_payload_packets = (unsigned)c->first_payload_packets,
	    .copy_range = (uint32_t)c->copy_range,
	    .flow_ttl_ns = (uint64_t)c->flow_ttl,
	    .flow_limit = (size_t)c->flow_limit,
	    .agent = s->agent,
	    .hostcache = {.dns_limit = (size_t)c->dns_cache_limit,
			  .sni_limit = (size_t)c->sni_cache_limit},
	};
	if ((rv = engine_new(&eo, &s->engine)) < 0) {
		snprintf(err, errlen, "cannot create the engine: %s", strerror(-rv));
		return rv;
	}
	struct server_info si = {.name = c->name,
				 .kind = kind,
				 .agent_socket = c->ndpi_agent_socket,
				 .ndpi_reader = c->ndpi_reader,
				 .timeout_ms = (uint32_t)(c->timeout / 1000000)};
	if ((rv = server_new(&si, s->engine, s->agent, &s->server)) < 0) {
		snprintf(err, errlen, "out of memory");
		return rv;
	}
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = status_handlers(),
				       .arg = s->server,
				       .workers = (unsigned)c->workers,
				       /* the builtin engine never blocks: run it on the
					* transport's thread (no hand-off to a worker) */
				       .run_inline = kind == ENGINE_BUILTIN,
				       .default_timeout_ms = 5000,
				       .json_opts = rdpi_wire_json_opts()};
	if ((rv = rdpi_service_new(&so, &s->svc)) < 0) {
		snprintf(err, errlen, "cannot start workers: %s", strerror(-rv));
		return rv;
	}
	return 0;
}

static void stack_stop(struct stack *s)
{
	rdpi_service_free(s->svc);
	server_free(s->server);
	engine_free(s->engine);
	agentlink_free(s->agent);
	memset(s, 0, sizeof(*s));
}

static void local_done(void *arg, struct rdpi_call *call)
{
	sem_post(arg);
}

/* Run one call in-process and print its JSON reply. */
static int run_local(struct rdpi_service *svc, const char *method, const char *json)
{
	struct rdpi_call *call = NULL;
	if (rdpi_call_new(svc, method, &call) < 0)
		return 1;
	if (rdpi_call_decode_json(call, json, strlen(json)) < 0) {
		fprintf(stderr, "routerd-dpi-classifier: %s\n", rdpi_call_error(call));
		rdpi_call_free(call);
		return 1;
	}
	sem_t done;
	sem_init(&done, 0, 0);
	rdpi_call_start(call, 10000, local_done, &done);
	while (sem_wait(&done) < 0 && errno == EINTR)
		;
	sem_destroy(&done);
	int rc = 1;
	const ProtobufCMessage *reply = rdpi_call_reply(call);
	if (reply) {
		char *text = NULL;
		if (rdpi_pbjson_dumps(reply, rdpi_wire_json_opts(), &text) == 0) {
			printf("%s\n", text);
			free(text);
			rc = 0;
		}
	} else {
		fprintf(stderr, "routerd-dpi-classifier: %s: %s\n",
			rdpi_status_name(rdpi_call_status(call)), rdpi_call_error(call));
	}
	rdpi_call_free(call);
	return rc;
}

static char *read_all(FILE *f)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static int cmd_classify(struct stack *s)
{
	char *in = read_all(stdin);
	if (!in)
		return 1;
	int rc = run_local(s->svc, "Classify", in);
	free(in);
	return rc;
}

static int cmd_selftest(struct stack *s)
{
	uint8_t hello[1024], pkt[1500];
	size_t hl = rdpi_synth_client_hello("routerd-dpi-selftest.example", "h2,http/1.1", hello,
					    sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("192.0.2.10", 53168, "198.51.100.10", 443, 1000, hello,
					  hl, pkt, sizeof(pkt));
	/* the request carries the whole IP packet, as the logger sends it */
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	r.packet.data = pkt;
	r.packet.len = pl;
	char *json = NULL;
	if (!hl || !pl || rdpi_pbjson_dumps(&r.base, NULL, &json) < 0)
		return 1;
	int rc = run_local(s->svc, "Classify", json);
	free(json);
	return rc;
}

static struct {
	struct opts *o;
	struct ccfg *live;
	struct stack *s;
} reload_ctx;

/* Keys SIGHUP applies to the running daemon; the others need a restart. */
static const char *const live_keys[] = {"requestTimeout", "firstPayloadPackets", "copyRange",
					"logLevel", NULL};

static int on_reload(void *arg)
{
	char err[512];
	struct ccfg fresh;
	if (load_config(reload_ctx.o, &fresh, err, sizeof(err)) < 0) {
		rdpi_log(LOG_ERR, TAG, "reload failed, keeping the running configuration: %s", err);
		return -EINVAL;
	}
	server_set_timeout(reload_ctx.s->server, (uint32_t)(fresh.timeout / 1000000));
	engine_set_policy(reload_ctx.s->engine, (unsigned)fresh.first_payload_packets,
			  (uint32_t)fresh.copy_range);
	int lvl;
	if (rdpi_log_level_parse(fresh.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);
	char live[512] = "", restart[512] = "";
	rdpi_cfg_changes(&section, reload_ctx.live, &fresh, live_keys, NULL, live, sizeof(live),
			 restart, sizeof(restart));
	rdpi_cfg_log_reload(TAG, reload_ctx.o->cf.config_path, live, restart);
	/* keys that need a restart keep their running values, so status tells the truth */
	struct ccfg *cur = reload_ctx.live;
	pthread_mutex_lock(&cfg_lock);
	cur->timeout = fresh.timeout;
	cur->first_payload_packets = fresh.first_payload_packets;
	cur->copy_range = fresh.copy_range;
	char *tmp = cur->log_level;
	cur->log_level = fresh.log_level;
	fresh.log_level = tmp;
	pthread_mutex_unlock(&cfg_lock);
	rdpi_cfg_free(&section, &fresh);
	return 0;
}

static void on_tick(void *arg)
{
	struct stack *s = arg;
	engine_expire(s->engine, rdpi_monotonic_ns());
}

static int cmd_daemon(struct opts *o, struct stack *s)
{
	static const struct rdpi_httpshim_route routes[] = {
	    {"GET", "/v1/healthz", "Healthz", RDPI_HTTPSHIM_NOT_OK_503},
	    {"GET", "/v1/status", "Status", 0},
	    {"POST", "/v1/classify", "Classify", 0},
	    {"POST", "/v1/classify-batch", "ClassifyBatch", 0},
	};
	struct rdpi_rpc_server *rpc = NULL;
	struct rdpi_httpshim *shim = NULL;
	struct rdpi_counters *reg = NULL;
	int rv = 0;
	const struct ccfg *c = &o->cfg;
	rdpi_daemon_mkdir_for(c->ipc);
	rdpi_daemon_mkdir_for(c->socket);
	if ((rv = rdpi_counters_new("routerd_dpi_classifier_", &reg)) < 0)
		goto out;
	server_register_metrics(s->server, reg);
	struct rdpi_rpc_server_opts ro = {.url = c->ipc, .svc = s->svc};
	if ((rv = rdpi_rpc_server_start(&ro, &rpc)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot listen on %s: %s", c->ipc, strerror(-rv));
		goto out;
	}
	struct rdpi_httpshim_opts ho = {.unix_path = c->socket,
					.svc = s->svc,
					.routes = routes,
					.nroutes = sizeof(routes) / sizeof(routes[0]),
					.metrics = reg};
	if ((rv = rdpi_httpshim_start(&ho, &shim)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot serve %s: %s%s", c->socket, strerror(-rv),
			 rv == -EEXIST ? " (a file that is not a socket is in the way)" : "");
		goto out;
	}
	rdpi_log(LOG_NOTICE, TAG, "serving %s and %s, engine %s", c->ipc, c->socket, c->engine);
	reload_ctx.o = o;
	reload_ctx.live = &o->cfg;
	reload_ctx.s = s;
	struct rdpi_daemon_ops ops = {
	    .reload_fn = on_reload, .tick_fn = on_tick, .tick_ms = 1000, .arg = s};
	rv = rdpi_daemon_run(&ops);
	rdpi_log(LOG_NOTICE, TAG, "stopping");
out:
	rdpi_httpshim_stop(shim);
	rdpi_rpc_server_stop(rpc);
	rdpi_counters_free(reg);
	return rv < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = {"daemon", "classify", "selftest", NULL};
	const char *cmd;
	int first;
	int ex = rdpi_flags_command(argc, argv, "routerd-dpi-classifier", cmds, usage, &cmd, &first);
	if (ex >= 0)
		return ex;
	rdpi_daemon_block_signals();
	rdpi_log_init("routerd-dpi-classifier", RDPI_LOG_STDERR, LOG_INFO);

	struct opts o = {.cf.config_path = DEFAULT_CONFIG};
	char err[512];
	int next = 0;
	if (rdpi_cfg_defaults(&section, &o.cfg, err, sizeof(err)) < 0 ||
	    rdpi_flags_parse(argc - first, argv + first, flags, NFLAGS, on_flag, &o, &next, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "routerd-dpi-classifier: %s\n", err);
		rdpi_cfg_free(&section, &o.cfg);
		return 1;
	}
	rdpi_cfg_free(&section, &o.cfg);
	if (load_config(&o, &o.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "routerd-dpi-classifier: %s\n", err);
		return 1;
	}
	if (o.cf.print_config) {
		rdpi_cfg_dump(&section, &o.cfg, stdout);
		rdpi_cfg_free(&section, &o.cfg);
		return 0;
	}
	if (o.cf.check_config) {
		printf("configuration OK\n");
		rdpi_cfg_free(&section, &o.cfg);
		return 0;
	}
	status_cfg = &o.cfg;
	int lvl;
	if (rdpi_log_level_parse(o.cfg.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);

	struct stack s = {0};
	int rc;
	if (stack_start(&o.cfg, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "routerd-dpi-classifier: %s\n", err);
		rc = 1;
	} else if (strcmp(cmd, "classify") == 0) {
		rc = cmd_classify(&s);
	} else if (strcmp(cmd, "selftest") == 0) {
		rc = cmd_selftest(&s);
	} else {
		rc = cmd_daemon(&o, &s);
	}
	stack_stop(&s);
	rdpi_cfg_free(&section, &o.cfg);
	rdpi_rpc_fini();
	return rc;
}
