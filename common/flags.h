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

/* The configuration flags every daemon shares: --config FILE, --check-config and
 * --print-config, and the other flags kept as overrides of their config keys, replayed on top
 * of the file at every (re)load so that flags still win after SIGHUP. */
#define RDPI_CFG_FLAGS_MAX 64
struct rdpi_cfg_flags {
	const char *config_path; /* the daemon's default until --config */
	bool config_explicit;
	bool check_config, print_config;
	const char *key[RDPI_CFG_FLAGS_MAX];
	const char *value[RDPI_CFG_FLAGS_MAX];
	size_t n;
};

/* For a daemon's rdpi_flag_fn: true when f is config, check-config or print-config (taken). */
bool rdpi_cfg_flags_common(struct rdpi_cfg_flags *c, const struct rdpi_flag *f, const char *value);
/* Keeps key = value (already validated by the caller) as an override; -E2BIG with a message
 * in err when more than RDPI_CFG_FLAGS_MAX flags were given. */
int rdpi_cfg_flags_keep(struct rdpi_cfg_flags *c, const char *key, const char *value, char *err,
			size_t errlen);
/* Whether to read the file: always after --config (a missing file is then an error), the
 * default path only when it exists. */
bool rdpi_cfg_flags_read_file(const struct rdpi_cfg_flags *c);

/* For daemons with one config section (sec). _take, from their rdpi_flag_fn: the shared flags
 * are taken, any other is validated on cfg now (a bad flag fails before anything starts) and
 * kept. _load: defaults, then the file when rdpi_cfg_flags_read_file says so (the sections of
 * rdpi_cfg_sections allowed), then the kept flags, into target (the caller frees it). */
struct rdpi_cfg_section;
int rdpi_cfg_flags_take(struct rdpi_cfg_flags *c, const struct rdpi_cfg_section *sec, void *cfg,
			const struct rdpi_flag *f, const char *value, char *err, size_t errlen);
int rdpi_cfg_flags_load(const struct rdpi_cfg_flags *c, const struct rdpi_cfg_section *sec,
			void *target, char *err, size_t errlen);

/* The command word of a daemon: argv[1] when it does not start with '-', else cmds[0] (the
 * default). "help", -h and --help print usage(stdout). Returns -1 to go on with *ret_cmd and
 * *ret_first (the index of the first flag), or the exit status: 0 after help, 2 for a command
 * not in cmds (NULL-terminated), with a message and usage(stderr). */
int rdpi_flags_command(int argc, char **argv, const char *prog, const char *const *cmds,
		       void (*usage)(FILE *out), const char **ret_cmd, int *ret_first);

/* "  --name VALUE   help" lines. */
void rdpi_flags_usage(FILE *out, const struct rdpi_flag *flags, size_t nflags);

#endif
