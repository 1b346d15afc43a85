/* routerd-dpi-console: argv and config (section console), the HTTP listener (TCP or Unix
 * socket), the signal loop; subcommands daemon, help. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/counters.h"
#include "common/daemon.h"
#include "common/flags.h"
#include "common/httpshim.h"
#include "common/log.h"
#include "console.h"

#define PROG	       "routerd-dpi-console"
#define TAG	       "console"
#define DEFAULT_CONFIG "/etc/routerd/dpi.conf"

struct ccfg {
	char *listen;
	char *firewall_db;
	char *traffic_db;
	char *classifier_socket;
	char *agent_socket;
	char *logger_socket;
	int64_t health_interval;
	int64_t probe_timeout;
	int64_t max_limit;
	int64_t cache_ttl;
	int64_t cache_max_age;
	char *log_level;
};

#define K(n, t, lo, hi, d, f, h)                                                                   \
	{                                                                                          \
		n, t, lo, hi, d, offsetof(struct ccfg, f), NULL, h                                 \
	}
static const struct rdpi_cfg_key keys[] = {
    K("listen", RDPI_CFG_STRING, 0, 0, "127.0.0.1:9780", listen,
      "HTTP listen address host:port, or a Unix socket path starting with /"),
    K("firewallDb", RDPI_CFG_STRING, 0, 0, "/var/lib/routerd/firewall-logs.db", firewall_db,
      "firewall-logs.db, opened read-only"),
    K("trafficDb", RDPI_CFG_STRING, 0, 0, "/var/lib/routerd/traffic-flows.db", traffic_db,
      "traffic-flows.db, opened read-only"),
    K("classifierSocket", RDPI_CFG_STRING, 0, 0, "/run/routerd/dpi-classifier/default.sock",
      classifier_socket, "classifier HTTP socket probed for /v1/status (empty: not probed)"),
    K("agentSocket", RDPI_CFG_STRING, 0, 0, "/run/routerd/ndpi-agent/default.sock", agent_socket,
      "nDPI agent HTTP socket probed for /v1/status (empty: not probed)"),
    K("loggerSocket", RDPI_CFG_STRING, 0, 0, "/run/routerd/firewall-logger/default.sock",
      logger_socket, "firewall logger HTTP socket probed for /v1/status and NFLOG counters"),
    K("healthInterval", RDPI_CFG_DURATION, 100000000, 3600000000000, "5s", health_interval,
      "time between DPI health probes (applied on reload)"),
    K("probeTimeout", RDPI_CFG_DURATION, 1000000, 10000000000, "250ms", probe_timeout,
      "deadline of one probe (connect + request + answer)"),
    K("maxLimit", RDPI_CFG_INT, 1, 100000, "1000", max_limit,
      "largest page (limit=) of traffic-flows and firewall-logs; larger values are capped"),
    K("cacheTTL", RDPI_CFG_DURATION, 0, 3600000000000, "5s", cache_ttl,
      "result cache: answers this young are served even when the databases changed (0: off)"),
    K("cacheMaxAge", RDPI_CFG_DURATION, 1000000000, 86400000000000, "60s", cache_max_age,
      "result cache: oldest answer served while the databases are unchanged (window edges)"),
    K("logLevel", RDPI_CFG_STRING, 0, 0, "info", log_level, "emerg .. debug (applied on reload)"),
};
#undef K
static const struct rdpi_cfg_section section = {"console", keys, sizeof(keys) / sizeof(keys[0])};

static const struct rdpi_flag flags[] = {
    {"config", NULL, false, "libconfig file (default " DEFAULT_CONFIG " when present)"},
    {"check-config", NULL, true, "validate the configuration and exit"},
    {"print-config", NULL, true, "print the effective configuration (libconfig) and exit"},
    {"listen", "listen", false, "host:port (127.0.0.1:9780) or /path/to/unix.sock"},
    {"firewall-db", "firewallDb", false, "firewall-logs.db path (read-only)"},
    {"traffic-db", "trafficDb", false, "traffic-flows.db path (read-only)"},
    {"classifier-socket", "classifierSocket", false, "classifier HTTP socket (probe)"},
    {"agent-socket", "agentSocket", false, "nDPI agent HTTP socket (probe)"},
    {"logger-socket", "loggerSocket", false, "firewall logger HTTP socket (probe)"},
    {"health-interval", "healthInterval", false, "probe interval (5s)"},
    {"probe-timeout", "probeTimeout", false, "probe deadline (250ms)"},
    {"max-limit", "maxLimit", false, "page size cap (1000)"},
    {"cache-ttl", "cacheTTL", false, "result cache staleness bound, 0 disables (5s)"},
    {"cache-max-age", "cacheMaxAge", false, "result cache age bound when idle (60s)"},
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

/* File (a missing default file is fine, a missing explicit one an error), then the flags. */
static int load_config(struct opts *o, struct ccfg *cfg, char *err, size_t errlen)
{
	struct ccfg tmp = {0};
	int rv = rdpi_cfg_flags_load(&o->cf, &section, &tmp, err, errlen);
	if (rv == 0 && !tmp.listen[0]) {
		snprintf(err, errlen, "console.listen: must not be empty");
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
		"usage: " PROG " [daemon|help] [flags]\n"
		"  daemon  serve the read-only console (web page + /api/v1/...) over\n"
		"          firewall-logs.db and traffic-flows.db, probe the DPI daemons (default)\n"
		"flags:\n");
	rdpi_flags_usage(out, flags, NFLAGS);
}

