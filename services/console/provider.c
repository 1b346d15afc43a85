/* Provider table: destination labels, never protocol labels (design section 7). The console
 * shows the transport (tls/quic) in the protocol column and the provider next to it. */
#include "provider.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct suffix_entry {
	const char *suffix;
	const char *provider;
};

static const struct suffix_entry suffixes[] = {
    {"google.com", "google"},	      {"googlevideo.com", "google"},
    {"gstatic.com", "google"},	      {"youtube.com", "google"},
    {"googleapis.com", "google"},     {"ytimg.com", "google"},
    {"amazonaws.com", "amazonaws"},   {"cloudfront.net", "amazonaws"},
    {"microsoft.com", "microsoft"},   {"windows.com", "microsoft"},
    {"live.com", "microsoft"},	      {"azure.com", "microsoft"},
    {"office.com", "microsoft"},      {"apple.com", "apple"},
    {"icloud.com", "apple"},	      {"mzstatic.com", "apple"},
    {"cloudflare.com", "cloudflare"}, {"cloudflare-dns.com", "cloudflare"},
    {"nintendo.net", "nintendo"},     {"nintendo.com", "nintendo"},
    {"facebook.com", "meta"},	      {"fbcdn.net", "meta"},
    {"whatsapp.net", "meta"},	      {"netflix.com", "netflix"},
    {"nflxvideo.net", "netflix"},
};

/* App names that are providers: the label moves to the provider column. */
static const struct suffix_entry apps[] = {
    {"google", "google"},	{"youtube", "google"},	{"amazon", "amazonaws"},
    {"amazonaws", "amazonaws"}, {"aws", "amazonaws"},	{"microsoft", "microsoft"},
    {"apple", "apple"},		{"icloud", "apple"},	{"cloudflare", "cloudflare"},
    {"nintendo", "nintendo"},	{"facebook", "meta"},	{"meta", "meta"},
    {"whatsapp", "meta"},	{"netflix", "netflix"}, {"akamai", "akamai"},
};

bool provider_host_has_suffix(const char *host, const char *suffix)
{
	if (!host || !suffix || !*suffix)
		return false;
	size_t hl = strlen(host), sl = strlen(suffix);
	/* a trailing dot of a FQDN does not count */
	if (hl && host[hl - 1] == '.')
		hl--;
	if (hl < sl || strncasecmp(host + hl - sl, suffix, sl) != 0)
		return false;
	return hl == sl || host[hl - sl - 1] == '.';
}

/* akamai*.net: akamaihd.net, akamaiedge.net, akamaitechnologies.net... */
static bool is_akamai(const char *host)
{
	size_t hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		hl--;
	if (hl < 4 || strncasecmp(host + hl - 4, ".net", 4) != 0)
		return false;
	/* start of the registered label */
	size_t end = hl - 4, start = end;
	while (start > 0 && host[start - 1] != '.')
		start--;
	return end - start >= 6 && strncasecmp(host + start, "akamai", 6) == 0;
}

const char *provider_from_host(const char *host)
{
	if (!host || !*host)
		return NULL;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (provider_host_has_suffix(host, suffixes[i].suffix))
			return suffixes[i].provider;
	return is_akamai(host) ? "akamai" : NULL;
}

const char *provider_from_app(const char *app)
{
	if (!app || !*app)
		return NULL;
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (strcasecmp(app, apps[i].suffix) == 0)
			return apps[i].provider;
	return NULL;
}

const char *provider_label(const char *const *hosts, int nhosts, const char *app)
{
	for (int i = 0; i < nhosts; i++) {
		const char *p = provider_from_host(hosts[i]);
		if (p)
			return p;
	}
	return provider_from_app(app);
}
