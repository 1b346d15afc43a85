/* Recent-expired table on the project's flow table: canonical key of the reply tuple, the
 * direction checked on match. */
#include "expired.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/flowkey.h"
#include "common/flowtab.h"
#include "common/packet.h"

struct eslot {
	struct expired_rec r;
	int reply_dir; /* RDPI_FLOWKEY_DIR_* of reply_src -> reply_dst */
};

struct expiredtab {
	struct rdpi_flowtab *t;
	int64_t window;
	uint64_t clock;
};

int expiredtab_new(size_t limit, int64_t window_ns, struct expiredtab **ret)
{
	struct expiredtab *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->window = window_ns > 0 ? window_ns : 3600ll * 1000000000ll;
	struct rdpi_flowtab_opts o = {.limit = limit ? limit : 100000,
				      .ttl_ns = (uint64_t)t->window,
				      .value_size = sizeof(struct eslot)};
	int rv = rdpi_flowtab_new(&o, &t->t);
	if (rv < 0) {
		free(t);
		return rv;
	}
	*ret = t;
	return 0;
}

void expiredtab_free(struct expiredtab *t)
{
	if (!t)
		return;
	rdpi_flowtab_free(t->t);
	free(t);
}

int expiredtab_add(struct expiredtab *t, const struct expired_rec *r)
{
	struct rdpi_flowkey k;
	int dir;
	rdpi_flowkey_make(r->l3, r->l4proto, r->reply_src, r->reply_sport, r->reply_dst,
			  r->reply_dport, &k, &dir);
	if ((uint64_t)r->ts > t->clock)
		t->clock = (uint64_t)r->ts;
	struct eslot *s;
	int rv = rdpi_flowtab_upsert(t->t, &k, t->clock, (void **)&s, NULL);
	if (rv < 0)
		return rv;
	if (s->r.ts > r->ts)
		return 0; /* an older DESTROY arriving late keeps the newer one */
	s->r = *r;
	s->reply_dir = dir;
	return 0;
}

const struct expired_rec *expiredtab_match(struct expiredtab *t, uint8_t l3, uint8_t l4proto,
					   const uint8_t src[16], uint16_t sport,
					   const uint8_t dst[16], uint16_t dport, int64_t now)
{
	struct rdpi_flowkey k;
	int dir;
	rdpi_flowkey_make(l3, l4proto, src, sport, dst, dport, &k, &dir);
	struct eslot *s = rdpi_flowtab_peek(t->t, &k);
	if (!s || s->reply_dir != dir || now - s->r.ts > t->window || now < s->r.ts - t->window)
		return NULL;
	return &s->r;
}

size_t expiredtab_size(const struct expiredtab *t)
{
	return rdpi_flowtab_size(t->t);
}

static void endpoint(const uint8_t a[16], uint16_t port, char *buf, size_t len)
{
	char s[RDPI_ADDR_STRLEN];
	rdpi_addr_format(a, s, sizeof(s));
	if (strchr(s, ':'))
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
}

void expired_detail(const struct expired_rec *r, const char *label, int64_t now, char *buf,
		    size_t len)
{
	char src[RDPI_ADDR_STRLEN + 8], dst[RDPI_ADDR_STRLEN + 8], age[48], bytes[32];
	endpoint(r->orig_src, r->orig_sport, src, sizeof(src));
	endpoint(r->orig_dst, r->orig_dport, dst, sizeof(dst));
	int64_t d = now - r->ts;
	if (d < 0)
		d = 0;
	rdpi_duration_format((d + 500000000) / 1000000000 * 1000000000, age, sizeof(age));
	if (r->bytes >= 0)
		snprintf(bytes, sizeof(bytes), "%lld bytes", (long long)r->bytes);
	else
		snprintf(bytes, sizeof(bytes), "unknown bytes");
	snprintf(buf, len,
		 "likely orphan return from expired %s conn (orig: %s -> %s, expired %s ago, %s "
		 "transferred)",
		 label, src, dst, age, bytes);
}
