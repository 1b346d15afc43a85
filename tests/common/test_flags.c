/* Command-line flags (common/flags): the Go-compatible forms, the shared configuration flags
 * and the command word of the daemons. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/flags.h"

static const struct rdpi_flag flags[] = {
    {"config", NULL, false, "file"},	   {"check-config", NULL, true, "validate"},
    {"print-config", NULL, true, "print"}, {"flow-limit", "flowLimit", false, "limit"},
    {"verbose", "verbose", true, "bool"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

struct seen {
	struct rdpi_cfg_flags cf;
	char log[512];
	int fail_on; /* the n-th call fails (1-based), 0 never */
	int calls;
};

static int on_flag(void *arg, const struct rdpi_flag *f, const char *value, char *err,
		   size_t errlen)
{
	struct seen *s = arg;
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%s=%s;", f->name, value);
	if (++s->calls == s->fail_on) {
		snprintf(err, errlen, "bad %s", f->name);
		return -ERANGE;
	}
	if (rdpi_cfg_flags_common(&s->cf, f, value))
		return 0;
	return rdpi_cfg_flags_keep(&s->cf, f->cfg_key, value, err, errlen);
}

static int parse(struct seen *s, char **argv, int argc, int *next, char *err, size_t errlen)
{
	return rdpi_flags_parse(argc, argv, flags, NFLAGS, on_flag, s, next, err, errlen);
}

