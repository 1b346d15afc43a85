/* Integration tests of the shipped routerd-firewall-logger binary (any user): selftest, the
 * kv/json line inputs, a pcap replay classified by a real routerd-dpi-classifier, the HTTP
 * status shim on scratch sockets, SIGTERM cleanup and flag validation. Checks the database
 * through the SQLite C API. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sqlite3.h>

#include "common/packet.h"
#include "common/synth.h"
#include "testutil.h"

static char logger_bin[PATH_MAX];
static char classifier_bin[PATH_MAX];
static char dir[64];
static unsigned seq;
static bool have_logger;

/* ---- process helpers ------------------------------------------------------------------ */

/* Run a shell command, capture its stdout, return the exit code (-1 when killed). */
/* Fork and exec argv; stderr goes to errpath (appended) when non-NULL, else /dev/null. */
/* waitpid with a deadline: the exit status (WEXITSTATUS), 128+sig when killed by a signal,
 * -1 when it did not exit in time (then it is SIGKILLed and reaped). */
/* ---- classifier ----------------------------------------------------------------------- */

struct classifier {
	pid_t pid;
	char sock[128];
	char ipc[140];
	char err[128]; /* its stderr */
};

static int classifier_start(struct classifier *c)
{
	unsigned n = seq++;
	snprintf(c->sock, sizeof(c->sock), "%s/c%u.sock", dir, n);
	snprintf(c->ipc, sizeof(c->ipc), "ipc://%s/c%u.ipc", dir, n);
	snprintf(c->err, sizeof(c->err), "%s/c%u.err", dir, n);
	const char *argv[] = {classifier_bin, "daemon", "--engine", "builtin", "--socket",
			      c->sock,	      "--ipc",	c->ipc,	    NULL};
	c->pid = tu_spawn(argv, c->err);
	if (c->pid < 0)
		return -1;
	return tu_wait_for_socket(c->sock, 0, 20000); /* ASan on a loaded machine */
}

/* SIGTERM; a non-zero exit (e.g. a sanitizer report) is printed, not failed: the
 * classifier's own test owns its exit status. */
static void classifier_stop(struct classifier *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		int rc = tu_wait_exit(c->pid, 5000);
		if (rc != 0) {
			print_message("warning: classifier exited %d; stderr:\n", rc);
			tu_print_file(c->err);
		}
	}
	c->pid = 0;
}

/* ---- database ------------------------------------------------------------------------- */

/* Prints every row of a table (debug output on failures). */
static void db_dump(const char *db, const char *table)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		print_message("cannot dump %s of %s\n", table, db);
		goto out;
	}
	print_message("%s:\n", table);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[4096];
		size_t o = 0;
		for (int i = 0; i < sqlite3_column_count(st) && o < sizeof(line) - 1; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			if (t)
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%s=%s ",
						      sqlite3_column_name(st, i), (const char *)t);
		}
		line[o < sizeof(line) ? o : sizeof(line) - 1] = '\0';
		print_message("  %s\n", line);
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* Asserts that a COUNT(*) query gives at least min rows; dumps the tables otherwise. */
#define expect_rows(db, min, ...)                                                                  \
	do {                                                                                       \
		long long n_ = tu_db_int(db, __VA_ARGS__);                                            \
		if (n_ < (min)) {                                                                  \
			db_dump(db, "firewall_logs");                                              \
			db_dump(db, "dpi_flow");                                                   \
			fail_msg("%lld rows (want >= %d) for: %s", n_, (int)(min), tu_last_sql());      \
		}                                                                                  \
	} while (0)

#define expect_no_rows(db, ...)                                                                    \
	do {                                                                                       \
		long long n_ = tu_db_int(db, __VA_ARGS__);                                            \
		if (n_ != 0) {                                                                     \
			db_dump(db, "firewall_logs");                                              \
			db_dump(db, "dpi_flow");                                                   \
			fail_msg("%lld rows (want 0) for: %s", n_, tu_last_sql());                      \
		}                                                                                  \
	} while (0)

/* ---- logger --------------------------------------------------------------------------- */

