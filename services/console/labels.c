/* Source normalisation and display protocol for the console (see labels.h). */
#include "labels.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "provider.h"

const char *const labels_source_names[LABELS_SRC__N] = {
    [LABELS_SRC_NDPI_AGENT] = "ndpi-agent",	  [LABELS_SRC_BUILTIN_PAYLOAD] = "builtin-payload",
    [LABELS_SRC_DNS_CACHE] = "dns-cache",	  [LABELS_SRC_SNI_CACHE] = "sni-cache",
    [LABELS_SRC_PORT_FALLBACK] = "port-fallback", [LABELS_SRC_UNIDENTIFIED] = "unidentified",
};
_Static_assert(sizeof(labels_source_names) / sizeof(labels_source_names[0]) == LABELS_SRC__N,
	       "one name per source");

static bool app_known(const char *app)
{
	return app && *app && strcasecmp(app, "unknown") != 0;
}

enum labels_source labels_source_of(const char *source, const char *app)
{
	if (!source || !app_known(app))
		return LABELS_SRC_UNIDENTIFIED;
	for (int i = 0; i < LABELS_SRC_UNIDENTIFIED; i++)
		if (strcmp(source, labels_source_names[i]) == 0)
			return (enum labels_source)i;
	return LABELS_SRC_UNIDENTIFIED;
}

int labels_source_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "unknown") == 0)
		return LABELS_SRC_UNIDENTIFIED;
	for (int i = 0; i < LABELS_SRC__N; i++)
		if (strcmp(name, labels_source_names[i]) == 0)
			return i;
	return -1;
}

bool labels_is_dns(const char *app, int peer_port)
{
	if (app && (strcasecmp(app, "dns") == 0 || strcasecmp(app, "mdns") == 0 ||
		    strcasecmp(app, "llmnr") == 0))
		return true;
	return peer_port == 53 || peer_port == 853 || peer_port == 5353;
}

bool labels_is_iot_app(const char *app)
{
	static const char *const iot[] = {"mqtt", "ntp", "coap", "ssdp", "mdns", "stun"};
	if (!app)
		return false;
	for (size_t i = 0; i < sizeof(iot) / sizeof(iot[0]); i++)
		if (strcasecmp(app, iot[i]) == 0)
			return true;
	return false;
}

bool labels_is_web(const char *p)
{
	return p && (strcmp(p, "tls") == 0 || strcmp(p, "quic") == 0 || strcmp(p, "http") == 0);
}

const char *labels_display_protocol(const char *l4, int peer_port, const char *app,
				    const char *tls_sni, const char *http_host)
{
	bool tcp = l4 && strcasecmp(l4, "tcp") == 0;
	bool udp = l4 && strcasecmp(l4, "udp") == 0;
	if (app && strcasecmp(app, "quic") == 0)
		return "quic";
	if (udp && peer_port == 443)
		return "quic";
	if ((tls_sni && *tls_sni) || (tcp && peer_port == 443))
		return "tls";
	if (app && (strcasecmp(app, "tls") == 0 || strcasecmp(app, "https") == 0))
		return "tls";
	if ((http_host && *http_host) || (tcp && peer_port == 80) ||
	    (app && strcasecmp(app, "http") == 0))
		return "http";
	if ((app && strcasecmp(app, "dns") == 0) || peer_port == 53 || peer_port == 853)
		return "dns";
	if (app_known(app) && !provider_from_app(app))
		return app;
	if (l4 && *l4)
		return l4;
	return "unknown";
}
