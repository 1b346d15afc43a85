/* DPI health probe thread (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/counters.h"

#define RESP_MAX (1024 * 1024)

static const char *const target_names[PROBE__N] = {
    [PROBE_CLASSIFIER] = "classifier", [PROBE_AGENT] = "agent", [PROBE_LOGGER] = "logger"};

struct probe {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	char *sockets[PROBE__N];
	int64_t interval_ns, timeout_ns;
	struct probe_result res[PROBE__N];
	struct rdpi_counter ok[PROBE__N], errors[PROBE__N];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll for ev until the deadline; 0, -ETIMEDOUT or -errno */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = fd, .events = ev};
		int n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int probe_once(const char *socket_path, const char *path, int timeout_ms, json_t **ret, char *err,
	       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!socket_path || !*socket_path || strlen(socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "no socket configured");
		return -EINVAL;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	int64_t deadline = mono_ms() + timeout_ms;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	int rv = 0;
	char *buf = NULL;
	size_t len = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			rv = -errno;
			snprintf(err, errlen, "%s: %s", socket_path, strerror(errno));
			goto out;
		}
		if ((rv = wait_fd(fd, POLLOUT, deadline)) < 0) {
			snprintf(err, errlen, "%s: connect: %s", socket_path, strerror(-rv));
			goto out;
		}
	}
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	size_t off = 0;
	while (off < (size_t)n) {
		ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			if ((rv = wait_fd(fd, POLLOUT, deadline)) < 0)
				break;
			continue;
		}
		if (w < 0) {
			rv = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rv < 0) {
		snprintf(err, errlen, "%s: send: %s", socket_path, strerror(-rv));
		goto out;
	}
	buf = malloc(RESP_MAX + 1);
	if (!buf) {
		rv = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		if ((rv = wait_fd(fd, POLLIN, deadline)) < 0) {
			snprintf(err, errlen, "%s: %s", socket_path,
				 rv == -ETIMEDOUT ? "timed out" : strerror(-rv));
			goto out;
		}
		ssize_t r = recv(fd, buf + len, RESP_MAX - len, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			rv = -errno;
			snprintf(err, errlen, "%s: recv: %s", socket_path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len >= RESP_MAX) {
			rv = -EFBIG;
			snprintf(err, errlen, "%s: response too large", socket_path);
			goto out;
		}
	}
	buf[len] = '\0';
	int code = 0;
	if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1) {
		rv = -EPROTO;
		snprintf(err, errlen, "%s: not an HTTP response", socket_path);
		goto out;
	}
	char *body = strstr(buf, "\r\n\r\n");
	if (!body) {
		rv = -EPROTO;
		snprintf(err, errlen, "%s: truncated HTTP response", socket_path);
		goto out;
	}
	json_error_t je;
	json_t *j = json_loads(body + 4, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		rv = -EPROTO;
		snprintf(err, errlen, "%s: HTTP %d, body is not a JSON object", socket_path, code);
		goto out;
	}
	if (code != 200) {
		const char *e = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "%s: HTTP %d%s%s", socket_path, code, e ? ": " : "",
			 e ? e : "");
		json_decref(j);
		rv = -EPROTO;
		goto out;
	}
	*ret = j;
	rv = 0;
out:
	free(buf);
	close(fd);
	return rv;
}

static void probe_round(struct probe *p)
{
	for (int t = 0; t < PROBE__N; t++) {
		pthread_mutex_lock(&p->lock);
		int timeout_ms = (int)(p->timeout_ns / 1000000);
		char sock[256];
		snprintf(sock, sizeof(sock), "%s", p->sockets[t] ? p->sockets[t] : "");
		pthread_mutex_unlock(&p->lock);

		struct probe_result r = {.checked_at_ns = 0};
		json_t *j = NULL;
		int rv = probe_once(sock, "/v1/status", timeout_ms > 0 ? timeout_ms : 1, &j,
				    r.error, sizeof(r.error));
		r.checked_at_ns = now_ns();
		r.reachable = rv == 0;
		r.status = j;
		if (rv == 0)
			r.error[0] = '\0';
		rdpi_counter_inc(rv == 0 ? &p->ok[t] : &p->errors[t]);
		pthread_mutex_lock(&p->lock);
		json_decref(p->res[t].status);
		p->res[t] = r;
		pthread_mutex_unlock(&p->lock);
	}
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		pthread_mutex_unlock(&p->lock);
		probe_round(p);
		pthread_mutex_lock(&p->lock);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t iv = p->interval_ns > 0 ? p->interval_ns : 5000000000LL;
		int64_t ns = ts.tv_nsec + iv % 1000000000LL;
		ts.tv_sec += iv / 1000000000LL + ns / 1000000000LL;
		ts.tv_nsec = ns % 1000000000LL;
		while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int probe_new(const struct probe_opts *opts, struct probe **ret)
{
	struct probe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->interval_ns = opts->interval_ns;
	p->timeout_ns = opts->timeout_ns;
	int rv = 0;
	for (int t = 0; t < PROBE__N; t++) {
		p->sockets[t] = strdup(opts->sockets[t] ? opts->sockets[t] : "");
		if (!p->sockets[t])
			rv = -ENOMEM;
		snprintf(p->res[t].error, sizeof(p->res[t].error), "not probed yet");
	}
	for (int t = 0; rv == 0 && opts->reg && t < PROBE__N; t++) {
		char label[64];
		snprintf(label, sizeof(label), "target=\"%s\"", target_names[t]);
		rv = rdpi_counters_register(opts->reg, "probe_ok_total", label, RDPI_COUNTER,
					    "successful DPI status probes", &p->ok[t]);
		if (rv == 0)
			rv = rdpi_counters_register(opts->reg, "probe_errors_total", label,
						    RDPI_COUNTER, "failed DPI status probes",
						    &p->errors[t]);
	}
	if (rv == 0 && pthread_create(&p->thread, NULL, probe_main, p) != 0)
		rv = -EAGAIN;
	if (rv < 0) {
		for (int t = 0; t < PROBE__N; t++)
			free(p->sockets[t]);
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return rv;
	}
	*ret = p;
	return 0;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	for (int t = 0; t < PROBE__N; t++) {
		json_decref(p->res[t].status);
		free(p->sockets[t]);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void probe_set_timing(struct probe *p, int64_t interval_ns, int64_t timeout_ns)
{
	pthread_mutex_lock(&p->lock);
	p->interval_ns = interval_ns;
	p->timeout_ns = timeout_ns;
	pthread_cond_signal(&p->cond); /* next round on the new interval */
	pthread_mutex_unlock(&p->lock);
}

void probe_get(struct probe *p, enum probe_target t, struct probe_result *ret)
{
	pthread_mutex_lock(&p->lock);
	*ret = p->res[t];
	ret->status = p->res[t].status ? json_deep_copy(p->res[t].status) : NULL;
	pthread_mutex_unlock(&p->lock);
}