#define SKIP_WITHOUT_LOGGER()                                                                      \
	do {                                                                                       \
		if (!have_logger) {                                                                \
			print_message("skip: %s not built (services/logger/main.c missing)\n",     \
				      logger_bin);                                                 \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

struct ldaemon {
	pid_t pid;
	char sock[128];
	char ipc[140];
	char ipc_path[128];
	char err[128]; /* its stderr */
};

static void logger_paths(struct ldaemon *l)
{
	unsigned n = seq++;
	snprintf(l->sock, sizeof(l->sock), "%s/l%u.sock", dir, n);
	snprintf(l->ipc_path, sizeof(l->ipc_path), "%s/l%u.ipc", dir, n);
	snprintf(l->ipc, sizeof(l->ipc), "ipc://%s", l->ipc_path);
	snprintf(l->err, sizeof(l->err), "%s/l%u.err", dir, n);
}

/* Starts the logger daemon with --socket/--ipc scratch endpoints and extra (NULL-terminated). */
static pid_t logger_spawn(struct ldaemon *l, const char *const *extra)
{
	const char *argv[40] = {logger_bin, "daemon", "--socket", l->sock, "--ipc", l->ipc};
	int a = 6;
	for (int i = 0; extra && extra[i] && a < 38; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	l->pid = tu_spawn(argv, l->err);
	return l->pid;
}

/* Runs the logger to completion (line and pcap modes exit at EOF); its exit code. */
static int logger_run_to_eof(struct ldaemon *l, const char *const *extra)
{
	if (logger_spawn(l, extra) < 0)
		return -1;
	int rc = tu_wait_exit(l->pid, 30000);
	l->pid = 0;
	if (rc != 0) {
		print_message("logger exited %d; stderr:\n", rc);
		tu_print_file(l->err);
	}
	return rc;
}

static int http_get(const char *sock, const char *path, char *out, size_t outlen, int *ret_code)
{
	static char tmp[65536];
	int rc =
	    tu_run(tmp, sizeof(tmp),
		"curl -s --max-time 5 --unix-socket '%s' -w '\\n%%{http_code}' 'http://unix%s'",
		sock, path);
	char *nl = strrchr(tmp, '\n');
	if (rc != 0 || !nl)
		return -1;
	*ret_code = atoi(nl + 1);
	*nl = '\0';
	snprintf(out, outlen, "%s", tmp);
	return 0;
}

/* A stats value from a LoggerStatus JSON (uint64 rendered as a string or a number). */
static const char *const stat_keys[] = {"nflog_datagrams",
					"nflog_packets",
					"nflog_lost",
					"nflog_seq_gaps",
					"nflog_enobufs",
					"nflog_truncated",
					"nflog_parse_errors",
					"packets_in",
					"packet_errors",
					"dpi_candidates",
					"dpi_queue_depth",
					"dpi_queue_drops",
					"dpi_batches",
					"dpi_packets",
					"dpi_classified",
					"dpi_errors",
					"dpi_timeouts",
					"dpi_unavailable",
					"writer_queue_depth",
					"writer_queue_drops",
					"rows_firewall_logs",
					"rows_dpi_flow",
					"commits",
					"commit_errors",
					"rows_lost",
					"deny_enriched",
					"db_bytes"};

/* The contract stats keys the status lacks, space-separated, into missing ("" when none). */
static const char *missing_stat_keys(json_t *root, char *missing, size_t len)
{
	size_t o = 0;
	missing[0] = '\0';
	for (size_t i = 0; i < sizeof(stat_keys) / sizeof(stat_keys[0]); i++) {
		unsigned long long v;
		if (!tu_stat_get(root, stat_keys[i], &v) && o < len)
			o += (size_t)snprintf(missing + o, len - o, " %s", stat_keys[i]);
	}
	return missing;
}

/* ---- selftest ------------------------------------------------------------------------- */

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void check_selftest_rows(const char *db)
{
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE action = 'drop' AND "
		    "tcp_flags LIKE '%%SYN%%'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE tls_sni = 'routerd-flow-cache.example' OR "
		    "http_host = 'routerd-flow-cache.example'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE correlation = 'orphan_return'");
}

static void test_daemon_selftest_without_classifier(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char db[128], out[4096], want[256];
	snprintf(db, sizeof(db), "%s/self1.db", dir);
	assert_int_equal(tu_run(out, sizeof(out), "'%s' selftest --path '%s'", logger_bin, db), 0);
	trim(out);
	print_message("%s\n", out);
	snprintf(want, sizeof(want), "{\"ok\":true,\"path\":\"%s\"}", db);
	assert_string_equal(out, want);
	check_selftest_rows(db);
	/* no classifier: no DPI label on a firewall_logs row (unless a real one answers on the
	 * default socket of this machine) */
	if (access("/run/routerd/dpi-classifier/default.sock", F_OK) != 0)
		expect_no_rows(db, "SELECT COUNT(*) FROM firewall_logs WHERE dpi_app = 'tls'");

	/* an explicitly empty --dpi-socket disables DPI */
	snprintf(db, sizeof(db), "%s/self2.db", dir);
	assert_int_equal(
	    tu_run(out, sizeof(out), "'%s' selftest --path '%s' --dpi-socket ''", logger_bin, db), 0);
	trim(out);
	snprintf(want, sizeof(want), "{\"ok\":true,\"path\":\"%s\"}", db);
	assert_string_equal(out, want);
	check_selftest_rows(db);
	expect_no_rows(db, "SELECT COUNT(*) FROM firewall_logs WHERE dpi_app = 'tls'");
}

static void test_daemon_selftest_with_classifier(void **state)
{
	SKIP_WITHOUT_LOGGER();
	struct classifier c = {0};
	assert_int_equal(classifier_start(&c), 0);
	char db[128], out[4096], want[256];
	snprintf(db, sizeof(db), "%s/self3.db", dir);
	int rc = tu_run(out, sizeof(out), "'%s' selftest --path '%s' --dpi-socket '%s'", logger_bin,
		     db, c.ipc);
	classifier_stop(&c);
	assert_int_equal(rc, 0);
	trim(out);
	print_message("%s\n", out);
	snprintf(want, sizeof(want), "{\"ok\":true,\"path\":\"%s\"}", db);
	assert_string_equal(out, want);
	check_selftest_rows(db);
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE dpi_app = 'tls' AND "
		    "dpi_tls_sni IS NOT NULL AND dpi_tls_sni != ''");
}

/* ---- text line inputs ----------------------------------------------------------------- */

/* kernel-log style key=value lines (what `log prefix ...` without a group writes) */
static const char kv_lines[] =
    "routerd firewall forward deny IN=lan0 OUT=wan0 MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 "
    "SRC=192.0.2.10 DST=198.51.100.20 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=4242 DF PROTO=TCP "
    "SPT=40001 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0\n"
    "routerd firewall lan-to-wan drop IN=lan0 OUT=wan0 SRC=192.0.2.11 DST=198.51.100.21 LEN=72 "
    "TOS=0x00 PREC=0x00 TTL=63 ID=77 PROTO=UDP SPT=40002 DPT=5353 LEN=52\n"
    "routerd firewall forward accept IN=lan0 OUT=wan0 SRC=192.0.2.12 DST=198.51.100.22 LEN=60 "
    "TOS=0x00 PREC=0x00 TTL=63 ID=78 DF PROTO=TCP SPT=40003 DPT=443 WINDOW=64240 RES=0x00 SYN "
    "URGP=0\n";

/* ulogd2 JSON output style lines */
static const char json_lines[] =
    "{\"timestamp\":\"2026-11-26T10:00:00.000000+0000\",\"oob.prefix\":\"routerd firewall "
    "forward deny \",\"oob.in\":\"lan0\",\"oob.out\":\"wan0\",\"raw.pktlen\":60,"
    "\"ip.protocol\":6,\"src_ip\":\"192.0.2.30\",\"dest_ip\":\"198.51.100.40\","
    "\"ip.totlen\":60,\"src_port\":41001,\"dest_port\":22,\"tcp.syn\":1}\n"
    "{\"timestamp\":\"2026-11-26T10:00:01.000000+0000\",\"oob.prefix\":\"routerd firewall "
    "lan-to-wan drop \",\"oob.in\":\"lan0\",\"oob.out\":\"wan0\",\"ip.protocol\":17,"
    "\"src_ip\":\"192.0.2.31\",\"dest_ip\":\"198.51.100.41\",\"ip.totlen\":72,"
    "\"src_port\":41002,\"dest_port\":5353}\n"
    "{\"timestamp\":\"2026-11-26T10:00:02.000000+0000\",\"oob.prefix\":\"routerd firewall "
    "forward accept \",\"oob.in\":\"lan0\",\"oob.out\":\"wan0\",\"ip.protocol\":6,"
    "\"src_ip\":\"192.0.2.32\",\"dest_ip\":\"198.51.100.42\",\"ip.totlen\":60,"
    "\"src_port\":41003,\"dest_port\":443,\"tcp.syn\":1}\n";

/* The rows a deny/drop/accept triple (base: the first address' last octet) must leave. */
static void check_line_rows(const char *db, int base, int port_base)
{
	/* forward deny over TCP SYN to :22 */
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.%d' AND "
		    "dst_address = '198.51.100.%d' AND src_port = %d AND dst_port = 22 AND "
		    "action = 'deny' AND rule_name = 'forward' AND protocol = 'tcp' AND "
		    "tcp_flags LIKE '%%SYN%%'",
		    base, base + 10, port_base + 1);
	/* lan-to-wan drop over UDP */
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.%d' AND "
		    "dst_address = '198.51.100.%d' AND src_port = %d AND dst_port = 5353 AND "
		    "action = 'drop' AND zone_from = 'lan' AND zone_to = 'wan' AND "
		    "rule_name = 'lan-to-wan' AND protocol = 'udp'",
		    base + 1, base + 11, port_base + 2);
	/* the accept line is a flow, not a log row */
	expect_no_rows(db,
		       "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.%d' OR "
		       "dst_address = '198.51.100.%d' OR action = 'accept'",
		       base + 2, base + 12);
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE src_address = '192.0.2.%d' AND "
		    "dst_address = '198.51.100.%d' AND src_port = %d AND dst_port = 443",
		    base + 2, base + 12, port_base + 3);
	assert_int_equal(tu_db_int(db, "SELECT COUNT(*) FROM firewall_logs"), 2);
}

