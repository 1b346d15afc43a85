/* End-to-end test (root): real traffic cli -> gw -> srv through three network namespaces, the
 * shipped nftables fragment (conf/nftables/routerd-dpi.nft) in gw logging to NFLOG,
 * routerd-firewall-logger reading it and a real routerd-dpi-classifier; checks dpi_flow /
 * firewall_logs rows and the loss counters. Skips cleanly when not root or when network namespaces
 * are unavailable. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <sqlite3.h>
#include "testutil.h"

/* Addresses (private range, only inside our namespaces). */
#define CLI_ADDR "10.231.1.2"
#define GW_CLI	 "10.231.1.1"
#define GW_SRV	 "10.231.2.1"
#define SRV_ADDR "10.231.2.2"

#define HTTP_HOST  "e2e-http.example"
#define TLS_SNI	   "e2e-tls.example"
#define DNS_NAME   "e2e-dns.example"
#define DENY_PORT  9999
#define DENY_SPORT 45999
/* conntrack case: the DNS client's fixed source port (the expired flow's reply tuple ends
 * there), and a srv -> cli probe no expired flow explains */
#define DNS_SPORT	 53530
#define SUSPICIOUS_SPORT 9
#define SUSPICIOUS_DPORT 40999

#define SKIP_MSG "skipped: needs root and network namespaces"

enum { NS_CLI, NS_GW, NS_SRV, NS__COUNT };
static const char *const ns_role[NS__COUNT] = {[NS_CLI] = "cli", [NS_GW] = "gw", [NS_SRV] = "srv"};
_Static_assert(sizeof(ns_role) / sizeof(ns_role[0]) == NS__COUNT, "ns_role");

#define MAX_CHILDREN 8

struct e2e {
	char ns[NS__COUNT][48];
	bool created[NS__COUNT];
	char dir[64];
	unsigned group;
	pid_t children[MAX_CHILDREN]; /* servers, SIGKILLed in teardown */
	int nchildren;
	pid_t classifier, logger;
	char logger_bin[PATH_MAX], classifier_bin[PATH_MAX];
	char render_nft[PATH_MAX]; /* tools/render-nft.sh: the shipped nftables fragment */
	char lsock[128], lipc[160], lerr[128], db[128];
	char csock[128], cipc[160], cerr[128];
	char tdb[128]; /* traffic-flows.db (conntrack case) */
	pid_t dns;     /* the DNS server (also in children) */
};

/* The running case's fixture, for failure dumps. */
static struct e2e *cur;

/* ---- helpers ------------------------------------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		print_message("command failed (%d): %s\n", rc, cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Shell command with stdout captured; its exit code. */
static int enter_ns(const char *ns)
{
	char path[128];
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* In a fresh child: die with the parent, enter ns, stdio to /dev/null (stderr to errpath). */
static void child_prepare(const char *ns, const char *errpath, int deathsig)
{
	prctl(PR_SET_PDEATHSIG, deathsig);
	if (enter_ns(ns) < 0)
		_exit(126);
	int null = open("/dev/null", O_RDWR);
	int err = open(errpath ? errpath : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	if (err >= 0) {
		dup2(err, 2);
		close(err);
	}
}

static pid_t ns_spawn(const char *ns, const char *const *argv, const char *errpath, int deathsig)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	child_prepare(ns, errpath, deathsig);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* waitpid with a deadline: exit status, 128+signal, or -1 (then SIGKILLed and reaped). */
static void add_child(struct e2e *t, pid_t pid)
{
	assert_true(pid > 0);
	assert_true(t->nchildren < MAX_CHILDREN);
	t->children[t->nchildren++] = pid;
}

/* Waits for the ready byte a forked server writes after bind(); 0 or -1. */
static int wait_ready(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int rc = poll(&p, 1, 5000) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
	close(fd);
	return rc;
}

/* ---- DNS ---------------------------------------------------------------------------------- */

static size_t dns_query(const char *name, uint16_t id, uint8_t *buf, size_t cap)
{
	size_t o = 12;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n > 63 || o + n + 6 > cap)
			return 0;
		buf[o++] = (uint8_t)n;
		memcpy(buf + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	memcpy(buf + o, (const uint8_t[]){0, 1, 0, 1}, 4); /* A IN */
	return o + 4;
}

/* Answers every query on udp/53 with one A record (SRV_ADDR); runs until killed. */
static void dns_server(int ready)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	for (;;) {
		uint8_t b[600];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, b, sizeof(b) - 16, 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		/* skip the question name */
		size_t o = 12;
		while (o < (size_t)n && b[o] != 0)
			o += (size_t)b[o] + 1;
		o += 5;
		if (o > (size_t)n)
			continue;
		b[2] = 0x81; /* QR RD */
		b[3] = 0x80; /* RA */
		b[6] = 0;
		b[7] = 1; /* ANCOUNT */
		memset(b + 8, 0, 4);
		static const uint8_t ans[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
		memcpy(b + o, ans, sizeof(ans));
		o += sizeof(ans);
		struct in_addr a;
		inet_pton(AF_INET, SRV_ADDR, &a);
		memcpy(b + o, &a, 4);
		o += 4;
		sendto(s, b, o, 0, (struct sockaddr *)&from, fl);
	}
}

/* A minimal HTTP/1.0 responder on tcp/80; runs until killed. */
static void http_server(int ready)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 16) != 0)
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		struct timeval tv = {.tv_sec = 2};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char req[4096];
		size_t got = 0;
		while (got < sizeof(req) - 1) {
			ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (write(c, resp, sizeof(resp) - 1) < 0) {
			/* the client went away: nothing to do */
		}
		shutdown(c, SHUT_WR);
		close(c);
	}
}

