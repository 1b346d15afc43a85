/* Console labels: the normalised DPI source of a row, the display protocol of the protocol
 * column, and the client activity rule. Pure functions (SQL functions wrap some of them). */
#ifndef RDPI_SERVICES_CONSOLE_LABELS_H
#define RDPI_SERVICES_CONSOLE_LABELS_H

#include <stdbool.h>
#include <stdint.h>

enum labels_source {
	LABELS_SRC_NDPI_AGENT,
	LABELS_SRC_BUILTIN_PAYLOAD,
	LABELS_SRC_DNS_CACHE,
	LABELS_SRC_SNI_CACHE,
	LABELS_SRC_PORT_FALLBACK,
	LABELS_SRC_UNIDENTIFIED,
	LABELS_SRC__N,
};

/* "ndpi-agent", ..., "unidentified" (the ratio key). */
extern const char *const labels_source_names[LABELS_SRC__N];

/* A row's source for ratios: one of the five real sources when the app is known, else
 * unidentified (NULL/""/builtin/unknown/other sources, or app NULL/""/unknown). */
enum labels_source labels_source_of(const char *source, const char *app);

/* Source filter value -> enum ("unknown" and "unidentified" -> UNIDENTIFIED); -1 if bad. */
int labels_source_parse(const char *name);

/* The protocol column: "tls" when an SNI is present or tcp/443, "quic" on udp/443, "http"
 * (Host header or tcp/80), "dns" (app dns or port 53/853), else the app when it is a
 * protocol (not a provider name, not unknown), else the L4 protocol ("tcp", "udp", ...).
 * Returns a static string, or app/l4 themselves (borrowed). */
const char *labels_display_protocol(const char *l4, int peer_port, const char *app,
				    const char *tls_sni, const char *http_host);

/* true when the flow is DNS-only traffic: app dns/mdns/llmnr or peer port 53/853/5353. */
bool labels_is_dns(const char *app, int peer_port);

/* true for the small periodic IoT protocols: mqtt, ntp, coap, ssdp, mdns, stun. */
bool labels_is_iot_app(const char *app);

/* display protocol http/tls/quic */
bool labels_is_web(const char *display_protocol);

#endif