static void run_lines(const char *name, const char *text, const char *format, char *db,
		      size_t dblen)
{
	char in[128];
	struct ldaemon l;
	logger_paths(&l);
	snprintf(in, sizeof(in), "%s/%s.in", dir, name);
	snprintf(db, dblen, "%s/%s.db", dir, name);
	tu_write_file(in, text);
	const char *extra[] = {"--input-file",	in,  "--input-format", format, "--path", db,
			       "--nflog-group", "0", "--dpi-socket",   "",     NULL};
	assert_int_equal(logger_run_to_eof(&l, extra), 0);
	/* the endpoints are gone after a clean exit */
	assert_int_not_equal(access(l.sock, F_OK), 0);
}

static void test_daemon_kv_lines(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char db[128];
	run_lines("kv", kv_lines, "kv", db, sizeof(db));
	check_line_rows(db, 10, 40000);
}

static void test_daemon_json_lines(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char db[128];
	run_lines("json", json_lines, "json", db, sizeof(db));
	check_line_rows(db, 30, 41000);
}

static void test_daemon_auto_lines(void **state)
{
	SKIP_WITHOUT_LOGGER();
	static char both[sizeof(kv_lines) + sizeof(json_lines)];
	char db[128];
	snprintf(both, sizeof(both), "%s%s", json_lines, kv_lines);
	run_lines("auto", both, "auto", db, sizeof(db));
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.10' AND "
		    "action = 'deny'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.31' AND "
		    "action = 'drop' AND zone_from = 'lan' AND zone_to = 'wan'");
	assert_int_equal(tu_db_int(db, "SELECT COUNT(*) FROM firewall_logs"), 4);
	assert_int_equal(tu_db_int(db, "SELECT COUNT(*) FROM dpi_flow"), 2);
}

