/* The builtin engine: payload parsers in the Go helper's precedence with its
 * confidences and reason strings, plus QUIC Initial SNI and TLS details. */
#include "builtin.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/ports.h"
#include "dhcp.h"
#include "dns.h"
#include "ftp.h"
#include "http.h"
#include "mqtt.h"
#include "nbns.h"
#include "ntp.h"
#include "quic.h"
#include "ssdp.h"
#include "ssh.h"
#include "stun.h"
#include "tls.h"
#include "verdict.h"
#include "wireguard.h"

/* App -> category for everything the builtin engine names. */
static const struct {
	const char *app;
	const char *category;
} app_categories[] = {
    {"tls", "web"},	     {"quic", "web"},	   {"http", "web"},	   {"dns", "network"},
    {"mdns", "network"},     {"llmnr", "network"}, {"netbios", "network"}, {"dhcp", "network"},
    {"ntp", "network"},	     {"ssdp", "iot"},	   {"mqtt", "iot"},	   {"ssh", "remote-access"},
    {"ftp", "file-sharing"}, {"stun", "voip"},	   {"wireguard", "vpn"},   {"tailscale", "vpn"},
};

const char *builtin_app_category(const char *app)
{
	for (size_t i = 0; i < sizeof(app_categories) / sizeof(app_categories[0]); i++)
		if (strcmp(app_categories[i].app, app) == 0)
			return app_categories[i].category;
	const struct rdpi_ports_entry *t;
	size_t n;
	t = rdpi_ports_table(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].app, app) == 0)
			return t[i].category;
	return "";
}

static void hit(struct verdict *v, const char *app, uint8_t confidence, const char *reason)
{
	v->source = VERDICT_SOURCE_BUILTIN_PAYLOAD;
	v->confidence = confidence;
	verdict_copy_name(v->app, sizeof(v->app), app);
	verdict_copy_name(v->category, sizeof(v->category), builtin_app_category(app));
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
}

static void set_host(char *dst, size_t len, const char *src)
{
	verdict_copy_name(dst, len, src);
}

static bool is_udp(const struct builtin_input *in)
{
	return in->l4proto == IPPROTO_UDP;
}

static bool is_tcp(const struct builtin_input *in)
{
	return in->l4proto == IPPROTO_TCP;
}

static bool port_is(const struct builtin_input *in, uint16_t port)
{
	return in->sport == port || in->dport == port;
}

static void tls_details(struct verdict *v, const struct tls_client_hello *ch)
{
	verdict_meta_set(v, "tls.alpn", ch->alpn);
	verdict_meta_set(v, "tls.version", ch->version_name);
	verdict_meta_set(v, "tls.ja3", ch->ja3_md5);
}

static int try_udp_tunnels(const struct builtin_input *in, struct verdict *v)
{
	struct stun_message stun;
	if (stun_parse(in->payload, in->len, &stun) == 0) {
		hit(v, "stun", 95, "stun_magic_cookie");
		return 1;
	}
	struct wireguard_message wg;
	if (wireguard_parse(in->payload, in->len, &wg) == 0) {
		if (wireguard_is_tailscale_port(in->sport, in->dport))
			hit(v, "tailscale", 90, "tailscale_wireguard_port");
		else
			hit(v, "wireguard", 85, "wireguard_message_type");
		verdict_meta_set(v, "wireguard.type", wireguard_type_name(wg.type));
		return 1;
	}
	return 0;
}

