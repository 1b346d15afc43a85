/* routerd-console-gendb: test/bench tool. Creates firewall-logs.db and traffic-flows.db
 * through the logger's own schema code (store_open / flowsdb_open), then fills them in one
 * transaction each with realistic, seed-deterministic rows (clients, sources, apps, hosts,
 * 24 h of unix-ns timestamps, heavy-tailed bytes, open and asymmetric flows, denies with DPI
 * hints and correlations). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/flags.h"
#include "common/ports.h"
#include "flowsdb.h"
#include "store.h"

#define PROG "routerd-console-gendb"
#define NS   1000000000LL

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 2685821657736338717ull;
}

static double unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int pick(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

struct app {
	const char *app, *category, *l4;
	int port;
	const char *host; /* printf pattern with %d, or NULL */
	const char *detected;
};

static const struct app ndpi_apps[] = {
    {"youtube", "media", "tcp", 443, "www.youtube.com", "TLS.YouTube"},
    {"youtube", "media", "udp", 443, "rr%d---sn-4g5e6nzl.googlevideo.com", "QUIC.YouTube"},
    {"netflix", "video", "tcp", 443, "ipv4-c%03d-ams001-ix.1.oca.nflxvideo.net", "TLS.NetFlix"},
    {"google", "web", "tcp", 443, "www.google.com", "TLS.Google"},
    {"google", "web", "udp", 443, "fonts.gstatic.com", "QUIC.Google"},
    {"whatsapp", "chat", "tcp", 443, "mmg.whatsapp.net", "TLS.WhatsApp"},
    {"amazon", "cloud", "tcp", 443, "s3-%d.eu-west-1.amazonaws.com", "TLS.AmazonAWS"},
    {"apple", "web", "tcp", 443, "gateway.icloud.com", "TLS.Apple"},
    {"nintendo", "game", "tcp", 443, "e%04d.d1.nintendo.net", "TLS.Nintendo"},
    {"cloudflare", "web", "tcp", 443, "cdnjs.cloudflare.com", "TLS.Cloudflare"},
    {"microsoft", "cloud", "tcp", 443, "login.live.com", "TLS.Microsoft"},
    {"akamai", "cdn", "tcp", 443, "a%d.dscg.akamaiedge.net", "TLS.Akamai"},
};
static const struct app builtin_apps[] = {
    {"tls", "web", "tcp", 443, "api%d.example.org", "TLS"},
    {"http", "web", "tcp", 80, "update%d.vendor.example", "HTTP"},
    {"dns", "network", "udp", 53, "www.youtube.com", "DNS"},
    {"ntp", "network", "udp", 123, NULL, "NTP"},
    {"mqtt", "iot", "tcp", 1883, NULL, "MQTT"},
    {"quic", "web", "udp", 443, "i%d.ytimg.com", "QUIC"},
    {"ssdp", "iot", "udp", 1900, NULL, "SSDP"},
};
static const int fallback_ports[][2] = {
    {IPPROTO_TCP, 22},	 {IPPROTO_TCP, 993},  {IPPROTO_TCP, 8883}, {IPPROTO_UDP, 123},
    {IPPROTO_UDP, 5353}, {IPPROTO_TCP, 1883}, {IPPROTO_UDP, 3478}, {IPPROTO_TCP, 3389},
};

struct opts {
	const char *fw, *traffic;
	long flows, logs;
	uint64_t seed;
	int64_t now;
};

static int on_flag(void *arg, const struct rdpi_flag *f, const char *v, char *err, size_t errlen)
{
	struct opts *o = arg;
	char *end = NULL;
	if (strcmp(f->name, "firewall-db") == 0) {
		o->fw = v;
		return 0;
	}
	if (strcmp(f->name, "traffic-db") == 0) {
		o->traffic = v;
		return 0;
	}
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || !end || *end || n < 0) {
		snprintf(err, errlen, "--%s: bad number \"%s\"", f->name, v);
		return -EINVAL;
	}
	if (strcmp(f->name, "flows") == 0)
		o->flows = (long)n;
	else if (strcmp(f->name, "logs") == 0)
		o->logs = (long)n;
	else if (strcmp(f->name, "seed") == 0)
		o->seed = (uint64_t)n;
	else if (strcmp(f->name, "now") == 0)
		o->now = n;
	return 0;
}