/* ---- pcap input ----------------------------------------------------------------------- */

static void map4(const char *a, uint8_t out[16])
{
	int l3 = 0;
	assert_int_equal(rdpi_addr_parse(a, out, &l3), 0);
	assert_int_equal(l3, 4);
}

static void dump_frame(pcap_dumper_t *d, uint32_t usec, const uint8_t *l3, size_t len)
{
	uint8_t frame[2048];
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
	assert_true(len + sizeof(eth) <= sizeof(frame));
	memcpy(frame, eth, sizeof(eth));
	memcpy(frame + sizeof(eth), l3, len);
	struct pcap_pkthdr h = {.ts = {.tv_sec = 1764151200, .tv_usec = usec},
				.caplen = (bpf_u_int32)(len + sizeof(eth)),
				.len = (bpf_u_int32)(len + sizeof(eth))};
	pcap_dump((u_char *)d, &h, frame);
}

/* A DNS query for name (A, IN, RD). */
static size_t dns_query(const char *name, uint16_t id, uint8_t *buf, size_t cap)
{
	size_t o = 12;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		assert_true(o + n + 6 < cap);
		buf[o++] = (uint8_t)n;
		memcpy(buf + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	buf[o++] = 0;
	buf[o++] = 1; /* A */
	buf[o++] = 0;
	buf[o++] = 1; /* IN */
	return o;
}

static void write_pcap(const char *path)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(p);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	assert_non_null(d);
	uint8_t pkt[2048], hello[1024];
	size_t len = 0;

	/* TCP: SYN, SYN/ACK, then the ClientHello */
	struct rdpi_synth_tuple t = {.l3 = 4, .l4proto = IPPROTO_TCP, .sport = 45000, .dport = 443};
	map4("10.99.1.2", t.src);
	map4("10.99.2.2", t.dst);
	struct rdpi_synth_tcp syn = {.seq = 1000, .flags = 0x02};
	assert_int_equal(rdpi_synth_packet(&t, &syn, NULL, 0, pkt, sizeof(pkt), &len), 0);
	dump_frame(d, 1, pkt, len);
	struct rdpi_synth_tuple r = t;
	memcpy(r.src, t.dst, 16);
	memcpy(r.dst, t.src, 16);
	r.sport = t.dport;
	r.dport = t.sport;
	struct rdpi_synth_tcp synack = {.seq = 5000, .ack = 1001, .flags = 0x12};
	assert_int_equal(rdpi_synth_packet(&r, &synack, NULL, 0, pkt, sizeof(pkt), &len), 0);
	dump_frame(d, 2, pkt, len);
	size_t hl =
	    rdpi_synth_client_hello("pcap-e2e.example", "h2,http/1.1", hello, sizeof(hello));
	assert_true(hl > 0);
	len = rdpi_synth_tcp_packet("10.99.1.2", 45000, "10.99.2.2", 443, 1001, hello, hl, pkt,
				    sizeof(pkt));
	assert_true(len > 0);
	dump_frame(d, 3, pkt, len);

	/* UDP: a DNS query */
	uint8_t q[512];
	size_t ql = dns_query("pcap-dns.example", 0x1234, q, sizeof(q));
	len = rdpi_synth_udp_packet("10.99.1.2", 53001, "10.99.2.53", 53, q, ql, pkt, sizeof(pkt));
	assert_true(len > 0);
	dump_frame(d, 4, pkt, len);

	pcap_dump_close(d);
	pcap_close(p);
}

