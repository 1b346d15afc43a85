/* Port-fallback table for the whole project (classifier engine, console): sorted by
 * (l4proto, port), binary-searched. A port guess is never authoritative: confidence <= 40. */
#include "common/ports.h"

#include <netinet/in.h>

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

#define C_TAILSCALE 40
#define C_STUN	    38
#define C_QUIC	    35
#define C_DEFAULT   30

/* Keep sorted by (l4proto, port): the ports test checks it. */
static const struct rdpi_ports_entry table[] = {
    {20, TCP, "ftp", "file-sharing", C_DEFAULT},
    {21, TCP, "ftp", "file-sharing", C_DEFAULT},
    {22, TCP, "ssh", "remote-access", C_DEFAULT},
    {25, TCP, "smtp", "mail", C_DEFAULT},
    {53, TCP, "dns", "network", C_DEFAULT},
    {80, TCP, "http", "web", C_DEFAULT},
    {110, TCP, "pop3", "mail", C_DEFAULT},
    {139, TCP, "netbios", "file-sharing", C_DEFAULT},
    {143, TCP, "imap", "mail", C_DEFAULT},
    {443, TCP, "tls", "web", C_DEFAULT},
    {445, TCP, "smb", "file-sharing", C_DEFAULT},
    {465, TCP, "smtp", "mail", C_DEFAULT},
    {587, TCP, "smtp", "mail", C_DEFAULT},
    {993, TCP, "imap", "mail", C_DEFAULT},
    {995, TCP, "pop3", "mail", C_DEFAULT},
    {1883, TCP, "mqtt", "iot", C_DEFAULT},
    {3306, TCP, "mysql", "database", C_DEFAULT},
    {3389, TCP, "rdp", "remote-access", C_DEFAULT},
    {3478, TCP, "stun", "network", C_STUN},
    {4317, TCP, "otlp", "monitoring", C_DEFAULT},
    {4318, TCP, "otlp", "monitoring", C_DEFAULT},
    {5349, TCP, "stun", "network", C_STUN},
    {5432, TCP, "postgresql", "database", C_DEFAULT},
    {8080, TCP, "http", "web", C_DEFAULT},
    {8443, TCP, "tls", "web", C_DEFAULT},
    {8883, TCP, "mqtt", "iot", C_DEFAULT},
    {53, UDP, "dns", "network", C_DEFAULT},
    {67, UDP, "dhcp", "network", C_DEFAULT},
    {68, UDP, "dhcp", "network", C_DEFAULT},
    {123, UDP, "ntp", "network", C_DEFAULT},
    {137, UDP, "netbios", "network", C_DEFAULT},
    {138, UDP, "netbios", "network", C_DEFAULT},
    {443, UDP, "quic", "web", C_QUIC},
    {500, UDP, "ipsec", "vpn", C_DEFAULT},
    {1900, UDP, "ssdp", "network", C_DEFAULT},
    {3389, UDP, "rdp", "remote-access", C_DEFAULT},
    {3478, UDP, "stun", "network", C_STUN},
    {4500, UDP, "ipsec", "vpn", C_DEFAULT},
    {5349, UDP, "stun", "network", C_STUN},
    {5353, UDP, "mdns", "network", C_DEFAULT},
    {5355, UDP, "llmnr", "network", C_DEFAULT},
    {8443, UDP, "quic", "web", C_QUIC},
    {41641, UDP, "tailscale", "vpn", C_TAILSCALE},
    {51820, UDP, "wireguard", "vpn", C_DEFAULT},
};

_Static_assert(C_TAILSCALE <= RDPI_PORTS_CONFIDENCE_MAX && C_STUN < C_TAILSCALE &&
		   C_QUIC < C_STUN && C_DEFAULT < C_QUIC,
	       "port guesses stay weak and keep their order");

#define TABLE_N (sizeof(table) / sizeof(table[0]))

const struct rdpi_ports_entry *rdpi_ports_find(uint8_t l4proto, uint16_t port)
{
	size_t lo = 0, hi = TABLE_N;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rdpi_ports_entry *e = &table[mid];
		if (e->l4proto == l4proto && e->port == port)
			return e;
		if (e->l4proto < l4proto || (e->l4proto == l4proto && e->port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct rdpi_ports_entry *rdpi_ports_lookup(uint8_t l4proto, uint16_t sport, uint16_t dport)
{
	if (l4proto != TCP && l4proto != UDP)
		return NULL;
	const struct rdpi_ports_entry *s = rdpi_ports_find(l4proto, sport);
	const struct rdpi_ports_entry *d = rdpi_ports_find(l4proto, dport);
	if (!s || !d)
		return d ? d : s;
	if (sport < 1024 && dport >= 1024)
		return s;
	return d;
}

const struct rdpi_ports_entry *rdpi_ports_table(size_t *ret_n)
{
	if (ret_n)
		*ret_n = TABLE_N;
	return table;
}
