/* Table-driven libconfig loader: each daemon declares its keys once (name,
 * type, bounds, default, target field); loading validates everything with
 * file:line messages and writes the target only when the whole section is valid. */
#ifndef RDPI_COMMON_CFG_H
#define RDPI_COMMON_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rdpi_cfg_type {
	RDPI_CFG_BOOL,	   /* bool; file: true/false; text: true/false/yes/no/on/off/1/0 */
	RDPI_CFG_INT,	   /* int64_t; file: integer (any size up to int64) */
	RDPI_CFG_STRING,   /* char * (heap, owned by the target) */
	RDPI_CFG_DURATION, /* int64_t ns; file: Go duration string ("1h") or integer 0 */
	RDPI_CFG_SIZE,	   /* int64_t bytes; file: string ("64k") or integer bytes */
	RDPI_CFG_ENUM,	   /* char * (heap copy of the matching choice) */
};

struct rdpi_cfg_key {
	const char *name; /* libconfig setting name, e.g. "flowTTL" */
	enum rdpi_cfg_type type;
	int64_t min, max; /* INT value, DURATION ns, SIZE bytes; both 0 = unbounded */
	const char *def;  /* default as text, same rules as rdpi_cfg_set; NULL = 0/false/NULL */
	size_t offset;	  /* offsetof(target, field); one field per key */
	const char *const *choices; /* ENUM: NULL-terminated, lowercase */
	const char *help;	    /* one-line description, dumped as a comment */
};

struct rdpi_cfg_section {
	const char *name; /* top-level group, e.g. "classifier" */
	const struct rdpi_cfg_key *keys;
	size_t nkeys;
};

/*
 * Target contract for every function that writes a target: it must be
 * zero-initialised or hold values written by this module, because string
 * fields it replaces are freed. Fields not named in the table are never
 * touched. On failure the target is left exactly as it was.
 *
 * Errors: 0 or a negative errno; err (may be NULL) gets a one-line message.
 *   -EINVAL  parse error, unknown key/section, wrong type, bad value, bad table
 *   -ERANGE  value outside [min, max] or beyond int64
 *   -ENOENT  rdpi_cfg_set on a name not in the table; missing config file
 *   -ENOMEM, -EFBIG (file over 4 MiB), other -errno from opening the file
 */

/* The top-level sections of /etc/routerd/dpi.conf (NULL-terminated): every daemon accepts the
 * whole file and reads its own section. */
extern const char *const rdpi_cfg_sections[];

/* Fill every key with its default. */
int rdpi_cfg_defaults(const struct rdpi_cfg_section *sec, void *target, char *err, size_t errlen);

/* Defaults, then the settings of group sec->name from the file (a missing
 * group means all defaults). known_sections is a NULL-terminated list of the
 * other top-level names allowed in the file (sec->name is always allowed);
 * NULL skips that check. Messages look like
 *   /etc/routerd/dpi.conf:7: unknown key "x" in section "classifier"
 *   /etc/routerd/dpi.conf:9: classifier.flowLimit: 5000000 out of range [1, 1000000]
 * Use for the first load and for SIGHUP: a bad file keeps the old values. */
int rdpi_cfg_load_file(const char *path, const struct rdpi_cfg_section *sec,
		       const char *const *known_sections, void *target, char *err, size_t errlen);

/* Same, from NUL-terminated text; name_for_errors replaces the file name. */
int rdpi_cfg_load_string(const char *text, const char *name_for_errors,
			 const struct rdpi_cfg_section *sec, const char *const *known_sections,
			 void *target, char *err, size_t errlen);

/* Apply one command-line override by key name with the same validation, e.g.
 * `classifier.flowLimit: "abc" is not an integer`. */
int rdpi_cfg_set(const struct rdpi_cfg_section *sec, void *target, const char *name,
		 const char *value, char *err, size_t errlen);

/* Free the strings the target owns and set them to NULL. NULL-safe. */
void rdpi_cfg_free(const struct rdpi_cfg_section *sec, void *target);

/* Deep copy of the table's fields from src to dst (dst follows the target
 * contract). -ENOMEM leaves dst unchanged. */
int rdpi_cfg_copy(const struct rdpi_cfg_section *sec, void *dst, const void *src);

/* Print the section as libconfig text: help as a comment above each key,
 * durations in Go form, sizes with binary units. Loading the output gives the
 * same values (a NULL string is written as a comment and loads as its
 * default). Returns 0 or -EIO. */
int rdpi_cfg_dump(const struct rdpi_cfg_section *sec, const void *target, FILE *out);

/* One key's value of target as text (the form rdpi_cfg_set accepts: durations
 * in Go form, sizes with binary units, true/false, strings as they are; a NULL
 * string gives ""). Truncates to len. Returns buf. */
const char *rdpi_cfg_format(const struct rdpi_cfg_key *k, const void *target, char *buf,
			    size_t len);

/* For a reload message: appends the names of the keys whose value differs
 * between old and new (both targets of sec), each preceded by prefix (may be
 * NULL), comma separated, to live_buf when the name is in live (NULL-terminated)
 * and to restart_buf otherwise. Buffers must hold a string (may be ""); text
 * is truncated to their size. Returns the number of changed keys. */
size_t rdpi_cfg_changes(const struct rdpi_cfg_section *sec, const void *old, const void *new,
			const char *const *live, const char *prefix, char *live_buf,
			size_t live_len, char *restart_buf, size_t restart_len);

/* The notice every daemon logs after a reload: the file (NULL: "defaults") and the two lists
 * from rdpi_cfg_changes ("" prints as "none"). */
void rdpi_cfg_log_reload(const char *tag, const char *path, const char *live,
			 const char *restart);

/* Key by exact name, or NULL. */
const struct rdpi_cfg_key *rdpi_cfg_find(const struct rdpi_cfg_section *sec, const char *name);

#endif