static void test_daemon_pcap_classified(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char pcap[128], db[128];
	snprintf(pcap, sizeof(pcap), "%s/e2e.pcap", dir);
	snprintf(db, sizeof(db), "%s/pcap.db", dir);
	write_pcap(pcap);

	struct classifier c = {0};
	assert_int_equal(classifier_start(&c), 0);
	struct ldaemon l;
	logger_paths(&l);
	const char *extra[] = {"--pcap", pcap,		 "--path", db,	"--nflog-group",
			       "0",	 "--dpi-socket", c.ipc,	   NULL};
	int rc = logger_run_to_eof(&l, extra);
	classifier_stop(&c);
	assert_int_equal(rc, 0);

	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE tls_sni = 'pcap-e2e.example' AND "
		    "app_name = 'tls' AND source = 'builtin-payload' AND "
		    "src_address = '10.99.1.2' AND src_port = 45000 AND "
		    "dst_address = '10.99.2.2' AND dst_port = 443");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE dns_query = 'pcap-dns.example' AND "
		    "app_name = 'dns' AND src_address = '10.99.1.2' AND dst_port = 53");
	/* accept packets never become firewall_logs rows */
	expect_no_rows(db, "SELECT COUNT(*) FROM firewall_logs");
	/* SYN, SYN/ACK and the hello are one flow */
	assert_int_equal(tu_db_int(db, "SELECT COUNT(*) FROM dpi_flow WHERE protocol = 'tcp'"), 1);
}

/* --pcap with --traffic-path: traffic-flows.db rows from the capture's own packets (no
 * conntrack): per-direction counters from the client side, ended at the last packet, labels
 * from the same verdicts as dpi_flow. */
