/* Tests for common/cfg: the table-driven libconfig loader (types, bounds,
 * file:line errors, reload semantics, overrides, dump round trip). */
#include "common/cfg.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SEC INT64_C(1000000000)
#define MS  INT64_C(1000000)

struct tcfg {
	char *name;
	char *engine;
	char *socket;
	int64_t first_payload;
	int64_t copy_range;
	int64_t flow_ttl;
	int64_t flow_limit;
	int64_t request_timeout;
	bool verbose;
	int untouched; /* not in the table: the loader must leave it alone */
};

static const char *const engines[] = {"builtin", "ndpi-agent", "auto", NULL};

static const struct rdpi_cfg_key tkeys[] = {
    {"name", RDPI_CFG_STRING, 0, 0, "default", offsetof(struct tcfg, name), NULL, "Instance name."},
    {"engine", RDPI_CFG_ENUM, 0, 0, "auto", offsetof(struct tcfg, engine), engines,
     "Classification engine."},
    {"socket", RDPI_CFG_STRING, 0, 0, "/run/routerd/dpi-classifier/default.sock",
     offsetof(struct tcfg, socket), NULL, "HTTP shim socket."},
    {"firstPayloadPackets", RDPI_CFG_INT, 1, 1000, "10", offsetof(struct tcfg, first_payload), NULL,
     "Payload packets inspected per flow."},
    {"copyRange", RDPI_CFG_SIZE, 64, 65536, "2048", offsetof(struct tcfg, copy_range), NULL,
     "Bytes copied per packet."},
    {"flowTTL", RDPI_CFG_DURATION, 1 * SEC, 7 * 24 * 3600 * SEC, "1h",
     offsetof(struct tcfg, flow_ttl), NULL, "Idle flow expiry."},
    {"flowLimit", RDPI_CFG_INT, 1, 1000000, "100000", offsetof(struct tcfg, flow_limit), NULL,
     "Maximum tracked flows."},
    {"requestTimeout", RDPI_CFG_DURATION, 0, 0, "200ms", offsetof(struct tcfg, request_timeout),
     NULL, "Agent request timeout."},
    {"verbose", RDPI_CFG_BOOL, 0, 0, "false", offsetof(struct tcfg, verbose), NULL,
     "Debug logging."},
};

static const struct rdpi_cfg_section tsec = {"classifier", tkeys, sizeof(tkeys) / sizeof(tkeys[0])};
static const char *const known[] = {"firewallLog", "agent", NULL};

