/* Go-compatible command-line flag parsing for the daemons (see flags.h). */
#include "common/flags.h"
#include "common/cfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct rdpi_flag *find(const struct rdpi_flag *flags, size_t n, const char *name,
				    size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

int rdpi_flags_parse(int argc, char **argv, const struct rdpi_flag *flags, size_t nflags,
		     rdpi_flag_fn fn, void *arg, int *ret_next, char *err, size_t errlen)
{
	int i = 0;
	while (i < argc) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct rdpi_flag *f = find(flags, nflags, name, len);
		if (!f) {
			snprintf(err, errlen, "flag provided but not defined: -%.*s", (int)len,
				 name);
			return -EINVAL;
		}
		const char *value;
		if (eq) {
			value = eq + 1;
		} else if (f->is_bool) {
			value = "true";
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, errlen, "flag needs an argument: -%s", f->name);
			return -EINVAL;
		}
		int rv = fn(arg, f, value, err, errlen);
		if (rv < 0)
			return rv;
		i++;
	}
	*ret_next = i;
	return 0;
}

void rdpi_flags_usage(FILE *out, const struct rdpi_flag *flags, size_t nflags)
{
	for (size_t i = 0; i < nflags; i++)
		fprintf(out, "  --%-26s %s\n", flags[i].name, flags[i].help);
}

bool rdpi_cfg_flags_common(struct rdpi_cfg_flags *c, const struct rdpi_flag *f, const char *value)
{
	if (strcmp(f->name, "config") == 0) {
		c->config_path = value;
		c->config_explicit = true;
	} else if (strcmp(f->name, "check-config") == 0) {
		c->check_config = strcmp(value, "false") != 0;
	} else if (strcmp(f->name, "print-config") == 0) {
		c->print_config = strcmp(value, "false") != 0;
	} else {
		return false;
	}
	return true;
}

int rdpi_cfg_flags_keep(struct rdpi_cfg_flags *c, const char *key, const char *value, char *err,
			size_t errlen)
{
	if (c->n >= RDPI_CFG_FLAGS_MAX) {
		snprintf(err, errlen, "more than %d configuration flags", RDPI_CFG_FLAGS_MAX);
		return -E2BIG;
	}
	c->key[c->n] = key;
	c->value[c->n++] = value;
	return 0;
}

bool rdpi_cfg_flags_read_file(const struct rdpi_cfg_flags *c)
{
	return c->config_path && (c->config_explicit || access(c->config_path, F_OK) == 0);
}

int rdpi_flags_command(int argc, char **argv, const char *prog, const char *const *cmds,
		       void (*usage)(FILE *out), const char **ret_cmd, int *ret_first)
{
	const char *cmd = cmds[0];
	int first = 1;
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		first = 2;
	}
	if (strcmp(cmd, "help") == 0 ||
	    (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; cmds[i]; i++) {
		if (strcmp(cmd, cmds[i]) == 0) {
			*ret_cmd = cmds[i];
			*ret_first = first;
			return -1;
		}
	}
	fprintf(stderr, "%s: unknown command \"%s\"\n", prog, cmd);
	usage(stderr);
	return 2;
}

int rdpi_cfg_flags_take(struct rdpi_cfg_flags *c, const struct rdpi_cfg_section *sec, void *cfg,
			const struct rdpi_flag *f, const char *value, char *err, size_t errlen)
{
	if (rdpi_cfg_flags_common(c, f, value))
		return 0;
	int rv = rdpi_cfg_set(sec, cfg, f->cfg_key, value, err, errlen);
	return rv < 0 ? rv : rdpi_cfg_flags_keep(c, f->cfg_key, value, err, errlen);
}

int rdpi_cfg_flags_load(const struct rdpi_cfg_flags *c, const struct rdpi_cfg_section *sec,
			void *target, char *err, size_t errlen)
{
	int rv =
	    rdpi_cfg_flags_read_file(c)
		? rdpi_cfg_load_file(c->config_path, sec, rdpi_cfg_sections, target, err, errlen)
		: rdpi_cfg_defaults(sec, target, err, errlen);
	for (size_t i = 0; rv == 0 && i < c->n; i++)
		rv = rdpi_cfg_set(sec, target, c->key[i], c->value[i], err, errlen);
	return rv;
}
