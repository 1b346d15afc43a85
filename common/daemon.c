/* Daemon scaffolding shared by the services (see daemon.h). */
#include "common/daemon.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/service.h"

static sigset_t daemon_sigs(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGHUP);
	return s;
}

int rdpi_daemon_block_signals(void)
{
	sigset_t s = daemon_sigs();
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, &s, NULL);
}

int rdpi_daemon_run(const struct rdpi_daemon_ops *ops)
{
	sigset_t s = daemon_sigs();
	int fd = signalfd(-1, &s, SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t next = ops->tick_fn ? rdpi_monotonic_ns() + ops->tick_ms * 1000000ull : 0;
	for (;;) {
		int timeout = -1;
		if (ops->tick_fn) {
			uint64_t now = rdpi_monotonic_ns();
			if (now >= next) {
				ops->tick_fn(ops->arg);
				next = now + ops->tick_ms * 1000000ull;
			}
			timeout = (int)((next - rdpi_monotonic_ns()) / 1000000ull) + 1;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rv = poll(&p, 1, timeout);
		if (rv < 0 && errno != EINTR) {
			rv = -errno;
			close(fd);
			return rv;
		}
		if (rv <= 0)
			continue;
		struct signalfd_siginfo si;
		if (read(fd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			if (ops->reload_fn)
				ops->reload_fn(ops->arg);
			continue;
		}
		break; /* SIGTERM / SIGINT */
	}
	close(fd);
	return 0;
}

const char *rdpi_daemon_ipc_path(const char *url)
{
	if (url && strncmp(url, "ipc://", 6) == 0)
		return url + 6;
	return NULL;
}

int rdpi_daemon_mkdir_for(const char *path_or_url)
{
	const char *p = rdpi_daemon_ipc_path(path_or_url);
	if (!p)
		p = path_or_url;
	if (!p || strstr(p, "://"))
		return 0;
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", p);
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *q = buf + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*q = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
