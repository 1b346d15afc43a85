/* Agent settings table, flags and legacy fix-ups (see agentcfg.h). */
#include "agentcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/flags.h"
#include "common/flowtab.h"

#define NS_PER_S 1000000000ll

static const char *const log_levels[] = {"debug", "info", "notice", "warning", "err", NULL};

static const struct rdpi_cfg_key keys[] = {
    {"name", RDPI_CFG_STRING, 0, 0, "default", offsetof(struct agentcfg, name), NULL,
     "agent instance name"},
    {"socket", RDPI_CFG_STRING, 0, 0, AGENTCFG_DEFAULT_SOCKET, offsetof(struct agentcfg, socket),
     NULL, "HTTP+JSON Unix socket (legacy /v1 API)"},
    {"ipc", RDPI_CFG_STRING, 0, 0, AGENTCFG_DEFAULT_IPC, offsetof(struct agentcfg, ipc), NULL,
     "NNG REP endpoint (protobuf envelopes)"},
    {"timeout", RDPI_CFG_DURATION, 1000000ll, 60 * NS_PER_S, "200ms",
     offsetof(struct agentcfg, timeout_ns), NULL, "per-request processing budget"},
    {"flowTTL", RDPI_CFG_DURATION, 0, 0, "1h", offsetof(struct agentcfg, flow_ttl_ns), NULL,
     "idle time after which a flow is forgotten (<= 0 means 1h)"},
    {"flowLimit", RDPI_CFG_INT, 0, RDPI_FLOWTAB_MAX_LIMIT, "100000",
     offsetof(struct agentcfg, flow_limit), NULL, "flows kept (0 means 100000)"},
    {"firstPayloadPackets", RDPI_CFG_INT, 0, 255, "10",
     offsetof(struct agentcfg, first_payload_packets), NULL,
     "payload-bearing packets inspected per flow (0 means 10)"},
    {"tcpPayloadPackets", RDPI_CFG_INT, 0, 255, "0", offsetof(struct agentcfg, tcp_payload_packets),
     NULL, "TCP budget override (0 = firstPayloadPackets)"},
    {"udpPayloadPackets", RDPI_CFG_INT, 0, 255, "0", offsetof(struct agentcfg, udp_payload_packets),
     NULL, "UDP/other budget override (0 = firstPayloadPackets)"},
    {"workers", RDPI_CFG_INT, 1, 64, "2", offsetof(struct agentcfg, workers), NULL,
     "RPC worker threads (nDPI calls are serialised)"},
    {"verdictMetadataBytes", RDPI_CFG_SIZE, 0, 4096, "96",
     offsetof(struct agentcfg, verdict_meta_bytes), NULL,
     "metadata bytes kept per final flow besides the host name"},
    {"logLevel", RDPI_CFG_ENUM, 0, 0, "info", offsetof(struct agentcfg, log_level), log_levels,
     "syslog level"},
};

const struct rdpi_cfg_section agentcfg_section = {
    .name = "agent",
    .keys = keys,
    .nkeys = sizeof(keys) / sizeof(keys[0]),
};

static const struct rdpi_flag flags[] = {
    {"socket", "socket", false, "Unix socket path (" AGENTCFG_DEFAULT_SOCKET ")"},
    {"ipc", "ipc", false, "NNG endpoint (" AGENTCFG_DEFAULT_IPC ")"},
    {"name", "name", false, "agent instance name (default)"},
    {"timeout", "timeout", false, "per-request processing budget (200ms)"},
    {"flow-ttl", "flowTTL", false, "DPI flow state retention (1h)"},
    {"flow-limit", "flowLimit", false, "maximum retained DPI flow states (100000)"},
    {"first-payload-packets", "firstPayloadPackets", false,
     "maximum payload-bearing packets inspected per flow (10)"},
    {"log-level", "logLevel", false, "debug|info|notice|warning|err (info)"},
    {"config", NULL, false, "configuration file (" AGENTCFG_DEFAULT_CONFIG ")"},
    {"check-config", NULL, true, "validate the configuration and exit"},
    {"print-config", NULL, true, "print the effective configuration (libconfig) and exit"},
};
const struct rdpi_flag *const agentcfg_flags = flags;
const size_t agentcfg_nflags = sizeof(flags) / sizeof(flags[0]);

void agentcfg_normalize(struct agentcfg *c)
{
	if (c->flow_ttl_ns <= 0)
		c->flow_ttl_ns = 3600 * NS_PER_S;
	if (c->flow_limit <= 0)
		c->flow_limit = 100000;
	if (c->first_payload_packets <= 0)
		c->first_payload_packets = 10;
}

int agentcfg_check_flag(const char *flag, const char *value, char *err, size_t errlen)
{
	if (strcmp(flag, "flow-limit") != 0 && strcmp(flag, "first-payload-packets") != 0)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno == 0 && *value && !*end && v < 0) {
		snprintf(err, errlen, "--%s must be non-negative", flag);
		return -EINVAL;
	}
	return 0;
}
