/* Hostname suffix -> application table: turns a dns-cache or sni-cache name
 * into an application label ("www.netflix.com" -> netflix). */
#ifndef RDPI_CLASSIFIER_HOSTAPPS_H
#define RDPI_CLASSIFIER_HOSTAPPS_H

struct hostapps_entry {
	const char *suffix; /* matched at a label boundary */
	const char *app;
	const char *category;
};

/* Entry whose suffix matches name (lowercase), longest suffix wins; NULL if none. */
const struct hostapps_entry *hostapps_lookup(const char *name);

#endif