static void test_daemon_pcap_traffic_flows(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char pcap[128], db[128], tdb[128];
	snprintf(pcap, sizeof(pcap), "%s/tf.pcap", dir);
	snprintf(db, sizeof(db), "%s/tf-fw.db", dir);
	snprintf(tdb, sizeof(tdb), "%s/tf-traffic.db", dir);
	write_pcap(pcap);

	struct classifier c = {0};
	assert_int_equal(classifier_start(&c), 0);
	struct ldaemon l;
	logger_paths(&l);
	const char *extra[] = {
	    "--pcap", pcap,	      "--path", db,  "--traffic-path", tdb, "--nflog-group",
	    "0",      "--dpi-socket", c.ipc,	NULL};
	int rc = logger_run_to_eof(&l, extra);
	classifier_stop(&c);
	assert_int_equal(rc, 0);

	assert_int_equal(tu_db_int(tdb, "SELECT COUNT(*) FROM flows"), 2);
	/* SYN and the hello go out, the SYN/ACK comes back; IP lengths: 40 + 40 + hello */
	expect_rows(tdb, 1,
		    "SELECT COUNT(*) FROM flows WHERE protocol = 'tcp' AND accounting = 'capture' "
		    "AND client_address = '10.99.1.2' AND client_port = 45000 AND "
		    "peer_address = '10.99.2.2' AND peer_port = 443 AND packets_out = 2 AND "
		    "packets_in = 1 AND bytes_in = 40 AND bytes_out > 80 AND "
		    "tls_sni = 'pcap-e2e.example' AND resolved_hostname = 'pcap-e2e.example' AND "
		    "source = 'builtin-payload' AND ts_ended IS NOT NULL AND "
		    "ts_ended >= ts_started AND flow_id IS NOT NULL");
	expect_rows(tdb, 1,
		    "SELECT COUNT(*) FROM flows WHERE protocol = 'udp' AND peer_port = 53 AND "
		    "packets_out = 1 AND packets_in = 0 AND bytes_in = 0 AND "
		    "dns_query = 'pcap-dns.example' AND app_name = 'dns'");
}

/* ---- status shim and SIGTERM ---------------------------------------------------------- */

/* A line-mode daemon reading a FIFO the test keeps open (O_RDWR: neither end blocks in open,
 * and the logger sees no EOF while we hold it). */
struct fifo_daemon {
	struct ldaemon l;
	char fifo[128], db[128];
	int wfd;
};

static void fifo_daemon_start(struct fifo_daemon *f, const char *name, const char *dpi)
{
	snprintf(f->fifo, sizeof(f->fifo), "%s/%s.fifo", dir, name);
	snprintf(f->db, sizeof(f->db), "%s/%s.db", dir, name);
	assert_int_equal(mkfifo(f->fifo, 0600), 0);
	f->wfd = open(f->fifo, O_RDWR | O_CLOEXEC);
	assert_true(f->wfd >= 0);
	logger_paths(&f->l);
	const char *extra[] = {"--input-file",	f->fifo, "--input-format", "kv", "--path", f->db,
			       "--nflog-group", "0",	 "--dpi-socket",   dpi,	 NULL};
	assert_true(logger_spawn(&f->l, extra) > 0);
	if (tu_wait_for_socket(f->l.sock, 0, 20000) != 0) {
		close(f->wfd);
		tu_print_file(f->l.err);
		kill(f->l.pid, SIGKILL);
		waitpid(f->l.pid, NULL, 0);
		fail_msg("logger did not create %s", f->l.sock);
	}
}

/* Writes the first kv line (a forward deny) and polls /v1/status until packets_in is 1;
 * returns the parsed status (caller json_decref()s it). */
static json_t *fifo_daemon_feed(struct fifo_daemon *f)
{
	const char *line = kv_lines;
	size_t n = (size_t)(strchr(line, '\n') - line + 1);
	assert_int_equal(write(f->wfd, line, n), (ssize_t)n);
	static char out[65536];
	int code = 0;
	json_t *root = NULL;
	unsigned long long pin = 0;
	for (int i = 0; i < 200 && pin < 1; i++) {
		assert_int_equal(http_get(f->l.sock, "/v1/status", out, sizeof(out), &code), 0);
		assert_int_equal(code, 200);
		json_decref(root);
		root = json_loads(out, 0, NULL);
		if (!root)
			fail_msg("status is not JSON: %s", out);
		if (!tu_stat_get(root, "packets_in", &pin)) {
			json_decref(root);
			fail_msg("status lacks stats.packets_in: %s", out);
		}
		if (pin < 1)
			usleep(20000);
	}
	print_message("status: %.300s ...\n", out);
	assert_int_equal(pin, 1);
	return root;
}