static const struct rdpi_flag flags[] = {
    {"firewall-db", NULL, false, "firewall-logs.db to create (empty: skip)"},
    {"traffic-db", NULL, false, "traffic-flows.db to create (empty: skip)"},
    {"flows", NULL, false, "flows rows (1000)"},
    {"logs", NULL, false, "firewall_logs rows (1000)"},
    {"seed", NULL, false, "PRNG seed (1)"},
    {"now", NULL, false, "unix seconds the last 24 h end at (default: now)"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static void client_of(int i, char *buf, size_t len)
{
	if (i < 50)
		snprintf(buf, len, "192.168.1.%d", i + 2);
	else
		snprintf(buf, len, "fd00::%x", 0x10 + (i - 50));
}

/* clients: 0..49 IPv4, 50..53 IPv6; a few heavy ones */
static int pick_client(void)
{
	double u = unit();
	if (u < 0.25)
		return 5 + pick(4); /* 192.168.1.7 .. .10 talk a lot */
	return pick(54);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int fill_flows(sqlite3 *db, const struct opts *o)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    db,
	    "INSERT INTO flows (flow_key, ts_started, ts_ended, client_address, client_port, "
	    "peer_address, peer_port, protocol, nat_translated_address, accounting, bytes_out, "
	    "bytes_in, packets_out, packets_in, app_name, app_category, app_confidence, "
	    "detected_protocol, master_protocol, application_protocol, category, risk, confidence, "
	    "metadata_json, engine, source, tls_sni, http_host, dns_query, resolved_hostname, "
	    "flow_id, conntrack_id, l3_proto, risk_score, guessed, classified_at, updated_at) "
	    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,"
	    "?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	int64_t now_ns = o->now * NS;
	for (long i = 0; i < o->flows; i++) {
		int ci = pick_client();
		char client[64], peer[64], host[128] = "", key[64], fid[40], meta[256];
		client_of(ci, client, sizeof(client));
		bool v6 = ci >= 50;
		const char *source, *app = NULL, *cat = NULL, *l4 = "tcp", *engine = "builtin";
		const char *detected = NULL, *sni = NULL, *hh = NULL, *dq = NULL, *resolved = NULL;
		int port = 443, conf = 0;
		bool guessed = false;
		double s = unit();
		const struct app *a = NULL;
		if (ci == 0) {
			/* a resolver-only client */
			a = &builtin_apps[2];
			source = "builtin-payload";
		} else if (ci == 1) {
			/* an IoT client: mqtt/ntp to two peers */
			a = &builtin_apps[pick(2) ? 4 : 3];
			source = "builtin-payload";
		} else if (s < 0.45) {
			a = &ndpi_apps[pick(sizeof(ndpi_apps) / sizeof(ndpi_apps[0]))];
			source = "ndpi-agent";
			engine = "ndpi-agent";
			guessed = unit() < 0.1;
		} else if (s < 0.70) {
			a = &builtin_apps[pick(sizeof(builtin_apps) / sizeof(builtin_apps[0]))];
			source = "builtin-payload";
		} else if (s < 0.78) {
			a = &ndpi_apps[pick(sizeof(ndpi_apps) / sizeof(ndpi_apps[0]))];
			source = "dns-cache";
		} else if (s < 0.85) {
			a = &ndpi_apps[pick(sizeof(ndpi_apps) / sizeof(ndpi_apps[0]))];
			source = "sni-cache";
		} else if (s < 0.95) {
			source = "port-fallback";
		} else {
			static const char *const unk[] = {"unknown", "builtin", NULL, ""};
			source = unk[pick(4)];
		}
		if (a) {
			app = a->app;
			cat = a->category;
			l4 = a->l4;
			port = a->port;
			detected = a->detected;
			conf = 60 + pick(40);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			/* patterns come from the static tables above */
			if (a->host)
				snprintf(host, sizeof(host), a->host, 1 + pick(20));
#pragma GCC diagnostic pop
			if (strcmp(source, "dns-cache") == 0) {
				resolved = host[0] ? host : NULL;
			} else if (host[0]) {
				resolved = host;
				if (strcmp(app, "http") == 0)
					hh = host;
				else if (strcmp(app, "dns") == 0)
					dq = host;
				else
					sni = host;
			}
		} else if (source && strcmp(source, "port-fallback") == 0) {
			const int *fp = fallback_ports[pick(sizeof(fallback_ports) /
							    sizeof(fallback_ports[0]))];
			const struct rdpi_ports_entry *e =
			    rdpi_ports_find((uint8_t)fp[0], (uint16_t)fp[1]);
			l4 = fp[0] == IPPROTO_TCP ? "tcp" : "udp";
			port = fp[1];
			app = e ? e->app : NULL;
			cat = e ? e->category : NULL;
			conf = e ? e->confidence : 30;
			detected = NULL;
			if (!app)
				source = "unknown";
		} else {
			app = pick(2) ? "unknown" : NULL;
			l4 = pick(3) ? "tcp" : "udp";
			port = 1024 + pick(60000);
		}
		if (ci == 1)
			snprintf(peer, sizeof(peer), "203.0.113.%d", 10 + pick(2));
		else if (ci == 0)
			snprintf(peer, sizeof(peer), "192.168.1.1");
		else if (v6)
			snprintf(peer, sizeof(peer), "2001:db8::%x", 1 + pick(4000));
		else
			snprintf(peer, sizeof(peer), "%d.%d.%d.%d", 20 + pick(200), pick(256),
				 pick(256), 1 + pick(254));
		int64_t ts = now_ns - (int64_t)(unit() * 86400.0 * NS);
		bool open = unit() < 0.12;
		int64_t dur = (int64_t)(unit() * 600.0 * NS);
		int64_t in = (int64_t)(200.0 * pow(1.0 - unit() * 0.999999, -1.4));
		if (in > 4000000000LL)
			in = 4000000000LL;
		int64_t out = in / 8 + pick(2000);
		if (ci == 1) {
			in = 100 + pick(400);
			out = 80 + pick(300);
		}
		double asym = unit();
		if (asym < 0.03)
			in = 0;
		else if (asym < 0.05)
			out = 0;
		snprintf(key, sizeof(key), "gen-%" PRIu64 "-%ld", o->seed, i);
		snprintf(fid, sizeof(fid), "%016" PRIx64 "%016" PRIx64, rnd(), rnd());
		snprintf(meta, sizeof(meta), "{\"reason\":\"%s\"%s%s%s}",
			 a ? "generated" : "port_guess", sni ? ",\"tls.sni\":\"" : "",
			 sni ? sni : "", sni ? "\"" : "");
		bool known = app && *app && strcmp(app, "unknown") != 0;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		bind_text(st, 1, key);
		sqlite3_bind_int64(st, 2, ts);
		if (!open)
			sqlite3_bind_int64(st, 3, ts + dur);
		bind_text(st, 4, client);
		sqlite3_bind_int(st, 5, 32768 + pick(28000));
		bind_text(st, 6, peer);
		sqlite3_bind_int(st, 7, port);
		bind_text(st, 8, l4);
		if (!v6)
			bind_text(st, 9, "198.51.100.2");
		bind_text(st, 10, "conntrack");
		sqlite3_bind_int64(st, 11, out);
		sqlite3_bind_int64(st, 12, in);
		sqlite3_bind_int64(st, 13, out / 1200 + 1);
		sqlite3_bind_int64(st, 14, in / 1200 + 1);
		bind_text(st, 15, app);
		bind_text(st, 16, cat);
		if (known)
			sqlite3_bind_int(st, 17, conf);
		bind_text(st, 18, detected);
		bind_text(st, 19, detected && strchr(detected, '.') ? l4 : NULL);
		bind_text(st, 20, known ? app : NULL);
		bind_text(st, 21, cat);
		bind_text(st, 22, pick(20) ? "[]" : "[\"known_proto_on_non_std_port\"]");
		bind_text(st, 23, known ? (guessed ? "guessed" : "dpi") : NULL);
		bind_text(st, 24, meta);
		bind_text(st, 25, known ? engine : NULL);
		bind_text(st, 26, source);
		bind_text(st, 27, sni);
		bind_text(st, 28, hh);
		bind_text(st, 29, dq);
		bind_text(st, 30, resolved);
		bind_text(st, 31, fid);
		sqlite3_bind_int64(st, 32, (int64_t)(rnd() >> 33));
		bind_text(st, 33, v6 ? "ipv6" : "ipv4");
		if (known)
			sqlite3_bind_int(st, 34, pick(5) ? 0 : 10 * pick(10));
		sqlite3_bind_int(st, 35, guessed);
		if (known)
			sqlite3_bind_int64(st, 36, ts + NS / 10);
		sqlite3_bind_int64(st, 37, open ? ts + dur : ts + dur + NS);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, PROG ": flows: %s\n", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -EIO;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int fill_logs(sqlite3 *db, const struct opts *o)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    db,
	    "INSERT INTO firewall_logs (ts, zone_from, zone_to, rule_name, action, src_address, "
	    "src_port, dst_address, dst_port, protocol, tcp_flags, l3_proto, in_iface, out_iface, "
	    "packet_bytes, hint, dpi_app, dpi_category, dpi_tls_sni, dpi_http_host, dpi_dns_query, "
	    "dpi_confidence, correlation, correlation_detail, expired_age_seconds, expired_bytes, "
	    "dpi_source, dpi_risk_score) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
	    "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	int64_t now_ns = o->now * NS;
	for (long i = 0; i < o->logs; i++) {
		char src[64], dst[64], hint[512], sni[128];
		bool inbound = unit() < 0.6;
		if (inbound) {
			snprintf(src, sizeof(src), "%d.%d.%d.%d", 20 + pick(200), pick(256),
				 pick(256), 1 + pick(254));
			snprintf(dst, sizeof(dst), "198.51.100.2");
		} else {
			client_of(pick(50), src, sizeof(src));
			snprintf(dst, sizeof(dst), "%d.%d.%d.%d", 20 + pick(200), pick(256),
				 pick(256), 1 + pick(254));
		}
		bool tcp = pick(3) != 0;
		double u = unit();
		bool dpi = u < 0.3, cache_hit = u < 0.1;
		snprintf(sni, sizeof(sni), "cdn%d.example.net", pick(50));
		snprintf(
		    hint, sizeof(hint), "nflog-netlink%s%s%s",
		    dpi ? " dpi.app=tls dpi.source=sni-cache dpi.tls_sni=" : "", dpi ? sni : "",
		    cache_hit ? " denied packet matched prior TLS-SNI flow classified 3m ago" : "");
		double c = unit();
		const char *corr = c < 0.05 ? "orphan_return" : c < 0.08 ? "true_suspicious" : NULL;
		static const char *const actions[] = {"drop", "drop", "drop", "reject"};
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, now_ns - (int64_t)(unit() * 86400.0 * NS));
		bind_text(st, 2, inbound ? "wan" : "lan");
		bind_text(st, 3, inbound ? "lan" : "wan");
		bind_text(st, 4, inbound ? "input-deny" : "forward-deny");
		bind_text(st, 5, actions[pick(4)]);
		bind_text(st, 6, src);
		sqlite3_bind_int(st, 7, 1024 + pick(60000));
		bind_text(st, 8, dst);
		sqlite3_bind_int(st, 9, tcp ? (pick(2) ? 443 : 22) : 53);
		bind_text(st, 10, tcp ? "tcp" : "udp");
		bind_text(st, 11, tcp ? (pick(2) ? "SYN" : "ACK") : NULL);
		bind_text(st, 12, "ipv4");
		bind_text(st, 13, inbound ? "wan0" : "lan0");
		bind_text(st, 14, inbound ? "lan0" : "wan0");
		sqlite3_bind_int64(st, 15, 40 + pick(1400));
		bind_text(st, 16, hint);
		bind_text(st, 17, dpi ? "tls" : NULL);
		bind_text(st, 18, dpi ? "web" : NULL);
		bind_text(st, 19, dpi ? sni : NULL);
		if (dpi)
			sqlite3_bind_int(st, 22, 90);
		bind_text(st, 23, corr);
		bind_text(st, 24, corr ? "reply tuple of a connection expired 12s ago" : NULL);
		if (corr && strcmp(corr, "orphan_return") == 0) {
			sqlite3_bind_int64(st, 25, pick(120));
			sqlite3_bind_int64(st, 26, pick(100000));
		}
		bind_text(st, 27, dpi ? "sni-cache" : NULL);
		if (dpi)
			sqlite3_bind_int(st, 28, 0);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, PROG ": firewall_logs: %s\n", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -EIO;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

typedef int (*fill_fn)(sqlite3 *db, const struct opts *o);

static int fill(const char *path, fill_fn fn, const struct opts *o)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, PROG ": %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -EIO;
	}
	/* a generated file: no fsync per page, a big cache for the index updates */
	sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-131072;", NULL, NULL, NULL);
	int rv = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? fn(db, o) : -EIO;
	if (rv == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rv = -EIO;
	if (rv < 0)
		fprintf(stderr, PROG ": %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rv;
}

int main(int argc, char **argv)
{
	struct opts o = {.flows = 1000, .logs = 1000, .seed = 1, .now = (int64_t)time(NULL)};
	char err[256];
	int next = 0;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: " PROG " [flags]\n");
		rdpi_flags_usage(stdout, flags, NFLAGS);
		return 0;
	}
	if (rdpi_flags_parse(argc - 1, argv + 1, flags, NFLAGS, on_flag, &o, &next, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	rng_state = o.seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (o.traffic && *o.traffic) {
		struct flowsdb *f = NULL;
		struct flowsdb_opts fo = {.path = o.traffic};
		if (flowsdb_open(&fo, err, sizeof(err), &f) < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.traffic, err);
			return 1;
		}
		flowsdb_free(f);
		if (fill(o.traffic, fill_flows, &o) < 0)
			return 1;
	}
	if (o.fw && *o.fw) {
		struct store *s = NULL;
		struct store_opts so = {.path = o.fw};
		if (store_open(&so, err, sizeof(err), &s) < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.fw, err);
			return 1;
		}
		store_free(s);
		if (fill(o.fw, fill_logs, &o) < 0)
			return 1;
	}
	return 0;
}