/* Forks a server function inside ns and waits until it is bound. */
static void start_server(struct e2e *t, const char *ns, void (*fn)(int ready))
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_prepare(ns, NULL, SIGKILL);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	add_child(t, pid);
	assert_int_equal(wait_ready(p[0]), 0);
}

/* Runs fn in a child inside ns; its exit code. */
static int in_ns(const char *ns, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (enter_ns(ns) < 0)
			_exit(126);
		_exit(fn(arg));
	}
	return tu_wait_exit(pid, 20000);
}

/* Sends a DNS query for DNS_NAME to the server, retries; 0 when an answer came back. arg: NULL
 * or the source port (int *). */
static int dns_client(void *arg)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, SRV_ADDR, &sa.sin_addr);
	struct timeval tv = {.tv_sec = 1};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (arg) {
		const int *sport = arg;
		struct sockaddr_in src = {.sin_family = AF_INET,
					  .sin_port = htons((uint16_t)*sport)};
		if (bind(s, (struct sockaddr *)&src, sizeof(src)) != 0)
			return 3;
	}
	uint8_t q[512], r[600];
	size_t ql = dns_query(DNS_NAME, 0x4242, q, sizeof(q));
	if (s < 0 || ql == 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 2;
	for (int i = 0; i < 5; i++) {
		if (send(s, q, ql, 0) != (ssize_t)ql)
			continue;
		ssize_t n = recv(s, r, sizeof(r), 0);
		if (n >= 12 && r[0] == 0x42 && r[1] == 0x42 && (r[2] & 0x80) && r[7] == 1)
			return 0;
	}
	return 1;
}

/* One UDP datagram from a fixed source port. */
struct udp_probe {
	int sport;
	const char *dst;
	int dport;
};

static int udp_send(void *arg)
{
	const struct udp_probe *p = arg;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->sport)};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->dport)};
	inet_pton(AF_INET, p->dst, &dst.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&src, sizeof(src)) != 0)
		return 2;
	static const char msg[] = "routerd-e2e deny probe";
	return sendto(s, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&dst, sizeof(dst)) ==
		       (ssize_t)(sizeof(msg) - 1)
		   ? 0
		   : 1;
}

/* Flushes the conntrack table of the namespace it runs in (DESTROY events now instead of
 * after the TIME_WAIT / UDP timeouts); 0 or 1. */
static int ct_flush(void *arg)
{
	(void)arg;
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	if (!h)
		return 1;
	uint32_t fam = AF_INET;
	int rc = nfct_query(h, NFCT_Q_FLUSH, &fam);
	nfct_close(h);
	return rc == 0 ? 0 : 1;
}

/* A TCP connect to SRV_ADDR:port from inside srv (readiness of openssl s_server). */
static int tcp_probe(void *arg)
{
	int port = *(const int *)arg;
	for (int i = 0; i < 200; i++) { /* 10 s and more */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		inet_pton(AF_INET, SRV_ADDR, &sa.sin_addr);
		int rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
		close(s);
		if (rc == 0)
			return 0;
		usleep(50000);
	}
	return 1;
}

/* ---- logger status ------------------------------------------------------------------------ */

/* GET /v1/status of the logger, parsed; NULL on failure. */
static json_t *logger_status(const struct e2e *t, char *raw, size_t rawlen)
{
	if (tu_run(raw, rawlen, "curl -s --max-time 5 --unix-socket '%s' http://unix/v1/status",
		t->lsock) != 0)
		return NULL;
	return json_loads(raw, 0, NULL);
}

/* ---- database ----------------------------------------------------------------------------- */

static void db_dump(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		print_message("cannot run %s on %s\n", sql, db);
		goto out;
	}
	print_message("%s:\n", sql);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[4096];
		size_t o = 0;
		for (int i = 0; i < sqlite3_column_count(st) && o < sizeof(line) - 1; i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			if (v)
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%s=%s ",
						      sqlite3_column_name(st, i), (const char *)v);
		}
		line[o < sizeof(line) ? o : sizeof(line) - 1] = '\0';
		print_message("  %s\n", line);
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* Everything a failed expectation needs to be diagnosed: the tables and the logger's stderr. */
static void dump_state(void)
{
	if (!cur)
		return;
	db_dump(cur->db, "SELECT * FROM dpi_flow");
	db_dump(cur->db, "SELECT * FROM firewall_logs");
	if (cur->tdb[0]) {
		db_dump(cur->db, "SELECT * FROM expired_flows");
		db_dump(cur->tdb, "SELECT * FROM flows");
	}
	print_message("logger stderr:\n");
	tu_print_file(cur->lerr);
}