static void test_flags_go_forms(void **state)
{
	(void)state;
	struct seen s = {0};
	char *argv[] = {"-flow-limit",	   "5",	      "--flow-limit=6", "--verbose",
			"--verbose=false", "-config", "/x.conf",	"rest",
			"--flow-limit",	   "7"};
	char err[128] = "";
	int next = -1;
	assert_int_equal(parse(&s, argv, 10, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 7); /* stops at the first non-flag */
	assert_string_equal(s.log, "flow-limit=5;flow-limit=6;verbose=true;verbose=false;"
				   "config=/x.conf;");
	/* overrides kept in order, config taken */
	assert_int_equal(s.cf.n, 4);
	assert_string_equal(s.cf.key[0], "flowLimit");
	assert_string_equal(s.cf.value[1], "6");
	assert_string_equal(s.cf.value[3], "false");
	assert_string_equal(s.cf.config_path, "/x.conf");
	assert_true(s.cf.config_explicit);
	assert_false(s.cf.check_config);
}

static void test_flags_double_dash_ends(void **state)
{
	(void)state;
	struct seen s = {0};
	char *argv[] = {"--check-config", "--", "--flow-limit", "1"};
	char err[128];
	int next;
	assert_int_equal(parse(&s, argv, 4, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 2);
	assert_true(s.cf.check_config);
	assert_int_equal(s.cf.n, 0);
}

static void test_flags_errors(void **state)
{
	(void)state;
	char err[128];
	int next;
	struct seen s = {0};
	char *unknown[] = {"--nope=1"};
	assert_int_equal(parse(&s, unknown, 1, &next, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "flag provided but not defined: -nope");
	char *missing[] = {"--flow-limit"};
	assert_int_equal(parse(&s, missing, 1, &next, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "flag needs an argument: -flow-limit");
	/* the callback's error stops the parse and comes back as is */
	struct seen f = {.fail_on = 2};
	char *argv[] = {"--verbose", "--flow-limit", "9", "--verbose"};
	assert_int_equal(parse(&f, argv, 4, &next, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "bad flow-limit");
	assert_int_equal(f.calls, 2);
}

static void test_cfg_flags_bounded(void **state)
{
	(void)state;
	struct rdpi_cfg_flags cf = {0};
	char err[128] = "";
	for (int i = 0; i < RDPI_CFG_FLAGS_MAX; i++)
		assert_int_equal(rdpi_cfg_flags_keep(&cf, "k", "v", err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_flags_keep(&cf, "k", "v", err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(cf.n, RDPI_CFG_FLAGS_MAX);
}

static void test_cfg_flags_read_file(void **state)
{
	(void)state;
	struct rdpi_cfg_flags cf = {.config_path = "/nonexistent/routerd/dpi.conf"};
	assert_false(rdpi_cfg_flags_read_file(&cf)); /* a missing default file: defaults */
	cf.config_explicit = true;
	assert_true(rdpi_cfg_flags_read_file(&cf)); /* a missing --config file: an error later */
	char path[] = "/tmp/rdpi-flags-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct rdpi_cfg_flags def = {.config_path = path};
	assert_true(rdpi_cfg_flags_read_file(&def));
	unlink(path);
	struct rdpi_cfg_flags none = {0};
	assert_false(rdpi_cfg_flags_read_file(&none));
}

static int usage_calls;
static FILE *usage_out;

static void usage(FILE *out)
{
	usage_calls++;
	usage_out = out;
}

static int command(int argc, char **argv, const char **cmd, int *first)
{
	static const char *const cmds[] = {"daemon", "selftest", NULL};
	usage_calls = 0;
	usage_out = NULL;
	*cmd = NULL;
	*first = -1;
	return rdpi_flags_command(argc, argv, "prog", cmds, usage, cmd, first);
}

static void test_flags_command(void **state)
{
	(void)state;
	const char *cmd;
	int first;
	char *bare[] = {"prog"};
	assert_int_equal(command(1, bare, &cmd, &first), -1);
	assert_string_equal(cmd, "daemon"); /* the default */
	assert_int_equal(first, 1);
	char *flag[] = {"prog", "--config", "x"};
	assert_int_equal(command(3, flag, &cmd, &first), -1);
	assert_string_equal(cmd, "daemon");
	assert_int_equal(first, 1);
	char *self[] = {"prog", "selftest", "--config", "x"};
	assert_int_equal(command(4, self, &cmd, &first), -1);
	assert_string_equal(cmd, "selftest");
	assert_int_equal(first, 2);
	assert_int_equal(usage_calls, 0);
	char *help[] = {"prog", "help"};
	assert_int_equal(command(2, help, &cmd, &first), 0);
	assert_int_equal(usage_calls, 1);
	assert_ptr_equal(usage_out, stdout);
	char *dash_h[] = {"prog", "--help"};
	assert_int_equal(command(2, dash_h, &cmd, &first), 0);
	assert_ptr_equal(usage_out, stdout);
	char *unknown[] = {"prog", "classify"};
	assert_int_equal(command(2, unknown, &cmd, &first), 2);
	assert_int_equal(usage_calls, 1);
	assert_ptr_equal(usage_out, stderr);
	assert_null(cmd);
}

struct lcfg {
	int64_t limit;
	char *name;
};

static const struct rdpi_cfg_key lkeys[] = {
    {"flowLimit", RDPI_CFG_INT, 1, 1000, "100", offsetof(struct lcfg, limit), NULL, "limit"},
    {"name", RDPI_CFG_STRING, 0, 0, "default", offsetof(struct lcfg, name), NULL, "name"},
};
static const struct rdpi_cfg_section lsec = {"console", lkeys, 2};
static const struct rdpi_flag lflags[] = {
    {"config", NULL, false, "file"},
    {"flow-limit", "flowLimit", false, "limit"},
    {"name", "name", false, "name"},
};

struct lopts {
	struct rdpi_cfg_flags cf;
	struct lcfg cfg;
};

static int take(void *arg, const struct rdpi_flag *f, const char *value, char *err, size_t errlen)
{
	struct lopts *o = arg;
	return rdpi_cfg_flags_take(&o->cf, &lsec, &o->cfg, f, value, err, errlen);
}

/* defaults <- file <- flags, for a one-section daemon; a bad flag fails at parse time */
static void test_cfg_flags_take_and_load(void **state)
{
	(void)state;
	char path[] = "/tmp/rdpi-flags-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text =
	    "agent: { flowTTL = \"1h\"; };\nconsole: { flowLimit = 7; name = \"file\"; };\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char err[256] = "";
	int next;
	struct lopts o = {.cf.config_path = "/nonexistent/dpi.conf"};
	assert_int_equal(rdpi_cfg_defaults(&lsec, &o.cfg, err, sizeof(err)), 0);
	char *argv[] = {"--config", path, "--flow-limit", "9"};
	assert_int_equal(rdpi_flags_parse(4, argv, lflags, 3, take, &o, &next, err, sizeof(err)),
			 0);
	assert_int_equal(o.cf.n, 1);
	struct lcfg got = {0};
	assert_int_equal(rdpi_cfg_flags_load(&o.cf, &lsec, &got, err, sizeof(err)), 0);
	assert_int_equal(got.limit, 9);	       /* the flag wins over the file */
	assert_string_equal(got.name, "file"); /* the file over the default */
	rdpi_cfg_free(&lsec, &got);
	/* a bad flag value fails during the parse, naming the key */
	char *bad[] = {"--flow-limit", "5000"};
	assert_true(rdpi_flags_parse(2, bad, lflags, 3, take, &o, &next, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "flowLimit"));
	/* without --config a missing default file means defaults, flags still applied */
	struct lopts d = {.cf.config_path = "/nonexistent/dpi.conf"};
	assert_int_equal(rdpi_cfg_defaults(&lsec, &d.cfg, err, sizeof(err)), 0);
	char *one[] = {"--name", "flag"};
	assert_int_equal(rdpi_flags_parse(2, one, lflags, 3, take, &d, &next, err, sizeof(err)), 0);
	struct lcfg dg = {0};
	assert_int_equal(rdpi_cfg_flags_load(&d.cf, &lsec, &dg, err, sizeof(err)), 0);
	assert_int_equal(dg.limit, 100);
	assert_string_equal(dg.name, "flag");
	rdpi_cfg_free(&lsec, &dg);
	/* an explicit --config that does not exist is an error */
	d.cf.config_explicit = true;
	assert_true(rdpi_cfg_flags_load(&d.cf, &lsec, &dg, err, sizeof(err)) < 0);
	rdpi_cfg_free(&lsec, &o.cfg);
	rdpi_cfg_free(&lsec, &d.cfg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_go_forms),
	    cmocka_unit_test(test_flags_double_dash_ends),
	    cmocka_unit_test(test_flags_errors),
	    cmocka_unit_test(test_cfg_flags_bounded),
	    cmocka_unit_test(test_cfg_flags_read_file),
	    cmocka_unit_test(test_flags_command),
	    cmocka_unit_test(test_cfg_flags_take_and_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