/* SIGTERM: exit 0 and both socket files gone. */
static void fifo_daemon_stop(struct fifo_daemon *f)
{
	assert_int_equal(kill(f->l.pid, SIGTERM), 0);
	int rc = tu_wait_exit(f->l.pid, 10000);
	f->l.pid = 0;
	close(f->wfd);
	if (rc != 0)
		tu_print_file(f->l.err);
	assert_int_equal(rc, 0);
	assert_int_not_equal(access(f->l.sock, F_OK), 0);
	assert_int_not_equal(access(f->l.ipc_path, F_OK), 0);
}

static void test_daemon_status_and_sigterm(void **state)
{
	SKIP_WITHOUT_LOGGER();
	struct classifier c = {0};
	assert_int_equal(classifier_start(&c), 0);
	struct fifo_daemon f;
	fifo_daemon_start(&f, "status", c.ipc);
	struct stat st;
	assert_int_equal(stat(f.l.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	json_t *root = fifo_daemon_feed(&f);
	assert_true(json_is_true(json_object_get(root, "ok")));
	assert_string_equal(json_string_value(json_object_get(root, "name")), "default");
	assert_non_null(json_string_value(json_object_get(root, "version")));
	assert_string_equal(json_string_value(json_object_get(root, "path")), f.db);
	assert_string_equal(json_string_value(json_object_get(root, "dpiSocket")), c.ipc);
	char missing[1024];
	if (*missing_stat_keys(root, missing, sizeof(missing))) {
		json_decref(root);
		fail_msg("status stats lacks:%s", missing);
	}
	unsigned long long v = 99;
	assert_true(tu_stat_get(root, "nflog_lost", &v));
	assert_int_equal(v, 0);
	assert_true(json_is_object(json_object_get(root, "resources")));
	json_decref(root);

	static char out[65536];
	int code = 0;
	assert_int_equal(http_get(f.l.sock, "/v1/healthz", out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	assert_int_equal(http_get(f.l.sock, "/metrics", out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	/* status keys stay as registered; /metrics shows Prometheus names */
	assert_non_null(strstr(out, "\nrouterd_dpi_logger_nflog_lost_total 0\n"));
	assert_non_null(strstr(out, "\nrouterd_dpi_logger_packets_in_total 1\n"));
	assert_non_null(strstr(out, "# TYPE routerd_dpi_logger_packets_in_total counter\n"));
	assert_non_null(strstr(out, "# TYPE routerd_dpi_logger_writer_queue_depth gauge\n"));
	assert_non_null(strstr(out, "# TYPE routerd_dpi_logger_commit_last_seconds gauge\n"));
	assert_non_null(
	    strstr(out, "# TYPE routerd_dpi_logger_dpi_latency_seconds_total counter\n"));
	assert_null(strstr(out, "routerd_firewall_logger_"));
	assert_null(strstr(out, "_us_"));
	assert_int_equal(http_get(f.l.sock, "/v1/nothing", out, sizeof(out), &code), 0);
	assert_int_equal(code, 404);

	/* SIGTERM flushes the pending row */
	fifo_daemon_stop(&f);
	classifier_stop(&c);
	expect_rows(f.db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE src_address = '192.0.2.10' AND "
		    "action = 'deny'");
}

/* The stats keys of the contract are there with DPI disabled too (zero). */
static void test_daemon_status_keys_without_dpi(void **state)
{
	SKIP_WITHOUT_LOGGER();
	struct fifo_daemon f;
	fifo_daemon_start(&f, "nodpi", "");
	json_t *root = fifo_daemon_feed(&f);
	assert_true(json_is_true(json_object_get(root, "ok")));
	/* stop first so a failed key check leaves no daemon behind */
	fifo_daemon_stop(&f);
	char missing[1024];
	missing_stat_keys(root, missing, sizeof(missing));
	json_decref(root);
	if (missing[0])
		fail_msg("status stats lacks (DPI disabled):%s", missing);
}

/* --nflog-group 0 and no input: the daemon only serves its endpoints until SIGTERM. */
static void test_daemon_serves_without_input(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char db[128];
	snprintf(db, sizeof(db), "%s/idle.db", dir);
	struct ldaemon l;
	logger_paths(&l);
	const char *extra[] = {"--path", db, "--nflog-group", "0", "--dpi-socket", "", NULL};
	assert_true(logger_spawn(&l, extra) > 0);
	int st = 0;
	bool up = tu_wait_for_socket(l.sock, 0, 20000) == 0;
	if (up)
		usleep(300000); /* still there a moment later? */
	if (waitpid(l.pid, &st, WNOHANG) == l.pid) {
		tu_print_file(l.err);
		fail_msg("logger exited (status %d) instead of serving: --nflog-group 0 without "
			 "--input-file/--input-format should only serve",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	if (!up) {
		kill(l.pid, SIGKILL);
		waitpid(l.pid, NULL, 0);
		tu_print_file(l.err);
		fail_msg("logger did not create %s", l.sock);
	}
	static char out[65536];
	int code = 0;
	assert_int_equal(http_get(l.sock, "/v1/status", out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	json_t *root = json_loads(out, 0, NULL);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "ok")));
	unsigned long long pin = 99;
	assert_true(tu_stat_get(root, "packets_in", &pin));
	assert_int_equal(pin, 0);
	json_decref(root);
	assert_int_equal(kill(l.pid, SIGTERM), 0);
	int rc = tu_wait_exit(l.pid, 10000);
	if (rc != 0)
		tu_print_file(l.err);
	assert_int_equal(rc, 0);
	assert_int_not_equal(access(l.sock, F_OK), 0);
	assert_int_not_equal(access(l.ipc_path, F_OK), 0);
}

/* ---- flag validation ------------------------------------------------------------------ */

static void test_daemon_bad_flags(void **state)
{
	SKIP_WITHOUT_LOGGER();
	char out[4096];
	int rc = tu_run(out, sizeof(out),
		     "timeout 10 '%s' daemon --nflog-group 70000 --path '%s/bad.db' --socket "
		     "'%s/bad.sock' --ipc 'ipc://%s/bad.ipc' 2>&1",
		     logger_bin, dir, dir, dir);
	print_message("--nflog-group 70000: rc %d: %s", rc, out);
	assert_int_equal(rc, 1);
	assert_non_null(strcasestr(out, "nflog"));

	rc = tu_run(out, sizeof(out),
		 "timeout 10 '%s' daemon --input-format xml --input-file /dev/null --nflog-group 0 "
		 "--path '%s/bad.db' --socket '%s/bad.sock' --ipc 'ipc://%s/bad.ipc' 2>&1",
		 logger_bin, dir, dir, dir);
	print_message("--input-format xml: rc %d: %s", rc, out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "xml"));
	assert_int_not_equal(access(dir, F_OK), -1);
}

/* ---- setup ---------------------------------------------------------------------------- */

/* The daemons of this build tree (tu_build_dir). */
static void find_binaries(void)
{
	char build[PATH_MAX];
	tu_build_dir(build, sizeof(build));
	snprintf(logger_bin, sizeof(logger_bin), "%.*s/services/logger/routerd-firewall-logger",
		 (int)(sizeof(logger_bin) - 48), build);
	snprintf(classifier_bin, sizeof(classifier_bin),
		 "%.*s/services/classifier/routerd-dpi-classifier", (int)(sizeof(build) - 48),
		 build);
}

static int group_setup(void **state)
{
	find_binaries();
	have_logger = access(logger_bin, X_OK) == 0;
	if (!have_logger)
		fprintf(stderr, "logger binary not found at %s: its cases are skipped\n",
			logger_bin);
	if (access(classifier_bin, X_OK) != 0) {
		fprintf(stderr, "classifier binary not found at %s\n", classifier_bin);
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/rdpi-lgd-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	if (getenv("RDPI_KEEP_TMP")) {
		fprintf(stderr, "kept %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_daemon_selftest_without_classifier),
	    cmocka_unit_test(test_daemon_selftest_with_classifier),
	    cmocka_unit_test(test_daemon_kv_lines),
	    cmocka_unit_test(test_daemon_json_lines),
	    cmocka_unit_test(test_daemon_auto_lines),
	    cmocka_unit_test(test_daemon_pcap_classified),
	    cmocka_unit_test(test_daemon_pcap_traffic_flows),
	    cmocka_unit_test(test_daemon_status_and_sigterm),
	    cmocka_unit_test(test_daemon_status_keys_without_dpi),
	    cmocka_unit_test(test_daemon_serves_without_input),
	    cmocka_unit_test(test_daemon_bad_flags),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
