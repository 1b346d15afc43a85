/* Recent expired connections (conntrack DESTROY) for orphan-return correlation: a denied
 * packet whose tuple equals the reply tuple of a connection that just expired is most likely a
 * late reply, not an attack. Bounded, newest wins, TTL-limited; the writer thread owns it. */
#ifndef RDPI_SERVICES_LOGGER_EXPIRED_H
#define RDPI_SERVICES_LOGGER_EXPIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct expiredtab;

/* One expired connection. Addresses are 16 bytes (IPv4 mapped), ports host order. */
struct expired_rec {
	int64_t ts; /* unix ns of the DESTROY */
	uint8_t l3, l4proto;
	uint8_t orig_src[16], orig_dst[16], reply_src[16], reply_dst[16];
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
	int64_t packets, bytes; /* both directions; < 0 unknown */
};

int expiredtab_new(size_t limit, int64_t window_ns, struct expiredtab **ret);
void expiredtab_free(struct expiredtab *t);

/* Remembers r (a newer DESTROY of the same reply tuple replaces the older). */
int expiredtab_add(struct expiredtab *t, const struct expired_rec *r);

/* The newest expired connection whose reply tuple is exactly src:sport -> dst:dport (l4proto),
 * expired at most window_ns before now; NULL when none. The pointer is valid until the next
 * call on t. */
const struct expired_rec *expiredtab_match(struct expiredtab *t, uint8_t l3, uint8_t l4proto,
					   const uint8_t src[16], uint16_t sport,
					   const uint8_t dst[16], uint16_t dport, int64_t now);

size_t expiredtab_size(const struct expiredtab *t);

/* "likely orphan return from expired <label> conn (orig: <src>:<sport> -> <dst>:<dport>,
 * expired <age> ago, <bytes> transferred)" (IPv6 as [addr]:port; "unknown bytes" when the
 * counters were off). */
void expired_detail(const struct expired_rec *r, const char *label, int64_t now, char *buf,
		    size_t len);

#endif
