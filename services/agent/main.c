/* routerd-ndpi-agent: argv and config, then wiring of the agent service to
 * the NNG endpoint and the HTTP+JSON shim, and the signal loop. Subcommands:
 * daemon (default), selftest, help. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agentcfg.h"
#include "common/cfg.h"
#include "common/counters.h"
#include "common/daemon.h"
#include "common/flags.h"
#include "common/httpshim.h"
#include "common/log.h"
#include "common/pbjson.h"
#include "common/rpc.h"
#include "common/service.h"
#include "common/wire.h"
#include "selftest.h"

#define PROG	      "routerd-ndpi-agent"
#define MAX_OVERRIDES 32

struct cli {
	const char *config_path;
	bool config_given;
	bool check_config;
	bool print_config;
	size_t n;
	const char *keys[MAX_OVERRIDES];
	const char *values[MAX_OVERRIDES];
};

static struct cli cli;
static struct agentcfg cfg;
static struct agent *agent;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [daemon|selftest|help] [options]\n\n"
		"Runs the optional nDPI analysis service for routerd. This process owns DPI flow\n"
		"state and answers routerd-dpi-classifier over NNG (protobuf) and over the legacy\n"
		"HTTP+JSON API on a Unix socket. Built without libndpi it keeps the same API and\n"
		"reports libndpiLoaded:false; /v1/healthz then answers 503.\n\n"
		"options:\n");
	rdpi_flags_usage(out, agentcfg_flags, agentcfg_nflags);
}

static int on_flag(void *arg, const struct rdpi_flag *f, const char *value, char *err,
		   size_t errlen)
{
	struct cli *c = arg;
	if (strcmp(f->name, "config") == 0) {
		c->config_path = value;
		c->config_given = true;
		return 0;
	}
	if (strcmp(f->name, "check-config") == 0) {
		c->check_config = strcmp(value, "false") != 0 && strcmp(value, "0") != 0;
		return 0;
	}
	if (strcmp(f->name, "print-config") == 0) {
		c->print_config = strcmp(value, "false") != 0 && strcmp(value, "0") != 0;
		return 0;
	}
	int rc = agentcfg_check_flag(f->name, value, err, errlen);
	if (rc < 0)
		return rc;
	if (c->n == MAX_OVERRIDES) {
		snprintf(err, errlen, "too many flags");
		return -E2BIG;
	}
	c->keys[c->n] = f->cfg_key;
	c->values[c->n] = value;
	c->n++;
	return 0;
}

/* Defaults, file (when present or named), flag overrides, fix-ups. */
static int load_config(const struct cli *c, struct agentcfg *out, char *err, size_t errlen)
{
	struct agentcfg tmp = {0};
	int rc;
	if (c->config_given || access(c->config_path, F_OK) == 0)
		rc = rdpi_cfg_load_file(c->config_path, &agentcfg_section, rdpi_cfg_sections,
					&tmp, err, errlen);
	else
		rc = rdpi_cfg_defaults(&agentcfg_section, &tmp, err, errlen);
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		rc = rdpi_cfg_set(&agentcfg_section, &tmp, c->keys[i], c->values[i], err, errlen);
	if (rc < 0) {
		rdpi_cfg_free(&agentcfg_section, &tmp);
		return rc;
	}
	agentcfg_normalize(&tmp);
	rdpi_cfg_free(&agentcfg_section, out);
	*out = tmp;
	return 0;
}

/* SIGHUP replaces cfg under this lock; Status reads it for "config". */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
/* Keys SIGHUP applies to the running agent; the others need a restart. */
static const char *const live_keys[] = {"name",
					"flowTTL",
					"flowLimit",
					"firstPayloadPackets",
					"tcpPayloadPackets",
					"udpPayloadPackets",
					"verdictMetadataBytes",
					"logLevel",
					NULL};

static void swap_str(char **a, char **b)
{
	char *t = *a;
	*a = *b;
	*b = t;
}

static int reload(void *arg)
{
	char err[512];
	struct agentcfg next = {0};
	int rc = load_config(&cli, &next, err, sizeof(err));
	if (rc < 0) {
		rdpi_log(LOG_ERR, "config", "reload failed, keeping the running configuration: %s",
			 err);
		return rc;
	}
	char live[512] = "", restart[512] = "";
	rdpi_cfg_changes(&agentcfg_section, &cfg, &next, live_keys, NULL, live, sizeof(live),
			 restart, sizeof(restart));
	/* keys that need a restart keep their running values, so status tells the truth */
	swap_str(&next.socket, &cfg.socket);
	swap_str(&next.ipc, &cfg.ipc);
	next.timeout_ns = cfg.timeout_ns;
	next.workers = cfg.workers;
	rc = agent_configure(agent, &next);
	if (rc < 0) {
		rdpi_log(LOG_ERR, "config", "reload failed: %s", strerror(-rc));
		swap_str(&next.socket, &cfg.socket);
		swap_str(&next.ipc, &cfg.ipc);
		rdpi_cfg_free(&agentcfg_section, &next);
		return rc;
	}
	int level;
	if (rdpi_log_level_parse(next.log_level, &level) == 0)
		rdpi_log_set_level(level);
	pthread_mutex_lock(&cfg_lock);
	struct agentcfg old = cfg;
	cfg = next;
	pthread_mutex_unlock(&cfg_lock);
	rdpi_cfg_free(&agentcfg_section, &old);
	rdpi_cfg_log_reload("config", cli.config_path, live, restart);
	return 0;
}

