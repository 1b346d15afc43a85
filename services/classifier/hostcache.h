/* Name caches that give payload-less flows a hostname: dns-cache maps
 * (client, answer address) -> queried name for min(record TTL, cap);
 * sni-cache maps (server address, port) -> last TLS/QUIC SNI seen there.
 * Bounded, LRU-evicting, thread-safe; every limit hit is counted. */
#ifndef RDPI_CLASSIFIER_HOSTCACHE_H
#define RDPI_CLASSIFIER_HOSTCACHE_H

#include <stddef.h>
#include <stdint.h>

struct hostcache;

struct hostcache_opts {
	size_t dns_limit;	 /* entries, default 65536 */
	size_t sni_limit;	 /* entries, default 65536 */
	uint64_t dns_ttl_cap_ns; /* default 1 h */
	uint64_t sni_ttl_ns;	 /* default 1 h */
};

struct hostcache_stats {
	uint64_t dns_entries, dns_inserts, dns_hits, dns_misses, dns_evictions;
	uint64_t sni_entries, sni_inserts, sni_hits, sni_misses, sni_evictions;
};

int hostcache_new(const struct hostcache_opts *opts, struct hostcache **ret);
void hostcache_free(struct hostcache *hc);

/* Remember that client resolved name to addr (16-byte, IPv4-mapped) for ttl_s. */
int hostcache_dns_put(struct hostcache *hc, const uint8_t client[16], const uint8_t addr[16],
		      const char *name, uint32_t ttl_s, uint64_t now_ns);
/* Name client resolved for addr, copied into buf; -ENOENT when none or expired. */
int hostcache_dns_get(struct hostcache *hc, const uint8_t client[16], const uint8_t addr[16],
		      uint64_t now_ns, char *buf, size_t len);

int hostcache_sni_put(struct hostcache *hc, const uint8_t server[16], uint16_t port,
		      const char *sni, uint64_t now_ns);
int hostcache_sni_get(struct hostcache *hc, const uint8_t server[16], uint16_t port,
		      uint64_t now_ns, char *buf, size_t len);

void hostcache_stats(struct hostcache *hc, struct hostcache_stats *ret);

#endif
