/* /api/v1/clients: per-client activity over a window plus 24 hourly buckets, from one pass
 * over traffic-flows.db (rows of max(window, 24h)) grouped in C by client, and by
 * (client, hour, app) for the hourly top apps -- never a query per client.
 *
 * primaryActivity rule (first match wins, over the flows of the window):
 *   resolver-only  every flow is DNS: app dns/mdns/llmnr or peer port 53/853/5353;
 *   web-heavy      >= 60% of the bytes are display protocol http/tls/quic;
 *   iot-telemetry  >= 60% of the flows are small periodic ones: app mqtt/ntp/coap/ssdp/mdns/stun,
 *                  or port-fallback flows under 64 KiB, and they go to few peers (<= 8);
 *   mixed          otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "api.h"
#include "common/httpshim.h"
#include "labels.h"

#define MAX_CLIENTS   16384
#define MAX_HOUR_APPS 262144
#define MIX_MAX	      16
#define MIX_TOP	      5
#define PEERS_FEW     8
#define HOUR_TOP      3
#define IOT_SMALL     65536

struct mix {
	char name[24];
	int64_t flows, bytes;
};

struct client {
	int64_t flows, bytes_in, bytes_out, last_ns;
	char last_proto[24], last_detail[128];
	struct mix mix[MIX_MAX];
	int nmix;
	int64_t sources[LABELS_SRC__N];
	int64_t dns_flows, web_bytes, iot_flows;
	char peers[PEERS_FEW + 1][46];
	int npeers;
	int64_t hour_bytes[24], hour_flows[24];
	int64_t rank; /* position after sorting + 1, 0 = not listed */
	bool in_window;
};

struct hour_app {
	int64_t bytes;
};

struct clients_ctx {
	int64_t window_since, hour0; /* hour0: start of the oldest bucket */
	const char *only;
	struct agg *clients, *hour_apps;
};

static void copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

static void client_row(void *arg, const struct flows_row *row)
{
	struct clients_ctx *c = arg;
	if (!row->client)
		return;
	struct client *cl = agg_get(c->clients, row->client, strlen(row->client));
	if (!cl)
		return;
	int64_t b = row->bytes_in + row->bytes_out;
	if (row->ts_ns >= c->hour0) {
		int h = (int)((row->ts_ns - c->hour0) / API_HOUR_NS);
		if (h >= 0 && h < 24) {
			cl->hour_bytes[h] += b;
			cl->hour_flows[h]++;
			const char *app = row->app && *row->app ? row->app : "unknown";
			/* "client|hour|app", built by hand: this runs for every row */
			char key[512];
			size_t cl_len = strlen(row->client), app_len = strlen(app);
			if (cl_len + app_len + 5 < sizeof(key)) {
				size_t n = cl_len;
				memcpy(key, row->client, cl_len);
				key[n++] = '|';
				key[n++] = (char)('0' + h / 10);
				key[n++] = (char)('0' + h % 10);
				key[n++] = '|';
				memcpy(key + n, app, app_len);
				n += app_len;
				struct hour_app *ha = agg_get(c->hour_apps, key, n);
				if (ha)
					ha->bytes += b;
			}
		}
	}
	if (row->ts_ns < c->window_since)
		return;
	const char *dp = labels_display_protocol(row->protocol, row->peer_port, row->app,
						 row->tls_sni, row->http_host);
	cl->in_window = true;
	cl->flows++;
	cl->bytes_in += row->bytes_in;
	cl->bytes_out += row->bytes_out;
	if (row->ts_ns >= cl->last_ns) {
		cl->last_ns = row->ts_ns;
		copy(cl->last_proto, sizeof(cl->last_proto), dp);
		copy(cl->last_detail, sizeof(cl->last_detail),
		     row->hostname ? row->hostname : row->app);
	}
	int i;
	for (i = 0; i < cl->nmix; i++)
		if (strcmp(cl->mix[i].name, dp) == 0)
			break;
	if (i == cl->nmix && cl->nmix < MIX_MAX)
		copy(cl->mix[cl->nmix++].name, sizeof(cl->mix[0].name), dp);
	if (i < MIX_MAX) {
		cl->mix[i].flows++;
		cl->mix[i].bytes += b;
	}
	enum labels_source s = labels_source_of(row->source, row->app);
	cl->sources[s]++;
	if (labels_is_dns(row->app, row->peer_port))
		cl->dns_flows++;
	if (labels_is_web(dp))
		cl->web_bytes += b;
	if (labels_is_iot_app(row->app) || (s == LABELS_SRC_PORT_FALLBACK && b < IOT_SMALL)) {
		cl->iot_flows++;
		const char *peer = row->peer ? row->peer : "";
		int k;
		for (k = 0; k < cl->npeers; k++)
			if (strcmp(cl->peers[k], peer) == 0)
				break;
		if (k == cl->npeers && cl->npeers <= PEERS_FEW)
			copy(cl->peers[cl->npeers++], sizeof(cl->peers[0]), peer);
	}
}

