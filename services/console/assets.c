/* Lookup in the embedded asset table (exact names only: no traversal is possible). */
#include "assets.h"

#include <string.h>

const struct console_asset *console_asset_find(const char *path)
{
	if (!path)
		return NULL;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (const struct console_asset *a = console_assets; a->path; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}