/* Write text to a fresh temp file; the caller unlinks ret_path. */
static void write_temp(const char *text, char *ret_path, size_t len)
{
	snprintf(ret_path, len, "/tmp/test_cfg_XXXXXX");
	int fd = mkstemp(ret_path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* Load text through a real file, returning the loader's result and message. */
static int load_via_file(const char *text, struct tcfg *c, char *path, size_t pathlen, char *err,
			 size_t errlen)
{
	write_temp(text, path, pathlen);
	int r = rdpi_cfg_load_file(path, &tsec, known, c, err, errlen);
	unlink(path);
	return r;
}

static void expect_error(const char *text, int want_r, const char *want_err)
{
	struct tcfg c = {0};
	char err[512] = "";
	int r = rdpi_cfg_load_string(text, "t.conf", &tsec, known, &c, err, sizeof(err));
	if (r != want_r || strcmp(err, want_err) != 0)
		fail_msg("got %d \"%s\", want %d \"%s\"", r, err, want_r, want_err);
	assert_null(c.name); /* nothing written on failure */
	assert_int_equal(c.flow_limit, 0);
}

static void test_cfg_defaults(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char err[256];
	assert_int_equal(rdpi_cfg_defaults(&tsec, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "default");
	assert_string_equal(c.engine, "auto");
	assert_string_equal(c.socket, "/run/routerd/dpi-classifier/default.sock");
	assert_int_equal(c.first_payload, 10);
	assert_int_equal(c.copy_range, 2048);
	assert_true(c.flow_ttl == 3600 * SEC);
	assert_int_equal(c.flow_limit, 100000);
	assert_true(c.request_timeout == 200 * MS);
	assert_false(c.verbose);
	/* again on a filled target: old strings are replaced, not leaked */
	assert_int_equal(rdpi_cfg_defaults(&tsec, &c, err, sizeof(err)), 0);
	rdpi_cfg_free(&tsec, &c);
	assert_null(c.name);
	rdpi_cfg_free(&tsec, &c);
	rdpi_cfg_free(&tsec, NULL);
}

static void test_cfg_good_file_every_type(void **state)
{
	(void)state;
	const char *text = "# routerd dpi\n"
			   "classifier = {\n"
			   "  name = \"lab\";\n"
			   "  engine = \"ndpi-agent\";\n"
			   "  socket = \"/tmp/x.sock\";\n"
			   "  firstPayloadPackets = 20;\n"
			   "  copyRange = \"64k\";\n"
			   "  flowTTL = \"2h45m\";\n"
			   "  flowLimit = 5000;\n"
			   "  requestTimeout = \"1.5s\";\n"
			   "  verbose = true;\n"
			   "};\n"
			   "firewallLog = { nflogGroup = 1; path = \"/var/lib/x.db\"; };\n";
	struct tcfg c = {0};
	c.untouched = 77;
	char path[64], err[256] = "";
	int r = load_via_file(text, &c, path, sizeof(path), err, sizeof(err));
	if (r != 0)
		fail_msg("%s", err);
	assert_string_equal(c.name, "lab");
	assert_string_equal(c.engine, "ndpi-agent");
	assert_string_equal(c.socket, "/tmp/x.sock");
	assert_int_equal(c.first_payload, 20);
	assert_int_equal(c.copy_range, 65536);
	assert_true(c.flow_ttl == (2 * 3600 + 45 * 60) * SEC);
	assert_int_equal(c.flow_limit, 5000);
	assert_true(c.request_timeout == 1500 * MS);
	assert_true(c.verbose);
	assert_int_equal(c.untouched, 77);
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_size_integer_and_zero_duration(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char err[256] = "";
	const char *text = "classifier = { copyRange = 4096; requestTimeout = 0; };";
	assert_int_equal(rdpi_cfg_load_string(text, "t.conf", &tsec, NULL, &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.copy_range, 4096);
	assert_int_equal(c.request_timeout, 0);
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_missing_section_gives_defaults(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char path[64], err[256] = "";
	assert_int_equal(load_via_file("agent = { flowTTL = \"5m\"; };\n", &c, path, sizeof(path),
				       err, sizeof(err)),
			 0);
	assert_string_equal(c.name, "default");
	assert_int_equal(c.flow_limit, 100000);
	rdpi_cfg_free(&tsec, &c);

	assert_int_equal(rdpi_cfg_load_string("", "empty", &tsec, known, &c, err, sizeof(err)), 0);
	assert_string_equal(c.engine, "auto");
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_unknown_key_reports_line(void **state)
{
	(void)state;
	const char *text = "classifier = {\n"
			   "  name = \"a\";\n"
			   "\n"
			   "  flowLimit = 10;\n"
			   "  flowLimmit = 10;\n"
			   "};\n";
	struct tcfg c = {0};
	char path[64], err[512] = "", want[600];
	assert_int_equal(load_via_file(text, &c, path, sizeof(path), err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:5: unknown key \"flowLimmit\" in section \"classifier\"",
		 path);
	assert_string_equal(err, want);
	assert_null(c.name);

	expect_error("classifier = {\n name = \"x\";\n};\n\nbogus = 1;\n", -EINVAL,
		     "t.conf:5: unknown section \"bogus\"");
	/* known_sections NULL: other groups are ignored */
	assert_int_equal(
	    rdpi_cfg_load_string("bogus = 1;", "t.conf", &tsec, NULL, &c, err, sizeof(err)), 0);
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_parse_error_reports_line(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char path[64], err[512] = "", want[600];
	assert_int_equal(load_via_file("classifier = {\n  name = \"a\";\n  flowLimit = = 3;\n};\n",
				       &c, path, sizeof(path), err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	assert_string_equal(err, want);
	expect_error("classifier = {\n flowLimit = 1;\n flowLimit = 2;\n};\n", -EINVAL,
		     "t.conf:3: duplicate setting name");

	assert_int_equal(
	    rdpi_cfg_load_file("/nonexistent/dpi.conf", &tsec, known, &c, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err, "/nonexistent/dpi.conf: No such file or directory");
	assert_null(c.name);
}

static void test_cfg_range_error_text(void **state)
{
	(void)state;
	expect_error("classifier = {\n  flowLimit = 5000000;\n};\n", -ERANGE,
		     "t.conf:2: classifier.flowLimit: 5000000 out of range [1, 1000000]");
	expect_error("classifier = {\n  flowLimit = 0;\n};\n", -ERANGE,
		     "t.conf:2: classifier.flowLimit: 0 out of range [1, 1000000]");
	expect_error("classifier = {\n\n  flowTTL = \"8d\";\n};\n", -ERANGE,
		     "t.conf:3: classifier.flowTTL: 192h0m0s out of range [1s, 168h0m0s]");
	expect_error("classifier = { copyRange = \"1M\"; };\n", -ERANGE,
		     "t.conf:1: classifier.copyRange: 1MiB out of range [64, 64KiB]");
	expect_error("classifier = { copyRange = 16; };\n", -ERANGE,
		     "t.conf:1: classifier.copyRange: 16 out of range [64, 64KiB]");
}

static void test_cfg_large_integers_not_truncated(void **state)
{
	(void)state;
	/* libconfig 1.5 alone would read 5000000000 as 705032704 (in range) */
	expect_error("classifier = {\n  flowLimit = 5000000000;\n};\n", -ERANGE,
		     "t.conf:2: classifier.flowLimit: 5000000000 out of range [1, 1000000]");
	expect_error("classifier = { flowLimit = 0x100000000; };\n", -ERANGE,
		     "t.conf:1: classifier.flowLimit: 4294967296 out of range [1, 1000000]");
	expect_error("# x = 1;\nclassifier = {\n  flowLimit = 99999999999999999999;\n};\n", -ERANGE,
		     "t.conf:3: integer 99999999999999999999 does not fit in 64 bits");
	expect_error("classifier = { copyRange = 5000000000L; };\n", -ERANGE,
		     "t.conf:1: classifier.copyRange: 5000000000 out of range [64, 64KiB]");

	/* unbounded int64 keys keep the full value; numbers in strings and
	 * comments are left alone */
	static const struct rdpi_cfg_key k[] = {
	    {"n", RDPI_CFG_INT, 0, 0, "0", 0, NULL, NULL},
	    {"s", RDPI_CFG_STRING, 0, 0, NULL, sizeof(int64_t), NULL, NULL},
	};
	static const struct rdpi_cfg_section sec = {"x", k, 2};
	struct {
		int64_t n;
		char *s;
	} v = {0};
	char err[256] = "";
	assert_int_equal(rdpi_cfg_load_string("x = { n = -9223372036854775808; s = \"5000000000\"; "
					      "}; /* 5000000000 */ // 6000000000\n",
					      "t", &sec, NULL, &v, err, sizeof(err)),
			 0);
	assert_true(v.n == INT64_MIN);
	assert_string_equal(v.s, "5000000000");
	rdpi_cfg_free(&sec, &v);
}

static void test_cfg_wrong_type(void **state)
{
	(void)state;
	expect_error("classifier = {\n  flowLimit = \"100\";\n};\n", -EINVAL,
		     "t.conf:2: classifier.flowLimit: expected integer");
	expect_error("classifier = { flowLimit = 1.5; };\n", -EINVAL,
		     "t.conf:1: classifier.flowLimit: expected integer");
	expect_error("classifier = { verbose = 1; };\n", -EINVAL,
		     "t.conf:1: classifier.verbose: expected boolean (true or false)");
	expect_error("classifier = { name = 3; };\n", -EINVAL,
		     "t.conf:1: classifier.name: expected string");
	expect_error("classifier = { name = [\"a\"]; };\n", -EINVAL,
		     "t.conf:1: classifier.name: expected string");
	expect_error("classifier = { copyRange = true; };\n", -EINVAL,
		     "t.conf:1: classifier.copyRange: expected size (integer bytes or a string "
		     "such as \"64k\")");
	expect_error("classifier = { copyRange = -5; };\n", -EINVAL,
		     "t.conf:1: classifier.copyRange: -5 is not a size");
	expect_error("classifier = 5;\n", -EINVAL,
		     "t.conf:1: classifier: expected a group { ... }");
}

static void test_cfg_bad_duration(void **state)
{
	(void)state;
	expect_error("classifier = {\n  flowTTL = \"1 hour\";\n};\n", -EINVAL,
		     "t.conf:2: classifier.flowTTL: \"1 hour\" is not a duration (e.g. \"200ms\", "
		     "\"1h30m\", \"7d\")");
	expect_error("classifier = {\n  flowTTL = 3600;\n};\n", -EINVAL,
		     "t.conf:2: classifier.flowTTL: integer 3600 is ambiguous, write a duration "
		     "string such as \"3600s\"");
	expect_error("classifier = { requestTimeout = 1.5; };\n", -EINVAL,
		     "t.conf:1: classifier.requestTimeout: expected duration string such as "
		     "\"1h30m\"");
	expect_error("classifier = { requestTimeout = \"999999999h\"; };\n", -ERANGE,
		     "t.conf:1: classifier.requestTimeout: \"999999999h\" does not fit in 64 bits");
	expect_error("classifier = { copyRange = \"64 k\"; };\n", -EINVAL,
		     "t.conf:1: classifier.copyRange: \"64 k\" is not a size (e.g. \"2048\", "
		     "\"64k\", \"1MiB\")");
}

static void test_cfg_enum_trimmed_lowercased(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char err[256] = "";
	assert_int_equal(rdpi_cfg_load_string("classifier = { engine = \"  NDPI-Agent \\t\"; };",
					      "t.conf", &tsec, known, &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.engine, "ndpi-agent");
	rdpi_cfg_free(&tsec, &c);
	expect_error(
	    "classifier = {\n  engine = \"ndpi\";\n};\n", -EINVAL,
	    "t.conf:2: classifier.engine: \"ndpi\" is not one of builtin, ndpi-agent, auto");
	expect_error("classifier = { engine = 1; };\n", -EINVAL,
		     "t.conf:1: classifier.engine: expected string");
}

static void test_cfg_set_overrides_and_errors(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char err[256] = "";
	assert_int_equal(rdpi_cfg_defaults(&tsec, &c, err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "flowLimit", "500", err, sizeof(err)), 0);
	assert_int_equal(c.flow_limit, 500);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "flowTTL", "7d", err, sizeof(err)), 0);
	assert_true(c.flow_ttl == 7 * 24 * 3600 * SEC);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "copyRange", "4KiB", err, sizeof(err)), 0);
	assert_int_equal(c.copy_range, 4096);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "verbose", "Yes", err, sizeof(err)), 0);
	assert_true(c.verbose);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "verbose", "off", err, sizeof(err)), 0);
	assert_false(c.verbose);
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "engine", " Builtin", err, sizeof(err)), 0);
	assert_string_equal(c.engine, "builtin");
	assert_int_equal(rdpi_cfg_set(&tsec, &c, "name", "", err, sizeof(err)), 0);
	assert_string_equal(c.name, "");

	static const struct {
		const char *key, *value;
		int r;
		const char *err;
	} bad[] = {
	    {"flowLimit", "abc", -EINVAL, "classifier.flowLimit: \"abc\" is not an integer"},
	    {"flowLimit", " 5", -EINVAL, "classifier.flowLimit: \" 5\" is not an integer"},
	    {"flowLimit", "5x", -EINVAL, "classifier.flowLimit: \"5x\" is not an integer"},
	    {"flowLimit", "0", -ERANGE, "classifier.flowLimit: 0 out of range [1, 1000000]"},
	    {"flowLimit", "99999999999999999999", -ERANGE,
	     "classifier.flowLimit: \"99999999999999999999\" does not fit in 64 bits"},
	    {"flowTTL", "forever", -EINVAL,
	     "classifier.flowTTL: \"forever\" is not a duration (e.g. \"200ms\", \"1h30m\", "
	     "\"7d\")"},
	    {"flowTTL", "0", -ERANGE, "classifier.flowTTL: 0s out of range [1s, 168h0m0s]"},
	    {"verbose", "maybe", -EINVAL,
	     "classifier.verbose: \"maybe\" is not a boolean (true or false)"},
	    {"engine", "x", -EINVAL,
	     "classifier.engine: \"x\" is not one of builtin, ndpi-agent, auto"},
	    {"nope", "1", -ENOENT, "unknown key \"nope\" in section \"classifier\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = rdpi_cfg_set(&tsec, &c, bad[i].key, bad[i].value, err, sizeof(err));
		if (r != bad[i].r || strcmp(err, bad[i].err) != 0)
			fail_msg("%s=%s: got %d \"%s\"", bad[i].key, bad[i].value, r, err);
	}
	/* failed overrides left every value alone */
	assert_int_equal(c.flow_limit, 500);
	assert_true(c.flow_ttl == 7 * 24 * 3600 * SEC);
	assert_string_equal(c.engine, "builtin");
	assert_false(c.verbose);
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_failed_load_keeps_target(void **state)
{
	(void)state;
	struct tcfg c = {0};
	char path[64], err[256] = "";
	assert_int_equal(load_via_file("classifier = { name = \"old\"; flowLimit = 7; };", &c, path,
				       sizeof(path), err, sizeof(err)),
			 0);
	/* a bad reload (good keys first, then a bad one) changes nothing */
	assert_int_equal(load_via_file("classifier = { name = \"new\"; engine = \"builtin\"; "
				       "flowLimit = 9;\n flowTTL = \"x\"; };",
				       &c, path, sizeof(path), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(c.name, "old");
	assert_string_equal(c.engine, "auto");
	assert_int_equal(c.flow_limit, 7);
	/* a good reload swaps everything in, including defaults for keys now absent */
	assert_int_equal(load_via_file("classifier = { engine = \"builtin\"; };", &c, path,
				       sizeof(path), err, sizeof(err)),
			 0);
	assert_string_equal(c.name, "default");
	assert_string_equal(c.engine, "builtin");
	assert_int_equal(c.flow_limit, 100000);
	rdpi_cfg_free(&tsec, &c);
}

static void test_cfg_bad_default_rejected(void **state)
{
	(void)state;
	static const struct rdpi_cfg_key k[] = {
	    {"n", RDPI_CFG_INT, 1, 10, "11", 0, NULL, NULL},
	};
	static const struct rdpi_cfg_section sec = {"x", k, 1};
	int64_t n = 5;
	char err[256] = "";
	assert_int_equal(rdpi_cfg_defaults(&sec, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad default: x.n: 11 out of range [1, 10]");
	assert_int_equal(n, 5);
	assert_int_equal(rdpi_cfg_load_string("", "t", &sec, NULL, &n, err, sizeof(err)), -EINVAL);

	static const struct rdpi_cfg_key e[] = {
	    {"e", RDPI_CFG_ENUM, 0, 0, "a", 0, NULL, NULL},
	};
	static const struct rdpi_cfg_section esec = {"x", e, 1};
	char *s = NULL;
	assert_int_equal(rdpi_cfg_defaults(&esec, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
}

static void test_cfg_copy_deep(void **state)
{
	(void)state;
	struct tcfg a = {0}, b = {0};
	char err[256];
	assert_int_equal(rdpi_cfg_defaults(&tsec, &a, err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_set(&tsec, &a, "name", "copied", err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_defaults(&tsec, &b, err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_copy(&tsec, &b, &a), 0);
	assert_string_equal(b.name, "copied");
	assert_ptr_not_equal(b.name, a.name);
	assert_int_equal(b.flow_limit, a.flow_limit);
	rdpi_cfg_free(&tsec, &a);
	assert_string_equal(b.engine, "auto");
	assert_int_equal(rdpi_cfg_copy(&tsec, &b, &b), 0);
	rdpi_cfg_free(&tsec, &b);
}

static void test_cfg_find(void **state)
{
	(void)state;
	assert_ptr_equal(rdpi_cfg_find(&tsec, "flowTTL"), &tkeys[5]);
	assert_null(rdpi_cfg_find(&tsec, "flowttl"));
	assert_null(rdpi_cfg_find(&tsec, NULL));
	assert_null(rdpi_cfg_find(NULL, "flowTTL"));
}

static char *dump_to_string(const struct rdpi_cfg_section *sec, const void *target)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(rdpi_cfg_dump(sec, target, f), 0);
	fclose(f);
	return buf;
}

static void test_cfg_dump_round_trip(void **state)
{
	(void)state;
	struct tcfg a = {0}, b = {0};
	char err[256] = "";
	assert_int_equal(rdpi_cfg_defaults(&tsec, &a, err, sizeof(err)), 0);
	char *text = dump_to_string(&tsec, &a);
	assert_non_null(strstr(text, "classifier = {\n"));
	assert_non_null(strstr(text, "\t# Idle flow expiry.\n\tflowTTL = \"1h0m0s\";\n"));
	assert_non_null(strstr(text, "\t# Classification engine. (builtin | ndpi-agent | auto)\n"
				     "\tengine = \"auto\";\n"));
	assert_non_null(strstr(text, "\tcopyRange = \"2KiB\";\n"));
	assert_non_null(strstr(text, "\trequestTimeout = \"200ms\";\n"));
	assert_non_null(strstr(text, "\tverbose = false;\n"));
	free(text);

	/* awkward values: escapes, controls, UTF-8, odd durations */
	assert_int_equal(
	    rdpi_cfg_set(&tsec, &a, "name", "q\"b\\s\nt\tc\x01\x7f\xc2\xb5", err, sizeof(err)), 0);
	assert_int_equal(
	    rdpi_cfg_set(&tsec, &a, "requestTimeout", "1.000000001s", err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_set(&tsec, &a, "copyRange", "1000", err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_set(&tsec, &a, "verbose", "true", err, sizeof(err)), 0);
	assert_int_equal(rdpi_cfg_set(&tsec, &a, "flowTTL", "1.5\xc2\xb5s", err, sizeof(err)),
			 -ERANGE);
	free(a.socket);
	a.socket = NULL; /* unset string: dumped as a comment, loads as its default */

	text = dump_to_string(&tsec, &a);
	char path[64];
	write_temp(text, path, sizeof(path));
	int r = rdpi_cfg_load_file(path, &tsec, NULL, &b, err, sizeof(err));
	unlink(path);
	if (r != 0)
		fail_msg("%s\n%s", err, text);
	free(text);
	assert_string_equal(b.name, a.name);
	assert_string_equal(b.engine, a.engine);
	assert_string_equal(b.socket, "/run/routerd/dpi-classifier/default.sock");
	assert_int_equal(b.first_payload, a.first_payload);
	assert_int_equal(b.copy_range, 1000);
	assert_true(b.flow_ttl == a.flow_ttl);
	assert_int_equal(b.flow_limit, a.flow_limit);
	assert_true(b.request_timeout == SEC + 1);
	assert_true(b.verbose);
	rdpi_cfg_free(&tsec, &a);
	rdpi_cfg_free(&tsec, &b);

	/* int64 beyond int32 survives the round trip */
	static const struct rdpi_cfg_key k[] = {{"n", RDPI_CFG_INT, 0, 0, "0", 0, NULL, "big"}};
	static const struct rdpi_cfg_section sec = {"x", k, 1};
	int64_t n = INT64_C(-5000000000), m = 0;
	text = dump_to_string(&sec, &n);
	assert_string_equal(text, "x = {\n\t# big\n\tn = -5000000000L;\n};\n");
	assert_int_equal(rdpi_cfg_load_string(text, "dump", &sec, NULL, &m, err, sizeof(err)), 0);
	assert_true(m == n);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cfg_defaults),
	    cmocka_unit_test(test_cfg_good_file_every_type),
	    cmocka_unit_test(test_cfg_size_integer_and_zero_duration),
	    cmocka_unit_test(test_cfg_missing_section_gives_defaults),
	    cmocka_unit_test(test_cfg_unknown_key_reports_line),
	    cmocka_unit_test(test_cfg_parse_error_reports_line),
	    cmocka_unit_test(test_cfg_range_error_text),
	    cmocka_unit_test(test_cfg_large_integers_not_truncated),
	    cmocka_unit_test(test_cfg_wrong_type),
	    cmocka_unit_test(test_cfg_bad_duration),
	    cmocka_unit_test(test_cfg_enum_trimmed_lowercased),
	    cmocka_unit_test(test_cfg_set_overrides_and_errors),
	    cmocka_unit_test(test_cfg_failed_load_keeps_target),
	    cmocka_unit_test(test_cfg_bad_default_rejected),
	    cmocka_unit_test(test_cfg_copy_deep),
	    cmocka_unit_test(test_cfg_find),
	    cmocka_unit_test(test_cfg_dump_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
