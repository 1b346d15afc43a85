/* Destination provider labels (google, amazonaws, microsoft, ...) from a hostname suffix or
 * from an app name that is itself a provider. The one table of the console. */
#ifndef RDPI_SERVICES_CONSOLE_PROVIDER_H
#define RDPI_SERVICES_CONSOLE_PROVIDER_H

#include <stdbool.h>

/* Provider of a hostname by suffix (case-insensitive, label boundary: "x.google.com" and
 * "google.com" match "google.com", "notgoogle.com" does not), NULL when none. Static string. */
const char *provider_from_host(const char *host);

/* The provider an app name denotes ("google", "amazon" -> "amazonaws", ...), NULL when the app
 * is not a provider name. */
const char *provider_from_app(const char *app);

/* Host first (any of the given names, NULL/"" skipped), then the app. */
const char *provider_label(const char *const *hosts, int nhosts, const char *app);

/* True when host equals suffix or ends with "." suffix (case-insensitive). */
bool provider_host_has_suffix(const char *host, const char *suffix);

#endif