static const char *activity(const struct client *cl)
{
	int64_t bytes = cl->bytes_in + cl->bytes_out;
	if (cl->flows > 0 && cl->dns_flows == cl->flows)
		return "resolver-only";
	if (bytes > 0 && cl->web_bytes * 10 >= bytes * 6)
		return "web-heavy";
	if (cl->flows > 0 && cl->iot_flows * 10 >= cl->flows * 6 && cl->npeers <= PEERS_FEW)
		return "iot-telemetry";
	return "mixed";
}

static int client_cmp(const void *x, const void *y)
{
	const struct client *a = x, *b = y;
	if (a->in_window != b->in_window)
		return a->in_window ? -1 : 1;
	int64_t ba = a->bytes_in + a->bytes_out, bb = b->bytes_in + b->bytes_out;
	if (ba != bb)
		return ba > bb ? -1 : 1;
	return a->flows > b->flows ? -1 : a->flows < b->flows;
}

static int mix_cmp(const void *x, const void *y)
{
	const struct mix *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->flows > b->flows ? -1 : a->flows < b->flows;
}

struct hour_top {
	const char *app[HOUR_TOP];
	int64_t bytes[HOUR_TOP];
};

int clients_get(struct api_req *r, json_t **ret)
{
	int64_t window, limit;
	const char *only = NULL;
	int rv;
	if ((rv = api_duration(r, "window", API_HOUR_NS, 30 * API_DAY_NS, &window)) < 0 ||
	    (rv = api_text(r, "client", &only)) < 0 ||
	    (rv = api_count(r, "limit", 50, 1, 500, &limit)) < 0)
		return rv;
	struct clients_ctx c = {
	    .window_since = r->now_ns - window,
	    .hour0 = (r->now_ns / API_HOUR_NS - 23) * API_HOUR_NS,
	};
	struct hour_top *tops = NULL;
	json_t *o = NULL;
	if (agg_new(sizeof(struct client), MAX_CLIENTS, &c.clients) < 0 ||
	    agg_new(sizeof(struct hour_app), MAX_HOUR_APPS, &c.hour_apps) < 0 ||
	    !(o = json_object())) {
		rv = -ENOMEM;
		goto out;
	}
	struct flows_filter f = {
	    .since = c.window_since < c.hour0 ? c.window_since : c.hour0,
	    .until = r->now_ns,
	    .client = only,
	    .source = -1,
	    .asym = -1,
	};
	flows_scan(r, &f, FLOWS_NEED_PEER | FLOWS_NEED_TS, client_row, &c);
	if (agg_dropped(c.clients) || agg_dropped(c.hour_apps))
		api_error(r, "clients: more than %d clients or hourly apps; some left out",
			  MAX_CLIENTS);

	agg_sort(c.clients, client_cmp);
	size_t n = 0;
	while (n < agg_len(c.clients) && n < (size_t)limit &&
	       ((struct client *)agg_val(c.clients, n))->in_window)
		n++;
	tops = calloc(n ? n * 24 : 1, sizeof(*tops));
	if (!tops) {
		rv = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		((struct client *)agg_val(c.clients, i))->rank = (int64_t)i + 1;
	/* hourly top apps: one walk over the (client, hour, app) groups */
	for (size_t i = 0; i < agg_len(c.hour_apps); i++) {
		const char *key = agg_key(c.hour_apps, i);
		const char *p1 = strchr(key, '|');
		const char *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
		if (!p2)
			continue;
		struct client *cl = agg_get(c.clients, key, (size_t)(p1 - key));
		if (!cl || !cl->rank)
			continue;
		int h = atoi(p1 + 1);
		if (h < 0 || h >= 24)
			continue;
		struct hour_top *t = &tops[(cl->rank - 1) * 24 + h];
		int64_t b = ((struct hour_app *)agg_val(c.hour_apps, i))->bytes;
		for (int k = 0; k < HOUR_TOP; k++) {
			if (!t->app[k] || b > t->bytes[k]) {
				memmove(&t->app[k + 1], &t->app[k],
					(HOUR_TOP - k - 1) * sizeof(t->app[0]));
				memmove(&t->bytes[k + 1], &t->bytes[k],
					(HOUR_TOP - k - 1) * sizeof(t->bytes[0]));
				t->app[k] = p2 + 1;
				t->bytes[k] = b;
				break;
			}
		}
	}

	char wbuf[32];
	snprintf(wbuf, sizeof(wbuf), "%s",
		 rdpi_http_request_query(r->http, "window") &&
			 *rdpi_http_request_query(r->http, "window")
		     ? rdpi_http_request_query(r->http, "window")
		     : "1h");
	api_set(o, "window", json_string(wbuf));
	api_set(o, "since", api_ts(c.window_since));
	api_set(o, "until", api_ts(r->now_ns));
	json_t *list = json_array();
	api_set(o, "clients", list);
	for (size_t i = 0; i < n; i++) {
		struct client *cl = agg_val(c.clients, i);
		json_t *e = json_object();
		if (!e || json_array_append_new(list, e) < 0) {
			rv = -ENOMEM;
			goto out;
		}
		int64_t bytes = cl->bytes_in + cl->bytes_out;
		api_set(e, "client", json_string(agg_key(c.clients, i)));
		api_set(e, "flows", json_integer(cl->flows));
		api_set(e, "bytesIn", json_integer(cl->bytes_in));
		api_set(e, "bytesOut", json_integer(cl->bytes_out));
		api_set(e, "bytes", json_integer(bytes));
		api_set(e, "lastSeen", api_ts(cl->last_ns));
		qsort(cl->mix, (size_t)cl->nmix, sizeof(cl->mix[0]), mix_cmp);
		json_t *mix = json_array();
		for (int k = 0; mix && k < cl->nmix && k < MIX_TOP; k++)
			json_array_append_new(
			    mix,
			    json_pack("{s:s,s:I,s:I,s:f}", "protocol", cl->mix[k].name, "flows",
				      (json_int_t)cl->mix[k].flows, "bytes",
				      (json_int_t)cl->mix[k].bytes, "share",
				      bytes > 0 ? (double)cl->mix[k].bytes / (double)bytes : 0.0));
		api_set(e, "protocolMix", mix);
		api_set(e, "lastProtocol", api_str(cl->last_proto[0] ? cl->last_proto : NULL));
		api_set(e, "lastDetail", api_str(cl->last_detail[0] ? cl->last_detail : NULL));
		api_set(e, "primaryActivity", json_string(activity(cl)));
		json_t *src = json_object();
		for (int k = 0; src && k < LABELS_SRC__N; k++)
			api_set(src, labels_source_names[k], json_integer(cl->sources[k]));
		api_set(e, "sources", src);
		json_t *hourly = json_array();
		for (int h = 0; hourly && h < 24; h++) {
			const struct hour_top *t = &tops[i * 24 + (size_t)h];
			json_t *ta = json_array();
			for (int k = 0; ta && k < HOUR_TOP && t->app[k]; k++)
				json_array_append_new(ta,
						      json_pack("{s:s,s:I}", "app", t->app[k],
								"bytes", (json_int_t)t->bytes[k]));
			json_array_append_new(hourly,
					      json_pack("{s:o,s:I,s:I,s:o}", "hour",
							api_ts(c.hour0 + h * API_HOUR_NS), "bytes",
							(json_int_t)cl->hour_bytes[h], "flows",
							(json_int_t)cl->hour_flows[h], "topApps",
							ta ? ta : json_array()));
		}
		api_set(e, "hourly", hourly);
	}
	*ret = o;
	o = NULL;
	rv = 0;
out:
	json_decref(o);
	free(tops);
	agg_free(c.clients);
	agg_free(c.hour_apps);
	return rv;
}
