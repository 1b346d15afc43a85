/* Four synthetic records through the real writer, store and (optionally) classifier. */
#include "selftest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/packet.h"
#include "common/rpc.h"
#include "common/synth.h"
#include "entry.h"
#include "lverdict.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "store.h"
#include "writer.h"

#define CLIENT "192.0.2.10"
#define SERVER "198.51.100.20"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct lentry *entry(uint64_t ts, const char *prefix, const uint8_t *pkt, size_t len)
{
	struct lentry *e = malloc(sizeof(*e));
	if (!e)
		return NULL;
	if (lentry_from_l3(e, ts, "nflog-selftest", prefix, "wan0", "lan0", pkt, len) < 0) {
		free(e);
		return NULL;
	}
	e->client_dir = e->dir;
	return e;
}

/* One Classify through ClassifyBatch; NULL when no classifier answered. */
static struct lverdict *classify(const struct selftest_opts *o, const uint8_t *pkt, size_t len)
{
	struct rdpi_rpc_client *cl = NULL;
	if (!o->dpi_url || rdpi_rpc_client_new(o->dpi_url, NULL, &cl) < 0)
		return NULL;
	/* the dial is asynchronous: give a local classifier a moment to accept */
	for (int i = 0; i < 50 && rdpi_rpc_client_connected(cl) <= 0; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	Routerd__Dpi__V1__ClassifyRequest *pr = &r;
	r.packet.data = (uint8_t *)pkt;
	r.packet.len = len;
	Routerd__Dpi__V1__ClassifyBatchRequest br = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	br.n_requests = 1;
	br.requests = &pr;
	ProtobufCMessage *reply = NULL;
	char err[256];
	struct lverdict *v = NULL;
	if (rdpi_rpc_client_call(cl, "ClassifyBatch", &br.base,
				 &routerd__dpi__v1__classify_batch_reply__descriptor,
				 o->dpi_timeout_ms ? o->dpi_timeout_ms : 500, &reply, err,
				 sizeof(err)) == RDPI_STATUS_OK) {
		Routerd__Dpi__V1__ClassifyBatchReply *b = (void *)reply;
		if (b->n_results == 1)
			v = lverdict_from_result(b->results[0]);
	}
	if (reply)
		protobuf_c_message_free_unpacked(reply, NULL);
	rdpi_rpc_client_free(cl);
	return v;
}

static void print_result(FILE *out, const char *path, const char *error)
{
	json_t *j = json_pack("{s:b, s:s}", "ok", error == NULL, "path", path);
	if (j && error)
		json_object_set_new(j, "error", json_string(error));
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	fprintf(out, "%s\n", t ? t : "{\"ok\":false}");
	free(t);
	json_decref(j);
}

int selftest_run(const struct selftest_opts *o, FILE *out)
{
	char err[512] = "";
	struct store *st = NULL;
	struct writer *w = NULL;
	struct store_opts so = {.path = o->path};
	int rv = store_open(&so, err, sizeof(err), &st);
	if (rv == 0) {
		struct writer_opts wo = {.store = st};
		rv = writer_new(&wo, &w);
		if (rv < 0)
			snprintf(err, sizeof(err), "out of memory");
	}
	if (rv < 0) {
		print_result(out, o->path, err);
		store_free(st);
		return rv;
	}
	uint64_t ts = now_ns();
	uint8_t pkt[1600], hello[1024];
	size_t len, hl;

	/* 1. a dropped SYN */
	struct rdpi_synth_tuple t = {.l3 = 4, .l4proto = 6, .sport = 40000, .dport = 22};
	rdpi_addr_parse(CLIENT, t.src, NULL);
	rdpi_addr_parse(SERVER, t.dst, NULL);
	struct rdpi_synth_tcp syn = {.seq = 1, .flags = 0x02};
	struct lentry *e1 = NULL;
	if (rdpi_synth_packet(&t, &syn, NULL, 0, pkt, sizeof(pkt), &len) == 0)
		e1 = entry(ts, "routerd firewall wan-to-lan drop ", pkt, len);

	/* 2. a dropped TLS ClientHello, classified when a classifier answers */
	hl = rdpi_synth_client_hello("routerd-selftest.example", "h2,http/1.1", hello,
				     sizeof(hello));
	len = rdpi_synth_tcp_packet(CLIENT, 40001, SERVER, 443, 1000, hello, hl, pkt, sizeof(pkt));
	struct lentry *e2 =
	    len ? entry(ts + 1000, "routerd firewall forward deny ", pkt, len) : NULL;
	if (e2)
		e2->v = classify(o, pkt, len);

	/* 3. a forward-accept flow classified as routerd-flow-cache.example */
	hl = rdpi_synth_client_hello("routerd-flow-cache.example", "h2", hello, sizeof(hello));
	len = rdpi_synth_tcp_packet(CLIENT, 40002, SERVER, 443, 1000, hello, hl, pkt, sizeof(pkt));
	struct lentry *e3 =
	    len ? entry(ts + 2000, "routerd firewall forward accept ", pkt, len) : NULL;
	struct lverdict fields = {
	    .app_name = "tls",
	    .app_category = "web",
	    .detected_protocol = "tls",
	    .master_protocol = "tls",
	    .application_protocol = "tls",
	    .category = "web",
	    .confidence = "DPI",
	    .metadata_json = "{\"reason\":\"tls_client_hello_sni\","
			     "\"tls.sni\":\"routerd-flow-cache.example\"}",
	    .engine = "builtin",
	    .source = "builtin-payload",
	    .tls_sni = "routerd-flow-cache.example",
	    .reason = "tls_client_hello_sni",
	    .app_confidence = 90,
	    .final = true,
	};
	if (e3)
		e3->v = lverdict_make(&fields);

	if (!e1 || !e2 || !e3 || !e3->v) {
		lentry_free(e1);
		lentry_free(e2);
		lentry_free(e3);
		writer_free(w);
		store_free(st);
		print_result(out, o->path, "cannot build the synthetic packets");
		return -ENOMEM;
	}
	writer_process(w, e1);
	writer_process(w, e2);
	writer_process(w, e3);

	/* 4. an orphan return: the reply of a connection conntrack already expired */
	int64_t exp_ts = (int64_t)ts - 90ll * 1000000000ll;
	struct store_expired ex = {.ts = exp_ts,
				   .l3_proto = "ipv4",
				   .protocol = "tcp",
				   .orig_src = CLIENT,
				   .orig_src_port = 40003,
				   .orig_dst = SERVER,
				   .orig_dst_port = 443,
				   .reply_src = SERVER,
				   .reply_src_port = 443,
				   .reply_dst = CLIENT,
				   .reply_dst_port = 40003,
				   .packets = 12,
				   .bytes = 4096,
				   .raw = "[DESTROY] tcp 6 src=" CLIENT " dst=" SERVER
					  " sport=40003 dport=443 packets=6 bytes=2048 src=" SERVER
					  " dst=" CLIENT " sport=443 dport=40003 packets=6 "
					  "bytes=2048"};
	struct store_log orphan = {
	    .ts = (int64_t)ts + 3000,
	    .zone_from = "wan",
	    .zone_to = "lan",
	    .rule_name = "wan-to-lan",
	    .action = "drop",
	    .src_address = SERVER,
	    .src_port = 443,
	    .dst_address = CLIENT,
	    .dst_port = 40003,
	    .protocol = "tcp",
	    .tcp_flags = "ACK,FIN",
	    .l3_proto = "ipv4",
	    .in_iface = "wan0",
	    .out_iface = "lan0",
	    .packet_bytes = 52,
	    .hint = "nflog-selftest",
	    .dpi_confidence = -1,
	    .correlation = "orphan_return",
	    .correlation_detail =
		"likely orphan return from expired tcp conn (orig: " CLIENT ":40003 -> " SERVER
		":443, expired 1m30s ago, 4096 bytes transferred)",
	    .expired_age_seconds = 90,
	    .expired_bytes = 4096,
	    .dpi_risk_score = -1,
	};
	if (store_add_expired(st, &ex) < 0 || store_add_log(st, &orphan) < 0)
		rv = -EIO;
	if (writer_flush(w) < 0)
		rv = -EIO;
	const struct writer_stats *ws = writer_stats(w);
	if (rdpi_counter_get(&ws->write_errors))
		rv = -EIO;
	if (rv < 0)
		snprintf(err, sizeof(err), "write failed: %s", store_errmsg(st));
	writer_free(w);
	store_free(st);
	print_result(out, o->path, rv < 0 ? err : NULL);
	return rv;
}
