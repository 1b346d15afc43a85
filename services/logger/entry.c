/* Packet -> logger entry: tuple, flags, lengths and the canonical flow key of one logged
 * packet, plus the prefix rules applied with a fallback for foreign prefixes. */
#include "entry.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/packet.h"
#include "lverdict.h"

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void lentry_set_prefix(struct lentry *e, const char *prefix)
{
	if (prefix && hint_parse_prefix(prefix, &e->pfx) == 0)
		return;
	memset(&e->pfx, 0, sizeof(e->pfx));
	e->pfx.action = HINT_ACTION_DROP;
	/* a foreign prefix is kept as the rule name (trimmed) so the row still says where it
	 * came from; prefixes carry no secrets and are at most 127 bytes */
	const char *p = prefix ? prefix : "";
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n == 0) {
		copy_str(e->pfx.rule_name, sizeof(e->pfx.rule_name), "nflog");
		return;
	}
	if (n >= sizeof(e->pfx.rule_name))
		n = sizeof(e->pfx.rule_name) - 1;
	memcpy(e->pfx.rule_name, p, n);
	e->pfx.rule_name[n] = '\0';
	for (const char *w = e->pfx.rule_name; *w; w++)
		if (strncmp(w, "accept", 6) == 0) {
			e->pfx.action = HINT_ACTION_ACCEPT;
			break;
		}
}

void lentry_make_key(struct lentry *e)
{
	e->has_key = false;
	if (e->l3 != 4 && e->l3 != 6)
		return;
	uint16_t sp = e->has_ports ? e->sport : 0, dp = e->has_ports ? e->dport : 0;
	rdpi_flowkey_make(e->l3, e->l4proto, e->src, sp, e->dst, dp, &e->key, &e->dir);
	e->has_key = true;
}

int lentry_from_l3(struct lentry *e, uint64_t ts_ns, const char *tag, const char *prefix,
		   const char *in_iface, const char *out_iface, const uint8_t *l3, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = ts_ns;
	copy_str(e->tag, sizeof(e->tag), tag);
	lentry_set_prefix(e, prefix);
	copy_str(e->in_iface, sizeof(e->in_iface), in_iface);
	copy_str(e->out_iface, sizeof(e->out_iface), out_iface);

	struct rdpi_packet p;
	int rv = rdpi_packet_parse(l3, len, &p);
	if (rv < 0)
		return rv;
	e->l3 = p.l3;
	e->l4proto = p.l4proto;
	memcpy(e->src, p.src, 16);
	memcpy(e->dst, p.dst, 16);
	e->packet_bytes = p.ip_len;
	e->payload_len = (uint32_t)p.payload_len;
	if (p.l4proto == IPPROTO_TCP && (!p.is_fragment || p.is_first_fragment)) {
		e->has_tcp_flags = true;
		e->tcp_flags = p.tcp_flags;
	}
	if (rdpi_l4proto_has_ports(p.l4proto) && (!p.is_fragment || p.is_first_fragment)) {
		e->has_ports = true;
		e->sport = p.sport;
		e->dport = p.dport;
	}
	lentry_make_key(e);
	return 0;
}

const char *lentry_tcp_flags(uint8_t flags, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} order[] = {{0x02, "SYN"}, {0x10, "ACK"}, {0x01, "FIN"}, {0x04, "RST"},
		     {0x08, "PSH"}, {0x20, "URG"}, {0x40, "ECE"}, {0x80, "CWR"}};
	size_t off = 0;
	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(flags & order[i].bit))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", order[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

void lentry_free(struct lentry *e)
{
	if (!e)
		return;
	free(e->pkt);
	lverdict_free(e->v);
	free(e->ct);
	free(e);
}
