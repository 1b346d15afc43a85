/* Web page assets embedded at build time (embed.cmake turns services/console/web/... into
 * console_assets[]); the console serves them by exact name, so no path reaches the disk. */
#ifndef RDPI_SERVICES_CONSOLE_ASSETS_H
#define RDPI_SERVICES_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *path;	  /* "/index.html" */
	const char *content_type; /* by extension: html, js, css, svg, png, ico */
	const unsigned char *data;
	size_t len;
};

/* Generated table, terminated by an entry with path NULL. */
extern const struct console_asset console_assets[];

/* Exact lookup; "/" is "/index.html". NULL when unknown (no normalisation of any kind). */
const struct console_asset *console_asset_find(const char *path);

#endif