/* ---- daemon ------------------------------------------------------------------------------ */

static struct {
	struct opts *o;
	struct console *c;
} reload_ctx;

static int on_reload(void *arg)
{
	char err[512];
	struct ccfg fresh;
	if (load_config(reload_ctx.o, &fresh, err, sizeof(err)) < 0) {
		rdpi_log(LOG_ERR, TAG, "reload failed, keeping the running configuration: %s", err);
		return -EINVAL;
	}
	int lvl;
	if (rdpi_log_level_parse(fresh.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);
	console_set_timing(reload_ctx.c, fresh.health_interval, fresh.probe_timeout);
	rdpi_log(LOG_NOTICE, TAG,
		 "configuration reloaded (logLevel, healthInterval, probeTimeout applied live; "
		 "other keys need a restart)");
	rdpi_cfg_free(&section, &fresh);
	return 0;
}

static int cmd_daemon(struct opts *o)
{
	const struct ccfg *c = &o->cfg;
	struct rdpi_counters *reg = NULL;
	struct console *con = NULL;
	struct rdpi_httpshim *shim = NULL;
	int rv;
	if ((rv = rdpi_counters_new("routerd_dpi_console_", &reg)) < 0 ||
	    (rv = rdpi_counters_register_process(reg)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot register counters: %s", strerror(-rv));
		goto out;
	}
	struct console_opts co = {
	    .firewall_db = c->firewall_db,
	    .traffic_db = c->traffic_db,
	    .classifier_socket = c->classifier_socket,
	    .agent_socket = c->agent_socket,
	    .logger_socket = c->logger_socket,
	    .health_interval_ns = c->health_interval,
	    .probe_timeout_ns = c->probe_timeout,
	    .max_limit = c->max_limit,
	    .cache_ttl_ns = c->cache_ttl,
	    .cache_max_age_ns = c->cache_max_age,
	};
	if ((rv = console_new(&co, reg, &con)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot start: %s", strerror(-rv));
		goto out;
	}
	bool unix_sock = c->listen[0] == '/';
	struct rdpi_httpshim_opts ho = {
	    .unix_path = unix_sock ? c->listen : NULL,
	    .tcp_listen = unix_sock ? NULL : c->listen,
	    .raw_fn = console_http,
	    .raw_arg = con,
	    .raw_allow = "GET, HEAD",
	    .max_body = 64 * 1024,
	};
	if (unix_sock)
		rdpi_daemon_mkdir_for(c->listen);
	if ((rv = rdpi_httpshim_start(&ho, &shim)) < 0) {
		rdpi_log(LOG_ERR, TAG, "cannot listen on %s: %s", c->listen, strerror(-rv));
		goto out;
	}
	uint16_t port = 0;
	if (!unix_sock && rdpi_httpshim_tcp_port(shim, &port) == 0)
		rdpi_log(LOG_NOTICE, TAG, "listening on %s (port %u), reading %s and %s", c->listen,
			 port, c->traffic_db, c->firewall_db);
	else
		rdpi_log(LOG_NOTICE, TAG, "listening on %s, reading %s and %s", c->listen,
			 c->traffic_db, c->firewall_db);
	reload_ctx.o = o;
	reload_ctx.c = con;
	struct rdpi_daemon_ops ops = {.reload_fn = on_reload};
	rv = rdpi_daemon_run(&ops);
	rdpi_log(LOG_NOTICE, TAG, "stopping");
out:
	rdpi_httpshim_stop(shim);
	console_free(con);
	rdpi_counters_free(reg);
	return rv < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = {"daemon", NULL};
	const char *cmd;
	int first;
	int ex = rdpi_flags_command(argc, argv, PROG, cmds, usage, &cmd, &first);
	if (ex >= 0)
		return ex;
	rdpi_daemon_block_signals();
	rdpi_log_init(PROG, RDPI_LOG_STDERR, LOG_INFO);

	struct opts o = {.cf.config_path = DEFAULT_CONFIG};
	char err[512];
	int next = 0;
	if (rdpi_cfg_defaults(&section, &o.cfg, err, sizeof(err)) < 0 ||
	    rdpi_flags_parse(argc - first, argv + first, flags, NFLAGS, on_flag, &o, &next, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		rdpi_cfg_free(&section, &o.cfg);
		return 1;
	}
	if (next < argc - first) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[first + next]);
		rdpi_cfg_free(&section, &o.cfg);
		return 1;
	}
	rdpi_cfg_free(&section, &o.cfg);
	if (load_config(&o, &o.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
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
	int lvl;
	if (rdpi_log_level_parse(o.cfg.log_level, &lvl) == 0)
		rdpi_log_set_level(lvl);
	int rc = cmd_daemon(&o);
	rdpi_cfg_free(&section, &o.cfg);
	return rc;
}
