/* dns-cache and sni-cache on top of the common bounded flow table. */
#include "hostcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowkey.h"
#include "common/flowtab.h"

/* Keys reuse the flow-key layout with marker protocol numbers that no flow uses. */
#define KEY_DNS 0xfd
#define KEY_SNI 0xfe

struct entry {
	uint64_t expires_ns;
	char *name;
};

struct hostcache {
	struct hostcache_opts opts;
	pthread_mutex_t lock;
	struct rdpi_flowtab *dns, *sni;
	uint64_t dns_hits, dns_misses, sni_hits, sni_misses;
};

static void entry_fini(void *value, void *arg)
{
	struct entry *e = value;
	free(e->name);
	e->name = NULL;
}

int hostcache_new(const struct hostcache_opts *opts, struct hostcache **ret)
{
	struct hostcache *hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	if (opts)
		hc->opts = *opts;
	if (!hc->opts.dns_limit)
		hc->opts.dns_limit = 65536;
	if (!hc->opts.sni_limit)
		hc->opts.sni_limit = 65536;
	if (!hc->opts.dns_ttl_cap_ns)
		hc->opts.dns_ttl_cap_ns = 3600ull * 1000000000ull;
	if (!hc->opts.sni_ttl_ns)
		hc->opts.sni_ttl_ns = 3600ull * 1000000000ull;
	pthread_mutex_init(&hc->lock, NULL);
	struct rdpi_flowtab_opts d = {.limit = hc->opts.dns_limit,
				      .ttl_ns = hc->opts.dns_ttl_cap_ns,
				      .value_size = sizeof(struct entry),
				      .value_fini_fn = entry_fini};
	struct rdpi_flowtab_opts s = d;
	s.limit = hc->opts.sni_limit;
	s.ttl_ns = hc->opts.sni_ttl_ns;
	int rv = rdpi_flowtab_new(&d, &hc->dns);
	if (rv == 0)
		rv = rdpi_flowtab_new(&s, &hc->sni);
	if (rv < 0) {
		hostcache_free(hc);
		return rv;
	}
	*ret = hc;
	return 0;
}

void hostcache_free(struct hostcache *hc)
{
	if (!hc)
		return;
	rdpi_flowtab_free(hc->dns);
	rdpi_flowtab_free(hc->sni);
	pthread_mutex_destroy(&hc->lock);
	free(hc);
}

static void make_key(struct rdpi_flowkey *k, uint8_t marker, const uint8_t a[16],
		     const uint8_t b[16], uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->l3 = 0;
	k->l4proto = marker;
	k->lo_port = port;
	memcpy(k->lo_addr, a, 16);
	if (b)
		memcpy(k->hi_addr, b, 16);
}

static int put(struct hostcache *hc, struct rdpi_flowtab *t, const struct rdpi_flowkey *k,
	       const char *name, uint64_t expires, uint64_t now)
{
	if (!name || !*name)
		return -EINVAL;
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&hc->lock);
	void *v = NULL;
	bool created = false;
	int rv = rdpi_flowtab_upsert(t, k, now, &v, &created);
	if (rv == 0) {
		struct entry *e = v;
		free(e->name);
		e->name = copy;
		e->expires_ns = expires;
		copy = NULL;
	}
	pthread_mutex_unlock(&hc->lock);
	free(copy);
	return rv;
}

static int get(struct hostcache *hc, struct rdpi_flowtab *t, const struct rdpi_flowkey *k,
	       uint64_t now, char *buf, size_t len, uint64_t *hits, uint64_t *misses)
{
	int rv = -ENOENT;
	pthread_mutex_lock(&hc->lock);
	struct entry *e = rdpi_flowtab_lookup(t, k, now);
	if (e && e->name && now < e->expires_ns) {
		snprintf(buf, len, "%s", e->name);
		rv = 0;
	} else if (e) {
		rdpi_flowtab_remove(t, k); /* the record's own TTL ran out */
	}
	if (rv == 0)
		(*hits)++;
	else
		(*misses)++;
	pthread_mutex_unlock(&hc->lock);
	return rv;
}

int hostcache_dns_put(struct hostcache *hc, const uint8_t client[16], const uint8_t addr[16],
		      const char *name, uint32_t ttl_s, uint64_t now_ns)
{
	struct rdpi_flowkey k;
	make_key(&k, KEY_DNS, client, addr, 0);
	uint64_t ttl = (uint64_t)ttl_s * 1000000000ull;
	if (ttl > hc->opts.dns_ttl_cap_ns)
		ttl = hc->opts.dns_ttl_cap_ns;
	if (ttl == 0)
		return 0; /* TTL 0: the answer must not be cached */
	return put(hc, hc->dns, &k, name, now_ns + ttl, now_ns);
}

int hostcache_dns_get(struct hostcache *hc, const uint8_t client[16], const uint8_t addr[16],
		      uint64_t now_ns, char *buf, size_t len)
{
	struct rdpi_flowkey k;
	make_key(&k, KEY_DNS, client, addr, 0);
	return get(hc, hc->dns, &k, now_ns, buf, len, &hc->dns_hits, &hc->dns_misses);
}

int hostcache_sni_put(struct hostcache *hc, const uint8_t server[16], uint16_t port,
		      const char *sni, uint64_t now_ns)
{
	struct rdpi_flowkey k;
	make_key(&k, KEY_SNI, server, NULL, port);
	return put(hc, hc->sni, &k, sni, now_ns + hc->opts.sni_ttl_ns, now_ns);
}

int hostcache_sni_get(struct hostcache *hc, const uint8_t server[16], uint16_t port,
		      uint64_t now_ns, char *buf, size_t len)
{
	struct rdpi_flowkey k;
	make_key(&k, KEY_SNI, server, NULL, port);
	return get(hc, hc->sni, &k, now_ns, buf, len, &hc->sni_hits, &hc->sni_misses);
}

void hostcache_stats(struct hostcache *hc, struct hostcache_stats *ret)
{
	struct rdpi_flowtab_stats d, s;
	pthread_mutex_lock(&hc->lock);
	rdpi_flowtab_stats(hc->dns, &d);
	rdpi_flowtab_stats(hc->sni, &s);
	*ret = (struct hostcache_stats){
	    .dns_entries = d.size,
	    .dns_inserts = d.inserts,
	    .dns_hits = hc->dns_hits,
	    .dns_misses = hc->dns_misses,
	    .dns_evictions = d.evictions,
	    .sni_entries = s.size,
	    .sni_inserts = s.inserts,
	    .sni_hits = hc->sni_hits,
	    .sni_misses = hc->sni_misses,
	    .sni_evictions = s.evictions,
	};
	pthread_mutex_unlock(&hc->lock);
}
