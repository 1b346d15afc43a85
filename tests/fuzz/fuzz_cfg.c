/* Fuzz target: config text through the libconfig loader (with a dump/reload
 * round-trip check), command-line overrides, durations and sizes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fcfg {
	char *name;
	char *engine;
	int64_t limit;
	int64_t ttl;
	int64_t range;
	bool verbose;
};

static const char *const engines[] = {"builtin", "ndpi-agent", "auto", NULL};

static const struct rdpi_cfg_key fkeys[] = {
    {"name", RDPI_CFG_STRING, 0, 0, "default", offsetof(struct fcfg, name), NULL, "Name."},
    {"engine", RDPI_CFG_ENUM, 0, 0, "auto", offsetof(struct fcfg, engine), engines, "Engine."},
    {"flowLimit", RDPI_CFG_INT, 0, 0, "100000", offsetof(struct fcfg, limit), NULL, NULL},
    {"flowTTL", RDPI_CFG_DURATION, 0, 0, "1h", offsetof(struct fcfg, ttl), NULL, "TTL."},
    {"copyRange", RDPI_CFG_SIZE, 0, 0, "2048", offsetof(struct fcfg, range), NULL, NULL},
    {"verbose", RDPI_CFG_BOOL, 0, 0, "false", offsetof(struct fcfg, verbose), NULL, NULL},
};
static const struct rdpi_cfg_section fsec = {"classifier", fkeys, sizeof(fkeys) / sizeof(fkeys[0])};
static const char *const known[] = {"firewallLog", "agent", NULL};

static bool same(const struct fcfg *a, const struct fcfg *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->engine, b->engine) == 0 &&
	       a->limit == b->limit && a->ttl == b->ttl && a->range == b->range &&
	       a->verbose == b->verbose;
}

static void check_loader(const char *text)
{
	struct fcfg a = {0}, b = {0};
	char err[256];
	char *dump = NULL;
	size_t len = 0;

	if (rdpi_cfg_load_string(text, "fuzz", &fsec, known, &a, err, sizeof(err)) != 0)
		return;
	FILE *f = open_memstream(&dump, &len);
	if (!f)
		goto out;
	if (rdpi_cfg_dump(&fsec, &a, f) != 0)
		__builtin_trap();
	fclose(f);
	if (rdpi_cfg_load_string(dump, "dump", &fsec, NULL, &b, err, sizeof(err)) != 0 ||
	    !same(&a, &b))
		__builtin_trap();
out:
	free(dump);
	rdpi_cfg_free(&fsec, &a);
	rdpi_cfg_free(&fsec, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* @include would read arbitrary files (/dev/zero) */
	if (!strstr(text, "@include"))
		check_loader(text);

	struct fcfg c = {0};
	char err[256];
	if (rdpi_cfg_defaults(&fsec, &c, err, sizeof(err)) == 0) {
		const struct rdpi_cfg_key *k = &fkeys[size % fsec.nkeys];
		(void)rdpi_cfg_set(&fsec, &c, k->name, text, err, sizeof(err));
		rdpi_cfg_free(&fsec, &c);
	}

	int64_t v, back;
	char buf[RDPI_DURATION_STRLEN];
	if (rdpi_duration_parse(text, &v) == 0) {
		rdpi_duration_format(v, buf, sizeof(buf));
		if (rdpi_duration_parse(buf, &back) != 0 || back != v)
			__builtin_trap();
	}
	if (rdpi_size_parse(text, &v) == 0) {
		rdpi_size_format(v, buf, sizeof(buf));
		if (rdpi_size_parse(buf, &back) != 0 || back != v)
			__builtin_trap();
	}
	free(text);
	return 0;
}