#define expect_rows(db, min, ...)                                                                  \
	do {                                                                                       \
		long long n_ = tu_db_int(db, __VA_ARGS__);                                            \
		if (n_ < (min)) {                                                                  \
			dump_state();                                                              \
			fail_msg("%lld rows (want >= %d) for: %s", n_, (int)(min), tu_last_sql());      \
		}                                                                                  \
	} while (0)

/* ---- fixture ------------------------------------------------------------------------------ */

static void find_binaries(struct e2e *t)
{
	char build[PATH_MAX];
	tu_build_dir(build, sizeof(build));
	snprintf(t->logger_bin, sizeof(t->logger_bin),
		 "%.*s/services/logger/routerd-firewall-logger", (int)(sizeof(build) - 48), build);
	snprintf(t->classifier_bin, sizeof(t->classifier_bin),
		 "%.*s/services/classifier/routerd-dpi-classifier", (int)(sizeof(build) - 48),
		 build);
	/* the source tree: RDPI_SOURCE_DIR (ctest), else this file's tests/logger/ stripped */
	char src[PATH_MAX];
	const char *sd = getenv("RDPI_SOURCE_DIR");
	snprintf(src, sizeof(src), "%s", sd && *sd ? sd : __FILE__);
	for (int up = 0; !(sd && *sd) && up < 3; up++) {
		char *s = strrchr(src, '/');
		if (s)
			*s = '\0';
	}
	snprintf(t->render_nft, sizeof(t->render_nft), "%.*s/tools/render-nft.sh",
		 (int)(sizeof(src) - 32), src);
}

static int e2e_setup(void **state)
{
	struct e2e *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	long pid = (long)getpid();
	for (int i = 0; i < NS__COUNT; i++)
		snprintf(t->ns[i], sizeof(t->ns[i]), "rdpie2e-%s-%ld", ns_role[i], pid);
	t->group = 4000 + (unsigned)(pid % 1000);
	find_binaries(t);
	*state = t;
	cur = t;
	return 0;
}

static void stop(pid_t *pid, int sig, int timeout_ms)
{
	if (*pid > 0) {
		kill(*pid, sig);
		tu_wait_exit(*pid, timeout_ms);
	}
	*pid = 0;
}