static rdpi_method_fn agent_status_fn;

/* Status plus "config": the running agent section, as in dpi.conf. */
static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	enum rdpi_status rv = agent_status_fn(arg, call, req, reply);
	Routerd__Dpi__V1__AgentStatus *st = (void *)reply;
	if (rv != RDPI_STATUS_OK)
		return rv;
	const struct rdpi_cfg_section *sec = &agentcfg_section;
	st->config = rdpi_call_alloc(call, sec->nkeys * sizeof(*st->config));
	if (!st->config)
		return RDPI_STATUS_INTERNAL;
	pthread_mutex_lock(&cfg_lock);
	for (size_t i = 0; i < sec->nkeys; i++) {
		char buf[512];
		Routerd__Dpi__V1__AgentStatus__ConfigEntry *e = rdpi_call_alloc(call, sizeof(*e));
		if (!e)
			break;
		routerd__dpi__v1__agent_status__config_entry__init(e);
		e->key = (char *)sec->keys[i].name;
		e->value =
		    rdpi_call_strdup(call, rdpi_cfg_format(&sec->keys[i], &cfg, buf, sizeof(buf)));
		st->config[st->n_config++] = e;
	}
	pthread_mutex_unlock(&cfg_lock);
	return RDPI_STATUS_OK;
}

/* The agent's handlers with Status wrapped. */
static void wrap_status(struct rdpi_service_opts *so)
{
	static rdpi_method_fn h[8];
	for (unsigned i = 0; i < so->desc->n_methods && i < 8; i++) {
		h[i] = so->handlers[i];
		if (strcmp(so->desc->methods[i].name, "Status") == 0) {
			agent_status_fn = so->handlers[i];
			h[i] = h_status;
		}
	}
	so->handlers = h;
}

static void tick(void *arg)
{
	agent_tick(agent);
}

static const struct rdpi_httpshim_route routes[] = {
    {"GET", "/v1/healthz", "Healthz", RDPI_HTTPSHIM_NOT_OK_503},
    {"GET", "/v1/status", "Status", 0},
    {"POST", "/v1/observe-packet", "ObservePacket", 0},
    {"POST", "/v1/observe-batch", "ObserveBatch", 0},
    {"POST", "/v1/reset-flow", "ResetFlow", 0},
};

static int run_daemon(void)
{
	struct rdpi_service *svc = NULL;
	struct rdpi_counters *reg = NULL;
	struct rdpi_httpshim *shim = NULL;
	struct rdpi_rpc_server *srv = NULL;
	int rc, level = LOG_INFO;

	if (!cfg.socket || !*cfg.socket) {
		fprintf(stderr, "--socket is required\n");
		return 1;
	}
	rdpi_log_level_parse(cfg.log_level, &level);
	rdpi_log_init(PROG, RDPI_LOG_STDERR, level);
	if ((rc = rdpi_daemon_block_signals()) < 0) {
		fprintf(stderr, "signals: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = agent_new(&cfg, &agent)) < 0) {
		fprintf(stderr, "agent: %s\n", strerror(-rc));
		return 1;
	}
	if (!agent_backend_ok(agent))
		rdpi_log(LOG_WARNING, "ndpi", "running without libndpi: every answer is unknown");
	struct rdpi_service_opts so;
	agent_service_opts(agent, &so);
	wrap_status(&so);
	if ((rc = rdpi_service_new(&so, &svc)) < 0 ||
	    (rc = rdpi_counters_new("routerd_dpi_agent_", &reg)) < 0 ||
	    (rc = agent_register_metrics(agent, reg)) < 0) {
		fprintf(stderr, "service: %s\n", strerror(-rc));
		goto out;
	}
	if ((rc = rdpi_daemon_mkdir_for(cfg.socket)) < 0) {
		fprintf(stderr, "mkdir for %s: %s\n", cfg.socket, strerror(-rc));
		goto out;
	}
	struct rdpi_httpshim_opts ho = {
	    .unix_path = cfg.socket,
	    .svc = svc,
	    .routes = routes,
	    .nroutes = sizeof(routes) / sizeof(routes[0]),
	    .metrics = reg,
	};
	rc = rdpi_httpshim_start(&ho, &shim);
	if (rc == -EEXIST) {
		fprintf(stderr, "refusing to remove non-socket path %s\n", cfg.socket);
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "listen %s: %s\n", cfg.socket, strerror(-rc));
		goto out;
	}
	if (cfg.ipc && *cfg.ipc) {
		if ((rc = rdpi_daemon_mkdir_for(cfg.ipc)) < 0 ||
		    (rc = rdpi_rpc_server_start(
			 &(struct rdpi_rpc_server_opts){.url = cfg.ipc, .svc = svc}, &srv)) < 0) {
			fprintf(stderr, "listen %s: %s\n", cfg.ipc, strerror(-rc));
			goto out;
		}
	}
	printf(PROG " listening on %s\n", cfg.socket);
	fflush(stdout);
	rdpi_log(LOG_INFO, "daemon", "listening on %s and %s (libndpi %s)", cfg.socket,
		 cfg.ipc && *cfg.ipc ? cfg.ipc : "-",
		 agent_backend_ok(agent) ? "loaded" : "not loaded");
	struct rdpi_daemon_ops ops = {.reload_fn = reload, .tick_fn = tick, .tick_ms = 1000};
	rc = rdpi_daemon_run(&ops);
	rdpi_log(LOG_INFO, "daemon", "stopping");
out:
	rdpi_rpc_server_stop(srv);
	rdpi_httpshim_stop(shim);
	rdpi_service_free(svc);
	rdpi_counters_free(reg);
	agent_free(agent);
	agent = NULL;
	return rc < 0 ? 1 : 0;
}

