/* One logged packet on its way through the logger (reader -> DPI batches -> writer): the
 * metadata of its row, its canonical flow key and, for DPI candidates only, a clipped copy of
 * the packet that is freed as soon as the classifier has answered. Never persisted as bytes. */
#ifndef RDPI_SERVICES_LOGGER_ENTRY_H
#define RDPI_SERVICES_LOGGER_ENTRY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/flowkey.h"
#include "hint.h"

struct lverdict;
struct ct_event;

/* Source tags (first token of firewall_logs.hint). */
#define LENTRY_TAG_NETLINK "nflog-netlink"
#define LENTRY_TAG_PCAP	   "nflog-pcap"
#define LENTRY_TAG_JSON	   "nflog-json"
#define LENTRY_TAG_KV	   "nflog-kv"
#define LENTRY_TAG_TCPDUMP "nflog-tcpdump"

struct lentry {
	uint64_t ts_ns; /* unix ns */
	char tag[HINT_TAG_MAX];
	struct hint_prefix pfx; /* zones, rule, action */
	char in_iface[IF_NAMESIZE];
	char out_iface[IF_NAMESIZE];

	uint8_t l3;	 /* 4 or 6; 0 when unknown (then no addresses) */
	uint8_t l4proto; /* IPPROTO_* */
	bool has_ports;
	bool has_tcp_flags;
	uint8_t
	    tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	uint16_t sport, dport;
	uint8_t src[16], dst[16]; /* IPv4 stored IPv4-mapped, as rdpi_addr_parse() does */
	uint32_t packet_bytes;	  /* IP length of the original packet */
	uint32_t payload_len;	  /* L4 payload bytes seen (0 for text inputs) */

	bool has_key; /* key/dir valid (l3 known) */
	struct rdpi_flowkey key;
	int dir;	/* RDPI_FLOWKEY_DIR_* of this packet */
	int client_dir; /* RDPI_FLOWKEY_DIR_* of the flow's client->server packets (budget) */

	/* DPI: candidates carry a malloc'd copy of the L3 packet (clipped to copyRange) until the
	 * classifier answered; v is the verdict (malloc'd, owned by the entry) when one arrived. */
	bool candidate;
	uint8_t *pkt;
	uint32_t pkt_len;
	struct lverdict *v;

	/* A conntrack event instead of a packet (malloc'd, owned by the entry): the writer thread
	 * turns it into expired_flows / traffic-flows.db rows. The packet fields are unused. */
	struct ct_event *ct;
};

/* Fills e (zeroed first) from an L3 packet: tuple, flags, lengths, key. tag, prefix (parsed
 * with hint_parse_prefix(); an unrecognised prefix gives rule_name = the prefix text trimmed,
 * or "nflog" when empty, and action drop) and interface names are set by the caller's args.
 * Returns 0 or the rdpi_packet_parse() error (e keeps ts/tag/prefix/ifaces, l3 = 0). */
int lentry_from_l3(struct lentry *e, uint64_t ts_ns, const char *tag, const char *prefix,
		   const char *in_iface, const char *out_iface, const uint8_t *l3, size_t len);

/* Parses an nftables/NFLOG prefix into e->pfx with the fallback described above. */
void lentry_set_prefix(struct lentry *e, const char *prefix);

/* Recomputes e->key/e->dir/has_key from l3/l4proto/addresses/ports. */
void lentry_make_key(struct lentry *e);

/* "SYN", "SYN,ACK", "ACK,PSH", ... in the Go logger's order (SYN ACK FIN RST PSH URG ECE
 * CWR); "" for no flags. buf >= 32. */
const char *lentry_tcp_flags(uint8_t flags, char *buf, size_t len);

/* Frees the packet copy and the verdict, then the entry. NULL ok. */
void lentry_free(struct lentry *e);

#endif