static int e2e_teardown(void **state)
{
	struct e2e *t = *state;
	char cmd[256];
	if (!t)
		return 0;
	stop(&t->logger, SIGTERM, 5000);
	stop(&t->classifier, SIGTERM, 5000);
	for (int i = 0; i < t->nchildren; i++)
		stop(&t->children[i], SIGKILL, 5000);
	for (int i = 0; i < NS__COUNT; i++) {
		if (!t->created[i])
			continue;
		snprintf(cmd, sizeof(cmd), "ip netns del '%s'", t->ns[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed: %s\n", cmd);
	}
	if (t->dir[0]) {
		if (getenv("RDPI_KEEP_TMP")) {
			fprintf(stderr, "kept %s\n", t->dir);
		} else {
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
			if (system(cmd) != 0)
				fprintf(stderr, "cleanup failed: %s\n", cmd);
		}
	}
	free(t);
	*state = NULL;
	cur = NULL;
	return 0;
}

/* deny_srv_new: NEW connections from the srv side are denied (and logged) as well. */
static void topology(struct e2e *t, bool deny_srv_new)
{
	const char *c = t->ns[NS_CLI], *g = t->ns[NS_GW], *s = t->ns[NS_SRV];
	long pid = (long)getpid();
	char cli_if[16], gwc_if[16], gws_if[16], srv_if[16];
	snprintf(cli_if, sizeof(cli_if), "rc%lda", pid % 10000000);
	snprintf(gwc_if, sizeof(gwc_if), "rc%ldb", pid % 10000000);
	snprintf(gws_if, sizeof(gws_if), "rs%lda", pid % 10000000);
	snprintf(srv_if, sizeof(srv_if), "rs%ldb", pid % 10000000);

	assert_int_equal(
	    sh("ip link add %s netns %s type veth peer name %s netns %s", cli_if, c, gwc_if, g), 0);
	assert_int_equal(
	    sh("ip link add %s netns %s type veth peer name %s netns %s", gws_if, g, srv_if, s), 0);
	assert_int_equal(sh("ip -n %s link set lo up && ip -n %s link set %s up && "
			    "ip -n %s addr add " CLI_ADDR "/24 dev %s && "
			    "ip -n %s route add 10.231.2.0/24 via " GW_CLI,
			    c, c, cli_if, c, cli_if, c),
			 0);
	assert_int_equal(sh("ip -n %s link set lo up && ip -n %s link set %s up && "
			    "ip -n %s link set %s up && ip -n %s addr add " GW_CLI "/24 dev %s && "
			    "ip -n %s addr add " GW_SRV "/24 dev %s && "
			    "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1",
			    g, g, gwc_if, g, gws_if, g, gwc_if, g, gws_if, g),
			 0);
	assert_int_equal(sh("ip -n %s link set lo up && ip -n %s link set %s up && "
			    "ip -n %s addr add " SRV_ADDR "/24 dev %s && "
			    "ip -n %s route add 10.231.1.0/24 via " GW_SRV,
			    s, s, srv_if, s, srv_if, s),
			 0);
	char srv_new[160] = "";
	if (deny_srv_new)
		snprintf(srv_new, sizeof(srv_new),
			 "  iifname \"%s\" ct state new log prefix \"routerd firewall forward deny "
			 "\" group %u snaplen 2048 drop\n",
			 gws_if, t->group);
	/* the operator's firewall: deny rules with their logs, policy accept */
	assert_int_equal(sh("ip netns exec %s nft -f - <<'EOF'\n"
			    "table inet rdpie2e {\n"
			    " chain forward {\n"
			    "  type filter hook forward priority 0; policy accept;\n"
			    "  udp dport %d log prefix \"routerd firewall forward deny \" group %u "
			    "snaplen 2048 drop\n"
			    "%s"
			    " }\n"
			    "}\n"
			    "EOF\n",
			    g, DENY_PORT, t->group, srv_new),
			 0);
	/* the accept log: the shipped conf/nftables/routerd-dpi.nft, rendered with the test's
	 * group (its own table after the filter priority, so it sees only accepted packets) */
	assert_int_equal(
	    sh("bash '%s' --config /dev/null --group %u --snaplen 2048 --out-dir '%s/nft'",
	       t->render_nft, t->group, t->dir),
	    0);
	assert_int_equal(sh("ip netns exec %s nft -f '%s/nft/routerd-dpi.nft'", g, t->dir), 0);
}

/* extra: NULL or more logger arguments (NULL-terminated). */
static void start_daemons(struct e2e *t, const char *const *extra)
{
	const char *g = t->ns[NS_GW];
	snprintf(t->csock, sizeof(t->csock), "%s/c.sock", t->dir);
	snprintf(t->cipc, sizeof(t->cipc), "ipc://%s/c.ipc", t->dir);
	snprintf(t->cerr, sizeof(t->cerr), "%s/classifier.err", t->dir);
	const char *cargv[] = {t->classifier_bin, "daemon", "--engine", "builtin", "--socket",
			       t->csock,	  "--ipc",  t->cipc,	NULL};
	t->classifier = ns_spawn(g, cargv, t->cerr, SIGTERM);
	assert_true(t->classifier > 0);
	if (tu_wait_for_socket(t->csock, t->classifier, 20000) != 0) { /* ASan, loaded machine */
		tu_print_file(t->cerr);
		fail_msg("classifier did not start");
	}

	char group[16];
	snprintf(group, sizeof(group), "%u", t->group);
	snprintf(t->lsock, sizeof(t->lsock), "%s/l.sock", t->dir);
	snprintf(t->lipc, sizeof(t->lipc), "ipc://%s/l.ipc", t->dir);
	snprintf(t->lerr, sizeof(t->lerr), "%s/logger.err", t->dir);
	snprintf(t->db, sizeof(t->db), "%s/fw.db", t->dir);
	const char *largv[24] = {
	    t->logger_bin, "daemon",   "--nflog-group", group,	 "--path", t->db, "--dpi-socket",
	    t->cipc,	   "--socket", t->lsock,	"--ipc", t->lipc,  NULL};
	size_t na = 12;
	for (size_t i = 0; extra && extra[i]; i++) {
		assert_true(na < sizeof(largv) / sizeof(largv[0]) - 1);
		largv[na++] = extra[i];
	}
	largv[na] = NULL;
	t->logger = ns_spawn(g, largv, t->lerr, SIGTERM);
	assert_true(t->logger > 0);
	if (tu_wait_for_socket(t->lsock, t->logger, 20000) != 0) {
		tu_print_file(t->lerr);
		fail_msg("logger did not start");
	}
	char raw[16384];
	json_t *st = NULL;
	for (int i = 0; i < 50 && !st; i++) {
		st = logger_status(t, raw, sizeof(raw));
		if (!st)
			usleep(100000);
	}
	if (!st)
		fail_msg("no logger status: %s", raw);
	print_message("logger up: %.200s ...\n", raw);
	assert_true(json_is_true(json_object_get(st, "ok")));
	json_decref(st);
}

/* ---- shared steps ------------------------------------------------------------------------- */

/* Skips unless root with the tools and binaries; then namespaces, topology and the HTTP, DNS
 * and TLS servers in srv. conntrack: the srv side's NEW connections are denied, and gw counts
 * conntrack bytes (before any connection exists: the acct extension is set at creation). */
static void bring_up(struct e2e *t, bool conntrack)
{
	if (geteuid() != 0) {
		print_message("%s (not root)\n", SKIP_MSG);
		skip();
	}
	if (sh("command -v ip >/dev/null && command -v nft >/dev/null && "
	       "command -v curl >/dev/null && command -v openssl >/dev/null") != 0) {
		print_message("%s (ip, nft, curl and openssl are required)\n", SKIP_MSG);
		skip();
	}
	if (access(t->render_nft, R_OK) != 0) {
		print_message("skipped: %s not found (set RDPI_SOURCE_DIR)\n", t->render_nft);
		skip();
	}
	if (access(t->logger_bin, X_OK) != 0 || access(t->classifier_bin, X_OK) != 0) {
		print_message("skipped: %s or %s not built\n", t->logger_bin, t->classifier_bin);
		skip();
	}
	for (int i = 0; i < NS__COUNT; i++) {
		if (sh("ip netns add '%s' 2>/dev/null", t->ns[i]) != 0) {
			print_message("%s (ip netns add %s failed)\n", SKIP_MSG, t->ns[i]);
			skip();
		}
		t->created[i] = true;
	}
	snprintf(t->dir, sizeof(t->dir), "/tmp/rdpie2e-XXXXXX");
	assert_non_null(mkdtemp(t->dir));

	topology(t, conntrack);
	if (conntrack) {
		/* the ruleset's ct expression has loaded nf_conntrack: its sysctls exist */
		assert_int_equal(sh("ip netns exec '%s' sh -c 'echo 1 > "
				    "/proc/sys/net/netfilter/nf_conntrack_acct'",
				    t->ns[NS_GW]),
				 0);
		char out[64];
		assert_int_equal(
		    tu_run(out, sizeof(out),
			"ip netns exec '%s' cat /proc/sys/net/netfilter/nf_conntrack_acct",
			t->ns[NS_GW]),
		    0);
		assert_int_equal(atoi(out), 1);
	}

	/* servers in srv */
	const char *s = t->ns[NS_SRV];
	start_server(t, s, http_server);
	start_server(t, s, dns_server);
	t->dns = t->children[t->nchildren - 1];
	assert_int_equal(sh("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
			    "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem "
			    "-days 2 -subj /CN=" TLS_SNI " -addext subjectAltName=DNS:" TLS_SNI
			    " >/dev/null 2>&1",
			    t->dir),
			 0);
	char cert[128], key[128], tlserr[128];
	snprintf(cert, sizeof(cert), "%s/cert.pem", t->dir);
	snprintf(key, sizeof(key), "%s/key.pem", t->dir);
	snprintf(tlserr, sizeof(tlserr), "%s/s_server.err", t->dir);
	const char *tls_argv[] = {"openssl", "s_server", "-accept", "443", "-www", "-quiet",
				  "-cert",   cert,	 "-key",    key,   NULL};
	add_child(t, ns_spawn(s, tls_argv, tlserr, SIGKILL));
	int port = 443;
	if (in_ns(s, tcp_probe, &port) != 0) {
		tu_print_file(tlserr);
		fail_msg("openssl s_server did not listen");
	}
}

/* HTTP, HTTPS (SNI) and DNS from cli (bounded retries), then one datagram to the denied port.
 * dns_sport: the DNS client's source port, 0 for any. */
static void traffic(struct e2e *t, int dns_sport)
{
	const char *c = t->ns[NS_CLI];
	char out[4096];
	bool ok = false;
	for (int i = 0; i < 5 && !ok; i++) {
		tu_run(out, sizeof(out),
		    "ip netns exec %s curl -s -o /dev/null -w '%%{http_code}' --max-time 5 "
		    "-H 'Host: " HTTP_HOST "' http://" SRV_ADDR "/",
		    c);
		ok = strcmp(out, "200") == 0;
	}
	if (!ok)
		fail_msg("HTTP request through gw failed: %s", out);
	ok = false;
	for (int i = 0; i < 5 && !ok; i++) {
		tu_run(out, sizeof(out),
		    "ip netns exec %s curl -sk -o /dev/null -w '%%{http_code}' --max-time 5 "
		    "--resolve " TLS_SNI ":443:" SRV_ADDR " https://" TLS_SNI "/",
		    c);
		ok = strcmp(out, "200") == 0;
	}
	if (!ok) {
		char tlserr[128];
		snprintf(tlserr, sizeof(tlserr), "%s/s_server.err", t->dir);
		tu_print_file(tlserr);
		fail_msg("HTTPS request through gw failed: %s", out);
	}
	assert_int_equal(in_ns(c, dns_client, dns_sport ? &dns_sport : NULL), 0);
	struct udp_probe deny = {DENY_SPORT, SRV_ADDR, DENY_PORT};
	assert_int_equal(in_ns(c, udp_send, &deny), 0);
}

/* A stats value, 0 when absent. */
static unsigned long long stat_or0(json_t *st, const char *key)
{
	unsigned long long v = 0;
	return tu_stat_get(st, key, &v) ? v : 0;
}

/* Waits until the logger has read and written everything (packets_in, the writer's entries and
 * the DPI answers stop moving); its last status. */
static json_t *wait_quiet(struct e2e *t)
{
	char raw[16384];
	unsigned long long last = 0, cur_sig = 0, pk = 0;
	int stable = 0;
	json_t *st = NULL;
	for (int i = 0; i < 60 && stable < 4; i++) {
		usleep(250000);
		json_decref(st);
		st = logger_status(t, raw, sizeof(raw));
		if (!st || !tu_stat_get(st, "packets_in", &pk)) {
			json_decref(st);
			tu_print_file(t->lerr);
			fail_msg("logger status unreadable: %s", raw);
		}
		cur_sig = pk + stat_or0(st, "writer_entries") + stat_or0(st, "dpi_classified") +
			  stat_or0(st, "dpi_errors") + stat_or0(st, "dpi_timeouts");
		stable = pk > 0 && cur_sig == last ? stable + 1 : 0;
		last = cur_sig;
	}
	return st;
}

static void print_stats(json_t *st, const char *const *show, size_t n)
{
	print_message("logger stats:");
	for (size_t i = 0; i < n; i++) {
		unsigned long long v = 0;
		if (tu_stat_get(st, show[i], &v))
			print_message(" %s=%llu", show[i], v);
		else
			print_message(" %s=?", show[i]);
	}
	print_message("\n");
}

/* SIGTERM flushes and exits 0 (the logger); the classifier is stopped too. */
static void stop_daemons(struct e2e *t)
{
	assert_int_equal(kill(t->logger, SIGTERM), 0);
	int rc = tu_wait_exit(t->logger, 15000);
	t->logger = 0;
	if (rc != 0) {
		tu_print_file(t->lerr);
		fail_msg("logger exit %d after SIGTERM", rc);
	}
	kill(t->classifier, SIGTERM);
	rc = tu_wait_exit(t->classifier, 5000);
	t->classifier = 0;
	if (rc != 0) {
		print_message("warning: classifier exited %d; stderr:\n", rc);
		tu_print_file(t->cerr);
	}
}

/* No payload bytes anywhere in the database's files: the request line and header lines of the
 * HTTP exchange are metadata only as the Host value. */
static void assert_no_payload(const char *db)
{
	static const char *const suffixes[] = {"", "-wal", "-journal"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static char buf[8 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_null(memmem(buf, n, "GET / HTTP/1.1", 14));
		assert_null(memmem(buf, n, "Host: " HTTP_HOST, strlen("Host: " HTTP_HOST)));
		assert_null(memmem(buf, n, "HTTP/1.0 200", 12));
		assert_null(memmem(buf, n, "HTTP/1.1 200", 12));
		assert_null(memmem(buf, n, "routerd-e2e deny probe", 22));
	}
}

/* ---- the tests ---------------------------------------------------------------------------- */

static void test_e2e_nflog_to_sqlite(void **state)
{
	struct e2e *t = *state;

	bring_up(t, false);
	/* classifier and logger in gw */
	start_daemons(t, NULL);
	traffic(t, 0);

	/* wait until the logger has read everything */
	json_t *st = wait_quiet(t);
	static const char *const show[] = {"packets_in",     "nflog_packets",	  "nflog_lost",
					   "nflog_enobufs",  "nflog_seq_gaps",	  "dpi_candidates",
					   "dpi_classified", "dpi_errors",	  "dpi_timeouts",
					   "rows_dpi_flow",  "rows_firewall_logs"};
	print_stats(st, show, sizeof(show) / sizeof(show[0]));
	unsigned long long lost = 99, enobufs = 99, pk = 0;
	assert_true(tu_stat_get(st, "nflog_lost", &lost));
	assert_true(tu_stat_get(st, "nflog_enobufs", &enobufs));
	assert_true(tu_stat_get(st, "packets_in", &pk));
	json_decref(st);
	assert_true(pk > 0);

	stop_daemons(t);
	assert_int_equal(lost, 0);
	assert_int_equal(enobufs, 0);

	const char *db = t->db;
	db_dump(db, "SELECT flow_id, src_address, src_port, dst_address, dst_port, protocol, "
		    "app_name, source, tls_sni, http_host, dns_query, packet_count FROM dpi_flow");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE app_name = 'http' AND "
		    "http_host = '" HTTP_HOST "' AND source = 'builtin-payload' AND "
		    "src_address = '" CLI_ADDR "' AND dst_address = '" SRV_ADDR "' AND "
		    "dst_port = 80 AND protocol = 'tcp'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE app_name = 'tls' AND "
		    "tls_sni = '" TLS_SNI "' AND source = 'builtin-payload' AND "
		    "src_address = '" CLI_ADDR "' AND dst_address = '" SRV_ADDR "' AND "
		    "dst_port = 443 AND protocol = 'tcp'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM dpi_flow WHERE app_name = 'dns' AND "
		    "dns_query = '" DNS_NAME "' AND source = 'builtin-payload' AND "
		    "src_address = '" CLI_ADDR "' AND dst_address = '" SRV_ADDR "' AND "
		    "dst_port = 53 AND protocol = 'udp'");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE action = 'deny' AND "
		    "rule_name = 'forward' AND protocol = 'udp' AND src_address = '" CLI_ADDR
		    "' AND src_port = %d AND dst_address = '" SRV_ADDR "' AND dst_port = %d",
		    DENY_SPORT, DENY_PORT);
	/* accepted packets never become firewall_logs rows */
	assert_int_equal(tu_db_int(db,
				"SELECT COUNT(*) FROM firewall_logs WHERE action = 'accept' "
				"OR dst_port != %d",
				DENY_PORT),
			 0);
	assert_no_payload(db);
}

/* Polls the logger's status until every stats key reaches its minimum (bounded); false on
 * timeout, with the status printed. */
static bool wait_stats(struct e2e *t, const char *const *keys, const unsigned long long *min,
		       size_t n, int timeout_ms)
{
	char raw[16384];
	for (int i = 0; i < timeout_ms / 100; i++) {
		json_t *st = logger_status(t, raw, sizeof(raw));
		bool ok = st != NULL;
		for (size_t k = 0; ok && k < n; k++)
			ok = stat_or0(st, keys[k]) >= min[k];
		json_decref(st);
		if (ok)
			return true;
		usleep(100000);
	}
	print_message("status: %s\n", raw);
	return false;
}

static void test_e2e_conntrack(void **state)
{
	struct e2e *t = *state;

	bring_up(t, true);
	snprintf(t->tdb, sizeof(t->tdb), "%s/traffic.db", t->dir);
	const char *extra[] = {"--conntrack-events", "--traffic-path", t->tdb, NULL};
	start_daemons(t, extra); /* before any connection: events need a listener */
	traffic(t, DNS_SPORT);

	/* the verdicts are in the writer before the connections end */
	json_decref(wait_quiet(t));

	/* end them now (TIME_WAIT would keep the TCP entries for 120 s) */
	assert_int_equal(in_ns(t->ns[NS_GW], ct_flush, NULL), 0);
	static const char *const destroyed[] = {"ct_destroy_events", "rows_expired_flows"};
	static const unsigned long long three[] = {3, 3};
	if (!wait_stats(t, destroyed, three, 2, 10000)) {
		dump_state();
		fail_msg("no DESTROY events after the conntrack flush");
	}

	/* a late reply to the expired DNS flow, and a packet nothing explains: both are NEW
	 * connections from the srv side, denied in gw (the DNS server owns srv's port 53) */
	for (int i = 0; i < t->nchildren; i++)
		if (t->children[i] == t->dns)
			stop(&t->children[i], SIGKILL, 5000);
	struct udp_probe orphan = {53, CLI_ADDR, DNS_SPORT};
	struct udp_probe suspicious = {SUSPICIOUS_SPORT, CLI_ADDR, SUSPICIOUS_DPORT};
	assert_int_equal(in_ns(t->ns[NS_SRV], udp_send, &orphan), 0);
	assert_int_equal(in_ns(t->ns[NS_SRV], udp_send, &suspicious), 0);
	static const char *const denied[] = {"deny_rows"};
	static const unsigned long long three_rows[] = {3};
	if (!wait_stats(t, denied, three_rows, 1, 10000))
		print_message("warning: fewer than 3 deny rows before stop\n");

	json_t *st = wait_quiet(t);
	static const char *const show[] = {"packets_in",
					   "nflog_lost",
					   "dpi_classified",
					   "ct_events",
					   "ct_destroy_events",
					   "ct_enobufs",
					   "ct_dumps",
					   "ct_parse_errors",
					   "ct_acct_off",
					   "ct_entries",
					   "deny_rows",
					   "orphan_returns",
					   "true_suspicious",
					   "traffic_upserts",
					   "traffic_enriched",
					   "rows_traffic_flows",
					   "rows_expired_flows",
					   "rows_firewall_logs",
					   "traffic_commit_errors"};
	print_stats(st, show, sizeof(show) / sizeof(show[0]));
	unsigned long long lost = 99, acct_off = 99;
	assert_true(tu_stat_get(st, "nflog_lost", &lost));
	assert_true(tu_stat_get(st, "ct_acct_off", &acct_off));
	json_decref(st);

	stop_daemons(t);
	assert_int_equal(lost, 0);
	assert_int_equal(acct_off, 0);

	const char *db = t->db, *tdb = t->tdb;
	db_dump(tdb,
		"SELECT flow_key, client_address, client_port, peer_address, peer_port, "
		"protocol, accounting, bytes_out, bytes_in, packets_out, packets_in, app_name, "
		"source, tls_sni, http_host, dns_query, resolved_hostname, ts_started, "
		"ts_ended, conntrack_id FROM flows");

	/* traffic-flows.db: conntrack rows, enriched by the logger's verdicts, ended */
#define FLOW_WHERE(proto, port)                                                                    \
	"client_address = '" CLI_ADDR "' AND peer_address = '" SRV_ADDR "' AND peer_port = " #port \
	" AND protocol = '" proto "' AND bytes_out > 0 AND bytes_in > 0 AND "                      \
	"ts_ended IS NOT NULL AND ts_ended >= ts_started"
	expect_rows(tdb, 1,
		    "SELECT COUNT(*) FROM flows WHERE " FLOW_WHERE(
			"tcp", 80) " AND app_name = "
				   "'http' AND http_host = '" HTTP_HOST
				   "' AND resolved_hostname = '" HTTP_HOST "'");
	expect_rows(tdb, 1,
		    "SELECT COUNT(*) FROM flows WHERE " FLOW_WHERE(
			"tcp", 443) " AND app_name = "
				    "'tls' AND tls_sni = '" TLS_SNI
				    "' AND resolved_hostname = '" TLS_SNI "'");
	expect_rows(tdb, 1,
		    "SELECT COUNT(*) FROM flows WHERE " FLOW_WHERE(
			"udp", 53) " AND client_port = "
				   "%d AND app_name = 'dns' AND dns_query = '" DNS_NAME "'",
		    DNS_SPORT);
#undef FLOW_WHERE

	/* firewall-logs.db: the DESTROY events */
	db_dump(db, "SELECT protocol, orig_src, orig_src_port, orig_dst, orig_dst_port, reply_src, "
		    "reply_src_port, reply_dst, reply_dst_port, packets, bytes, raw FROM "
		    "expired_flows");
#define EXPIRED_WHERE(proto, port)                                                                 \
	"protocol = '" proto "' AND orig_src = '" CLI_ADDR "' AND orig_dst = '" SRV_ADDR           \
	"' AND orig_dst_port = " #port " AND reply_src = '" SRV_ADDR                               \
	"' AND reply_src_port = " #port " AND reply_dst = '" CLI_ADDR                              \
	"' AND substr(raw, 1, 9) = '[DESTROY]'"
	expect_rows(db, 1, "SELECT COUNT(*) FROM expired_flows WHERE " EXPIRED_WHERE("tcp", 80));
	expect_rows(db, 1, "SELECT COUNT(*) FROM expired_flows WHERE " EXPIRED_WHERE("tcp", 443));
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM expired_flows WHERE " EXPIRED_WHERE(
			"udp", 53) " AND reply_dst_port = %d AND bytes > 0",
		    DNS_SPORT);
