/* Go-compatible command-line flags: -name value, --name value, --name=value,
 * bare --bool-flag. Each daemon maps flags to config keys in one table. */
#ifndef RDPI_COMMON_FLAGS_H
#define RDPI_COMMON_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rdpi_flag {
	const char *name;    /* without dashes: "flow-limit" */
	const char *cfg_key; /* config key it overrides ("flowLimit"), or NULL */
	bool is_bool;	     /* takes no value; "--x=false" still accepted */
	const char *help;
};

/* Called for every flag seen, in order. Return 0 or -errno with a message in err. */
typedef int (*rdpi_flag_fn)(void *arg, const struct rdpi_flag *flag, const char *value, char *err,
			    size_t errlen);

/* Parse argv[0..argc). Stops at "--" or the first non-flag argument; its
 * index is written to *ret_next. Unknown flags and missing values are errors:
 * "flag provided but not defined: -x" like Go. */
int rdpi_flags_parse(int argc, char **argv, const struct rdpi_flag *flags, size_t nflags,
		     rdpi_flag_fn fn, void *arg, int *ret_next, char *err, size_t errlen);

/* "  --name VALUE   help" lines. */
void rdpi_flags_usage(FILE *out, const struct rdpi_flag *flags, size_t nflags);

#endif