/* Returns 1 on a hit, 0 if not TLS/QUIC, -EAGAIN when the hello continues. */
static int try_tls(const struct builtin_input *in, struct verdict *v)
{
	struct tls_client_hello ch;
	if (is_tcp(in)) {
		int rv = tls_parse_client_hello(in->payload, in->len, &ch);
		if (rv == -EAGAIN)
			return -EAGAIN;
		if (rv == -ENOMSG) {
			struct tls_server_hello sh;
			if (tls_parse_server_hello(in->payload, in->len, &sh) != 0)
				return 0;
			hit(v, "tls", 90, "tls_server_hello");
			verdict_meta_set(v, "tls.server_version", sh.version_name);
			verdict_meta_set(v, "tls.cipher", sh.cipher_name);
			return 1;
		}
		if (rv != 0)
			return 0;
		if (ch.sni[0] == '\0') {
			hit(v, "tls", 90, "tls_client_hello");
		} else {
			hit(v, "tls", 90, "tls_client_hello_sni");
			set_host(v->tls_sni, sizeof(v->tls_sni), ch.sni);
		}
		tls_details(v, &ch);
		return 1;
	}
	if (is_udp(in)) {
		struct quic_initial qi;
		int rv = quic_parse_initial(in->payload, in->len, &qi);
		if (rv != 0 || !qi.has_client_hello || qi.hello.sni[0] == '\0')
			return 0;
		hit(v, "quic", 90, "quic_initial_sni");
		set_host(v->tls_sni, sizeof(v->tls_sni), qi.hello.sni);
		verdict_copy_name(v->master, sizeof(v->master), "quic");
		tls_details(v, &qi.hello);
		return 1;
	}
	return 0;
}

static int try_http(const struct builtin_input *in, struct verdict *v)
{
	struct http_request req;
	if (!is_tcp(in) || http_parse_request(in->payload, in->len, &req) != 0 ||
	    req.host[0] == '\0')
		return 0;
	hit(v, "http", 80, "http_host");
	set_host(v->http_host, sizeof(v->http_host), req.host);
	verdict_meta_set(v, "http.user_agent", req.user_agent);
	return 1;
}

static int try_nbns(const struct builtin_input *in, struct verdict *v)
{
	struct nbns_query q;
	if (!is_udp(in) || !port_is(in, 137) || nbns_parse(in->payload, in->len, &q) != 0)
		return 0;
	hit(v, "netbios", 75, "nbns_query");
	set_host(v->dns_query, sizeof(v->dns_query), q.name);
	return 1;
}

static int try_tcp_small(const struct builtin_input *in, struct verdict *v)
{
	struct ssh_banner ssh;
	if (ssh_parse_banner(in->payload, in->len, &ssh) == 0) {
		hit(v, "ssh", 85, "ssh_banner");
		verdict_meta_set(v, "ssh.software", ssh.software);
		return 1;
	}
	struct ftp_control ftp;
	if (ftp_parse_control(in->payload, in->len, in->sport, in->dport, &ftp) == 0) {
		hit(v, "ftp", 70, "ftp_control");
		return 1;
	}
	struct mqtt_packet mq;
	if ((port_is(in, 1883) || port_is(in, 8883)) &&
	    mqtt_parse(in->payload, in->len, &mq) == 0) {
		hit(v, "mqtt", 75, "mqtt_packet");
		verdict_meta_set(v, "mqtt.client_id", mq.client_id);
		return 1;
	}
	return 0;
}

static int try_dns_like(const struct builtin_input *in, struct verdict *v, const char *app,
			uint8_t conf, const char *reason)
{
	struct dns_message m;
	if (dns_parse(in->payload, in->len, &m) != 0 || !m.has_question)
		return 0;
	hit(v, app, conf, reason);
	set_host(v->dns_query, sizeof(v->dns_query), m.qname);
	return 1;
}

