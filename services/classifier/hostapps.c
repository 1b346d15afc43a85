/* Hostname suffix -> application table for the name caches. */
#include "hostapps.h"

#include <stddef.h>
#include <string.h>

static const struct hostapps_entry table[] = {
    {"youtube.com", "youtube", "media"},
    {"googlevideo.com", "youtube", "media"},
    {"ytimg.com", "youtube", "media"},
    {"netflix.com", "netflix", "media"},
    {"nflxvideo.net", "netflix", "media"},
    {"nflxso.net", "netflix", "media"},
    {"facebook.com", "facebook", "social"},
    {"fbcdn.net", "facebook", "social"},
    {"instagram.com", "instagram", "social"},
    {"cdninstagram.com", "instagram", "social"},
    {"whatsapp.net", "whatsapp", "chat"},
    {"whatsapp.com", "whatsapp", "chat"},
    {"tiktok.com", "tiktok", "social"},
    {"tiktokcdn.com", "tiktok", "social"},
    {"spotify.com", "spotify", "music"},
    {"scdn.co", "spotify", "music"},
    {"zoom.us", "zoom", "video"},
    {"teams.microsoft.com", "teams", "video"},
    {"skype.com", "skype", "video"},
    {"twitch.tv", "twitch", "media"},
    {"discord.com", "discord", "chat"},
    {"discord.gg", "discord", "chat"},
    {"telegram.org", "telegram", "chat"},
    {"signal.org", "signal", "chat"},
    {"steampowered.com", "steam", "game"},
    {"nintendo.net", "nintendo", "game"},
    {"playstation.net", "playstation", "game"},
    {"xboxlive.com", "xbox", "game"},
    {"dropbox.com", "dropbox", "cloud"},
    {"icloud.com", "icloud", "cloud"},
    {"github.com", "github", "collaborative"},
    {"slack.com", "slack", "collaborative"},
    {"wikipedia.org", "wikipedia", "web"},
    {"amazonvideo.com", "amazon-video", "media"},
    {"tailscale.com", "tailscale", "vpn"},
    {"ts.net", "tailscale", "vpn"},
};

const struct hostapps_entry *hostapps_lookup(const char *name)
{
	if (!name)
		return NULL;
	size_t n = strlen(name);
	const struct hostapps_entry *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t s = strlen(table[i].suffix);
		if (s > n || s <= best_len)
			continue;
		if (strcmp(name + n - s, table[i].suffix) != 0)
			continue;
		if (s < n && name[n - s - 1] != '.')
			continue;
		best = &table[i];
		best_len = s;
	}
	return best;
}
