/* Daemon scaffolding shared by the services: runtime directories, the main
 * signal loop (signalfd: SIGTERM/SIGINT stop, SIGHUP reloads) and a periodic tick. */
#ifndef RDPI_COMMON_DAEMON_H
#define RDPI_COMMON_DAEMON_H

#include <stdint.h>

struct rdpi_daemon_ops {
	int (*reload_fn)(void *arg); /* SIGHUP; NULL ignores it */
	void (*tick_fn)(void *arg);  /* every tick_ms; NULL for none */
	uint32_t tick_ms;
	void *arg;
};

/* Block SIGTERM/SIGINT/SIGHUP/SIGPIPE in the calling thread; call before any
 * thread is created so every thread inherits the mask. */
int rdpi_daemon_block_signals(void);

/* Run until SIGTERM or SIGINT. Returns 0, or -errno if the loop cannot run. */
int rdpi_daemon_run(const struct rdpi_daemon_ops *ops);

/* mkdir -p of the directory holding path (a socket file or ipc:// URL), mode 0750. */
int rdpi_daemon_mkdir_for(const char *path_or_url);

/* The filesystem path of an ipc:// URL, or NULL for other schemes. */
const char *rdpi_daemon_ipc_path(const char *url);

#endif