static int try_udp_small(const struct builtin_input *in, struct verdict *v)
{
	if (port_is(in, 67) || port_is(in, 68)) {
		struct dhcp_message d;
		if (dhcp_parse(in->payload, in->len, &d) == 0) {
			hit(v, "dhcp", 85, "dhcpv4_message");
			verdict_meta_set(v, "dhcp.message_type", d.msg_type_name);
			verdict_meta_set(v, "dhcp.hostname", d.hostname);
			return 1;
		}
	}
	if (port_is(in, 5353) && try_dns_like(in, v, "mdns", 80, "mdns_query"))
		return 1;
	if (port_is(in, 5355) && try_dns_like(in, v, "llmnr", 80, "llmnr_query"))
		return 1;
	if (port_is(in, 123)) {
		struct ntp_message n;
		if (ntp_parse(in->payload, in->len, &n) == 0) {
			hit(v, "ntp", 80, "ntp_message");
			return 1;
		}
	}
	if (port_is(in, 1900)) {
		struct ssdp_message s;
		if (ssdp_parse(in->payload, in->len, &s) == 0) {
			hit(v, "ssdp", 75, "ssdp_message");
			verdict_meta_set(v, "ssdp.target", s.target);
			return 1;
		}
	}
	return 0;
}

static int try_dns(const struct builtin_input *in, struct verdict *v)
{
	struct dns_message m;
	int rv;
	if (is_udp(in))
		rv = dns_parse(in->payload, in->len, &m);
	else if (is_tcp(in) && port_is(in, 53))
		rv = dns_parse_tcp(in->payload, in->len, &m);
	else
		return 0;
	if (rv != 0 || !m.has_question || m.qname[0] == '\0')
		return 0;
	/* a DNS-shaped payload on a random port is too weak: require port 53
	 * or a well-formed query with the recursion bit, as resolvers send */
	if (!port_is(in, 53) && !(m.rd && !m.qr))
		return 0;
	if (dns_name_is_tailscale(m.qname))
		hit(v, "tailscale", 75, "tailscale_dns_name");
	else
		hit(v, "dns", 75, "dns_query");
	verdict_copy_name(v->master, sizeof(v->master), "dns");
	set_host(v->dns_query, sizeof(v->dns_query), m.qname);
	return 1;
}

int builtin_port_guess(uint8_t l4proto, uint16_t sport, uint16_t dport, struct verdict *ret)
{
	const struct rdpi_ports_entry *e = rdpi_ports_lookup(l4proto, sport, dport);
	if (!e)
		return 0;
	verdict_init(ret);
	ret->source = VERDICT_SOURCE_PORT_FALLBACK;
	ret->confidence = e->confidence;
	ret->guessed = true;
	verdict_copy_name(ret->app, sizeof(ret->app), e->app);
	verdict_copy_name(ret->category, sizeof(ret->category), e->category);
	snprintf(ret->reason, sizeof(ret->reason), "%s_port_%u",
		 l4proto == IPPROTO_UDP ? "udp" : "tcp", e->port);
	return 1;
}

enum builtin_outcome builtin_classify(const struct builtin_input *in, struct verdict *ret)
{
	verdict_init(ret);
	ret->source = VERDICT_SOURCE_BUILTIN;
	if (in->len > 0) {
		if (is_udp(in) && try_udp_tunnels(in, ret))
			return BUILTIN_MATCH;
		int rv = try_tls(in, ret);
		if (rv == -EAGAIN) {
			verdict_init(ret);
			ret->source = VERDICT_SOURCE_BUILTIN;
			snprintf(ret->reason, sizeof(ret->reason), "tls_client_hello_incomplete");
			return BUILTIN_NEED_MORE;
		}
		if (rv > 0 || try_http(in, ret) || try_nbns(in, ret) ||
		    (is_tcp(in) && try_tcp_small(in, ret)) ||
		    (is_udp(in) && try_udp_small(in, ret)) || try_dns(in, ret))
			return BUILTIN_MATCH;
	}
	struct verdict guess;
	if (builtin_port_guess(in->l4proto, in->sport, in->dport, &guess)) {
		*ret = guess;
		return BUILTIN_PORT_GUESS;
	}
	verdict_init(ret);
	ret->source = VERDICT_SOURCE_BUILTIN;
	snprintf(ret->reason, sizeof(ret->reason), "no_application_signal");
	return BUILTIN_NO_SIGNAL;
}