/* Selftest memory: every block freed at the end. */
struct arena {
	void **blocks;
	size_t n, cap;
};

static void *arena_alloc(void *arg, size_t size)
{
	struct arena *a = arg;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void **b = realloc(a->blocks, cap * sizeof(*b));
		if (!b)
			return NULL;
		a->blocks = b;
		a->cap = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (p)
		a->blocks[a->n++] = p;
	return p;
}

static void arena_fini(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

static int run_selftest(void)
{
	struct arena ar = {0};
	json_t *js = NULL, *jr = NULL;
	char *text = NULL;
	int rc = agent_new(&cfg, &agent);
	if (rc < 0) {
		fprintf(stderr, "agent: %s\n", strerror(-rc));
		return 1;
	}
	Routerd__Dpi__V1__AgentStatus st = ROUTERD__DPI__V1__AGENT_STATUS__INIT;
	Routerd__Dpi__V1__ClassifyResult res = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	Routerd__Dpi__V1__ClassifyRequest rq = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	uint8_t pkt[1024];
	rq.packet.len = selftest_packet(SELFTEST_SNI, pkt, sizeof(pkt));
	rq.packet.data = pkt;
	if ((rc = agent_status(agent, arena_alloc, &ar, &st)) < 0 ||
	    (rc = agent_observe(agent, &rq, arena_alloc, &ar, &res)) < 0 ||
	    (rc = rdpi_pbjson_to_json(&st.base, rdpi_wire_json_opts(), &js)) < 0 ||
	    (rc = rdpi_pbjson_to_json(&res.base, rdpi_wire_json_opts(), &jr)) < 0)
		goto out;
	json_object_set_new(js, "selftest", jr);
	jr = NULL;
	text = json_dumps(js, JSON_COMPACT);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	printf("%s\n", text);
out:
	if (rc < 0)
		fprintf(stderr, "selftest: %s\n", strerror(-rc));
	free(text);
	json_decref(js);
	json_decref(jr);
	arena_fini(&ar);
	agent_free(agent);
	agent = NULL;
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { CMD_DAEMON, CMD_SELFTEST } cmd = CMD_DAEMON;
	int first = 1;
	if (argc > 1) {
		const char *a = argv[1];
		if (strcmp(a, "help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
		    strcmp(a, "-help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "daemon") == 0)
			first = 2;
		else if (strcmp(a, "selftest") == 0) {
			cmd = CMD_SELFTEST;
			first = 2;
		}
	}
	char err[512] = "";
	int next;
	cli.config_path = AGENTCFG_DEFAULT_CONFIG;
	if (rdpi_flags_parse(argc - first, argv + first, agentcfg_flags, agentcfg_nflags, on_flag,
			     &cli, &next, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (next < argc - first) {
		fprintf(stderr, "unexpected argument: %s\n", argv[first + next]);
		return 1;
	}
	if (load_config(&cli, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rc;
	if (cli.print_config) {
		rc = rdpi_cfg_dump(&agentcfg_section, &cfg, stdout) < 0 ? 1 : 0;
	} else if (cli.check_config) {
		printf("%s: ok\n", cli.config_given || access(cli.config_path, F_OK) == 0
				       ? cli.config_path
				       : "defaults");
		rc = 0;
	} else if (cmd == CMD_SELFTEST)
		rc = run_selftest();
	else
		rc = run_daemon();
	rdpi_cfg_free(&agentcfg_section, &cfg);
	rdpi_rpc_fini();
	return rc;
}