#undef EXPIRED_WHERE

	/* firewall-logs.db: the late reply is an orphan return carrying the DNS verdict, the
	 * other srv packet stays suspicious */
	db_dump(db, "SELECT action, rule_name, protocol, src_address, src_port, dst_address, "
		    "dst_port, dpi_app, dpi_dns_query, correlation, correlation_detail, "
		    "expired_age_seconds, expired_bytes FROM firewall_logs");
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE action = 'deny' AND rule_name = "
		    "'forward' AND protocol = 'udp' AND src_address = '" SRV_ADDR
		    "' AND src_port = 53 AND dst_address = '" CLI_ADDR "' AND dst_port = %d AND "
		    "correlation = 'orphan_return' AND expired_bytes > 0 AND "
		    "expired_age_seconds >= 0 AND correlation_detail LIKE "
		    "'likely orphan return from expired %%' AND dpi_app = 'dns'",
		    DNS_SPORT);
	expect_rows(db, 1,
		    "SELECT COUNT(*) FROM firewall_logs WHERE action = 'deny' AND protocol = 'udp' "
		    "AND src_address = '" SRV_ADDR
		    "' AND src_port = %d AND dst_address = '" CLI_ADDR
		    "' AND dst_port = %d AND correlation = 'true_suspicious' AND "
		    "correlation_detail = 'no expired reverse flow match'",
		    SUSPICIOUS_SPORT, SUSPICIOUS_DPORT);
	/* the cli-side deny still is one, and nothing explains it either */
	expect_rows(
	    db, 1,
	    "SELECT COUNT(*) FROM firewall_logs WHERE action = 'deny' AND src_address = '" CLI_ADDR
	    "' AND src_port = %d AND dst_port = %d AND correlation = 'true_suspicious'",
	    DENY_SPORT, DENY_PORT);

	assert_no_payload(db);
	assert_no_payload(tdb);

	/* accounting is on in gw (ct_acct_off = 0 above, counters in every row): the rows must
	 * say so (checked last, so the checks above report independently) */
	long long n =
	    tu_db_int(tdb, "SELECT COUNT(*) FROM flows WHERE client_address = '" CLI_ADDR
			"' AND peer_address = '" SRV_ADDR "' AND peer_port IN (53, 80, 443) AND "
			"accounting IS NOT 'conntrack'");
	if (n != 0) {
		db_dump(tdb, "SELECT flow_key, accounting, bytes_out, bytes_in FROM flows");
		print_message("logger stderr:\n");
		tu_print_file(t->lerr);
		fail_msg("%lld flows rows with accounting other than 'conntrack' (acct is on) for: "
			 "%s",
			 n, tu_last_sql());
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_e2e_nflog_to_sqlite, e2e_setup, e2e_teardown),
	    cmocka_unit_test_setup_teardown(test_e2e_conntrack, e2e_setup, e2e_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
