/* The agent's settings: the `agent` section of /etc/routerd/dpi.conf declared
 * once as a table, command-line flag mapping, and the legacy fix-ups
 * (flowTTL <= 0 -> 1h, flowLimit 0 -> 100000, firstPayloadPackets 0 -> 10). */
#ifndef RDPI_AGENT_AGENTCFG_H
#define RDPI_AGENT_AGENTCFG_H

#include <stddef.h>
#include <stdint.h>

struct rdpi_cfg_section;
struct rdpi_flag;

#define AGENTCFG_DEFAULT_SOCKET "/run/routerd/ndpi-agent/default.sock"
#define AGENTCFG_DEFAULT_IPC	"ipc:///run/routerd/ndpi-agent/default.ipc"
#define AGENTCFG_DEFAULT_CONFIG "/etc/routerd/dpi.conf"

/* Target of the table; strings are owned (rdpi_cfg_free). */
struct agentcfg {
	char *name;
	char *socket;
	char *ipc;
	int64_t timeout_ns;
	int64_t flow_ttl_ns;
	int64_t flow_limit;
	int64_t first_payload_packets;
	int64_t tcp_payload_packets; /* 0 = firstPayloadPackets */
	int64_t udp_payload_packets; /* 0 = firstPayloadPackets */
	int64_t workers;
	int64_t verdict_meta_bytes;
	char *log_level;
};

extern const struct rdpi_cfg_section agentcfg_section;

/* Flags of the daemon/selftest subcommands (Go-compatible names). */
extern const struct rdpi_flag *const agentcfg_flags;
extern const size_t agentcfg_nflags;

/* Apply the legacy fix-ups in place; call after every load / override. */
void agentcfg_normalize(struct agentcfg *c);

/* Check one flag value before it reaches the table, giving the legacy
 * messages ("--flow-limit must be non-negative"). 0 or -EINVAL. */
int agentcfg_check_flag(const char *flag, const char *value, char *err, size_t errlen);

#endif
